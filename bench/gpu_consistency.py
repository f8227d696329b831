"""The consistency measurement on each pipeline against raw IO-binding inference (one prepared run).

    python bench/gpu_consistency.py [--provider cuda|cpu] [--model models/mobilenet_v2.onnx]
                                    [--images 512] [--inputs-per-run 256] [--seconds 10]

What it measures, in one process on one device, with the product's own code:

1. raw     - the model alone, IO binding, a float32 batch of ``--inputs-per-run`` model inputs
             already on the device, output left there: model inputs per second (the ceiling).
2. device  - ``onnxsym.measure_consistency(..., pipeline="device")``: uint8 base images uploaded,
             crops / mirrors / normalisation / layout in the session, classifier output reduced
             there (:mod:`onnxsym.consistency.device`). Model inputs per second of the whole
             measurement (decode + resize of the photos included: a run over ``--images`` images,
             the shipped photos tiled, ``pairs_per_image`` 5, so 12 inputs per image).
3. host    - the same with ``pipeline="host"`` (numpy crops on a producer thread).

Prints device/raw and device/host ratios (the issue's target on a GPU: device >= 0.9 x raw on
MobileNetV2 and ResNet-50), checks that both pipelines give identical numbers (every image's
top-1, shift agreement and flip; the shift and flip consistency), and ends with one greppable
line ``gpu_consistency: ...``. Exit 1 when the pipelines disagree.

On a GPU machine (Linux x86_64, CUDA 13 driver), with onnxruntime-gpu 1.31 (staged as described in
``shared/tools/stage-ort-gpu.sh``): ``import torch`` first loads the CUDA 13 / cuDNN libraries of
that machine's torch into the process (``--preload-torch``; onnxsym itself never imports torch).
ResNet-50: ``python bench/build_resnet50.py`` (random weights, onnx + numpy only), then
``--model bench/_work/resnet50_runnable.onnx``.
"""
from __future__ import annotations

import argparse
import importlib
import os
import sys
import tempfile
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)


def raw_throughput(session, in_name, out_name, shape, device, seconds) -> float:
    """Model inputs per second of IO-binding runs on a float32 batch already on the device."""
    import onnxruntime as ort

    x = np.random.default_rng(0).normal(size=shape).astype(np.float32)
    io = session.io_binding()
    io.bind_ortvalue_input(in_name, ort.OrtValue.ortvalue_from_numpy(x, device, 0))
    io.bind_output(out_name, device)
    for _ in range(2):  # warm-up (cuDNN algorithm search, allocations)
        session.run_with_iobinding(io)
    n, t0 = 0, time.perf_counter()
    while n < 3 or time.perf_counter() - t0 < seconds:
        session.run_with_iobinding(io)
        n += 1
    return n * shape[0] / (time.perf_counter() - t0)


def tiled_images(n: int, side: int, folder: str) -> str:
    """The shipped photos resized to side×side and tiled to ``n`` images, as one .npy file."""
    from onnxsym.consistency.images import load_images
    from onnxsym.consistency.preprocess import resize_center_square

    photos = load_images(None)
    base = [resize_center_square(photos.load(i), (side, side)) for i in range(len(photos))]
    arr = np.stack([base[i % len(base)] for i in range(n)])
    path = os.path.join(folder, f"photos_{n}.npy")
    np.save(path, arr)
    return path


