"""onnxsym.weights.layers: every conv-like node found, its geometry, and its weight resolved the way
its op needs (QLinearConv and ConvInteger dequantized, ConvTranspose, grouped, in subgraphs and
functions); the folding itself is tested in test_model_constants.py."""
import re

import numpy as np
import pytest
from onnx import TensorProto, helper as h, numpy_helper as nh

import naive
from graphs import conv_layers, conv_model, init, only_ok, quantize, save, weight
from onnxsym.model.loading import load_model
from onnxsym.weights.layers import SHARED_LIST_MAX, find_conv_layers, iter_conv_layers


W = weight()


S_REF = naive.symmetry(naive.mean_kernel(W))[0]


def s_of(layer):
    return naive.symmetry(naive.mean_kernel(layer.weight))[0]


def test_plain_initializer(tmp_path):
    layer = only_ok(conv_layers(tmp_path, conv_model("w", inits=[init("w", W)])))
    np.testing.assert_array_equal(layer.weight, W)
    assert layer.weight_shape == (4, 3, 3, 3) and layer.kernel_shape == (3, 3)
    assert "initializer 'w'" in layer.weight_source and not layer.overridable
    assert layer.id == "the_conv" and layer.path == "main"


def test_external_data(tmp_path):
    layer = only_ok(conv_layers(tmp_path, conv_model("w", inits=[init("w", W)]), external=True))
    np.testing.assert_array_equal(layer.weight, W)
    assert "external" in layer.weight_source


def test_qlinearconv_per_channel(tmp_path):
    q, s = quantize(W, 0)
    inits = [init("xs", np.float32(0.1)), init("xz", np.uint8(128)), init("q", q), init("ws", s),
             init("wz", np.zeros(4, np.int8)), init("ys", np.float32(0.1)), init("yz", np.uint8(128))]
    nodes = [h.make_node("QuantizeLinear", ["x", "xs", "xz"], ["xq"])]
    m = conv_model("q", nodes=nodes, inits=inits, op="QLinearConv",
                   conv_inputs=["xq", "xs", "xz", "q", "ws", "wz", "ys", "yz"])
    layer = only_ok(conv_layers(tmp_path, m))
    np.testing.assert_allclose(layer.weight, q * s[:, None, None, None], rtol=1e-6)
    assert s_of(layer) == pytest.approx(S_REF, abs=0.01)
    assert layer.op_type == "QLinearConv" and layer.weight_dtype == "int8"


def test_convinteger_zero_point(tmp_path):
    q = np.clip(np.round(W * 20) + 100, 0, 255).astype(np.uint8)
    inits = [init("q", q), init("wz", np.uint8(100)), init("xz", np.uint8(0))]
    nodes = [h.make_node("Cast", ["x"], ["xu"], to=TensorProto.UINT8)]
    m = conv_model("q", nodes=nodes, inits=inits, op="ConvInteger", conv_inputs=["xu", "q", "xz", "wz"])
    layer = only_ok(conv_layers(tmp_path, m))
    np.testing.assert_allclose(layer.weight, q.astype(float) - 100)


def test_convtranspose_grouped_depthwise_fusedconv(tmp_path):
    wt = weight((3, 2, 3, 3))
    m = conv_model("w", inits=[init("w", wt)], op="ConvTranspose", attrs={"strides": [2, 2]})
    layer = only_ok(conv_layers(tmp_path, m, "t.onnx"))
    assert layer.transposed and layer.weight_shape == (3, 2, 3, 3) and layer.strides == (2, 2)
    dw = weight((3, 1, 3, 3))
    layer = only_ok(conv_layers(tmp_path, conv_model("w", inits=[init("w", dw)], attrs={"group": 3}), "d.onnx"))
    assert layer.depthwise and layer.group == 3
    m = conv_model("w", inits=[init("w", W)], op="FusedConv", domain="com.microsoft",
                   attrs={"activation": "Relu"})
    layer = only_ok(conv_layers(tmp_path, m, "f.onnx"))
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
    layers = conv_layers(tmp_path, m)
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
    layer = only_ok(conv_layers(tmp_path, m))
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


