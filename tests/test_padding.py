"""The padding diagnosis (onnxsym.padding): hand-built graphs whose answers are worked out by hand.

Notation in the comments: i input size, k kernel, d dilation, k_e = d(k-1)+1, s stride,
pb/pe pads begin/end, span = i + pb + pe - k_e, out = span // s + 1, unread r = span - (out-1)s,
effective padding before = pb, after = pe - r.
"""
from __future__ import annotations

import json
import os

import numpy as np
import onnx
import pytest
from click.testing import CliRunner
from onnx import TensorProto, helper, numpy_helper

from onnxsym.cli import main
from onnxsym.errors import InputError
from onnxsym import analyze_padding
from onnxsym.padding import axis_geometry
from onnxsym.parsing import parse_shape

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MOBILENET = os.path.join(ROOT, "models", "mobilenet_v2.onnx")
KERAS = os.path.join(ROOT, "models", "keras_digits.onnx")


# --------------------------------------------------------------------------------------------
# Graph builders
# --------------------------------------------------------------------------------------------
def _model(nodes, inputs, inits=(), opset=19, functions=()):
    g = helper.make_graph(nodes, "g", inputs, [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
                          list(inits))
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)], functions=list(functions))
    m.ir_version = 9
    return m


def _w(name, cout, cin, *kernel, value=None):
    rng = np.random.default_rng(0)
    arr = rng.standard_normal((cout, cin, *kernel)).astype(np.float32) if value is None else value
    return numpy_helper.from_array(arr, name)


def conv_model(shape, kernel, strides, pads=None, auto_pad=None, dilations=None, cin=None, op="Conv",
               ceil_mode=None, output_padding=None):
    """input x (``shape``, NCHW-like) -> one op -> y."""
    n = len(kernel)
    cin = cin or (shape[1] if isinstance(shape[1], int) else 3)
    attrs = {"kernel_shape": list(kernel), "strides": list(strides)}
    if pads is not None:
        attrs["pads"] = list(pads)
    if auto_pad is not None:
        attrs["auto_pad"] = auto_pad
    if dilations is not None:
        attrs["dilations"] = list(dilations)
    if ceil_mode is not None:
        attrs["ceil_mode"] = ceil_mode
    if output_padding is not None:
        attrs["output_padding"] = list(output_padding)
    inits = []
    inputs = ["x"]
    if op in ("Conv", "ConvTranspose"):
        inits = [_w("w", 4, cin, *kernel) if op == "Conv" else _w("w", cin, 4, *kernel)]
        inputs = ["x", "w"]
    node = helper.make_node(op, inputs, ["y"], name="L0", **attrs)
    del n
    return _model([node], [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(shape))], inits)


def stack_model(shape, layers, layout="NCHW"):
    """A chain of layers: ("conv", k, s, p) / ("pool", k, s, p) (square kernels, symmetric pads)."""
    nodes, inits = [], []
    cur = "x"
    if layout == "NHWC":
        nodes.append(helper.make_node("Transpose", ["x"], ["x_nchw"], perm=[0, 3, 1, 2], name="to_nchw"))
        cur = "x_nchw"
    c = 3
    for j, (kind, k, s, p) in enumerate(layers):
        out = "y" if j == len(layers) - 1 else f"t{j}"
        pads = dict(pads=[p] * 4) if isinstance(p, int) else dict(auto_pad=p)
        if kind == "conv":
            inits.append(_w(f"w{j}", 8, c, k, k))
            nodes.append(helper.make_node("Conv", [cur, f"w{j}"], [out], name=f"conv{j}", kernel_shape=[k, k],
                                          strides=[s, s], **pads))
            c = 8
        else:
            nodes.append(helper.make_node("MaxPool", [cur], [out], name=f"pool{j}", kernel_shape=[k, k],
                                          strides=[s, s], **pads))
        cur = out
    return _model(nodes, [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(shape))], inits)


RESNET_STEM = [("conv", 7, 2, 3), ("pool", 3, 2, 1), ("conv", 3, 2, 1), ("conv", 3, 2, 1), ("conv", 3, 2, 1)]


def _row(report, lid="L0"):
    return next(r for r in report.layers if r.id == lid)


# --------------------------------------------------------------------------------------------
# Arithmetic on single layers
# --------------------------------------------------------------------------------------------
def test_pytorch_pads_stride2_even_size_pads_top_left_only():
    # i=224, k=3, s=2, p=1/1: span = 224+2-3 = 223, out = 112, r = 223-222 = 1
    # before = 1, after = 1-1 = 0 on both axes -> uneven, extra padding top-left.
    rep = analyze_padding(conv_model([1, 3, 224, 224], [3, 3], [2, 2], pads=[1, 1, 1, 1]), suggest=False)
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
    rep = analyze_padding(conv_model([1, 3, 225, 225], [3, 3], [2, 2], pads=[1, 1, 1, 1]), suggest=False)
    r = _row(rep)
    assert r.output_size == [113, 113] and r.unread == [0, 0]
    assert r.before == [1, 1] and r.after == [1, 1]
    assert not r.uneven and r.direction == ""
    assert rep.summary_line.startswith("0 of 1 stride-2 convs pad unevenly at 225×225")


