"""Tiny ONNX graphs built in code for the tests."""
import numpy as np
import onnx
from onnx import TensorProto, helper as h, numpy_helper as nh

OPSET = 21


def save(model, path):
    onnx.save(model, str(path))
    return path


def conv_model(w_name, nodes=(), inits=(), extra_inputs=(), op="Conv", conv_inputs=None,
               attrs=None, domain="", opset=OPSET, functions=(), channels=3, out_channels=None,
               graph_inputs_with_inits=()):
    """x [1, C, 8, 8] → (producer nodes) → op(x, w_name) → y."""
    x = h.make_tensor_value_info("x", TensorProto.FLOAT, [1, channels, 8, 8])
    y = h.make_tensor_value_info("y", TensorProto.FLOAT, None)
    conv = h.make_node(op, conv_inputs or ["x", w_name], ["y"], name="the_conv", domain=domain,
                       **(attrs or {}))
    graph = h.make_graph(list(nodes) + [conv], "g", [x, *extra_inputs, *graph_inputs_with_inits], [y],
                         initializer=list(inits))
    opsets = [h.make_opsetid("", opset)]
    if domain:
        opsets.append(h.make_opsetid(domain, 1))
    m = h.make_model(graph, opset_imports=opsets, functions=list(functions))
    m.ir_version = 10
    return m


def weight(shape=(4, 3, 3, 3), seed=0):
    rng = np.random.default_rng(seed)
    base = np.array([[1, 2, 1], [2, 4, 2], [1, 2, 1.0]]) if shape[2:] == (3, 3) else 0
    return (rng.standard_normal(shape) + base).astype(np.float32)


def init(name, arr):
    return nh.from_array(np.asarray(arr), name)


# --------------------------------------------------------------------------------------------
# Graphs of the padding diagnosis (and of the golden files): one layer, a stack, a UNet-like
# skip connection, a Loop, two image inputs
# --------------------------------------------------------------------------------------------
def model_y(nodes, inputs, inits=(), opset=19, functions=()):
    """A model of ``nodes`` whose one output is ``y`` (IR 9)."""
    g = h.make_graph(nodes, "g", inputs, [h.make_tensor_value_info("y", TensorProto.FLOAT, None)], list(inits))
    m = h.make_model(g, opset_imports=[h.make_opsetid("", opset)], functions=list(functions))
    m.ir_version = 9
    return m


def graph_model(nodes, inputs, outputs, inits=(), opset=17):
    """A model of ``nodes`` with the float outputs named in ``outputs`` (IR 8)."""
    g = h.make_graph(nodes, "g", inputs, [h.make_tensor_value_info(o, TensorProto.FLOAT, None) for o in outputs],
                     list(inits))
    m = h.make_model(g, opset_imports=[h.make_opsetid("", opset)])
    m.ir_version = 8
    return m


def rand_weight(name, cout, cin, *kernel, value=None):
    """A standard-normal float32 initializer [cout, cin, *kernel] (seed 0), or ``value``."""
    rng = np.random.default_rng(0)
    arr = rng.standard_normal((cout, cin, *kernel)).astype(np.float32) if value is None else value
    return nh.from_array(arr, name)


def layer_model(shape, kernel, strides, pads=None, auto_pad=None, dilations=None, cin=None, op="Conv",
                ceil_mode=None, output_padding=None):
    """input x (``shape``, NCHW-like) -> one op (named L0) -> y."""
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
        inits = [rand_weight("w", 4, cin, *kernel) if op == "Conv" else rand_weight("w", cin, 4, *kernel)]
        inputs = ["x", "w"]
    node = h.make_node(op, inputs, ["y"], name="L0", **attrs)
    return model_y([node], [h.make_tensor_value_info("x", TensorProto.FLOAT, list(shape))], inits)


