"""Shift and flip consistency, measured by running the exported model with onnxruntime.

Protocol (docs/metric.md):

* **Shift range, scaled with the input.** Zhang (2019) evaluates 224x224 models on a 256x256 base
  with crop offsets uniform in [0, 32). onnxsym keeps exactly that at 224 and scales it with the
  input: per axis, ``max_shift = round(32 * S / 224)`` (half up, at least 1) with S the input's
  side on that axis, and the base is ``S + max_shift`` on that axis. So 224 -> 32 (base 256), 32 ->
  5 (base 37; a fixed 32 would move a 32x32 digit model's crops almost a whole input apart), 48 ->
  7, 320 -> 46, 384 -> 55. A non-square input (PP-OCR recognition, 48x320) is scaled per axis:
  offsets in [0, 7) rows and [0, 46) columns, base 55x366. ``max_shift`` (API) / ``--max-shift``
  (CLI) overrides it: an int for both axes or (rows, columns). The report gives ``max_shift``
  [rows, columns] and the offsets' range in words.
* Each image is resized (bilinear, antialiased) so its shorter side is the base's longer side, then
  centre-cropped to the base (H+my) x (W+mx) (224 -> 256^2, torchvision's Resize + CenterCrop).
  An image smaller than that is upscaled; a note counts such images (upscaled photos are
  smoother than the model's usual inputs).
* **Shift** (Zhang 2019): per image, ``pairs_per_image`` pairs of HxW crops of the base at offsets
  drawn uniformly from [0, my) x [0, mx); a pair agrees when both crops get the same top-1.
  Offsets are drawn **per image** from ``numpy.random.default_rng([seed, image_index])`` (Zhang draws
  one offset pair per batch, unseeded), so the numbers do not depend on the batch size.
  Also reported: the mean |change of the top-1 probability| over pairs, symmetrised:
  ``(|p_a[c_a] - p_b[c_a]| + |p_a[c_b] - p_b[c_b]|) / 2`` with c_a, c_b the two top-1 classes.
* **Flip**: the centre crop (offset (my//2, mx//2): 16 at 224, i.e. Resize(256) + CenterCrop(224))
  against its horizontal mirror (vertical on request): share of images whose top-1 agrees.
* **Chance level** (``chance``): what the same metric gives for centre crops of *different*
  images - the level a consistency number must clear to mean anything. Computed from the centre
  crops the run already has (no extra model runs). Top-1: the share of all pairs of different
  images whose top-1 agrees (exact, from the class counts). Cosine: the mean cosine between the
  outputs of different images; pixel agreement: the mean share of pixels whose top-1 agrees -
  over all pairs of up to ``CHANCE_IMAGES`` images (a seeded sample of the images beyond that, and
  fewer when the outputs are large: at most ``CHANCE_BYTES`` of them are kept); pairs of two flat
  outputs are left out as below. A warning when a consistency interval reaches down to the
  chance level: the metric does not separate shifted (or mirrored) copies from unrelated images
  on this image set. Measured on the 10 shipped photos: MobileNetV2 (top-1) 0.0 % - no two
  photos share a top-1 - against shift 88.0 % and flip 80.0 %; PP-OCRv4 recognition (48x320,
  cosine of its [40, 6625] output, photos without text) 0.955 against shift 0.963 [0.946, 0.979]
  and flip 0.954 [0.941, 0.966]: a warning; keras_digits (32x32) 11.1 % against 76.0 % / 60.0 %.
* **Intervals** (95 %): flip - Wilson score interval over images. Shift - pairs from the same image
  are not independent, so the Wilson interval is computed on the *effective* number of pairs
  n_eff = n / (deff * (t/z)^2): the design effect deff >= 1 is estimated from the between-image
  variance of the per-image agreement (cluster / ratio estimator), and (t/z)^2 with t the 97.5 %
  quantile of Student's t with images-1 degrees of freedom is the usual small-sample correction of a
  cluster-robust variance (1.33 for 10 images, 1.08 for 30). With a single image deff cannot be
  estimated and the interval treats pairs as independent (a note says so). Continuous metrics
  (cosine, pixel agreement) get mean +- t(images-1) cluster-robust standard errors over images.

  *Checked* (MobileNetV2, the 10 shipped photos, 5 pairs per image): the top-1 at every one of the
  32x32 crop offsets of each photo gives the exact agreement for these photos, 0.810 (per photo
  0.36 ... 1.00). Over seeds 0-19 the interval covers it 20/20 times, and each seed's estimate lies
  inside every other seed's interval in 380/380 ordered pairs (seeds 0-999: coverage 99.9 %,
  99.3 % of pairs); seed 0 gives 88 % [71.2, 95.6], seed 1 72 % [46.9, 88.2]. Seed-to-seed
  scatter is only the offset noise, which the interval over-covers because it also carries the
  photo-to-photo variance. That part was checked by drawing 10 (30) photos with replacement from
  the same 10: the interval covers 0.810 in 94.1 % (95.6 %) of 4000 draws; without the t
  correction 92.0 % (94.3 %), with a cluster bootstrap over images 87 % (93 %) - so neither is
  used. Same seed -> identical numbers (whatever the batch size); another seed -> another estimate
  of the same number, inside the first one's interval in the runs above.
* **Outputs**: [B, K] (or [B, K, 1, 1]) is a classifier - softmax applied only when the rows are not
  already distributions. One score per input ([B], [B, 1], [B, 1, 1, 1]) is a *binary*
  classifier (cosine similarity of scalars is always +-1): class 1 when p > 0.5 if the first
  batch's values all lie in [0, 1] (probabilities; a warning if later values do not), else when
  the value > 0 (logits); agreement of that class as for [B, K], |Δp| from p or sigmoid(logit).
  A spatial output [B, C, H, W] ([B, H, W, C] for NHWC models, [B, H, W] label/score maps) is
  compared on the overlap after undoing the shift by the output stride (for a
  shift that is not a multiple of the stride: the nearest output pixel) or after mirroring back:
  pixel top-1 agreement when C > 1 (or for integer label maps), cosine similarity otherwise.
  Anything else is compared as flat vectors by cosine similarity, and labelled so.
* **Flat outputs** (cosine metrics only): an output whose value range (max - min) is at most 1e-3
  of the output's scale (its largest |value| over the run; 1 when all values lie in [0, 1], a
  probability map) is *flat* - near zero or near constant, e.g. a text detector's map on a photo
  without text (max p ~ 1e-6). The cosine of two flat outputs is rounding noise, so such pairs and
  flips are left out (counted in ``excluded_pairs`` / ``excluded_images``); a warning when most
  images are flat. Cosine numbers are not agreement rates: the report says ``metric``
  (``top1_agreement`` | ``pixel_top1_agreement`` | ``cosine_similarity``) and the text shows
  "cosine 0.14", not a percentage.
* **Repeat check**: the first batch's first 8 inputs (the whole batch when the batch dimension is
  fixed) are run twice; identical inputs must give the same top-1,
  otherwise the runtime is not deterministic enough for these numbers to mean much (a warning).
* **Input checks** (exit 2, before anything runs): a model path is opened with
  :func:`onnxsym.loading.load_model` (no ONNX model, missing, unsafe external data -> ModelError);
  ``seed`` >= 0, ``pairs_per_image`` >= 1; a batch of model inputs may take at most 1 GiB
  (``MAX_BATCH_BYTES``): the default batch size is lowered to fit, an explicit ``--batch-size`` or a
  fixed batch over it is refused, and so is an input size where one input alone is over it. Extra
  model inputs come from ``feeds`` (CLI: ``--feed NAME=FILE.npy|NUMBER``), converted to the
  input's dtype and checked against its shape; [1, ...] is repeated over the batch dimension.
* All variants of an image (both crops of every pair, the centre crop and its mirrors) are batched
  together; a producer thread prepares the next batch while onnxruntime runs the current one.
"""
from __future__ import annotations