def test_same_upper_vs_same_lower():
    # i=224, k=3, s=2: out = ceil(224/2) = 112, total = (112-1)*2 + 3 - 224 = 1.
    # SAME_UPPER: pb = 0, pe = 1 -> extra at bottom/right; SAME_LOWER: pb = 1, pe = 0 -> top/left.
    up = _row(analyze_padding(conv_model([1, 3, 224, 224], [3, 3], [2, 2], auto_pad="SAME_UPPER"), suggest=False))
    lo = _row(analyze_padding(conv_model([1, 3, 224, 224], [3, 3], [2, 2], auto_pad="SAME_LOWER"), suggest=False))
    assert (up.pads_begin, up.pads_end, up.unread) == ([0, 0], [1, 1], [0, 0])
    assert (up.before, up.after, up.direction) == ([0, 0], [1, 1], "bottom-right")
    assert (lo.pads_begin, lo.pads_end) == ([1, 1], [0, 0])
    assert (lo.before, lo.after, lo.direction) == ([1, 1], [0, 0], "top-left")
    # i=225: total = (113-1)*2 + 3 - 225 = 2 -> 1/1 for both: even.
    for auto in ("SAME_UPPER", "SAME_LOWER"):
        r = _row(analyze_padding(conv_model([1, 3, 225, 225], [3, 3], [2, 2], auto_pad=auto), suggest=False))
        assert r.before == [1, 1] and r.after == [1, 1] and not r.uneven


def test_valid_drops_trailing_pixels():
    # VALID, i=224, k=3, s=2: span = 221, out = 111, r = 221-220 = 1 -> before 0, after -1 (a real
    # row/column dropped): uneven toward the top-left (it has more padding: 0 > -1).
    r = _row(analyze_padding(conv_model([1, 3, 224, 224], [3, 3], [2, 2], auto_pad="VALID"), suggest=False))
    assert r.before == [0, 0] and r.after == [-1, -1] and r.direction == "top-left"


def test_dilation_2():
    # k=3, d=2 -> k_e = 5; s=2, p=2/2. i=224: span = 224+4-5 = 223, r = 1 -> before 2, after 1.
    r = _row(analyze_padding(conv_model([1, 3, 224, 224], [3, 3], [2, 2], pads=[2] * 4, dilations=[2, 2]),
                             suggest=False))
    assert r.output_size == [112, 112] and r.before == [2, 2] and r.after == [1, 1]
    assert r.direction == "top-left"
    # i=225: span = 224, r = 0 -> 2/2 even.
    r = _row(analyze_padding(conv_model([1, 3, 225, 225], [3, 3], [2, 2], pads=[2] * 4, dilations=[2, 2]),
                             suggest=False))
    assert r.before == r.after == [2, 2]
    # stride 1, d=2, p=1 (a mismatched pad for k_e=5): span = 10+2-5 = 7, out 8, r 0 -> 1/1 even.
    r = _row(analyze_padding(conv_model([1, 3, 10, 10], [3, 3], [1, 1], pads=[1] * 4, dilations=[2, 2]),
                             suggest=False))
    assert r.output_size == [8, 8] and r.before == r.after == [1, 1]


def test_maxpool_ceil_mode():
    # i=112, k=3, s=2, p=0, ceil: span = 109, out = ceil(109/2)+1 = 56; the last window starts at
    # 110 < 112 so it stays; r = 109 - 110 = -1 (reads one row past the end) -> before 0, after +1.
    r = _row(analyze_padding(conv_model([1, 3, 112, 112], [3, 3], [2, 2], pads=[0] * 4, op="MaxPool",
                                        ceil_mode=1), suggest=False))
    assert r.output_size == [56, 56] and r.unread == [-1, -1]
    assert r.before == [0, 0] and r.after == [1, 1] and r.direction == "bottom-right"
    assert any("ceil_mode" in n for n in r.notes)
    # floor mode at the same size: out 55, r = 109 - 108 = 1 -> after -1 (drops a row).
    r = _row(analyze_padding(conv_model([1, 3, 112, 112], [3, 3], [2, 2], pads=[0] * 4, op="MaxPool"),
                             suggest=False))
    assert r.output_size == [55, 55] and r.after == [-1, -1]
    # i=6, k=3, s=3, pads 0/1, ceil: span = 4, ceil(4/3)+1 = 3, but the 3rd window would start at
    # 6 >= i + pb = 6 (inside the end padding) so onnxruntime drops it: out 2, r = 4 - 3 = 1,
    # after = 1 - 1 = 0 -> even. ONNX shape inference says 3: the row notes the disagreement.
    r = _row(analyze_padding(conv_model([1, 3, 6, 6], [3, 3], [3, 3], pads=[0, 0, 1, 1], op="MaxPool",
                                        ceil_mode=1), suggest=False))
    assert r.output_size == [2, 2] and r.before == r.after == [0, 0]
    assert any("onnxruntime computes 2x2" in n for n in r.notes)


def test_kernel_1x7():
    # H: k=1, s=1, p=0 -> 0/0. W: k=7, s=2, p=3/3, i=224: span = 224+6-7 = 223, r = 1 -> 3/2.
    m = conv_model([1, 3, 32, 224], [1, 7], [1, 2], pads=[0, 3, 0, 3])
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
    r = _row(analyze_padding(conv_model([1, 2, 100], [3], [2], pads=[1, 1]), suggest=False))
    assert r.sides == {"left": 1, "right": 0} and r.direction == "left"
    # 3-D: D=9 (span 8, r 0 -> even), H=W=16 (span 15, r 1 -> 1/0).
    r = _row(analyze_padding(conv_model([1, 2, 9, 16, 16], [3, 3, 3], [2, 2, 2], pads=[1] * 6), suggest=False))
    assert r.before == [1, 1, 1] and r.after == [1, 0, 0] and r.direction == "top-left"
    assert r.sides["front"] == r.sides["back"] == 1


