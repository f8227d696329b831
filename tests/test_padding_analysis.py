"""onnxsym.padding.analysis: the image inputs and the dims analysed (given, declared, spatial only,
per input), layouts, symbolic dims, subgraphs and functions, the notes, and bad input.

Notation in the comments: i input size, k kernel, d dilation, k_e = d(k-1)+1, s stride,
pb/pe pads begin/end, span = i + pb + pe - k_e, out = span // s + 1, unread r = span - (out-1)s,
effective padding before = pb, after = pe - r.
"""
from __future__ import annotations

import os

import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper

from graphs import graph_model, layer_model, loop_model, model_y, rand_weight, stack_model, unet_like
from onnxsym import analyze_padding
from onnxsym.errors import InputError
from onnxsym.padding import analyze, with_skews

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KERAS = os.path.join(ROOT, "models", "keras_digits.onnx")


def _row(report, lid="L0"):
    return next(r for r in report.layers if r.id == lid)


def test_nhwc_tf_style_graph():
    # tf2onnx: NHWC input, Transpose(0,3,1,2), Conv k3 s2 SAME_UPPER. At 224: total pad 1 at the end
    # (bottom/right); at 225: 1/1.
    m = stack_model(["N", 224, 224, 3], [("conv", 3, 2, "SAME_UPPER"), ("conv", 3, 2, "SAME_UPPER")], layout="NHWC")
    rep = analyze_padding(m)
    assert rep.input["layout"] == "NHWC" and rep.input["layout_source"] == "graph"
    assert rep.input["shape"] == [1, 224, 224, 3]
    assert [r.direction for r in rep.layers] == ["bottom-right", "bottom-right"]
    # 225 -> 113 -> both even (k3 s2 SAME at odd sizes pads 1/1).
    assert rep.suggestions.sizes[0] == [225, 225]
    assert rep.suggestions.input_shapes[0] == "1x225x225x3"
    rep2 = analyze_padding(m, "1x225x225x3")
    assert not any(r.uneven for r in rep2.layers)
    rep3 = analyze_padding(m, "225x225")  # spatial only: the traced layout places it
    assert rep3.input["shape"] == [1, 225, 225, 3]
    with pytest.raises(InputError, match="channels"):
        analyze_padding(m, "1x3x224x224")


def test_layout_unknown_asks_for_it():
    # The input reaches the conv through a Reshape: the layout cannot be traced.
    shape = numpy_helper.from_array(np.array([1, 3, 32, 32], np.int64), "shp")
    nodes = [helper.make_node("Reshape", ["x", "shp"], ["r"]),
             helper.make_node("Conv", ["r", "w"], ["y"], name="L0", kernel_shape=[3, 3], strides=[2, 2],
                              pads=[1, 1, 1, 1])]
    m = model_y(nodes, [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 32, 32, 3])],
               [shape, rand_weight("w", 4, 3, 3, 3)])
    rep = analyze_padding(m)
    assert rep.input["layout"] is None
    assert _row(rep).direction == "top-left"  # the arithmetic itself still works
    assert rep.suggestions is None and any("layout=" in n for n in rep.notes)  # the library names parameters
    with pytest.raises(InputError, match="layout="):
        analyze_padding(m, "32x32")
    rep = analyze_padding(m, "32x32", layout="NHWC")
    assert rep.suggestions is not None