def test_followed_by_batchnorm_and_ids_for_unnamed_nodes(tmp_path):
    x = h.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])
    y = h.make_tensor_value_info("y", TensorProto.FLOAT, None)
    nodes = [h.make_node("Conv", ["x", "w"], ["c"]), h.make_node("Conv", ["c", "w2"], ["d"]),
             h.make_node("BatchNormalization", ["d", "g", "b", "m", "v"], ["y"])]
    inits = [init("w", W[:3]), init("w2", W[:3]), *(init(n, np.ones(3, np.float32)) for n in "gbmv")]
    m = h.make_model(h.make_graph(nodes, "g", [x], [y], initializer=inits),
                     opset_imports=[h.make_opsetid("", 17)])
    m.ir_version = 8
    layers = conv_layers(tmp_path, m)
    assert [l.id for l in layers] == ["Conv_0", "Conv_1"]
    assert layers[1].followed_by == "BatchNormalization" and layers[0].followed_by == "Conv"


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
    layer = only_ok(conv_layers(tmp_path, m))
    expect = (q.astype(float) - 100) * (scale / 20)[:, None, None, None]
    np.testing.assert_allclose(layer.weight, expect, rtol=1e-6)
    assert "per-channel scale" in layer.weight_source
    assert s_of(layer) == pytest.approx(S_REF, abs=0.01)


def test_a_weight_shared_by_many_convs_lists_a_few_and_counts_all(tmp_path):
    x = h.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])
    outs = [h.make_tensor_value_info(f"y{k}", TensorProto.FLOAT, None) for k in range(10)]
    nodes = [h.make_node("Conv", ["x", "w"], [f"y{k}"], name=f"c{k}") for k in range(10)]
    m = h.make_model(h.make_graph(nodes, "g", [x], outs, initializer=[init("w", W)]),
                     opset_imports=[h.make_opsetid("", 17)])
    m.ir_version = 8
    layers = conv_layers(tmp_path, m)
    assert all(l.shared_count == 9 for l in layers)
    assert layers[0].shared_with == [f"c{k}" for k in range(1, SHARED_LIST_MAX + 1)]
    assert layers[9].shared_with == [f"c{k}" for k in range(SHARED_LIST_MAX)]
    assert all(len(l.shared_with) == SHARED_LIST_MAX for l in layers)


@pytest.mark.parametrize("attrs,weight,reason", [
    ({"kernel_shape": [3.0, 3.0]}, W, "attribute kernel_shape is not a list of integers"),
    ({"group": 1.5}, W, "attribute group is not an integer"),
    ({"kernel_shape": [5, 5]}, W, r"kernel_shape \[5, 5\] does not match the weight's kernel \[3, 3\]"),
    ({}, W[:, :, 0, 0], r"weight has shape \(4, 3\), not \[N, C, k...\]"),
    ({}, W.reshape(4, 3, 3, 3, 1, 1), "weight has 4 spatial axes; onnxsym handles 1 to 3"),
])
def test_layers_that_cannot_be_analysed_say_why(tmp_path, attrs, weight, reason):
    (layer,) = conv_layers(tmp_path, conv_model("w", inits=[init("w", weight)], attrs=attrs))
    assert layer.status == "unresolved" and layer.weight is None
    assert re.search(reason, layer.reason), layer.reason


def test_iter_conv_layers_is_find_conv_layers_one_at_a_time(tmp_path):
    x = h.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])
    y = h.make_tensor_value_info("y", TensorProto.FLOAT, None)
    nodes = [h.make_node("Conv", ["x", "w1"], ["a"], name="c1", pads=[1, 1, 1, 1]),
             h.make_node("ConvTranspose", ["a", "w2"], ["y"], name="c2", group=4)]
    inits = [init("w1", W), init("w2", weight((4, 1, 5, 5), seed=3))]
    m = h.make_model(h.make_graph(nodes, "g", [x], [y], initializer=inits), opset_imports=[h.make_opsetid("", 17)])
    m.ir_version = 8
    loaded = load_model(save(m, tmp_path / "two.onnx"))
    listed = find_conv_layers(loaded)
    walked = list(iter_conv_layers(loaded))
    assert [l.id for l in listed] == [l.id for l in walked] == ["c1", "c2"]
    assert listed[1].transposed and listed[1].depthwise and listed[1].group == 4   # [C_in = g, 1, k, k]
    assert listed[0].followed_by == "ConvTranspose" and listed[1].followed_by == ""
    assert listed[0].pads == (1, 1, 1, 1) and listed[1].kernel_shape == (5, 5)
    np.testing.assert_array_equal(walked[1].weight, weight((4, 1, 5, 5), seed=3))
