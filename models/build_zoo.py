"""Build models/zoo/: a small model zoo for studies across models.

    ~/venvs/zoo/bin/python models/build_zoo.py [--only digits|mobilenet] [--out DIR] [--compare DIR]

Needs a separate venv (the main environment stays as it is):

    python -m venv ~/venvs/zoo
    ~/venvs/zoo/bin/pip install torch==2.13.0 scikit-learn onnx==1.23.2 onnxruntime-gpu==1.31.1 pillow numpy
    ~/venvs/zoo/bin/pip install -e .          # onnxsym, for onnxsym.consistency.preprocess.resize_center_square

Two parts:

* **digits** (torch, scikit-learn): eight small CNNs trained on scikit-learn's ``load_digits`` with the
  architectural choices of "On Symmetries in Convolutional Weights" (arXiv 2503.19215):
  downsampling ``s2`` (stride-2 convs, PyTorch symmetric pads -> uneven at even sizes) or ``pool``
  (stride 1 + MaxPool 2x2), padding ``zero`` or ``reflect``, training with (``flip``) or without
  (``noflip``) random horizontal flips; plus checkpoints e0 (random init), e1, e3 of
  ``s2_zero_noflip``. Also ``digits_test.npy`` (held-out digits, uint8 [N, 40, 40, 1]) and
  ``digits_test_labels.json`` (onnxsym image names -> class).
* **mobilenet** (onnxruntime only): ``models/mobilenet_v2.onnx`` quantized to int8 QDQ
  (``quantize_static``, per channel, calibrated on the 10 photos of onnxsym/samples) and converted to
  float16 (``onnxruntime.transformers.float16``).

``--out DIR`` writes somewhere else than models/zoo (e.g. for a second build); ``--compare DIR``
compares every file byte for byte with a previous build in DIR and records the result in
PROVENANCE.md. PROVENANCE.md is written only by a full build (no ``--only``).
"""
from __future__ import annotations

import argparse
import copy
import glob
import hashlib
import json
import os
import platform
import sys
import time
import warnings
from collections import Counter

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ZOO = os.path.join(ROOT, "models", "zoo")
MOBILENET = os.path.join(ROOT, "models", "mobilenet_v2.onnx")
SAMPLES = os.path.join(ROOT, "onnxsym", "samples")

SEED = 0
IMG = 40            # stored digit images: 40x40 uint8
SIDE = 32           # model input 32x32
BASE = 37           # onnxsym's base for a 32x32 input: 32 + round(32*32/224) = 37
OFF = 2             # onnxsym's centre crop offset: max_shift // 2 = 5 // 2
EPOCHS = 12
BATCH = 32
LR = 2e-3
CHECKPOINTS = (0, 1, 3)  # epochs of s2_zero_noflip saved besides the final one
CHANNELS = [(1, 16), (16, 16), (16, 32), (32, 32), (32, 48), (48, 48)]
DOWN_AT = (1, 3)    # c2 and c4 (0-based) downsample
COMBOS = [(d, p, f) for d in ("s2", "pool") for p in ("zero", "reflect") for f in ("noflip", "flip")]
EXPORT = dict(dynamo=False, opset_version=17, do_constant_folding=True, input_names=["input"],
              output_names=["logits"], dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}})
IR_VERSION = 8
EXPORT_WARNINGS: dict[str, str] = {}  # message -> category, from torch.onnx.export
EXPORTED_IR: set[int] = set()  # ir_version as torch.onnx.export wrote it


def sha256(path: str) -> str:
    with open(path, "rb") as fh:
        return hashlib.sha256(fh.read()).hexdigest()


def op_counts(model) -> dict[str, int]:
    return dict(Counter(n.op_type for n in model.graph.node))


def ops_text(counts: dict[str, int]) -> str:
    return ", ".join(f"{k} {v}" for k, v in counts.items())


def finalize_onnx(path: str) -> None:
    """Set ir_version, run the full checker, re-save."""
    import onnx

    m = onnx.load(path)
    m.ir_version = IR_VERSION
    onnx.checker.check_model(m, full_check=True)
    onnx.save(m, path)


def ort_session(path: str):
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.log_severity_level = 3
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    return ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])


def symmetry_score(w: np.ndarray) -> float:
    """S of models/README.md (square kernels): 1 - mean over the 7 non-identity D4 maps of
    ||T(K^) - K^||/2, K = mean of W over axes 0, 1 (float64), K^ = K/||K||."""
    k = w.astype(np.float64).mean(axis=(0, 1))
    k = k / np.linalg.norm(k)
    ts = [np.rot90(k, 1), np.rot90(k, 2), np.rot90(k, 3), k[:, ::-1], k[::-1, :], k.T, np.rot90(k, 2).T]
    return 1.0 - float(np.mean([np.linalg.norm(t - k) / 2 for t in ts]))


