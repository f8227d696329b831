"""Families: the exports and re-encodings of the same weights (fp16, int8, external data, another
converter), recognised from their resolved conv weights.

A model's fingerprint is, per analysed conv layer in graph order, its op type, weight shape and
mean kernel normalised to unit norm, K̂ = K / ‖K‖ (:func:`onnxsym.study.task.fingerprint_layer`).
Two models' layers are paired by :func:`onnxsym.auditing.compare.match_layers` (weight shape and
order, not names: converters rename and reorder); per pair the distance is
d = ‖K̂_a − K̂_b‖ / 2 ∈ [0, 1] (the form of the symmetry terms, docs/metric.md). Two models are
the same weights when

* the pairs cover at least :data:`MIN_COVERAGE` (90 %) of the layers of each, and
* the largest d over the pairs is at most :data:`MAX_DISTANCE` (0.05).

Families are the connected groups of that relation (single linkage).

The thresholds, measured on the zoo (models/zoo/PROVENANCE.md): MobileNetV2 fp32 against its
fp16 build, largest d 0.00013; against its per-channel int8 QDQ build, 0.0040. The closest two
*different* weights of the zoo, the digits CNNs trained from one initialisation with and without
flips (pool_reflect), 0.154 (median over layers 0.098); a checkpoint against the next one of its
training run (epoch 1 → 3) 0.40. 0.05 is 12× above int8's rounding and 3× below the closest
distinct pair. Re-encodings coarser than per-channel int8 (int4 blocks) stay under it; a
converter that folds BatchNormalization into the conv reweights the output channels, changes K
itself, and may form a family of its own; a fine-tuned copy whose mean kernels moved less than
0.05 joins its parent's family.

The representative (the member the statistics use) is the widest encoding (float64, float32,
float16/bfloat16, then quantized) among the members measured without error, then the first id:
the original weights, not a lossy copy.
"""
from __future__ import annotations

from collections import Counter

import numpy as np

from .. import defaults as D
from ..auditing.compare import match_layers
from .results import Family
from .task import ENCODING_RANK

MAX_DISTANCE = D.FAMILY_MAX_DISTANCE
MIN_COVERAGE = D.FAMILY_MIN_COVERAGE


def distance(fa: list, fb: list) -> tuple[float, float | None]:
    """(coverage, largest d) between two fingerprints: the share of the larger one's layers that
    are paired, and the largest per-pair distance (None when nothing pairs)."""
    if not fa or not fb:
        return 0.0, None
    pairs = match_layers(fa, fb)
    if not pairs:
        return 0.0, None
    d = [float(np.linalg.norm(np.asarray(fa[i]["kernel"]) - np.asarray(fb[j]["kernel"]))) / 2 for i, j in pairs
         if len(fa[i]["kernel"]) == len(fb[j]["kernel"])]
    coverage = len(d) / max(len(fa), len(fb))
    return coverage, (max(d) if d else None)


def same_weights(fa: list, fb: list) -> tuple[bool, float, float | None]:
    """(same, coverage, largest d) by the thresholds of the module docstring."""
    coverage, dmax = distance(fa, fb)
    return coverage >= MIN_COVERAGE and dmax is not None and dmax <= MAX_DISTANCE, coverage, dmax


def _shape_overlap(fa: list, fb: list) -> float:
    """Upper bound of the coverage, from the layers' shapes alone (cheap: skips most pairs)."""
    ca = Counter((f["op_type"], tuple(f["weight_shape"] or ())) for f in fa)
    cb = Counter((f["op_type"], tuple(f["weight_shape"] or ())) for f in fb)
    return sum((ca & cb).values()) / max(len(fa), len(fb))


def group(rows: list) -> list:
    """The families of ``rows`` (:class:`~.results.ModelRow` with fingerprints); sets each row's
    ``family`` and ``representative``. Rows without a fingerprint (failed, or no analysed conv)
    are families of one when measured, and of none when they failed before the weights."""
    rows = sorted(rows, key=lambda r: r.id)
    members = [r for r in rows if r.status != "failed" or r.fingerprint]
    parent = list(range(len(members)))
    links: dict = {}

    def find(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, a in enumerate(members):
        for j in range(i + 1, len(members)):
            b = members[j]
            if not a.fingerprint or not b.fingerprint or _shape_overlap(a.fingerprint, b.fingerprint) < MIN_COVERAGE:
                continue
            same, coverage, dmax = same_weights(a.fingerprint, b.fingerprint)
            if same:
                links[(i, j)] = (coverage, dmax)
                parent[find(j)] = find(i)
    groups: dict = {}
    for i in range(len(members)):
        groups.setdefault(find(i), []).append(i)
    families = []
    for k, idx in enumerate(sorted(groups.values(), key=lambda g: members[g[0]].id), start=1):
        fam_rows = [members[i] for i in idx]
        inner = [v for (i, j), v in links.items() if i in idx and j in idx]
        rep = representative(fam_rows)
        fam = Family(id=f"F{k}", members=[r.id for r in fam_rows], representative=rep.id if rep else None,
                     encodings={r.id: r.encoding for r in fam_rows},
                     max_distance=max((d for _, d in inner), default=None),
                     min_coverage=min((c for c, _ in inner), default=None))
        for r in fam_rows:
            r.family, r.representative = fam.id, rep is not None and r.id == rep.id
        families.append(fam)
    grouped = {r.id for r in members}
    for r in rows:
        if r.id not in grouped:
            r.family, r.representative = None, False
    return families


def representative(rows: list):
    """The widest-encoded member measured without error (then the first id); None when every
    member failed."""
    ok = [r for r in rows if r.ok] or [r for r in rows if r.status == "partial"]
    if not ok:
        return None
    return sorted(ok, key=lambda r: (-ENCODING_RANK.get(r.encoding or "", 0), r.id))[0]
