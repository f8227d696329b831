"""onnxsym.model.functions: model-local functions inlined in memory within a budget (call cycles,
chains deeper than MAX_CALL_DEPTH and inlining past MAX_INLINED_NODES refused)."""
from __future__ import annotations

import pytest
from onnx import TensorProto, helper

from graphs import rand_weight
from onnxsym.errors import ModelError
from onnxsym.model.functions import MAX_CALL_DEPTH, MAX_INLINED_NODES, inline_local_functions


def _fn(name, body):
    return helper.make_function("local", name, ["a"], ["b"], body, [helper.make_opsetid("", 17),
                                                                       helper.make_opsetid("local", 1)])


def _call(name, src, dst):
    return helper.make_node(name, [src], [dst], domain="local")


def _model(nodes, functions):
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
    g = helper.make_graph(nodes, "g", [x], [y], [rand_weight("w", 3, 3, 3, 3)])
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("local", 1)],
                             functions=functions)


def test_nothing_to_inline():
    plain = _model([helper.make_node("Relu", ["x"], ["y"])], [])
    assert inline_local_functions(plain) == (plain, 0, None)
    unused = _model([helper.make_node("Relu", ["x"], ["y"])], [_fn("F", [helper.make_node("Relu", ["a"], ["b"])])])
    assert inline_local_functions(unused) == (unused, 0, None)


def test_each_call_is_inlined():
    fn = _fn("F", [helper.make_node("Relu", ["a"], ["t"]), helper.make_node("Neg", ["t"], ["b"])])
    m = _model([_call("F", "x", "h"), _call("F", "h", "y")], [fn])
    out, calls, note = inline_local_functions(m)
    assert calls == 2 and note == "2 call(s) of model-local functions inlined in memory: each call's convs are listed"
    assert [n.op_type for n in out.graph.node] == ["Relu", "Neg", "Relu", "Neg"]
    assert [n.op_type for n in m.graph.node] == ["F", "F"]                       # the model given is untouched


def test_a_call_cycle_is_refused():
    fns = [_fn("A", [_call("B", "a", "b")]), _fn("B", [_call("A", "a", "b")])]
    with pytest.raises(ModelError, match=r"call each other in a cycle \(A → B → A\)"):
        inline_local_functions(_model([_call("A", "x", "y")], fns))


def test_calls_nested_too_deep_are_refused():
    depth = MAX_CALL_DEPTH + 1
    fns = [_fn(f"F{k}", [_call(f"F{k + 1}", "a", "b")]) for k in range(depth)]
    fns.append(_fn(f"F{depth}", [helper.make_node("Relu", ["a"], ["b"])]))
    with pytest.raises(ModelError, match=f"nest more than {MAX_CALL_DEPTH} deep"):
        inline_local_functions(_model([_call("F0", "x", "y")], fns))


def test_inlining_that_doubles_at_every_level_is_refused():
    # F_k calls F_{k+1} twice: 2**18 = 262 144 nodes once inlined, over the budget
    levels = 18
    assert 2 ** levels > MAX_INLINED_NODES
    fns = [_fn(f"F{k}", [_call(f"F{k + 1}", "a", "t"), _call(f"F{k + 1}", "t", "b")]) for k in range(levels)]
    fns.append(_fn(f"F{levels}", [helper.make_node("Relu", ["a"], ["b"])]))
    with pytest.raises(ModelError, match=f"more than {MAX_INLINED_NODES:,} nodes"):
        inline_local_functions(_model([_call("F0", "x", "y")], fns))
