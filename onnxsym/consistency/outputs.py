"""What a model's output is and how two of them are compared.

[B, K] (or [B, K, 1, 1]) is a classifier — softmax applied only when the rows are not already
distributions. One score per input ([B], [B, 1], [B, 1, 1, 1]) is a *binary* classifier: class 1
when p > 0.5 if the first batch's values all lie in [0, 1] (probabilities), else when the value > 0
(logits). A spatial output [B, C, H, W] ([B, H, W, C] for NHWC models, [B, H, W] label maps) is
compared on the overlap after undoing the shift by the output stride, or after mirroring back:
pixel top-1 agreement when C > 1 (or for integer label maps), cosine similarity otherwise.
Anything else is compared as flat vectors by cosine similarity, and labelled so. An output whose
value range is at most FLAT_RTOL of its scale is *flat* (cosine metrics leave such comparisons out).
"""
from __future__ import annotations

import math
import re

import numpy as np

from ..errors import InputError
from ..wording import param
from .preprocess import InputSpec
from .results import OutputInfo

# A per-variant output whose value range is at most this fraction of the output's scale is "flat":
# comparing two flat outputs by cosine similarity measures noise, so such comparisons are excluded.
FLAT_RTOL = 1e-3


def _softmax(x: np.ndarray) -> np.ndarray:
    x = x.astype(np.float64)
    x = x - x.max(axis=-1, keepdims=True)
    np.exp(x, out=x)
    x /= x.sum(axis=-1, keepdims=True)
    return x.astype(np.float32)


def _is_distribution(x: np.ndarray) -> bool:
    x = x.astype(np.float64)
    return bool(np.all(x >= -1e-6) and np.all(x <= 1 + 1e-6)
                and np.allclose(x.sum(axis=-1), 1.0, atol=1e-3))


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    a = a.astype(np.float64).ravel()
    b = b.astype(np.float64).ravel()
    na, nb = np.linalg.norm(a), np.linalg.norm(b)
    if na == 0 and nb == 0:
        return 1.0
    if na == 0 or nb == 0:
        return 0.0
    return float(np.dot(a, b) / (na * nb))


def _sigmoid(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, np.float64)
    return np.exp(-np.logaddexp(0.0, -x))


def _is_binary_shape(shape: list) -> bool:
    """[B] or [B, 1] (also [B, 1, 1], [B, 1, 1, 1]): one score per input."""
    return len(shape) == 0 or (len(shape) <= 3 and all(d == 1 for d in shape))


class ClassRecord:
    """A classifier output reduced on the device (:mod:`.device`): its top-1 and its probabilities
    at the classes it is compared at; ``record[c]`` reads them like a probability vector."""

    __slots__ = ("top", "p")

    def __init__(self, top: int, p: dict):
        self.top, self.p = top, p

    def __getitem__(self, c):
        return self.p[int(c)]


KINDS = ("auto", "classes", "spatial", "vector")
_CLASS_NAMES = re.compile(r"logit|score|prob|softmax|class|cls|pred|label", re.IGNORECASE)
_VECTOR_NAMES = re.compile(r"landmark|coord|point|keypoint|kpt|kps|box|bbox|embed|feat|vec|pose|mesh|offset|"
                           r"regress|depth|flow|norm", re.IGNORECASE)


def _classifier_shaped(sample, shape, spec) -> bool:
    return (sample.ndim == 2 and shape[0] > 1) or (sample.ndim == 4 and shape[1:] == [1, 1] and shape[0] > 1) \
        or (sample.ndim == 4 and spec.layout == "NHWC" and shape[:2] == [1, 1] and shape[2] > 1)


def _spatial_shaped(sample, shape, spec) -> bool:
    return (sample.ndim == 3 and np.issubdtype(sample.dtype, np.integer) and min(shape) > 1) or \
        (sample.ndim == 4 and min(shape[0:2] if spec.layout == "NHWC" else shape[1:3]) > 1)


