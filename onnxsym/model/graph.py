"""One traversal of a model: every node with a stable id and place, and the lookups the analyses
need — which node produces a value in a scope, which nodes consume it, which values pass into
and out of subgraphs, what a value reaches.

The walk covers the main graph, nested subgraphs (If/Loop/Scan bodies, right after the node that
owns them) and model-local function bodies, in that order; :class:`Graph` builds its indexes from
that one list, lazily, so every analysis reads the same structure.
"""
from __future__ import annotations

from collections import Counter, deque
from dataclasses import dataclass, field

import onnx

from .ops import LAYER_OPS, op_key


@dataclass(frozen=True)
class NodeRef:
    """One node and where it sits.

    Attributes
    ----------
    id : str
        Stable id: the node's name when it is non-empty and unique in the model, otherwise
        ``"<op_type>_<k>"`` with k the node's index in the walk order.
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

    @property
    def in_function(self) -> bool:
        return self.path.startswith("function:")


@dataclass
class Scope:
    """What one graph (or function body) defines: the producing node of each value, its
    initializers (dense and sparse) and its inputs (a function's parameters)."""

    producers: dict = field(default_factory=dict)
    initializers: dict = field(default_factory=dict)
    sparse: dict = field(default_factory=dict)
    inputs: set = field(default_factory=set)

    def defines(self, name: str) -> bool:
        return name in self.producers or name in self.initializers or name in self.sparse or name in self.inputs


def subgraphs(node: onnx.NodeProto):
    """``(attribute name, graph)`` of every subgraph a node holds."""
    for a in node.attribute:
        if a.type == onnx.AttributeProto.GRAPH:
            yield a.name, a.g
        elif a.type == onnx.AttributeProto.GRAPHS:
            for g in a.graphs:
                yield a.name, g


def _walk_graph(graph, path, scopes, out):
    scopes = scopes + (graph,)
    for node in graph.node:
        out.append((path, node, graph, scopes))
        label = node.name or node.op_type
        for attr in node.attribute:
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


def is_layer(node: onnx.NodeProto) -> bool:
    """A conv or pool whose padding onnxsym diagnoses."""
    return op_key(node) in LAYER_OPS


class Graph:
    """The indexes of one model, built from one walk (:func:`walk_nodes`).

    Value names are unique across the main graph and its subgraphs (a subgraph reads an outer
    value by name), so :meth:`consumers` and :meth:`reach` work over that whole tree;
    :meth:`scope` and :meth:`consumers_in` are per graph, for lookups that must respect scopes.
    """

    def __init__(self, model: onnx.ModelProto):
        self.model = model
        self.nodes: list[NodeRef] = walk_nodes(model)
        self._scopes: dict = {}
        self._consumers: dict | None = None
        self._in_scope: dict | None = None
        self._links: dict | None = None

    # ---- per scope --------------------------------------------------------------------------
    def scope(self, graph) -> Scope:
        """The definitions of ``graph`` (a GraphProto or a FunctionProto)."""
        key = id(graph)
        sc = self._scopes.get(key)
        if sc is None:
            sc = Scope()
            for node in graph.node:
                for out in node.output:
                    if out:
                        sc.producers[out] = node
            if isinstance(graph, onnx.GraphProto):  # a function body has neither
                sc.initializers = {t.name: t for t in graph.initializer}
                sc.sparse = {t.values.name: t for t in graph.sparse_initializer}
            sc.inputs = {inp if isinstance(inp, str) else inp.name for inp in graph.input}
            self._scopes[key] = sc
        return sc

    def owner(self, name: str, scopes: tuple):
        """The innermost of ``scopes`` that defines ``name`` (the last one when none does)."""
        for graph in reversed(scopes):
            if self.scope(graph).defines(name):
                return graph
        return scopes[-1]

    def consumers_in(self, graph, name: str) -> list:
        """The nodes of ``graph`` itself (not of its subgraphs) that read ``name``."""
        if self._in_scope is None:
            out: dict = {}
            for ref in self.nodes:
                for inp in ref.node.input:
                    out.setdefault((id(ref.graph), inp), []).append(ref.node)
            self._in_scope = out
        return self._in_scope.get((id(graph), name), [])

    # ---- over the main graph and its subgraphs ----------------------------------------------
    def main_nodes(self):
        """The nodes of the main graph and of its subgraphs (not of function bodies)."""
        return (r for r in self.nodes if not r.in_function)

    def consumers(self, name: str) -> list:
        """``[(NodeRef, input index)]`` of every node of the main graph tree that reads ``name``."""
        if self._consumers is None:
            out: dict = {}
            for ref in self.main_nodes():
                for k, inp in enumerate(ref.node.input):
                    if inp:
                        out.setdefault(inp, []).append((ref, k))
            self._consumers = out
        return self._consumers.get(name, [])

    @property
    def links(self) -> dict:
        """Edges along which a value passes unchanged into or out of a subgraph.

        Loop: initial value ``input[k]`` (k >= 2) -> body input k; body output j (j >= 1, a carried
        value) -> Loop output j-1. If: branch output i -> If output i. Scan: state variables as Loop.
        """
        if self._links is None:
            self._links = _links(ref.node for ref in self.main_nodes())
        return self._links

    def downstream(self, start: str, through_layers: bool = True):
        """Breadth-first from value ``start``: yields each reached value and its consumers. With
        ``through_layers=False`` the walk does not go past a conv or pool reached through another
        input than its data input (a DeformConv's offsets are not its image)."""
        seen = {start}
        todo = deque([start])
        links = self.links
        while todo:
            name = todo.popleft()
            users = self.consumers(name)
            yield name, users
            outs = [o for ref, k in users if through_layers or k == 0 or not is_layer(ref.node)
                    for o in ref.node.output]
            for out in [*links.get(name, ()), *outs]:
                if out and out not in seen:
                    seen.add(out)
                    todo.append(out)

    def reach(self, start: str) -> set:
        """Every value name that depends on ``start`` (through subgraphs too)."""
        return {name for name, _users in self.downstream(start)}

    def layer_functions(self) -> set:
        """``(domain, name)`` of the model-local functions whose bodies hold a conv or pool."""
        by_id = {id(fn): (fn.domain, fn.name) for fn in self.model.functions}
        return {by_id[id(r.scopes[0])] for r in self.nodes
                if r.in_function and id(r.scopes[0]) in by_id and is_layer(r.node)}

    def reaches_layer(self, start: str, holders=frozenset()) -> bool:
        """True when ``start`` reaches the data input of a conv or pool (or a call of a function
        in ``holders``)."""
        return any((is_layer(ref.node) and k == 0) or (ref.node.domain, ref.node.op_type) in holders
                   for _name, users in self.downstream(start, through_layers=False)
                   for ref, k in users)


def _links(nodes) -> dict:
    out: dict = {}

    def add(src, dst):
        if src and dst:
            out.setdefault(src, []).append(dst)

    for node in nodes:
        if node.domain not in ("", "ai.onnx"):
            continue
        if node.op_type == "If":
            for _name, g in subgraphs(node):
                for i, vo in enumerate(g.output):
                    if i < len(node.output):
                        add(vo.name, node.output[i])
            continue
        subs = dict(subgraphs(node))
        if node.op_type == "Loop" and "body" in subs:
            body = subs["body"]
            carried = len(node.input) - 2
            for k in range(2, len(node.input)):
                if k < len(body.input):
                    add(node.input[k], body.input[k].name)
            for j in range(1, 1 + carried):
                if j < len(body.output) and j - 1 < len(node.output):
                    add(body.output[j].name, node.output[j - 1])
        elif node.op_type == "Scan" and "body" in subs:
            body = subs["body"]
            nscan = next((a.i for a in node.attribute if a.name == "num_scan_inputs"), 0)
            nstate = len(node.input) - nscan
            for k in range(nstate):
                if k < len(body.input):
                    add(node.input[k], body.input[k].name)
                if k < len(body.output) and k < len(node.output):
                    add(body.output[k].name, node.output[k])
    return out
