"""Walk every node of a model: the main graph, nested subgraphs (If/Loop/Scan bodies) and
model-local functions, with a stable id and a readable graph path for each node."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import onnx


#: conv-like ops, (domain, op_type) → index of the weight input; "" is the default domain
CONV_OPS = {
    ("", "Conv"): 1,
    ("", "ConvTranspose"): 1,
    ("", "DeformConv"): 1,
    ("", "QLinearConv"): 3,
    ("", "ConvInteger"): 1,
    ("com.microsoft", "FusedConv"): 1,
    ("com.microsoft", "QLinearConv"): 3,
}
#: conv-like ops whose input may be channels-last: weights are analysed, padding is not diagnosed
CHANNELS_LAST_OPS = {("com.microsoft", "QLinearConv")}
POOL_OPS = {("", "MaxPool"), ("", "AveragePool"), ("", "LpPool")}


def op_key(node: onnx.NodeProto) -> tuple:
    """``(domain, op_type)`` with the default domain as "" (also when written "ai.onnx")."""
    return (node.domain if node.domain != "ai.onnx" else "", node.op_type)


def op_name(key: tuple) -> str:
    """``op_type`` for the default domain, ``domain.op_type`` otherwise (as reports show it)."""
    return key[1] if not key[0] else f"{key[0]}.{key[1]}"


@dataclass(frozen=True)
class NodeRef:
    """One node and where it sits.

    Attributes
    ----------
    id : str
        Stable id: the node's name when it is non-empty and unique in the model, otherwise
        ``"<op_type>_<k>"`` with k the node's index in the walk order (the order of this walk:
        main graph first, each subgraph right after the node that owns it, then functions).
    path : str
        ``"main"``, ``"main/<node>.<attr>"`` for a subgraph, ``"function:<domain>.<name>"``.
    index : int
        Position in the walk.
    node : onnx.NodeProto
    graph : onnx.GraphProto or onnx.FunctionProto
        The scope the node lives in.
    scopes : tuple
        The enclosing graphs, outermost first, ending with ``graph`` (for outer-scope lookups).
    """

    id: str
    path: str
    index: int
    node: onnx.NodeProto
    graph: object
    scopes: tuple


def _walk_graph(graph, path, scopes, out):
    scopes = scopes + (graph,)
    for node in graph.node:
        out.append((path, node, graph, scopes))
        for attr in node.attribute:
            label = node.name or node.op_type
            if attr.type == onnx.AttributeProto.GRAPH:
                _walk_graph(attr.g, f"{path}/{label}.{attr.name}", scopes, out)
            elif attr.type == onnx.AttributeProto.GRAPHS:
                for k, g in enumerate(attr.graphs):
                    _walk_graph(g, f"{path}/{label}.{attr.name}[{k}]", scopes, out)


def walk_nodes(model: onnx.ModelProto) -> list[NodeRef]:
    """Every node of ``model`` in a deterministic order, each with a stable id."""
    raw: list = []
    _walk_graph(model.graph, "main", (), raw)
    for fn in model.functions:
        _walk_graph(fn, f"function:{fn.domain}.{fn.name}" if fn.domain else f"function:{fn.name}", (), raw)
    names = Counter(n.name for _, n, _, _ in raw if n.name)
    refs = []
    for i, (path, node, graph, scopes) in enumerate(raw):
        nid = node.name if node.name and names[node.name] == 1 else f"{node.op_type}_{i}"
        refs.append(NodeRef(nid, path, i, node, graph, scopes))
    return refs


def node_attrs(node: onnx.NodeProto) -> dict:
    """Attribute values by name. An attribute that cannot be read (e.g. a reference to a function
    attribute outside a function) is left out: callers treat it as absent."""
    out = {}
    for a in node.attribute:
        try:
            out[a.name] = onnx.helper.get_attribute_value(a)
        except Exception:  # malformed attribute
            continue
    return out


def attr_text(value) -> str:
    """A string attribute as text (undecodable bytes replaced, never an exception)."""
    return value.decode("utf-8", errors="replace") if isinstance(value, bytes) else str(value)


def int_list(attrs: dict, name: str):
    """An ints attribute as a list, None when absent; ValueError when it has another type."""
    if name not in attrs:
        return None
    v = attrs[name]
    if not isinstance(v, (list, tuple)) or not all(isinstance(x, int) for x in v):
        raise ValueError(f"attribute {name} is not a list of integers ({v!r:.40})")
    return list(v)