import math
import os
import queue
import threading
import time
from dataclasses import dataclass, field

import numpy as np

from .errors import InputError, ModelError, RuntimeFailure
from .images import (InputSpec, Normalizer, UnreadableImage, check_preset, input_spec, load_images,
                     needs_upscale, resize_center_square, PRESETS)
from .runtime import RuntimeSession, create_session

SCHEMA = "onnxsym.consistency/1"
MAX_SHIFT = 32          # Zhang's offset range [0, 32) at his input size, 224 (base 256)
ZHANG_SIZE = 224
# chance level: centre-crop outputs of at most this many images (and bytes) are kept for pairs
CHANCE_IMAGES = 256
CHANCE_BYTES = 256 << 20
REPEAT_INPUTS = 8
Z95 = 1.959963984540054

CI_SHIFT = ("Wilson score interval on the effective number of pairs n/(deff*(t/z)^2); deff >= 1 is the "
            "design effect from the between-image variance (pairs of one image are not independent), "
            "t the 97.5 % quantile of Student's t with images-1 degrees of freedom")
CI_FLIP = "Wilson score interval over images"
CI_MEAN = "mean +- t(images-1) cluster-robust standard errors over images"
# A per-variant output whose value range is at most this fraction of the output's scale is "flat":
# comparing two flat outputs by cosine similarity measures noise, so such comparisons are excluded.
FLAT_RTOL = 1e-3
# Largest model-input tensor one run may need (the pipeline keeps a few such batches alive).
MAX_BATCH_BYTES = 1 << 30


# ---------------------------------------------------------------------------------- results
@dataclass
class ShiftResult:
    consistency: float | None       # share of pairs whose top-1 agrees (or the mean `metric`)
    pairs: int
    images: int
    ci95: tuple[float, float] | None
    ci95_method: str
    metric: str                     # what `consistency` measures
    mean_abs_delta_top1_prob: float | None = None
    design_effect: float | None = None
    offsets: str = (f"per image, uniform in [0, {MAX_SHIFT}) per axis, "
                    "numpy default_rng([seed, image_index])")
    max_shift: tuple[int, int] = (MAX_SHIFT, MAX_SHIFT)   # offsets uniform in [0, m) (rows, columns)
    excluded_pairs: int = 0         # cosine metrics: pairs of two flat outputs, left out
    excluded_images: int = 0        # images all of whose pairs were left out


@dataclass
class FlipResult:
    axis: str                       # "horizontal" | "vertical"
    consistency: float | None       # share of images whose top-1 agrees (or the mean `metric`)
    images: int
    ci95: tuple[float, float] | None
    ci95_method: str
    metric: str
    mean_abs_delta_top1_prob: float | None = None
    excluded_images: int = 0        # cosine metrics: images whose two outputs are flat, left out


@dataclass
class ChanceResult:
    """The metric between centre crops of *different* images: what consistency is by chance."""
    value: float | None             # None: fewer than two comparable images
    metric: str                     # top1_agreement | pixel_top1_agreement | cosine_similarity
    what: str                       # one sentence: what the number is
    pairs: int                      # pairs of different images compared
    images: int                     # images the pairs were drawn from
    sampled: bool = False           # True: a seeded sample of the images (large sets / outputs)
    excluded_pairs: int = 0         # cosine metrics: pairs of two flat outputs, left out


@dataclass
class RepeatCheck:
    inputs: int                     # inputs run twice
    identical: bool                 # bit-for-bit identical outputs
    max_abs_diff: float
    agreement: float                # top-1 (or output) agreement between the two runs
    ok: bool                        # False: the runtime is not deterministic enough


@dataclass
class OutputInfo:
    name: str
    kind: str                       # "classifier" | "spatial" | "vector"
    shape: list                     # per-input shape observed at run time
    softmax_applied: bool | None = None
    stride: tuple[float, float] | None = None
    comparison: str = ""
    binary: str | None = None       # one-score outputs: "probability" (p > 0.5) | "logit" (> 0)
    metric: str = ""                # top1_agreement | pixel_top1_agreement | cosine_similarity


@dataclass
class ImageResult:
    name: str
    shift_agree: int | None         # classifier: agreeing pairs; else None
    shift_pairs: int                # pairs compared (flat pairs excluded)
    shift_mean: float | None        # per-image mean of the pair metric (None: all pairs excluded)
    flip: float | None              # 1/0 for classifiers, the metric otherwise (None: excluded)
    flip_vertical: float | None = None
    top1: int | None = None         # centre-crop top-1 (classifiers)
    shift_excluded: int = 0         # cosine metrics: pairs left out because both outputs are flat
    flat: bool | None = None        # cosine metrics: the centre crop's output is flat