def test_conv_transpose_reported_with_its_own_arithmetic():
    # k=3, s=2, p=1/1, output_padding 1: equivalent stride-1 conv pads k-1-pb = 1 before and
    # k-1-pe+op = 2 after -> uneven toward bottom-right whatever the input size.
    m = conv_model([1, 3, 8, 8], [3, 3], [2, 2], pads=[1] * 4, op="ConvTranspose", output_padding=[1, 1])
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
    m = _model([helper.make_node(op, ins, ["y"], **attrs)],
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


# --------------------------------------------------------------------------------------------
# Layouts, symbolic dims, bad input
# --------------------------------------------------------------------------------------------
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
    m = _model(nodes, [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 32, 32, 3])],
               [shape, _w("w", 4, 3, 3, 3)])
    rep = analyze_padding(m)
    assert rep.input["layout"] is None
    assert _row(rep).direction == "top-left"  # the arithmetic itself still works
    assert rep.suggestions is None and any("layout=" in n for n in rep.notes)  # the library names parameters
    with pytest.raises(InputError, match="layout="):
        analyze_padding(m, "32x32")
    rep = analyze_padding(m, "32x32", layout="NHWC")
    assert rep.suggestions is not None


def test_symbolic_dims_need_a_shape():
    m = conv_model(["N", 3, "H", "W"], [3, 3], [2, 2], pads=[1] * 4)
    rep = analyze_padding(m)
    r = _row(rep)
    assert r.status == "unknown" and "input_shape" in r.reason
    assert rep.input["shape"] == [1, 3, None, None]
    assert "input size unknown" in rep.summary_line and rep.suggestions is None
    rep = analyze_padding(m, "2x3x224x224")
    assert _row(rep).input_size == [224, 224] and _row(rep).direction == "top-left"
    assert rep.suggestions.sizes[:2] == [[223, 223], [225, 225]]  # one k3 s2 p1 layer: odd sizes


def test_function_body_layers_are_listed_with_reason():
    fn = helper.make_function("local", "F", ["a", "b"], ["c"],
                              [helper.make_node("Conv", ["a", "b"], ["c"], kernel_shape=[3, 3], strides=[2, 2],
                                                pads=[1, 1, 1, 1])],
                              [helper.make_opsetid("", 19)])
    m = _model([helper.make_node("Conv", ["x", "w"], ["y"], name="main_conv", kernel_shape=[3, 3])],
               [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 16, 16])], [_w("w", 4, 3, 3, 3)],
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
    m = _model(nodes, [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 64, 64])],
               [_w("w", 4, 3, 3, 3), numpy_helper.from_array(np.array(True), "c")])
    rep = analyze_padding(m, suggest=False)
    inner = _row(rep, "inner")
    assert inner.path == "main/If.then_branch" and inner.input_size == [64, 64]
    assert inner.direction == "top-left"


@pytest.mark.parametrize("text,match", [
    ("1x3x224", "has 3 dims"), ("1x3x0x224", "zero or negative"), ("1x3x-4x224", "zero or negative"),
    ("1x3xfoox224", "cannot parse"), ("", "cannot parse"),
])
def test_bad_shapes(text, match):
    m = conv_model([1, 3, 224, 224], [3, 3], [2, 2], pads=[1] * 4)
    with pytest.raises(InputError, match=match):
        analyze_padding(m, text)


def test_parse_shape_forms():
    assert parse_shape("1x3x224x224") == (1, 3, 224, 224)
    assert parse_shape("1,3,224,224") == (1, 3, 224, 224)
    assert parse_shape([1, 3, 8, 8]) == (1, 3, 8, 8)


def test_not_an_image_model():
    nodes = [helper.make_node("Reshape", ["x", "shp"], ["r"]),
             helper.make_node("Conv", ["r", "w"], ["y"], kernel_shape=[3, 3])]
    m = _model(nodes, [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3072])],
               [numpy_helper.from_array(np.array([1, 3, 32, 32], np.int64), "shp"), _w("w", 4, 3, 3, 3)])
    with pytest.raises(InputError, match="no image input"):
        analyze_padding(m)


# --------------------------------------------------------------------------------------------
# Suggestions
# --------------------------------------------------------------------------------------------
def _brute_force_even(size, layers):
    """Propagate one axis through the stack by hand and say whether every layer is even."""
    i = size
    for _kind, k, s, p in layers:
        span = i + 2 * p - k
        if span < 0:
            return None
        out = span // s + 1
        r = span - (out - 1) * s
        if p - r != p:
            return False
        i = out
    return True


def test_suggestions_resnet_stem_brute_force():
    # conv7/2 p3, maxpool3/2 p1, conv3/2 p1 x3: at 224 every layer has r = 1 (top-left).
    # 225 -> 113 -> 57 -> 29 -> 15: every span even, so 225 pads evenly everywhere.
    m = stack_model([1, 3, 224, 224], RESNET_STEM)
    rep = analyze_padding(m, size_range=(160, 290))
    assert rep.summary["strided_convs_uneven"] == 4 and rep.summary["strided_pools_uneven"] == 1
    assert rep.summary_line.startswith("4 of 4 stride-2 convs pad unevenly at 224×224 (all top-left)")
    s = rep.suggestions
    assert s.sizes[0] == [225, 225]
    expected = [c for c in range(160, 291) if _brute_force_even(c, RESNET_STEM)]
    assert sorted(z[0] for z in s.sizes) == expected  # = sizes ≡ 1 (mod 32): 161, 193, 225, 257, 289
    assert expected == [161, 193, 225, 257, 289]
    # nearest first
    d = [abs(z[0] - 224) for z in s.sizes]
    assert d == sorted(d)
    assert s.checked == 131


