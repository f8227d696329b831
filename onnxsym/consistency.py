"""Shift and flip consistency, measured by running the exported model with onnxruntime.

Protocol (docs/metric.md):

* Each image is resized (bilinear, antialiased) so its shorter side is S+32 and centre-cropped to
  (S+32)^2 - the *base*; S is the model's input size (224 -> 256).
* **Shift** (Zhang 2019): per image, ``pairs_per_image`` pairs of S^2 crops of the base at offsets
  drawn uniformly from [0, 32) per axis; a pair agrees when both crops get the same top-1.
  Offsets are drawn **per image** from ``numpy.random.default_rng([seed, image_index])`` (Zhang draws
  one offset pair per batch, unseeded), so the numbers do not depend on the batch size.
  Also reported: the mean |change of the top-1 probability| over pairs, symmetrised:
  ``(|p_a[c_a] - p_b[c_a]| + |p_a[c_b] - p_b[c_b]|) / 2`` with c_a, c_b the two top-1 classes.
* **Flip**: the centre crop (offset 16, i.e. Resize(S+32) + CenterCrop(S)) against its horizontal
  mirror (vertical on request): share of images whose top-1 agrees.
* **Intervals** (95 %): flip - Wilson score interval over images. Shift - pairs from the same image
  are not independent, so the Wilson interval is computed on the *effective* number of pairs
  n_eff = n / deff, where the design effect deff >= 1 is estimated from the between-image variance
  of the per-image agreement (cluster / ratio estimator). With a single image deff cannot be
  estimated and the interval treats pairs as independent (a note says so). Continuous metrics
  (cosine, pixel agreement) get mean +- 1.96 cluster-robust standard errors over images.
* **Outputs**: [B, K] (or [B, K, 1, 1]) is a classifier - softmax applied only when the rows are not
  already distributions. A spatial output [B, C, H, W] ([B, H, W, C] for NHWC models, [B, H, W]
  label/score maps) is compared on the overlap after undoing the shift by the output stride (for a
  shift that is not a multiple of the stride: the nearest output pixel) or after mirroring back:
  pixel top-1 agreement when C > 1 (or for integer label maps), cosine similarity otherwise.
  Anything else is compared as flat vectors by cosine similarity, and labelled so.
* **Repeat check**: the first batch's first 8 inputs (the whole batch when the batch dimension is
  fixed) are run twice; identical inputs must give the same top-1,
  otherwise the runtime is not deterministic enough for these numbers to mean much (a warning).
* All variants of an image (both crops of every pair, the centre crop and its mirrors) are batched
  together; a producer thread prepares the next batch while onnxruntime runs the current one.
"""
from __future__ import annotations

import math
import queue
import threading
import time
from dataclasses import dataclass, field

import numpy as np

from .errors import InputError, RuntimeFailure
from .images import (InputSpec, Normalizer, UnreadableImage, check_preset, input_spec, load_images,
                     resize_center_square, PRESETS)
from .runtime import RuntimeSession, create_session

SCHEMA = "onnxsym.consistency/1"
MAX_SHIFT = 32
REPEAT_INPUTS = 8
Z95 = 1.959963984540054

CI_SHIFT = ("Wilson score interval on the effective number of pairs n/deff; deff >= 1 is the design "
            "effect from the between-image variance (pairs of one image are not independent)")
CI_FLIP = "Wilson score interval over images"
CI_MEAN = "mean +- 1.96 cluster-robust standard errors over images"


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


@dataclass
class FlipResult:
    axis: str                       # "horizontal" | "vertical"
    consistency: float | None       # share of images whose top-1 agrees (or the mean `metric`)
    images: int
    ci95: tuple[float, float] | None
    ci95_method: str
    metric: str
    mean_abs_delta_top1_prob: float | None = None


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


@dataclass
class ImageResult:
    name: str
    shift_agree: int | None         # classifier: agreeing pairs; else None
    shift_pairs: int
    shift_mean: float               # per-image mean of the pair metric
    flip: float                     # 1/0 for classifiers, the metric otherwise
    flip_vertical: float | None = None
    top1: int | None = None         # centre-crop top-1 (classifiers)


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
    """(p, ci95, design effect) for pair agreement clustered by image."""
    n = float(sizes.sum())
    if n == 0:
        return None, None, None
    p = float(agree.sum()) / n
    var = cluster_variance(agree.astype(float), sizes.astype(float))
    binom = p * (1 - p) / n
    if var is None or binom <= 0:
        deff = 1.0
    else:
        deff = min(max(var / binom, 1.0), float(sizes.max()))
    return p, wilson(p * n / deff, n / deff), deff


