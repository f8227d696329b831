"""Benchmark of ``onnxsym weights`` (issue 2's speed and memory targets), ratios measured in one run.

Models (random weights, written under bench/_work/, rebuilt if missing):
* resnet50: ResNet-50-shaped convs and fc, embedded, ~100 MB;
* wide-ext: 7 wide 3×3 convs (2048→2048), ~1.06 GB in an external-data file.

For each model it measures, each in a fresh subprocess so peak memory is the run's own:
* ``onnx.load`` of the file (external data included) — the reference time;
* ``analyze_weights`` end to end (numba JIT cache warm: a warm-up call on a tiny model first);
* the statistics alone vs a naive vectorised-numpy version of them (mean kernel, seven
  transforms, per-kernel S), on the same arrays;
* peak RSS growth over the imports, against the model's size.
And ``onnxsym --version`` wall time.

Run: ``python bench/bench_weights.py`` (needs ~3 GB of disk, ~2 minutes on 2 cores).
"""
from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

WORK = Path(__file__).parent / "_work"

RESNET50 = []  # (cout, cin, k) per conv, in ResNet-50 order


def _resnet50_convs():
    convs = [(64, 3, 7)]
    cin = 64
    for width, blocks in [(64, 3), (128, 4), (256, 6), (512, 3)]:
        for b in range(blocks):
            convs += [(width, cin, 1), (width, width, 3), (width * 4, width, 1)]
            if b == 0:
                convs.append((width * 4, cin, 1))
            cin = width * 4
    return convs


