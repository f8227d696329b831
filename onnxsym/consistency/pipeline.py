"""The batches: every image's variants cropped, mirrored and normalised on a producer thread
while onnxruntime runs the previous batch, and the memory bound on a batch."""
from __future__ import annotations

import numpy as np

from ..errors import InputError
from ..wording import param
from .images import UnreadableImage
from .preprocess import InputSpec, needs_upscale, resize_center_square

# Largest model-input tensor one run may need (the pipeline keeps a few such batches alive).
MAX_BATCH_BYTES = 1 << 30


def producer(plan, imageset, spec, normalize, batch, q, stop, skipped, upscaled, indices=None):
    """Build batches: ("batch", x, [(image, variant index)], n_real) and put them on the queue.

    ``upscaled``: a list the names of images smaller than the base are appended to; ``indices``:
    the images to run (default all, in order)."""
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
        for i in (range(plan.n_images) if indices is None else indices):
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


def device_producer(plan, imageset, packer, upload, q, stop, skipped, upscaled, indices=None):
    """The device path's batches (:mod:`.device`): ("device", (bases, plan rows, partners,
    device buffer), [(image, variant index)], n_real) on the queue; only the uint8 base images are
    made here, and copied to the device by ``upload(bases)`` while the previous batch runs."""
    base_size = packer.base_size
    try:
        def put(item):
            kind, payload, slots, n = item
            q.put((kind, (*payload, upload(payload[0])), slots, n))

        for i in (range(plan.n_images) if indices is None else indices):
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
            for item in packer.add(i, resize_center_square(img, base_size)):
                put(item)
        if packer.slots:
            put(packer.take())
        q.put(("end",))
    except BaseException as err:  # hand any failure to the consumer
        q.put(("error", err))


def fixed_batch(spec: InputSpec, batch_size):
    if spec.batch is not None:
        notes = []
        if batch_size and batch_size != spec.batch:
            notes.append(f"the model's batch dimension is fixed at {spec.batch}; "
                         f"{param('batch_size', batch_size)} ignored")
        return spec.batch, notes
    if batch_size is not None and batch_size < 1:
        raise InputError(f"{param('batch_size', batch_size)}: must be at least 1")
    return int(batch_size or 32), []


def _bytes(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if n < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TiB"  # pragma: no cover


def check_memory(spec: InputSpec, batch: int, batch_size, notes: list,
                  max_shift=(32, 32)) -> int:
    """Refuse input sizes whose batches would need an absurd amount of memory (exit 2); lower the
    default batch size when only it is too large. Returns the batch size to use."""
    h, w, c = spec.height, spec.width, spec.channels
    per_input = h * w * c * np.dtype(spec.dtype).itemsize
    base = (h + max_shift[0]) * (w + max_shift[1]) * 3      # the uint8 base image of one photo
    size = f"{h}x{w}"
    if per_input + base > MAX_BATCH_BYTES:
        raise InputError(f"input size {size}: one input alone needs {_bytes(per_input + base)} "
                         f"(limit {_bytes(MAX_BATCH_BYTES)} per batch); use a smaller {param('input_size')}")
    if batch * per_input <= MAX_BATCH_BYTES:
        return batch
    fit = max(1, MAX_BATCH_BYTES // per_input)
    if spec.batch is not None:
        raise InputError(f"input size {size}: the model's fixed batch of {batch} needs "
                         f"{_bytes(batch * per_input)} per run (limit {_bytes(MAX_BATCH_BYTES)}); "
                         f"use a smaller {param('input_size')}")
    if batch_size is not None:
        raise InputError(f"{param('batch_size', batch)} at input size {size} needs {_bytes(batch * per_input)} "
                         f"per run (limit {_bytes(MAX_BATCH_BYTES)}); use {param('batch_size', fit)}"
                         + (" or less" if fit > 1 else "") + ", "
                         f"or a smaller {param('input_size')}")
    notes.append(f"input size {size}: {batch} inputs per run would need {_bytes(batch * per_input)}; "
                 f"running {fit} per run instead")
    return int(fit)
