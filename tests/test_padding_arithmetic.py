"""onnxsym.padding.arithmetic: the effective padding of one layer at one input size, worked out by
hand on one-layer graphs and checked against what onnxruntime computes.

Notation in the comments: i input size, k kernel, d dilation, k_e = d(k-1)+1, s stride,
pb/pe pads begin/end, span = i + pb + pe - k_e, out = span // s + 1, unread r = span - (out-1)s,
effective padding before = pb, after = pe - r.
"""
from __future__ import annotations

import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper

from graphs import layer_model, model_y, stack_model
from onnxsym import analyze_padding
from onnxsym.model.graph import Graph
from onnxsym.padding import axis_geometry
from onnxsym.padding.arithmetic import AxisGeometry, direction, layer_row, resolve_static, spec_of


def _row(report, lid="L0"):
    return next(r for r in report.layers if r.id == lid)


# --------------------------------------------------------------------------------------------
# Arithmetic on single layers
# --------------------------------------------------------------------------------------------


def test_pytorch_pads_stride2_even_size_pads_top_left_only():
    # i=224, k=3, s=2, p=1/1: span = 224+2-3 = 223, out = 112, r = 223-222 = 1
    # before = 1, after = 1-1 = 0 on both axes -> uneven, extra padding top-left.
    rep = analyze_padding(layer_model([1, 3, 224, 224], [3, 3], [2, 2], pads=[1, 1, 1, 1]), suggest=False)
    r = _row(rep)
    assert r.status == "ok"
    assert r.input_size == [224, 224] and r.output_size == [112, 112]
    assert r.unread == [1, 1]
    assert r.before == [1, 1] and r.after == [0, 0]
    assert r.sides == {"top": 1, "bottom": 0, "left": 1, "right": 0}
    assert r.uneven and r.direction == "top-left"
    assert rep.summary["strided_convs_uneven"] == 1
    assert rep.summary_line.startswith("1 of 1 stride-2 convs pad unevenly at 224×224 (all top-left)")


def test_pytorch_pads_stride2_odd_size_is_even():
    # i=225: span = 225+2-3 = 224, out = 113, r = 0 -> before 1, after 1: even.
    rep = analyze_padding(layer_model([1, 3, 225, 225], [3, 3], [2, 2], pads=[1, 1, 1, 1]), suggest=False)
    r = _row(rep)
    assert r.output_size == [113, 113] and r.unread == [0, 0]
    assert r.before == [1, 1] and r.after == [1, 1]
    assert not r.uneven and r.direction == ""
    assert rep.summary_line.startswith("0 of 1 stride-2 convs pad unevenly at 225×225")


def test_same_upper_vs_same_lower():
    # i=224, k=3, s=2: out = ceil(224/2) = 112, total = (112-1)*2 + 3 - 224 = 1.
    # SAME_UPPER: pb = 0, pe = 1 -> extra at bottom/right; SAME_LOWER: pb = 1, pe = 0 -> top/left.
    up = _row(analyze_padding(layer_model([1, 3, 224, 224], [3, 3], [2, 2], auto_pad="SAME_UPPER"), suggest=False))
    lo = _row(analyze_padding(layer_model([1, 3, 224, 224], [3, 3], [2, 2], auto_pad="SAME_LOWER"), suggest=False))
    assert (up.pads_begin, up.pads_end, up.unread) == ([0, 0], [1, 1], [0, 0])
    assert (up.before, up.after, up.direction) == ([0, 0], [1, 1], "bottom-right")
    assert (lo.pads_begin, lo.pads_end) == ([1, 1], [0, 0])
    assert (lo.before, lo.after, lo.direction) == ([1, 1], [0, 0], "top-left")
    # i=225: total = (113-1)*2 + 3 - 225 = 2 -> 1/1 for both: even.
    for auto in ("SAME_UPPER", "SAME_LOWER"):
        r = _row(analyze_padding(layer_model([1, 3, 225, 225], [3, 3], [2, 2], auto_pad=auto), suggest=False))
        assert r.before == [1, 1] and r.after == [1, 1] and not r.uneven