def test_suggestions_none_possible():
    # Pads 1/0 with stride 2: even needs r = -1, impossible; every size is uneven.
    nodes = [helper.make_node("Conv", ["x", "w"], ["y"], name="L0", kernel_shape=[3, 3], strides=[2, 2],
                              pads=[1, 1, 0, 0])]
    m = _model(nodes, [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 64, 64])], [_w("w", 4, 3, 3, 3)])
    s = analyze_padding(m).suggestions
    assert s.sizes == [] and "no input size in 32–96" in s.note
    assert s.never_even == ["L0"] and s.best["uneven_strided_layers"] == 1


def test_suggestions_fast_enough_on_mobilenet_sized_graph():
    import time

    layers = [("conv", 3, 2, 1)] + [("conv", 3, 1, 1)] * 40 + [("conv", 3, 2, 1)] * 4
    m = stack_model([1, 3, 224, 224], layers)
    t0 = time.perf_counter()
    rep = analyze_padding(m)
    assert time.perf_counter() - t0 < 5
    assert rep.suggestions.sizes[0] == [225, 225]


# --------------------------------------------------------------------------------------------
# CLI
# --------------------------------------------------------------------------------------------
@pytest.fixture()
def stem_path(tmp_path):
    p = tmp_path / "stem.onnx"
    onnx.save(stack_model(["N", 3, 224, 224], RESNET_STEM), p)
    return str(p)


def test_cli_table_and_json(stem_path, tmp_path):
    runner = CliRunner()
    res = runner.invoke(main, ["padding", stem_path, "--no-skew"])
    assert res.exit_code == 0, res.output
    assert "summary: 4 of 4 stride-2 convs pad unevenly at 224×224 (all top-left)" in res.output
    assert "suggested sizes (nearest first): 225×225" in res.output
    out = tmp_path / "pad.json"
    res = runner.invoke(main, ["padding", stem_path, "--no-skew", "--format", "json", "-o", str(out),
                               "--range", "200:250", "--input-shape", "1x3x225x225"])
    assert res.exit_code == 0, res.output
    data = json.loads(out.read_text())
    assert data["schema"] == "onnxsym.padding/1"
    assert data["summary"]["strided_convs_uneven"] == 0
    assert data["suggestions"]["range"] == [200, 250]
    assert data["layers"][0]["sides"] == {"top": 3, "bottom": 3, "left": 3, "right": 3}
    res = runner.invoke(main, ["padding", stem_path, "--no-skew", "--no-suggest", "--format", "json"])
    assert json.loads(res.stdout)["suggestions"] is None


@pytest.mark.parametrize("args,match", [
    (["--input-shape", "1x3x224"], "has 3 dims"),
    (["--input-shape", "1x3x0x224"], "zero or negative"),
    (["--input-shape", "1x3x-1x224"], "zero or negative"),
    (["--input-shape", "axb"], "cannot parse"),
    (["--range", "300:200"], "range"),
])
def test_cli_bad_input_exit_2(stem_path, args, match):
    res = CliRunner().invoke(main, ["padding", stem_path, "--no-skew", *args])
    assert res.exit_code == 2
    assert match in res.output and "Traceback" not in res.output
    assert len([ln for ln in res.output.splitlines() if ln.strip()]) == 1


def test_cli_not_images_and_missing_file(tmp_path):
    nodes = [helper.make_node("Reshape", ["x", "shp"], ["r"]),
             helper.make_node("Conv", ["r", "w"], ["y"], kernel_shape=[3, 3])]
    m = _model(nodes, [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3072])],
               [numpy_helper.from_array(np.array([1, 3, 32, 32], np.int64), "shp"), _w("w", 4, 3, 3, 3)])
    p = tmp_path / "flat.onnx"
    onnx.save(m, p)
    res = CliRunner().invoke(main, ["padding", str(p), "--no-skew"])
    assert res.exit_code == 2 and "no image input" in res.output
    res = CliRunner().invoke(main, ["padding", str(tmp_path / "missing.onnx")])
    assert res.exit_code == 2


def test_cli_no_convolutions_exit_0(tmp_path):
    m = _model([helper.make_node("Relu", ["x"], ["y"])],
               [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])])
    p = tmp_path / "relu.onnx"
    onnx.save(m, p)
    res = CliRunner().invoke(main, ["padding", str(p)])
    assert res.exit_code == 0 and "no convolutions or pools" in res.output


# --------------------------------------------------------------------------------------------
# Shipped models
# --------------------------------------------------------------------------------------------
@pytest.mark.skipif(not os.path.exists(MOBILENET), reason="models/mobilenet_v2.onnx not built")
def test_mobilenet_v2_224_vs_225():
    rep = analyze_padding(MOBILENET)
    stride2 = [r for r in rep.layers if r.strides and max(r.strides) == 2]
    assert len(stride2) == 5
    assert all(r.uneven and r.direction == "top-left" for r in stride2)
    assert [225, 225] in rep.suggestions.sizes and rep.suggestions.sizes[0] == [225, 225]
    rep = analyze_padding(MOBILENET, "1x3x225x225", suggest=False)
    assert not any(r.uneven for r in rep.layers)


