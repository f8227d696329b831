"""Weight resolution: every way a conv weight can be stored gives the same statistics."""
import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper as h, numpy_helper as nh

import naive
from graphs import conv_model, init, save, weight
from onnxsym.weights.layers import find_conv_layers
from onnxsym.model.loading import load_model
from onnxsym import analyze_weights

W = weight()
S_REF = naive.symmetry(naive.mean_kernel(W))[0]


def layers_of(tmp_path, model, name="m.onnx", **kw):
    if kw.get("external"):
        onnx.save(model, str(tmp_path / name), save_as_external_data=True, all_tensors_to_one_file=True,
                  location="w.bin", size_threshold=0)
    else:
        save(model, tmp_path / name)
    return find_conv_layers(load_model(tmp_path / name))


def only_ok(layers):
    assert len(layers) == 1, layers
    layer = layers[0]
    assert layer.status == "ok", layer.reason
    return layer


def s_of(layer):
    return naive.symmetry(naive.mean_kernel(layer.weight))[0]


def test_plain_initializer(tmp_path):
    layer = only_ok(layers_of(tmp_path, conv_model("w", inits=[init("w", W)])))
    np.testing.assert_array_equal(layer.weight, W)
    assert layer.weight_shape == (4, 3, 3, 3) and layer.kernel_shape == (3, 3)
    assert "initializer 'w'" in layer.weight_source and not layer.overridable
    assert layer.id == "the_conv" and layer.path == "main"


def test_initializer_listed_as_graph_input_is_overridable(tmp_path):
    wi = h.make_tensor_value_info("w", TensorProto.FLOAT, list(W.shape))
    layer = only_ok(layers_of(tmp_path, conv_model("w", inits=[init("w", W)], graph_inputs_with_inits=[wi])))
    assert layer.overridable and "override" in layer.weight_source


def test_external_data(tmp_path):
    layer = only_ok(layers_of(tmp_path, conv_model("w", inits=[init("w", W)]), external=True))
    np.testing.assert_array_equal(layer.weight, W)
    assert "external" in layer.weight_source


@pytest.mark.parametrize("kind", ["value", "value_floats", "sparse_value"])
def test_constant_nodes(tmp_path, kind):
    if kind == "value":
        nodes = [h.make_node("Constant", [], ["w"], value=nh.from_array(W, "c"))]
    elif kind == "value_floats":
        nodes = [h.make_node("Constant", [], ["flat"], value_floats=W.ravel().tolist()),
                 h.make_node("Constant", [], ["shape"], value_ints=list(W.shape)),
                 h.make_node("Reshape", ["flat", "shape"], ["w"])]
    else:
        dense = W.copy()
        dense[dense < 0.5] = 0
        idx = np.flatnonzero(dense)
        sp = h.make_sparse_tensor(nh.from_array(dense.ravel()[idx], "sv"),
                                  nh.from_array(idx.astype(np.int64), "si"), list(W.shape))
        nodes = [h.make_node("Constant", [], ["w"], sparse_value=sp)]
    layer = only_ok(layers_of(tmp_path, conv_model("w", nodes=nodes)))
    expect = W if kind != "sparse_value" else np.where(W < 0.5, 0, W)
    np.testing.assert_allclose(layer.weight, expect, rtol=1e-7)


def test_nhwc_style_transpose_cast_chain(tmp_path):
    hwio = np.transpose(W, (2, 3, 1, 0)).astype(np.float16)  # TF layout, stored in half
    nodes = [h.make_node("Cast", ["w16"], ["w32"], to=TensorProto.FLOAT),
             h.make_node("Transpose", ["w32"], ["w"], perm=[3, 2, 0, 1])]
    layer = only_ok(layers_of(tmp_path, conv_model("w", nodes=nodes, inits=[init("w16", hwio)])))
    np.testing.assert_allclose(layer.weight, W, rtol=1e-3, atol=1e-3)
    assert "Transpose" in layer.weight_source and "Cast" in layer.weight_source
    assert s_of(layer) == pytest.approx(S_REF, abs=2e-3)


