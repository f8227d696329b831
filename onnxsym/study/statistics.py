"""The study's statistics, honest about n: rank correlations of internal S against consistency and
the pooled per-layer findings of the paper, each over **one representative per family**
(re-encodings of the same weights are not independent observations), with 95 % intervals and
permutation p-values, all from :mod:`scipy.stats`.

* Spearman's ρ (``spearmanr``) and Kendall's τ-b (``kendalltau``) of the internal median S
  against shift and against flip consistency, separately per metric kind (top-1 agreement is
  never correlated together with a cosine similarity).
* Interval: ``bootstrap`` over the representatives (pairs resampled together, seeded, BCa; the
  percentile interval of the same resamples when BCa is undefined, and ``ci_method`` says so).
  Kendall's interval uses at most :data:`KENDALL_RESAMPLES` (1999) resamples: scipy computes τ
  one resample at a time. A resample in which one variable is constant has no correlation; it
  counts as 0 (conservative: it pulls the interval toward 0; at n = 5 about 0.2 % of resamples).
* p-value (two-sided): ``permutation_test`` over pairings (exact when n! ≤ the resamples); for
  Kendall without ties, ``kendalltau``'s exact null distribution, which is that permutation
  distribution computed exactly.
* Partial Spearman correlation controlling for top-1 accuracy (consistency rises with accuracy),
  by the rank formula ρ_xy·z = (ρ_xy − ρ_xz ρ_yz) / √((1 − ρ_xz²)(1 − ρ_yz²)), with a bootstrap
  interval and a permutation p-value (S permuted against (consistency, accuracy)).
* Findings: one value per representative (internal − first-layer S; the internal layers' median
  z against the random-init band; uneven strided − other internal layers' median S; Spearman ρ of
  S against relative depth within the model); their mean with a bootstrap interval and a
  sign-flip permutation p-value (``permutation_test``, ``permutation_type='samples'``; exact when
  2ⁿ ≤ the resamples).

Fewer than :data:`MIN_FAMILIES` (5) representatives: nothing is estimated and the reason says so.
"""
from __future__ import annotations

import math
import warnings

import numpy as np

from .. import defaults as D
from .results import CorrelationSet, Finding, Statistic


def _st():
    """scipy.stats, imported on first use: it costs ~2.5 s of CPU to import, which every spawned
    ``--jobs`` worker would otherwise pay for statistics only the parent computes."""
    from scipy import stats

    return stats

RESAMPLES = D.RESAMPLES
#: Kendall's τ has no vectorised form in scipy (it loops over resamples, ~0.1 ms each): its
#: bootstrap interval uses at most this many resamples
KENDALL_RESAMPLES = 1999
MIN_FAMILIES = D.MIN_FAMILIES
MEASURES = ("shift", "flip")


# ------------------------------------------------------------------------------------- primitives
def rank_correlation(x, y, axis=-1):
    """Spearman's ρ along ``axis`` (Pearson's r of the average ranks, vectorised for resampling)."""
    x, y = np.broadcast_arrays(np.asarray(x, float), np.asarray(y, float))
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        return _st().pearsonr(_st().rankdata(x, axis=axis), _st().rankdata(y, axis=axis), axis=axis).statistic


def _defined(f):
    """A statistic for resampling: an undefined value (a constant resample) counts as 0."""
    def g(*data, axis=-1):
        return np.nan_to_num(f(*data, axis=axis), nan=0.0)
    return g


def _kendall(x, y, axis=-1):
    """Kendall's τ-b along ``axis`` (scipy loops over the batch; undefined values as NaN)."""
    x, y = np.broadcast_arrays(np.asarray(x, float), np.asarray(y, float))
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        return _st().kendalltau(x, y, axis=axis).statistic


def _partial(x, y, z, axis=-1):
    rxy, rxz, ryz = rank_correlation(x, y, axis), rank_correlation(x, z, axis), rank_correlation(y, z, axis)
    with np.errstate(all="ignore"):
        return (rxy - rxz * ryz) / np.sqrt((1 - rxz ** 2) * (1 - ryz ** 2))


def _finite(v) -> bool:
    return v is not None and math.isfinite(float(v))


def bootstrap_ci(data: tuple, statistic, *, vectorized: bool, resamples: int, seed: int):
    """(95 % interval or None, method): ``scipy.stats.bootstrap``, samples resampled together."""
    kw = dict(paired=len(data) > 1, vectorized=vectorized, confidence_level=0.95, rng=seed)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        res = _st().bootstrap(data, statistic, n_resamples=resamples, method="BCa", **kw)
        lo, hi = res.confidence_interval
        method = f"BCa bootstrap, {resamples} resamples"
        if not (_finite(lo) and _finite(hi)):
            res = _st().bootstrap(data, statistic, n_resamples=0, method="percentile", bootstrap_result=res, **kw)
            lo, hi = res.confidence_interval
            method = f"percentile bootstrap, {resamples} resamples (BCa undefined)"
    if not (_finite(lo) and _finite(hi)):
        return None, method
    return [float(lo), float(hi)], method