# ============================================================================ digits
def digits_data():
    """(train crops, train labels, test crops, test labels, test images uint8 [N,40,40,1])."""
    from PIL import Image
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    from onnxsym.consistency.preprocess import resize_center_square

    d = load_digits()
    idx = np.arange(len(d.target))
    itr, ite = train_test_split(idx, test_size=0.2, random_state=SEED, stratify=d.target)

    def big(img8):  # 8x8 values 0..16 -> 40x40 uint8 0..255, bilinear (PIL, float image)
        f = Image.fromarray((img8.astype(np.float32) * (255.0 / 16.0)), mode="F")
        f = np.asarray(f.resize((IMG, IMG), Image.BILINEAR), dtype=np.float32)
        return np.clip(np.rint(f), 0, 255).astype(np.uint8)

    def crop(g40):  # exactly what onnxsym feeds a 32x32 model for its centre crop (grey channel)
        rgb = np.repeat(g40[:, :, None], 3, axis=2)
        base = resize_center_square(rgb, (BASE, BASE))
        return base[OFF:OFF + SIDE, OFF:OFF + SIDE, 0].astype(np.float32) / 255.0

    imgs = np.stack([big(x) for x in d.images])                      # [1797, 40, 40]
    crops = np.stack([crop(g) for g in imgs])[:, None]               # [1797, 1, 32, 32]
    y = d.target.astype(np.int64)
    return crops[itr], y[itr], crops[ite], y[ite], imgs[ite][..., None]


def digits_net(down: str, pad: str):
    from torch import nn

    mode = "reflect" if pad == "reflect" else "zeros"
    layers = []
    for i, (cin, cout) in enumerate(CHANNELS):
        stride = 2 if (down == "s2" and i in DOWN_AT) else 1
        layers += [nn.Conv2d(cin, cout, 3, stride, 1, padding_mode=mode), nn.ReLU()]
        if down == "pool" and i in DOWN_AT:
            layers.append(nn.MaxPool2d(2))
    net = nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(CHANNELS[-1][1], 10))
    for mod in net.modules():  # He init (PyTorch's default init lets this 6-conv ReLU net without
        if isinstance(mod, nn.Conv2d):  # normalisation train slowly or not at all)
            nn.init.kaiming_normal_(mod.weight, mode="fan_in", nonlinearity="relu")
            nn.init.zeros_(mod.bias)
    return net


def export_torch(model, path: str) -> None:
    import torch

    was_training = model.training
    model.eval()
    with torch.no_grad(), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        torch.onnx.export(model, (torch.zeros(1, 1, SIDE, SIDE),), path, **EXPORT)
    for w in caught:  # kept for PROVENANCE.md (e.g. why reflect pads are not constant-folded)
        msg = " ".join(str(w.message).split())
        EXPORT_WARNINGS[msg.split(" (Triggered")[0].split(" Learn more")[0][:200]] = w.category.__name__
    import onnx

    EXPORTED_IR.add(onnx.load(path).ir_version)
    finalize_onnx(path)
    model.train(was_training)


def pad_inputs(model) -> list:
    """The values of every Pad node's ``pads`` input, evaluated with onnx's reference evaluator
    (the exporter leaves them as a small constant subgraph)."""
    import onnx
    from onnx.reference import ReferenceEvaluator

    pads = [n.input[1] for n in model.graph.node if n.op_type == "Pad"]
    if not pads:
        return []
    m = copy.deepcopy(model)
    for name in pads:
        m.graph.output.append(onnx.helper.make_tensor_value_info(name, onnx.TensorProto.INT64, None))
    ref = ReferenceEvaluator(m)
    return ref.run(pads, {"input": np.zeros((1, 1, SIDE, SIDE), np.float32)})


def train(model, xtr, ytr, flip: bool, save):
    """Adam, cross entropy; per-epoch shuffle and flip masks from their own seeded generators.
    ``save(epoch)`` is called before training (epoch 0) and at the end of every epoch."""
    import torch
    from torch import nn

    g_shuffle = torch.Generator().manual_seed(SEED)
    g_flip = torch.Generator().manual_seed(SEED + 1)
    opt = torch.optim.Adam(model.parameters(), lr=LR)
    x, y = torch.from_numpy(xtr), torch.from_numpy(ytr)
    save(0)
    model.train()
    last = None
    for epoch in range(1, EPOCHS + 1):
        perm = torch.randperm(len(y), generator=g_shuffle)
        tot, correct, n = 0.0, 0, 0
        for s in range(0, len(y), BATCH):
            b = perm[s:s + BATCH]
            xb, yb = x[b], y[b]
            if flip:
                m = torch.rand(len(b), generator=g_flip) < 0.5
                xb = torch.where(m[:, None, None, None], xb.flip(3), xb)
            opt.zero_grad()
            out = model(xb)
            loss = nn.functional.cross_entropy(out, yb)
            loss.backward()
            opt.step()
            tot += float(loss.detach()) * len(b)
            correct += int((out.argmax(1) == yb).sum())
            n += len(b)
        last = (tot / n, correct / n)
        save(epoch)
    return last


def verify_digits(model, path: str, xte, yte, test_npy: str) -> dict:
    """onnxruntime (CPU) vs torch on the test set, and accuracy through onnxsym's own feed."""
    import onnx
    import torch
    from onnxsym.consistency.protocol import auto_max_shift
    from onnxsym.consistency.images import load_images
