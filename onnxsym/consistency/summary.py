"""What the per-image comparisons add up to: shift and flip results with their intervals, the
flat outputs left out of cosine metrics, and the repeat check."""
from __future__ import annotations

import numpy as np

from ..stats import clustered_mean, clustered_proportion, wilson
from .outputs import OutputHandler, cosine
from .results import FlipResult, RepeatCheck, ShiftResult

CI_SHIFT = ("Wilson score interval on the effective number of pairs n/(deff*(t/z)^2); deff >= 1 is the "
            "design effect from the between-image variance (pairs of one image are not independent), "
            "t the 97.5 % quantile of Student's t with images-1 degrees of freedom")
CI_FLIP = "Wilson score interval over images"
CI_MEAN = "mean +- t(images-1) cluster-robust standard errors over images"


def exclude_flat(handler, plan, shift_vals, per_image, ranges, notes, warnings, indices=None):
    """Cosine metrics: leave out comparisons of two flat outputs (near zero / near constant).

    Cosine similarity of two outputs that carry no signal (a text detector's probability map on a
    photo without text: max p ~ 1e-6) measures rounding noise, not consistency."""
    thr = handler.flat_threshold()
    flat_images = 0
    indices = range(len(per_image)) if indices is None else indices  # the images' indices in the plan
    for i, vals, res, (pairs, fl, vfl, centre) in zip(indices, shift_vals, per_image, ranges):
        keep = [not (ra <= thr and rb <= thr) for ra, rb in pairs]
        kept = [p for p, k in enumerate(keep) if k]
        if len(kept) < len(keep):  # the worst pair is one that was compared, or none
            worst = min(kept, key=lambda p: vals[p]) if kept else None
            res.worst_pair = None if worst is None else [list(v[:2]) for v in plan.variants(i)[2 * worst:2 * worst + 2]]
            res.worst_pair_value = None if worst is None else float(vals[worst])
        vals[:] = [vals[p] for p in kept]
        res.shift_excluded = keep.count(False)
        res.shift_pairs = len(vals)
        res.shift_mean = float(np.mean(vals)) if vals else None
        if fl[0] <= thr and fl[1] <= thr:
            res.flip = None
        if vfl is not None and vfl[0] <= thr and vfl[1] <= thr:
            res.flip_vertical = None
        res.flat = bool(centre <= thr)
        flat_images += res.flat
    n = len(per_image)
    excluded = sum(r.shift_excluded for r in per_image)
    if not excluded and not any(r.flip is None for r in per_image):
        return
    what = (f"the output {handler.name!r} is flat (value range <= {thr:.3g}: near zero or near "
            f"constant) on {flat_images} of {n} images")
    notes.append(f"{what}; comparisons of two flat outputs are left out of the cosine metric "
                 f"({excluded} of {n * plan.pairs} pairs, "
                 f"{sum(r.flip is None for r in per_image)} of {n} flips)")
    if all(r.shift_mean is None for r in per_image) and all(r.flip is None for r in per_image):
        warnings.append(f"{what}: there is nothing to compare, no consistency was measured "
                        "(for a detector: the images hold nothing it detects)")
    elif 2 * flat_images > n:
        warnings.append(f"{what}: the cosine metric is not meaningful for most images; measure on "
                        "images where the model responds")


def repeat_check(handler: OutputHandler, a: np.ndarray, b: np.ndarray) -> RepeatCheck:
    identical = bool(a.shape == b.shape and np.array_equal(a, b))
    diff = float(np.max(np.abs(a.astype(np.float64) - b.astype(np.float64)))) if a.size else 0.0
    ra, rb = handler.records(a), handler.records(b)
    if handler.kind == "classifier":
        agree = float(np.mean([handler.top1(x) == handler.top1(y) for x, y in zip(ra, rb)]))
        ok = agree == 1.0
    elif handler.kind == "spatial":
        agree = float(np.mean([handler.compare_flip(x, np.flip(y, -1), -1) for x, y in zip(ra, rb)]))
        ok = agree >= (0.999 if handler.pixel_top1 else 0.9999)
    else:
        agree = float(np.mean([cosine(x, y) for x, y in zip(ra, rb)]))
        ok = agree >= 0.9999
    return RepeatCheck(inputs=int(a.shape[0]), identical=identical, max_abs_diff=diff,
                       agreement=agree, ok=bool(ok or identical))


def summaries(handler, plan, shift_vals, per_image, dps, dpf, dpv, notes):
    sizes = np.array([len(v) for v in shift_vals], float)
    n_img = len(per_image)
    if handler.kind == "classifier":
        agree = np.array([sum(v) for v in shift_vals], float)
        p, ci, deff = clustered_proportion(agree, sizes)
        if n_img == 1:
            notes.append("one image: the shift interval treats its pairs as independent (too narrow)")
        shift = ShiftResult(consistency=p, pairs=int(sizes.sum()), images=n_img, ci95=ci,
                            ci95_method=CI_SHIFT, metric="top-1 agreement of crop pairs",
                            mean_abs_delta_top1_prob=float(np.mean(dps)), design_effect=deff)

        def flip_result(axis, vals, dp):
            k = float(np.sum(vals))
            return FlipResult(axis=axis, consistency=k / len(vals), images=len(vals),
                              ci95=wilson(k, len(vals)), ci95_method=CI_FLIP,
                              metric="top-1 agreement of the centre crop and its mirror",
                              mean_abs_delta_top1_prob=float(np.mean(dp)))

        flip = flip_result("horizontal", [r.flip for r in per_image], dpf)
        vflip = flip_result("vertical", [r.flip_vertical for r in per_image], dpv) if plan.vertical else None
        return shift, flip, vflip
    metric = handler.info.comparison
    kept = [v for v in shift_vals if v]
    sizes = np.array([len(v) for v in kept], float)
    totals = np.array([sum(v) for v in kept], float)
    r, ci = clustered_mean(totals, sizes)
    shift = ShiftResult(consistency=r, pairs=int(sizes.sum()), images=len(kept), ci95=ci,
                        ci95_method=CI_MEAN, metric=metric,
                        excluded_pairs=int(sum(p.shift_excluded for p in per_image)),
                        excluded_images=n_img - len(kept))

    def flip_mean(axis, vals):
        v = np.array([x for x in vals if x is not None], float)
        m, c = clustered_mean(v, np.ones_like(v))
        return FlipResult(axis=axis, consistency=m, images=len(v), ci95=c, ci95_method=CI_MEAN,
                          metric=metric, excluded_images=len(vals) - len(v))

    flip = flip_mean("horizontal", [r.flip for r in per_image])
    vflip = flip_mean("vertical", [r.flip_vertical for r in per_image]) if plan.vertical else None
    return shift, flip, vflip