def test_symbolic_dims_are_analysed_at_the_chosen_size_and_said():
    m = layer_model(["N", 3, "H", "W"], [3, 3], [2, 2], pads=[1] * 4)
    rep = analyze_padding(m)
    r = _row(rep)
    # the smallest multiple of the total stride (2) >= 224 at which the shapes fit
    assert r.status == "ok" and r.input_size == [224, 224] and r.direction == "top-left"
    assert rep.input["declared"] == ["N", 3, "H", "W"] and rep.input["shape"] == [1, 3, 224, 224]
    assert [n for n in rep.notes if "symbolic spatial size" in n and "analysed at 224×224" in n
            and "input_size" in n], rep.notes
    given = analyze_padding(m, "2x3x224x224")
    assert _row(given).input_size == [224, 224] and _row(given).direction == "top-left"
    assert not [n for n in given.notes if "symbolic" in n]
    assert given.suggestions.sizes[:2] == [[223, 223], [225, 225]]  # one k3 s2 p1 layer: odd sizes
    other = analyze_padding(m, "1x3x225x225")
    assert not _row(other).uneven and _row(other).before == _row(other).after == [1, 1]


def test_function_body_layers_are_listed_with_reason():
    fn = helper.make_function("local", "F", ["a", "b"], ["c"],
                              [helper.make_node("Conv", ["a", "b"], ["c"], kernel_shape=[3, 3], strides=[2, 2],
                                                pads=[1, 1, 1, 1])],
                              [helper.make_opsetid("", 19)])
    m = model_y([helper.make_node("Conv", ["x", "w"], ["y"], name="main_conv", kernel_shape=[3, 3])],
               [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 16, 16])], [rand_weight("w", 4, 3, 3, 3)],
               functions=[fn])
    m.opset_import.append(helper.make_opsetid("local", 1))
    rep = analyze_padding(m)  # a function nobody calls is not inlined: its conv has no size
    body = [r for r in rep.layers if r.path.startswith("function:")]
    assert len(rep.layers) == 2 and len(body) == 1 and body[0].status == "unknown"
    assert "function" in body[0].reason
    m.graph.node[0].CopyFrom(helper.make_node("F", ["x", "w"], ["y"], domain="local", name="call"))
    rep = analyze_padding(m)  # called: inlined in memory, like a model read from a file
    assert len(rep.layers) == 1 and rep.layers[0].status == "ok" and rep.layers[0].uneven


def test_subgraph_layers_get_sizes():
    # A conv inside an If branch reading the outer x (64x64, k3 s2 p1: r = 1 -> top-left).
    then = helper.make_graph([helper.make_node("Conv", ["x", "w"], ["t"], name="inner", kernel_shape=[3, 3],
                                               strides=[2, 2], pads=[1, 1, 1, 1])], "then", [],
                             [helper.make_tensor_value_info("t", TensorProto.FLOAT, None)])
    els = helper.make_graph([helper.make_node("Identity", ["x"], ["e"])], "else", [],
                            [helper.make_tensor_value_info("e", TensorProto.FLOAT, None)])
    nodes = [helper.make_node("Relu", ["x"], ["xr"]),
             helper.make_node("Conv", ["xr", "w"], ["z"], name="outer", kernel_shape=[3, 3], strides=[2, 2],
                              pads=[1, 1, 1, 1]),
             helper.make_node("If", ["c"], ["y"], then_branch=then, else_branch=els)]
    m = model_y(nodes, [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 64, 64])],
               [rand_weight("w", 4, 3, 3, 3), numpy_helper.from_array(np.array(True), "c")])
    rep = analyze_padding(m, suggest=False)
    inner = _row(rep, "inner")
    assert inner.path == "main/If.then_branch" and inner.input_size == [64, 64]
    assert inner.direction == "top-left"


@pytest.mark.parametrize("text,match", [
    ("1x3x224", "has 3 dims"), ("1x3x0x224", "zero or negative"), ("1x3x-4x224", "zero or negative"),
    ("1x3xfoox224", "cannot parse"), ("", "cannot parse"),
])
def test_bad_shapes(text, match):
    m = layer_model([1, 3, 224, 224], [3, 3], [2, 2], pads=[1] * 4)
    with pytest.raises(InputError, match=match):
        analyze_padding(m, text)