def _permutation_p(data: tuple, statistic, *, kind: str, vectorized: bool, resamples: int, seed: int):
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        res = _st().permutation_test(data, statistic, permutation_type=kind, vectorized=vectorized,
                                  n_resamples=resamples, alternative="two-sided", rng=seed)
    p = float(res.pvalue)
    return p if math.isfinite(p) else None


def _constant(*arrays) -> bool:
    return any(np.ptp(np.asarray(a, float)) == 0 for a in arrays)


def spearman(x, y, *, resamples: int = RESAMPLES, seed: int = 0) -> Statistic:
    """Spearman's ρ of ``x`` and ``y`` with its bootstrap interval and permutation p-value."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    out = Statistic("spearman", len(x))
    if len(x) < 3 or _constant(x, y):
        out.note = "undefined: fewer than 3 points or a constant variable"
        return out
    out.value = float(_st().spearmanr(x, y).statistic)
    out.ci95, out.ci_method = bootstrap_ci((x, y), _defined(rank_correlation), vectorized=True,
                                           resamples=resamples, seed=seed)
    out.p_value = _permutation_p((x,), lambda xp, axis=-1: rank_correlation(xp, y, axis), kind="pairings",
                                 vectorized=True, resamples=resamples, seed=seed)
    out.p_method = f"permutation test over pairings, {_n_perm(len(x), resamples)}"
    return out


def kendall(x, y, *, resamples: int = RESAMPLES, seed: int = 0) -> Statistic:
    """Kendall's τ-b with its bootstrap interval and permutation p-value (exact without ties)."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    out = Statistic("kendall", len(x))
    if len(x) < 3 or _constant(x, y):
        out.note = "undefined: fewer than 3 points or a constant variable"
        return out
    out.value = float(_st().kendalltau(x, y).statistic)
    out.ci95, out.ci_method = bootstrap_ci((x, y), _defined(_kendall), vectorized=True,
                                           resamples=min(resamples, KENDALL_RESAMPLES), seed=seed)
    if len(np.unique(x)) == len(x) and len(np.unique(y)) == len(y):
        out.p_value = float(_st().kendalltau(x, y, method="exact").pvalue)
        out.p_method = "exact permutation distribution of τ (no ties)"
    else:
        n_perm = min(resamples, KENDALL_RESAMPLES)
        out.p_value = _permutation_p((x,), lambda xp, axis=-1: _kendall(xp, y, axis), kind="pairings",
                                     vectorized=True, resamples=n_perm, seed=seed)
        out.p_method = f"permutation test over pairings (ties), {_n_perm(len(x), n_perm)}"
    return out


def partial_spearman(x, y, z, *, resamples: int = RESAMPLES, seed: int = 0) -> Statistic:
    """Spearman's partial correlation of ``x`` and ``y`` controlling for ``z`` (rank formula)."""
    x, y, z = (np.asarray(a, float) for a in (x, y, z))
    out = Statistic("partial_spearman", len(x))
    if len(x) < 4 or _constant(x, y, z):
        out.note = "undefined: fewer than 4 points or a constant variable"
        return out
    v = float(_partial(x, y, z))
    if not math.isfinite(v):
        out.note = "undefined: the control is perfectly rank-correlated with a variable"
        return out
    out.value = v
    out.ci95, out.ci_method = bootstrap_ci((x, y, z), _defined(_partial), vectorized=True,
                                           resamples=resamples, seed=seed)
    out.p_value = _permutation_p((x,), lambda xp, axis=-1: _partial(xp, y, z, axis), kind="pairings",
                                 vectorized=True, resamples=resamples, seed=seed)
    out.p_method = f"permutation test, S permuted against (consistency, accuracy), {_n_perm(len(x), resamples)}"
    return out


def mean_effect(values, *, name: str = "mean", resamples: int = RESAMPLES, seed: int = 0) -> Statistic:
    """The mean of per-model values, its bootstrap interval and a sign-flip permutation p-value
    (H0: the values are symmetric about 0)."""
    d = np.asarray(values, float)
    out = Statistic(name, len(d))
    if len(d) < 2:
        out.note = "undefined: fewer than 2 models"
        return out
    out.value = float(np.mean(d))
    out.ci95, out.ci_method = bootstrap_ci((d,), np.mean, vectorized=True, resamples=resamples, seed=seed)
    out.p_value = _permutation_p((d,), lambda a, axis=-1: np.mean(a, axis=axis), kind="samples", vectorized=True,
                                 resamples=resamples, seed=seed)
    exact = 2 ** len(d) <= resamples
    out.p_method = ("sign-flip permutation test, exact" if exact else
                    f"sign-flip permutation test, {resamples} random sign flips")
    return out


def _n_perm(n: int, resamples: int) -> str:
    return "exact" if math.factorial(n) <= resamples else f"{resamples} random permutations"