def choose_kind(name: str, sample: np.ndarray, spec: InputSpec, outputs: int = 1) -> tuple[str, str]:
    """(kind, why) for an output whose kind was not given: ``classifier`` only when it looks like
    one — rows that are probability distributions, a name like scores/logits/probs, ImageNet's
    1000 classes, or the model's only output with mixed-sign values (logits) —, ``spatial`` for
    maps [B, C, H, W], else ``vector`` (compared by cosine similarity): a landmark or box regressor's
    coordinates have no top-1."""
    shape = list(sample.shape[1:])
    if _is_binary_shape(shape):
        return "classifier", "one score per input: a binary classifier"
    if _classifier_shaped(sample, shape, spec):
        k = int(np.prod(shape))
        rows = sample.reshape(sample.shape[0], -1)
        if _VECTOR_NAMES.search(name):
            return "vector", f"[B, {k}] named {name!r}, like coordinates or features"
        if _is_distribution(rows):
            return "classifier", f"[B, {k}] rows that are probability distributions"
        if _CLASS_NAMES.search(name):
            return "classifier", f"[B, {k}] named {name!r}, like class scores"
        if k in (1000, 1001):
            return "classifier", f"[B, {k}]: ImageNet's classes"
        if rows.size and np.all(rows >= 0):
            return "vector", f"[B, {k}] non-negative values that are not probabilities (coordinates?)"
        if outputs == 1:
            return "classifier", f"[B, {k}], the model's only output, mixed-sign values read as logits"
        return "vector", f"[B, {k}], one of {outputs} outputs, not named like class scores"
    if _spatial_shaped(sample, shape, spec):
        return "spatial", f"a map {shape}: compared per position after undoing the shift"
    return "vector", f"shape {shape}: compared as a vector"


