"""Symmetry statistics of convolution weights (numba kernels behind plain Python wrappers).

Every kernel here works on a weight viewed as ``[M, P]``: M individual kernels (output × input
channels) of P cells each. A spatial transform T of the kernel grid is a permutation of the P
cells, ``T(K).ravel() == K.ravel()[perm]``, so one pair of small kernels covers 1-D, 2-D and 3-D
grids alike. Definitions (see the README, "What the numbers mean"):

* mean kernel K = mean over the M kernels, accumulated in float64;
* d_T = ||T(K̂) − K̂||_F / 2 with K̂ = K/||K||_F, in [0, 1];
* S = 1 − mean of d_T over the distinct non-identity transforms of the grid;
* skew = sign(ΣK) · Σ K[x]·(x − c)/c / Σ|K[x]| per axis: the normalised first moment of K about
  its centre; negative means the kernel leans toward the top (axis 0) or the left (last axis);
* coherence = ||K|| / rms_m ||W_m||: how much of the weight survives averaging (1 when all the
  kernels are equal, about 1/sqrt(M) for independent random kernels).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
from numba import njit, prange

# Names of the 2-D transforms, in the order the terms are reported.
TERMS_2D = ("rot90", "rot180", "rot270", "flip_lr", "flip_ud", "transpose", "antitranspose")
TERMS_1D = ("reverse",)
TERMS_3D = ("flip_d", "flip_h", "flip_w", "flip_dh", "flip_dw", "flip_hw", "flip_dhw")


# ---------------------------------------------------------------------------------------------
# The transform groups as cell permutations
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TransformSet:
    """The transforms of one kernel grid.

    Attributes
    ----------
    names : tuple of str
        Every transform name reported for this kind of grid (2-D: the seven D4 names).
    perms : np.ndarray
        ``[T, P]`` int64, one row per *distinct non-identity* permutation of the cells.
    term_rows : tuple
        For each name, the row of ``perms`` it equals, or -1 where the transform is the
        identity on this grid (e.g. flip_ud on a 1×k kernel) or does not apply (rot90 on a
        non-square grid); such terms are reported as null.
    """

    names: tuple
    perms: np.ndarray
    term_rows: tuple


def _dedup(names, candidates, size):
    ident = np.arange(size)
    rows, perms = [], []
    for cand in candidates:
        if cand is None or np.array_equal(cand, ident):
            rows.append(-1)
            continue
        for k, p in enumerate(perms):
            if np.array_equal(p, cand):
                rows.append(k)
                break
        else:
            perms.append(cand)
            rows.append(len(perms) - 1)
    arr = np.array(perms, dtype=np.int64).reshape(len(perms), ident.size)
    return TransformSet(tuple(names), arr, tuple(rows))


@lru_cache(maxsize=None)
def transforms_for(kernel_shape: tuple) -> TransformSet:
    """The transform set of a kernel grid of shape ``kernel_shape`` (1, 2 or 3 axes)."""
    shape = tuple(int(s) for s in kernel_shape)
    size = int(np.prod(shape)) if shape else 1
    idx = np.arange(size).reshape(shape) if shape else np.arange(1)
    if len(shape) == 2:
        kh, kw = shape
        square = kh == kw
        cands = [
            np.rot90(idx, 1).ravel() if square else None,
            np.rot90(idx, 2).ravel(),
            np.rot90(idx, 3).ravel() if square else None,
            idx[:, ::-1].ravel(),
            idx[::-1, :].ravel(),
            idx.T.ravel() if square else None,
            idx[::-1, ::-1].T.ravel() if square else None,
        ]
        return _dedup(TERMS_2D, cands, size)
    if len(shape) == 1:
        return _dedup(TERMS_1D, [idx[::-1].ravel()], size)
    if len(shape) == 3:
        flips = [(0,), (1,), (2,), (0, 1), (0, 2), (1, 2), (0, 1, 2)]
        return _dedup(TERMS_3D, [np.flip(idx, axis=a).ravel() for a in flips], size)
    raise ValueError(f"kernels with {len(shape)} spatial axes are not supported")


# ---------------------------------------------------------------------------------------------
# numba kernels (private; inputs validated by the wrappers below)
# ---------------------------------------------------------------------------------------------
@njit(cache=True, nogil=True)
def _mean_and_norms(w, out_mean, out_sq_norms):
    """Sum of kernels (float64) into out_mean; each kernel's squared norm; non-finite count."""
    m, p = w.shape
    bad = 0
    for j in range(p):
        out_mean[j] = 0.0
    for i in range(m):
        sq = 0.0
        for j in range(p):
            v = np.float64(w[i, j])
            if not np.isfinite(v):
                bad += 1
                continue
            out_mean[j] += v
            sq += v * v
        out_sq_norms[i] = sq
    for j in range(p):
        out_mean[j] /= m
    return bad


