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

from ..defaults import CHANNEL_ORDER, PAIRS_PER_IMAGE, PIPELINE, PRESET, PROVIDER, SEED, VERTICAL
from ..errors import InputError, RuntimeFailure
from ..model.loading import IN_MEMORY
from ..model.source import open_model
from ..parsing import integer, parse_max_shift
from ..wording import param, param_item
from .chance import ChanceSample, chance_level, chance_warnings
from .compare import compare_image
from .device import BatchPacker, DevicePath, choose_pipeline, host_tensor
from .feeds import prepare_feeds
from .images import load_images
from .outputs import KINDS, OutputHandler
from .pipeline import check_memory, device_producer, fixed_batch, producer
from .preprocess import PRESETS, Normalizer, check_preset, input_spec
from .protocol import Plan, offsets_text, resolve_max_shift
from .results import ConsistencyReport
from .runtime import RuntimeSession, create_session
from .summary import exclude_flat, repeat_check, summaries

REPEAT_INPUTS = 8


def measure(model, images=None, *, provider: str = PROVIDER, pairs_per_image: int = PAIRS_PER_IMAGE,
            seed: int = SEED, input_size=None, preset: str = PRESET, channel_order: str = CHANNEL_ORDER,
            batch_size: int | None = None, vertical: bool = VERTICAL, progress=None, feeds: dict | None = None,
            output: str | None = None, output_kind="auto", threads: int | None = None,
            session: RuntimeSession | None = None, max_shift=None, pipeline: str = PIPELINE,
            engine=None) -> ConsistencyReport:
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
    output_kind : {"auto", "classes", "spatial", "vector"} or mapping
        What the output is: class scores (top-1 agreement), a map (compared per position after
        undoing the shift) or a vector (cosine similarity); ``auto`` decides from the output and
        says why. A mapping gives it per output name.
    threads : int, optional
        onnxruntime intra-op threads (default: all cores).
    session : RuntimeSession, optional
        An existing session to reuse (``model`` is then only its label).
    max_shift : int or (rows, columns), optional
        Crop offsets are drawn from [0, max_shift) per axis; default round(32 * S / 224) per axis.
    pipeline : {"auto", "device", "host"}
        Where the crops, mirrors and normalisation are made: inside the onnxruntime session
        (``device``: uint8 images uploaded, classifier outputs reduced there;
        :mod:`onnxsym.consistency.device`) or in numpy (``host``). ``auto``: device on CUDA, host
        on the CPU. Same offsets, same inputs to the model, same numbers.
    engine : object with ``map_image_parts(task, indices, on_part)``, optional
        Runs parts of the image set elsewhere (:mod:`onnxsym.engines`; e.g. Ray actors): the first
        batch runs here and calibrates the output handler, the rest is measured by the engine
        with :func:`measure_part`, and the report is assembled in image order — the numbers of
        one run.
    """
    settings = dict(provider=provider, pairs_per_image=pairs_per_image, seed=seed, input_size=input_size,
                    preset=preset, channel_order=channel_order, batch_size=batch_size, vertical=vertical,
                    feeds=feeds, output=output, output_kind=output_kind, threads=threads, max_shift=max_shift,
                    pipeline=pipeline)
    t0 = time.perf_counter()
    run, label, imageset = _open_run(model, images, session=session, progress=progress, **settings)
    first = run.first_images()
    if engine is None or session is not None or len(first) >= run.plan.n_images:
        run.execute()
        return run.report(label)
    run.execute(first)
    task = ImagePart(_portable(model, run.loaded), imageset, settings, run.handler)
    rest = list(range(len(first), run.plan.n_images))
    done = [len(first) * run.plan.per_image]

    def on_part(part):
        done[0] += sum(1 for _ in part.outcomes) * run.plan.per_image
        if progress:
            progress(done[0], run.plan.n_images * run.plan.per_image)

    for part in engine.map_image_parts(task, rest, on_part):
        run.absorb(part)
    run.seconds = time.perf_counter() - t0
    return run.report(label)


@dataclass
class ImagePart:
    """A part of a measurement to run elsewhere: the model (a path or its bytes), the images (a
    path or an ImageSet), the settings of :func:`measure`, and the output handler the first
    batch calibrated (so every part decides like one run would)."""

    model: object
    images: object
    settings: dict
    handler: object


def measure_part(task: ImagePart, indices) -> "PartResult":
    """Measure the images ``indices`` of ``task`` (another process or machine; the numbers are
    those the whole run gives them)."""
    return PartRunner(task).measure(indices)


class PartRunner:
    """The run of ``task`` opened once (model, session, images; the handler adopted), measuring
    one list of image indices after another: what a long-lived worker (a Ray actor) keeps
    between batches. Each :meth:`measure` gives what :func:`measure_part` gives for its indices."""

    def __init__(self, task: ImagePart):
        self.run, _label, _images = _open_run(task.model, task.images, **task.settings)
        self.run.adopt(task.handler)

    def measure(self, indices) -> "PartResult":
        """The :class:`PartResult` of the images ``indices`` alone."""
        self.run.begin_part()
        self.run.execute(list(indices))
        return self.run.part()


def _portable(model, loaded):
    """What a worker opens the model from: its file, else its bytes."""
    import onnx

    if loaded is not None and loaded.path is not None:
        return str(loaded.path)
    if isinstance(model, onnx.ModelProto):
        return model.SerializeToString()
    if loaded is not None and loaded.serialized is not None:
        return bytes(loaded.serialized)
    return model


def _open_run(model, images, *, provider, pairs_per_image, seed, input_size, preset, channel_order, batch_size,
              vertical, feeds, output, output_kind, threads, max_shift, pipeline, session=None, progress=None):
    """(the run, the model's label, the image set): arguments checked, model, session, images and
    the plan made."""
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
                        max_shift=max_shift, output_kind=output_kind)
    plan = Plan(len(imageset), pairs_per_image, seed, vertical, setup.shift_range)
    choice = choose_pipeline(pipeline, rs.provider, loaded, setup.spec)
    return _Run(rs, setup, plan, imageset, progress, choice, loaded, threads), label, imageset


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
    kind: str = "auto"
    outputs: int = 1

    @classmethod
    def make(cls, rs, loaded, imageset, *, input_size, preset, channel_order, batch_size, feeds, output,
             max_shift, output_kind="auto") -> "_Setup":
        inputs = rs.session.get_inputs()
        unknown = [k for k in (feeds or {}) if k not in {i.name for i in inputs}]
        if unknown:
            raise InputError(f"{param_item('feeds', unknown[0])}: the model has no input {unknown[0]!r} "
                             f"(inputs: {', '.join(i.name for i in inputs)})")
        spec = input_spec(inputs, input_size, feeds=(feeds or {}).keys(),
                          model=loaded.model if loaded is not None else None)
        extra, broadcast, feed_notes = prepare_feeds(dict(feeds or {}), inputs, spec)
        if spec.size_from == "chosen":
            spec = _checked_size(rs, spec, inputs, extra, broadcast)
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
        kind = _kind_for(output_kind, out_name, out_names)
        return cls(spec, normalize, shift_range, shift_from, batch, notes + feed_notes, out_name, extra, broadcast,
                   kind, len(out_names))


def _checked_size(rs, spec, inputs, extra, broadcast):
    """``spec`` at a chosen size that onnxruntime can run (:mod:`onnxsym.consistency.sizing`)."""
    from dataclasses import replace

    from .sizing import fit_chosen_size

    img = next(i for i in inputs if i.name == spec.name)
    axes = (2, 3) if spec.layout == "NCHW" else (1, 2)
    symbolic = [not (isinstance(img.shape[a], int) and img.shape[a] > 0) for a in axes]
    outputs = [rs.session.get_outputs()[0].name]

    def run_once(x):
        feed = {k: (np.ascontiguousarray(np.broadcast_to(v, (x.shape[0],) + v.shape[1:])) if k in broadcast else v)
                for k, v in extra.items()}
        rs.run({spec.name: x, **feed}, outputs)

    fitted, note = fit_chosen_size(run_once, spec, *symbolic)
    return replace(fitted, notes=fitted.notes + [note]) if note else fitted


@dataclass
class PartResult:
    """The outcomes of a run over part of the images, and what its handler saw."""

    outcomes: list
    vmin: float
    vmax: float
    binary_out_of_range: int
    inputs_run: int
    seconds: float
    decode_skipped: list
    upscaled: list


class _Run:
    """One measurement: the producer thread, the model runs, and the per-image comparisons."""

    def __init__(self, rs, setup: _Setup, plan: Plan, imageset, progress, choice, loaded=None, threads=None):
        self.rs, self.setup, self.plan, self.imageset, self.progress = rs, setup, plan, imageset, progress
        self.spec = setup.spec
        self.choice, self.loaded = choice, loaded
        self.device: DevicePath | None = None
        self.packer: BatchPacker | None = None
        if choice.used == "device":
            spec, per = setup.spec, plan.per_image
            variants = spec.batch or max(1, round(setup.batch / per)) * per
            base_size = (spec.height + plan.max_shift[0], spec.width + plan.max_shift[1])
            self.packer = BatchPacker(plan, variants, base_size, fixed=spec.batch is not None)
            self.device = DevicePath(loaded, spec, setup.normalize, setup.out_name, base_size,
                                     self.packer.slots_max, rs.provider, threads)
        self.handler: OutputHandler | None = None
        self.repeat = None
        self._expanded: dict = {}
        self.total = 0
        self._clear_measured()

    def _clear_measured(self) -> None:
        """Nothing measured yet: no outcomes, counts, time or chance sample."""
        self.chance_keep = ChanceSample(self.plan.n_images, self.plan.seed)
        self.pending: dict = {}
        self.outcomes: list = []      # one ImageOutcome per image compared
        self.done = self.inputs_run = self.skipped_now = 0
        self.decode_skipped: list = []
        self.upscaled: list = []
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

    def first_images(self) -> list:
        """The images whose variants make the first batch (the run learns the output from them)."""
        per = self.plan.per_image
        variants = self.packer.v if self.packer is not None else self.setup.batch
        return list(range(min(self.plan.n_images, -(-variants // per))))

    def adopt(self, handler) -> None:
        """Take the output handler another run learned (a part of a measurement: same numbers); a
        copy, so that what this run counts is its own even when the two share a process."""
        import copy

        self.handler = copy.copy(handler)
        if self.device is not None:
            self.device.open(self.handler, self.packer.aligned, self._full_proto)

    def execute(self, indices=None) -> None:
        """Run every batch the producer makes (of ``indices``, default every image); compare each
        image once all its variants are back."""
        q: queue.Queue = queue.Queue(maxsize=2)
        stop = threading.Event()
        t0 = time.perf_counter()
        self.total = (self.plan.n_images if indices is None else len(indices)) * self.plan.per_image
        if self.device is not None:
            target, args = device_producer, (self.plan, self.imageset, self.packer, self.device.upload)
        else:
            target, args = producer, (self.plan, self.imageset, self.spec, self.setup.normalize, self.setup.batch)
        worker = threading.Thread(target=target, daemon=True,
                                  args=(*args, q, stop, self.decode_skipped, self.upscaled, indices))
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
        self.seconds += time.perf_counter() - t0

    def begin_part(self) -> None:
        """Forget what an earlier part measured (outcomes, counts, time): the next :meth:`part`
        holds only what comes after, for :meth:`absorb` to add once."""
        self._clear_measured()
        self.handler.binary_out_of_range = 0

    def part(self) -> "PartResult":
        """What this run measured, to be absorbed by the run that reports (:meth:`absorb`)."""
        h = self.handler
        return PartResult(self.outcomes, h.vmin, h.vmax, h.binary_out_of_range, self.inputs_run, self.seconds,
                          self.decode_skipped, self.upscaled)

    def absorb(self, part: "PartResult") -> None:
        """Add a part measured elsewhere (same model, settings and handler) to this run."""
        h = self.handler
        self.outcomes.extend(part.outcomes)
        h.vmin, h.vmax = min(h.vmin, part.vmin), max(h.vmax, part.vmax)
        h.binary_out_of_range += part.binary_out_of_range
        self.inputs_run += part.inputs_run
        self.decode_skipped.extend(part.decode_skipped)
        self.upscaled.extend(part.upscaled)

    def _step(self, item) -> bool:
        """Handle one item from the producer; False at the end."""
        total = self.total
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
            kind, payload, slots, n_real = item
            recs = self._records(kind, payload, n_real)
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

    def _records(self, kind, payload, n_real) -> list:
        """Run one batch; its per-variant records. The first batch always runs on the plain
        session with host-made inputs: it tells what the output is (and the device path's
        session is built for that)."""
        if kind == "device" and self.handler is not None:
            self.inputs_run += len(payload[1])
            return self.device.records(payload, self._feed_for(len(payload[1])), n_real, self.handler)
        x = payload if kind != "device" else host_tensor(payload, self.setup.normalize)
        out = self._run_model(x)
        self.inputs_run += x.shape[0]
        if self.handler is None:
            self._first_batch(x, out, n_real)
            if self.device is not None:
                self.device.open(self.handler, self.packer.aligned, self._full_proto)
        return self.handler.records(np.asarray(out)[:n_real])

    def _full_proto(self):
        from .runtime import full_proto

        return full_proto(self.loaded)

    def _first_batch(self, x, out, n_real) -> None:
        """Learn what the output is; check that identical inputs give the same answer. With a
        dynamic batch a slice of up to 8 inputs is run twice (cheap); a fixed batch reruns it all."""
        self.handler = OutputHandler(self.setup.out_name, np.asarray(out)[:max(n_real, 1)], self.spec,
                                     kind=self.setup.kind, outputs=self.setup.outputs)
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
        self.outcomes.append(compare_image(i, self.imageset.names[i], recs, self.plan, self.handler,
                                           self.chance_keep))

    # ---- the report -----------------------------------------------------------------------------
    def report(self, label: str) -> ConsistencyReport:
        h, plan, spec, setup = self.handler, self.plan, self.spec, self.setup
        skipped = list(self.imageset.skipped) + self.decode_skipped
        outcomes = sorted(self.outcomes, key=lambda o: o.index)
        if not outcomes:
            raise InputError(f"none of the images in {self.imageset.source} could be read"
                             + (f" ({skipped[0][0]}: {skipped[0][1]})" if skipped else ""))
        shift_vals = [o.vals for o in outcomes]
        per_image = [o.result for o in outcomes]
        chance_keep = ChanceSample(plan.n_images, plan.seed)
        for o in outcomes:
            if o.centre is not None:
                chance_keep.add(o.index, h, o.centre)
        dprob = {"shift": [d for o in outcomes for d in o.dprob.get("shift", [])],
                 "flip": [o.dprob["flip"] for o in outcomes if o.dprob],
                 "vflip": [o.dprob["vflip"] for o in outcomes if o.dprob and o.dprob.get("vflip") is not None]}
        notes, warnings = setup.notes, []
        if h.kind == "spatial" and h.info.stride != (1.0, 1.0):
            sy, sx = h.info.stride
            notes.append(f"spatial output stride {sy:g}x{sx:g}: crop offsets that are not multiples of "
                         "the stride were aligned to the nearest output pixel")
        if h.cosine:
            exclude_flat(h, plan, shift_vals, per_image, [o.ranges for o in outcomes], notes, warnings,
                         [o.index for o in outcomes])
        if h.binary == "probability" and h.binary_out_of_range:
            warnings.append(f"the output was read as a probability (the first batch lay in [0, 1]) but "
                            f"{h.binary_out_of_range} later values fall outside [0, 1]: it may be a "
                            "logit, and the p > 0.5 decision wrong")
        shift, flip, vflip = summaries(h, plan, shift_vals, per_image, dprob["shift"], dprob["flip"],
                                       dprob["vflip"], notes)
        shift.max_shift = plan.max_shift
        shift.offsets = offsets_text(plan.max_shift)
        chance = chance_level(h, chance_keep, per_image)
        warnings += chance_warnings(chance, shift, flip, vflip)
        base_size = (spec.height + plan.max_shift[0], spec.width + plan.max_shift[1])
        self._closing_notes(notes, warnings, skipped, base_size, len(per_image))
        rs = self.device.rs if self.device is not None and self.device.rs is not None else self.rs
        return ConsistencyReport(
            model=label, provider=rs.provider, providers=rs.providers,
            provider_requested=rs.requested, providers_requested=rs.providers_requested,
            provider_fallback=rs.fallback, provider_note=rs.provider_note, input=spec, preset=setup.normalize.preset,
            preset_description=PRESETS[setup.normalize.preset][2], channel_order=setup.normalize.channel_order,
            output=h.info, image_source=self.imageset.source, images=len(per_image), skipped=skipped,
            seed=int(plan.seed), pairs_per_image=int(plan.pairs),
            batch_size=self.packer.v if self.packer is not None else setup.batch, shift=shift,
            flip=flip, flip_vertical=vflip, repeat=self.repeat, seconds=self.seconds, inputs_run=self.inputs_run,
            per_image=per_image, notes=notes, warnings=warnings, max_shift=plan.max_shift,
            max_shift_from=setup.shift_from, base_size=base_size, upscaled_images=len(self.upscaled), chance=chance,
            pipeline=self.choice)

    def _closing_notes(self, notes, warnings, skipped, base_size, n) -> None:
        h, repeat = self.handler, self.repeat
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


def _kind_for(output_kind, out_name: str, out_names: list) -> str:
    """The kind asked for the compared output: one for all, or ``{output name: kind}``."""
    if isinstance(output_kind, dict):
        unknown = [k for k in output_kind if k not in out_names]
        if unknown:
            raise InputError(f"{param_item('output_kind', unknown[0])}: the model has no output {unknown[0]!r} "
                             f"(outputs: {', '.join(out_names)})")
        kind = output_kind.get(out_name, "auto")
    else:
        kind = output_kind or "auto"
    if kind not in KINDS:
        raise InputError(f"{param('output_kind', kind)}: use one of {', '.join(KINDS)}")
    return kind


def _label(model) -> str:
    """How a report names a model given only as a label (with ``session=``)."""
    import os

    if isinstance(model, (str, os.PathLike)):
        return os.fspath(model)
    return IN_MEMORY