def test_valid_drops_trailing_pixels():
    # VALID, i=224, k=3, s=2: span = 221, out = 111, r = 221-220 = 1 -> before 0, after -1 (a real
    # row/column dropped): uneven toward the top-left (it has more padding: 0 > -1).
    r = _row(analyze_padding(layer_model([1, 3, 224, 224], [3, 3], [2, 2], auto_pad="VALID"), suggest=False))
    assert r.before == [0, 0] and r.after == [-1, -1] and r.direction == "top-left"


def test_dilation_2():
    # k=3, d=2 -> k_e = 5; s=2, p=2/2. i=224: span = 224+4-5 = 223, r = 1 -> before 2, after 1.
    r = _row(analyze_padding(layer_model([1, 3, 224, 224], [3, 3], [2, 2], pads=[2] * 4, dilations=[2, 2]),
                             suggest=False))
    assert r.output_size == [112, 112] and r.before == [2, 2] and r.after == [1, 1]
    assert r.direction == "top-left"
    # i=225: span = 224, r = 0 -> 2/2 even.
    r = _row(analyze_padding(layer_model([1, 3, 225, 225], [3, 3], [2, 2], pads=[2] * 4, dilations=[2, 2]),
                             suggest=False))
    assert r.before == r.after == [2, 2]
    # stride 1, d=2, p=1 (a mismatched pad for k_e=5): span = 10+2-5 = 7, out 8, r 0 -> 1/1 even.
    r = _row(analyze_padding(layer_model([1, 3, 10, 10], [3, 3], [1, 1], pads=[1] * 4, dilations=[2, 2]),
                             suggest=False))
    assert r.output_size == [8, 8] and r.before == r.after == [1, 1]


def test_maxpool_ceil_mode():
    # i=112, k=3, s=2, p=0, ceil: span = 109, out = ceil(109/2)+1 = 56; the last window starts at
    # 110 < 112 so it stays; r = 109 - 110 = -1 (reads one row past the end) -> before 0, after +1.
    r = _row(analyze_padding(layer_model([1, 3, 112, 112], [3, 3], [2, 2], pads=[0] * 4, op="MaxPool",
                                        ceil_mode=1), suggest=False))
    assert r.output_size == [56, 56] and r.unread == [-1, -1]
    assert r.before == [0, 0] and r.after == [1, 1] and r.direction == "bottom-right"
    assert any("ceil_mode" in n for n in r.notes)
    # floor mode at the same size: out 55, r = 109 - 108 = 1 -> after -1 (drops a row).
    r = _row(analyze_padding(layer_model([1, 3, 112, 112], [3, 3], [2, 2], pads=[0] * 4, op="MaxPool"),
                             suggest=False))
    assert r.output_size == [55, 55] and r.after == [-1, -1]
    # i=6, k=3, s=3, pads 0/1, ceil: span = 4, ceil(4/3)+1 = 3, but the 3rd window would start at
    # 6 >= i + pb = 6 (inside the end padding) so onnxruntime drops it: out 2, r = 4 - 3 = 1,
    # after = 1 - 1 = 0 -> even. ONNX shape inference says 3: the row notes the disagreement.
    r = _row(analyze_padding(layer_model([1, 3, 6, 6], [3, 3], [3, 3], pads=[0, 0, 1, 1], op="MaxPool",
                                        ceil_mode=1), suggest=False))
    assert r.output_size == [2, 2] and r.before == r.after == [0, 0]
    assert any("onnxruntime computes 2x2" in n for n in r.notes)


def test_kernel_1x7():
    # H: k=1, s=1, p=0 -> 0/0. W: k=7, s=2, p=3/3, i=224: span = 224+6-7 = 223, r = 1 -> 3/2.
    m = layer_model([1, 3, 32, 224], [1, 7], [1, 2], pads=[0, 3, 0, 3])
    r = _row(analyze_padding(m, suggest=False))
    assert r.kernel == [1, 7] and r.output_size == [32, 112]
    assert r.sides == {"top": 0, "bottom": 0, "left": 3, "right": 2}
    assert r.direction == "left"
    rep = analyze_padding(m, skews={"L0": (0.0, -0.3)})  # leans left, toward the padded side
    assert _row(rep).leans_toward_padding is True
    # non-square: per-axis suggestions; widths ≡ 1 (mod 2) are even, height is free.
    s = rep.suggestions
    assert s.mode == "per-axis"
    assert s.per_axis["width"][:2] == [223, 225]
    assert 32 in s.per_axis["height"] and s.per_axis["height"][0] == 32
    assert [32, 223] in s.sizes


