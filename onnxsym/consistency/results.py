"""The consistency report and the ``onnxsym.consistency/1`` document it makes.

JSON schema ``onnxsym.consistency/1`` (keys always present; numbers are fractions in [0, 1]):

* ``schema``, ``model``, ``seed``, ``pairs_per_image``, ``batch_size``, ``images`` (images measured)
* ``provider`` - the provider that actually ran ("cpu", "cuda"); ``providers`` (onnxruntime's
  ``get_providers()``); ``provider_requested`` (auto|cuda|cpu); ``providers_requested``;
  ``provider_fallback`` - null, or one line when CUDA was wanted but not obtained (with the reason)
* ``input`` {name, layout, height, width, channels, dtype, batch, shape, size_from},
  ``preprocessing`` {preset, description, channel_order}
* ``metric`` - what every ``consistency`` number is: ``top1_agreement`` (a share of pairs / images,
  shown as %), ``pixel_top1_agreement`` (mean share of agreeing output pixels, %) or
  ``cosine_similarity`` (mean cosine in [-1, 1], NOT an agreement rate: shown as "cosine 0.14")
* ``output`` {name, kind: classifier|spatial|vector, shape, softmax_applied, stride, comparison,
  binary: null | "probability" (class = p > 0.5) | "logit" (class = value > 0) for one-score
  outputs [B] / [B, 1], metric}
* ``pipeline`` {used: "device" | "host", requested, reason}: where the crops, mirrors and the
  normalisation were made (inside the onnxruntime session, or in numpy); the offsets, the
  model's inputs and so the numbers are the same on both (``batch_size`` on the device path is a
  whole number of images' variants)
* ``max_shift`` [rows, columns] - crop offsets are uniform in [0, max_shift) per axis (32 at
  224x224, Zhang's protocol; scaled with the input: round(32 * S / 224) per axis);
  ``max_shift_from`` "auto" | "max_shift" (given by the caller / --max-shift); ``base_size``
  [rows, columns] the crops are cut from (input + max_shift); ``upscaled_images``: images smaller
  than the base, upscaled before cropping
* ``shift`` {consistency (null when nothing could be compared), pairs, images, ci95: [lo, hi] |
  null, ci95_method, metric, mean_abs_delta_top1_prob, design_effect, offsets, max_shift,
  excluded_pairs, excluded_images}; ``excluded_*``: cosine metrics only, comparisons of two flat
  (near-zero / near-constant) outputs left out; ``pairs``/``images`` count what was compared;
  ``mean_abs_delta_top1_prob`` (classifiers): the mean |change of the top-1 class's probability|
  between the two crops of a pair (symmetrised over both crops' top-1), or between the centre
  crop and its mirror for ``flip``
* ``chance`` {value, metric, what, pairs, images, sampled, excluded_pairs} - the same metric
  between centre crops of *different* images: the level a consistency number must clear to mean
  anything (top-1: share of image pairs whose top-1 agrees, exact over all pairs; cosine / pixel
  agreement: mean over all pairs of up to 256 images, ``sampled`` true when a seeded sample of the
  images was used); ``value`` null with fewer than two images
* ``flip`` {axis, consistency, images, ci95, ci95_method, metric, mean_abs_delta_top1_prob,
  excluded_images}; ``flip_vertical`` the same or null
* ``repeat`` {inputs, identical, max_abs_diff, agreement, ok}
* ``image_source``, ``skipped`` [{name, reason}], ``per_image`` [{name, shift_agree, shift_pairs,
  shift_mean, flip, flip_vertical, top1, shift_excluded, flat, worst_pair, worst_pair_top1,
  worst_pair_value, mirror_top1}] (``shift_mean``/``flip`` null when left out; ``worst_pair`` the
  [y, x] offsets of crops a and b of the image's least consistent pair in the base image of
  ``base_size``; the ``*_top1`` fields for
  classifiers only)
* ``timing`` {seconds, inputs_run, inputs_per_second}
* ``notes`` [str], ``warnings`` [str]
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

from .. import __version__
from .preprocess import InputSpec
from .protocol import MAX_SHIFT

SCHEMA = "onnxsym.consistency/1"


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
    kind_reason: str = ""           # why this kind: what was seen, or "as given"


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
    worst_pair: list | None = None  # [[y, x] of crop a, [y, x] of crop b] of the least consistent pair
    worst_pair_top1: list | None = None   # classifiers: the top-1 of crops a and b of that pair
    worst_pair_value: float | None = None  # its pair metric (1/0 agreement, cosine, pixel agreement)
    mirror_top1: int | None = None  # classifiers: the top-1 of the mirrored centre crop


@dataclass(frozen=True)
class PipelineChoice:
    """Where the variants were made (``pipeline`` in the JSON): ``used`` "device" (inside the
    onnxruntime session) or "host" (numpy), ``requested`` auto | device | host, and ``reason``."""

    used: str = "host"
    requested: str = "auto"
    reason: str = ""


@dataclass
class ConsistencyReport:
    model: str
    provider: str                   # the provider that actually ran: "cpu", "cuda", ...
    providers: list[str]            # session.get_providers()
    provider_requested: str         # auto | cuda | cpu
    providers_requested: list[str]
    provider_fallback: str | None   # one line when CUDA was wanted but not obtained
    provider_note: str              # why it runs where it runs when nothing went wrong (an info line)
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
    pipeline: PipelineChoice = field(default_factory=PipelineChoice)
    upscaled_images: int = 0        # images smaller than the base, upscaled before cropping
    chance: ChanceResult | None = None
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    schema: str = SCHEMA

    @property
    def inputs_per_second(self) -> float:
        return self.inputs_run / self.seconds if self.seconds > 0 else float("nan")

    def to_dataframe(self):
        """One row per image measured (``pandas.DataFrame`` indexed by ``name``), the fields of
        :class:`ImageResult`. Needs pandas (``pip install 'onnxsym[pandas]'``)."""
        from ..frames import to_frame

        return to_frame([asdict(p) for p in self.per_image], index="name")

    def to_dict(self) -> dict:
        """The ``onnxsym.consistency/1`` document (non-finite numbers as null, floats rounded to 6)."""
        r = self
        d = {
            "schema": r.schema,
            "onnxsym_version": __version__,
            "model": r.model,
            "provider": r.provider,
            "providers": list(r.providers),
            "provider_requested": r.provider_requested,
            "providers_requested": list(r.providers_requested),
            "provider_fallback": r.provider_fallback,
            "provider_note": r.provider_note,
            "seed": r.seed,
            "pairs_per_image": r.pairs_per_image,
            "batch_size": r.batch_size,
            "images": r.images,
            "metric": r.output.metric or None,
            "max_shift": list(r.max_shift),
            "max_shift_from": r.max_shift_from,
            "base_size": list(r.base_size) if r.base_size else None,
            "pipeline": asdict(r.pipeline),
            "upscaled_images": r.upscaled_images,
            "image_source": r.image_source,
            "input": {k: v for k, v in asdict(r.input).items() if k != "notes"},
            "preprocessing": {"preset": r.preset, "description": r.preset_description,
                              "channel_order": r.channel_order},
            "output": asdict(r.output),
            "shift": asdict(r.shift),
            "flip": asdict(r.flip),
            "flip_vertical": asdict(r.flip_vertical) if r.flip_vertical else None,
            "chance": asdict(r.chance) if r.chance else None,
            "repeat": asdict(r.repeat) if r.repeat else None,
            "skipped": [{"name": n, "reason": why} for n, why in r.skipped],
            "per_image": [asdict(p) for p in r.per_image],
            "timing": {"seconds": r.seconds, "inputs_run": r.inputs_run,
                       "inputs_per_second": r.inputs_per_second},
            "notes": list(r.notes),
            "warnings": list(r.warnings),
        }
        return _clean(d)


def _clean(x):
    if isinstance(x, float):
        return None if not math.isfinite(x) else round(x, 6)
    if isinstance(x, dict):
        return {k: _clean(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_clean(v) for v in x]
    return x


_NUM = {"type": ["number", "null"]}
_INT = {"type": ["integer", "null"]}
_CI = {"anyOf": [{"type": "null"}, {"type": "array", "items": _NUM, "minItems": 2, "maxItems": 2}]}
_PART = {"type": ["object", "null"], "properties": {"consistency": _NUM, "ci95": _CI}}

#: JSON Schema of the fields of an ``onnxsym.consistency/1`` document (or of the ``{"error": …}``
#: that stands for a failed run in an audit) that onnxsym reads back; other fields may be present.
JSON_SCHEMA = {
    "anyOf": [
        {"type": "null"},
        {"type": "object", "required": ["error"], "properties": {"error": {"type": "string"}}},
        {"type": "object", "required": ["shift", "flip", "metric"], "properties": {
            "shift": _PART, "flip": _PART, "metric": {"type": "string"}, "images": _INT,
            "image_source": {"type": ["string", "null"]}, "seed": _INT, "pairs_per_image": _INT,
            "input": {"type": ["object", "null"], "properties": {"height": _INT, "width": _INT}},
            "max_shift": {"type": ["array", "null"], "items": {"type": "integer"}, "maxItems": 4}}},
    ],
}
