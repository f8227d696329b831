"""The numba symmetry kernels against the slow references in tests/naive.py."""
import numpy as np
import pytest

import naive
from onnxsym.weights.random_init import random_init as gaussian_baseline
from onnxsym.weights.symmetry import kernel_stats, skew_of, symmetry_terms, transforms_for


@pytest.mark.parametrize("shape", [(8, 4, 3, 3), (5, 3, 5, 5), (4, 2, 7, 7), (6, 1, 1, 7), (3, 3, 3, 1),
                                   (4, 4, 5), (2, 3, 3, 3, 3), (16, 1, 3, 3), (3, 2, 2, 2)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16])
def test_kernel_stats_match_reference(shape, dtype):
    rng = np.random.default_rng(sum(shape))
    w = (rng.standard_normal(shape) + 0.3 * rng.random(shape[2:])).astype(dtype)
    st = kernel_stats(w)
    ref_k = naive.mean_kernel(w)
    np.testing.assert_allclose(st.mean_kernel, ref_k, rtol=1e-12, atol=1e-12)
    s, terms = naive.symmetry(ref_k)
    assert st.symmetry == pytest.approx(s, abs=1e-12)
    for name, v in st.terms.items():
        if v is not None:
            assert v == pytest.approx(terms[name], abs=1e-12), name
        else:  # null only where the transform is the identity or undefined on this grid
            assert name not in terms or terms[name] == pytest.approx(0.0, abs=1e-12) or len(shape) == 4 and shape[2] != shape[3]
    ref_pk = naive.per_kernel_scores(w)
    q1, med, q3 = np.quantile(ref_pk[np.isfinite(ref_pk)], [0.25, 0.5, 0.75])
    assert st.per_kernel["median"] == pytest.approx(med, abs=1e-9)
    assert st.per_kernel["q1"] == pytest.approx(q1, abs=1e-9)
    assert st.per_kernel["q3"] == pytest.approx(q3, abs=1e-9)
    np.testing.assert_allclose(st.skew, naive.skew(ref_k), atol=1e-12)
    rms = np.sqrt(np.mean([(np.asarray(w[i, j], np.float64) ** 2).sum()
                           for i in range(shape[0]) for j in range(shape[1])]))
    assert st.coherence == pytest.approx(np.sqrt((ref_k ** 2).sum()) / rms, rel=1e-9)


def test_calibration_points_of_metric_md():
    blur = np.array([[1, 2, 1], [2, 4, 2], [1, 2, 1]], float)
    assert symmetry_terms(blur)[0] == pytest.approx(1.0)
    ramp = np.array([[3, 2, 1], [2, 1, 0], [1, 0, 0]], float)
    s, terms = symmetry_terms(ramp)
    assert s == pytest.approx(naive.symmetry(ramp)[0])
    assert s == pytest.approx(0.54, abs=0.01)
    # the ramp is symmetric about its main diagonal only
    assert terms["transpose"] == pytest.approx(0.0)
    assert terms["flip_lr"] > 0.1


@pytest.mark.parametrize("k,mean,sd", [(3, 0.409, 0.099), (5, 0.349, 0.052), (7, 0.329, 0.034)])
def test_gaussian_baseline_matches_calibration(k, mean, sd):
    b = gaussian_baseline((k, k))
    assert b["mean"] == pytest.approx(mean, abs=0.004)
    assert b["sd"] == pytest.approx(sd, abs=0.003)


def test_baseline_computed_for_unlisted_shape_agrees_with_naive_monte_carlo():
    b = gaussian_baseline((4, 6))  # not in the shipped table: drawn on demand
    rng = np.random.default_rng(1)
    ref = [naive.symmetry(rng.standard_normal((4, 6)))[0] for _ in range(3000)]
    assert b["mean"] == pytest.approx(np.mean(ref), abs=0.01)
    assert b["sd"] == pytest.approx(np.std(ref), abs=0.01)


def test_shipped_baseline_table_matches_fresh_draws():
    shipped = gaussian_baseline((5, 5))
    fresh = gaussian_baseline.__wrapped__((5, 5), draws=20001)
    assert shipped["mean"] == pytest.approx(fresh["mean"], abs=0.003)


def test_one_by_one_is_not_defined():
    st = kernel_stats(np.ones((4, 4, 1, 1), np.float32))
    assert st.symmetry is None and "identity" in st.reason


