"""One image's variants compared: its shift pairs, its mirror(s), its least consistent pair.

:func:`compare_image` turns the per-variant records of one image into an :class:`ImageOutcome`,
everything the report needs of that image. Outcomes are independent of one another, so a run
over part of the images (another process, another machine) returns its outcomes and the report
is assembled from all of them in image order (:mod:`.analysis`).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .outputs import cosine
from .results import ImageResult


@dataclass
class ImageOutcome:
    """What the report needs of one image (``index`` in the image set)."""

    index: int
    vals: list                      # the pair metric of every shift pair (bool or float)
    result: ImageResult
    dprob: dict = field(default_factory=dict)   # classifiers: {"shift": [...], "flip": x, "vflip": x}
    ranges: tuple | None = None     # cosine metrics: (pair ranges, flip, vflip, centre) value ranges
    centre: object = None           # the centre crop's record when the chance sample keeps it


def _pair_offsets(plan, i, p) -> list:
    vs = plan.variants(i)
    return [list(vs[2 * p][:2]), list(vs[2 * p + 1][:2])]


def compare_image(i: int, name: str, recs: list, plan, handler, chance) -> ImageOutcome:
    """The outcome of image ``i`` from its records (in :meth:`Plan.variants` order); ``chance``
    (a :class:`~onnxsym.consistency.chance.ChanceSample`) tells whether to keep the centre."""
    if handler.kind == "classifier":
        return _classes(i, name, recs, plan, handler)
    return _values(i, name, recs, plan, handler, chance)


def _classes(i, name, recs, plan, h) -> ImageOutcome:
    c = 2 * plan.pairs
    vals, dps = [], []
    for p in range(plan.pairs):
        agree, dp = h.compare_classifier(recs[2 * p], recs[2 * p + 1])
        vals.append(bool(agree))
        dps.append(dp)
    # the worst pair: the first whose top-1 differs, else the one whose probabilities moved most
    worst = next((p for p, v in enumerate(vals) if not v), int(np.argmax(dps)) if dps else None)
    fa, fd = h.compare_classifier(recs[c], recs[c + 1])
    dprob = {"shift": dps, "flip": fd, "vflip": None}
    fv = None
    if plan.vertical:
        va, dprob["vflip"] = h.compare_classifier(recs[c], recs[c + 2])
        fv = float(va)
    pair = {} if worst is None else {
        "worst_pair": _pair_offsets(plan, i, worst), "worst_pair_value": float(vals[worst]),
        "worst_pair_top1": [h.top1(recs[2 * worst]), h.top1(recs[2 * worst + 1])]}
    res = ImageResult(name=name, shift_agree=int(sum(vals)), shift_pairs=plan.pairs, shift_mean=float(np.mean(vals)),
                      flip=float(fa), flip_vertical=fv, top1=h.top1(recs[c]), mirror_top1=h.top1(recs[c + 1]), **pair)
    return ImageOutcome(i, vals, res, dprob)


def _values(i, name, recs, plan, h, chance) -> ImageOutcome:
    c = 2 * plan.pairs
    vs = plan.variants(i)
    vals = []
    for p in range(plan.pairs):
        a, b = recs[2 * p], recs[2 * p + 1]
        vals.append(h.compare_shift(a, b, vs[2 * p][:2], vs[2 * p + 1][:2]) if h.kind == "spatial"
                    else cosine(a, b))
    if h.kind == "spatial":
        flip = h.compare_flip(recs[c], recs[c + 1], axis=-1)
        fv = h.compare_flip(recs[c], recs[c + 2], axis=-2) if plan.vertical else None
    else:
        flip = cosine(recs[c], recs[c + 1])
        fv = cosine(recs[c], recs[c + 2]) if plan.vertical else None
    ranges = None
    if h.cosine:
        rg = [h.value_range(r) for r in recs]
        ranges = ([(rg[2 * p], rg[2 * p + 1]) for p in range(plan.pairs)],
                  (rg[c], rg[c + 1]), (rg[c], rg[c + 2]) if plan.vertical else None, rg[c])
    worst = int(np.argmin(vals)) if vals else None
    pair = {} if worst is None else {"worst_pair": _pair_offsets(plan, i, worst),
                                     "worst_pair_value": float(vals[worst])}
    res = ImageResult(name=name, shift_agree=None, shift_pairs=plan.pairs, shift_mean=float(np.mean(vals)),
                      flip=flip, flip_vertical=fv, **pair)
    centre = recs[c] if chance.keeps(i, h, recs[c]) else None
    return ImageOutcome(i, vals, res, ranges=ranges, centre=centre)