def test_not_an_image_model():
    nodes = [helper.make_node("Reshape", ["x", "shp"], ["r"]),
             helper.make_node("Conv", ["r", "w"], ["y"], kernel_shape=[3, 3])]
    m = model_y(nodes, [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3072])],
               [numpy_helper.from_array(np.array([1, 3, 32, 32], np.int64), "shp"), rand_weight("w", 4, 3, 3, 3)])
    with pytest.raises(InputError, match="no image input"):
        analyze_padding(m)


def test_image_input_found_through_if_branches():
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 32, 32])
    cond = helper.make_tensor_value_info("cond", TensorProto.BOOL, [])

    def branch(tag):
        return helper.make_graph(
            [helper.make_node("Conv", ["x", "w"], [f"{tag}_y"], pads=[1, 1, 1, 1], strides=[2, 2], name=f"{tag}_conv")],
            tag, [], [helper.make_tensor_value_info(f"{tag}_y", TensorProto.FLOAT, None)])

    node = helper.make_node("If", ["cond"], ["y"], then_branch=branch("then"), else_branch=branch("else"), name="if")
    m = graph_model([node], [x, cond], ["y"], [rand_weight("w", 4, 3, 3, 3)])
    rep = analyze_padding(m)
    assert rep.input["name"] == "x" and rep.input["layout"] == "NCHW"
    assert sorted((r.id, r.input_size, r.direction) for r in rep.layers) == [
        ("else_conv", [32, 32], "top-left"), ("then_conv", [32, 32], "top-left")]
    assert rep.summary_line.startswith("2 of 2 stride-2 convs pad unevenly at 32×32")
    assert rep.suggestions.sizes[0] == [31, 31]


def test_loop_body_sizes_follow_the_input():
    rep = analyze_padding(loop_model(1))
    assert rep.input["layout"] == "NCHW" and rep.input["spatial"] == [32, 32]
    assert rep.summary_line == "no strided convs at 32×32"  # not "input size unknown"
    # a new input size reaches the body (ONNX inference alone keeps the body's declared 32x32)
    rep = analyze_padding(loop_model(1), "1x8x64x64")
    assert rep.layers[0].input_size == [64, 64]
    # a strided conv in the body: its carried value halves per iteration, which is said
    rep = analyze_padding(loop_model(2), "1x8x64x64")
    assert rep.layers[0].input_size == [64, 64] and rep.layers[0].direction == "top-left"
    assert any("changes size across iterations (1x8x64x64 -> 1x8x32x32)" in n for n in rep.notes)


def test_fixed_input_suggestion_says_to_reexport():
    s = analyze_padding(layer_model([1, 3, 224, 224], [3, 3], [2, 2], pads=[1] * 4)).suggestions
    assert s.fixed_input == [224, 224] and s.sizes[0] == [223, 223]
    assert s.caveats[0] == ("the model's input is fixed at 224×224: re-export it with a 223×223 (or dynamic) "
                            "input to use this size")
    s = analyze_padding(layer_model(["N", 3, "H", "W"], [3, 3], [2, 2], pads=[1] * 4), "1x3x224x224").suggestions
    assert s.fixed_input is None and s.caveats == []
    rep = analyze_padding(layer_model([1, 3, 224, 224], [3, 3], [2, 2], pads=[1] * 4), "1x3x225x225")
    assert any("fixed at 224×224" in n and "onnxruntime refuses" in n for n in rep.notes)


