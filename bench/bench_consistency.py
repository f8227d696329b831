"""CPU benchmark: the whole consistency measurement vs raw onnxruntime inference, in one run.

    python bench/bench_consistency.py [--model models/mobilenet_v2.onnx] [--images N]
                                      [--batch-size 32] [--repeats 3]

Both sides use the same onnxruntime session (CPUExecutionProvider, default threads), the same
model and the same batch size:

* raw: ``session.run`` on one prepared float32 batch, repeated (no preprocessing at all);
* consistency: ``measure_consistency(...)`` end to end - decoding, resizing, cropping, mirroring,
  normalising, the repeat check, padding, statistics - on N images (the shipped photos and crops
  of them, so the run is long enough to time), 5 pairs per image: 12 model inputs per image.

Throughput is model inputs per second; the ratio consistency / raw is the number to watch
(target >= 0.85). Runs alternate raw / consistency; the best of ``--repeats`` each is compared
(the machine may be shared: best-of filters out other processes), and each repeat's own ratio
is printed too.
Without models/mobilenet_v2.onnx a small built-in CNN is used (and said so).
"""
from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from onnxsym import measure_consistency  # noqa: E402
from onnxsym.consistency.images import ImageSet, load_images  # noqa: E402
from onnxsym.consistency.runtime import create_session  # noqa: E402


def small_cnn():
    from onnx import TensorProto as T, helper as h, numpy_helper as nh

    rng = np.random.default_rng(0)
    nodes, inits, c_in, x = [], [], 3, "x"
    for i, c in enumerate((32, 64, 128, 256)):
        w = f"w{i}"
        inits.append(nh.from_array((rng.normal(size=(c, c_in, 3, 3)) * 0.1).astype(np.float32), w))
        nodes += [h.make_node("Conv", [x, w], [f"c{i}"], kernel_shape=[3, 3], pads=[1, 1, 1, 1],
                              strides=[2, 2]), h.make_node("Relu", [f"c{i}"], [f"r{i}"])]
        x, c_in = f"r{i}", c
    inits.append(nh.from_array(rng.normal(size=(256, 1000)).astype(np.float32), "fc"))
    nodes += [h.make_node("GlobalAveragePool", [x], ["g"]), h.make_node("Flatten", ["g"], ["f"]),
              h.make_node("MatMul", ["f", "fc"], ["logits"])]
    g = h.make_graph(nodes, "cnn", [h.make_tensor_value_info("x", T.FLOAT, ["N", 3, 224, 224])],
                     [h.make_tensor_value_info("logits", T.FLOAT, ["N", 1000])], inits)
    m = h.make_model(g, opset_imports=[h.make_opsetid("", 17)])
    m.ir_version = 10
    return m


def bench_images(n: int) -> ImageSet:
    """The shipped photos plus crops of them (different framings), n in all."""
    base = load_images(None)
    photos = [base.load(i) for i in range(len(base))]
    images, names = [], []
    k = 0
    while len(images) < n:
        for i, p in enumerate(photos):
            if len(images) == n:
                break
            h, w = p.shape[:2]
            f = 1.0 - 0.1 * (k % 4)  # 100 %, 90 %, 80 %, 70 % crops
            ch, cw = int(h * f), int(w * f)
            y, x = (h - ch) * (k % 3) // 2, (w - cw) * ((k + 1) % 3) // 2
            img = np.ascontiguousarray(p[y:y + ch, x:x + cw])
            if k % 2:
                img = np.ascontiguousarray(img[:, ::-1])
            images.append(img)
            names.append(f"{base.names[i]}#{k}")
        k += 1
    return ImageSet(names=names, sources=images, source=f"{n} shipped photos and crops")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default=os.path.join(ROOT, "models", "mobilenet_v2.onnx"))
    ap.add_argument("--images", type=int, default=64)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--pairs-per-image", type=int, default=5)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()

    model, label = args.model, args.model
    if not os.path.exists(model):
        model, label = small_cnn(), "built-in 4-layer CNN (models/mobilenet_v2.onnx not found)"
    rs = create_session(model, "cpu")
    inp = rs.session.get_inputs()[0]
    out = rs.session.get_outputs()[0].name
    size = inp.shape[2] if isinstance(inp.shape[2], int) else 224
    images = bench_images(args.images)
    per_image = 2 * args.pairs_per_image + 2
    useful = args.images * per_image
    b = args.batch_size
    x = np.random.default_rng(0).normal(size=(b, 3, size, size)).astype(np.float32)
    n_runs = max(1, round(useful / b))
    # warm-up: onnxruntime's first runs and numba's compilation (cached on disk afterwards)
    rs.session.run([out], {inp.name: x})
    measure_consistency(label, ImageSet(names=images.names[:2], sources=images.sources[:2],
                                        source="warm-up"), session=rs, batch_size=b)

    raw_best, cons_best, report, pair_ratios = 0.0, 0.0, None, []
    for _ in range(args.repeats):
        t = time.perf_counter()
        for _ in range(n_runs):
            rs.session.run([out], {inp.name: x})
        raw = n_runs * b / (time.perf_counter() - t)
        t = time.perf_counter()
        report = measure_consistency(label, images, session=rs, batch_size=b,
                                     pairs_per_image=args.pairs_per_image)
        cons = useful / (time.perf_counter() - t)
        raw_best, cons_best = max(raw_best, raw), max(cons_best, cons)
        pair_ratios.append(cons / raw)

    import onnxruntime as ort

    print(f"model        {label}")
    print(f"onnxruntime  {ort.__version__} on {rs.provider}, {os.cpu_count()} CPU cores, batch {b}")
    print(f"images       {args.images} ({useful} model inputs per measurement, "
          f"{report.inputs_run} run incl. repeat check and padding)")
    print(f"raw          {raw_best:8.1f} inputs/s  (session.run on one prepared batch)")
    print(f"consistency  {cons_best:8.1f} inputs/s  ({cons_best / per_image:.1f} images/s, whole measurement)")
    print(f"ratio        {cons_best / raw_best:8.3f}  (best / best; target >= 0.85)")
    print(f"ratios       {' '.join(f'{r:.3f}' for r in pair_ratios)}  (each repeat: consistency / "
          f"the raw run just before it; median {float(np.median(pair_ratios)):.3f})")
    print(f"result       shift {report.shift.consistency:.3f} {tuple(round(v, 3) for v in report.shift.ci95)}, "
          f"flip {report.flip.consistency:.3f} {tuple(round(v, 3) for v in report.flip.ci95)}")


if __name__ == "__main__":
    main()