from onnxsym.consistency.preprocess import Normalizer, input_spec, resize_center_square

    model.eval()
    with torch.no_grad():
        ref = model(torch.from_numpy(xte)).numpy()
    sess = ort_session(path)
    got = sess.run(["logits"], {"input": xte})[0]
    # onnxsym's path: load the .npy, base (37x37), centre crop at max_shift // 2, its Normalizer
    spec = input_spec(sess.get_inputs())
    assert auto_max_shift(spec.height, spec.width) == (BASE - SIDE, BASE - SIDE)
    norm = Normalizer(spec, "unit")
    imgs = load_images(test_npy)
    feed = norm(np.stack([resize_center_square(imgs.load(i), (BASE, BASE))[OFF:OFF + SIDE, OFF:OFF + SIDE]
                          for i in range(len(imgs))]))
    got2 = sess.run(["logits"], {"input": feed})[0]
    m = onnx.load(path)
    inits = {i.name: i for i in m.graph.initializer}
    from onnx import numpy_helper

    convs = [n for n in m.graph.node if n.op_type == "Conv"]
    s = [symmetry_score(numpy_helper.to_array(inits[n.input[1]])) for n in convs]
    pads = []
    for n in m.graph.node:
        if n.op_type in ("Conv", "Pad", "MaxPool"):
            at = {a.name: onnx.helper.get_attribute_value(a) for a in n.attribute}
            pads.append((n.op_type, at.get("pads"), at.get("strides"),
                         at["mode"].decode() if "mode" in at else None))
    pad_values = [v.tolist() for v in pad_inputs(m)]
    uses = Counter(i for n in m.graph.node for i in n.input if i in inits)
    return {
        "pad_values": pad_values,
        "identity": [(n.input[0], n.output[0]) for n in m.graph.node if n.op_type == "Identity"],
        "initializers": len(inits),
        "shared_initializers": sorted(k for k, c in uses.items() if c > 1),
        "max_abs_diff": float(np.abs(ref - got).max()),
        "argmax_agree": int((ref.argmax(1) == got.argmax(1)).sum()),
        "n_test": int(len(yte)),
        "acc_torch": float((ref.argmax(1) == yte).mean()),
        "acc_ort": float((got.argmax(1) == yte).mean()),
        "acc_onnxsym_feed": float((got2.argmax(1) == yte).mean()),
        "feed_max_abs_diff": float(np.abs(feed - xte).max()),
        "ops": op_counts(m),
        "S": s,
        "S_first": s[0],
        "S_median_rest": float(np.median(s[1:])),
        "pads": pads,
        "ir": m.ir_version,
        "opset": [(o.domain or "ai.onnx", o.version) for o in m.opset_import],
        "producer": f"{m.producer_name} {m.producer_version}",
    }


def build_digits(out: str, info: dict) -> None:
    import torch

    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    t0 = time.time()
    xtr, ytr, xte, yte, test_imgs = digits_data()
    npy = os.path.join(out, "digits_test.npy")
    np.save(npy, test_imgs)
    labels = {f"digits_test.npy[{i}]": int(c) for i, c in enumerate(yte)}
    with open(os.path.join(out, "digits_test_labels.json"), "w") as fh:
        json.dump(labels, fh, indent=1)
        fh.write("\n")
    info["data"] = {"n_train": int(len(ytr)), "n_test": int(len(yte)),
                    "test_class_counts": np.bincount(yte, minlength=10).tolist(),
                    "seconds": time.time() - t0}
    print(f"data: {len(ytr)} train, {len(yte)} test, test images {test_imgs.shape} {test_imgs.dtype}")
    info["models"] = {}
    for down, pad, flip in COMBOS:
        name = f"digits_{down}_{pad}_{flip}"
        path = os.path.join(out, name + ".onnx")
        save = {EPOCHS: path}
        if (down, pad, flip) == ("s2", "zero", "noflip"):
            save.update({e: os.path.join(out, f"{name}_e{e}.onnx") for e in CHECKPOINTS})
        torch.manual_seed(SEED)  # same initial weights for all eight (identical parameter shapes)
        model = digits_net(down, pad)
        t1 = time.time()
        snapshots = {}

        def saver(e):  # export, and keep the weights to check each file against torch
            if e in save:
                snapshots[e] = copy.deepcopy(model.state_dict())
                export_torch(model, save[e])

        loss, tacc = train(model, xtr, ytr, flip == "flip", saver)
        secs = time.time() - t1
        for e, p in sorted(save.items()):
            m = digits_net(down, pad)
            m.load_state_dict(snapshots[e])
            v = verify_digits(m, p, xte, yte, npy)
            v.update(epoch=e, train_seconds=secs if e == EPOCHS else None,
                     final_train_loss=loss if e == EPOCHS else None,
                     final_train_acc=tacc if e == EPOCHS else None)
            fname = os.path.basename(p)
            info["models"][fname] = v
            print(f"{fname:36s} e{e:<2d} acc ort {v['acc_ort']:.4f} torch {v['acc_torch']:.4f} "
                  f"onnxsym-feed {v['acc_onnxsym_feed']:.4f} | max|d| {v['max_abs_diff']:.2e} "
                  f"argmax {v['argmax_agree']}/{v['n_test']} | S {v['S_first']:.3f}/"
                  f"{v['S_median_rest']:.3f} | {os.path.getsize(p)} B")
            assert v["argmax_agree"] == v["n_test"] and v["max_abs_diff"] < 1e-4, v
        print(f"  trained {name} in {secs:.1f} s (last epoch loss {loss:.4f}, train acc {tacc:.4f})")
    info["digits_seconds"] = time.time() - t0
    info["export_warnings"] = dict(EXPORT_WARNINGS)
    info["exported_ir"] = sorted(EXPORTED_IR)
    for msg, cat in EXPORT_WARNINGS.items():
        print(f"torch.onnx.export {cat}: {msg}")


