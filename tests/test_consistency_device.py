"""The device pipeline (onnxsym.consistency.device): crops made inside the session are the host's
crops, bit for bit, and a measurement on either pipeline gives the same numbers (CPU provider)."""
from __future__ import annotations

import os

import numpy as np
import onnx
import pytest
from onnx import TensorProto as T
from onnx import helper as h

import consistency_models as cm
import onnxsym
from onnxsym.consistency.device import (BASES, PLAN, BatchPacker, build_device_model, choose_pipeline,
                                        host_tensor, partners_of)
from onnxsym.consistency.preprocess import InputSpec, Normalizer
from onnxsym.consistency.protocol import Plan
from onnxsym.consistency.runtime import create_session
from onnxsym.errors import InputError

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODELS = os.path.join(ROOT, "models")
VOLATILE = ("timing", "pipeline", "batch_size", "onnxsym_version")


def _spec(layout="NCHW", dtype="float32", h=20, w=24, batch=None):
    shape = [batch or "N", 3, h, w] if layout == "NCHW" else [batch or "N", h, w, 3]
    return InputSpec(name="x", layout=layout, height=h, width=w, channels=3, dtype=dtype, batch=batch,
                     shape=shape, size_from="model")


def _identity_model(spec):
    elem = {"float32": T.FLOAT, "float16": T.FLOAT16, "float64": T.DOUBLE, "uint8": T.UINT8}[spec.dtype]
    shape = [spec.batch or "N", *([3, spec.height, spec.width] if spec.layout == "NCHW"
                                  else [spec.height, spec.width, 3])]
    g = h.make_graph([h.make_node("Identity", ["x"], ["y"])], "id", [h.make_tensor_value_info("x", elem, shape)],
                     [h.make_tensor_value_info("y", elem, shape)])
    m = h.make_model(g, opset_imports=[h.make_opsetid("", 17)])
    m.ir_version = 10
    return m


def _naive_crop(base, y, x, flip, h, w):
    """The crop of the protocol, written the obvious way."""
    out = np.empty((h, w, 3), base.dtype)
    for i in range(h):
        for j in range(w):
            yy = y + (h - 1 - i if flip == 2 else i)
            xx = x + (w - 1 - j if flip == 1 else j)
            out[i, j] = base[yy, xx]
    return out


@pytest.mark.parametrize("layout,dtype,order", [("NCHW", "float32", "rgb"), ("NHWC", "float32", "bgr"),
                                                ("NCHW", "float16", "rgb"), ("NHWC", "uint8", "rgb"),
                                                ("NCHW", "float64", "bgr")])
def test_the_prefix_makes_the_host_inputs_bit_for_bit(layout, dtype, order):
    spec = _spec(layout, dtype)
    norm = Normalizer(spec, "imagenet", order)
    plan = Plan(3, 2, seed=5, vertical=True, max_shift=(6, 8))
    base_size = (spec.height + 6, spec.width + 8)
    packer = BatchPacker(plan, plan.per_image * 2, base_size, fixed=False)
    rng = np.random.default_rng(0)
    bases = [rng.integers(0, 256, (*base_size, 3), dtype=np.uint8) for _ in range(3)]
    items = [it for i in range(3) for it in packer.add(i, bases[i])] + [packer.take()]
    rs = create_session(build_device_model(_identity_model(spec), spec, norm, "y", base_size, None), "cpu")
    for _, (b, rows, _partners), slots, n in items:
        got = rs.session.run(["y"], {BASES: b, PLAN: rows})[0]
        want = host_tensor((b, rows), norm)
        assert got.dtype == want.dtype and np.array_equal(got, want)
        for k, (i, v) in enumerate(slots):   # and the host tensor is the protocol's crop
            y, x, flip = plan.variants(i)[v]
            crop = _naive_crop(bases[i], y, x, flip, spec.height, spec.width)
            one = norm(crop[None])[0]
            assert np.array_equal(want[k], one)