def test_conv1d_and_conv3d():
    # 1-D: i=100, k=3, s=2, p=1: span = 99, r = 1 -> left 1, right 0.
    r = _row(analyze_padding(layer_model([1, 2, 100], [3], [2], pads=[1, 1]), suggest=False))
    assert r.sides == {"left": 1, "right": 0} and r.direction == "left"
    # 3-D: D=9 (span 8, r 0 -> even), H=W=16 (span 15, r 1 -> 1/0).
    r = _row(analyze_padding(layer_model([1, 2, 9, 16, 16], [3, 3, 3], [2, 2, 2], pads=[1] * 6), suggest=False))
    assert r.before == [1, 1, 1] and r.after == [1, 0, 0] and r.direction == "top-left"
    assert r.sides["front"] == r.sides["back"] == 1


def test_conv_transpose_reported_with_its_own_arithmetic():
    # k=3, s=2, p=1/1, output_padding 1: equivalent stride-1 conv pads k-1-pb = 1 before and
    # k-1-pe+op = 2 after -> uneven toward bottom-right whatever the input size.
    m = layer_model([1, 3, 8, 8], [3, 3], [2, 2], pads=[1] * 4, op="ConvTranspose", output_padding=[1, 1])
    rep = analyze_padding(m)
    r = _row(rep)
    assert r.kind == "conv_transpose" and r.output_size == [16, 16]
    assert r.before == [1, 1] and r.after == [2, 2] and r.direction == "bottom-right"
    assert not r.size_dependent and any("ConvTranspose" in n for n in r.notes)
    assert rep.suggestions.fixed_uneven == ["L0"]
    assert "no strided layer" in rep.suggestions.note


def test_stride1_even_kernel_same_is_uneven_at_every_size():
    # TF SAME with k=2, s=1: total = 1 at every size -> SAME_UPPER puts it at the end, always.
    m = stack_model([1, 3, 32, 32], [("conv", 2, 1, "SAME_UPPER"), ("conv", 3, 2, 1)])
    rep = analyze_padding(m)
    assert _row(rep, "conv0").direction == "bottom-right" and not _row(rep, "conv0").size_dependent
    assert rep.suggestions.fixed_uneven == ["conv0"]
    assert "no size fixes them" in rep.suggestions.note
    # k3 s2 p1 is even at odd sizes; 31 and 33 are equally near 32 (ties: smaller first)
    assert rep.suggestions.sizes[:2] == [[31, 31], [33, 33]]


# --------------------------------------------------------------------------------------------
# axis_geometry, direction and the layer row, called directly
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("args,want", [
    # conv, i=10, k=3, s=2, p=1/1: span = 9, out = 5, r = 9 - 8 = 1 -> before 1, after 0
    (("conv", 10, 3, 1, 2, 1, 1), AxisGeometry(1, 1, 5, 1, 1, 0)),
    # SAME_LOWER, i=10, k=4, s=2: out = 5, total = 4*2 + 4 - 10 = 2 -> pb = pe = 1, span 8, r 0
    (("conv", 10, 4, 1, 2, 0, 0, "SAME_LOWER"), AxisGeometry(1, 1, 5, 0, 1, 1)),
    # SAME_LOWER, i=10, k=3, s=2: total = 4*2 + 3 - 10 = 1 -> the odd pixel at the beginning
    (("conv", 10, 3, 1, 2, 0, 0, "SAME_LOWER"), AxisGeometry(1, 0, 5, 0, 1, 0)),
    # VALID ignores the pads given: i=7, k=3, s=2: span 4, out 3, r 0
    (("conv", 7, 3, 1, 2, 5, 5, "VALID"), AxisGeometry(0, 0, 3, 0, 0, 0)),
    # ConvTranspose i=4, k=3, s=2, p=1/1, output_padding 1: out = 2*3 + 1 + 3 - 2 = 8;
    # before = k_e - 1 - pb = 1, after = k_e - 1 - pe + op = 2
    (("conv_transpose", 4, 3, 1, 2, 1, 1, "NOTSET", False, 1), AxisGeometry(1, 1, 8, 0, 1, 2)),
    # ConvTranspose SAME_UPPER i=4, k=3, s=2: total = 2*3 + 3 - 8 = 1 -> pb 0, pe 1; out = 8 = i*s
    (("conv_transpose", 4, 3, 1, 2, 0, 0, "SAME_UPPER"), AxisGeometry(0, 1, 8, 0, 2, 1)),
    # a kernel reaching past the input: span = 2 - 5 < 0
    (("conv", 2, 5, 1, 1, 0, 0), None),
    # ConvTranspose whose pads crop everything: out = 0 + 1 - 4 < 1
    (("conv_transpose", 1, 1, 1, 1, 2, 2), None),
])
def test_axis_geometry_by_hand(args, want):
    assert axis_geometry(*args) == want