# ============================================================================ mobilenet
def imagenet_preprocess(path: str) -> np.ndarray:
    """Shorter side 256 (bilinear), centre crop 224, /255, ImageNet mean/std, NCHW RGB (as in
    models/build_mobilenet_v2.py)."""
    from PIL import Image

    img = Image.open(path).convert("RGB")
    w, h = img.size
    s = 256 / min(w, h)
    img = img.resize((max(256, round(w * s)), max(256, round(h * s))), Image.BILINEAR)
    w, h = img.size
    left, top = (w - 224) // 2, (h - 224) // 2
    img = img.crop((left, top, left + 224, top + 224))
    x = np.asarray(img, dtype=np.float32) / 255.0
    x = (x - np.array([0.485, 0.456, 0.406], np.float32)) / np.array([0.229, 0.224, 0.225], np.float32)
    return x.transpose(2, 0, 1)[None].astype(np.float32)


def photos():
    files = sorted(glob.glob(os.path.join(SAMPLES, "*.jpg")))
    return [os.path.basename(f) for f in files], np.concatenate([imagenet_preprocess(f) for f in files])


def compare_fp32(path: str, names, x, ref_logits, labels, dtype=np.float32) -> dict:
    import onnx

    sess = ort_session(path)
    inp = sess.get_inputs()[0]
    got = sess.run(["logits"], {inp.name: x.astype(dtype)})[0].astype(np.float32)
    top1 = got.argmax(1)
    ref_top1 = ref_logits.argmax(1)
    m = onnx.load(path)
    used = {i for n in m.graph.node for i in n.input} | {o.name for o in m.graph.output}
    dangling = Counter(n.op_type for n in m.graph.node if not any(o in used for o in n.output))
    # what onnxruntime's CPU provider actually runs: its graph with and without optimisation
    import tempfile
    import onnxruntime as ort

    ort_ops = {}
    with tempfile.TemporaryDirectory() as tmp:
        for level, key in ((ort.GraphOptimizationLevel.ORT_DISABLE_ALL, "disabled"),
                           (ort.GraphOptimizationLevel.ORT_ENABLE_ALL, "all")):
            so = ort.SessionOptions()
            so.log_severity_level = 3
            so.intra_op_num_threads = 1
            so.graph_optimization_level = level
            so.optimized_model_filepath = os.path.join(tmp, "opt.onnx")
            ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
            ort_ops[key] = op_counts(onnx.load(so.optimized_model_filepath))
    return {
        "dangling": dict(dangling),
        "ort_ops": ort_ops,
        "input_type": inp.type, "output_type": sess.get_outputs()[0].type,
        "providers": sess.get_providers(),
        "top1": {n: int(t) for n, t in zip(names, top1)},
        "agree_labels_json": int(sum(int(t) == labels[n]["index"] for n, t in zip(names, top1))),
        "agree_fp32_run": int((top1 == ref_top1).sum()),
        "changed": {n: {"fp32": int(r.argmax()), "now": int(t), "fp32_rank_of_now": int((r > r[t]).sum()) + 1}
                    for n, t, r in zip(names, top1, ref_logits) if t != r.argmax()},
        "top5_overlap_mean": float(np.mean([len(set(np.argsort(-g)[:5]) & set(np.argsort(-r)[:5]))
                                            for g, r in zip(got, ref_logits)])),
        "max_abs_logit_diff": float(np.abs(got - ref_logits).max()),
        "n": len(names),
        "ops": op_counts(m),
        "ir": m.ir_version,
        "opset": [(o.domain or "ai.onnx", o.version) for o in m.opset_import],
        "producer": f"{m.producer_name} {m.producer_version}",
        "initializer_types": dict(Counter(onnx.TensorProto.DataType.Name(i.data_type)
                                          for i in m.graph.initializer)),
    }