def test_partners_pair_the_crops_and_the_mirrors():
    plan = Plan(1, 3, 0, vertical=True)
    p = partners_of(plan, plan.per_image)
    assert p[:6].tolist() == [[1, 1], [0, 0], [3, 3], [2, 2], [5, 5], [4, 4]]
    assert p[6].tolist() == [7, 8] and p[7].tolist() == [6, 6] and p[8].tolist() == [6, 6]
    plan = Plan(1, 1, 0, vertical=False)
    assert partners_of(plan, plan.per_image).tolist() == [[1, 1], [0, 0], [3, 3], [2, 2]]


def test_packer_keeps_images_whole_and_pads_a_fixed_batch():
    plan = Plan(5, 2, 0, vertical=False)            # 6 variants per image
    packer = BatchPacker(plan, 12, (4, 4), fixed=True)
    assert packer.aligned
    base = np.zeros((4, 4, 3), np.uint8)
    items = [it for i in range(5) for it in packer.add(i, base)] + [packer.take()]
    assert [it[3] for it in items] == [12, 12, 6]
    _, (_, rows, partners), slots, n = items[-1]
    assert len(rows) == 12 and np.array_equal(rows[6:], np.repeat(rows[5:6], 6, axis=0))
    assert {i for i, _ in slots} == {4}
    assert partners[:6].tolist() == partners_of(plan, 6).tolist()
    assert not BatchPacker(plan, 5, (4, 4), fixed=True).aligned


def test_choice_auto_host_on_cpu_device_on_cuda_and_refusals():
    loaded = onnxsym.load_model(os.path.join(MODELS, "mobilenet_v2.onnx"))
    spec = _spec()
    assert choose_pipeline("auto", "cpu", loaded, spec).used == "host"
    assert choose_pipeline("auto", "cuda", loaded, spec).used == "device"
    assert choose_pipeline("device", "cpu", loaded, spec).used == "device"
    grey = InputSpec(name="x", layout="NCHW", height=8, width=8, channels=1, dtype="float32", batch=None,
                     shape=["N", 1, 8, 8], size_from="model")
    assert choose_pipeline("auto", "cuda", loaded, grey).used == "host"
    with pytest.raises(InputError, match="one-channel"):
        choose_pipeline("device", "cpu", loaded, grey)
    with pytest.raises(InputError, match="auto, device, host"):
        choose_pipeline("gpu", "cpu", loaded, spec)


def _both(model, images, **kw):
    h_ = onnxsym.measure_consistency(model, images, provider="cpu", pipeline="host", **kw).to_dict()
    d = onnxsym.measure_consistency(model, images, provider="cpu", pipeline="device", **kw).to_dict()
    assert d["pipeline"]["used"] == "device" and h_["pipeline"]["used"] == "host"
    for doc in (h_, d):   # the repeat check reruns the first batch, whose size may differ
        doc["repeat"].pop("inputs")
    return ({k: v for k, v in h_.items() if k not in VOLATILE}, {k: v for k, v in d.items() if k not in VOLATILE})


@pytest.mark.parametrize("case", ["classifier", "softmaxed", "nhwc_bgr_vertical", "fixed_batch_split",
                                  "spatial", "vector", "uint8", "fp16", "binary", "extra_input"])