def test_arithmetic_concat_slice_squeeze_chain(tmp_path):
    halves = [W[:2] * 2.0, W[2:] * 2.0]
    nodes = [h.make_node("Concat", ["a", "b"], ["cat"], axis=0),
             h.make_node("Div", ["cat", "two"], ["d"]),
             h.make_node("Unsqueeze", ["d", "ax"], ["u"]),
             h.make_node("Squeeze", ["u", "ax"], ["sq"]),
             h.make_node("Slice", ["sq", "st", "en"], ["w"])]
    inits = [init("a", halves[0]), init("b", halves[1]), init("two", np.float32(2.0)),
             init("ax", np.array([0], np.int64)), init("st", np.array([0], np.int64)),
             init("en", np.array([4], np.int64))]
    layer = only_ok(layers_of(tmp_path, conv_model("w", nodes=nodes, inits=inits)))
    np.testing.assert_allclose(layer.weight, W, rtol=1e-6)


def _quant(w, axis=None):
    if axis is None:
        scale = np.float32(np.abs(w).max() / 127)
        return np.round(w / scale).astype(np.int8), scale
    scale = (np.abs(w).reshape(w.shape[0], -1).max(1) / 127).astype(np.float32)
    return np.round(w / scale[:, None, None, None]).astype(np.int8), scale


@pytest.mark.parametrize("mode", ["tensor", "axis", "uint8", "blocked", "int4", "uint4", "fp8"])
def test_dequantize_linear_variants(tmp_path, mode):
    if mode in ("tensor", "axis"):
        q, s = _quant(W, None if mode == "tensor" else 0)
        inits = [init("q", q), init("s", s)]
        attrs = {"axis": 0}
        tol = 0.01
    elif mode == "uint8":
        s = np.float32((W.max() - W.min()) / 255)
        zp = np.uint8(np.round(-W.min() / s))
        q = np.clip(np.round(W / s) + zp, 0, 255).astype(np.uint8)
        inits = [init("q", q), init("s", s), init("z", zp)]
        attrs = {}
        tol = 0.01
    elif mode == "blocked":
        q, _ = _quant(W)
        s = (np.abs(W).reshape(4, 3, 9).max(2, keepdims=True) / 127).astype(np.float32)
        s = np.broadcast_to(s, (4, 3, 9)).reshape(4, 3, 3, 3)[:, :, :, :1].copy()  # blocks of 3 along the last axis
        q = np.round(W / s).astype(np.int8)
        inits = [init("q", q), init("s", s)]
        attrs = {"axis": 3, "block_size": 3}
        tol = 0.01
    elif mode in ("int4", "uint4"):
        signed = mode == "int4"
        s = np.float32(np.abs(W).max() / (7 if signed else 7))
        vals = np.clip(np.round(W / s), -8 if signed else -7, 7) + (0 if signed else 8)
        dt = TensorProto.INT4 if signed else TensorProto.UINT4
        q = h.make_tensor("q", dt, list(W.shape), vals.astype(int).ravel().tolist())
        inits = [q, init("s", s)]
        if not signed:
            inits.append(h.make_tensor("z", TensorProto.UINT4, [], [8]))
        attrs = {}
        tol = 0.08
    else:
        s = np.float32(1.0)
        q = h.make_tensor("q", TensorProto.FLOAT8E4M3FN, list(W.shape), W.ravel().tolist())
        inits = [q, init("s", s)]
        attrs = {}
        tol = 0.05
    ins = ["q", "s"] + (["z"] if any(getattr(i, "name", "") == "z" for i in inits) else [])
    nodes = [h.make_node("DequantizeLinear", ins, ["w"], **attrs)]
    layer = only_ok(layers_of(tmp_path, conv_model("w", nodes=nodes, inits=inits)))
    assert "DequantizeLinear" in layer.weight_source
    assert layer.weight.shape == W.shape
    assert s_of(layer) == pytest.approx(S_REF, abs=tol)