@pytest.mark.skipif(not os.path.exists(MOBILENET), reason="models/mobilenet_v2.onnx not built")
def test_mobilenet_v2_cli_with_skews():
    res = CliRunner().invoke(main, ["padding", MOBILENET, "--format", "json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    uneven = [r for r in data["layers"] if r["uneven"]]
    assert len(uneven) == 5
    # skews come from the weights report and join by layer id
    assert all(r["skew"] is not None and r["leans_toward_padding"] is not None for r in uneven)
    assert data["summary"]["skew_checked"] == 5


@pytest.mark.skipif(not os.path.exists(KERAS), reason="models/keras_digits.onnx not built")
def test_keras_nhwc_model():
    rep = analyze_padding(KERAS)
    assert rep.input["layout"] == "NHWC"
    uneven = [r for r in rep.layers if r.uneven]
    assert uneven and all(r.direction == "bottom-right" for r in uneven)


# --------------------------------------------------------------------------------------------
# Candidate sizes at which the network's shapes do not fit together; subgraphs; several inputs
# --------------------------------------------------------------------------------------------
def _graph_model(nodes, inputs, outputs, inits=(), opset=17):
    g = helper.make_graph(nodes, "g", inputs,
                          [helper.make_tensor_value_info(o, TensorProto.FLOAT, None) for o in outputs], list(inits))
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])
    m.ir_version = 8
    return m


def unet_like(up):
    """x (1x3xHxW) -> skip = Conv1x1(x) (H); Conv k3 s2 p1 (ceil(H/2)) -> Conv k3 s1 -> upsample
    x2 -> Add(skip).

    ``up="resize"``: nearest Resize x2 gives 2*ceil(H/2): the Add fits only at even H, where the
    stride-2 conv pads unevenly (1/0), so no size is both even and runnable; at odd H (e.g. 65,
    where the conv pads 1/1) onnxruntime fails. ``up="convt"``: ConvTranspose k3 s2 p1 gives
    2*ceil(H/2)-1: the Add fits only at odd H, exactly where the conv pads evenly.
    """
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, "H", "W"])
    inits = [_w("ws", 4, 3, 1, 1), _w("wd", 4, 3, 3, 3), _w("wc", 4, 4, 3, 3)]
    nodes = [helper.make_node("Conv", ["x", "ws"], ["skip"], name="skip"),
             helper.make_node("Conv", ["x", "wd"], ["d"], pads=[1, 1, 1, 1], strides=[2, 2], name="down"),
             helper.make_node("Conv", ["d", "wc"], ["c"], pads=[1, 1, 1, 1], name="mid")]
    if up == "resize":
        inits.append(numpy_helper.from_array(np.array([1, 1, 2, 2], np.float32), "scales"))
        nodes.append(helper.make_node("Resize", ["c", "", "scales"], ["u"], mode="nearest", name="up"))
    else:
        inits.append(_w("wt", 4, 4, 3, 3))
        nodes.append(helper.make_node("ConvTranspose", ["c", "wt"], ["u"], pads=[1, 1, 1, 1], strides=[2, 2],
                                      name="up"))
    nodes.append(helper.make_node("Add", ["u", "skip"], ["y"], name="join"))
    return _graph_model(nodes, [x], ["y"], inits)


def _ort_runs(model, size) -> bool:
    ort = pytest.importorskip("onnxruntime")
    ort.set_default_logger_severity(4)
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    try:
        sess.run(None, {"x": np.zeros((1, 3, size, size), np.float32)})
        return True
    except Exception:  # noqa: BLE001 - onnxruntime's shape errors
        return False


def test_suggestions_skip_sizes_where_shapes_do_not_fit_and_suggested_sizes_run():
    m = unet_like("convt")
    rep = analyze_padding(m, "1x3x64x64")
    s = rep.suggestions
    assert s.sizes[:2] == [[63, 63], [65, 65]] and all(z[0] % 2 == 1 for z in s.sizes)
    assert s.mismatched == 33  # every even size in 32..96: the ConvTranspose gives H-1
    assert "33 size(s) skipped: the network's shapes do not fit together there" in s.note
    assert "Add node 'join'" in s.note
    assert _ort_runs(m, 63)      # the top suggestion runs
    assert not _ort_runs(m, 66)  # a rejected size does not
    # nominal 64 does not fit either: said in one note, not left as silent unknown layers
    assert any("do not fit together at 64×64" in n and "'join'" in n for n in rep.notes)


def test_no_suggestion_when_every_even_size_breaks_the_network():
    m = unet_like("resize")
    rep = analyze_padding(m, "1x3x64x64")
    s = rep.suggestions
    # 65 pads the stride-2 conv evenly (old answer) but the Add cannot broadcast 66 with 65
    assert not _ort_runs(m, 65) and _ort_runs(m, 64)
    assert s.sizes == [] and s.mismatched == 32
    assert s.best == {"size": [64, 64], "uneven_strided_layers": 1}
    assert "no input size in 32–96 pads every strided layer evenly" in s.note
    assert not any("do not fit" in n for n in rep.notes)  # 64 itself is fine
    rep65 = analyze_padding(m, "1x3x65x65", suggest=False)
    assert [n for n in rep65.notes if "do not fit together at 65×65" in n and "Add node 'join'" in n]