def test_both_pipelines_give_the_same_report(tmp_path, case):
    images = cm.imageset(cm.smooth_images(5, (40, 44)))
    kw = {"pairs_per_image": 2, "seed": 3}
    model = {
        "classifier": lambda: cm.gap_linear(),
        "softmaxed": lambda: cm.gap_linear(softmax=True),
        "nhwc_bgr_vertical": lambda: cm.gap_linear(layout="NHWC"),
        "fixed_batch_split": lambda: cm.gap_linear(batch=5),     # 6 variants per image: images split
        "spatial": lambda: cm.pointwise_conv(),
        "vector": lambda: cm.embedding(),
        "uint8": lambda: cm.gap_linear(elem=T.UINT8),
        "fp16": lambda: cm.gap_linear(elem=T.FLOAT16),
        "binary": lambda: cm.binary(),
        "extra_input": lambda: cm.two_inputs_batched(),
    }[case]()
    if case == "nhwc_bgr_vertical":
        kw.update(channel_order="bgr", vertical=True)
    if case == "extra_input":
        kw["feeds"] = {"s": np.array([[1.0, -2.0, 0.5]], np.float32)}
    if case == "classifier":
        kw["batch_size"] = 7                                       # not a whole number of images
    path = cm.save(model, tmp_path / "m.onnx")
    host, device = _both(path, images, **kw)
    assert host == device


def test_mobilenet_top1_of_every_variant_is_the_hosts():
    images = os.path.join(ROOT, "onnxsym", "samples")
    host, device = _both(os.path.join(MODELS, "mobilenet_v2.onnx"), images, pairs_per_image=2, seed=1)
    assert host == device
    assert host["shift"]["pairs"] == 20 and host["metric"] == "top1_agreement"


def test_the_user_model_is_not_written(tmp_path):
    path = cm.save(cm.gap_linear(), tmp_path / "m.onnx")
    before = (os.stat(path).st_mtime_ns, open(path, "rb").read())
    onnxsym.measure_consistency(path, cm.imageset(cm.smooth_images(2)), provider="cpu", pipeline="device")
    assert (os.stat(path).st_mtime_ns, open(path, "rb").read()) == before
    assert sorted(os.listdir(tmp_path)) == ["m.onnx"]


def test_an_old_opset_model_stays_on_the_host(tmp_path):
    m = cm.gap_linear()
    m.opset_import[0].version = 10   # ReduceMean and Gemm read the same at opset 10
    path = cm.save(m, tmp_path / "old.onnx")
    loaded = onnxsym.load_model(path)
    assert choose_pipeline("auto", "cuda", loaded, _spec()).used == "host"
    with pytest.raises(InputError, match="opset 10"):
        choose_pipeline("device", "cpu", loaded, _spec())


def test_cli_pipeline_flag_and_json(tmp_path):
    from click.testing import CliRunner

    from onnxsym.cli import main

    path = cm.save(cm.gap_linear(), tmp_path / "m.onnx")
    imgs = tmp_path / "imgs.npy"
    np.save(imgs, cm.smooth_images(3))
    out = tmp_path / "c.json"
    r = CliRunner().invoke(main, ["consistency", path, "--images", str(imgs), "--provider", "cpu",
                                  "--pipeline", "device", "-o", str(out), "-v"])
    assert r.exit_code == 0, r.output
    import json

    doc = json.loads(out.read_text())
    assert doc["pipeline"] == {"used": "device", "requested": "device", "reason": "as requested"}
    assert "variants made on the device" in r.stderr
    assert onnx.load(path)  # still a model


@pytest.mark.parametrize("name,kw", [("keras_digits.onnx", {"preset": "unit"}),                 # NHWC
                                     ("ppocr/ch_PP-OCRv4_det_infer.onnx", {"input_size": 96}),  # spatial
                                     ("zoo/mobilenet_v2_fp16.onnx", {}),                         # fp16
                                     ("zoo/mobilenet_v2_int8_qdq.onnx", {})])                   # quantized
def test_shipped_models_give_the_same_report_on_both_pipelines(name, kw):
    from onnxsym.consistency.images import load_images
    from onnxsym.consistency.preprocess import resize_center_square

    photos = load_images(os.path.join(ROOT, "onnxsym", "samples"))
    images = cm.imageset(np.stack([resize_center_square(photos.load(i), (288, 288)) for i in (0, 3, 7)]))
    host, device = _both(os.path.join(MODELS, name), images, pairs_per_image=2, seed=2, **kw)
    assert host == device