def build(name):
    import onnx
    from onnx import TensorProto, helper as h, numpy_helper as nh

    path = WORK / f"{name}.onnx"
    if path.exists():
        return path
    WORK.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    nodes, inits = [], []
    convs = _resnet50_convs() if name == "resnet50" else [(2048, 2048, 3)] * 7
    prev, cprev = "x", convs[0][1]
    for i, (co, ci, k) in enumerate(convs):
        w = (rng.standard_normal((co, ci, k, k), dtype=np.float32) * 0.05)
        inits.append(nh.from_array(w, f"w{i}"))
        # a straight chain keeps the graph simple; channel counts are what matter here
        nodes.append(h.make_node("Conv", [prev if ci == cprev else "x", f"w{i}"], [f"c{i}"],
                                 pads=[k // 2] * 4, name=f"conv{i}"))
        prev, cprev = f"c{i}", co
    if name == "resnet50":
        inits.append(nh.from_array(rng.standard_normal((2048, 1000), dtype=np.float32), "fc"))
    x = h.make_tensor_value_info("x", TensorProto.FLOAT, [1, convs[0][1], 224, 224])
    y = h.make_tensor_value_info(prev, TensorProto.FLOAT, None)
    m = h.make_model(h.make_graph(nodes, "g", [x], [y], initializer=inits),
                     opset_imports=[h.make_opsetid("", 17)])
    m.ir_version = 8
    if name == "resnet50":
        onnx.save(m, str(path))
    else:
        onnx.save(m, str(path), save_as_external_data=True, location=f"{name}.bin", size_threshold=1024)
    return path


def naive_stats(w):
    """Vectorised numpy per layer: mean kernel, its seven transforms, per-kernel S."""
    w = np.asarray(w, dtype=np.float64)
    k = w.mean(axis=(0, 1))
    kk = w.reshape(-1, *w.shape[2:])

    def terms(x):  # x: [..., kh, kw]
        n = np.sqrt((x ** 2).sum(axis=(-2, -1), keepdims=True))
        x = x / np.where(n == 0, 1, n)
        imgs = [np.rot90(x, 1, axes=(-2, -1)), np.rot90(x, 2, axes=(-2, -1)), np.rot90(x, 3, axes=(-2, -1)),
                x[..., :, ::-1], x[..., ::-1, :], np.swapaxes(x, -1, -2),
                np.swapaxes(np.rot90(x, 2, axes=(-2, -1)), -1, -2)]
        return 1 - np.mean([np.sqrt(((t - x) ** 2).sum(axis=(-2, -1))) / 2 for t in imgs], axis=0)

    if w.shape[2] == 1:
        return None
    return terms(k), np.median(terms(kk))


def _hwm():
    """Peak resident set (VmHWM) of this process in bytes; ru_maxrss would carry the parent's."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def child(kind, path):
    """Runs in a subprocess: one measurement, printed as JSON."""
    import onnx

    from onnxsym.model.loading import load_model
    from onnxsym import analyze_weights
    from onnxsym.weights.symmetry import kernel_stats

    # warm the JIT (from numba's on-disk cache) on a tiny weight, outside the timing
    kernel_stats(np.random.default_rng(0).standard_normal((2, 2, 3, 3)).astype(np.float32))
    base = _hwm()
    t = time.perf_counter()
    if kind == "onnx.load":
        onnx.load(path)  # the reference: parse the file and its external data
    elif kind == "analyze":
        analyze_weights(path)
    elif kind in ("stats", "naive"):
        loaded = load_model(path)
        from onnxsym.weights.layers import find_conv_layers

        layers = find_conv_layers(loaded)
        t = time.perf_counter()
        for layer in layers:
            if kind == "stats":
                kernel_stats(layer.weight)
            else:
                naive_stats(layer.weight)
    elapsed = time.perf_counter() - t
    peak = _hwm()
    print(json.dumps({"seconds": elapsed, "peak_growth": peak - base}))


def measure(kind, path, repeat=3):
    """Best time and largest peak over ``repeat`` fresh processes."""
    runs = []
    for _ in range(repeat):
        out = subprocess.run([sys.executable, __file__, "--child", kind, str(path)], check=True,
                             capture_output=True, text=True).stdout
        runs.append(json.loads(out.strip().splitlines()[-1]))
    return {"seconds": min(r["seconds"] for r in runs), "peak_growth": max(r["peak_growth"] for r in runs)}


def _process_seconds(cmd, repeat=3):
    """Best wall time of ``cmd`` as a fresh process (stdout discarded)."""
    best = None
    for _ in range(repeat):
        t = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        elapsed = time.perf_counter() - t
        best = elapsed if best is None else min(best, elapsed)
    return best


def main():
    print(f"machine: {os.cpu_count()} cores, python {sys.version.split()[0]}, numpy {np.__version__}")
    t = time.perf_counter()
    subprocess.run(["onnxsym", "--version"], check=True, capture_output=True)
    print(f"onnxsym --version: {time.perf_counter() - t:.3f} s (target < 0.3 s)")
    for name in ("resnet50", "wide-ext"):
        path = build(name)
        size = path.stat().st_size + sum(p.stat().st_size for p in WORK.glob(f"{name}.bin"))
        ref = measure("onnx.load", path)
        ours = measure("analyze", path)
        stats = measure("stats", path, 2)
        naive = measure("naive", path, 1)
        print(f"\n{name}: {size / 1e6:.0f} MB")
        print(f"  onnx.load            {ref['seconds']:.3f} s  peak +{ref['peak_growth'] / 1e6:.0f} MB")
        print(f"  analyze_weights      {ours['seconds']:.3f} s  peak +{ours['peak_growth'] / 1e6:.0f} MB")
        print(f"  ratio time  analyze / onnx.load = {ours['seconds'] / ref['seconds']:.2f}  (target <= 1.5)")
        print(f"  ratio peak  analyze / model size = {ours['peak_growth'] / size:.2f}  (target <= 1.3; onnx.load: {ref['peak_growth'] / size:.2f})")
        print(f"  statistics: numba {stats['seconds']:.3f} s vs naive numpy {naive['seconds']:.3f} s "
              f"-> {naive['seconds'] / stats['seconds']:.1f}x faster (target >= 3)")
        cli = _process_seconds(["onnxsym", "weights", str(path), "--format", "json"])
        plain = _process_seconds([sys.executable, "-c", f"import onnx; onnx.load({str(path)!r})"])
        print(f"  whole processes: `onnxsym weights --format json` {cli:.2f} s vs `python -c onnx.load` "
              f"{plain:.2f} s -> {cli / plain:.2f} (Python start, imports, numba loading its cached kernels and "
              "the padding section with its size search included)")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3])
    else:
        main()