class OutputHandler:
    """Turns raw output rows into per-variant records and compares two records.

    ``kind``: ``auto`` (see :func:`choose_kind`), ``classes``, ``spatial`` or ``vector``."""

    def __init__(self, name: str, sample: np.ndarray, spec: InputSpec, kind: str = "auto", outputs: int = 1):
        self.name = name
        shape = list(sample.shape[1:])
        if kind == "auto":
            kind, why = choose_kind(name, sample, spec, outputs)
        elif kind == "classes" and _spatial_shaped(sample, shape, spec) and not _is_binary_shape(shape):
            kind, why = "spatial", "classes, as given: per position of the map"
        elif kind == "spatial" and not _spatial_shaped(sample, shape, spec):
            raise InputError(f"{param('output_kind', 'spatial')}: output {name!r} {shape} is not a map "
                             "[B, C, H, W]")
        else:
            kind, why = {"classes": "classifier"}.get(kind, kind), f"{kind}, as given"
        self.info = OutputInfo(name=name, kind="vector", shape=shape, kind_reason=why)
        self.labels = False
        self.channels_last = False
        self.binary: str | None = None       # "probability" | "logit" for one-score outputs
        self.binary_out_of_range = 0         # probability mode: later values outside [0, 1]
        self.cosine = False                  # compared by cosine similarity (flatness matters)
        self.pixel_top1 = False              # spatial outputs compared by per-pixel top-1
        if kind == "classifier" and _is_binary_shape(shape):
            x = sample.astype(np.float64)
            prob = bool(x.size and np.all(np.isfinite(x)) and np.all(x >= 0) and np.all(x <= 1))
            self.binary = "probability" if prob else "logit"
            self.info.kind = "classifier"
            self.info.binary = self.binary
            self.info.softmax_applied = False
            self.info.comparison = (
                "binary classifier (one score per input): class 1 when p > 0.5 (the outputs lie in "
                "[0, 1], read as probabilities); agreement of the decided class" if prob else
                "binary classifier (one score per input): class 1 when the logit > 0 (outputs outside "
                "[0, 1], read as logits; probabilities for |Δp| via the sigmoid); agreement of the "
                "decided class")
        elif kind == "classifier" and sample.ndim >= 2:
            self.info.kind = "classifier"
            self.softmax = not _is_distribution(sample.reshape(sample.shape[0], -1))
            self.info.softmax_applied = self.softmax
            self.info.comparison = "top-1 agreement" + (" (softmax applied to the outputs)" if self.softmax
                                                        else " (outputs already sum to 1)")
        elif kind == "spatial" and _spatial_shaped(sample, shape, spec):
            self.info.kind = "spatial"
            if sample.ndim == 3:          # [B, H, W] integer label map
                oh, ow = shape
                self.labels = True
                c = 1
            elif spec.layout == "NHWC":   # follow the input's layout
                oh, ow, c = shape
                self.channels_last = True
            else:
                c, oh, ow = shape
            self.info.stride = (spec.height / oh, spec.width / ow)
            self.pixel_top1 = self.labels or c > 1
            self.cosine = not self.pixel_top1
            self.info.comparison = ("pixel top-1 agreement" if self.pixel_top1 else "cosine similarity") + \
                " on the overlap after undoing the shift by the output stride / mirroring back"
        else:
            self.cosine = True
            self.info.comparison = "cosine similarity of the flattened outputs (not top-1 agreement)"
        self.info.metric = ("top1_agreement" if self.info.kind == "classifier" else
                            "cosine_similarity" if self.cosine else "pixel_top1_agreement")
        # value statistics of every record (cosine metrics: to tell flat outputs)
        self.vmin = math.inf
        self.vmax = -math.inf

    @property
    def kind(self):
        return self.info.kind

    def records(self, out: np.ndarray) -> list:
        if self.binary:
            raw = out.reshape(out.shape[0]).astype(np.float64)
            if self.binary == "probability":
                bad = ~((raw >= 0) & (raw <= 1))
                self.binary_out_of_range += int(bad.sum())
                p = np.clip(raw, 0.0, 1.0)
            else:
                p = _sigmoid(raw)
            return list(np.stack([raw, p], axis=1))   # per input: [raw score, p(class 1)]
        if self.kind == "classifier":
            flat = out.reshape(out.shape[0], -1)
            return list(_softmax(flat) if self.softmax else flat.astype(np.float32))
        if self.cosine and out.size:
            o = np.asarray(out, np.float64)
            self.vmin = min(self.vmin, float(o.min()))
            self.vmax = max(self.vmax, float(o.max()))
        if self.kind == "spatial":
            if out.ndim == 3:
                return list(out[:, None])             # [1, H, W]
            if self.channels_last:
                return list(out.transpose(0, 3, 1, 2))  # -> [C, H, W]
            return list(out)
        return list(out.reshape(out.shape[0], -1))

    # -- comparisons ----------------------------------------------------------------------
    def top1(self, rec) -> int:
        if self.binary:
            return int(rec[0] > (0.5 if self.binary == "probability" else 0.0))
        if isinstance(rec, ClassRecord):
            return rec.top
        return int(np.argmax(rec))

    def compare_classifier(self, a, b):
        if self.binary:
            # p(class c) is p or 1 - p: both terms of the symmetrised change equal |p_a - p_b|
            return self.top1(a) == self.top1(b), abs(float(a[1]) - float(b[1]))
        ca, cb = self.top1(a), self.top1(b)
        dprob = 0.5 * (abs(float(a[ca]) - float(b[ca])) + abs(float(a[cb]) - float(b[cb])))
        return ca == cb, dprob

    @staticmethod
    def value_range(rec) -> float:
        """max - min of a record (its spread: tiny for a flat / near-zero output)."""
        if rec.size == 0:
            return 0.0
        r = np.asarray(rec)
        return float(r.max()) - float(r.min())

    def flat_threshold(self) -> float:
        """Records whose value range is at most this are flat (cosine metrics only).

        The output's scale is its largest |value| over the whole run, and at least 1 when every
        value lies in [0, 1] (a probability map: "nothing detected" is max p ~ 0)."""
        if not math.isfinite(self.vmin):
            return 0.0
        scale = max(abs(self.vmin), abs(self.vmax))
        if self.vmin >= 0 and self.vmax <= 1:
            scale = 1.0
        return FLAT_RTOL * scale

    def _spatial_metric(self, a, b) -> float:
        if a.size == 0:
            return float("nan")
        if self.pixel_top1:
            la = a[0] if self.labels else np.argmax(a, axis=0)
            lb = b[0] if self.labels else np.argmax(b, axis=0)
            return float(np.mean(la == lb))
        return cosine(a, b)

    def compare_shift(self, a, b, off_a, off_b) -> float:
        """Spatial records [C, H, W] of crops at base offsets off_a, off_b: metric on the overlap."""
        sy, sx = self.info.stride
        dy = int(round((off_b[0] - off_a[0]) / sy))
        dx = int(round((off_b[1] - off_a[1]) / sx))
        h, w = a.shape[1:]
        ay, by = (slice(dy, h), slice(0, h - dy)) if dy >= 0 else (slice(0, h + dy), slice(-dy, h))
        ax, bx = (slice(dx, w), slice(0, w - dx)) if dx >= 0 else (slice(0, w + dx), slice(-dx, w))
        return self._spatial_metric(a[:, ay, ax], b[:, by, bx])

    def compare_flip(self, a, b, axis: int) -> float:
        """Spatial record of an input and of its mirror: mirror back, then compare."""
        return self._spatial_metric(a, np.flip(b, axis=axis))