def test_shipped_mobilenet_still_suggests_225_with_the_strict_check():
    rep = analyze_padding(MOBILENET, "1x3x224x224")
    assert [225, 225] in rep.suggestions.sizes and rep.suggestions.mismatched == 0
    assert not any("do not fit" in n for n in rep.notes)


def test_image_input_found_through_if_branches():
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 32, 32])
    cond = helper.make_tensor_value_info("cond", TensorProto.BOOL, [])

    def branch(tag):
        return helper.make_graph(
            [helper.make_node("Conv", ["x", "w"], [f"{tag}_y"], pads=[1, 1, 1, 1], strides=[2, 2], name=f"{tag}_conv")],
            tag, [], [helper.make_tensor_value_info(f"{tag}_y", TensorProto.FLOAT, None)])

    node = helper.make_node("If", ["cond"], ["y"], then_branch=branch("then"), else_branch=branch("else"), name="if")
    m = _graph_model([node], [x, cond], ["y"], [_w("w", 4, 3, 3, 3)])
    rep = analyze_padding(m)
    assert rep.input["name"] == "x" and rep.input["layout"] == "NCHW"
    assert sorted((r.id, r.input_size, r.direction) for r in rep.layers) == [
        ("else_conv", [32, 32], "top-left"), ("then_conv", [32, 32], "top-left")]
    assert rep.summary_line.startswith("2 of 2 stride-2 convs pad unevenly at 32×32")
    assert rep.suggestions.sizes[0] == [31, 31]


def _loop_model(stride):
    body = helper.make_graph(
        [helper.make_node("Identity", ["c_in"], ["c_out"]),
         helper.make_node("Conv", ["xs", "w"], ["xs_out"], pads=[1, 1, 1, 1], strides=[stride, stride],
                          name="loop_conv")],
        "body",
        [helper.make_tensor_value_info("i", TensorProto.INT64, []),
         helper.make_tensor_value_info("c_in", TensorProto.BOOL, []),
         helper.make_tensor_value_info("xs", TensorProto.FLOAT, [1, 8, 32, 32])],
        [helper.make_tensor_value_info("c_out", TensorProto.BOOL, []),
         helper.make_tensor_value_info("xs_out", TensorProto.FLOAT, [1, 8, 32, 32])])
    return _graph_model([helper.make_node("Loop", ["n", "", "x8"], ["y"], body=body, name="loop")],
                        [helper.make_tensor_value_info("x8", TensorProto.FLOAT, [1, 8, 32, 32])], ["y"],
                        [_w("w", 8, 8, 3, 3), numpy_helper.from_array(np.array(3, np.int64), "n")])


def test_loop_body_sizes_follow_the_input():
    rep = analyze_padding(_loop_model(1))
    assert rep.input["layout"] == "NCHW" and rep.input["spatial"] == [32, 32]
    assert rep.summary_line == "no strided convs at 32×32"  # not "input size unknown"
    # a new input size reaches the body (ONNX inference alone keeps the body's declared 32x32)
    rep = analyze_padding(_loop_model(1), "1x8x64x64")
    assert rep.layers[0].input_size == [64, 64]
    # a strided conv in the body: its carried value halves per iteration, which is said
    rep = analyze_padding(_loop_model(2), "1x8x64x64")
    assert rep.layers[0].input_size == [64, 64] and rep.layers[0].direction == "top-left"
    assert any("changes size across iterations (1x8x64x64 -> 1x8x32x32)" in n for n in rep.notes)


def _two_input_model(shape_a, shape_b, join=False):
    a = helper.make_tensor_value_info("a", TensorProto.FLOAT, shape_a)
    b = helper.make_tensor_value_info("b", TensorProto.FLOAT, shape_b)
    nodes = [helper.make_node("Conv", ["a", "w"], ["ya"], pads=[1, 1, 1, 1], strides=[2, 2], name="ca"),
             helper.make_node("Conv", ["b", "w"], ["yb"], pads=[1, 1, 1, 1], strides=[2, 2], name="cb")]
    outs = ["ya", "yb"]
    if join:
        nodes.append(helper.make_node("Add", ["ya", "yb"], ["y"], name="join"))
        outs = ["y"]
    return _graph_model(nodes, [a, b], outs, [_w("w", 4, 3, 3, 3)])


def test_two_image_inputs_each_named_and_searched_on_its_own():
    m = _two_input_model([1, 3, 64, 64], [1, 3, 32, 32])
    rep = analyze_padding(m)
    assert [i["name"] for i in rep.inputs] == ["a", "b"]
    assert {r.id: r.inputs for r in rep.layers} == {"ca": ["a"], "cb": ["b"]}
    assert rep.summary_line.startswith("2 of 2 stride-2 convs pad unevenly at a 64×64, b 32×32")
    s = rep.suggestions
    assert s.inputs == ["a"] and s.not_varied == ["cb"] and s.never_even == []
    assert s.sizes[0] == [63, 63] and s.input_shapes[0] == "a=1x3x63x63;b=1x3x32x32"
    assert "uneven at every size" not in s.note and "not reached from 'a' (fed by 'b')" in s.note
    (sb,) = s.others
    assert sb.inputs == ["b"] and sb.not_varied == ["ca"] and sb.sizes[0] == [31, 31]
    # the named form of --input-shape sets each input
    rep = analyze_padding(m, "a=1x3x63x63;b=1x3x31x31", suggest=False)
    assert rep.summary_line.startswith("0 of 2 stride-2 convs pad unevenly at a 63×63, b 31×31")
    with pytest.raises(InputError, match="not an image input"):
        analyze_padding(m, "c=1x3x8x8")