def stack_model(shape, layers, layout="NCHW"):
    """A chain of layers: ("conv", k, s, p) / ("pool", k, s, p) (square kernels, symmetric pads;
    ``p`` an auto_pad string instead of an int)."""
    nodes, inits = [], []
    cur = "x"
    if layout == "NHWC":
        nodes.append(h.make_node("Transpose", ["x"], ["x_nchw"], perm=[0, 3, 1, 2], name="to_nchw"))
        cur = "x_nchw"
    c = 3
    for j, (kind, k, s, p) in enumerate(layers):
        out = "y" if j == len(layers) - 1 else f"t{j}"
        pads = dict(pads=[p] * 4) if isinstance(p, int) else dict(auto_pad=p)
        if kind == "conv":
            inits.append(rand_weight(f"w{j}", 8, c, k, k))
            nodes.append(h.make_node("Conv", [cur, f"w{j}"], [out], name=f"conv{j}", kernel_shape=[k, k],
                                     strides=[s, s], **pads))
            c = 8
        else:
            nodes.append(h.make_node("MaxPool", [cur], [out], name=f"pool{j}", kernel_shape=[k, k],
                                     strides=[s, s], **pads))
        cur = out
    return model_y(nodes, [h.make_tensor_value_info("x", TensorProto.FLOAT, list(shape))], inits)


#: the stem of a ResNet: conv7/2 p3, maxpool3/2 p1, conv3/2 p1 three times
RESNET_STEM = [("conv", 7, 2, 3), ("pool", 3, 2, 1), ("conv", 3, 2, 1), ("conv", 3, 2, 1), ("conv", 3, 2, 1)]


def unet_like(up):
    """x (1x3xHxW) -> skip = Conv1x1(x) (H); Conv k3 s2 p1 (ceil(H/2)) -> Conv k3 s1 -> upsample
    x2 -> Add(skip).

    ``up="resize"``: nearest Resize x2 gives 2*ceil(H/2): the Add fits only at even H, where the
    stride-2 conv pads unevenly (1/0), so no size is both even and runnable; at odd H (e.g. 65,
    where the conv pads 1/1) onnxruntime fails. Anything else: ConvTranspose k3 s2 p1 gives
    2*ceil(H/2)-1: the Add fits only at odd H, exactly where the conv pads evenly.
    """
    x = h.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, "H", "W"])
    inits = [rand_weight("ws", 4, 3, 1, 1), rand_weight("wd", 4, 3, 3, 3), rand_weight("wc", 4, 4, 3, 3)]
    nodes = [h.make_node("Conv", ["x", "ws"], ["skip"], name="skip"),
             h.make_node("Conv", ["x", "wd"], ["d"], pads=[1, 1, 1, 1], strides=[2, 2], name="down"),
             h.make_node("Conv", ["d", "wc"], ["c"], pads=[1, 1, 1, 1], name="mid")]
    if up == "resize":
        inits.append(nh.from_array(np.array([1, 1, 2, 2], np.float32), "scales"))
        nodes.append(h.make_node("Resize", ["c", "", "scales"], ["u"], mode="nearest", name="up"))
    else:
        inits.append(rand_weight("wt", 4, 4, 3, 3))
        nodes.append(h.make_node("ConvTranspose", ["c", "wt"], ["u"], pads=[1, 1, 1, 1], strides=[2, 2],
                                 name="up"))
    nodes.append(h.make_node("Add", ["u", "skip"], ["y"], name="join"))
    return graph_model(nodes, [x], ["y"], inits)


def loop_model(stride):
    """x8 [1, 8, 32, 32] -> Loop (3 iterations) whose body convolves the carried value (k3 p1,
    ``stride``)."""
    body = h.make_graph(
        [h.make_node("Identity", ["c_in"], ["c_out"]),
         h.make_node("Conv", ["xs", "w"], ["xs_out"], pads=[1, 1, 1, 1], strides=[stride, stride],
                     name="loop_conv")],
        "body",
        [h.make_tensor_value_info("i", TensorProto.INT64, []),
         h.make_tensor_value_info("c_in", TensorProto.BOOL, []),
         h.make_tensor_value_info("xs", TensorProto.FLOAT, [1, 8, 32, 32])],
        [h.make_tensor_value_info("c_out", TensorProto.BOOL, []),
         h.make_tensor_value_info("xs_out", TensorProto.FLOAT, [1, 8, 32, 32])])
    return graph_model([h.make_node("Loop", ["n", "", "x8"], ["y"], body=body, name="loop")],
                       [h.make_tensor_value_info("x8", TensorProto.FLOAT, [1, 8, 32, 32])], ["y"],
                       [rand_weight("w", 8, 8, 3, 3), nh.from_array(np.array(3, np.int64), "n")])