def test_qlinearconv_per_channel(tmp_path):
    q, s = _quant(W, 0)
    inits = [init("xs", np.float32(0.1)), init("xz", np.uint8(128)), init("q", q), init("ws", s),
             init("wz", np.zeros(4, np.int8)), init("ys", np.float32(0.1)), init("yz", np.uint8(128))]
    nodes = [h.make_node("QuantizeLinear", ["x", "xs", "xz"], ["xq"])]
    m = conv_model("q", nodes=nodes, inits=inits, op="QLinearConv",
                   conv_inputs=["xq", "xs", "xz", "q", "ws", "wz", "ys", "yz"])
    layer = only_ok(layers_of(tmp_path, m))
    np.testing.assert_allclose(layer.weight, q * s[:, None, None, None], rtol=1e-6)
    assert s_of(layer) == pytest.approx(S_REF, abs=0.01)
    assert layer.op_type == "QLinearConv" and layer.weight_dtype == "int8"


def test_convinteger_zero_point(tmp_path):
    q = np.clip(np.round(W * 20) + 100, 0, 255).astype(np.uint8)
    inits = [init("q", q), init("wz", np.uint8(100)), init("xz", np.uint8(0))]
    nodes = [h.make_node("Cast", ["x"], ["xu"], to=TensorProto.UINT8)]
    m = conv_model("q", nodes=nodes, inits=inits, op="ConvInteger", conv_inputs=["xu", "q", "xz", "wz"])
    layer = only_ok(layers_of(tmp_path, m))
    np.testing.assert_allclose(layer.weight, q.astype(float) - 100)


def test_convtranspose_grouped_depthwise_fusedconv(tmp_path):
    wt = weight((3, 2, 3, 3))
    m = conv_model("w", inits=[init("w", wt)], op="ConvTranspose", attrs={"strides": [2, 2]})
    layer = only_ok(layers_of(tmp_path, m, "t.onnx"))
    assert layer.transposed and layer.weight_shape == (3, 2, 3, 3) and layer.strides == (2, 2)
    dw = weight((3, 1, 3, 3))
    layer = only_ok(layers_of(tmp_path, conv_model("w", inits=[init("w", dw)], attrs={"group": 3}), "d.onnx"))
    assert layer.depthwise and layer.group == 3
    m = conv_model("w", inits=[init("w", W)], op="FusedConv", domain="com.microsoft",
                   attrs={"activation": "Relu"})
    layer = only_ok(layers_of(tmp_path, m, "f.onnx"))
    assert layer.op_type == "com.microsoft.FusedConv"


def test_conv_inside_if_branch_uses_outer_initializer(tmp_path):
    y = h.make_tensor_value_info("y", TensorProto.FLOAT, None)
    branch = lambda nm: h.make_graph([h.make_node("Conv", ["x", "w"], ["y"], name=nm)], nm, [], [y])
    nodes = [h.make_node("If", ["cond"], ["y"], then_branch=branch("then_conv"), else_branch=branch("else_conv"))]
    x = h.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])
    c = h.make_tensor_value_info("cond", TensorProto.BOOL, [])
    g = h.make_graph(nodes, "g", [x, c], [y], initializer=[init("w", W)])
    m = h.make_model(g, opset_imports=[h.make_opsetid("", 21)])
    m.ir_version = 10
    layers = layers_of(tmp_path, m)
    by_id = {l.id: l for l in layers}
    assert set(by_id) == {"then_conv", "else_conv"}
    assert all(l.status == "ok" for l in layers)
    assert by_id["then_conv"].path == "main/If.then_branch"
    assert by_id["then_conv"].shared_with == ["else_conv"]