@dataclass
class ConsistencyReport:
    model: str
    provider: str                   # the provider that actually ran: "cpu", "cuda", ...
    providers: list[str]            # session.get_providers()
    provider_requested: str         # auto | cuda | cpu
    providers_requested: list[str]
    provider_fallback: str | None   # one line when CUDA was wanted but not obtained
    input: InputSpec
    preset: str
    preset_description: str
    channel_order: str
    output: OutputInfo
    image_source: str
    images: int
    skipped: list[tuple[str, str]]
    seed: int
    pairs_per_image: int
    batch_size: int
    shift: ShiftResult
    flip: FlipResult
    flip_vertical: FlipResult | None
    repeat: RepeatCheck
    seconds: float
    inputs_run: int                 # model inputs evaluated (variants + padding + repeat check)
    per_image: list[ImageResult] = field(default_factory=list)
    max_shift: tuple[int, int] = (MAX_SHIFT, MAX_SHIFT)   # (rows, columns)
    max_shift_from: str = "auto"    # "auto" (scaled with the input size) | "max_shift" (given)
    base_size: tuple[int, int] | None = None               # (rows, columns) the crops are cut from
    upscaled_images: int = 0        # images smaller than the base, upscaled before cropping
    chance: ChanceResult | None = None
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    schema: str = SCHEMA

    @property
    def inputs_per_second(self) -> float:
        return self.inputs_run / self.seconds if self.seconds > 0 else float("nan")

    def to_dict(self) -> dict:
        from .report.consistency_render import report_to_dict

        return report_to_dict(self)


# ---------------------------------------------------------------------------------- statistics
_T975 = (12.7062, 4.3027, 3.1824, 2.7764, 2.5706, 2.4469, 2.3646, 2.3060, 2.2622, 2.2281, 2.2010,
         2.1788, 2.1604, 2.1448, 2.1314, 2.1199, 2.1098, 2.1009, 2.0930, 2.0860, 2.0796, 2.0739,
         2.0687, 2.0639, 2.0595, 2.0555, 2.0518, 2.0484, 2.0452, 2.0423)


def t975(df: float) -> float:
    """97.5 % quantile of Student's t with ``df`` degrees of freedom (z for df = inf)."""
    if not math.isfinite(df):
        return Z95
    d = max(int(df), 1)
    if d <= len(_T975):
        return _T975[d - 1]
    z = Z95  # Cornish-Fisher expansion; error < 1e-4 beyond 30 degrees of freedom
    return z + (z ** 3 + z) / (4 * d) + (5 * z ** 5 + 16 * z ** 3 + 3 * z) / (96 * d * d)


def wilson(successes: float, n: float, z: float = Z95) -> tuple[float, float] | None:
    """Wilson score interval for a proportion; ``n`` may be an effective (non-integer) size."""
    if n <= 0:
        return None
    p = successes / n
    z2 = z * z
    denom = 1.0 + z2 / n
    centre = (p + z2 / (2 * n)) / denom
    half = z * math.sqrt(max(p * (1 - p) / n + z2 / (4 * n * n), 0.0)) / denom
    lo = 0.0 if successes <= 0 else max(0.0, centre - half)
    hi = 1.0 if successes >= n else min(1.0, centre + half)
    return (lo, hi)


def cluster_variance(totals: np.ndarray, sizes: np.ndarray) -> float | None:
    """Variance of the ratio estimator sum(totals)/sum(sizes) with images as clusters."""
    k = len(totals)
    if k < 2:
        return None
    m = float(sizes.sum())
    r = float(totals.sum()) / m
    resid = totals - r * sizes
    return k / (k - 1) * float((resid ** 2).sum()) / (m * m)


def clustered_proportion(agree: np.ndarray, sizes: np.ndarray):
    """(p, ci95, design effect) for pair agreement clustered by image.

    The Wilson interval is computed on n / (deff * (t/z)^2): the design effect for the clustering
    and the small-sample factor (t_{k-1} instead of z for k images) of a cluster-robust variance.
    """
    agree = np.asarray(agree, float)
    sizes = np.asarray(sizes, float)
    n = float(sizes.sum())
    if n == 0:
        return None, None, None
    p = float(agree.sum()) / n
    var = cluster_variance(agree, sizes)
    binom = p * (1 - p) / n
    if var is None or binom <= 0:
        deff = 1.0
    else:
        deff = min(max(var / binom, 1.0), float(sizes.max()))
    k = int(np.count_nonzero(sizes))
    small = (t975(k - 1) / Z95) ** 2 if k > 1 else 1.0
    return p, wilson(p * n / (deff * small), n / (deff * small)), deff


def clustered_mean(totals: np.ndarray, sizes: np.ndarray, lo=-1.0, hi=1.0):
    totals = np.asarray(totals, float)
    sizes = np.asarray(sizes, float)
    n = float(sizes.sum())
    if n == 0:
        return None, None
    r = float(totals.sum()) / n
    var = cluster_variance(totals, sizes)
    if var is None:
        return r, None
    half = t975(int(np.count_nonzero(sizes)) - 1) * math.sqrt(var)
    return r, (max(lo, r - half), min(hi, r + half))


# ---------------------------------------------------------------------------------- outputs
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


def _cosine(a: np.ndarray, b: np.ndarray) -> float:
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


class _Output:
    """Turns raw output rows into per-variant records and compares two records."""

    def __init__(self, name: str, sample: np.ndarray, spec: InputSpec):
        self.name = name
        shape = list(sample.shape[1:])
        self.info = OutputInfo(name=name, kind="vector", shape=shape)
        self.labels = False
        self.channels_last = False
        self.binary: str | None = None       # "probability" | "logit" for one-score outputs
        self.binary_out_of_range = 0         # probability mode: later values outside [0, 1]
        self.cosine = False                  # compared by cosine similarity (flatness matters)
        if _is_binary_shape(shape):
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
        elif sample.ndim == 2 and shape[0] > 1 or (sample.ndim == 4 and shape[1:] == [1, 1] and shape[0] > 1) \
                or (sample.ndim == 4 and spec.layout == "NHWC" and shape[:2] == [1, 1] and shape[2] > 1):
            self.info.kind = "classifier"
            self.softmax = not _is_distribution(sample.reshape(sample.shape[0], -1))
            self.info.softmax_applied = self.softmax
            self.info.comparison = "top-1 agreement" + (" (softmax applied to the outputs)" if self.softmax
                                                        else " (outputs already sum to 1)")
        elif (sample.ndim == 3 and np.issubdtype(sample.dtype, np.integer) and min(shape) > 1) or \
                (sample.ndim == 4 and min(shape[0:2] if spec.layout == "NHWC" else shape[1:3]) > 1):
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
        return int(np.argmax(rec))

    def compare_classifier(self, a, b):
        if self.binary:
            # p(class c) is p or 1 - p: both terms of the symmetrised change equal |p_a - p_b|
            return self.top1(a) == self.top1(b), abs(float(a[1]) - float(b[1]))
        ca, cb = int(np.argmax(a)), int(np.argmax(b))
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
        return _cosine(a, b)

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


