"""Model-local functions inlined in memory, within a budget: each call site's convs then appear with
their own weights (a function body's weight is usually a parameter) and shape inference sees
through them. Cycles, call chains deeper than MAX_CALL_DEPTH and inlining that would create more
than MAX_INLINED_NODES nodes are refused."""
from __future__ import annotations

import onnx

from ..errors import ModelError

#: inlining model-local functions may create at most this many nodes, through calls this deep
MAX_INLINED_NODES = 200_000
MAX_CALL_DEPTH = 32


def inline_local_functions(model: onnx.ModelProto):
    """Inline the model-local functions the graph calls, in memory: each call site's convs then
    appear with their own weights (a function body's weight is usually a parameter) and shape
    inference sees through them. Returns (model, number of calls inlined, note or None)."""
    if not len(model.functions):
        return model, 0, None
    local = {(f.domain, f.name) for f in model.functions}
    calls = sum(1 for _ in _iter_called(model.graph, local))
    if not calls:
        return model, 0, None
    _check_inline_budget(model)
    try:
        import onnx.inliner

        inlined = onnx.inliner.inline_local_functions(model)
    except Exception as e:  # keep the functions: their convs are then listed once, per definition
        return model, 0, f"model-local functions could not be inlined ({' '.join(str(e).split())[:120]}); " \
                         "convs inside them are analysed once per definition"
    return inlined, calls, f"{calls} call(s) of model-local functions inlined in memory: each call's convs are listed"


def _count_nodes(graph_or_fn, local, size_of) -> int:
    """Nodes of a graph (subgraphs included) once every call of a local function is inlined."""
    total = 0
    for node in graph_or_fn.node:
        key = (node.domain, node.op_type)
        total += size_of(key) if key in local else 1
        for attr in node.attribute:
            if attr.type == onnx.AttributeProto.GRAPH:
                total += _count_nodes(attr.g, local, size_of)
            elif attr.type == onnx.AttributeProto.GRAPHS:
                total += sum(_count_nodes(g, local, size_of) for g in attr.graphs)
        if total > MAX_INLINED_NODES:
            return total
    return total


def _check_inline_budget(model: onnx.ModelProto) -> None:
    """Refuse (ModelError) model-local functions whose inlining would explode: a call cycle, a
    call chain deeper than MAX_CALL_DEPTH, or more than MAX_INLINED_NODES nodes once inlined (a
    chain of functions each calling the next twice doubles the graph at every level)."""
    funcs = {(f.domain, f.name): f for f in model.functions}
    sizes: dict = {}
    depth: dict = {}
    active: list = []

    def visit(key):
        if key in sizes:
            return sizes[key]
        if key in active:
            cycle = " → ".join(f"{k[1]}" for k in active[active.index(key):] + [key])
            raise ModelError(f"model-local functions call each other in a cycle ({cycle}); "
                             "such a model cannot be inlined or run")
        if len(active) >= MAX_CALL_DEPTH:
            raise ModelError(f"model-local function calls nest more than {MAX_CALL_DEPTH} deep; "
                             "onnxsym refuses to inline them")
        active.append(key)
        fn = funcs[key]
        callees = [(n.domain, n.op_type) for n in _all_nodes(fn) if (n.domain, n.op_type) in funcs]
        depth[key] = 1 + max((visit_depth(c) for c in callees), default=0)
        sizes[key] = min(_count_nodes(fn, funcs, visit), MAX_INLINED_NODES + 1)
        active.pop()
        return sizes[key]

    def visit_depth(key):
        visit(key)
        return depth[key]

    total = _count_nodes(model.graph, funcs, visit)
    if total > MAX_INLINED_NODES:
        raise ModelError(f"inlining the model-local functions would create more than {MAX_INLINED_NODES:,} "
                         "nodes (functions that call each other repeatedly); onnxsym refuses to inline them")


def _all_nodes(graph_or_fn):
    for node in graph_or_fn.node:
        yield node
        for attr in node.attribute:
            if attr.type == onnx.AttributeProto.GRAPH:
                yield from _all_nodes(attr.g)
            elif attr.type == onnx.AttributeProto.GRAPHS:
                for g in attr.graphs:
                    yield from _all_nodes(g)


def _iter_called(graph, local):
    for node in graph.node:
        if (node.domain, node.op_type) in local:
            yield node
        for attr in node.attribute:
            if attr.type == onnx.AttributeProto.GRAPH:
                yield from _iter_called(attr.g, local)
            elif attr.type == onnx.AttributeProto.GRAPHS:
                for g in attr.graphs:
                    yield from _iter_called(g, local)