def same_numbers(a: dict, b: dict) -> list:
    """Where two consistency documents differ in what they measured."""
    out = []
    for key in ("shift", "flip"):
        if a[key]["consistency"] != b[key]["consistency"] or a[key]["ci95"] != b[key]["ci95"]:
            out.append(f"{key}: {a[key]['consistency']} vs {b[key]['consistency']}")
    for ra, rb in zip(a["per_image"], b["per_image"]):
        for k in ("top1", "shift_agree", "shift_mean", "flip", "mirror_top1", "worst_pair_top1"):
            if ra.get(k) != rb.get(k):
                out.append(f"{ra['name']} {k}: {ra.get(k)} vs {rb.get(k)}")
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default=os.path.join(ROOT, "models", "mobilenet_v2.onnx"))
    ap.add_argument("--provider", choices=["cuda", "cpu"], default="cuda")
    ap.add_argument("--images", type=int, default=512, help="images in the measurement (photos tiled)")
    ap.add_argument("--inputs-per-run", type=int, default=256)
    ap.add_argument("--seconds", type=float, default=10.0, help="timing budget of the raw path")
    ap.add_argument("--preload-torch", action="store_true", help="import torch first (its CUDA libraries)")
    args = ap.parse_args()
    if args.preload_torch:
        importlib.import_module("torch")

    import onnxruntime as ort

    import onnxsym
    from onnxsym.consistency.preprocess import input_spec
    from onnxsym.consistency.runtime import create_session
    from onnxsym.model import load_model

    loaded = load_model(args.model)
    raw = create_session(loaded, args.provider)
    if raw.fallback:
        print(f"note: {raw.fallback}")
    spec = input_spec(raw.session.get_inputs(), model=loaded.model)
    out_name = raw.session.get_outputs()[0].name
    device = "cuda" if raw.provider == "cuda" else "cpu"
    shape = ((args.inputs_per_run, 3, spec.height, spec.width) if spec.layout == "NCHW"
             else (args.inputs_per_run, spec.height, spec.width, 3))
    raw_ips = raw_throughput(raw.session, spec.name, out_name, shape, device, args.seconds)
    del raw

    docs, ips = {}, {}
    with tempfile.TemporaryDirectory() as tmp:
        images = tiled_images(args.images, max(spec.height, spec.width) + 64, tmp)
        for pipeline in ("device", "host"):
            r = onnxsym.measure_consistency(loaded, images, provider=args.provider, pipeline=pipeline,
                                            batch_size=args.inputs_per_run, seed=0)
            docs[pipeline] = r.to_dict()
            ips[pipeline] = r.inputs_per_second
    problems = same_numbers(docs["device"], docs["host"])
    card = device
    try:
        import subprocess

        card = subprocess.run(["nvidia-smi", "--query-gpu=name,driver_version", "--format=csv,noheader"],
                              capture_output=True, text=True, timeout=10).stdout.strip() or card
    except Exception:  # noqa: BLE001 - no nvidia-smi: the CPU
        pass
    d = docs["device"]
    print(f"model        {args.model}  input {spec.height}x{spec.width} {spec.layout}, "
          f"{args.inputs_per_run} model inputs per run")
    print(f"runtime      onnxruntime {ort.__version__} on {d['provider']} ({card})")
    print(f"raw          {raw_ips:10.1f} inputs/s  (IO binding, float32 already on the device)")
    print(f"device       {ips['device']:10.1f} inputs/s  (measure_consistency, pipeline device; "
          f"{d['images']} images, {d['timing']['inputs_run']} inputs)")
    print(f"host         {ips['host']:10.1f} inputs/s  (measure_consistency, pipeline host)")
    print(f"ratios       device/raw {ips['device'] / raw_ips:.3f}   device/host {ips['device'] / ips['host']:.3f}")
    print(f"numbers      {'identical' if not problems else f'{len(problems)} differences'} "
          f"(shift {d['shift']['consistency']}, flip {d['flip']['consistency']})")
    for p in problems[:10]:
        print(f"   {p}")
    print(f"gpu_consistency: provider {d['provider']} raw {raw_ips:.0f}/s device {ips['device']:.0f}/s "
          f"host {ips['host']:.0f}/s device/raw {ips['device'] / raw_ips:.3f} "
          f"device/host {ips['device'] / ips['host']:.3f} identical {not problems}")
    sys.exit(0 if not problems else 1)


if __name__ == "__main__":
    main()
