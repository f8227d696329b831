"""onnxsym.study.statistics: each number against an independent computation on small arrays."""
import itertools
import math

import numpy as np
import pytest

from onnxsym.study import statistics as S
from onnxsym.study.results import ModelRow

R = 499  # resamples: enough for the properties tested, fast


def _ranks(a):
    """Ranks 1..n of distinct values, by sorting (no ties in these tests)."""
    order = np.argsort(a)
    r = np.empty(len(a))
    r[order] = np.arange(1, len(a) + 1)
    return r


def _spearman_by_hand(x, y):
    d = _ranks(x) - _ranks(y)
    n = len(x)
    return 1 - 6 * np.sum(d ** 2) / (n * (n * n - 1))


def _kendall_by_hand(x, y):
    s = 0
    for i, j in itertools.combinations(range(len(x)), 2):
        s += np.sign(x[i] - x[j]) * np.sign(y[i] - y[j])
    return s / math.comb(len(x), 2)


X = np.array([0.41, 0.55, 0.47, 0.62, 0.80, 0.51, 0.73])
Y = np.array([0.70, 0.81, 0.66, 0.90, 0.93, 0.79, 0.83])
Z = np.array([0.50, 0.95, 0.40, 0.91, 0.97, 0.60, 0.85])


def test_spearman_is_the_rank_formula_and_the_exact_permutation_p():
    s = S.spearman(X, Y, resamples=R, seed=0)
    assert s.value == pytest.approx(_spearman_by_hand(X, Y))
    # n = 7: 5040 pairings ≥ resamples? no (499): a Monte Carlo p; with 9999 resamples it is exact
    exact = S.spearman(X, Y, resamples=9999, seed=0)
    rho = _spearman_by_hand(X, Y)
    perms = [_spearman_by_hand(np.array(p), Y) for p in itertools.permutations(X)]
    p_by_hand = np.mean([abs(v) >= abs(rho) - 1e-12 for v in perms])
    assert exact.p_value == pytest.approx(p_by_hand)
    assert exact.p_method.endswith("exact")
    lo, hi = s.ci95
    assert -1 <= lo <= s.value <= hi <= 1


def test_rank_correlation_vectorised_equals_spearman():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(20, 9)), rng.normal(size=(20, 9))
    v = S.rank_correlation(a, b, axis=-1)
    assert v == pytest.approx([_spearman_by_hand(p, q) for p, q in zip(a, b)])


def test_kendall_counts_concordant_pairs_and_its_exact_p_is_the_permutation_p():
    k = S.kendall(X, Y, resamples=R, seed=0)
    tau = _kendall_by_hand(X, Y)
    assert k.value == pytest.approx(tau)
    perms = [_kendall_by_hand(np.array(p), Y) for p in itertools.permutations(X)]
    assert k.p_value == pytest.approx(np.mean([abs(v) >= abs(tau) - 1e-12 for v in perms]))
    assert "exact" in k.p_method


def test_partial_spearman_is_the_rank_formula():
    p = S.partial_spearman(X, Y, Z, resamples=R, seed=0)
    rxy, rxz, ryz = _spearman_by_hand(X, Y), _spearman_by_hand(X, Z), _spearman_by_hand(Y, Z)
    assert p.value == pytest.approx((rxy - rxz * ryz) / math.sqrt((1 - rxz ** 2) * (1 - ryz ** 2)))
    assert p.ci95 is not None and p.p_value is not None


def test_mean_effect_p_is_the_exact_sign_flip_p():
    d = np.array([0.3, 0.1, 0.25, -0.05, 0.2, 0.15])
    m = S.mean_effect(d, resamples=R, seed=0)
    assert m.value == pytest.approx(d.mean())
    flips = [np.mean(d * np.array(s)) for s in itertools.product((1, -1), repeat=len(d))]
    assert m.p_value == pytest.approx(np.mean([abs(f) >= abs(d.mean()) - 1e-12 for f in flips]))
    assert "exact" in m.p_method
    assert m.ci95[0] <= m.value <= m.ci95[1]


