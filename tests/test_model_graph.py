"""onnxsym.model.graph: one traversal of a model (ids, places, scopes) and the lookups built on it:
producers and consumers, values passing into and out of subgraphs, what a value reaches."""
from __future__ import annotations

import numpy as np
from onnx import TensorProto, helper, numpy_helper

from graphs import rand_weight
from onnxsym.model.graph import Graph, is_layer, subgraphs, walk_nodes


def _vi(name, shape=None, elem=TensorProto.FLOAT):
    return helper.make_tensor_value_info(name, elem, shape)


def _model():
    """main: Relu 'r' -> If 'branch' (then: Conv reading the outer r; else: Identity) ; a Loop (no
    name) whose body convolves its carried value; two nodes named 'dup'; a call of function F."""
    then = helper.make_graph([helper.make_node("Conv", ["r", "w"], ["t"], name="inner")], "then", [], [_vi("t")])
    els = helper.make_graph([helper.make_node("Identity", ["r"], ["e"])], "else", [], [_vi("e")])
    body = helper.make_graph(
        [helper.make_node("Identity", ["c_in"], ["c_out"]), helper.make_node("Conv", ["s", "w"], ["s_out"], name="lc")],
        "body", [_vi("i", [], TensorProto.INT64), _vi("c_in", [], TensorProto.BOOL), _vi("s")],
        [_vi("c_out", [], TensorProto.BOOL), _vi("s_out")])
    fn = helper.make_function("local", "F", ["a", "k"], ["b"], [helper.make_node("Conv", ["a", "k"], ["b"], name="fc")],
                              [helper.make_opsetid("", 17)])
    nodes = [helper.make_node("Relu", ["x"], ["r"], name="r"),
             helper.make_node("If", ["cond"], ["y"], name="branch", then_branch=then, else_branch=els),
             helper.make_node("Loop", ["n", "", "r"], ["z"], body=body),
             helper.make_node("Sigmoid", ["r"], ["d1"], name="dup"),
             helper.make_node("Tanh", ["r"], ["d2"], name="dup"),
             helper.make_node("F", ["x", "w"], ["f"], domain="local", name="call")]
    sparse = helper.make_sparse_tensor(numpy_helper.from_array(np.ones(2, np.float32), "sv"),
                                       numpy_helper.from_array(np.array([0, 3], np.int64), "si"), [4])
    g = helper.make_graph(nodes, "g", [_vi("x", [1, 3, 8, 8]), _vi("cond", [], TensorProto.BOOL)],
                          [_vi("y"), _vi("z"), _vi("f")], [rand_weight("w", 3, 3, 3, 3),
                                                          numpy_helper.from_array(np.array(2, np.int64), "n")],
                          sparse_initializer=[sparse])
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("local", 1)],
                             functions=[fn])


def test_walk_order_ids_and_paths():
    refs = walk_nodes(_model())
    got = [(r.index, r.id, r.path) for r in refs]
    # attributes in name order (onnx's make_node sorts them): the else branch first
    assert got == [(0, "r", "main"), (1, "branch", "main"), (2, "Identity_2", "main/branch.else_branch"),
                   (3, "inner", "main/branch.then_branch"), (4, "Loop_4", "main"),
                   (5, "Identity_5", "main/Loop.body"), (6, "lc", "main/Loop.body"),
                   (7, "Sigmoid_7", "main"), (8, "Tanh_8", "main"),       # a name used twice is no id
                   (9, "call", "main"), (10, "fc", "function:local.F")]
    inner, fc = refs[3], refs[10]
    assert not inner.in_function and fc.in_function
    assert [g.name for g in inner.scopes] == ["g", "then"] and inner.graph is inner.scopes[-1]
    assert fc.scopes[0].name == "F"


def test_scopes_owners_and_consumers():
    m = _model()
    graph = Graph(m)
    main = graph.scope(m.graph)
    assert set(main.producers) == {"r", "y", "z", "d1", "d2", "f"} and set(main.initializers) == {"w", "n"}
    assert set(main.sparse) == {"sv"} and main.inputs == {"x", "cond"}
    assert main.defines("sv") and main.defines("x") and not main.defines("t")
    assert graph.scope(m.functions[0]).inputs == {"a", "k"} and graph.scope(m.functions[0]).initializers == {}
    inner = graph.nodes[3]
    assert graph.owner("w", inner.scopes) is m.graph and graph.owner("t", inner.scopes).name == "then"
    assert graph.owner("nowhere", inner.scopes).name == "then"           # the innermost when none defines it
    # over the whole tree: the If branch and the Loop read the outer r; function bodies are left out
    assert sorted((ref.id, k) for ref, k in graph.consumers("r")) == [
        ("Identity_2", 0), ("Loop_4", 2), ("Sigmoid_7", 0), ("Tanh_8", 0), ("inner", 0)]
    assert [n.name for n in graph.consumers_in(m.graph, "r")] == ["", "dup", "dup"]   # this graph's own nodes
    assert graph.consumers("a") == [] and [r.id for r in graph.main_nodes()][-1] == "call"


def test_links_and_reach_through_subgraphs():
    m = _model()
    graph = Graph(m)
    links = graph.links
    assert links["t"] == ["y"] and links["e"] == ["y"]                  # branch outputs -> If output
    assert links["r"] == ["s"] and links["s_out"] == ["z"]              # Loop: initial value -> body, carried -> out
    assert graph.reach("r") == {"r", "t", "e", "y", "s", "s_out", "z", "d1", "d2"}
    assert graph.reach("x") >= {"r", "f"} and graph.reach("cond") == {"cond", "y"}
    assert graph.layer_functions() == {("local", "F")}
    assert graph.reaches_layer("x", graph.layer_functions()) and graph.reaches_layer("r")
    assert not graph.reaches_layer("cond")


def test_offsets_of_a_deformconv_do_not_reach_a_layer_as_data():
    nodes = [helper.make_node("DeformConv", ["x", "w", "off"], ["y"], kernel_shape=[3, 3]),
             helper.make_node("Conv", ["y", "w2"], ["z"])]
    g = helper.make_graph(nodes, "g", [_vi("x", [1, 3, 8, 8]), _vi("off", [1, 18, 6, 6])], [_vi("z")])
    graph = Graph(helper.make_model(g))
    assert graph.reaches_layer("x") and not graph.reaches_layer("off")
    assert "z" in graph.reach("off")                                     # with through_layers (the default)


def test_is_layer_and_subgraphs():
    assert is_layer(helper.make_node("Conv", [], [])) and is_layer(helper.make_node("AveragePool", [], []))
    assert not is_layer(helper.make_node("QLinearConv", [], [], domain="com.microsoft"))   # may be channels-last
    assert not is_layer(helper.make_node("Relu", [], []))
    g1, g2 = helper.make_graph([], "a", [], []), helper.make_graph([], "b", [], [])
    node = helper.make_node("If", ["c"], ["y"], then_branch=g1, else_branch=g2)
    assert [(n, g.name) for n, g in subgraphs(node)] == [("else_branch", "b"), ("then_branch", "a")]
    multi = helper.make_node("X", [], [])
    multi.attribute.append(helper.make_attribute("gs", [g1, g2]))
    assert [(n, g.name) for n, g in subgraphs(multi)] == [("gs", "a"), ("gs", "b")]
    assert [r.path for r in walk_nodes(helper.make_model(helper.make_graph(
        [multi, helper.make_node("Relu", ["q"], ["p"])], "m", [], [])))] == ["main", "main"]
