"""onnxsym.model.constants: load-time values — initializers (dense, sparse, external), Constant
nodes and chains of deterministic ops over them folded by onnx's reference evaluator; values that
depend on a runtime input or a random op are NotConstant with the reason; the folding budget."""
import re

import numpy as np
import pytest
from onnx import TensorProto, helper as h, numpy_helper as nh

import naive
from graphs import conv_layers, conv_model, init, only_ok, quantize, weight
from onnxsym.model.constants import FOLD_FLOOR, Constants, NotConstant, default_opset
from onnxsym.model.graph import Graph
from onnxsym.model.source import open_model


W = weight()


S_REF = naive.symmetry(naive.mean_kernel(W))[0]


def s_of(layer):
    return naive.symmetry(naive.mean_kernel(layer.weight))[0]


def test_initializer_listed_as_graph_input_is_overridable(tmp_path):
    wi = h.make_tensor_value_info("w", TensorProto.FLOAT, list(W.shape))
    layer = only_ok(conv_layers(tmp_path, conv_model("w", inits=[init("w", W)], graph_inputs_with_inits=[wi])))
    assert layer.overridable and "override" in layer.weight_source


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
    layer = only_ok(conv_layers(tmp_path, conv_model("w", nodes=nodes)))
    expect = W if kind != "sparse_value" else np.where(W < 0.5, 0, W)
    np.testing.assert_allclose(layer.weight, expect, rtol=1e-7)


def test_nhwc_style_transpose_cast_chain(tmp_path):
    hwio = np.transpose(W, (2, 3, 1, 0)).astype(np.float16)  # TF layout, stored in half
    nodes = [h.make_node("Cast", ["w16"], ["w32"], to=TensorProto.FLOAT),
             h.make_node("Transpose", ["w32"], ["w"], perm=[3, 2, 0, 1])]
    layer = only_ok(conv_layers(tmp_path, conv_model("w", nodes=nodes, inits=[init("w16", hwio)])))
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
    layer = only_ok(conv_layers(tmp_path, conv_model("w", nodes=nodes, inits=inits)))
    np.testing.assert_allclose(layer.weight, W, rtol=1e-6)


@pytest.mark.parametrize("mode", ["tensor", "axis", "uint8", "blocked", "int4", "uint4", "fp8"])
def test_dequantize_linear_variants(tmp_path, mode):
    if mode in ("tensor", "axis"):
        q, s = quantize(W, None if mode == "tensor" else 0)
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
        q, _ = quantize(W)
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
    layer = only_ok(conv_layers(tmp_path, conv_model("w", nodes=nodes, inits=inits)))
    assert "DequantizeLinear" in layer.weight_source
    assert layer.weight.shape == W.shape
    assert s_of(layer) == pytest.approx(S_REF, abs=tol)


def test_runtime_and_random_weights_are_unresolved_with_reason(tmp_path):
    wi = h.make_tensor_value_info("w", TensorProto.FLOAT, [4, 3, 3, 3])
    layers = conv_layers(tmp_path, conv_model("w", extra_inputs=[wi]), "a.onnx")
    assert layers[0].status == "unresolved" and "graph input 'w'" in layers[0].reason
    nodes = [h.make_node("RandomNormal", [], ["w"], shape=[4, 3, 3, 3])]
    layers = conv_layers(tmp_path, conv_model("w", nodes=nodes), "b.onnx")
    assert layers[0].status == "unresolved" and "random" in layers[0].reason
    nodes = [h.make_node("Mul", ["wi", "k"], ["w"])]
    wi2 = h.make_tensor_value_info("wi", TensorProto.FLOAT, [4, 3, 3, 3])
    layers = conv_layers(tmp_path, conv_model("w", nodes=nodes, inits=[init("k", np.float32(2))],
                                            extra_inputs=[wi2]), "c.onnx")
    assert layers[0].status == "unresolved" and "through Mul" in layers[0].reason


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
    layer = only_ok(conv_layers(tmp_path, m))
    assert layer.path == "main/Loop.body" and layer.id == "loop_conv"
    np.testing.assert_array_equal(layer.weight, w4)


# ---- Constants called directly ------------------------------------------------------------------
def _constants(model):
    loaded = open_model(model)
    return Constants(loaded), (loaded.model.graph,)


def test_folded_values_are_memoised_and_forgotten():
    nodes = [h.make_node("Mul", ["w0", "two"], ["w"])]
    c, scopes = _constants(conv_model("w", nodes=nodes, inits=[init("w0", W), init("two", np.float32(2))]))
    arr, src, overridable = c.resolve("w", scopes)
    np.testing.assert_array_equal(arr, W * 2)
    assert src == "Mul(initializer 'w0' (inline), initializer 'two' (inline))" and overridable is False
    assert c.resolve("w", scopes)[0] is arr                     # memoised
    c.forget_folded()
    again = c.resolve("w", scopes)[0]
    assert again is not arr and np.array_equal(again, arr)      # folded anew
    assert c.resolve("w0", scopes)[0] is c.resolve("w0", scopes)[0]   # a view of the file stays


def test_values_that_are_not_constant_say_why():
    nodes = [h.make_node("Constant", [], ["k"], value_int=3),
             h.make_node("If", ["cond"], ["w"], then_branch=h.make_graph([], "t", [], []),
                         else_branch=h.make_graph([], "e", [], [])),
             h.make_node("Custom", ["k"], ["v"], domain="my.ops")]
    c, scopes = _constants(conv_model("w", nodes=nodes))
    k, src, _ = c.resolve("k", scopes)
    assert k.dtype == np.int64 and k.tolist() == 3 and src == "Constant node 'k'"
    for name, why in (("w", "weight is produced by control-flow op If"),
                      ("v", "weight is produced by my.ops.Custom, which onnxsym does not fold"),
                      ("nope", "value 'nope' is not produced by any node, initializer or input"),
                      ("", "the weight input is empty"), ("x", "weight comes from graph input 'x' at run time")):
        with pytest.raises(NotConstant, match=f"^{re.escape(why)}$"):
            c.resolve(name, scopes)


def test_folding_is_budgeted_before_it_allocates():
    # the file's largest tensor is tiny: a folded value may hold FOLD_FLOOR values, no more
    nodes = [h.make_node("Expand", ["one", "shape"], ["w"])]
    inits = [init("one", np.ones(1, np.float32)), init("shape", np.array([FOLD_FLOOR + 1], np.int64))]
    c, scopes = _constants(conv_model("w", nodes=nodes, inits=inits))
    assert c.cap == FOLD_FLOOR
    with pytest.raises(NotConstant, match=f"folding Expand would create a tensor of {FOLD_FLOOR + 1:,} values"):
        c.resolve("w", scopes)


def test_default_opset():
    m = conv_model("w", inits=[init("w", W)], opset=13)
    assert default_opset(m) == 13
    m.opset_import[0].domain = "ai.onnx"
    assert default_opset(m) == 13
    del m.opset_import[:]
    assert default_opset(m) == 17
    assert Graph(conv_model("w", inits=[init("w", W)])).nodes[0].id == "the_conv"