def test_conv_inside_model_local_function(tmp_path):
    fn = h.make_function("custom", "Block", ["inp"], ["out"],
                         [h.make_node("Constant", [], ["fw"], value=nh.from_array(W, "fw")),
                          h.make_node("Conv", ["inp", "fw"], ["out"], name="fn_conv")],
                         opset_imports=[h.make_opsetid("", 21)])
    x = h.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])
    y = h.make_tensor_value_info("y", TensorProto.FLOAT, None)
    g = h.make_graph([h.make_node("Block", ["x"], ["y"], domain="custom")], "g", [x], [y])
    m = h.make_model(g, opset_imports=[h.make_opsetid("", 21), h.make_opsetid("custom", 1)], functions=[fn])
    m.ir_version = 10
    layer = only_ok(layers_of(tmp_path, m))
    assert layer.path == "main" and layer.id.startswith("fn_conv")  # the call was inlined
    np.testing.assert_array_equal(layer.weight, W)


def test_function_called_twice_with_weight_parameters_gives_a_row_per_call(tmp_path):
    fn = h.make_function("custom", "Block", ["inp", "fw"], ["out"],
                         [h.make_node("Conv", ["inp", "fw"], ["c"], name="fn_conv", pads=[1, 1, 1, 1]),
                          h.make_node("Relu", ["c"], ["out"])],
                         opset_imports=[h.make_opsetid("", 17)])
    x = h.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])
    y = h.make_tensor_value_info("y", TensorProto.FLOAT, None)
    w2 = weight((4, 3, 3, 3), seed=9)
    nodes = [h.make_node("Block", ["x", "w1"], ["a"], domain="custom", name="call1"),
             h.make_node("Block", ["x", "w2"], ["b"], domain="custom", name="call2"),
             h.make_node("Add", ["a", "b"], ["y"])]
    m = h.make_model(h.make_graph(nodes, "g", [x], [y], initializer=[init("w1", W), init("w2", w2)]),
                     opset_imports=[h.make_opsetid("", 17), h.make_opsetid("custom", 1)], functions=[fn])
    m.ir_version = 8
    save(m, tmp_path / "calls.onnx")
    loaded = load_model(tmp_path / "calls.onnx")
    assert loaded.inlined_calls == 2 and "inlined" in loaded.notes[0]
    layers = find_conv_layers(loaded)
    assert [l.status for l in layers] == ["ok", "ok"]
    np.testing.assert_array_equal(layers[0].weight, W)
    np.testing.assert_array_equal(layers[1].weight, w2)
    assert len({l.id for l in layers}) == 2


def test_runtime_and_random_weights_are_unresolved_with_reason(tmp_path):
    wi = h.make_tensor_value_info("w", TensorProto.FLOAT, [4, 3, 3, 3])
    layers = layers_of(tmp_path, conv_model("w", extra_inputs=[wi]), "a.onnx")
    assert layers[0].status == "unresolved" and "graph input 'w'" in layers[0].reason
    nodes = [h.make_node("RandomNormal", [], ["w"], shape=[4, 3, 3, 3])]
    layers = layers_of(tmp_path, conv_model("w", nodes=nodes), "b.onnx")
    assert layers[0].status == "unresolved" and "random" in layers[0].reason
    nodes = [h.make_node("Mul", ["wi", "k"], ["w"])]
    wi2 = h.make_tensor_value_info("wi", TensorProto.FLOAT, [4, 3, 3, 3])
    layers = layers_of(tmp_path, conv_model("w", nodes=nodes, inits=[init("k", np.float32(2))],
                                            extra_inputs=[wi2]), "c.onnx")
    assert layers[0].status == "unresolved" and "through Mul" in layers[0].reason


def test_same_weights_stored_differently_give_same_report(tmp_path):
    """fp32 initializer, fp16, external data, Constant node, QDQ int8 per channel: same S."""
    q, s = _quant(W, 0)
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