def test_inputs_sharing_symbolic_sizes_are_varied_together():
    m = _two_input_model([1, 3, "H", "W"], [1, 3, "H", "W"], join=True)
    rep = analyze_padding(m, "1x3x64x64")
    assert rep.inputs[1]["shape"] == [1, 3, 64, 64]  # b follows a's H, W
    s = rep.suggestions
    assert s.inputs == ["a", "b"] and s.others == [] and s.mismatched == 0
    assert s.sizes[0] == [63, 63] and s.input_shapes[0] == "a=1x3x63x63;b=1x3x63x63"


# --------------------------------------------------------------------------------------------
# Review fixes: lean threshold, plausible suggestions, unknown sizes, compact table
# --------------------------------------------------------------------------------------------
PPOCR_DET = os.path.join(ROOT, "models", "ppocr", "ch_PP-OCRv4_det_infer.onnx")
PPOCR_REC = os.path.join(ROOT, "models", "ppocr", "ch_PP-OCRv4_rec_infer.onnx")


@pytest.mark.parametrize("skew,lean,text", [
    # top-left padded side: component toward it = (-down - right)/sqrt(2)
    ((-0.3, -0.3), "toward", "its mean kernel leans toward the padded side (|skew| ≥ 0.1 counts)"),
    ((0.2, 0.1), "away", "its mean kernel leans away from it (|skew| ≥ 0.1 counts)"),
    ((-0.06, -0.06), "neither", "its mean kernel leans neither way (|skew| ≥ 0.1 counts)"),  # 0.085 < 0.1
    ((-0.06, 0.0), "neither", "leans neither way"),  # a small skew is not a lean
])
def test_lean_needs_the_threshold(skew, lean, text):
    m = conv_model([1, 3, 224, 224], [3, 3], [2, 2], pads=[1, 1, 1, 1])
    rep = analyze_padding(m, skews={"L0": skew}, suggest=False)
    r = _row(rep)
    assert r.lean == lean and r.leans_toward_padding is (lean == "toward")
    assert r.skew_toward_padding == pytest.approx(-(skew[0] + skew[1]) / 2 ** 0.5, abs=1e-4)
    assert text in rep.summary_line
    d = rep.to_dict()
    assert d["summary"]["lean_threshold"] == 0.1
    assert d["layers"][0]["lean"] == lean


def test_lean_summary_counts_toward_away_neither():
    m = stack_model([1, 3, 224, 224], RESNET_STEM)
    skews = {"conv0": (-0.4, -0.2), "conv2": (0.3, 0.3), "conv3": (0.05, -0.02), "conv4": (0.2, -0.5)}
    rep = analyze_padding(m, skews=skews, suggest=False)
    assert [r.lean for r in rep.layers if r.kind == "conv"] == ["toward", "away", "neither", "toward"]
    assert ("4 of 4 stride-2 convs pad unevenly at 224×224 (all top-left); their mean kernels lean toward the "
            "padded side in 2, away from it in 1, neither in 1 (|skew| ≥ 0.1 counts)") in rep.summary_line
    s = rep.summary
    assert (s["lean_toward_padding"], s["lean_away_from_padding"], s["lean_neither"]) == (2, 1, 1)
    rep = analyze_padding(m, skews={"conv0": (-0.4, -0.2)}, suggest=False)
    assert "of the 1 with a skew, its mean kernel leans toward the padded side" in rep.summary_line


def test_fixed_input_suggestion_says_to_reexport():
    s = analyze_padding(conv_model([1, 3, 224, 224], [3, 3], [2, 2], pads=[1] * 4)).suggestions
    assert s.fixed_input == [224, 224] and s.sizes[0] == [223, 223]
    assert s.caveats[0] == ("the model's input is fixed at 224×224: re-export it with a 223×223 (or dynamic) "
                            "input to use this size")
    s = analyze_padding(conv_model(["N", 3, "H", "W"], [3, 3], [2, 2], pads=[1] * 4), "1x3x224x224").suggestions
    assert s.fixed_input is None and s.caveats == []
    rep = analyze_padding(conv_model([1, 3, 224, 224], [3, 3], [2, 2], pads=[1] * 4), "1x3x225x225")
    assert any("fixed at 224×224" in n and "onnxruntime refuses" in n for n in rep.notes)


def test_small_sizes_need_a_range():
    # 10 -> 5 -> 3 -> 2 -> 1 -> 1 through the stem; sizes ≡ 1 (mod 32) pad evenly: 1 and 33.
    m = stack_model(["N", 3, "H", "W"], RESNET_STEM)
    s = analyze_padding(m, "1x3x10x10").suggestions
    assert s.floor == [5, 5] and s.range == [5, 42]
    assert s.sizes == [[33, 33]]                      # never 1×1
    assert all(z[0] >= 5 for z in s.sizes)
    assert s.relative_change == [2.3, 2.3]
    assert any("may cost accuracy" in c for c in s.caveats)
    s = analyze_padding(m, "1x3x10x10", size_range=(1, 40)).suggestions
    assert [1, 1] in s.sizes and s.floor is None        # asked for: allowed