# ---------------------------------------------------------------------------------- shift range
def auto_max_shift(height: int, width: int) -> tuple[int, int]:
    """Zhang's offset range scaled with the input, per axis: round(32 * S / 224), at least 1.

    224 -> 32 (Zhang exactly), 32 -> 5, 48 -> 7, 320 -> 46; rounding is half up."""
    return tuple(max(1, int(math.floor(MAX_SHIFT * s / ZHANG_SIZE + 0.5))) for s in (height, width))


def resolve_max_shift(max_shift, height: int, width: int) -> tuple[tuple[int, int], str]:
    """``max_shift`` (None: auto, an int for both axes, or (rows, columns)) -> ((my, mx), source)."""
    if max_shift is None:
        return auto_max_shift(height, width), "auto"
    vals = list(max_shift) if isinstance(max_shift, (tuple, list)) else [max_shift]
    if len(vals) == 1:
        vals = vals * 2
    if len(vals) != 2:
        raise InputError(f"--max-shift {max_shift!r}: expected N or (rows, columns)")
    my, mx = (_int_arg(v, "--max-shift", 1) for v in vals)
    return (my, mx), "max_shift"


def offsets_text(max_shift: tuple[int, int]) -> str:
    my, mx = max_shift
    rng = (f"uniform in [0, {my}) per axis" if my == mx else
           f"uniform in [0, {my}) rows and [0, {mx}) columns")
    return f"per image, {rng}, numpy default_rng([seed, image_index])"


# ---------------------------------------------------------------------------------- pipeline
class _Plan:
    """Variants of every image, in order: pairs (a, b) ..., centre, h-mirror, [v-mirror]."""

    def __init__(self, n_images, pairs, seed, vertical, max_shift=(MAX_SHIFT, MAX_SHIFT)):
        self.pairs = pairs
        self.per_image = 2 * pairs + 2 + (1 if vertical else 0)
        self.vertical = vertical
        self.seed = seed
        self.n_images = n_images
        self.max_shift = (int(max_shift[0]), int(max_shift[1]))

    def offsets(self, i) -> np.ndarray:
        rng = np.random.default_rng([int(self.seed), int(i)])
        my, mx = self.max_shift
        high = my if my == mx else np.array([my, mx])
        return rng.integers(0, high, size=(self.pairs, 2, 2))  # pair, crop a/b, (y, x)

    def variants(self, i):
        """[(y, x, flip)] for image i; flip 0 none, 1 horizontal, 2 vertical."""
        offs = self.offsets(i)
        out = []
        for p in range(self.pairs):
            out.append((int(offs[p, 0, 0]), int(offs[p, 0, 1]), 0))
            out.append((int(offs[p, 1, 0]), int(offs[p, 1, 1]), 0))
        cy, cx = self.max_shift[0] // 2, self.max_shift[1] // 2
        out += [(cy, cx, 0), (cy, cx, 1)]
        if self.vertical:
            out.append((cy, cx, 2))
        return out


def _producer(plan, imageset, spec, normalize, batch, q, stop, skipped, upscaled):
    """Build batches: ("batch", x, [(image, variant index)], n_real) and put them on the queue.

    ``upscaled``: a list the names of images smaller than the base are appended to."""
    h, w = spec.height, spec.width
    base_size = (h + plan.max_shift[0], w + plan.max_shift[1])
    fused = normalize.fused
    try:
        if fused:
            # a ring of model tensors: one being filled, two queued, one being run (+1 spare)
            ring = [normalize.new_batch(batch) for _ in range(5)]
            r = 0
            buf = ring[0]
        else:
            buf = np.empty((batch, h, w, 3), np.uint8)
        slots = []
        for i in range(plan.n_images):
            if stop.is_set():
                return
            try:
                img = imageset.load(i, min_side=max(base_size))
            except UnreadableImage as err:
                skipped.append((imageset.names[i], str(err)))
                q.put(("skip", i))
                continue
            if needs_upscale(img.shape, base_size):
                upscaled.append(imageset.names[i])
            base = resize_center_square(img, base_size)
            for v, (y, x, flip) in enumerate(plan.variants(i)):
                j = len(slots)
                if fused:
                    normalize.crop_into(buf[j], base, y, x, flip)
                else:
                    crop = base[y:y + h, x:x + w]
                    if flip == 1:
                        crop = crop[:, ::-1]
                    elif flip == 2:
                        crop = crop[::-1]
                    buf[j] = crop
                slots.append((i, v))
                if len(slots) == batch:
                    q.put(("batch", buf if fused else normalize(buf), slots, batch))
                    slots = []
                    # never write into an array that is queued or being run: next ring slot, or
                    # a fresh buffer (normalize may hand back its input, e.g. for uint8 NHWC)
                    if fused:
                        r = (r + 1) % len(ring)
                        buf = ring[r]
                    else:
                        buf = np.empty((batch, h, w, 3), np.uint8)
        if slots:
            n = len(slots)
            if spec.batch:  # a fixed batch dimension: pad with copies of the last input
                buf[n:] = buf[n - 1]
                x = buf if fused else normalize(buf)
            else:
                x = buf[:n] if fused else normalize(buf[:n])
            q.put(("batch", x, slots, n))
        q.put(("end",))
    except BaseException as err:  # hand any failure to the consumer
        q.put(("error", err))