@lru_cache(maxsize=None)
def plan_for(kernel_shape: tuple):
    """The cached :func:`_plan` of a kernel grid's transforms."""
    return _plan(transforms_for(kernel_shape).perms)


def _plan(perms):
    """Cheaper form of the permutations for the per-kernel pass.

    ||T(k) − k||² needs only the moved cells; an involution (flips, rot180, transposes) moves
    cells in swapped pairs, so each pair is visited once and counted twice; T⁻¹ gives the same
    distance as T (rot270 = rot90⁻¹), so it reuses T's value.
    Returns (a, b, npairs, factor, alias) arrays.
    """
    t, p = perms.shape
    a = np.zeros((max(t, 1), max(p, 1)), np.int64)
    b = np.zeros_like(a)
    npairs = np.zeros(max(t, 1), np.int64)
    factor = np.ones(max(t, 1))
    alias = -np.ones(max(t, 1), np.int64)
    for i in range(t):
        perm = perms[i]
        inv = np.argsort(perm)
        for j in range(i):
            if np.array_equal(perms[j], inv):
                alias[i] = j
                break
        if alias[i] >= 0:
            continue
        involution = np.array_equal(perm[perm], np.arange(p))
        q = 0
        for c in range(p):
            if perm[c] == c or (involution and perm[c] < c):
                continue
            a[i, q], b[i, q] = c, perm[c]
            q += 1
        npairs[i] = q
        factor[i] = 2.0 if involution else 1.0
    return a, b, npairs, factor, alias


@njit(cache=True, nogil=True)
def _score_chunk(w, pa, pb, npairs, factor, alias, out, partial, partial_sq, partial_bad, c, start, stop):
    """Rows ``start:stop`` of the per-kernel pass, accumulating into row ``c`` of the partials."""
    p = w.shape[1]
    nt = npairs.shape[0]
    k = np.empty(p)
    d = np.empty(nt)
    for j in range(p):
        partial[c, j] = 0.0
    partial_sq[c] = 0.0
    partial_bad[c] = 0
    for i in range(start, stop):
        sq = 0.0
        for j in range(p):
            v = np.float64(w[i, j])
            k[j] = v
            partial[c, j] += v
            sq += v * v
        if not np.isfinite(sq):
            for j in range(p):
                if not np.isfinite(k[j]):
                    partial_bad[c] += 1
            out[i] = np.nan
            continue
        partial_sq[c] += sq
        if not (sq > 0.0):
            out[i] = np.nan
            continue
        total = 0.0
        for t in range(nt):
            if alias[t] >= 0:
                d[t] = d[alias[t]]
            else:
                acc = 0.0
                for q in range(npairs[t]):
                    diff = k[pa[t, q]] - k[pb[t, q]]
                    acc += diff * diff
                d[t] = math.sqrt(acc * factor[t])
            total += d[t]
        out[i] = 1.0 - total / (2.0 * math.sqrt(sq) * nt)


@njit(cache=True, parallel=True)
def _per_kernel_scores(w, pa, pb, npairs, factor, alias, out, partial, partial_sq, partial_bad):
    """S of every kernel (NaN where its norm is 0 or not finite), plus per-chunk column sums.

    The rows are cut into ``partial.shape[0]`` chunks, one per prange step, so each thread
    writes only its own slice of ``out`` and its own row of ``partial`` (column sums),
    ``partial_sq`` (sum of squared kernel norms) and ``partial_bad`` (non-finite values):
    one pass over the weight gives the mean kernel and the per-kernel scores.
    """
    m = w.shape[0]
    nchunks = partial.shape[0]
    step = (m + nchunks - 1) // nchunks
    for c in prange(nchunks):
        _score_chunk(w, pa, pb, npairs, factor, alias, out, partial, partial_sq, partial_bad,
                     c, c * step, min(m, (c + 1) * step))


@njit(cache=True, nogil=True)
def _per_kernel_scores_serial(w, pa, pb, npairs, factor, alias, out, partial, partial_sq, partial_bad):
    """The same pass in one thread: for small weights, where loading the parallel kernel (and its
    thread pool) would cost more than the pass itself."""
    m = w.shape[0]
    nchunks = partial.shape[0]
    step = (m + nchunks - 1) // nchunks
    for c in range(nchunks):
        _score_chunk(w, pa, pb, npairs, factor, alias, out, partial, partial_sq, partial_bad,
                     c, c * step, min(m, (c + 1) * step))


