"""Intervals: Wilson for proportions (also on an effective, non-integer n), cluster-robust
intervals for per-image means, and the distribution-free interval of a median.

Quantiles come from scipy (``scipy.special``: the light part, no ``scipy.stats`` import). The
Wilson interval is written here because the shift protocol needs it on an *effective* number of
pairs n / deff, which is not an integer — scipy's ``binomtest(...).proportion_ci`` takes integer
counts only.
"""
from __future__ import annotations

import math

import numpy as np

Z95 = 1.959963984540054


def t975(df: float) -> float:
    """97.5 % quantile of Student's t with ``df`` degrees of freedom (z for df = inf)."""
    if not math.isfinite(df):
        return Z95
    from scipy.special import stdtrit

    return float(stdtrit(max(float(df), 1.0), 0.975))


def wilson(successes: float, n: float, z: float = Z95) -> tuple[float, float] | None:
    """Wilson score interval for a proportion; ``n`` may be an effective (non-integer) size."""
    if n <= 0:
        return None
    p = successes / n
    z2 = z * z
    denom = 1.0 + z2 / n
    centre = (p + z2 / (2 * n)) / denom
    half = z * math.sqrt(max(p * (1 - p) / n + z2 / (4 * n * n), 0.0)) / denom
    lo = 0.0 if successes <= 0 else max(0.0, centre - half)
    hi = 1.0 if successes >= n else min(1.0, centre + half)
    return (lo, hi)


def cluster_variance(totals: np.ndarray, sizes: np.ndarray) -> float | None:
    """Variance of the ratio estimator sum(totals)/sum(sizes) with images as clusters."""
    k = len(totals)
    if k < 2:
        return None
    m = float(sizes.sum())
    r = float(totals.sum()) / m
    resid = totals - r * sizes
    return k / (k - 1) * float((resid ** 2).sum()) / (m * m)


def clustered_proportion(agree, sizes):
    """(p, ci95, design effect) for pair agreement clustered by image.

    The Wilson interval is computed on n / (deff * (t/z)^2): the design effect for the clustering
    and the small-sample factor (t_{k-1} instead of z for k images) of a cluster-robust variance.
    """
    agree = np.asarray(agree, float)
    sizes = np.asarray(sizes, float)
    n = float(sizes.sum())
    if n == 0:
        return None, None, None
    p = float(agree.sum()) / n
    var = cluster_variance(agree, sizes)
    binom = p * (1 - p) / n
    if var is None or binom <= 0:
        deff = 1.0
    else:
        deff = min(max(var / binom, 1.0), float(sizes.max()))
    k = int(np.count_nonzero(sizes))
    small = (t975(k - 1) / Z95) ** 2 if k > 1 else 1.0
    return p, wilson(p * n / (deff * small), n / (deff * small)), deff


def clustered_mean(totals, sizes, lo=-1.0, hi=1.0):
    """(mean, ci95) of per-image totals over per-image sizes: mean ± t(k-1) cluster-robust
    standard errors, clipped to [lo, hi]; no interval for fewer than two images."""
    totals = np.asarray(totals, float)
    sizes = np.asarray(sizes, float)
    n = float(sizes.sum())
    if n == 0:
        return None, None
    r = float(totals.sum()) / n
    var = cluster_variance(totals, sizes)
    if var is None:
        return r, None
    half = t975(int(np.count_nonzero(sizes)) - 1) * math.sqrt(var)
    return r, (max(lo, r - half), min(hi, r + half))


def median_ci(values, level: float = 0.95):
    """Median with a distribution-free CI from order statistics (binomial); no CI when n < 6.

    The interval is [x_(j), x_(n-j+1)] with j the largest rank whose binomial tail
    P(Bin(n, 1/2) <= j - 1) stays within (1 - level) / 2.
    """
    from scipy.special import bdtr

    x = np.sort(np.asarray(values, dtype=float))
    n = x.size
    if n == 0:
        return None, None
    med = float(np.median(x))
    if n < 6:
        return med, None
    alpha = (1 - level) / 2
    tails = bdtr(np.arange(n), n, 0.5)   # P(Bin(n, 1/2) <= k), k = 0 .. n-1
    j = int(np.searchsorted(tails, alpha, side="right"))
    if j == 0:
        return med, None
    return med, [float(x[j - 1]), float(x[n - j])]