def clustered_mean(totals: np.ndarray, sizes: np.ndarray, lo=-1.0, hi=1.0):
    n = float(sizes.sum())
    if n == 0:
        return None, None
    r = float(totals.sum()) / n
    var = cluster_variance(totals.astype(float), sizes.astype(float))
    if var is None:
        return r, None
    half = Z95 * math.sqrt(var)
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


class _Output:
    """Turns raw output rows into per-variant records and compares two records."""

    def __init__(self, name: str, sample: np.ndarray, spec: InputSpec):
        self.name = name
        shape = list(sample.shape[1:])
        self.info = OutputInfo(name=name, kind="vector", shape=shape)
        self.labels = False
        self.channels_last = False
        if sample.ndim == 2 and shape[0] > 1 or (sample.ndim == 4 and shape[1:] == [1, 1] and shape[0] > 1) \
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
            self.info.comparison = ("pixel top-1 agreement" if self.pixel_top1 else "cosine similarity") + \
                " on the overlap after undoing the shift by the output stride / mirroring back"
        else:
            self.info.comparison = "cosine similarity of the flattened outputs (not top-1 agreement)"

    @property
    def kind(self):
        return self.info.kind

    def records(self, out: np.ndarray) -> list:
        if self.kind == "classifier":
            flat = out.reshape(out.shape[0], -1)
            return list(_softmax(flat) if self.softmax else flat.astype(np.float32))
        if self.kind == "spatial":
            if out.ndim == 3:
                return list(out[:, None])             # [1, H, W]
            if self.channels_last:
                return list(out.transpose(0, 3, 1, 2))  # -> [C, H, W]
            return list(out)
        return list(out.reshape(out.shape[0], -1))

    # -- comparisons ----------------------------------------------------------------------
    def top1(self, rec) -> int:
        return int(np.argmax(rec))

    def compare_classifier(self, a, b):
        ca, cb = int(np.argmax(a)), int(np.argmax(b))
        dprob = 0.5 * (abs(float(a[ca]) - float(b[ca])) + abs(float(a[cb]) - float(b[cb])))
        return ca == cb, dprob

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


# ---------------------------------------------------------------------------------- pipeline
class _Plan:
    """Variants of every image, in order: pairs (a, b) ..., centre, h-mirror, [v-mirror]."""

    def __init__(self, n_images, pairs, seed, vertical):
        self.pairs = pairs
        self.per_image = 2 * pairs + 2 + (1 if vertical else 0)
        self.vertical = vertical
        self.seed = seed
        self.n_images = n_images

    def offsets(self, i) -> np.ndarray:
        rng = np.random.default_rng([int(self.seed), int(i)])
        return rng.integers(0, MAX_SHIFT, size=(self.pairs, 2, 2))  # pair, crop a/b, (y, x)

    def variants(self, i):
        """[(y, x, flip)] for image i; flip 0 none, 1 horizontal, 2 vertical."""
        offs = self.offsets(i)
        out = []
        for p in range(self.pairs):
            out.append((int(offs[p, 0, 0]), int(offs[p, 0, 1]), 0))
            out.append((int(offs[p, 1, 0]), int(offs[p, 1, 1]), 0))
        c = MAX_SHIFT // 2
        out += [(c, c, 0), (c, c, 1)]
        if self.vertical:
            out.append((c, c, 2))
        return out


def _producer(plan, imageset, spec, normalize, batch, q, stop, skipped):
    """Build batches: ("batch", x, [(image, variant index)], n_real) and put them on the queue."""
    h, w = spec.height, spec.width
    base_size = (h + MAX_SHIFT, w + MAX_SHIFT)
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
                img = imageset.load(i)
            except UnreadableImage as err:
                skipped.append((imageset.names[i], str(err)))
                q.put(("skip", i))
                continue
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
                    if fused:
                        r = (r + 1) % len(ring)
                        buf = ring[r]
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