# ---------------------------------------------------------------------------------------------
# Public wrappers
# ---------------------------------------------------------------------------------------------
@dataclass
class KernelStats:
    """Symmetry statistics of one conv weight.

    ``symmetry`` and ``terms`` are None when S is undefined; ``reason`` then says why.
    """

    kernel_shape: tuple
    n_kernels: int
    mean_kernel: np.ndarray
    norm: float
    symmetry: float | None
    terms: dict
    skew: tuple | None
    coherence: float | None
    coherence_random: float
    per_kernel: dict
    n_nonfinite: int = 0
    reason: str = ""
    extra: dict = field(default_factory=dict)


def _as_kernels(weight: np.ndarray):
    """View a weight ``[A, B, *k]`` as ``[A*B, P]`` in a dtype numba reads (float32/float64)."""
    w = np.asarray(weight)
    if w.ndim < 3:
        raise ValueError(f"a conv weight needs at least 3 axes, got shape {w.shape}")
    k = tuple(int(s) for s in w.shape[2:])
    m = int(w.shape[0]) * int(w.shape[1])
    if w.dtype not in (np.float32, np.float64):
        w = w.astype(np.float64)
    w2 = w.reshape(m, int(np.prod(k)))
    if not w2.flags.c_contiguous:
        w2 = np.ascontiguousarray(w2)
    return w2, k, m


def symmetry_terms(kernel: np.ndarray) -> tuple[float | None, dict]:
    """S and the named d_T of one kernel (any grid); (None, {}) when ||K|| is 0 or not finite."""
    k = np.ascontiguousarray(kernel, dtype=np.float64)
    ts = transforms_for(k.shape)
    flat = k.ravel()
    if not np.all(np.isfinite(flat)) or ts.perms.shape[0] == 0:
        return None, {}
    # one small kernel: plain numpy (loading a compiled kernel would cost more than it saves)
    norm = float(np.sqrt((flat ** 2).sum()))
    if norm == 0.0:
        return None, {}
    d = np.sqrt(((flat[ts.perms] - flat) ** 2).sum(axis=1)) / (2.0 * norm)
    terms = {name: (float(d[r]) if r >= 0 else None) for name, r in zip(ts.names, ts.term_rows)}
    return float(1.0 - d.mean()), terms


def skew_of(kernel: np.ndarray) -> tuple | None:
    """Normalised first moment of ``kernel`` about its centre, one component per axis.

    Signed by the sign of the kernel's sum so that it points to where the dominant-sign weight
    sits; axes of length 1 give 0. None when the kernel is all zero or not finite.
    """
    k = np.asarray(kernel, dtype=np.float64)
    total_abs = np.abs(k).sum()
    if not np.isfinite(total_abs) or total_abs == 0:
        return None
    sign = -1.0 if k.sum() < 0 else 1.0
    comps = []
    for axis, n in enumerate(k.shape):
        if n == 1:
            comps.append(0.0)
            continue
        c = (n - 1) / 2.0
        coords = (np.arange(n) - c) / c
        shape = [1] * k.ndim
        shape[axis] = n
        comps.append(float(sign * (k * coords.reshape(shape)).sum() / total_abs))
    return tuple(comps)


@njit(cache=True)
def _order_statistics(x, lo, hi, ranks, out):
    """Exact order statistics (0-based ``ranks``, sorted) of the finite values of ``x`` that lie
    in [lo, hi] (values outside are clamped into the end bins), found by a histogram pass and
    a sort of the few values in the target bins. Returns the number of finite values."""
    nb = 65536
    counts = np.zeros(nb, np.int64)
    scale = nb / (hi - lo)
    n = 0
    for v in x:
        if np.isfinite(v):
            b = min(nb - 1, max(0, int((v - lo) * scale)))
            counts[b] += 1
            n += 1
    for r in range(ranks.shape[0]):
        want = ranks[r]
        if want >= n:
            out[r] = np.nan
            continue
        cum = 0
        b = 0
        while cum + counts[b] <= want:
            cum += counts[b]
            b += 1
        vals = np.empty(counts[b])
        q = 0
        for v in x:
            if np.isfinite(v):
                bb = min(nb - 1, max(0, int((v - lo) * scale)))
                if bb == b:
                    vals[q] = v
                    q += 1
        vals.sort()
        out[r] = vals[want - cum]
    return n