# --------------------------------------------------------------------------------- correlations
def correlation_sets(reps: list, *, resamples: int = RESAMPLES, seed: int = 0) -> list:
    """Per metric kind among the representatives: internal median S against shift and flip
    consistency (Spearman, Kendall, and the partial Spearman controlling for accuracy)."""
    kinds = sorted({r.metric for r in reps if r.metric and r.median_symmetry is not None})
    out = []
    for kind in kinds:
        group = [r for r in reps if r.metric == kind and r.median_symmetry is not None]
        corr, ns = {}, []
        for measure in MEASURES:
            pts = [r for r in group if r.consistency(measure) is not None]
            ns.append(len(pts))
            x = [r.median_symmetry for r in pts]
            y = [r.consistency(measure) for r in pts]
            if len(pts) < MIN_FAMILIES:
                corr[measure] = [Statistic(name, len(pts), note=_too_few(len(pts)))
                                 for name in ("spearman", "kendall", "partial_spearman")]
                continue
            stats = [spearman(x, y, resamples=resamples, seed=seed), kendall(x, y, resamples=resamples, seed=seed)]
            acc = [(r.accuracy or {}).get("top1") for r in pts]
            if all(a is not None for a in acc):
                stats.append(partial_spearman(x, y, acc, resamples=resamples, seed=seed))
            else:
                stats.append(Statistic("partial_spearman", len(pts),
                                       note="not computed: top-1 accuracy is not known for every representative "
                                            "(labels, and a classifier output, are needed)"))
            corr[measure] = stats
        n = min(ns)
        out.append(CorrelationSet(metric=kind, families=len(group), representatives=[r.id for r in group],
                                  meaningful=n >= MIN_FAMILIES, reason="" if n >= MIN_FAMILIES else _too_few(n),
                                  correlations=corr))
    return out


def _too_few(n: int, what: str = "of this kind", purpose: str = "a correlation across models") -> str:
    return (f"not meaningful: {n} famil{'y' if n == 1 else 'ies'} {what} (at least {MIN_FAMILIES} "
            f"are needed for {purpose})")


# ------------------------------------------------------------------------------------- findings
FINDINGS = {
    "internal_vs_first": ("internal median S minus the first layer's S, per model (the paper: internal "
                          "layers are more symmetric than the first)"),
    "trained_vs_random": ("median over a model's internal layers of z = (S − random-init mean) / random-init sd "
                          "(the paper: trained internal layers sit above the random-init band)"),
    "uneven_vs_other": ("median S of the internal strided layers that pad unevenly at the input size minus "
                        "that of the other internal layers, per model (the paper: they are less symmetric)"),
    "depth": "Spearman's ρ of S against relative depth within each model (S against depth)",
}


def per_model_values(rows: list) -> dict:
    """{finding: {model id: value}} for the rows that have what the finding needs."""
    out = {k: {} for k in FINDINGS}
    for r in rows:
        first = (r.first_layer or {}).get("symmetry")
        if first is not None and r.median_symmetry is not None:
            out["internal_vs_first"][r.id] = r.median_symmetry - first
        if (r.internal or {}).get("z_median") is not None:
            out["trained_vs_random"][r.id] = r.internal["z_median"]
        inner = [L for L in r.layers if not L.get("first") and L.get("symmetry") is not None]
        uneven = [L["symmetry"] for L in inner if L.get("uneven") is True]
        other = [L["symmetry"] for L in inner if L.get("uneven") is False]
        if uneven and other:
            out["uneven_vs_other"][r.id] = float(np.median(uneven) - np.median(other))
        pts = [L for L in r.layers if L.get("symmetry") is not None]
        if len(pts) >= 3 and not _constant([L["depth"] for L in pts], [L["symmetry"] for L in pts]):
            out["depth"][r.id] = float(_st().spearmanr([L["depth"] for L in pts], [L["symmetry"] for L in pts]).statistic)
    return out


def findings(reps: list, *, resamples: int = RESAMPLES, seed: int = 0) -> list:
    """The pooled per-layer findings over the representatives."""
    values = per_model_values(reps)
    out = []
    for name, question in FINDINGS.items():
        vals = values[name]
        n = len(vals)
        stat_name = "mean_rho" if name == "depth" else "mean_z" if name == "trained_vs_random" else "mean_difference"
        if n >= MIN_FAMILIES:
            stat = mean_effect(list(vals.values()), name=stat_name, resamples=resamples, seed=seed)
        else:
            stat = Statistic(stat_name, n, note=_too_few(n, "with these numbers", "a pooled estimate"))
        extra = {"positive": sum(1 for v in vals.values() if v > 0)}
        if name == "trained_vs_random":
            inner = [L for r in reps for L in r.layers if not L.get("first") and L.get("symmetry") is not None
                     and L.get("random_mean") is not None and L.get("random_sd") is not None]
            extra["internal_layers"] = len(inner)
            extra["above_band"] = sum(1 for L in inner if L["symmetry"] > L["random_mean"] + L["random_sd"])
        out.append(Finding(name=name, question=question, per_model=vals, statistic=stat,
                           meaningful=n >= MIN_FAMILIES, reason=stat.note if n < MIN_FAMILIES else "", extra=extra))
    return out
