"""onnxsym.weights.analysis: model -> conv layers -> statistics -> the weights report: the same
weights stored differently give the same S, the layer rows, the summary, and the skews the padding
lean reads."""
import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper as h, numpy_helper as nh

import naive
from graphs import conv_model, init, quantize, save, weight
from onnxsym import analyze_weights
from onnxsym.weights import analyze, layer_skews


W = weight()


S_REF = naive.symmetry(naive.mean_kernel(W))[0]


def test_same_weights_stored_differently_give_same_report(tmp_path):
    """fp32 initializer, fp16, external data, Constant node, QDQ int8 per channel: same S."""
    q, s = quantize(W, 0)
    variants = {
        "fp32": conv_model("w", inits=[init("w", W)]),
        "fp16": conv_model("w", nodes=[h.make_node("Cast", ["h"], ["w"], to=TensorProto.FLOAT)],
                           inits=[init("h", W.astype(np.float16))]),
        "const": conv_model("w", nodes=[h.make_node("Constant", [], ["w"], value=nh.from_array(W, "c"))]),
        "qdq": conv_model("w", nodes=[h.make_node("DequantizeLinear", ["q", "s"], ["w"], axis=0)],
                          inits=[init("q", q), init("s", s)]),
    }
    scores = {}
    for name, m in variants.items():
        save(m, tmp_path / f"{name}.onnx")
        r = analyze_weights(tmp_path / f"{name}.onnx")
        scores[name] = r.layers[0].symmetry
    onnx.save(variants["fp32"], str(tmp_path / "ext.onnx"), save_as_external_data=True, location="ext.bin",
              size_threshold=0)
    scores["external"] = analyze_weights(tmp_path / "ext.onnx").layers[0].symmetry
    assert scores["fp32"] == pytest.approx(S_REF, abs=1e-6)
    assert scores["external"] == scores["fp32"] and scores["const"] == scores["fp32"]
    assert scores["fp16"] == pytest.approx(S_REF, abs=1e-3)
    assert scores["qdq"] == pytest.approx(S_REF, abs=5e-3)


def test_nhwc_wrapper_with_transposes_gives_same_statistics(tmp_path):
    x = h.make_tensor_value_info("x", TensorProto.FLOAT, [1, 8, 8, 3])
    y = h.make_tensor_value_info("y", TensorProto.FLOAT, None)
    nodes = [h.make_node("Transpose", ["x"], ["xt"], perm=[0, 3, 1, 2]),
             h.make_node("Conv", ["xt", "w"], ["c"], pads=[1, 1, 1, 1], name="nhwc_conv"),
             h.make_node("Transpose", ["c"], ["y"], perm=[0, 2, 3, 1])]
    m = h.make_model(h.make_graph(nodes, "g", [x], [y], initializer=[init("w", W)]),
                     opset_imports=[h.make_opsetid("", 17)])
    m.ir_version = 8
    save(m, tmp_path / "nhwc.onnx")
    row = analyze_weights(tmp_path / "nhwc.onnx").layers[0]
    assert row.id == "nhwc_conv" and row.symmetry == pytest.approx(S_REF, abs=1e-6)


def _three_convs():
    """a (3x3) -> b (1x1) -> c (3x3, depthwise) -> BatchNormalization."""
    x = h.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])
    y = h.make_tensor_value_info("y", TensorProto.FLOAT, None)
    wa, wb, wc = W, weight((4, 4, 1, 1), seed=1), weight((4, 1, 3, 3), seed=2)
    nodes = [h.make_node("Conv", ["x", "wa"], ["a"], name="a", pads=[1, 1, 1, 1]),
             h.make_node("Conv", ["a", "wb"], ["b"], name="b"),
             h.make_node("Conv", ["b", "wc"], ["c"], name="c", group=4, pads=[1, 1, 1, 1]),
             h.make_node("BatchNormalization", ["c", "g", "be", "m", "v"], ["y"])]
    inits = [init("wa", wa), init("wb", wb), init("wc", wc),
             *(init(n, np.ones(4, np.float32)) for n in ("g", "be", "m", "v"))]
    m = h.make_model(h.make_graph(nodes, "g", [x], [y], initializer=inits), opset_imports=[h.make_opsetid("", 17)])
    m.ir_version = 8
    return m, {"a": wa, "b": wb, "c": wc}


def test_rows_and_summary_by_hand():
    m, ws = _three_convs()
    rep = analyze(m)
    a, b, c = rep.layers
    assert (a.status, b.status, c.status) == ("ok", "n/a", "ok")
    assert "every transform is the identity" in b.reason and b.symmetry is None
    assert c.depthwise and c.group == 4 and c.followed_by == "BatchNormalization"
    for row in (a, c):
        s, terms = naive.symmetry(naive.mean_kernel(ws[row.id]))
        assert row.symmetry == pytest.approx(s, abs=1e-6)
        assert list(row.terms)[:7] == ["rot90", "rot180", "rot270", "flip_lr", "flip_ud", "transpose", "antitranspose"]
        assert row.skew == pytest.approx(naive.skew(naive.mean_kernel(ws[row.id])), abs=1e-6)
        assert row.z_vs_random_init == pytest.approx((row.symmetry - row.random_init["mean"]) / row.random_init["sd"],
                                                     abs=2e-3)
    s = rep.to_dict()["summary"]          # the onnxsym.weights/1 document
    assert [s[k] for k in ("conv_nodes", "analysed", "not_applicable", "one_by_one", "unresolved")] == [3, 2, 1, 1, 0]
    assert s["first_layer"]["id"] == "a" and s["internal"]["n"] == 1
    assert s["internal"]["median_symmetry"] == c.symmetry and s["internal"]["ci95"] is None   # one layer: no interval
    assert [r["id"] for r in s["least_symmetric"]] == [r.id for r in sorted((a, c), key=lambda r: r.symmetry)]
    assert s["followed_by_batchnorm"] == 1
    assert rep.model["opsets"] == {"ai.onnx": 17} and {"load_s", "layers_s"} <= set(rep.timings)


def test_layer_skews_are_the_rows_skews_without_the_rest():
    m, ws = _three_convs()
    skews = layer_skews(m)
    assert set(skews) == {"a", "c"}                                 # b's 1x1 mean kernel has no S
    assert skews == analyze(m).skews()
    assert skews["a"] == pytest.approx(naive.skew(naive.mean_kernel(ws["a"])), abs=1e-6)


def test_per_kernel_off_leaves_the_quartiles_out():
    m, _ = _three_convs()
    row = analyze(m, per_kernel=False).layers[0]
    assert row.per_kernel == {"n": 0, "median": None, "q1": None, "q3": None}
    full = analyze(m).layers[0]
    assert full.per_kernel["n"] == 12 and full.symmetry == row.symmetry