def build_mobilenet(out: str, info: dict) -> None:
    import onnx
    from onnxruntime.quantization import (CalibrationDataReader, QuantFormat, QuantType,
                                          quantize_static)
    from onnxruntime.transformers.float16 import convert_float_to_float16

    import onnxruntime as ort

    ort.set_default_logger_severity(3)
    t0 = time.time()
    names, x = photos()
    labels = json.load(open(os.path.join(SAMPLES, "labels.json")))["labels"]
    ref = ort_session(MOBILENET).run(["logits"], {"input": x})[0]
    assert all(int(t) == labels[n]["index"] for n, t in zip(names, ref.argmax(1))), "fp32 != labels.json"
    info["mobilenet_src"] = {"sha256": sha256(MOBILENET), "bytes": os.path.getsize(MOBILENET)}
    res = info["mobilenet"] = {}

    class Photos(CalibrationDataReader):
        def __init__(self):
            self.it = iter([{"input": x[i:i + 1]} for i in range(len(x))])

        def get_next(self):
            return next(self.it, None)

    # --- int8 QDQ
    t1 = time.time()
    qdq = os.path.join(out, "mobilenet_v2_int8_qdq.onnx")
    quantize_static(MOBILENET, qdq, Photos(), quant_format=QuantFormat.QDQ, per_channel=True,
                    weight_type=QuantType.QInt8, activation_type=QuantType.QInt8,
                    calibration_providers=["CPUExecutionProvider"])
    finalize_onnx(qdq)
    r = compare_fp32(qdq, names, x, ref, labels)
    m = onnx.load(qdq)
    from onnx import numpy_helper

    inits = {i.name: i for i in m.graph.initializer}
    producers = {o: n for n in m.graph.node for o in n.output}
    wdq = Counter()
    for n in m.graph.node:
        dq = producers.get(n.input[1]) if n.op_type == "Conv" else None
        if dq is not None and dq.op_type == "DequantizeLinear":
            w, sc = inits[dq.input[0]], numpy_helper.to_array(inits[dq.input[1]])
            axis = next((a.i for a in dq.attribute if a.name == "axis"), 1)
            per_ch = sc.size == w.dims[0] and sc.size > 1 and axis == 0
            wdq[(onnx.TensorProto.DataType.Name(w.data_type), "per-channel axis 0" if per_ch else
                 f"scale size {sc.size}, axis {axis}")] += 1
    r.update(seconds=time.time() - t1, conv_weight_dq={f"{k[0]}, {k[1]}": c for k, c in wdq.items()},
             settings="quantize_static(QuantFormat.QDQ, per_channel=True, weight_type=QInt8, "
                      "activation_type=QInt8, calibrate_method=MinMax, calibration data = the 10 photos "
                      "one at a time)")
    res[os.path.basename(qdq)] = r
    print(f"int8 QDQ: top-1 agrees with fp32 on {r['agree_labels_json']}/{r['n']}, "
          f"ops {ops_text(r['ops'])}")

    # --- float16
    t1 = time.time()
    f16 = os.path.join(out, "mobilenet_v2_fp16.onnx")
    attempts = []
    for keep_io in (False, True):
        m16 = convert_float_to_float16(onnx.load(MOBILENET), keep_io_types=keep_io)
        onnx.save(m16, f16)
        finalize_onnx(f16)
        try:
            r = compare_fp32(f16, names, x, ref, labels, dtype=np.float32 if keep_io else np.float16)
            attempts.append((keep_io, "ok"))
            break
        except Exception as err:  # the CPU provider cannot create or run it
            attempts.append((keep_io, " ".join(str(err).split())[:300]))
            print(f"fp16 keep_io_types={keep_io}: does not run on CPU: {attempts[-1][1]}")
            os.remove(f16)
    else:
        raise RuntimeError(f"fp16 model does not run on the CPU provider: {attempts}")
    r.update(seconds=time.time() - t1, keep_io_types=keep_io, attempts=attempts)
    res[os.path.basename(f16)] = r
    print(f"fp16 (keep_io_types={keep_io}): top-1 agrees with fp32 on {r['agree_labels_json']}/{r['n']}, "
          f"max |logit diff| {r['max_abs_logit_diff']:.3g}, ops {ops_text(r['ops'])}")
    info["mobilenet_seconds"] = time.time() - t0


# ============================================================================ provenance
def versions() -> dict:
    import importlib.metadata as md

    out = {"python": platform.python_version(), "platform": platform.platform()}
    for p in ("torch", "onnx", "onnxruntime-gpu", "scikit-learn", "numpy", "pillow", "protobuf"):
        try:
            out[p] = md.version(p)
        except md.PackageNotFoundError:
            out[p] = "not installed"
    return out


def fmt_bytes(n: int) -> str:
    return f"{n:,}".replace(",", " ")