def test_direction_names_the_more_padded_sides():
    assert direction(2, [1, 1], [0, 0]) == "top-left"
    assert direction(2, [0, 1], [0, 0]) == "left"
    assert direction(2, [0, 0], [1, 0]) == "bottom"
    assert direction(1, [0], [2]) == "right"
    assert direction(3, [1, 0, 0], [0, 0, 1]) == "front-right"
    assert direction(4, [1, 0, 0, 0], [0, 0, 0, 1]) == "axis0-begin-axis3-end"  # no side names past 3-D


def _spec(model):
    (ref,) = [r for r in Graph(model).nodes if r.node.op_type in ("Conv", "MaxPool")]
    return spec_of(ref)


def test_layer_row_reasons_and_notes_without_the_analysis():
    # inconsistent attribute lengths: two kernel axes, one stride
    m = layer_model([1, 3, 8, 8], [3, 3], [2], pads=[1, 1, 1, 1])
    spec = _spec(m)
    assert resolve_static(spec, {}) == "inconsistent attribute lengths (kernel_shape/strides/dilations/pads)"
    row = layer_row(spec, {"x": (1, 3, 8, 8)}, False)
    assert (row.status, row.strided, row.size_dependent) == ("unknown", True, True)
    # an input smaller than the kernel's reach: i=4, k=3, d=3 -> k_e = 7 > 4
    spec = _spec(layer_model([1, 3, 4, 4], [3, 3], [1, 1], dilations=[3, 3]))
    row = layer_row(spec, {"x": (1, 3, 4, 4)}, False)
    assert row.status == "invalid" and "smaller than the kernel's reach 7x7" in row.reason
    # pads beside auto_pad are ignored, and said so; SAME with dilation is onnxruntime's refusal
    spec = _spec(layer_model([1, 3, 8, 8], [3, 3], [1, 1], pads=[1, 1, 1, 1], auto_pad="SAME_UPPER",
                             dilations=[2, 2]))
    row = layer_row(spec, {"x": (1, 3, 8, 8)}, False)
    assert any("pads [1, 1, 1, 1] ignored: auto_pad=SAME_UPPER" in n for n in row.notes)
    assert any("refuses auto_pad SAME with dilation > 1" in n for n in row.notes)
    # k_e = 5, s = 1, i = 8: out = 8, total = 7 + 5 - 8 = 4 -> 2/2
    assert (row.output_size, row.before, row.after, row.uneven) == ([8, 8], [2, 2], [2, 2], False)
    # no shape for the input; inside a function
    assert "shape inference gave no shape for 'x'" in layer_row(spec, {}, False).reason
    assert "model-local function" in layer_row(spec, {"x": (1, 3, 8, 8)}, True).reason


def test_spec_of_a_pool_without_kernel_shape_is_an_error():
    node = helper.make_node("MaxPool", ["x"], ["y"], strides=[2, 2])
    m = model_y([node], [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])])
    spec = _spec(m)
    assert spec.kind == "pool" and spec.error == "pool without kernel_shape"
    row = layer_row(spec, {"x": (1, 3, 8, 8)}, False)
    assert row.status == "invalid" and row.reason == "pool without kernel_shape"


