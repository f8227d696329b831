"""onnxsym.weights.symmetry: the numba symmetry kernels (through their public wrappers) against the
slow references in tests/naive.py. Tests marked ``kernels`` run again without the JIT
(tests/test_nojit.py)."""
import numpy as np
import pytest

import naive
from onnxsym.weights.symmetry import TERMS_1D, TERMS_2D, TERMS_3D, kernel_stats, skew_of, symmetry_terms, transforms_for


@pytest.mark.kernels
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


@pytest.mark.kernels
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


@pytest.mark.kernels
def test_one_by_one_is_not_defined():
    st = kernel_stats(np.ones((4, 4, 1, 1), np.float32))
    assert st.symmetry is None and "identity" in st.reason


@pytest.mark.kernels
def test_zero_and_nan_weights_are_reported_not_crashing():
    z = kernel_stats(np.zeros((2, 2, 3, 3), np.float32))
    assert z.symmetry is None and "zero" in z.reason
    w = np.ones((2, 2, 3, 3), np.float32)
    w[0, 0, 1, 1] = np.nan
    n = kernel_stats(w)
    assert n.symmetry is None and n.n_nonfinite == 1 and "non-finite" in n.reason


@pytest.mark.kernels
def test_one_by_k_uses_only_non_identity_transforms():
    ts = transforms_for((1, 5))
    assert ts.perms.shape[0] == 1  # flip_lr == rot180, flip_ud is the identity
    k = np.array([[1.0, 2.0, 3.0, 2.0, 1.0]])
    assert symmetry_terms(k)[0] == pytest.approx(1.0)
    s, terms = symmetry_terms(np.array([[1.0, 0, 0, 0, 0]]))
    assert terms["flip_ud"] is None and terms["rot90"] is None
    assert s == pytest.approx(naive.symmetry(np.array([1.0, 0, 0, 0, 0]))[0])


@pytest.mark.kernels
def test_skew_points_to_the_heavy_side():
    k = np.zeros((3, 3))
    k[0, 0] = 1.0  # top-left
    assert skew_of(k) == pytest.approx((-1 / 1, -1 / 1))
    assert skew_of(-k) == pytest.approx((-1.0, -1.0))  # sign of the sum makes direction sign-free
    k2 = np.array([[0, 0, 0], [0, 1, 0], [0, 1, 0.0]])
    assert skew_of(k2) == pytest.approx((0.5, 0.0))


@pytest.mark.kernels
def test_per_kernel_contrast_individual_vs_mean():
    # individual kernels point in random directions; their mean is a symmetric blob
    rng = np.random.default_rng(0)
    blob = np.array([[1, 2, 1], [2, 4, 2], [1, 2, 1]], float)
    w = blob[None, None] + 3 * rng.standard_normal((64, 16, 3, 3))
    st = kernel_stats(w)
    assert st.symmetry > 0.9
    assert st.per_kernel["median"] < 0.6


@pytest.mark.kernels
@pytest.mark.parametrize("shape", [(64, 32, 3, 3), (16, 8, 1, 1), (8, 4, 5, 5)])
def test_every_code_path_gives_the_same_statistics(shape, monkeypatch):
    """Serial vs parallel per-kernel pass, numpy vs numba sums: sizes pick the path, not the result."""
    # needs a public knob: onnxsym.weights.symmetry._PARALLEL_MIN (weight values from which the
    # per-kernel pass runs the parallel kernel instead of the serial one) and _NUMPY_SUMS_MAX (weight
    # values below which the mean and norms are summed by numpy instead of the numba kernel); the
    # public path reaches each only at its size, never both for one weight
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


def _two_cell_weight(n, seed):
    """n kernels [a, b] of shape (1, 2) (every 11th all zero), and their S by hand: the only
    non-identity transform of a 1x2 grid swaps the cells, d = |a - b|·sqrt(2) / (2·||k||)."""
    w = np.random.default_rng(seed).standard_normal((n, 1, 1, 2))
    w[::11] = 0.0
    a, b = w[:, 0, 0, 0], w[:, 0, 0, 1]
    with np.errstate(invalid="ignore", divide="ignore"):
        s = 1.0 - np.abs(a - b) / (np.sqrt(2.0) * np.hypot(a, b))
    return w, s


def test_two_cell_formula_is_the_definition():
    w, s = _two_cell_weight(40, 0)
    np.testing.assert_allclose(s, naive.per_kernel_scores(w), rtol=0, atol=1e-12, equal_nan=True)