def measure_consistency(model, images=None, *, provider: str = "auto", pairs_per_image: int = 5,
                        seed: int = 0, input_size=None, preset: str = "imagenet",
                        channel_order: str = "rgb", batch_size: int | None = None,
                        vertical: bool = False, progress=None, feeds: dict | None = None,
                        output: str | None = None, threads: int | None = None,
                        session: RuntimeSession | None = None) -> ConsistencyReport:
    """Measure shift and flip consistency of ``model`` on ``images``.

    model: path, bytes, onnx.ModelProto or LoadedModel. images: a folder, an image file, a
    .npy/.npz file, an ImageSet, or None for the photos shipped in onnxsym/samples.
    provider: auto | cuda | cpu. batch_size: inputs per run (default 32; a fixed batch dimension
    wins). progress: callable(done_inputs, total_inputs). feeds: extra model inputs by name
    (numpy arrays, fed to every run). output: which model output to compare (default: the first).
    session: an existing RuntimeSession to reuse (then model is only used as a label).
    """
    if pairs_per_image < 1:
        raise InputError(f"--pairs-per-image {pairs_per_image}: must be at least 1")
    preset = check_preset(preset)
    from .images import ImageSet

    imageset = images if isinstance(images, ImageSet) else load_images(images)
    rs = session or create_session(model, provider, threads=threads)
    spec = input_spec(rs.session.get_inputs(), input_size, feeds=(feeds or {}).keys())
    normalize = Normalizer(spec, preset, channel_order)
    batch, notes = _fixed_batch(spec, batch_size)
    notes = list(rs.notes) + list(spec.notes) + list(imageset.notes) + normalize.notes + notes
    out_names = [o.name for o in rs.session.get_outputs()]
    out_name = output or out_names[0]
    if out_name not in out_names:
        raise InputError(f"the model has no output {out_name!r} (outputs: {', '.join(out_names)})")
    if output is None and len(out_names) > 1:
        notes.append(f"the model has {len(out_names)} outputs; compared the first, {out_name!r}")
    extra = {k: np.asarray(v) for k, v in (feeds or {}).items()}

    plan = _Plan(len(imageset), pairs_per_image, seed, vertical)
    total = plan.n_images * plan.per_image
    skipped = list(imageset.skipped)
    decode_skipped: list = []
    q: queue.Queue = queue.Queue(maxsize=2)
    stop = threading.Event()
    t0 = time.perf_counter()
    worker = threading.Thread(target=_producer, daemon=True,
                              args=(plan, imageset, spec, normalize, batch, q, stop, decode_skipped))
    worker.start()

    handler: _Output | None = None
    pending: dict[int, dict[int, object]] = {}
    per_image: list[ImageResult] = []
    shift_vals: list[list] = []      # per image: list of pair metric values (bool or float)
    dprob_shift: list[float] = []
    dprob_flip: list[float] = []
    dprob_vflip: list[float] = []
    repeat = None
    done = 0
    inputs_run = 0
    skipped_now = 0

    def run(x):
        return rs.run({spec.name: x, **extra}, [out_name])[0]

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

    if handler.kind == "spatial" and handler.info.stride != (1.0, 1.0):
        sy, sx = handler.info.stride
        notes.append(f"spatial output stride {sy:g}x{sx:g}: crop offsets that are not multiples of "
                     "the stride were aligned to the nearest output pixel")
    shift, flip, vflip = _summaries(handler, plan, shift_vals, per_image, dprob_shift, dprob_flip,
                                    dprob_vflip, notes)
    warnings = []
    if rs.fallback:
        pass  # reported once, as provider_fallback (the CLI prints it on stderr)
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
        notes.append(f"only {len(per_image)} images: the intervals are wide; pass --images with "
                     "a larger set (e.g. ImageNet validation photos) for firm numbers")
    return ConsistencyReport(
        model=_label(model), provider=rs.provider, providers=rs.providers,
        provider_requested=rs.requested, providers_requested=rs.providers_requested,
        provider_fallback=rs.fallback, input=spec, preset=normalize.preset,
        preset_description=PRESETS[normalize.preset][2], channel_order=normalize.channel_order,
        output=handler.info, image_source=imageset.source, images=len(per_image), skipped=skipped,
        seed=int(seed), pairs_per_image=int(pairs_per_image), batch_size=batch, shift=shift,
        flip=flip, flip_vertical=vflip, repeat=repeat, seconds=seconds, inputs_run=inputs_run,
        per_image=per_image, notes=notes, warnings=warnings)


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
    totals = np.array([sum(v) for v in shift_vals], float)
    r, ci = clustered_mean(totals, sizes)
    shift = ShiftResult(consistency=r, pairs=int(sizes.sum()), images=n_img, ci95=ci,
                        ci95_method=CI_MEAN, metric=metric)

    def flip_mean(axis, vals):
        v = np.array(vals, float)
        m, c = clustered_mean(v, np.ones_like(v))
        return FlipResult(axis=axis, consistency=m, images=len(v), ci95=c, ci95_method=CI_MEAN,
                          metric=metric)

    flip = flip_mean("horizontal", [r.flip for r in per_image])
    vflip = flip_mean("vertical", [r.flip_vertical for r in per_image]) if plan.vertical else None
    return shift, flip, vflip