def test_followed_by_batchnorm_and_ids_for_unnamed_nodes(tmp_path):
    x = h.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])
    y = h.make_tensor_value_info("y", TensorProto.FLOAT, None)
    nodes = [h.make_node("Conv", ["x", "w"], ["c"]), h.make_node("Conv", ["c", "w2"], ["d"]),
             h.make_node("BatchNormalization", ["d", "g", "b", "m", "v"], ["y"])]
    inits = [init("w", W[:3]), init("w2", W[:3]), *(init(n, np.ones(3, np.float32)) for n in "gbmv")]
    m = h.make_model(h.make_graph(nodes, "g", [x], [y], initializer=inits),
                     opset_imports=[h.make_opsetid("", 17)])
    m.ir_version = 8
    layers = layers_of(tmp_path, m)
    assert [l.id for l in layers] == ["Conv_0", "Conv_1"]
    assert layers[1].followed_by == "BatchNormalization" and layers[0].followed_by == "Conv"


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


def test_conv_inside_loop_body_with_weight_from_body_constant(tmp_path):
    body_in = [h.make_tensor_value_info("i", TensorProto.INT64, []),
               h.make_tensor_value_info("cond_in", TensorProto.BOOL, []),
               h.make_tensor_value_info("state", TensorProto.FLOAT, [1, 4, 8, 8])]
    body_out = [h.make_tensor_value_info("cond_out", TensorProto.BOOL, []),
                h.make_tensor_value_info("state_out", TensorProto.FLOAT, [1, 4, 8, 8])]
    w4 = weight((4, 4, 3, 3), seed=3)
    body = h.make_graph([h.make_node("Identity", ["cond_in"], ["cond_out"]),
                         h.make_node("Constant", [], ["bw"], value=nh.from_array(w4, "bw")),
                         h.make_node("Conv", ["state", "bw"], ["state_out"], pads=[1, 1, 1, 1], name="loop_conv")],
                        "body", body_in, body_out)
    x = h.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4, 8, 8])
    y = h.make_tensor_value_info("y", TensorProto.FLOAT, None)
    g = h.make_graph([h.make_node("Loop", ["n", "c", "x"], ["y"], body=body)], "g", [x], [y],
                     initializer=[init("n", np.array(2, np.int64)), init("c", np.array(True))])
    m = h.make_model(g, opset_imports=[h.make_opsetid("", 17)])
    m.ir_version = 8
    layer = only_ok(layers_of(tmp_path, m))
    assert layer.path == "main/Loop.body" and layer.id == "loop_conv"
    np.testing.assert_array_equal(layer.weight, w4)


def test_convinteger_per_channel_scale_applied_after_the_conv(tmp_path):
    """Dynamic quantization: ConvInteger → Cast → Mul(·, x_scale · w_scale[c]); S must use w_scale."""
    scale = np.array([0.5, 2.0, 1.0, 4.0], np.float32)
    q = np.clip(np.round(W / scale[:, None, None, None] * 20) + 100, 0, 255).astype(np.uint8)
    inits = [init("q", q), init("wz", np.uint8(100)), init("xz", np.uint8(0)),
             init("ws", (scale / 20).reshape(1, 4, 1, 1))]
    nodes = [h.make_node("DynamicQuantizeLinear", ["x"], ["xu", "xs", "xzz"]),
             h.make_node("Mul", ["xs", "ws"], ["s"]),
             h.make_node("ConvInteger", ["xu", "q", "xz", "wz"], ["ci"], name="ci"),
             h.make_node("Cast", ["ci"], ["cf"], to=TensorProto.FLOAT),
             h.make_node("Mul", ["cf", "s"], ["y"])]
    x = h.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])
    y = h.make_tensor_value_info("y", TensorProto.FLOAT, None)
    m = h.make_model(h.make_graph(nodes, "g", [x], [y], initializer=inits), opset_imports=[h.make_opsetid("", 17)])
    m.ir_version = 8
    layer = only_ok(layers_of(tmp_path, m))
    expect = (q.astype(float) - 100) * (scale / 20)[:, None, None, None]
    np.testing.assert_allclose(layer.weight, expect, rtol=1e-6)
    assert "per-channel scale" in layer.weight_source
    assert s_of(layer) == pytest.approx(S_REF, abs=0.01)