def test_seeded_and_deterministic():
    a = S.spearman(X, Y, resamples=R, seed=3)
    b = S.spearman(X, Y, resamples=R, seed=3)
    assert a == b


def test_constant_or_tiny_samples_are_undefined_not_errors():
    assert S.spearman([1, 2], [3, 4]).value is None
    assert S.spearman([1, 1, 1, 1], [1, 2, 3, 4]).value is None
    assert S.kendall([1, 1, 1, 1], [1, 2, 3, 4]).note.startswith("undefined")
    assert S.mean_effect([0.5]).value is None


def _row(i, s, shift, flip, metric="top1_agreement", acc=None):
    return ModelRow(id=f"m{i}", path=f"m{i}.onnx", internal={"median_symmetry": s, "z_median": 1.0},
                    first_layer={"symmetry": s - 0.2}, shift={"consistency": shift}, flip={"consistency": flip},
                    metric=metric, accuracy=None if acc is None else {"top1": acc}, representative=True)


def test_correlation_sets_never_mix_kinds_and_need_five_families():
    rows = [_row(i, 0.4 + 0.05 * i, 0.7 + 0.02 * i, 0.8 - 0.01 * i, acc=0.5 + 0.04 * i) for i in range(6)]
    rows += [_row(10 + i, 0.5 + 0.1 * i, 0.3 + 0.1 * i, 0.2, metric="cosine_similarity") for i in range(3)]
    sets = {c.metric: c for c in S.correlation_sets(rows, resamples=R, seed=0)}
    top1, cos = sets["top1_agreement"], sets["cosine_similarity"]
    assert top1.families == 6 and top1.meaningful
    assert [s.name for s in top1.correlations["shift"]] == ["spearman", "kendall", "partial_spearman"]
    assert top1.correlations["shift"][0].value == pytest.approx(1.0)
    assert top1.correlations["flip"][0].value == pytest.approx(-1.0)
    assert top1.representatives == [f"m{i}" for i in range(6)]
    assert not cos.meaningful and "3 families" in cos.reason
    assert all(s.value is None for s in cos.correlations["shift"])


def test_partial_needs_accuracy_for_every_representative():
    rows = [_row(i, 0.4 + 0.05 * i, 0.7 + 0.03 * ((i * 3) % 5), 0.8, acc=None if i == 2 else 0.9) for i in range(5)]
    c = S.correlation_sets(rows, resamples=R, seed=0)[0]
    partial = c.correlations["shift"][2]
    assert partial.value is None and "accuracy" in partial.note


def test_findings_per_model_values():
    layers = [{"id": "a", "first": True, "symmetry": 0.3, "depth": 0.0, "uneven": False},
              {"id": "b", "first": False, "symmetry": 0.5, "depth": 0.5, "uneven": True,
               "random_mean": 0.4, "random_sd": 0.1},
              {"id": "c", "first": False, "symmetry": 0.8, "depth": 1.0, "uneven": False,
               "random_mean": 0.4, "random_sd": 0.1}]
    rows = []
    for i in range(5):
        r = _row(i, 0.65, 0.9, 0.9)
        r.first_layer = {"symmetry": 0.3}
        r.layers = [dict(L) for L in layers]
        rows.append(r)
    values = S.per_model_values(rows)
    assert values["internal_vs_first"]["m0"] == pytest.approx(0.35)
    assert values["uneven_vs_other"]["m0"] == pytest.approx(0.5 - 0.8)
    assert values["depth"]["m0"] == pytest.approx(1.0)
    found = {f.name: f for f in S.findings(rows, resamples=R, seed=0)}
    assert found["internal_vs_first"].statistic.value == pytest.approx(0.35)
    assert found["internal_vs_first"].meaningful and found["internal_vs_first"].extra["positive"] == 5
    assert found["trained_vs_random"].extra == {"positive": 5, "internal_layers": 10, "above_band": 5}
    few = S.findings(rows[:4], resamples=R, seed=0)
    assert not any(f.meaningful for f in few) and all(f.statistic.value is None for f in few)
