"""Tiny ONNX models built in code for the runtime / images / consistency tests (IR 10, opset 17)."""
from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto as T
from onnx import helper as h
from onnx import numpy_helper

IR, OPSET = 10, 17


def _model(nodes, inputs, outputs, inits=(), ir=IR, opset=OPSET, extra_opsets=()):
    g = h.make_graph(nodes, "g", inputs, outputs, initializer=list(inits))
    m = h.make_model(g, opset_imports=[h.make_opsetid("", opset), *extra_opsets])
    m.ir_version = ir
    return m


def _w(name, arr):
    return numpy_helper.from_array(np.asarray(arr, np.float32), name)


def gap_linear(size=32, classes=5, seed=0, layout="NCHW", batch="N", elem=T.FLOAT, softmax=False,
               spatial_symbolic=False):
    """Global average pool -> linear: exactly invariant to mirroring (not to cropping)."""
    rng = np.random.default_rng(seed)
    hw = ["H", "W"] if spatial_symbolic else [size, size]
    shape = [batch, 3, *hw] if layout == "NCHW" else [batch, *hw, 3]
    axes = [2, 3] if layout == "NCHW" else [1, 2]
    nodes = []
    src = "x"
    if elem != T.FLOAT:
        nodes.append(h.make_node("Cast", ["x"], ["xf"], to=T.FLOAT))
        src = "xf"
    nodes += [
        h.make_node("ReduceMean", [src], ["m"], axes=axes, keepdims=0),
        h.make_node("Gemm", ["m", "W", "b"], ["logits" if not softmax else "z"]),
    ]
    if softmax:
        nodes.append(h.make_node("Softmax", ["z"], ["logits"], axis=1))
    W = rng.normal(size=(3, classes)) * 4
    b = rng.normal(size=classes) * 0.1
    return _model(nodes, [h.make_tensor_value_info("x", elem, shape)],
                  [h.make_tensor_value_info("logits", T.FLOAT, [batch, classes])],
                  [_w("W", W), _w("b", b)])


def constant_class(size=32, classes=5):
    """A classifier whose bias swamps its input: every image gets class 0 (agreement is chance)."""
    nodes = [h.make_node("ReduceMean", ["x"], ["m"], axes=[2, 3], keepdims=0),
             h.make_node("Gemm", ["m", "W", "b"], ["logits"])]
    b = np.zeros(classes)
    b[0] = 1000.0
    return _model(nodes, [h.make_tensor_value_info("x", T.FLOAT, ["N", 3, size, size])],
                  [h.make_tensor_value_info("logits", T.FLOAT, ["N", classes])],
                  [_w("W", np.full((3, classes), 0.01)), _w("b", b)])


def corner_pixel(size=32, classes=10, seed=0):
    """Reads only the top-left pixel: its top-1 follows whatever lands in that corner."""
    rng = np.random.default_rng(seed)
    nodes = [
        h.make_node("Slice", ["x", "starts", "ends", "axes"], ["c"]),
        h.make_node("Flatten", ["c"], ["f"], axis=1),
        h.make_node("Gemm", ["f", "W", "b"], ["logits"]),
    ]
    inits = [numpy_helper.from_array(np.array([0, 0], np.int64), "starts"),
             numpy_helper.from_array(np.array([1, 1], np.int64), "ends"),
             numpy_helper.from_array(np.array([2, 3], np.int64), "axes"),
             _w("W", rng.normal(size=(3, classes)) * 10), _w("b", np.zeros(classes))]
    return _model(nodes, [h.make_tensor_value_info("x", T.FLOAT, ["N", 3, size, size])],
                  [h.make_tensor_value_info("logits", T.FLOAT, ["N", classes])], inits)


def pointwise_conv(size=32, channels=4, seed=0):
    """A 1x1 convolution: a spatial output [B, C, H, W], exactly shift- and mirror-equivariant."""
    rng = np.random.default_rng(seed)
    nodes = [h.make_node("Conv", ["x", "W"], ["y"], kernel_shape=[1, 1])]
    return _model(nodes, [h.make_tensor_value_info("x", T.FLOAT, ["N", 3, size, size])],
                  [h.make_tensor_value_info("y", T.FLOAT, ["N", channels, size, size])],
                  [_w("W", rng.normal(size=(channels, 3, 1, 1)))])