def _fixed_batch(spec: InputSpec, batch_size):
    if spec.batch is not None:
        notes = []
        if batch_size and batch_size != spec.batch:
            notes.append(f"the model's batch dimension is fixed at {spec.batch}; --batch-size "
                         f"{batch_size} ignored")
        return spec.batch, notes
    if batch_size is not None and batch_size < 1:
        raise InputError(f"--batch-size {batch_size}: must be at least 1")
    return int(batch_size or 32), []


def _bytes(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if n < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TiB"  # pragma: no cover


def _check_memory(spec: InputSpec, batch: int, batch_size, notes: list,
                  max_shift=(MAX_SHIFT, MAX_SHIFT)) -> int:
    """Refuse input sizes whose batches would need an absurd amount of memory (exit 2); lower the
    default batch size when only it is too large. Returns the batch size to use."""
    h, w, c = spec.height, spec.width, spec.channels
    per_input = h * w * c * np.dtype(spec.dtype).itemsize
    base = (h + max_shift[0]) * (w + max_shift[1]) * 3      # the uint8 base image of one photo
    size = f"{h}x{w}"
    if per_input + base > MAX_BATCH_BYTES:
        raise InputError(f"input size {size}: one input alone needs {_bytes(per_input + base)} "
                         f"(limit {_bytes(MAX_BATCH_BYTES)} per batch); use a smaller --input-size")
    if batch * per_input <= MAX_BATCH_BYTES:
        return batch
    fit = max(1, MAX_BATCH_BYTES // per_input)
    if spec.batch is not None:
        raise InputError(f"input size {size}: the model's fixed batch of {batch} needs "
                         f"{_bytes(batch * per_input)} per run (limit {_bytes(MAX_BATCH_BYTES)}); "
                         "use a smaller --input-size")
    if batch_size is not None:
        raise InputError(f"--batch-size {batch} at input size {size} needs {_bytes(batch * per_input)} "
                         f"per run (limit {_bytes(MAX_BATCH_BYTES)}); use --batch-size {fit}"
                         + (" or less" if fit > 1 else "") + ", "
                         "or a smaller --input-size")
    notes.append(f"input size {size}: {batch} inputs per run would need {_bytes(batch * per_input)}; "
                 f"running {fit} per run instead")
    return int(fit)


def _open_model(model):
    """Check that ``model`` is a readable, safe ONNX model before onnxruntime sees it (exit 2)."""
    import os

    from .loading import LoadedModel, load_model

    if isinstance(model, LoadedModel):
        return model
    if isinstance(model, (bytes, bytearray)):
        import onnx
        from google.protobuf.message import DecodeError

        try:
            proto = onnx.ModelProto()
            proto.ParseFromString(bytes(model))
        except (DecodeError, ValueError, RuntimeError) as err:
            raise ModelError(f"the bytes given are not an ONNX model: {err}") from None
        if not proto.HasField("graph"):
            raise ModelError("the bytes given are not an ONNX model (no graph)")
        return model
    if isinstance(model, (str, os.PathLike)):
        return load_model(model)
    return model


def _int_arg(value, flag: str, minimum: int) -> int:
    try:
        ok = int(value) == value
    except (TypeError, ValueError, OverflowError):
        ok = False
    if not ok or isinstance(value, bool):
        raise InputError(f"{flag} {value!r}: must be an integer")
    if value < minimum:
        raise InputError(f"{flag} {value}: must be ≥ {minimum}")
    return int(value)


_ORT_NUMPY = {"tensor(float)": np.float32, "tensor(float16)": np.float16, "tensor(double)": np.float64,
              "tensor(int64)": np.int64, "tensor(int32)": np.int32, "tensor(int16)": np.int16,
              "tensor(int8)": np.int8, "tensor(uint8)": np.uint8, "tensor(uint16)": np.uint16,
              "tensor(uint32)": np.uint32, "tensor(uint64)": np.uint64, "tensor(bool)": np.bool_}


def parse_feed(text: str):
    """``NAME=FILE.npy`` or ``NAME=number`` (the --feed option) -> (name, array or number)."""
    from pathlib import Path

    name, sep, value = str(text).partition("=")
    name, value = name.strip(), value.strip()
    if not sep or not name or not value:
        raise InputError(f"--feed {text!r}: expected NAME=FILE.npy or NAME=NUMBER")
    path = Path(value)
    if value.lower().endswith(".npy") or path.exists():
        from .files import open_regular

        fd, st = open_regular(path, f"--feed {name} file")
        if st.st_size > MAX_BATCH_BYTES:
            os.close(fd)
            raise InputError(f"--feed {name}: {value} is {st.st_size / (1 << 30):.1f} GiB; a fed input may "
                             f"take at most {MAX_BATCH_BYTES >> 30} GiB")
        try:
            with os.fdopen(fd, "rb") as fh:
                arr = np.load(fh, allow_pickle=False)
        except Exception as err:  # not a .npy, pickled objects, truncated ...
            raise InputError(f"--feed {name}: cannot read {value} as a .npy array: "
                             f"{' '.join(str(err).split())}") from None
        if not isinstance(arr, np.ndarray):
            raise InputError(f"--feed {name}: {value} is not a single .npy array")
        return name, arr
    try:
        number = int(value)
    except ValueError:
        try:
            number = float(value)
        except ValueError:
            raise InputError(f"--feed {name}={value}: expected a .npy file or a number") from None
    return name, number


def parse_feeds(texts) -> dict:
    """Several ``--feed`` values -> {name: array or number}; a name given twice is an error."""
    feeds = {}
    for text in texts or ():
        name, value = parse_feed(text)
        if name in feeds:
            raise InputError(f"--feed {name}: given twice")
        feeds[name] = value
    return feeds


def _prepare_feeds(feeds: dict, inputs, spec: InputSpec) -> tuple[dict, set, list]:
    """Check the caller's extra inputs against the model; convert to the input's dtype.

    Returns (arrays by name, names to broadcast over the batch, notes). A number becomes an array
    of the input's shape (symbolic dims 1). An array whose first dimension is 1 is repeated over
    the batch when that input has a batch dimension (the image input's symbolic batch dim, or its
    fixed batch size)."""
    by_name = {i.name: i for i in inputs}
    out, broadcast, notes = {}, set(), []
    img = by_name[spec.name]
    img_batch = img.shape[0] if img.shape else None
    for name, value in feeds.items():
        if name == spec.name:
            raise InputError(f"--feed {name}: that is the image input; it cannot be fed")
        if name not in by_name:
            raise InputError(f"--feed {name}: the model has no input {name!r} (inputs: "
                             f"{', '.join(by_name)})")
        arg = by_name[name]
        dtype = _ORT_NUMPY.get(arg.type)
        if dtype is None:
            raise InputError(f"--feed {name}: input type {arg.type} is not supported")
        shape = list(arg.shape) if arg.shape is not None else None
        try:
            if np.isscalar(value) or (isinstance(value, np.ndarray) and value.ndim == 0 and shape):
                full = [d if isinstance(d, int) and d > 0 else 1 for d in (shape or [])]
                arr = np.full(full, value, dtype=dtype)
            else:
                arr = np.asarray(value)
                if arr.dtype.kind not in "biuf":
                    raise InputError(f"--feed {name}: array dtype {arr.dtype} is not numeric")
                arr = arr.astype(dtype)
        except (TypeError, ValueError, OverflowError) as err:
            raise InputError(f"--feed {name}: cannot convert to {np.dtype(dtype).name}: {err}") from None
        if shape is not None:
            if arr.ndim != len(shape):
                raise InputError(f"--feed {name}: shape {list(arr.shape)} does not match the model's "
                                 f"input {name!r} {shape} (rank {len(shape)})")
            batched = bool(shape) and img_batch is not None and (
                shape[0] == img_batch if not (isinstance(img_batch, int) and img_batch > 0)
                else shape[0] == img_batch and img_batch > 1)
            for k, (got, want) in enumerate(zip(arr.shape, shape)):
                if k == 0 and batched and got == 1:
                    continue  # one row, repeated over the batch
                if isinstance(want, int) and want > 0 and got != want:
                    raise InputError(f"--feed {name}: shape {list(arr.shape)} does not match the "
                                     f"model's input {name!r} {shape}")
            if batched and arr.shape[0] == 1 and arr.shape[0] != shape[0]:
                broadcast.add(name)
                notes.append(f"--feed {name}: one row, repeated over the batch")
            elif batched and not (isinstance(img_batch, int) and img_batch > 0):
                raise InputError(f"--feed {name}: shape {list(arr.shape)}: the input has the batch "
                                 f"dimension {shape[0]!r}; give one row ([1, ...]) to repeat over the batch")
        out[name] = np.ascontiguousarray(arr)
    return out, broadcast, notes


def measure_consistency(model, images=None, *, provider: str = "auto", pairs_per_image: int = 5,
                        seed: int = 0, input_size=None, preset: str = "imagenet",
                        channel_order: str = "rgb", batch_size: int | None = None,
                        vertical: bool = False, progress=None, feeds: dict | None = None,
                        output: str | None = None, threads: int | None = None,
                        session: RuntimeSession | None = None, max_shift=None) -> ConsistencyReport:
    """Measure shift and flip consistency of ``model`` on ``images``.

    model: path, bytes, onnx.ModelProto or LoadedModel (a path is first opened with
    :func:`onnxsym.loading.load_model`: a file that is no ONNX model is a ModelError, exit 2).
    images: a folder, an image file, a .npy/.npz file, an ImageSet, or None for the photos shipped
    in onnxsym/samples. provider: auto | cuda | cpu. batch_size: inputs per run (default 32, lowered
    for very large inputs; a fixed batch dimension wins). progress: callable(done_inputs,
    total_inputs). feeds: extra model inputs by name - arrays or numbers, converted to the input's
    dtype; an array [1, ...] is repeated over the batch when the input has a batch dimension (see
    :func:`parse_feed` for the CLI's ``--feed NAME=FILE.npy|NUMBER``). output: which model output
    to compare (default: the first). session: an existing RuntimeSession to reuse (then model is
    only used as a label). max_shift: crop offsets are drawn from [0, max_shift) per axis; None
    (default) scales Zhang's 32 at 224 with the input, round(32 * S / 224) per axis (see
    :func:`auto_max_shift`); an int sets both axes, a pair (rows, columns) each (CLI: --max-shift).
    """
    seed = _int_arg(seed, "--seed", 0)
    pairs_per_image = _int_arg(pairs_per_image, "--pairs-per-image", 1)
    if max_shift is not None:
        resolve_max_shift(max_shift, 1, 1)  # check it before anything is loaded
    if batch_size is not None:
        batch_size = _int_arg(batch_size, "--batch-size", 1)
    preset = check_preset(preset)
    from .images import ImageSet

    imageset = images if isinstance(images, ImageSet) else load_images(images)
    if session is None:
        model = _open_model(model)
    rs = session or create_session(model, provider, threads=threads)
    inputs = rs.session.get_inputs()
    unknown = [k for k in (feeds or {}) if k not in {i.name for i in inputs}]
    if unknown:
        raise InputError(f"--feed {unknown[0]}: the model has no input {unknown[0]!r} (inputs: "
                         f"{', '.join(i.name for i in inputs)})")
    spec = input_spec(inputs, input_size, feeds=(feeds or {}).keys())
    normalize = Normalizer(spec, preset, channel_order)
    shift_range, shift_from = resolve_max_shift(max_shift, spec.height, spec.width)
    batch, notes = _fixed_batch(spec, batch_size)
    batch = _check_memory(spec, batch, batch_size, notes, shift_range)
    notes = list(rs.notes) + list(spec.notes) + list(imageset.notes) + normalize.notes + notes
    out_names = [o.name for o in rs.session.get_outputs()]
    if not out_names:
        raise InputError("the model has no outputs: there is nothing to compare")
    out_name = output or out_names[0]
    if out_name not in out_names:
        raise InputError(f"the model has no output {out_name!r} (outputs: {', '.join(out_names)})")
    if output is None and len(out_names) > 1:
        notes.append(f"the model has {len(out_names)} outputs; compared the first, {out_name!r}")
    extra, broadcast, feed_notes = _prepare_feeds(dict(feeds or {}), inputs, spec)
    notes += feed_notes
    expanded: dict[tuple[str, int], np.ndarray] = {}

    plan = _Plan(len(imageset), pairs_per_image, seed, vertical, shift_range)
    chance_keep = _ChanceSample(plan.n_images, seed)
    total = plan.n_images * plan.per_image
    skipped = list(imageset.skipped)
    decode_skipped: list = []
    upscaled: list = []
    q: queue.Queue = queue.Queue(maxsize=2)
    stop = threading.Event()
    t0 = time.perf_counter()
    worker = threading.Thread(target=_producer, daemon=True,
                              args=(plan, imageset, spec, normalize, batch, q, stop, decode_skipped,
                                    upscaled))
    worker.start()

    handler: _Output | None = None
    pending: dict[int, dict[int, object]] = {}
    per_image: list[ImageResult] = []
    shift_vals: list[list] = []      # per image: list of pair metric values (bool or float)
    ranges: list[tuple] = []         # cosine metrics, per image: (pair ranges, flip, vflip, centre)
    dprob_shift: list[float] = []
    dprob_flip: list[float] = []
    dprob_vflip: list[float] = []
    repeat = None
    done = 0
    inputs_run = 0
    skipped_now = 0

    def feed_for(n: int) -> dict:
        if not broadcast:
            return extra
        d = dict(extra)
        for name in broadcast:
            key = (name, n)
            if key not in expanded:
                a = extra[name]
                expanded[key] = np.ascontiguousarray(np.broadcast_to(a, (n,) + a.shape[1:]))
            d[name] = expanded[key]
        return d

    def run(x):
        return rs.run({spec.name: x, **feed_for(x.shape[0])}, [out_name])[0]

    def finalize(i, recs):
        vs = plan.variants(i)
        c = 2 * plan.pairs
        vals = []
        if handler.kind == "classifier":
            for p in range(plan.pairs):
                agree, dp = handler.compare_classifier(recs[2 * p], recs[2 * p + 1])
                vals.append(bool(agree))
                dprob_shift.append(dp)
            fa, fd = handler.compare_classifier(recs[c], recs[c + 1])
            dprob_flip.append(fd)
            flip = float(fa)
            fv = None
            if plan.vertical:
                va, vd = handler.compare_classifier(recs[c], recs[c + 2])
                dprob_vflip.append(vd)
                fv = float(va)
            res = ImageResult(name=imageset.names[i], shift_agree=int(sum(vals)), shift_pairs=plan.pairs,
                              shift_mean=float(np.mean(vals)), flip=flip, flip_vertical=fv,
                              top1=handler.top1(recs[c]))
        else:
            chance_keep.add(i, handler, recs[c])
            for p in range(plan.pairs):
                a, b = recs[2 * p], recs[2 * p + 1]
                if handler.kind == "spatial":
                    vals.append(handler.compare_shift(a, b, vs[2 * p][:2], vs[2 * p + 1][:2]))
                else:
                    vals.append(_cosine(a, b))
            if handler.kind == "spatial":
                flip = handler.compare_flip(recs[c], recs[c + 1], axis=-1)
                fv = handler.compare_flip(recs[c], recs[c + 2], axis=-2) if plan.vertical else None
            else:
                flip = _cosine(recs[c], recs[c + 1])
                fv = _cosine(recs[c], recs[c + 2]) if plan.vertical else None
            if handler.cosine:
                rg = [handler.value_range(r) for r in recs]
                ranges.append(([(rg[2 * p], rg[2 * p + 1]) for p in range(plan.pairs)],
                               (rg[c], rg[c + 1]), (rg[c], rg[c + 2]) if plan.vertical else None, rg[c]))
            res = ImageResult(name=imageset.names[i], shift_agree=None, shift_pairs=plan.pairs,
                              shift_mean=float(np.mean(vals)), flip=flip, flip_vertical=fv)
        shift_vals.append(vals)
        per_image.append(res)

    try:
        while True:
            item = q.get()
            if item[0] == "end":
                break
            if item[0] == "error":
                err = item[1]
                if isinstance(err, (InputError, RuntimeFailure)):
                    raise err
                if isinstance(err, MemoryError):
                    raise InputError(f"out of memory preparing {spec.height}x{spec.width} inputs; use a "
                                     "smaller --batch-size or --input-size") from None
                raise RuntimeFailure(f"preparing the images failed: {type(err).__name__}: {err}")
            if item[0] == "skip":
                skipped_now += plan.per_image
                if progress:
                    progress(done + skipped_now, total)
                continue
            _, x, slots, n_real = item
            out = run(x)
            inputs_run += x.shape[0]
            if handler is None:
                handler = _Output(out_name, np.asarray(out)[:max(n_real, 1)], spec)
                # repeat check: the same inputs twice must give the same answer. With a dynamic
                # batch a slice of up to 8 inputs is run twice (cheap); a fixed batch reruns it all.
                if spec.batch is None and x.shape[0] > REPEAT_INPUTS:
                    xr = x[:REPEAT_INPUTS]
                    first, again = run(xr), run(xr)
                    inputs_run += 2 * xr.shape[0]
                    n_rep = xr.shape[0]
                else:
                    first, again = out, run(x)
                    inputs_run += x.shape[0]
                    n_rep = n_real
                repeat = _repeat_check(handler, np.asarray(first)[:n_rep], np.asarray(again)[:n_rep])
            recs = handler.records(np.asarray(out)[:n_real])
            for (i, v), rec in zip(slots, recs):
                pending.setdefault(i, {})[v] = rec
                if len(pending[i]) == plan.per_image:
                    finalize(i, [pending[i][k] for k in range(plan.per_image)])
                    del pending[i]
            done += n_real
            if progress:
                progress(done + skipped_now, total)
    finally:
        stop.set()
        # unblock the producer if it waits on a full queue
        while worker.is_alive():
            try:
                q.get_nowait()
            except queue.Empty:
                worker.join(0.05)
    seconds = time.perf_counter() - t0
    skipped += decode_skipped
    if not per_image:
        raise InputError(f"none of the images in {imageset.source} could be read"
                         + (f" ({skipped[0][0]}: {skipped[0][1]})" if skipped else ""))

    warnings = []
    if handler.kind == "spatial" and handler.info.stride != (1.0, 1.0):
        sy, sx = handler.info.stride
        notes.append(f"spatial output stride {sy:g}x{sx:g}: crop offsets that are not multiples of "
                     "the stride were aligned to the nearest output pixel")
    if handler.cosine:
        _exclude_flat(handler, plan, shift_vals, per_image, ranges, notes, warnings)
    if handler.binary == "probability" and handler.binary_out_of_range:
        warnings.append(f"the output was read as a probability (the first batch lay in [0, 1]) but "
                        f"{handler.binary_out_of_range} later values fall outside [0, 1]: it may be a "
                        "logit, and the p > 0.5 decision wrong")
    shift, flip, vflip = _summaries(handler, plan, shift_vals, per_image, dprob_shift, dprob_flip,
                                    dprob_vflip, notes)
    shift.max_shift = plan.max_shift
    shift.offsets = offsets_text(plan.max_shift)
    chance = _chance(handler, chance_keep, per_image)
    warnings += _chance_warnings(chance, shift, flip, vflip)
    base_size = (spec.height + plan.max_shift[0], spec.width + plan.max_shift[1])
    if upscaled:
        notes.append(f"{len(upscaled)} of {len(per_image)} images are smaller than the "
                     f"{base_size[0]}x{base_size[1]} base (shorter side under {max(base_size)} px) and "
                     "were upscaled before cropping; upscaled photos are smoother than real inputs "
                     "of that size")
    if repeat is not None and not repeat.ok:
        warnings.append(f"the runtime is not deterministic enough: the same {repeat.inputs} inputs run "
                        f"twice agreed on only {repeat.agreement:.1%} (max |diff| "
                        f"{repeat.max_abs_diff:.3g}); the consistency numbers mean little")
    elif repeat is not None and not repeat.identical:
        notes.append(f"repeat check: identical inputs gave outputs differing by up to "
                     f"{repeat.max_abs_diff:.3g} (top-1 unchanged)")
    if skipped:
        notes.append(f"{len(skipped)} image file(s) could not be read and were skipped")
    if len(per_image) < 30:
        imagenet = handler.kind == "classifier" and not handler.binary and \
            int(np.prod(handler.info.shape or [0])) in (1000, 1001)
        notes.append(f"only {len(per_image)} images: the intervals are wide; for firm numbers pass "
                     "--images with a larger set "
                     + ("(e.g. ImageNet validation photos)" if imagenet else
                        "of the kind of images the model is made for"))
    return ConsistencyReport(
        model=_label(model), provider=rs.provider, providers=rs.providers,
        provider_requested=rs.requested, providers_requested=rs.providers_requested,
        provider_fallback=rs.fallback, input=spec, preset=normalize.preset,
        preset_description=PRESETS[normalize.preset][2], channel_order=normalize.channel_order,
        output=handler.info, image_source=imageset.source, images=len(per_image), skipped=skipped,
        seed=int(seed), pairs_per_image=int(pairs_per_image), batch_size=batch, shift=shift,
        flip=flip, flip_vertical=vflip, repeat=repeat, seconds=seconds, inputs_run=inputs_run,
        per_image=per_image, notes=notes, warnings=warnings, max_shift=plan.max_shift,
        max_shift_from=shift_from, base_size=base_size, upscaled_images=len(upscaled), chance=chance)


def _exclude_flat(handler, plan, shift_vals, per_image, ranges, notes, warnings):
    """Cosine metrics: leave out comparisons of two flat outputs (near zero / near constant).

    Cosine similarity of two outputs that carry no signal (a text detector's probability map on a
    photo without text: max p ~ 1e-6) measures rounding noise, not consistency."""
    thr = handler.flat_threshold()
    flat_images = 0
    for vals, res, (pairs, fl, vfl, centre) in zip(shift_vals, per_image, ranges):
        keep = [not (ra <= thr and rb <= thr) for ra, rb in pairs]
        vals[:] = [v for v, k in zip(vals, keep) if k]
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


class _ChanceSample:
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

    def add(self, i: int, handler, rec) -> None:
        pixel = bool(getattr(handler, "pixel_top1", False))
        if pixel:
            rec = np.asarray(rec)
            row = (rec[0] if handler.labels else np.argmax(rec, axis=0)).astype(np.int64).ravel()
        else:
            row = np.asarray(rec, np.float32).ravel()
        if self.limit is None:
            self.pixel = pixel
            self.limit = int(max(2, min(CHANCE_IMAGES, self.n, CHANCE_BYTES // max(row.nbytes, 1))))
            if self.limit < self.n:
                perm = np.random.default_rng([self.seed, 0, 0xC4A]).permutation(self.n)
                self.rank = np.empty(self.n, np.int64)
                self.rank[perm] = np.arange(self.n)
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


def _chance(handler, keep: _ChanceSample, per_image) -> ChanceResult:
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


def _fmt_result(res, pct: bool) -> str:
    ci = res.ci95
    if pct:
        return f"{100 * res.consistency:.1f} %" + (f" [{100 * ci[0]:.1f}, {100 * ci[1]:.1f}]" if ci else "")
    return f"{res.consistency:.3f}" + (f" [{ci[0]:.3f}, {ci[1]:.3f}]" if ci else "")


def _chance_warnings(chance: ChanceResult, shift, flip, vflip) -> list[str]:
    """One warning when a consistency interval reaches down to the chance level."""
    if chance is None or chance.value is None:
        return []
    pct = chance.metric != "cosine_similarity"
    low = []
    for name, res in (("shift", shift), ("flip", flip), ("vertical flip", vflip)):
        if res is None or res.consistency is None:
            continue
        lo = res.ci95[0] if res.ci95 else res.consistency
        if lo <= chance.value:
            low.append(f"{name} {_fmt_result(res, pct)}")
    if not low:
        return []
    level = f"{100 * chance.value:.1f} %" if pct else f"{chance.value:.3f}"
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


def _label(model) -> str:
    if hasattr(model, "path"):
        return str(model.path)
    if isinstance(model, (str, bytes)) and not isinstance(model, bytes):
        return str(model)
    try:
        import os

        if isinstance(model, os.PathLike):
            return os.fspath(model)
    except Exception:
        pass
    return "<in-memory model>"


def _repeat_check(handler: _Output, a: np.ndarray, b: np.ndarray) -> RepeatCheck:
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
        agree = float(np.mean([_cosine(x, y) for x, y in zip(ra, rb)]))
        ok = agree >= 0.9999
    return RepeatCheck(inputs=int(a.shape[0]), identical=identical, max_abs_diff=diff,
                       agreement=agree, ok=bool(ok or identical))


def _summaries(handler, plan, shift_vals, per_image, dps, dpf, dpv, notes):
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