# From these sizes on a compiled kernel pays for loading it (~0.1 s a kernel from numba's cache):
_SELECT_MIN = 1 << 20  # kernels: histogram selection instead of np.partition
_NUMPY_SUMS_MAX = 1 << 22  # weight values: below this, mean and norms by numpy
_PARALLEL_MIN = 1 << 23  # weight values: from here on the per-kernel pass runs on all cores


def _quantiles(x):
    """Quartiles of the finite values of per-kernel scores (all in [0, 1]), exactly as
    np.quantile's default linear method."""
    n = int(np.count_nonzero(np.isfinite(x)))
    if n == 0:
        return {"n": 0, "median": None, "q1": None, "q3": None}
    pos = np.array([0.25, 0.5, 0.75]) * (n - 1)
    lo = np.floor(pos).astype(np.int64)
    ranks = np.unique(np.concatenate([lo, np.minimum(lo + 1, n - 1)]))
    if x.size >= _SELECT_MIN:
        got = np.empty(ranks.size)
        _order_statistics(x, 0.0, 1.0, ranks, got)
    else:  # small layers: a partition is as fast, and needs no compiled kernel loaded
        got = np.partition(x[np.isfinite(x)], ranks)[ranks]
    val = dict(zip(ranks.tolist(), got.tolist()))
    q = [val[int(l)] + (val[int(min(l + 1, n - 1))] - val[int(l)]) * (p - l) for l, p in zip(lo, pos)]
    return {"n": int(n), "median": float(q[1]), "q1": float(q[0]), "q3": float(q[2])}


def kernel_stats(weight: np.ndarray, per_kernel: bool = True) -> KernelStats:
    """All statistics of one conv weight ``[A, B, *k]`` (Conv: [N, C/g, ...]; ConvTranspose:
    [C_in, C_out/g, ...]); the mean is over the first two axes. Non-finite weights make S
    undefined (the reason says how many values), never a warning."""
    with np.errstate(invalid="ignore", over="ignore"):
        return _kernel_stats(weight, per_kernel)


def _kernel_stats(weight, per_kernel):
    w2, k, m = _as_kernels(weight)
    p = w2.shape[1]
    ts = transforms_for(k)
    scores = None
    if per_kernel and m and ts.perms.shape[0]:
        # one fused pass: per-kernel scores and the sums behind the mean kernel
        scores = np.empty(m)
        nchunks = max(1, min(m, 64))
        partial = np.empty((nchunks, p))
        partial_sq = np.empty(nchunks)
        partial_bad = np.empty(nchunks, np.int64)
        kernel = _per_kernel_scores if m * p >= _PARALLEL_MIN else _per_kernel_scores_serial
        kernel(w2, *plan_for(k), scores, partial, partial_sq, partial_bad)
        mean = partial.sum(axis=0) / m
        sq_total = float(partial_sq.sum())
        bad = int(partial_bad.sum())
    elif m * p < _NUMPY_SUMS_MAX:
        finite = np.isfinite(w2)
        bad = int(w2.size - np.count_nonzero(finite))
        w64 = np.where(finite, w2, 0).astype(np.float64)
        mean = w64.sum(axis=0) / max(m, 1)
        sq_total = float((w64 ** 2).sum())
    else:
        mean = np.empty(p)
        sq = np.empty(m)
        bad = int(_mean_and_norms(w2, mean, sq))
        sq_total = float(sq.sum())
    mean_kernel = mean.reshape(k)
    coherence_random = 1.0 / math.sqrt(m) if m else float("nan")
    stats = KernelStats(k, m, mean_kernel, float("nan"), None, {}, None, None, coherence_random,
                        {"n": 0, "median": None, "q1": None, "q3": None}, n_nonfinite=bad)
    if ts.perms.shape[0] == 0:
        stats.reason = f"{'×'.join(map(str, k))} kernel: every transform is the identity, S is not defined"
        stats.norm = float(np.sqrt((mean ** 2).sum()))
        return stats
    if bad:
        stats.reason = f"weight has {bad} non-finite value(s) (NaN/Inf) out of {m * p}"
        return stats
    norm = float(np.sqrt((mean ** 2).sum()))
    stats.norm = norm
    if norm == 0.0:
        stats.reason = "mean kernel is all zero (||K|| = 0): S is not defined"
        return stats
    s, terms = symmetry_terms(mean_kernel)
    stats.symmetry, stats.terms = s, terms
    stats.skew = skew_of(mean_kernel)
    rms = math.sqrt(sq_total / m) if m else 0.0
    stats.coherence = norm / rms if rms > 0 else None
    if scores is not None:
        pk = _quantiles(scores)
        pk["n_zero"] = int(m - pk["n"])
        stats.per_kernel = pk
    return stats
