"""Checks on the models and photos shipped in models/ and onnxsym/samples/.

Uses onnx, onnxruntime (CPU), numpy and Pillow only: no torch, TensorFlow or scikit-image.
"""
from __future__ import annotations

import json
import os
from collections import Counter

import numpy as np
import onnx
import pytest
from onnx import numpy_helper

ort = pytest.importorskip("onnxruntime")
from PIL import Image  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODELS = os.path.join(ROOT, "models")
SAMPLES = os.path.join(ROOT, "onnxsym", "samples")
MOBILENET = os.path.join(MODELS, "mobilenet_v2.onnx")
KERAS = os.path.join(MODELS, "keras_digits.onnx")
PPOCR = os.path.join(MODELS, "ppocr")

MEAN = np.array([0.485, 0.456, 0.406], np.float32)
STD = np.array([0.229, 0.224, 0.225], np.float32)


def _session(path):
    return ort.InferenceSession(path, providers=["CPUExecutionProvider"])


def _preprocess(path: str) -> np.ndarray:
    """ImageNet eval preprocessing: shorter side 256 (bilinear), centre crop 224, NCHW RGB."""
    img = Image.open(path).convert("RGB")
    w, h = img.size
    s = 256 / min(w, h)
    img = img.resize((max(256, round(w * s)), max(256, round(h * s))), Image.BILINEAR)
    w, h = img.size
    left, top = (w - 224) // 2, (h - 224) // 2
    img = img.crop((left, top, left + 224, top + 224))
    x = (np.asarray(img, dtype=np.float32) / 255.0 - MEAN) / STD
    return x.transpose(2, 0, 1)[None].astype(np.float32)


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def _symmetry_score(w: np.ndarray) -> float:
    k = w.astype(np.float64).mean(axis=(0, 1))
    k /= np.linalg.norm(k)
    ts = [np.rot90(k, 1), np.rot90(k, 2), np.rot90(k, 3), k[:, ::-1], k[::-1, :], k.T,
          np.rot90(k, 2).T]
    return 1.0 - float(np.mean([np.linalg.norm(t - k) / 2 for t in ts]))


def _labels():
    with open(os.path.join(SAMPLES, "labels.json")) as fh:
        return json.load(fh)["labels"]


# ----------------------------------------------------------------------------- samples
def test_samples_are_small_licensed_photos():
    jpgs = sorted(f for f in os.listdir(SAMPLES) if f.endswith(".jpg"))
    assert 8 <= len(jpgs) <= 12
    total = 0
    lic = open(os.path.join(SAMPLES, "LICENSES.md")).read()
    labels = _labels()
    for f in jpgs:
        p = os.path.join(SAMPLES, f)
        n = os.path.getsize(p)
        total += n
        assert n <= 60 * 1024, f
        with Image.open(p) as im:
            assert im.format == "JPEG" and im.mode == "RGB"
            assert min(im.size) == 256, (f, im.size)
        assert f"`{f}`" in lic, f"{f} missing from LICENSES.md"
        assert f in labels, f"{f} missing from labels.json"
    assert total <= 600 * 1024


# ----------------------------------------------------------------------------- MobileNetV2
def test_mobilenet_structure_and_calibration():
    m = onnx.load(MOBILENET)
    onnx.checker.check_model(m)
    assert m.ir_version <= 10
    assert {o.domain: o.version for o in m.opset_import}[""] == 17
    assert [i.name for i in m.graph.input] == ["input"]
    assert [o.name for o in m.graph.output] == ["logits"]
    dims = [d.dim_param or d.dim_value for d in m.graph.input[0].type.tensor_type.shape.dim]
    assert dims[1:] == [3, 224, 224] and isinstance(dims[0], str)
    ops = Counter(n.op_type for n in m.graph.node)
    assert ops["Conv"] == 52 and ops["BatchNormalization"] == 0
    inits = {i.name: i for i in m.graph.initializer}
    convs = [n for n in m.graph.node if n.op_type == "Conv"]
    weights = [numpy_helper.to_array(inits[n.input[1]]) for n in convs]
    big = [w for w in weights if w.shape[2] * w.shape[3] > 1]
    assert len(big) == 18
    s = [_symmetry_score(w) for w in big]
    # docs/metric.md calibration (BatchNorm folded): first layer ~0.455, median of rest ~0.786
    assert abs(s[0] - 0.455) < 0.003
    assert abs(float(np.median(s[1:])) - 0.786) < 0.003