def write_provenance(out: str, info: dict) -> None:
    v = info["versions"]
    files = sorted(f for f in os.listdir(out) if f != "PROVENANCE.md")
    cmp = info.get("compare")
    L = []
    a = L.append
    a("# models/zoo — provenance\n")
    a("A small model zoo for studies across models, built by `models/build_zoo.py`. Everything in this "
      "file was measured by that build (the script writes this file); nothing is copied from elsewhere.\n")
    a(f"- **Command**: `{info['command']}` (a venv holding the packages below; `pip install -e .` for "
      "`onnxsym.consistency.preprocess.resize_center_square`).")
    a(f"- **Versions**: torch {v['torch']}, onnx {v['onnx']}, onnxruntime-gpu {v['onnxruntime-gpu']} "
      f"(CPU execution provider only), scikit-learn {v['scikit-learn']}, numpy {v['numpy']}, Pillow "
      f"{v['pillow']}, protobuf {v['protobuf']}; Python {v['python']} on {v['platform']}.")
    a(f"- **Build time**: {info['total_seconds']:.0f} s in all, torch and the checking sessions on one thread "
      f"(digits {info.get('digits_seconds', 0):.0f} s, MobileNetV2 builds {info.get('mobilenet_seconds', 0):.0f} s).")
    if cmp is None:
        a("- **Reproducibility**: not checked by this build (run with `--compare DIR`).")
    else:
        same = [f for f, s in cmp["files"].items() if s]
        diff = [f for f, s in cmp["files"].items() if not s]
        a(f"- **Reproducibility**: built twice (`--out {cmp['dir']}`, then this build with `--compare`); "
          f"{len(same)} of {len(cmp['files'])} files byte-identical"
          + (f"; differing: {', '.join(diff)}" if diff else " (all of them)") + ".")
    a("- All `.onnx` files: IR 8, no external data, pass `onnx.checker.check_model(full_check=True)`, "
      "run on onnxruntime's CPU execution provider.\n")

    a("| file | bytes | sha256 |")
    a("| --- | --- | --- |")
    for f in files:
        p = os.path.join(out, f)
        a(f"| `{f}` | {fmt_bytes(os.path.getsize(p))} | `{sha256(p)}` |")
    a("")

    if "models" in info:
        d = info["data"]
        ms = info["models"]
        a("## Digits CNNs (`digits_*.onnx`)\n")
        a(f"- **Data**: scikit-learn `load_digits` (1 797 8×8 digits, values 0–16, bundled with "
          f"scikit-learn; no download). `train_test_split(test_size=0.2, random_state={SEED}, "
          f"stratify=target)`: {d['n_train']} train, {d['n_test']} test (per class "
          f"{d['test_class_counts']}). Each digit: ×255/16 as a float image, PIL bilinear resize "
          "8×8 → 40×40, rounded to uint8.")
        a(f"- **Preprocessing** (train and test, = onnxsym's centre crop of a 32×32 model): grey "
          f"40×40 repeated to RGB, `onnxsym.consistency.preprocess.resize_center_square(rgb, ({BASE}, {BASE}))`, crop "
          f"`[{OFF}:{OFF + SIDE}, {OFF}:{OFF + SIDE}, 0]`, /255 → float32 [N,1,32,32] in [0,1]. No "
          "shift/crop augmentation. Run through onnxsym's own loader "
          "(`load_images('digits_test.npy')`, `Normalizer(spec, 'unit')`, which averages RGB with "
          "0.299/0.587/0.114 for a 1-channel input) the feed differs from this by at most "
          f"{max(m['feed_max_abs_diff'] for m in ms.values()):.1e} and gives the same test accuracy "
          "for every model (column \"onnxsym feed\"). For onnxsym consistency runs use "
          "`--images models/zoo/digits_test.npy --preset unit`.")
        a(f"- **Model**: input `input` float32 [N,1,32,32], output `logits` [N,10]. Six 3×3 convs with "
          f"bias + ReLU, channels {' → '.join(str(c) for c in [1] + [o for _, o in CHANNELS])}, "
          "global average pool, Linear 48 → 10. Downsampling after c2 and c4: `s2` = c2 and c4 stride 2 "
          "(padding 1), `pool` = all stride 1 + MaxPool 2×2 after c2 and c4. Padding `zero` "
          "(`padding=1`) or `reflect` (`padding=1, padding_mode=\"reflect\"`).")
        a(f"- **Training**: `torch.manual_seed({SEED})` before building each model, so all eight start "
          f"from the same weights (identical parameter shapes); Adam lr {LR}, batch {BATCH}, {EPOCHS} "
          f"epochs, cross entropy; per-epoch shuffle from `torch.Generator().manual_seed({SEED})`, "
          f"flip masks (`flip`: horizontal flip with p = 0.5 per image) from a second generator seeded "
          f"{SEED + 1}; `torch.use_deterministic_algorithms(True)`, `torch.set_num_threads(1)`.")
        a("- **Export**: eval mode, `torch.onnx.export(dynamo=False, opset_version=17, "
          "do_constant_folding=True, input_names=[\"input\"], output_names=[\"logits\"], "
          "dynamic_axes={\"input\": {0: \"N\"}, \"logits\": {0: \"N\"}})`, then `ir_version = 8` "
          f"(the exporter wrote IR {'/'.join(map(str, info['exported_ir']))}), "
          "`check_model(full_check=True)`, re-saved with onnx.")
        e0 = ms[f"digits_s2_zero_noflip_e{CHECKPOINTS[0]}.onnx"]
        if e0["identity"]:
            a(f"- **e0 quirk**: at random init every conv bias is zero (He init, zero bias), and the "
              f"exporter deduplicates equal initializers: `digits_s2_zero_noflip_e0.onnx` has "
              f"{e0['initializers']} initializers instead of "
              f"{ms['digits_s2_zero_noflip.onnx']['initializers']}, and {len(e0['identity'])} Identity "
              f"nodes ({', '.join(f'{o} = Identity({i})' for i, o in e0['identity'])}) feed the shared "
              f"zero biases to the convs of equal width (initializers used twice: "
              f"{', '.join(e0['shared_initializers'])}).")
        if info.get("export_warnings"):
            a("- **Exporter warnings** (torch.onnx.export): "
              + "; ".join(f"{c}: \"{w}\"" for w, c in info["export_warnings"].items()) + ".")
        a(f"- **Checkpoints**: `digits_s2_zero_noflip_e0/e1/e3.onnx` are the same training run as "
          f"`digits_s2_zero_noflip.onnx` (= epoch {EPOCHS}) exported after 0 (random init), 1 and 3 epochs.")
        a("- **Verification**: onnxruntime CPU vs torch on the test set (max |Δlogit|, argmax agreement); "
          "accuracy = onnxruntime top-1 on the test set with the preprocessing above.\n")
        a("| file | epoch | train s | test acc (ort) | onnxsym feed | torch | max \\|Δ\\| | argmax agree | S first | S median other 5 |")
        a("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
        for f, m in ms.items():
            ts = f"{m['train_seconds']:.1f}" if m["train_seconds"] else ""
            a(f"| `{f}` | {m['epoch']} | {ts} | {m['acc_ort']:.4f} | {m['acc_onnxsym_feed']:.4f} | "
              f"{m['acc_torch']:.4f} | {m['max_abs_diff']:.1e} | {m['argmax_agree']}/{m['n_test']} | "
              f"{m['S_first']:.4f} | {m['S_median_rest']:.4f} |")
        a("")
        a("S: the mean-kernel symmetry of models/README.md (numpy reference, 7 D4 maps), first conv and "
          "median of the other five.\n")
        a("**Graphs** (IR / opset / producer, op counts):\n")
        seen = {}
        for f, m in ms.items():
            key = ops_text(m["ops"])
            seen.setdefault(key, []).append(f)
        for key, fs in seen.items():
            m = ms[fs[0]]
            a(f"- {', '.join('`' + x + '`' for x in fs)}: IR {m['ir']}, opset "
              f"{', '.join(f'{d} {o}' for d, o in m['opset'])}, producer {m['producer']}; {key}.")
        ex = {k: ms[f"digits_{k}_noflip.onnx"]["pads"] for k in ("s2_zero", "s2_reflect", "pool_zero", "pool_reflect")}

        def padtxt(p):
            return "; ".join(f"{op}" + (f" mode={mode}" if mode else "") + (f" pads={pads}" if pads else "")
                             + (f" strides={st}" if st and op != "Pad" else "") for op, pads, st, mode in p)
        a("")
        a("**Padding as exported** (Conv/Pad/MaxPool attributes in node order):\n")
        for k, p in ex.items():
            a(f"- `{k}`: {padtxt(p)}")
        a("")
        pv = sorted({str(v) for f, m in ms.items() for v in m["pad_values"]})
        a("- **Reflect padding exports as `Pad(mode=reflect)` + `Conv(pads=[0,0,0,0])`**, one Pad per "
          "conv. The Pad's `pads` input is not an initializer: the TorchScript exporter leaves, per "
          "conv, a constant subgraph (Constant → ConstantOfShape → Concat → Reshape → Slice (step −1) "
          "→ Transpose → Reshape → Cast) that `do_constant_folding` does not fold (its warning: "
          "\"Only steps=1 can be constant folded for opset >= 10 onnx::Slice op\"); these are the extra "
          "Constant/ConstantOfShape/Concat/Reshape/Slice/Transpose/Cast nodes above. Evaluated with "
          f"onnx's reference evaluator every Pad's `pads` is {' / '.join(pv)} (NCHW begin, end: 1 on "
          "each side of H and W). A tool must evaluate that subgraph to learn the padding; ONNX shape "
          "inference alone loses the spatial size at the first Pad.")
        a("- `s2` models: c2 and c4 (stride 2, 3×3, 1 pixel of padding per side) see 32 and 16: "
          "(i + 2 − 3) mod 2 = 1, so the last padded row/column is never read — effective padding 1 "
          "top/left, 0 bottom/right (PyTorch style), with zeros or with reflected pixels. `pool` models: "
          "stride-1 convs pad evenly; MaxPool 2×2/2 without pads on 32 and 16 reads every pixel.\n")
        a("**Test images**: `digits_test.npy` — uint8 [N,40,40,1], the held-out split in split order; "
          "`digits_test_labels.json` — `{\"digits_test.npy[i]\": class}` in the same order, the names "
          "onnxsym gives the images of a `.npy` file.\n")

    if "mobilenet" in info:
        src = info["mobilenet_src"]
        a("## Quantized / re-encoded MobileNetV2 (`mobilenet_v2_*.onnx`)\n")
        a(f"- **Source**: `models/mobilenet_v2.onnx` ({fmt_bytes(src['bytes'])} bytes, sha256 "
          f"`{src['sha256']}`), input `input` float32 [N,3,224,224], ImageNet normalisation. No torch "
          "is used for this part.")
        a("- **Photos**: the 10 `onnxsym/samples/*.jpg`, shorter side 256 bilinear, centre crop 224, /255, "
          "mean (0.485, 0.456, 0.406), std (0.229, 0.224, 0.225), NCHW RGB — the calibration data of "
          "the int8 build and the agreement check of both. The fp32 model's top-1 on them equals "
          "`onnxsym/samples/labels.json` (checked by the build).")
        for f, r in info["mobilenet"].items():
            a(f"\n### `{f}`\n")
            if "settings" in r:
                a(f"- **How built**: `onnxruntime.quantization.{r['settings']}`, then `ir_version = 8`, "
                  "full check, re-saved. No `quant_pre_process`.")
                a("- **Conv weights**: each from a DequantizeLinear of an initializer: "
                  + ", ".join(f"{c} × {k}" for k, c in r["conv_weight_dq"].items())
                  + f". Initializer types {r['initializer_types']}.")
                if r["dangling"]:
                    a(f"- **Left-overs**: {', '.join(f'{c} {k}' for k, c in r['dangling'].items())} nodes whose "
                      "outputs nothing uses — the ReLU6 bounds of the fp32 model: the quantizer removed the "
                      "35 Clip nodes (the activation QDQ ranges clip instead) and left their Constant "
                      "inputs; onnxruntime drops them at load (with a warning per constant).")
            else:
                tried = "; ".join(f"keep_io_types={k}: {s}" for k, s in r["attempts"])
                a(f"- **How built**: `onnxruntime.transformers.float16.convert_float_to_float16(model, "
                  f"keep_io_types={r['keep_io_types']})`, then `ir_version = 8`, full check, re-saved. "
                  f"Tried in order: {tried}.")
                a(f"- **Initializer types**: {r['initializer_types']}. The graph itself has no Cast.")
            a(f"- **Graph**: IR {r['ir']}, opset {', '.join(f'{d} {o}' for d, o in r['opset'])}, producer "
              f"{r['producer']}; input {r['input_type']}, output {r['output_type']}; ops {ops_text(r['ops'])}.")
            oo = r["ort_ops"]
            a(f"- **Runs on** {r['providers']}. What onnxruntime runs (its saved graph): optimisation "
              f"disabled — {ops_text(oo['disabled'])}; all optimisations — {ops_text(oo['all'])}.")
            if "settings" not in r and oo["disabled"].get("Cast"):
                a("- At load onnxruntime's CPU provider inserts "
                  f"Cast nodes ({oo['disabled']['Cast']} without optimisation, {oo['all'].get('Cast', 0)} "
                  "after it) around the float16 nodes it has no float16 kernel for and runs them in float32; only storage and I/O are float16. keep_io_types=False "
                  "was tried first, creates a CPU session and runs, so it was kept: feed float16 "
                  "[N,3,224,224], get float16 logits.")
            a(f"- **Top-1 agreement with fp32** on the 10 photos: **{r['agree_labels_json']}/{r['n']}** "
              f"(vs labels.json; vs a fresh fp32 run: {r['agree_fp32_run']}/{r['n']}); mean top-5 overlap "
              f"{r['top5_overlap_mean']:.1f}/5; max |Δlogit| vs fp32 {r['max_abs_logit_diff']:.3g}.")
            a(f"- top-1 per photo: {', '.join(f'{k.split(chr(46))[0]} {t}' for k, t in r['top1'].items())}.")
            for k, c in r["changed"].items():
                a(f"  - {k}: fp32 top-1 {c['fp32']}, here {c['now']} (the fp32 model's rank "
                  f"{c['fp32_rank_of_now']} for this photo; fp32 p = {labels_p(k):.3f}).")
        a("")
    with open(os.path.join(out, "PROVENANCE.md"), "w") as fh:
        fh.write("\n".join(L).rstrip() + "\n")


def labels_p(photo: str) -> float:
    return json.load(open(os.path.join(SAMPLES, "labels.json")))["labels"][photo]["p"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--only", choices=("digits", "mobilenet"))
    ap.add_argument("--out", default=ZOO, help="output folder (default models/zoo)")
    ap.add_argument("--compare", metavar="DIR", help="a previous build to compare byte for byte")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    t0 = time.time()
    info = {"versions": versions(),
            "command": "python models/build_zoo.py" + (f" --only {args.only}" if args.only else "")}
    print(info["versions"])
    if args.only in (None, "digits"):
        build_digits(args.out, info)
    if args.only in (None, "mobilenet"):
        build_mobilenet(args.out, info)
    info["total_seconds"] = time.time() - t0
    produced = sorted(f for f in os.listdir(args.out) if f != "PROVENANCE.md")
    if args.compare:
        info["compare"] = {"dir": args.compare, "files": {}}
        for f in produced:
            other = os.path.join(args.compare, f)
            same = os.path.exists(other) and sha256(other) == sha256(os.path.join(args.out, f))
            info["compare"]["files"][f] = same
            print(f"{'identical' if same else 'DIFFERS  '} {f}")
    for f in produced:
        p = os.path.join(args.out, f)
        print(f"{f:40s} {os.path.getsize(p):>10d}  {sha256(p)}")
    if args.only is None:
        write_provenance(args.out, info)
        print(f"wrote {os.path.join(args.out, 'PROVENANCE.md')}")
    print(f"total {info['total_seconds']:.1f} s")


if __name__ == "__main__":
    sys.exit(main())