def test_sizes_shrinking_a_layer_below_2px_are_skipped():
    # Stem + one more conv3/2 at 64: 32, 16, 8, 4, 2, 1. The default range starts at 32 (half of
    # 64), where the fifth layer gives 16, 8, 4, 2, 1 -> 1 px where 64 gives it 2: skipped.
    m = stack_model([1, 3, 64, 64], RESNET_STEM + [("conv", 3, 2, 1)])
    nominal = analyze_padding(m, suggest=False).layers
    assert [r.output_size[0] for r in nominal] == [32, 16, 8, 4, 2, 1]
    s = analyze_padding(m).suggestions
    assert s.range == [32, 96] and s.below_floor == 1 and "under 2 px" in s.note
    for z in s.sizes:
        rep = analyze_padding(m, f"1x3x{z[0]}x{z[1]}", suggest=False)
        assert all(r.output_size[0] >= min(2, n.output_size[0]) for r, n in zip(rep.layers, nominal))


def test_unknown_input_size_is_said_once():
    from onnxsym.report.padding_render import to_table

    m = stack_model(["N", 3, "H", "W"], RESNET_STEM)
    rep = analyze_padding(m)
    text = to_table(rep)
    assert "unknown:" not in text and text.count("give --input-shape") <= 2
    assert "e.g. input_shape='1x3x224x224'" in text
    assert rep.input["example_shape"] == "1x3x224x224"
    assert all(len(ln) <= 110 for ln in text.splitlines())
    assert all(r.reason.startswith("input size unknown") for r in rep.layers)


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
             _w("w", 4, 3, 3, 3)]
    m = _model(nodes, [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 16, 16])], inits, opset=12)
    rep = analyze_padding(m, suggest=False)
    r = _row(rep)
    assert r.status == "ok" and r.input_size == [16, 16] and r.direction == "top-left"
    assert any("opset-14 copy" in n for n in rep.notes)


@pytest.mark.skipif(not os.path.exists(MOBILENET), reason="models/mobilenet_v2.onnx not built")
def test_mobilenet_table_is_compact_and_headed():
    from onnxsym.report.padding_render import strided_table, to_table

    res = CliRunner().invoke(main, ["padding", MOBILENET])
    assert res.exit_code == 0, res.output
    lines = res.output.splitlines()
    assert lines[0] == "Padding at 224×224 (input 'input', NCHW)"
    assert max(len(ln) for ln in lines) <= 112
    assert "features.1/conv.0.0 " in res.output and "/features/features.1" not in res.output
    assert "3×3/2" in res.output and "224×224" in res.output
    assert "caveat: the model's input is fixed at 224×224: re-export it with a 225×225 (or dynamic) input" \
        in res.output
    assert "e.g. --input-shape 1x3x225x225" in res.output
    rep = analyze_padding(MOBILENET, suggest=False)
    compact = strided_table(rep)
    rows = [ln for ln in compact.splitlines() if ln[:3].strip().isdigit()]
    assert len(rows) == 5 and all("top-left" in ln for ln in rows)
    assert compact.splitlines()[0].startswith("Padding of strided and uneven layers at 224×224")
    assert to_table(rep, strided_only=True) == compact
    assert len(to_table(rep).splitlines()) > len(compact.splitlines())


@pytest.mark.skipif(not os.path.exists(PPOCR_DET), reason="PP-OCR det model not shipped")
def test_ppocr_det_without_shape_is_short():
    res = CliRunner().invoke(main, ["padding", PPOCR_DET, "--no-skew"])
    assert res.exit_code == 0, res.output
    lines = res.output.splitlines()
    assert len(lines) < 25 and max(len(ln) for ln in lines) <= 110
    assert "e.g. --input-shape 1x3x640x640" in res.output
    assert "unresolved" not in res.output


@pytest.mark.skipif(not os.path.exists(PPOCR_REC), reason="PP-OCR rec model not shipped")
def test_ppocr_rec_every_layer_known_and_height_caveat():
    rep = analyze_padding(PPOCR_REC, "1x3x48x320")
    assert all(r.status == "ok" for r in rep.layers)
    s = rep.suggestions
    assert s.sizes[0][0] == 33 and s.fixed_input is None
    assert any("height by 31 % (48 → 33)" in c for c in s.caveats)


def test_deformconv_is_diagnosed_and_its_offsets_are_not_an_image(tmp_path):
    from onnx import TensorProto, helper as h

    from graphs import init, save, weight
    from onnxsym import analyze_weights

    x = h.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])
    off = h.make_tensor_value_info("off", TensorProto.FLOAT, [1, 18, 4, 4])
    y = h.make_tensor_value_info("y", TensorProto.FLOAT, None)
    n = h.make_node("DeformConv", ["x", "w", "off"], ["y"], name="dc", kernel_shape=[3, 3], strides=[2, 2],
                    pads=[1, 1, 1, 1])
    m = h.make_model(h.make_graph([n], "g", [x, off], [y], initializer=[init("w", weight())]),
                     opset_imports=[h.make_opsetid("", 19)])
    m.ir_version = 9
    rep = analyze_weights(save(m, tmp_path / "dc.onnx"), padding=True)
    assert [(l.id, l.op_type, l.status) for l in rep.layers] == [("dc", "DeformConv", "ok")]
    pad = rep.padding
    assert [r.id for r in pad.layers] == ["dc"] and pad.layers[0].uneven  # 8 even, stride 2, pads 1
    assert [i["name"] for i in pad.inputs] == ["x"]