def test_mobilenet_classifies_sample_photos():
    sess = _session(MOBILENET)
    labels = _labels()
    files = sorted(labels)
    x = np.concatenate([_preprocess(os.path.join(SAMPLES, f)) for f in files])
    (logits,) = sess.run(["logits"], {"input": x})
    assert logits.shape == (len(files), 1000)
    prob = _softmax(logits.astype(np.float64))
    top1 = dict(zip(files, prob.argmax(1).tolist()))
    assert 281 <= top1["chelsea.jpg"] <= 285  # tabby / tiger cat / Persian / Siamese / Egyptian cat
    assert top1["coffee.jpg"] in (967, 968, 504)  # espresso / cup / coffee mug
    assert top1["grace_hopper.jpg"] == 652  # military uniform
    for f, p in zip(files, prob):
        ref = labels[f]["index"]
        # the recorded class must stay top-1, allowing for JPEG-decoder noise on near-ties
        assert p[ref] >= p.max() - 0.05, (f, ref, int(p.argmax()))


def test_mobilenet_dynamic_batch():
    sess = _session(MOBILENET)
    x = _preprocess(os.path.join(SAMPLES, "chelsea.jpg"))
    (one,) = sess.run(None, {"input": x})
    (three,) = sess.run(None, {"input": np.concatenate([x, x[:, :, :, ::-1], x])})
    np.testing.assert_allclose(three[0], one[0], rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(three[2], one[0], rtol=1e-4, atol=1e-4)


# ----------------------------------------------------------------------------- Keras / tf2onnx
def test_keras_digits_is_nhwc_with_tf_same_padding():
    m = onnx.load(KERAS)
    onnx.checker.check_model(m)
    assert m.ir_version <= 10
    assert {o.domain: o.version for o in m.opset_import}[""] == 17
    dims = [d.dim_param or d.dim_value for d in m.graph.input[0].type.tensor_type.shape.dim]
    assert m.graph.input[0].name == "input" and dims[1:] == [32, 32, 3]
    assert m.graph.node[0].op_type == "Transpose"  # NHWC -> NCHW inside the graph
    convs = [n for n in m.graph.node if n.op_type == "Conv"]
    assert len(convs) == 5
    attrs = [{a.name: onnx.helper.get_attribute_value(a) for a in n.attribute} for n in convs]
    stride2 = [a for a in attrs if a.get("strides") == [2, 2]]
    assert len(stride2) == 2
    for a in stride2:  # TF SAME on an even input: the extra pad goes bottom/right
        assert a["pads"] == [0, 0, 1, 1]
    assert sum(1 for a in attrs if a.get("group", 1) > 1) == 1  # the depthwise conv
    sess = _session(KERAS)
    (y,) = sess.run(None, {"input": np.zeros((2, 32, 32, 3), np.float32)})
    assert y.shape == (2, 10) and np.isfinite(y).all()


# ----------------------------------------------------------------------------- PP-OCR
PPOCR_EXPECT = {
    # file: (ir, opset, Conv, ConvTranspose, BatchNormalization, kernel shapes, a test input shape)
    "ch_PP-OCRv4_det_infer.onnx": (8, 12, 62, 2, 3, {(3, 3), (1, 1), (5, 5), (2, 2)},
                                   (1, 3, 64, 96)),
    "ch_PP-OCRv4_rec_infer.onnx": (8, 12, 38, 0, 6, {(3, 3), (1, 1), (5, 5), (1, 3)},
                                   (1, 3, 48, 160)),
    "ch_ppocr_mobile_v2.0_cls_infer.onnx": (7, 11, 53, 0, 35, {(3, 3), (1, 1), (5, 5)},
                                            (1, 3, 48, 192)),
}


@pytest.mark.parametrize("name", sorted(PPOCR_EXPECT))
def test_ppocr_models(name):
    ir, opset, nconv, ntconv, nbn, kshapes, shape = PPOCR_EXPECT[name]
    path = os.path.join(PPOCR, name)
    m = onnx.load(path)
    assert m.ir_version == ir
    assert {o.domain: o.version for o in m.opset_import}[""] == opset
    ops = Counter(n.op_type for n in m.graph.node)
    assert (ops["Conv"], ops["ConvTranspose"], ops["BatchNormalization"]) == (nconv, ntconv, nbn)
    # Paddle2ONNX stores every weight as a Constant node, not an initializer
    consts = {n.output[0]: n for n in m.graph.node if n.op_type == "Constant"}
    inits = {i.name for i in m.graph.initializer}
    seen = set()
    for n in m.graph.node:
        if n.op_type in ("Conv", "ConvTranspose"):
            assert n.input[1] in consts and n.input[1] not in inits
            t = onnx.helper.get_attribute_value(consts[n.input[1]].attribute[0])
            seen.add(tuple(t.dims[2:]))
    assert seen == kshapes
    sess = _session(path)
    x = np.random.default_rng(0).random(shape, dtype=np.float32)
    outs = sess.run(None, {sess.get_inputs()[0].name: x})
    assert all(np.isfinite(o).all() for o in outs)
