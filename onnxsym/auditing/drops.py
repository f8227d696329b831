"""Whether a drop in consistency against a baseline report is more than noise.

Same images, seed and protocol as the baseline (``paired``): the two runs saw the same images, so
the drop is tested per image — a sign-flip permutation test on the per-image differences of shift
agreement (or of mean cosine), McNemar's exact test on the images whose flip agreement changed
(binary outcomes). Otherwise (``unpaired``): the difference of the two estimates against their
combined standard error, read off each 95 % interval. One-sided: the test asks whether the value
fell. scipy.stats does the tests.
"""
from __future__ import annotations

import math

import numpy as np

from ..stats import Z95

ALPHA = 0.05
PERMUTATIONS = 9999


def drop_test(kind: str, before: dict | None, now: dict | None, paired: bool, values: tuple):
    """(test name, one-sided p-value) for a drop of ``kind`` ("shift" | "flip") from the baseline's
    measurement ``before`` to ``now`` (:func:`onnxsym.auditing.facts.measurement_of`), whose
    estimates are ``values`` (before, now); (name, None) when there is nothing to test with."""
    if paired and before and now:
        a, b = _aligned(kind, before, now)
        if a is not None and len(a):
            binary = kind == "flip" and now.get("metric") != "cosine_similarity"
            return ("McNemar exact test, paired by image", _mcnemar(a, b)) if binary else \
                ("sign-flip permutation test, paired by image", _paired_permutation(a, b))
    return "two estimates and their 95 % intervals (unpaired)", _unpaired(kind, before, now, *values)


def _aligned(kind, before, now):
    """Per-image values of both runs, for the images both have (by name)."""
    def values(m):
        out = {}
        for r in m.get("per_image") or []:
            if kind == "flip":
                v = r.get("flip")
            elif r.get("shift_agree") is not None and r.get("shift_pairs"):
                v = r["shift_agree"] / r["shift_pairs"]
            else:
                v = r.get("shift_mean")
            if v is not None and r.get("name") is not None:
                out[r["name"]] = float(v)
        return out

    va, vb = values(before), values(now)
    names = sorted(set(va) & set(vb))
    if not names:
        return None, None
    return np.array([va[n] for n in names]), np.array([vb[n] for n in names])


def _paired_permutation(a, b) -> float:
    from scipy.stats import permutation_test

    d = a - b
    if not np.any(d):
        return 1.0
    res = permutation_test((d,), np.mean, permutation_type="samples", alternative="greater",
                           n_resamples=PERMUTATIONS, random_state=0)
    return float(res.pvalue)


def _mcnemar(a, b) -> float:
    from scipy.stats import binomtest

    lost = int(np.sum((a > 0.5) & (b < 0.5)))     # agreed before, not now
    gained = int(np.sum((a < 0.5) & (b > 0.5)))
    if lost + gained == 0:
        return 1.0
    return float(binomtest(lost, lost + gained, 0.5, alternative="greater").pvalue)


def _unpaired(kind, before, now, va, vb):
    def interval(m):
        ci = ((m or {}).get("ci95") or {}).get(kind)
        return ci if ci and None not in ci else None

    ca, cb = interval(before), interval(now)
    if ca is None or cb is None or va is None or vb is None:
        return None
    se = math.hypot((ca[1] - ca[0]) / (2 * Z95), (cb[1] - cb[0]) / (2 * Z95))
    if se == 0:
        return 0.0 if va > vb else 1.0
    from scipy.special import ndtr

    return float(1 - ndtr((va - vb) / se))
