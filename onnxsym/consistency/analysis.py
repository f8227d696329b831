"""``measure`` (the public ``onnxsym.measure_consistency``): shift and flip consistency measured by
running the exported model with onnxruntime on shifted and mirrored crops of photos.

The steps: check the arguments; open the model and the images; create the session
(:mod:`.runtime`); find the image input and how to feed it (:mod:`.preprocess`); then a producer
thread builds batches of every image's variants (:mod:`.pipeline`, :mod:`.protocol`) while the
session runs the previous batch; each image's outputs are compared as soon as all its variants
are back (:mod:`.outputs`); the comparisons add up to the shift and flip results with intervals
(:mod:`.summary`) and the chance level (:mod:`.chance`).
"""
from __future__ import annotations

import queue
import threading
import time
from dataclasses import dataclass

import numpy as np

from ..defaults import CHANNEL_ORDER, PAIRS_PER_IMAGE, PRESET, PROVIDER, SEED, VERTICAL
from ..errors import InputError, RuntimeFailure
from ..model.loading import IN_MEMORY
from ..model.source import open_model
from ..parsing import integer, parse_max_shift
from ..wording import param, param_item
from .chance import ChanceSample, chance_level, chance_warnings
from .feeds import prepare_feeds
from .images import load_images
from .outputs import OutputHandler, cosine
from .pipeline import check_memory, fixed_batch, producer
from .preprocess import PRESETS, Normalizer, check_preset, input_spec
from .protocol import Plan, offsets_text, resolve_max_shift
from .results import ConsistencyReport, ImageResult
from .runtime import RuntimeSession, create_session
from .summary import exclude_flat, repeat_check, summaries

REPEAT_INPUTS = 8


def measure(model, images=None, *, provider: str = PROVIDER, pairs_per_image: int = PAIRS_PER_IMAGE,
            seed: int = SEED, input_size=None, preset: str = PRESET, channel_order: str = CHANNEL_ORDER,
            batch_size: int | None = None, vertical: bool = VERTICAL, progress=None, feeds: dict | None = None,
            output: str | None = None, threads: int | None = None, session: RuntimeSession | None = None,
            max_shift=None) -> ConsistencyReport:
    """Measure shift and flip consistency of ``model`` on ``images``.

    Parameters
    ----------
    model : path, bytes, onnx.ModelProto or LoadedModel
        Opened with :func:`onnxsym.model.source.open_model` (not an ONNX model, missing, unsafe
        external data: ModelError, exit 2).
    images : folder, image file, .npy/.npz file, ImageSet or None
        None: the photos shipped in ``onnxsym/samples``.
    provider : {"auto", "cuda", "cpu"}
    pairs_per_image, seed : int
        Shift pairs per image; the seed of the crop offsets (drawn per image).
    input_size : int, "HxW" or (H, W), optional
        The spatial size for a model whose H, W are symbolic.
    preset, channel_order : str
        Input normalisation (:data:`~onnxsym.consistency.preprocess.PRESETS`), "rgb" or "bgr".
    batch_size : int, optional
        Inputs per run (default 32, lowered for very large inputs; a fixed batch dimension wins).
    vertical : bool
        Also measure vertical-flip consistency.
    progress : callable(done_inputs, total_inputs), optional
    feeds : mapping, optional
        Extra model inputs by name: arrays or numbers, converted to the input's dtype; an array
        [1, ...] is repeated over the batch when the input has a batch dimension.
    output : str, optional
        Which model output to compare (default: the first).
    threads : int, optional
        onnxruntime intra-op threads (default: all cores).
    session : RuntimeSession, optional
        An existing session to reuse (``model`` is then only its label).
    max_shift : int or (rows, columns), optional
        Crop offsets are drawn from [0, max_shift) per axis; default round(32 * S / 224) per axis.
    """
    seed = integer(seed, "seed", 0)
    pairs_per_image = integer(pairs_per_image, "pairs_per_image", 1)
    parse_max_shift(max_shift)  # checked before anything is loaded
    if batch_size is not None:
        batch_size = integer(batch_size, "batch_size", 1)
    preset = check_preset(preset)
    imageset = load_images(images)
    loaded = open_model(model) if session is None else None
    rs = session or create_session(loaded, provider, threads=threads)
    label = loaded.label if loaded is not None else _label(model)
    setup = _Setup.make(rs, loaded, imageset, input_size=input_size, preset=preset,
                        channel_order=channel_order, batch_size=batch_size, feeds=feeds, output=output,
                        max_shift=max_shift)
    plan = Plan(len(imageset), pairs_per_image, seed, vertical, setup.shift_range)
    run = _Run(rs, setup, plan, imageset, progress)
    run.execute()
    return run.report(label)