# --------------------------------------------------------------------------------------------
# Cross-check with onnxruntime (what it actually pads)
# --------------------------------------------------------------------------------------------


ort = pytest.importorskip("onnxruntime")


def _ort_1d(op, i, k, s, d=1, pads=None, auto=None, ceil=None, tap=0):
    attrs = dict(kernel_shape=[k], strides=[s])
    if d != 1:
        attrs["dilations"] = [d]
    if pads is not None:
        attrs["pads"] = pads
    if auto:
        attrs["auto_pad"] = auto
    if ceil is not None:
        attrs["ceil_mode"] = ceil
    inits, ins = [], ["x"]
    if op == "Conv":
        w = np.zeros((1, 1, k), np.float32)
        w[0, 0, tap] = 1
        inits, ins = [numpy_helper.from_array(w, "w")], ["x", "w"]
    m = model_y([helper.make_node(op, ins, ["y"], **attrs)],
               [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1, i])], inits)
    so = ort.SessionOptions()
    so.log_severity_level = 3
    sess = ort.InferenceSession(m.SerializeToString(), so, providers=["CPUExecutionProvider"])
    return sess.run(None, {"x": (np.arange(i, dtype=np.float32) + 1).reshape(1, 1, i)})[0].ravel()


@pytest.mark.parametrize("i,k,s,d,pads,auto", [
    (224, 3, 2, 1, [1, 1], None), (225, 3, 2, 1, [1, 1], None), (9, 7, 2, 1, [3, 3], None),
    (10, 3, 2, 2, [2, 2], None), (11, 3, 3, 1, [0, 2], None), (8, 1, 2, 1, [0, 0], None),
    (8, 3, 2, 1, None, "SAME_UPPER"), (8, 3, 2, 1, None, "SAME_LOWER"), (9, 4, 2, 1, None, "SAME_UPPER"),
    (9, 4, 2, 1, None, "SAME_LOWER"), (8, 2, 1, 1, None, "SAME_LOWER"), (8, 1, 2, 1, None, "SAME_UPPER"),
    (8, 3, 2, 1, None, "VALID"),
])
def test_conv_matches_onnxruntime(i, k, s, d, pads, auto):
    # x[j] = j + 1 and a one-hot kernel at tap t: y[o] = x[o*s - pb + t*d] (0 in the padding), so
    # the first tap gives pb and the last tap shows the last row read, hence the end padding.
    y0 = _ort_1d("Conv", i, k, s, d, pads, auto, tap=0)
    o = int(np.nonzero(y0)[0][0])
    pb = int(o * s + 1 - y0[o])
    y1 = _ort_1d("Conv", i, k, s, d, pads, auto, tap=k - 1)
    last = (len(y1) - 1) * s - pb + (k - 1) * d
    g = axis_geometry("conv", i, k, d, s, *(pads or [0, 0]), auto_pad=auto or "NOTSET")
    assert (g.output, g.before, g.after) == (len(y1), pb, last - (i - 1))


@pytest.mark.parametrize("op", ["MaxPool", "AveragePool"])
@pytest.mark.parametrize("i,k,s,pads,ceil", [
    (6, 3, 2, [0, 0], 1), (7, 3, 2, [1, 1], 1), (8, 3, 2, [1, 1], 1), (5, 2, 2, [0, 0], 1), (6, 2, 2, [1, 1], 1),
    (5, 3, 2, [0, 1], 1), (6, 3, 3, [0, 1], 1), (7, 3, 3, [1, 1], 1), (8, 3, 3, [1, 1], 1), (112, 3, 2, [1, 1], 0),
    (113, 3, 2, [0, 0], 1),
])
def test_pool_output_size_matches_onnxruntime(op, i, k, s, pads, ceil):
    y = _ort_1d(op, i, k, s, pads=pads, ceil=ceil)
    g = axis_geometry("pool", i, k, 1, s, *pads, ceil_mode=bool(ceil))
    assert g.output == len(y)