@pytest.mark.parametrize("n", [pytest.param(7, marks=pytest.mark.kernels),
                               pytest.param(1000, marks=pytest.mark.kernels), 300_000])
@pytest.mark.parametrize("select_min", [0, 1 << 40])  # histogram selection (numba) / np.partition
def test_quartiles_match_numpy_for_small_and_large_layers(n, select_min, monkeypatch):
    # needs a public knob: onnxsym.weights.symmetry._SELECT_MIN (number of per-kernel scores from which
    # the quartiles come from the numba histogram selection instead of np.partition); without it the
    # histogram is reached only from 2**20 kernels on (test_quartiles_of_a_million_kernels)
    import onnxsym.weights.symmetry as sym

    monkeypatch.setattr(sym, "_SELECT_MIN", select_min)
    w, s = _two_cell_weight(n, n)
    st = kernel_stats(w)
    f = s[np.isfinite(s)]
    q1, med, q3 = np.quantile(f, [0.25, 0.5, 0.75])
    assert st.per_kernel["n"] == f.size and st.per_kernel["n_zero"] == n - f.size
    quartiles = (st.per_kernel["q1"], st.per_kernel["median"], st.per_kernel["q3"])
    assert quartiles == pytest.approx((q1, med, q3), abs=1e-12)


def test_quartiles_of_a_million_kernels():
    # 2**20 per-kernel scores: the numba histogram selection, reached through the public path alone
    w, s = _two_cell_weight(1 << 20, 5)
    st = kernel_stats(w)
    f = s[np.isfinite(s)]
    q1, med, q3 = np.quantile(f, [0.25, 0.5, 0.75])
    assert st.per_kernel["n"] == f.size and st.per_kernel["n_zero"] == w.shape[0] - f.size
    quartiles = (st.per_kernel["q1"], st.per_kernel["median"], st.per_kernel["q3"])
    assert quartiles == pytest.approx((q1, med, q3), abs=1e-12)


@pytest.mark.kernels
def test_transforms_are_the_cell_permutations_of_the_named_images():
    labels = np.arange(9.0).reshape(3, 3)
    ts = transforms_for((3, 3))
    assert ts.names == TERMS_2D and ts.perms.shape == (7, 9) and sorted(ts.term_rows) == list(range(7))
    for name, img in naive.transforms_2d(labels).items():
        assert np.array_equal(labels.ravel()[ts.perms[ts.term_rows[ts.names.index(name)]]], img.ravel()), name
    # 2x3: no rotation by 90 degrees, no transposes; flip_lr, flip_ud and rot180 distinct
    rect = transforms_for((2, 3))
    assert [r >= 0 for r in rect.term_rows] == [False, True, False, True, True, False, False]
    assert rect.perms.shape == (3, 6)
    assert transforms_for((4,)).names == TERMS_1D and transforms_for((4,)).perms.tolist() == [[3, 2, 1, 0]]
    assert transforms_for((1,)).perms.shape[0] == 0
    cube = transforms_for((1, 3, 3))   # depth 1: the flips along it are the identity or repeat the others
    assert cube.names == TERMS_3D and cube.perms.shape[0] == 3
    assert [cube.term_rows[TERMS_3D.index(n)] >= 0 for n in ("flip_d", "flip_h", "flip_w", "flip_hw")] == \
        [False, True, True, True]
    with pytest.raises(ValueError, match="4 spatial axes"):
        transforms_for((2, 2, 2, 2))


@pytest.mark.kernels
def test_constant_kernels_and_bad_weights():
    assert symmetry_terms(np.full((3, 3), 2.0))[0] == pytest.approx(1.0)
    assert symmetry_terms(np.zeros((3, 3))) == (None, {})
    assert symmetry_terms(np.array([[np.inf, 0, 0]])) == (None, {})
    assert skew_of(np.zeros((3, 3))) is None and skew_of(np.ones((1, 3))) == (0.0, 0.0)
    with pytest.raises(ValueError, match="at least 3 axes"):
        kernel_stats(np.ones((3, 3)))
    st = kernel_stats(np.ones((4, 2, 3, 3), np.int8))          # integer weights are read as float64
    assert st.symmetry == pytest.approx(1.0) and st.coherence == pytest.approx(1.0)
    assert st.coherence_random == pytest.approx(1 / np.sqrt(8))