@dataclass
class _Setup:
    """What the run needs to know before the first batch: the image input and how to feed it,
    the shift range, the batch size, the output compared and the extra inputs."""

    spec: object
    normalize: Normalizer
    shift_range: tuple
    shift_from: str
    batch: int
    notes: list
    out_name: str
    extra: dict
    broadcast: set

    @classmethod
    def make(cls, rs, loaded, imageset, *, input_size, preset, channel_order, batch_size, feeds, output,
             max_shift) -> "_Setup":
        inputs = rs.session.get_inputs()
        unknown = [k for k in (feeds or {}) if k not in {i.name for i in inputs}]
        if unknown:
            raise InputError(f"{param_item('feeds', unknown[0])}: the model has no input {unknown[0]!r} "
                             f"(inputs: {', '.join(i.name for i in inputs)})")
        spec = input_spec(inputs, input_size, feeds=(feeds or {}).keys(),
                          model=loaded.model if loaded is not None else None)
        normalize = Normalizer(spec, preset, channel_order)
        shift_range, shift_from = resolve_max_shift(max_shift, spec.height, spec.width)
        batch, notes = fixed_batch(spec, batch_size)
        batch = check_memory(spec, batch, batch_size, notes, shift_range)
        notes = list(rs.notes) + list(spec.notes) + list(imageset.notes) + normalize.notes + notes
        out_names = [o.name for o in rs.session.get_outputs()]
        if not out_names:
            raise InputError("the model has no outputs: there is nothing to compare")
        out_name = output or out_names[0]
        if out_name not in out_names:
            raise InputError(f"the model has no output {out_name!r} (outputs: {', '.join(out_names)})")
        if output is None and len(out_names) > 1:
            notes.append(f"the model has {len(out_names)} outputs; compared the first, {out_name!r}")
        extra, broadcast, feed_notes = prepare_feeds(dict(feeds or {}), inputs, spec)
        return cls(spec, normalize, shift_range, shift_from, batch, notes + feed_notes, out_name, extra, broadcast)