def embedding(size=32, seed=0, offset=0.0, corner=False):
    """Output [B, 2, 4]: neither classifier nor spatial - compared by cosine similarity.

    ``offset``: a constant added to every output value (outputs of any two images become more
    parallel). ``corner``: embed the top-left pixel instead of the mean; on noise photos a shifted
    crop's corner is as unrelated as another photo's, so consistency is at the chance level."""
    rng = np.random.default_rng(seed)
    nodes = ([h.make_node("Slice", ["x", "starts", "ends", "axes"], ["c1"]),
              h.make_node("Flatten", ["c1"], ["m"], axis=1)] if corner else
             [h.make_node("ReduceMean", ["x"], ["m"], axes=[2, 3], keepdims=0)])
    nodes += [h.make_node("Gemm", ["m", "W", "c"], ["e"]),
             h.make_node("Reshape", ["e", "shape"], ["y"])]
    inits = [_w("W", rng.normal(size=(3, 8))), _w("c", np.full(8, float(offset))),
             numpy_helper.from_array(np.array([-1, 2, 4], np.int64), "shape"),
             numpy_helper.from_array(np.array([0, 0], np.int64), "starts"),
             numpy_helper.from_array(np.array([1, 1], np.int64), "ends"),
             numpy_helper.from_array(np.array([2, 3], np.int64), "axes")]
    return _model(nodes, [h.make_tensor_value_info("x", T.FLOAT, ["N", 3, size, size])],
                  [h.make_tensor_value_info("y", T.FLOAT, ["N", 2, 4])], inits)


def noisy(size=32, classes=10):
    """Adds fresh random noise each run: identical inputs do not give identical answers."""
    nodes = [h.make_node("ReduceMean", ["x"], ["m"], axes=[2, 3], keepdims=0),
             h.make_node("Gemm", ["m", "W"], ["z"]),
             h.make_node("RandomUniformLike", ["z"], ["r"], low=-100.0, high=100.0),
             h.make_node("Add", ["z", "r"], ["logits"])]
    return _model(nodes, [h.make_tensor_value_info("x", T.FLOAT, ["N", 3, size, size])],
                  [h.make_tensor_value_info("logits", T.FLOAT, ["N", classes])],
                  [_w("W", np.ones((3, classes)))])


def vector_input():
    nodes = [h.make_node("Relu", ["x"], ["y"])]
    return _model(nodes, [h.make_tensor_value_info("x", T.FLOAT, ["N", 10])],
                  [h.make_tensor_value_info("y", T.FLOAT, ["N", 10])])


def two_inputs(size=32):
    nodes = [h.make_node("ReduceMean", ["x"], ["m"], axes=[2, 3], keepdims=0),
             h.make_node("Mul", ["m", "s"], ["logits"])]
    return _model(nodes, [h.make_tensor_value_info("x", T.FLOAT, ["N", 3, size, size]),
                          h.make_tensor_value_info("s", T.FLOAT, [1, 3])],
                  [h.make_tensor_value_info("logits", T.FLOAT, ["N", 3])])


def two_inputs_batched(size=32):
    """A second input with the batch dimension: scale [N, 3] (fed as one row, repeated)."""
    nodes = [h.make_node("ReduceMean", ["x"], ["m"], axes=[2, 3], keepdims=0),
             h.make_node("Mul", ["m", "s"], ["logits"])]
    return _model(nodes, [h.make_tensor_value_info("x", T.FLOAT, ["N", 3, size, size]),
                          h.make_tensor_value_info("s", T.FLOAT, ["N", 3])],
                  [h.make_tensor_value_info("logits", T.FLOAT, ["N", 3])])


def temperature(size=32, classes=4, seed=0):
    """GAP -> linear -> divided by a temperature input [1, 1] (like /tmp/review45/two.onnx)."""
    rng = np.random.default_rng(seed)
    nodes = [h.make_node("ReduceMean", ["x"], ["m"], axes=[2, 3], keepdims=0),
             h.make_node("Gemm", ["m", "W"], ["z"]),
             h.make_node("Div", ["z", "temp"], ["logits"])]
    return _model(nodes, [h.make_tensor_value_info("x", T.FLOAT, ["N", 3, size, size]),
                          h.make_tensor_value_info("temp", T.FLOAT, [1, 1])],
                  [h.make_tensor_value_info("logits", T.FLOAT, ["N", classes])],
                  [_w("W", rng.normal(size=(3, classes)))])


def binary(size=32, sigmoid=True, corner=False, rank=2, seed=0, bias=0.0):
    """One score per input ([N, 1], rank=1: [N]): a probability (sigmoid) or a logit.

    corner=False: global average pool -> linear, exactly mirror-invariant. corner=True: reads the
    top-left pixel only, so its class follows whatever lands in that corner."""
    rng = np.random.default_rng(seed)
    if corner:
        nodes = [h.make_node("Slice", ["x", "starts", "ends", "axes"], ["c"]),
                 h.make_node("Flatten", ["c"], ["f"], axis=1)]
        inits = [numpy_helper.from_array(np.array([0, 0], np.int64), "starts"),
                 numpy_helper.from_array(np.array([1, 1], np.int64), "ends"),
                 numpy_helper.from_array(np.array([2, 3], np.int64), "axes")]
        W = np.array([[4.0], [0.0], [0.0]])
    else:
        nodes = [h.make_node("ReduceMean", ["x"], ["f"], axes=[2, 3], keepdims=0)]
        inits = []
        W = rng.normal(size=(3, 1)) * 4
    nodes.append(h.make_node("Gemm", ["f", "W", "b"], ["z" if (sigmoid or rank == 1) else "y"]))
    inits += [_w("W", W), _w("b", [bias])]
    last = "z"
    if sigmoid:
        nodes.append(h.make_node("Sigmoid", ["z"], ["p" if rank == 1 else "y"]))
        last = "p"
    if rank == 1:
        nodes.append(h.make_node("Reshape", [last, "shape1"], ["y"]))
        inits.append(numpy_helper.from_array(np.array([-1], np.int64), "shape1"))
    out_shape = ["N"] if rank == 1 else ["N", 1]
    return _model(nodes, [h.make_tensor_value_info("x", T.FLOAT, ["N", 3, size, size])],
                  [h.make_tensor_value_info("y", T.FLOAT, out_shape)], inits)