def two_input_model(shape_a, shape_b, join=False):
    """Image inputs a and b, each through its own stride-2 conv (ca, cb; one shared weight),
    added together when ``join``."""
    a = h.make_tensor_value_info("a", TensorProto.FLOAT, shape_a)
    b = h.make_tensor_value_info("b", TensorProto.FLOAT, shape_b)
    nodes = [h.make_node("Conv", ["a", "w"], ["ya"], pads=[1, 1, 1, 1], strides=[2, 2], name="ca"),
             h.make_node("Conv", ["b", "w"], ["yb"], pads=[1, 1, 1, 1], strides=[2, 2], name="cb")]
    outs = ["ya", "yb"]
    if join:
        nodes.append(h.make_node("Add", ["ya", "yb"], ["y"], name="join"))
        outs = ["y"]
    return graph_model(nodes, [a, b], outs, [rand_weight("w", 4, 3, 3, 3)])


# --------------------------------------------------------------------------------------------
# A small classifier saved to a file (audit and compare)
# --------------------------------------------------------------------------------------------
def classifier_file(tmp_path, name="clf.onnx", seed=0, rename="", size=(32, 32)):
    """x [N,3,32,32] → Conv 3×3 s2 → Relu → Conv 3×3 → GlobalAveragePool → Flatten → Gemm → [N,10],
    saved as ``tmp_path / name``."""
    rng = np.random.default_rng(seed)
    x = h.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 3, *size])
    y = h.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 10])
    nodes = [h.make_node("Conv", ["x", "w1"], ["a"], strides=[2, 2], pads=[1, 1, 1, 1], name=f"{rename}c1"),
             h.make_node("Relu", ["a"], ["b"]),
             h.make_node("Conv", ["b", "w2"], ["c"], pads=[1, 1, 1, 1], name=f"{rename}c2"),
             h.make_node("GlobalAveragePool", ["c"], ["d"]),
             h.make_node("Flatten", ["d"], ["e"]),
             h.make_node("Gemm", ["e", "fc"], ["y"])]
    inits = [init("w1", weight((8, 3, 3, 3), seed)), init("w2", weight((16, 8, 3, 3), seed + 1)),
             init("fc", rng.standard_normal((16, 10)).astype(np.float32))]
    m = h.make_model(h.make_graph(nodes, "g", [x], [y], initializer=inits), opset_imports=[h.make_opsetid("", 17)])
    m.ir_version = 8
    return save(m, tmp_path / name)


# --------------------------------------------------------------------------------------------
# Conv layers of a graph saved to a file (weights layers, load-time constants)
# --------------------------------------------------------------------------------------------
def conv_layers(tmp_path, model, name="m.onnx", **kw):
    """The conv layers of ``model`` (saved as ``tmp_path / name``; ``external=True``: its tensors
    as external data) with their weights resolved."""
    from onnxsym.model.loading import load_model
    from onnxsym.weights.layers import find_conv_layers

    if kw.get("external"):
        onnx.save(model, str(tmp_path / name), save_as_external_data=True, all_tensors_to_one_file=True,
                  location="w.bin", size_threshold=0)
    else:
        save(model, tmp_path / name)
    return find_conv_layers(load_model(tmp_path / name))


def only_ok(layers):
    """The one layer of ``layers``, whose weight resolved."""
    assert len(layers) == 1, layers
    layer = layers[0]
    assert layer.status == "ok", layer.reason
    return layer


def quantize(w, axis=None):
    """(int8 values, scale) of ``w``: symmetric, per tensor or per output channel (``axis`` 0)."""
    if axis is None:
        scale = np.float32(np.abs(w).max() / 127)
        return np.round(w / scale).astype(np.int8), scale
    scale = (np.abs(w).reshape(w.shape[0], -1).max(1) / 127).astype(np.float32)
    return np.round(w / scale[:, None, None, None]).astype(np.int8), scale