class _Run:
    """One measurement: the producer thread, the model runs, and the per-image comparisons."""

    def __init__(self, rs, setup: _Setup, plan: Plan, imageset, progress):
        self.rs, self.setup, self.plan, self.imageset, self.progress = rs, setup, plan, imageset, progress
        self.spec = setup.spec
        self.handler: OutputHandler | None = None
        self.chance_keep = ChanceSample(plan.n_images, plan.seed)
        self.pending: dict = {}
        self.per_image: list = []
        self.shift_vals: list = []    # per image: list of pair metric values (bool or float)
        self.ranges: list = []        # cosine metrics, per image: (pair ranges, flip, vflip, centre)
        self.dprob = {"shift": [], "flip": [], "vflip": []}
        self.repeat = None
        self.done = self.inputs_run = self.skipped_now = 0
        self.decode_skipped: list = []
        self.upscaled: list = []
        self._expanded: dict = {}
        self.seconds = 0.0

    # ---- running the model --------------------------------------------------------------------
    def _feed_for(self, n: int) -> dict:
        extra, broadcast = self.setup.extra, self.setup.broadcast
        if not broadcast:
            return extra
        d = dict(extra)
        for name in broadcast:
            key = (name, n)
            if key not in self._expanded:
                a = extra[name]
                self._expanded[key] = np.ascontiguousarray(np.broadcast_to(a, (n,) + a.shape[1:]))
            d[name] = self._expanded[key]
        return d

    def _run_model(self, x):
        return self.rs.run({self.spec.name: x, **self._feed_for(x.shape[0])}, [self.setup.out_name])[0]

    def execute(self) -> None:
        """Run every batch the producer makes; compare each image once all its variants are back."""
        q: queue.Queue = queue.Queue(maxsize=2)
        stop = threading.Event()
        t0 = time.perf_counter()
        worker = threading.Thread(target=producer, daemon=True,
                                  args=(self.plan, self.imageset, self.spec, self.setup.normalize, self.setup.batch,
                                        q, stop, self.decode_skipped, self.upscaled))
        worker.start()
        try:
            while self._step(q.get()):
                pass
        finally:
            stop.set()
            while worker.is_alive():  # unblock the producer if it waits on a full queue
                try:
                    q.get_nowait()
                except queue.Empty:
                    worker.join(0.05)
        self.seconds = time.perf_counter() - t0

    def _step(self, item) -> bool:
        """Handle one item from the producer; False at the end."""
        total = self.plan.n_images * self.plan.per_image
        if item[0] == "end":
            return False
        if item[0] == "error":
            err = item[1]
            if isinstance(err, (InputError, RuntimeFailure)):
                raise err
            if isinstance(err, MemoryError):
                raise InputError(f"out of memory preparing {self.spec.height}x{self.spec.width} inputs; use a "
                                 f"smaller {param('batch_size')} or {param('input_size')}") from None
            raise RuntimeFailure(f"preparing the images failed: {type(err).__name__}: {err}")
        if item[0] == "skip":
            self.skipped_now += self.plan.per_image
        else:
            _, x, slots, n_real = item
            out = self._run_model(x)
            self.inputs_run += x.shape[0]
            if self.handler is None:
                self._first_batch(x, out, n_real)
            recs = self.handler.records(np.asarray(out)[:n_real])
            per = self.plan.per_image
            for (i, v), rec in zip(slots, recs):
                self.pending.setdefault(i, {})[v] = rec
                if len(self.pending[i]) == per:
                    self._finalize(i, [self.pending[i][k] for k in range(per)])
                    del self.pending[i]
            self.done += n_real
        if self.progress:
            self.progress(self.done + self.skipped_now, total)
        return True

    def _first_batch(self, x, out, n_real) -> None:
        """Learn what the output is; check that identical inputs give the same answer. With a
        dynamic batch a slice of up to 8 inputs is run twice (cheap); a fixed batch reruns it all."""
        self.handler = OutputHandler(self.setup.out_name, np.asarray(out)[:max(n_real, 1)], self.spec)
        if self.spec.batch is None and x.shape[0] > REPEAT_INPUTS:
            xr = x[:REPEAT_INPUTS]
            first, again = self._run_model(xr), self._run_model(xr)
            self.inputs_run += 2 * xr.shape[0]
            n_rep = xr.shape[0]
        else:
            first, again = out, self._run_model(x)
            self.inputs_run += x.shape[0]
            n_rep = n_real
        self.repeat = repeat_check(self.handler, np.asarray(first)[:n_rep], np.asarray(again)[:n_rep])

    # ---- comparing one image's variants ---------------------------------------------------------
    def _finalize(self, i, recs) -> None:
        if self.handler.kind == "classifier":
            vals, res = self._compare_classes(i, recs)
        else:
            vals, res = self._compare_values(i, recs)
        self.shift_vals.append(vals)
        self.per_image.append(res)

    def _compare_classes(self, i, recs):
        plan, h, c = self.plan, self.handler, 2 * self.plan.pairs
        vals = []
        for p in range(plan.pairs):
            agree, dp = h.compare_classifier(recs[2 * p], recs[2 * p + 1])
            vals.append(bool(agree))
            self.dprob["shift"].append(dp)
        fa, fd = h.compare_classifier(recs[c], recs[c + 1])
        self.dprob["flip"].append(fd)
        fv = None
        if plan.vertical:
            va, vd = h.compare_classifier(recs[c], recs[c + 2])
            self.dprob["vflip"].append(vd)
            fv = float(va)
        return vals, ImageResult(name=self.imageset.names[i], shift_agree=int(sum(vals)), shift_pairs=plan.pairs,
                                 shift_mean=float(np.mean(vals)), flip=float(fa), flip_vertical=fv,
                                 top1=h.top1(recs[c]))

    def _compare_values(self, i, recs):
        plan, h, c = self.plan, self.handler, 2 * self.plan.pairs
        vs = plan.variants(i)
        self.chance_keep.add(i, h, recs[c])
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
        if h.cosine:
            rg = [h.value_range(r) for r in recs]
            self.ranges.append(([(rg[2 * p], rg[2 * p + 1]) for p in range(plan.pairs)],
                                (rg[c], rg[c + 1]), (rg[c], rg[c + 2]) if plan.vertical else None, rg[c]))
        return vals, ImageResult(name=self.imageset.names[i], shift_agree=None, shift_pairs=plan.pairs,
                                 shift_mean=float(np.mean(vals)), flip=flip, flip_vertical=fv)

    # ---- the report -----------------------------------------------------------------------------
    def report(self, label: str) -> ConsistencyReport:
        h, plan, spec, setup = self.handler, self.plan, self.spec, self.setup
        skipped = list(self.imageset.skipped) + self.decode_skipped
        if not self.per_image:
            raise InputError(f"none of the images in {self.imageset.source} could be read"
                             + (f" ({skipped[0][0]}: {skipped[0][1]})" if skipped else ""))
        notes, warnings = setup.notes, []
        if h.kind == "spatial" and h.info.stride != (1.0, 1.0):
            sy, sx = h.info.stride
            notes.append(f"spatial output stride {sy:g}x{sx:g}: crop offsets that are not multiples of "
                         "the stride were aligned to the nearest output pixel")
        if h.cosine:
            exclude_flat(h, plan, self.shift_vals, self.per_image, self.ranges, notes, warnings)
        if h.binary == "probability" and h.binary_out_of_range:
            warnings.append(f"the output was read as a probability (the first batch lay in [0, 1]) but "
                            f"{h.binary_out_of_range} later values fall outside [0, 1]: it may be a "
                            "logit, and the p > 0.5 decision wrong")
        shift, flip, vflip = summaries(h, plan, self.shift_vals, self.per_image, self.dprob["shift"],
                                       self.dprob["flip"], self.dprob["vflip"], notes)
        shift.max_shift = plan.max_shift
        shift.offsets = offsets_text(plan.max_shift)
        chance = chance_level(h, self.chance_keep, self.per_image)
        warnings += chance_warnings(chance, shift, flip, vflip)
        base_size = (spec.height + plan.max_shift[0], spec.width + plan.max_shift[1])
        self._closing_notes(notes, warnings, skipped, base_size)
        rs = self.rs
        return ConsistencyReport(
            model=label, provider=rs.provider, providers=rs.providers,
            provider_requested=rs.requested, providers_requested=rs.providers_requested,
            provider_fallback=rs.fallback, input=spec, preset=setup.normalize.preset,
            preset_description=PRESETS[setup.normalize.preset][2], channel_order=setup.normalize.channel_order,
            output=h.info, image_source=self.imageset.source, images=len(self.per_image), skipped=skipped,
            seed=int(plan.seed), pairs_per_image=int(plan.pairs), batch_size=setup.batch, shift=shift,
            flip=flip, flip_vertical=vflip, repeat=self.repeat, seconds=self.seconds, inputs_run=self.inputs_run,
            per_image=self.per_image, notes=notes, warnings=warnings, max_shift=plan.max_shift,
            max_shift_from=setup.shift_from, base_size=base_size, upscaled_images=len(self.upscaled), chance=chance)

    def _closing_notes(self, notes, warnings, skipped, base_size) -> None:
        h, repeat, n = self.handler, self.repeat, len(self.per_image)
        if self.upscaled:
            notes.append(f"{len(self.upscaled)} of {n} images are smaller than the "
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
        if n < 30:
            imagenet = h.kind == "classifier" and not h.binary and int(np.prod(h.info.shape or [0])) in (1000, 1001)
            notes.append(f"only {n} images: the intervals are wide; for firm numbers pass "
                         f"{param('images')} with a larger set "
                         + ("(e.g. ImageNet validation photos)" if imagenet else
                            "of the kind of images the model is made for"))


def _label(model) -> str:
    """How a report names a model given only as a label (with ``session=``)."""
    import os

    if isinstance(model, (str, os.PathLike)):
        return os.fspath(model)
    return IN_MEMORY