def detector(size=32, threshold=2.0, gain=20.0):
    """A "text detector" probability map [N, 1, H, W]: sigmoid(gain * (red - threshold)) of the
    ImageNet-normalised red channel. Near-white pixels respond (p ~ 1); elsewhere p ~ 1e-17."""
    nodes = [h.make_node("Conv", ["x", "W", "B"], ["z"], kernel_shape=[1, 1]),
             h.make_node("Sigmoid", ["z"], ["y"])]
    W = np.zeros((1, 3, 1, 1))
    W[0, 0] = gain
    return _model(nodes, [h.make_tensor_value_info("x", T.FLOAT, ["N", 3, size, size])],
                  [h.make_tensor_value_info("y", T.FLOAT, ["N", 1, size, size])],
                  [_w("W", W), _w("B", [-gain * threshold])])


def unsupported_op(size=32):
    nodes = [h.make_node("NoSuchOp", ["x"], ["y"], domain="org.example")]
    return _model(nodes, [h.make_tensor_value_info("x", T.FLOAT, ["N", 3, size, size])],
                  [h.make_tensor_value_info("y", T.FLOAT, ["N", 3])],
                  extra_opsets=[h.make_opsetid("org.example", 1)])


def random_images(n=6, hw=(48, 60), seed=0):
    """uint8 noise photos [n, H, W, 3]."""
    return np.random.default_rng(seed).integers(0, 256, size=(n, *hw, 3), dtype=np.uint8)


def smooth_images(n=6, hw=(48, 60), seed=0):
    """Smooth colour gradients: a GAP classifier is nearly shift-invariant on them."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:hw[0], 0:hw[1]] / max(hw)
    out = []
    for _ in range(n):
        c = rng.uniform(0, 255, size=(3, 3))
        img = c[:, 0] + c[:, 1] * yy[..., None] * 0.3 + c[:, 2] * xx[..., None] * 0.3
        out.append(np.clip(img, 0, 255).astype(np.uint8))
    return np.stack(out)


def dark_images(n=4, hw=(64, 64), seed=0):
    """Noise photos with no bright pixel (0-150): the detector above sees nothing."""
    return np.random.default_rng(seed).integers(0, 150, size=(n, *hw, 3), dtype=np.uint8)


def bright_blob_images(n=4, hw=(64, 64), seed=1):
    """Dark noise with a white square in the middle (inside every crop): the detector responds."""
    imgs = dark_images(n, hw, seed)
    cy, cx = hw[0] // 2, hw[1] // 2
    for k, img in enumerate(imgs):
        r = 6 + 2 * k
        img[cy - r:cy + r, cx - r:cx + r + k] = 255
    return imgs


def save(model, path):
    onnx.save(model, str(path))
    return str(path)


def imageset(arr, source="in-memory test images"):
    """An ImageSet of uint8 arrays [N, H, W, 3] (no file needed)."""
    from onnxsym.consistency.images import ImageSet

    return ImageSet(names=[f"img{i}" for i in range(len(arr))],
                    sources=[np.ascontiguousarray(a) for a in arr], source=source)


# ------------------------------------------------------------------------------------------------
# A consistency run's per-image records and its images, for the renderers and the thumbnails
# ------------------------------------------------------------------------------------------------
#: per-image records of a cosine-similarity run (``ConsistencyReport.to_dict()["per_image"]``)
PER_IMAGE_COSINE = [{"name": f"p{i}.jpg", "shift_agree": None, "shift_pairs": 5, "shift_mean": m, "flip": f,
                     "top1": None, "flat": False}
                    for i, (m, f) in enumerate([(0.962, 0.956), (0.947, 0.932), (0.995, 0.987), (0.913, 0.952),
                                                (0.981, 0.940), (0.986, 0.976)])]


class FakeImages:
    """An ImageSet stand-in: the names of PER_IMAGE_COSINE and two more, flat grey images."""

    names = [p["name"] for p in PER_IMAGE_COSINE] + ["a.jpg", "b.jpg"]

    def load(self, i):
        return np.full((40, 60, 3), 30 * i, np.uint8)
