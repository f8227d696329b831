"""Benchmark of ``onnxsym study`` (issue 12's speed targets), ratios measured in one run.

Models: the 11 digits CNNs of models/zoo (360 test digits, preset unit, CPU provider, 5 pairs).

1. **Study vs audits.** One ``onnxsym study`` process over the 11 models (imports and numba's
   kernel loading paid once; the statistics included; no cache) against 11 ``onnxsym audit``
   processes, one per model, each paying its own imports and kernel loading — what a user does
   without the study. "Work" is wall time of whole processes on both sides (target: study ≤ 1.1×
   the sum). Also printed: the analysis alone, the sum of the study's per-model times against the
   sum of the audits' own ``total_s`` (inside each process, imports excluded).
   CPU time (user + system) of the processes is printed too: it is what the work costs whatever
   else the machine runs.
2. **--jobs 2 vs --jobs 1.** Whole ``onnxsym study`` processes, best of ``--repeats`` each,
   interleaved; the rows (timing left out) must be identical (target: ≥ 1.6× faster).
   Printed beside it, the machine's own ceiling: two CPU-bound Python processes at once against
   one (a 2-vCPU machine whose vCPUs share a core, or a busy host, cannot give 2×), and how many
   cores ``--jobs 1`` already keeps busy (onnxruntime's intra-op threads): its CPU time over the
   cores bounds what any number of processes can reach.

Run: ``python bench/bench_study.py [--repeats 3]`` (about 3 minutes on 2 cores).
"""
from __future__ import annotations

import argparse
import glob
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ZOO = ROOT / "models" / "zoo"
COMMON = ["--images", str(ZOO / "digits_test.npy"), "--preset", "unit", "--provider", "cpu"]
ONNXSYM = [sys.executable, "-m", "onnxsym"]


CPU = []  # CPU seconds (user + system, the process and the workers it waited for) of each wall() call


def wall(cmd) -> tuple[float, subprocess.CompletedProcess]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    elapsed = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    CPU.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return elapsed, r


def study(models, jobs, out) -> tuple[float, dict]:
    t, r = wall(ONNXSYM + ["study", *models, *COMMON, "--labels", str(ZOO / "digits_test_labels.json"),
                           "--jobs", str(jobs), "--json", out, "-q"])
    if r.returncode != 0:
        sys.exit(f"study failed ({r.returncode}): {r.stderr.strip()}")
    return t, json.load(open(out))


def rows_without_timing(doc) -> list:
    return [{k: v for k, v in r.items() if k != "timing"} for r in doc["rows"]]


_BUSY = "s=0\nfor i in range(30_000_000): s+=i\n"


def parallel_ceiling() -> float:
    """(time of one CPU-bound process) × 2 / (time of two at once): 2.0 on two free cores."""
    t1, _ = wall([sys.executable, "-c", _BUSY])
    t = time.perf_counter()
    ps = [subprocess.Popen([sys.executable, "-c", _BUSY]) for _ in range(2)]
    for p in ps:
        p.wait()
    return 2 * t1 / (time.perf_counter() - t)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    models = sorted(glob.glob(str(ZOO / "digits_*.onnx")))
    tmp = tempfile.mkdtemp(prefix="bench_study_")
    wall(ONNXSYM + ["--version"])  # warm the file cache

    # 1. the study against one audit process per model
    t_study, doc = study(models, 1, os.path.join(tmp, "s1.json"))
    cpu_study = CPU[-1]
    audits, inner, cpu_audits = [], [], []
    for m in models:
        out = os.path.join(tmp, "a.json")
        t, r = wall(ONNXSYM + ["audit", m, *COMMON, "--json", out, "-q"])
        if r.returncode not in (0, 1):
            sys.exit(f"audit {m} failed ({r.returncode}): {r.stderr.strip()}")
        audits.append(t)
        cpu_audits.append(CPU[-1])
        inner.append(json.load(open(out))["provenance"]["timings"]["total_s"])
    per_model = [r["timing"]["seconds"] for r in doc["rows"]]
    print(f"models: {len(models)} digits CNNs, {doc['settings']['image_count']} images, 5 pairs, CPU")
    print(f"study, one process:            {t_study:6.2f} s  (per-model analysis {sum(per_model):.2f} s)")
    print(f"audits, one process per model: {sum(audits):6.2f} s  (inside the processes {sum(inner):.2f} s)")
    print(f"  ratio study / audits, whole processes: {t_study / sum(audits):.2f}  (target ≤ 1.1)")
    print(f"  CPU time (user + system): study {cpu_study:.2f} s, audits {sum(cpu_audits):.2f} s, "
          f"ratio {cpu_study / sum(cpu_audits):.2f}")
    print(f"  ratio analysis / audits' own total_s:  {sum(per_model) / sum(inner):.2f}")

    # 2. --jobs 2 against --jobs 1
    ones, twos, same, cpu1 = [], [], True, []
    for k in range(args.repeats):
        t1, d1 = study(models, 1, os.path.join(tmp, "j1.json"))
        cpu1.append(CPU[-1])
        t2, d2 = study(models, 2, os.path.join(tmp, "j2.json"))
        ones.append(t1)
        twos.append(t2)
        same = same and rows_without_timing(d1) == rows_without_timing(d2) \
            and d1["correlations"] == d2["correlations"] and d1["findings"] == d2["findings"]
    ceiling = [parallel_ceiling() for _ in range(args.repeats)]
    print(f"--jobs 1: best {min(ones):.2f} s of {', '.join(f'{t:.2f}' for t in ones)}")
    print(f"--jobs 2: best {min(twos):.2f} s of {', '.join(f'{t:.2f}' for t in twos)}")
    print(f"  speed-up jobs 2 / jobs 1 (best/best): {min(ones) / min(twos):.2f}  (target ≥ 1.6); rows identical: {same}")
    best = ones.index(min(ones))
    cores = os.cpu_count() or 1
    # --jobs 1 is not one core: onnxruntime's and numba's threads already use several, so no
    # number of processes can beat (its CPU time / cores)
    print(f"  --jobs 1 keeps {cpu1[best] / ones[best]:.2f} of {cores} cores busy (CPU {cpu1[best]:.2f} s): "
          f"no --jobs can beat {ones[best] / (cpu1[best] / cores):.2f}x on {cores} cores")
    print(f"  machine ceiling, 2 CPU-bound processes vs 1: {max(ceiling):.2f} (runs: "
          f"{', '.join(f'{c:.2f}' for c in ceiling)})")
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, Python "
          f"{platform.python_version()}, {time.strftime('%Y-%m-%d')}")


if __name__ == "__main__":
    main()
