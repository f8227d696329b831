"""onnxsym.stats: Wilson intervals (on effective, non-integer n too), cluster-robust intervals of
proportions and means over images, t quantiles, and the distribution-free interval of a median."""
from __future__ import annotations

import math

import numpy as np
import pytest

from onnxsym.stats import Z95, cluster_variance, clustered_mean, clustered_proportion, median_ci, t975, wilson


def test_wilson_reference_values():
    lo, hi = wilson(8, 10)
    assert abs(lo - 0.4902) < 1e-3 and abs(hi - 0.9433) < 1e-3
    lo, hi = wilson(10, 10)
    assert hi == 1.0 and abs(lo - 0.7225) < 1e-3
    assert wilson(0, 0) is None


def test_clustered_interval_is_wider_when_images_disagree_internally():
    sizes = np.full(10, 5.0)
    # all the disagreement concentrated in a few images -> design effect > 1
    clustered = np.array([5, 5, 5, 5, 5, 5, 5, 0, 0, 5], float)
    spread = np.array([4, 4, 4, 4, 4, 4, 4, 4, 4, 4], float)
    p1, ci1, deff1 = clustered_proportion(clustered, sizes)
    p2, ci2, deff2 = clustered_proportion(spread, sizes)
    assert p1 == p2 == 0.8
    assert deff1 > 3 and deff2 == 1.0
    assert ci1[1] - ci1[0] > ci2[1] - ci2[0]
    f = (t975(9) / Z95) ** 2  # small-sample factor: t with images-1 degrees of freedom
    assert ci2 == pytest.approx(wilson(40 / f, 50 / f))
    assert ci2[0] < wilson(40, 50)[0] and ci2[1] > wilson(40, 50)[1]


def test_t_quantiles():
    assert t975(1) == pytest.approx(12.706, abs=1e-3) and t975(9) == pytest.approx(2.262, abs=1e-3)
    assert t975(30) == pytest.approx(2.042, abs=1e-3) and t975(60) == pytest.approx(2.000, abs=1e-3)
    assert t975(1000) == pytest.approx(1.962, abs=1e-3) and t975(float("inf")) == pytest.approx(1.96, abs=1e-3)


def test_wilson_edges_and_symmetry():
    lo, hi = wilson(5, 10)
    assert lo + hi == pytest.approx(1.0) and lo < 0.5 < hi                  # symmetric about 1/2
    assert wilson(0, 10)[0] == 0.0 and wilson(10, 10)[1] == 1.0
    # by the formula: p = 0.25, n = 4.5 (an effective, non-integer n), z = 1
    p, n = 0.25, 4.5
    centre = (p + 1 / (2 * n)) / (1 + 1 / n)
    half = math.sqrt(p * (1 - p) / n + 1 / (4 * n * n)) / (1 + 1 / n)
    assert wilson(p * n, n, z=1.0) == pytest.approx((centre - half, centre + half))
    assert wilson(1, -1) is None


def test_cluster_variance_and_clustered_mean_by_hand():
    # totals 1, 2, 3 over 2 pairs each: ratio r = 1, residuals -1, 0, 1 -> 3/2 * 2 / 6^2 = 1/12
    assert cluster_variance(np.array([1.0, 2.0, 3.0]), np.array([2.0, 2.0, 2.0])) == pytest.approx(1 / 12)
    assert cluster_variance(np.array([1.0]), np.array([2.0])) is None         # one cluster
    r, ci = clustered_mean([1, 2, 3], [2, 2, 2])
    half = t975(2) * math.sqrt(1 / 12)                                        # 4.303 * 0.2887
    assert r == 1.0 and ci == pytest.approx((1.0 - half, 1.0))                # clipped at 1
    assert clustered_mean([0.5], [1]) == (0.5, None)
    assert clustered_mean([], []) == (None, None)
    assert clustered_mean([0.2, -0.4], [1, 1], lo=-0.5, hi=0.5)[1][0] == -0.5


def test_clustered_proportion_degenerate_cases():
    assert clustered_proportion([], []) == (None, None, None)
    p, ci, deff = clustered_proportion([5, 5, 5], [5, 5, 5])                  # all agree: no variance
    assert p == 1.0 and deff == 1.0 and ci[1] == 1.0
    # one image: no small-sample factor, the pairs are taken as independent
    p, ci, deff = clustered_proportion([3], [4])
    assert p == 0.75 and deff == 1.0 and ci == pytest.approx(wilson(3, 4))


def _binom_cdf(k, n):
    return sum(math.comb(n, i) for i in range(k + 1)) / 2 ** n


@pytest.mark.parametrize("n", [6, 7, 10, 25, 60])
def test_median_ci_is_the_binomial_order_statistic_interval(n):
    x = np.random.default_rng(n).permutation(np.arange(1.0, n + 1))
    med, ci = median_ci(x)
    assert med == float(np.median(x))
    j = max(k for k in range(1, n + 1) if _binom_cdf(k - 1, n) <= 0.025)     # largest rank within the tail
    assert ci == [float(j), float(n - j + 1)]                                # x_(j), x_(n-j+1) of 1..n


def test_median_ci_needs_six_values():
    assert median_ci([]) == (None, None)
    assert median_ci([3.0, 1.0, 2.0, 5.0, 4.0]) == (3.0, None)
    assert median_ci([1.0] * 6) == (1.0, [1.0, 1.0])
    assert Z95 == pytest.approx(1.959964, abs=1e-6)