def test_reshape_to_computed_shape_at_opset_12_is_followed():
    # x -> Shape -> Slice[0:2] -> Concat(-1) -> Reshape (N, C, H*W) -> Reshape back -> Conv:
    # Reshape-5/13 cannot read a computed shape; the oracle converts a copy to opset 14.
    i64 = lambda name, v: numpy_helper.from_array(np.array(v, np.int64), name)  # noqa: E731
    nodes = [helper.make_node("Shape", ["x"], ["sh"]),
             helper.make_node("Slice", ["sh", "s0", "s2", "ax"], ["nc"]),
             helper.make_node("Concat", ["nc", "m1"], ["flat"], axis=0),
             helper.make_node("Reshape", ["x", "flat"], ["xf"]),
             helper.make_node("Concat", ["nc", "hw"], ["back"], axis=0),
             helper.make_node("Reshape", ["xf", "back"], ["x2"]),
             helper.make_node("Conv", ["x2", "w"], ["y"], name="L0", kernel_shape=[3, 3], strides=[2, 2],
                              pads=[1, 1, 1, 1])]
    inits = [i64("s0", [0]), i64("s2", [2]), i64("ax", [0]), i64("m1", [-1]), i64("hw", [16, 16]),
             rand_weight("w", 4, 3, 3, 3)]
    m = model_y(nodes, [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 16, 16])], inits, opset=12)
    rep = analyze_padding(m, suggest=False)
    r = _row(rep)
    assert r.status == "ok" and r.input_size == [16, 16] and r.direction == "top-left"
    assert any("opset-14 copy" in n for n in rep.notes)


@pytest.mark.skipif(not os.path.exists(KERAS), reason="models/keras_digits.onnx not built")
def test_keras_nhwc_model():
    rep = analyze_padding(KERAS)
    assert rep.input["layout"] == "NHWC"
    uneven = [r for r in rep.layers if r.uneven]
    assert uneven and all(r.direction == "bottom-right" for r in uneven)


# --------------------------------------------------------------------------------------------
# analyze itself (the L2 function; analyze_padding adds the lean read from the weights)
# --------------------------------------------------------------------------------------------
def test_skews_must_be_a_mapping():
    with pytest.raises(InputError, match="skews must be a mapping"):
        analyze(layer_model([1, 3, 16, 16], [3, 3], [2, 2], pads=[1] * 4), skews=[(0.1, 0.2)])


def test_a_model_without_convs_or_pools_has_an_empty_report():
    m = model_y([helper.make_node("Relu", ["x"], ["y"])],
                [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])])
    rep = analyze(m)
    assert rep.layers == [] and rep.summary["layers"] == 0 and rep.suggestions is None
    assert rep.summary_line == "no convolutions or pools" and rep.notes == ["the model has no conv or pool"]


def test_with_skews_attaches_the_lean_and_rewrites_the_summary():
    rep = analyze(layer_model([1, 3, 224, 224], [3, 3], [2, 2], pads=[1] * 4), suggest=False)
    assert _row(rep).lean is None and "skew not checked (no weights report)" in rep.summary_line
    # top-left padded: component toward it = (0.3 + 0.3) / sqrt(2) = 0.4243 >= 0.1
    assert with_skews(rep, {"L0": (-0.3, -0.3)}) is rep
    assert _row(rep).lean == "toward" and _row(rep).skew_toward_padding == pytest.approx(0.4243)
    assert rep.summary["skew_checked"] == 1 and rep.summary["lean_toward_padding"] == 1
    assert "its mean kernel leans toward the padded side" in rep.summary_line


def test_a_layout_given_against_the_graph_is_noted():
    m = stack_model(["N", 224, 224, 3], [("conv", 3, 2, "SAME_UPPER")], layout="NHWC")
    rep = analyze(m, layout="NCHW", suggest=False)
    assert rep.input["layout"] == "NCHW" and rep.input["layout_source"] == "given"
    assert "layout NCHW given for 'x'; the graph suggests NHWC" in rep.notes


def test_example_shape_of_an_upsampling_model_is_640():
    # no static size (the layout given, so no size is chosen): the example uses 640 where the model
    # upsamples (detection, segmentation), 224 otherwise
    rep = analyze(unet_like("resize"), layout="NCHW")
    assert rep.input["example_shape"] == "1x3x640x640"
    assert any("give e.g. input_shape='1x3x640x640'" in n for n in rep.notes)
    stem = stack_model(["N", 3, "H", "W"], [("conv", 3, 2, 1)])
    assert analyze(stem, layout="NCHW").input["example_shape"] == "1x3x224x224"
