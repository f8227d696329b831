"""Benchmark of ``--engine ray`` (issue 13): Ray against the local engine, measured in one run.

Library calls in one process (the command line adds the same imports to both sides):

1. **Ray's fixed cost**: starting a local instance (``RayEngine()``: 127.0.0.1 only, no dashboard)
   and stopping it (``close()``), and the fixed cost of one Ray Data run (a consistency run of
   ``--tiny`` images on Ray minus the same run locally: the actor pool starting, each actor
   importing onnxsym and onnxruntime and opening its session, Ray Data planning the run).
2. **A study of 20 models**: the .onnx files of models/zoo and models/ (15), repeated to 20 (copies in
   a temporary folder), on the first ``--study-images`` test digits (preset unit, CPU provider, 2
   pairs per image): local engine (``jobs=1``, one process, onnxruntime on every core; and
   ``jobs=2``, two spawned workers) against Ray (a task per model, 1 CPU and 1 thread each). The
   rows, families, correlations and findings must be identical.
3. **Consistency of one model** (models/zoo/digits_s2_zero_flip.onnx, 5 pairs per image) on 2 000 and
   8 000 images (the 360 test digits tiled; offsets are drawn per image index, so the crops differ):
   local (one process, onnxruntime on every core) against Ray Data (an actor per CPU, 1 thread each).
   The reports (timing left out) must be identical.

Each figure is the best of ``--repeats`` (local and Ray interleaved); ratios are Ray / local time
(below 1: Ray is faster). Run: ``python bench/bench_ray.py [--repeats 1]`` (about 4 minutes on 2 cores).
"""
from __future__ import annotations

import argparse
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
ZOO = ROOT / "models" / "zoo"
MODEL = ZOO / "digits_s2_zero_flip.onnx"
CONSISTENCY = dict(provider="cpu", preset="unit", pairs_per_image=5)


def timed(fn):
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def best(fn, repeats):
    runs = [timed(fn) for _ in range(repeats)]
    return min(t for t, _ in runs), runs[-1][1], [t for t, _ in runs]


def report(rep) -> dict:
    d = rep.to_dict()
    d.pop("timing")
    return d


def study_same(a, b) -> bool:
    da, db = a.to_dict(), b.to_dict()
    rows = [[{k: v for k, v in r.items() if k != "timing"} for r in d["rows"]] for d in (da, db)]
    return rows[0] == rows[1] and all(da[k] == db[k] for k in ("families", "correlations", "findings"))


def twenty_models(tmp: Path) -> list:
    found = sorted(ZOO.glob("*.onnx")) + sorted((ROOT / "models").glob("*.onnx"))
    out = [str(p) for p in found]
    k = 0
    while len(out) < 20:  # copies: other files (their own rows), the same weights (one family)
        src = found[k % len(found)]
        dst = tmp / f"copy{k}_{src.name}"
        shutil.copy(src, dst)
        out.append(str(dst))
        k += 1
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--study-images", type=int, default=120)
    ap.add_argument("--tiny", type=int, default=200)
    ap.add_argument("--sizes", type=int, nargs="+", default=[2000, 8000])
    args = ap.parse_args()

    import onnxsym  # noqa: F401  (imports paid before anything is timed)
    from onnxsym.consistency import measure
    from onnxsym.engines.ray import RayEngine
    from onnxsym.study import study

    tmp = Path(tempfile.mkdtemp(prefix="bench_ray_"))
    digits = np.load(ZOO / "digits_test.npy")
    sets = {}
    for n in [args.tiny, *args.sizes]:
        sets[n] = str(tmp / f"digits_{n}.npy")
        np.save(sets[n], np.concatenate([digits] * (-(-n // len(digits))))[:n])
    study_npy = str(tmp / "study.npy")
    np.save(study_npy, digits[:args.study_images])
    models = twenty_models(tmp)
    skw = dict(images=study_npy, preset="unit", provider="cpu", pairs_per_image=2)
    measure(str(MODEL), sets[args.tiny], **CONSISTENCY)  # warm: numba's kernels, the file cache

    # 1. Ray's fixed costs
    t_start, engine = timed(RayEngine)
    print(engine.summary())
    t_local_tiny, _o, _ = best(lambda: measure(str(MODEL), sets[args.tiny], **CONSISTENCY), args.repeats)
    t_ray_tiny, _o, _ = best(lambda: measure(str(MODEL), sets[args.tiny], engine=engine, **CONSISTENCY), args.repeats)

    # 2. a study of 20 models
    t_s1, s1, r_s1 = best(lambda: study(models, jobs=1, **skw), args.repeats)
    t_s2, s2, r_s2 = best(lambda: study(models, jobs=2, **skw), args.repeats)
    t_sr, sr, r_sr = best(lambda: study(models, engine=engine, **skw), args.repeats)
    same_study = study_same(s1, sr) and study_same(s1, s2)

    # 3. consistency at 2 000 and 8 000 images
    cons = []
    for n in args.sizes:
        t_l, a, r_l = best(lambda: measure(str(MODEL), sets[n], **CONSISTENCY), args.repeats)
        t_r, b, r_r = best(lambda: measure(str(MODEL), sets[n], engine=engine, **CONSISTENCY), args.repeats)
        cons.append((n, t_l, t_r, report(a) == report(b), r_l, r_r))
    t_stop, _ = timed(engine.close)

    print(f"\nRay's fixed cost: start {t_start:.2f} s, stop {t_stop:.2f} s; one Ray Data run ({args.tiny} images): "
          f"{t_ray_tiny:.2f} s against {t_local_tiny:.2f} s locally, so ≈ {t_ray_tiny - t_local_tiny:.2f} s fixed")
    print(f"\nstudy, {len(models)} models ({args.study_images} digits, 2 pairs, CPU provider):")
    print(f"  local jobs=1: {t_s1:6.2f} s   local jobs=2: {t_s2:6.2f} s   ray: {t_sr:6.2f} s")
    print(f"  ratio ray / local jobs=1: {t_sr / t_s1:.2f}   ray / local jobs=2: {t_sr / t_s2:.2f}   "
          f"identical rows, families, correlations, findings: {same_study}")
    print(f"\nconsistency of {MODEL.name} ({CONSISTENCY['pairs_per_image']} pairs per image):")
    for n, t_l, t_r, same, r_l, r_r in cons:
        print(f"  {n:5d} images: local {t_l:6.2f} s ({n / t_l:5.0f} images/s)   ray {t_r:6.2f} s ({n / t_r:5.0f} images/s)"
              f"   ratio ray / local {t_r / t_l:.2f}   identical report: {same}")
    if len(cons) >= 2:
        (n1, l1, r1, *_), (n2, l2, r2, *_) = cons[0], cons[-1]
        per_l, per_r = (l2 - l1) / (n2 - n1), (r2 - r1) / (n2 - n1)
        print(f"  marginal cost per image (from the two sizes): local {1000 * per_l:.2f} ms, ray {1000 * per_r:.2f} ms;"
              f" intercept: local {l1 - per_l * n1:.2f} s, ray {r1 - per_r * n1:.2f} s")
    load = os.getloadavg() if hasattr(os, "getloadavg") else ("?",)
    print(f"\nmachine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, Python "
          f"{platform.python_version()}, Ray {engine.ray.__version__}, load average {load[0]:.2f}, "
          f"{time.strftime('%Y-%m-%d')}")
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