def test_zero_and_nan_weights_are_reported_not_crashing():
    z = kernel_stats(np.zeros((2, 2, 3, 3), np.float32))
    assert z.symmetry is None and "zero" in z.reason
    w = np.ones((2, 2, 3, 3), np.float32)
    w[0, 0, 1, 1] = np.nan
    n = kernel_stats(w)
    assert n.symmetry is None and n.n_nonfinite == 1 and "non-finite" in n.reason


def test_one_by_k_uses_only_non_identity_transforms():
    ts = transforms_for((1, 5))
    assert ts.perms.shape[0] == 1  # flip_lr == rot180, flip_ud is the identity
    k = np.array([[1.0, 2.0, 3.0, 2.0, 1.0]])
    assert symmetry_terms(k)[0] == pytest.approx(1.0)
    s, terms = symmetry_terms(np.array([[1.0, 0, 0, 0, 0]]))
    assert terms["flip_ud"] is None and terms["rot90"] is None
    assert s == pytest.approx(naive.symmetry(np.array([1.0, 0, 0, 0, 0]))[0])


def test_skew_points_to_the_heavy_side():
    k = np.zeros((3, 3))
    k[0, 0] = 1.0  # top-left
    assert skew_of(k) == pytest.approx((-1 / 1, -1 / 1))
    assert skew_of(-k) == pytest.approx((-1.0, -1.0))  # sign of the sum makes direction sign-free
    k2 = np.array([[0, 0, 0], [0, 1, 0], [0, 1, 0.0]])
    assert skew_of(k2) == pytest.approx((0.5, 0.0))


def test_per_kernel_contrast_individual_vs_mean():
    # individual kernels point in random directions; their mean is a symmetric blob
    rng = np.random.default_rng(0)
    blob = np.array([[1, 2, 1], [2, 4, 2], [1, 2, 1]], float)
    w = blob[None, None] + 3 * rng.standard_normal((64, 16, 3, 3))
    st = kernel_stats(w)
    assert st.symmetry > 0.9
    assert st.per_kernel["median"] < 0.6


@pytest.mark.parametrize("n", [7, 1000, 300_000])
@pytest.mark.parametrize("select_min", [0, 1 << 40])  # histogram selection (numba) / np.partition
def test_quartiles_match_numpy_for_small_and_large_layers(n, select_min, monkeypatch):
    import onnxsym.weights.symmetry as sym
    from onnxsym.weights.symmetry import _quantiles

    monkeypatch.setattr(sym, "_SELECT_MIN", select_min)
    x = np.random.default_rng(n).random(n)
    x[::11] = np.nan
    got = _quantiles(x)
    f = x[np.isfinite(x)]
    q1, med, q3 = np.quantile(f, [0.25, 0.5, 0.75])
    assert got["n"] == f.size
    assert (got["q1"], got["median"], got["q3"]) == pytest.approx((q1, med, q3), abs=1e-12)


@pytest.mark.parametrize("shape", [(64, 32, 3, 3), (16, 8, 1, 1), (8, 4, 5, 5)])
def test_every_code_path_gives_the_same_statistics(shape, monkeypatch):
    """Serial vs parallel per-kernel pass, numpy vs numba sums: sizes pick the path, not the result."""
    import onnxsym.weights.symmetry as sym

    w = (np.random.default_rng(7).standard_normal(shape) + 0.2).astype(np.float32)
    results = []
    for parallel_min, sums_max in ((1 << 40, 1 << 40), (0, 1 << 40), (1 << 40, 0), (0, 0)):
        monkeypatch.setattr(sym, "_PARALLEL_MIN", parallel_min)
        monkeypatch.setattr(sym, "_NUMPY_SUMS_MAX", sums_max)
        for per_kernel in (True, False):
            st = sym.kernel_stats(w, per_kernel=per_kernel)
            results.append((st.mean_kernel, st.symmetry, st.coherence, st.per_kernel.get("median") if per_kernel else None))
    ref = naive.mean_kernel(w)
    for mean, s, coh, med in results:
        np.testing.assert_allclose(mean, ref, rtol=1e-12, atol=1e-12)
        assert s == results[0][1]
        assert (coh is None and results[0][2] is None) or coh == pytest.approx(results[0][2], rel=1e-12)
        if med is not None:
            assert med == pytest.approx(results[0][3], abs=1e-12)
