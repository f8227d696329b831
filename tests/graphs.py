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
