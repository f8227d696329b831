"""The chance level: what the consistency metric gives for centre crops of *different* images —
the level a consistency number must clear to mean anything. Computed from the centre-crop outputs
the run already has (no extra model runs).

Top-1: the share of all pairs of different images whose top-1 agrees (exact, from the class
counts). Cosine: the mean cosine between the outputs of different images; pixel agreement: the
mean share of pixels whose top-1 agrees — over all pairs of up to ``CHANCE_IMAGES`` images (a
seeded sample of the images beyond that, and fewer when the outputs are large: at most
``CHANCE_BYTES`` of them are kept); pairs of two flat outputs are left out.
"""
from __future__ import annotations

import numpy as np

from ..wording import metric_interval, metric_value
from .results import ChanceResult

CHANCE_IMAGES = 256
CHANCE_BYTES = 256 << 20


class ChanceSample:
    """Centre-crop outputs kept for the chance level (cosine and pixel metrics; classifiers use
    the per-image top-1). All images up to CHANCE_IMAGES (fewer for large outputs: CHANCE_BYTES);
    beyond that, the first ones of a seeded permutation of the images."""

    def __init__(self, n_images: int, seed: int):
        self.n = int(n_images)
        self.seed = int(seed)
        self.limit: int | None = None
        self.rank: np.ndarray | None = None
        self.rows: np.ndarray | None = None     # [limit, D] float32 (cosine) or int64 labels
        self.index: list[int] = []               # image index of each filled row
        self.ranges: list[float] = []            # cosine: value range of each row (flatness)
        self.pixel = False

    @staticmethod
    def _row(handler, rec):
        if handler.pixel_top1:
            rec = np.asarray(rec)
            return (rec[0] if handler.labels else np.argmax(rec, axis=0)).astype(np.int64).ravel()
        return np.asarray(rec, np.float32).ravel()

    def _size(self, nbytes: int) -> None:
        """Fix how many images are kept (from the size of one row) and which (a seeded rank)."""
        self.limit = int(max(2, min(CHANCE_IMAGES, self.n, CHANCE_BYTES // max(nbytes, 1))))
        if self.limit < self.n:
            perm = np.random.default_rng([self.seed, 0, 0xC4A]).permutation(self.n)
            self.rank = np.empty(self.n, np.int64)
            self.rank[perm] = np.arange(self.n)

    def keeps(self, i: int, handler, rec) -> bool:
        """Whether image ``i``'s centre record is in the sample (decided the same in every process)."""
        if self.limit is None:
            self._size(self._row(handler, rec).nbytes)
        return self.rank is None or bool(self.rank[i] < self.limit)

    def add(self, i: int, handler, rec) -> None:
        pixel = handler.pixel_top1
        row = self._row(handler, rec)
        if self.limit is None:
            self._size(row.nbytes)
        if self.rows is None:
            self.pixel = pixel
            self.rows = np.empty((self.limit, row.size), row.dtype)
        if self.rank is not None and self.rank[i] >= self.limit:
            return
        if len(self.index) >= self.limit or row.size != self.rows.shape[1]:
            return  # pragma: no cover - every record has the same size
        self.rows[len(self.index)] = row
        self.index.append(i)
        if not pixel:
            self.ranges.append(handler.value_range(rec))

    @property
    def sampled(self) -> bool:
        return self.rank is not None


CHANCE_WHAT = {
    "top1_agreement": "share of pairs of different images whose top-1 (on the centre crop) agrees: "
                      "the agreement that unrelated images of this set reach by chance",
    "cosine_similarity": "mean cosine similarity between the outputs of the centre crops of "
                         "different images: what the metric gives for unrelated images of this set",
    "pixel_top1_agreement": "mean share of output pixels whose top-1 agrees between the centre "
                            "crops of different images (same positions): what the metric gives "
                            "for unrelated images of this set",
}


def chance_level(handler, keep: ChanceSample, per_image) -> ChanceResult:
    """The metric between centre crops of different images (see the module docstring)."""
    metric = handler.info.metric
    what = CHANCE_WHAT[metric]
    if handler.kind == "classifier":
        tops = [r.top1 for r in per_image if r.top1 is not None]
        k = len(tops)
        pairs = k * (k - 1) // 2
        if not pairs:
            return ChanceResult(None, metric, what, 0, k)
        _, counts = np.unique(np.asarray(tops, np.int64), return_counts=True)
        agree = int(np.sum(counts * (counts - 1) // 2))
        return ChanceResult(agree / pairs, metric, what, pairs, k)
    k = len(keep.index)
    all_pairs = k * (k - 1) // 2
    if not all_pairs:
        return ChanceResult(None, metric, what, 0, k, keep.sampled)
    rows = keep.rows[:k]
    if keep.pixel:
        n_pix = rows.shape[1]
        if n_pix == 0:
            return ChanceResult(None, metric, what, 0, k, keep.sampled)
        # agreeing pairs per pixel = sum over labels of C(count, 2): count (pixel, label) keys
        lab = rows - rows.min()
        keys = lab * n_pix + np.arange(n_pix, dtype=np.int64)[None, :]
        _, counts = np.unique(keys.ravel(), return_counts=True)
        agree = float(np.sum(counts.astype(np.float64) * (counts - 1) / 2))
        return ChanceResult(agree / (all_pairs * n_pix), metric, what, all_pairs, k, keep.sampled)
    norms = np.sqrt(np.einsum("ij,ij->i", rows.astype(np.float64), rows.astype(np.float64))) \
        if rows.shape[1] * k <= (1 << 24) else np.array([np.linalg.norm(r.astype(np.float64)) for r in rows])
    zero = norms == 0
    scale = np.where(zero, 0.0, 1.0 / np.where(zero, 1.0, norms)).astype(np.float32)
    rows *= scale[:, None]        # in place: the kept rows are not needed after this
    gram = (rows @ rows.T).astype(np.float64)
    gram[np.ix_(zero, zero)] = 1.0  # as _cosine: two zero outputs are identical
    iu, ju = np.triu_indices(k, 1)
    thr = handler.flat_threshold()
    flat = np.asarray(keep.ranges) <= thr
    use = ~(flat[iu] & flat[ju])
    n_used = int(use.sum())
    value = float(np.clip(gram[iu, ju][use], -1.0, 1.0).mean()) if n_used else None
    return ChanceResult(value, metric, what, n_used, k, keep.sampled, excluded_pairs=all_pairs - n_used)


def _fmt_result(res, metric) -> str:
    ci = metric_interval(res.ci95, metric)
    return metric_value(res.consistency, metric) + (f" {ci}" if ci else "")


def chance_warnings(chance: ChanceResult, shift, flip, vflip) -> list[str]:
    """One warning when a consistency interval reaches down to the chance level."""
    if chance is None or chance.value is None:
        return []
    low = []
    for name, res in (("shift", shift), ("flip", flip), ("vertical flip", vflip)):
        if res is None or res.consistency is None:
            continue
        lo = res.ci95[0] if res.ci95 else res.consistency
        if lo <= chance.value:
            low.append(f"{name} {_fmt_result(res, chance.metric)}")
    if not low:
        return []
    level = metric_value(chance.value, chance.metric)
    if chance.metric == "cosine_similarity":
        return [f"the cosine consistency ({'; '.join(low)}) does not clear the cosine between the "
                f"outputs of unrelated images ({level}): the metric does not separate shifted or "
                "mirrored copies from unrelated images here, so it says nothing about consistency"]
    if chance.metric == "pixel_top1_agreement":
        return [f"the pixel agreement ({'; '.join(low)}) does not clear the agreement between "
                f"unrelated images ({level}): the metric does not separate shifted or mirrored "
                "copies from unrelated images here"]
    return [f"the top-1 agreement ({'; '.join(low)}) does not clear the agreement between unrelated "
            f"images ({level}): the model gives many of these images the same top-1, so agreement "
            "here says little about consistency"]
