"""An explicit Pad before a conv (PyTorch's padding_mode="reflect", TensorFlow's explicit paddings)
is counted as the conv's padding, also when the exporter computes its pads through a chain of
constant ops that shape inference cannot follow by itself (onnxsym.model.shapes.fold_small_constants,
onnxsym.padding.arithmetic.absorb_explicit_pad)."""
from __future__ import annotations

import os

import numpy as np
import pytest
from onnx import TensorProto as T
from onnx import helper as h
from onnx import numpy_helper as nh

import onnxsym
from onnxsym.model.shapes import ShapeOracle

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _pad_conv(mode="reflect", pads=(1, 1, 1, 1), stride=2, size=32, computed=True, opset=17, extra=()):
    """x [1,3,S,S] -> Pad(mode, pads as [t, l, b, r] on H, W) -> Conv 3x3 stride ``stride`` pads 0 -> y.
    ``computed``: the pads tensor made the way torch.onnx writes it (ConstantOfShape, Concat, Reshape,
    Slice with step -1, Transpose, Reshape, Cast)."""
    t, l, b, r = pads
    nodes, inits = [], [nh.from_array(np.random.default_rng(0).normal(size=(4, 3, 3, 3)).astype(np.float32), "w")]
    if computed:
        # torch's order: [w_begin, w_end, h_begin, h_end] for the last two dims, reversed and transposed
        nodes += [
            h.make_node("Constant", [], ["n"], value=nh.from_array(np.array([4], np.int64))),
            h.make_node("Constant", [], ["p"], value=nh.from_array(np.array([l, r, t, b], np.int64))),
            h.make_node("ConstantOfShape", ["n"], ["z"], value=nh.from_array(np.array([0], np.int64))),
            h.make_node("Concat", ["p", "z"], ["pz"], axis=0),
            h.make_node("Constant", [], ["s"], value=nh.from_array(np.array([-1, 2], np.int64))),
            h.make_node("Reshape", ["pz", "s"], ["r1"]),
            h.make_node("Constant", [], ["st"], value=nh.from_array(np.array([-1], np.int64))),
            h.make_node("Constant", [], ["en"], value=nh.from_array(np.array([-(2 ** 62)], np.int64))),
            h.make_node("Constant", [], ["ax"], value=nh.from_array(np.array([0], np.int64))),
            h.make_node("Slice", ["r1", "st", "en", "ax", "st"], ["sl"]),
            h.make_node("Transpose", ["sl"], ["tr"], perm=[1, 0]),
            h.make_node("Constant", [], ["m1"], value=nh.from_array(np.array([-1], np.int64))),
            h.make_node("Reshape", ["tr", "m1"], ["r2"]),
            h.make_node("Cast", ["r2"], ["pads"], to=T.INT64),
        ]
    else:
        inits.append(nh.from_array(np.array([0, 0, t, l, 0, 0, b, r], np.int64), "pads"))
    nodes += [h.make_node("Pad", ["x", "pads"], ["xp"], mode=mode, name="the_pad"),
              h.make_node("Conv", ["xp", "w"], ["y"], kernel_shape=[3, 3], strides=[stride, stride], name="conv"),
              *extra]
    g = h.make_graph(nodes, "g", [h.make_tensor_value_info("x", T.FLOAT, [1, 3, size, size])],
                     [h.make_tensor_value_info(extra[-1].output[0] if extra else "y", T.FLOAT, None)], inits)
    m = h.make_model(g, opset_imports=[h.make_opsetid("", opset)])
    m.ir_version = 9
    return m


def test_the_computed_pads_are_folded_for_shape_inference():
    m = _pad_conv()
    oracle = ShapeOracle(m)
    assert oracle.values["pads"].tolist() == [0, 0, 1, 1, 0, 0, 1, 1]
    assert oracle.infer({"x": (1, 3, 32, 32)})["y"] == (1, 4, 16, 16)


@pytest.mark.parametrize("computed", [True, False])
@pytest.mark.parametrize("mode", ["reflect", "constant", "edge"])
def test_a_pad_before_a_conv_is_its_padding(computed, mode):
    rep = onnxsym.analyze_padding(_pad_conv(mode=mode, computed=computed))
    row = rep.layers[0]
    assert row.status == "ok" and row.input_size == [32, 32]
    assert row.explicit_pad == {"node": "the_pad", "mode": mode, "pads": [1, 1, 1, 1]}
    assert row.pads == [1, 1, 1, 1] and row.before == [1, 1] and row.after == [0, 0]
    assert row.uneven and row.direction == "top-left"   # 32 + 2 - 3 = 31: one trailing row unread
    assert any("Pad 'the_pad' before it is counted as its padding" in n for n in row.notes)


def test_the_same_geometry_as_the_conv_s_own_pads():
    own = onnxsym.analyze_padding(_pad_conv(pads=(0, 0, 0, 0), computed=False))
    # an all-zero explicit Pad adds nothing; compare with a conv whose own pads are 1
    m = _pad_conv(pads=(1, 1, 1, 1), computed=False)
    exp = onnxsym.analyze_padding(m).layers[0]
    assert (exp.before, exp.after, exp.unread) == ([1, 1], [0, 0], [1, 1])
    assert own.layers[0].before == [0, 0]


def test_what_is_not_absorbed():
    # uneven begin/end pads are kept as they are: [t, l, b, r] = [0, 0, 1, 1] (TF SAME at stride 2)
    row = onnxsym.analyze_padding(_pad_conv(pads=(0, 0, 1, 1), computed=False)).layers[0]
    assert row.explicit_pad["pads"] == [0, 0, 1, 1] and row.before == [0, 0] and row.after == [1, 1]
    # a Pad over the channels is not a spatial padding: left alone
    m = _pad_conv(computed=False)
    m.graph.initializer[1].CopyFrom(nh.from_array(np.array([0, 1, 1, 1, 0, 0, 1, 1], np.int64), "pads"))
    row = onnxsym.analyze_padding(m, input_shape="1x3x32x32").layers[0]
    assert row.explicit_pad is None


def test_the_reflect_zoo_models_are_sized_and_their_padding_counted():
    for name in ("digits_s2_reflect_flip.onnx", "digits_pool_reflect_noflip.onnx"):
        rep = onnxsym.analyze_padding(os.path.join(ROOT, "models", "zoo", name))
        assert rep.summary.unknown == 0, name
        convs = [r for r in rep.layers if r.kind == "conv"]
        assert all(r.explicit_pad and r.explicit_pad["mode"] == "reflect" for r in convs)
        zero = onnxsym.analyze_padding(os.path.join(ROOT, "models", "zoo", name.replace("reflect", "zero")))
        assert [(r.before, r.after) for r in rep.layers] == [(r.before, r.after) for r in zero.layers]
