"""The device path: every variant cut, mirrored and normalised inside the onnxruntime session.

The host path (:mod:`.pipeline`) crops, mirrors and normalises each variant in numpy and uploads
float tensors. Here a prefix graph is merged in front of the model with ``onnx.compose`` (in
memory; nothing is written): the session takes the **uint8 base images** of a batch (resized and
centre-cropped to input + max_shift, a quarter of float32's bytes) and a small int64 *plan*, one
row per variant ``(base slot, y, x, mirrored left-right, mirrored upside-down)``, and makes the
crops with two GatherND (rows, then columns: per-variant offsets, exactly the host path's), the
channel order, ``x * scale + offset`` in float32 (the host's arithmetic, so the model sees
bit-identical inputs), the dtype and the layout. For classifiers a suffix reduces the output to
what the comparison needs: the top-1 of every variant and its probabilities at its own top-1 and
at its partners' (the other crop of its pair, the mirror of its centre crop), so only [V, 3]
floats come back instead of [V, classes]. Other outputs come back whole (their comparison needs
the map or the vector).

Which path runs is decided by :func:`choose_pipeline`; the offsets, the images and the
comparisons are the same on both, so are the numbers (tested on CPU).
"""
from __future__ import annotations

import numpy as np

from ..errors import InputError
from ..wording import param
from .results import PipelineChoice

PIPELINES = ("auto", "device", "host")
PREFIX = "osym_dev_"
#: the merged model is handed to onnxruntime serialised; protobuf caps a message at 2 GiB
MAX_MODEL_BYTES = 1_800_000_000
#: inputs of the merged model
BASES, PLAN, PARTNERS = PREFIX + "bases", PREFIX + "plan", PREFIX + "partners"
#: outputs of the classifier suffix: the top-1 [V] and the probabilities [V, 3] it is compared with
TOP1, PROBS = PREFIX + "top1", PREFIX + "probs"
#: device buffers of base images in flight (one run, two queued, one being filled)
RING = 4


def _opset(proto) -> int:
    return next((int(o.version) for o in proto.opset_import if o.domain in ("", "ai.onnx")), 0)


def device_obstacle(loaded, spec) -> str:
    """Why the device path cannot run this model ("" when it can)."""
    if loaded is None:
        return "a session was given, not the model"
    if spec.channels != 1 and spec.channels != 3:
        return f"{spec.channels}-channel input"
    if spec.channels == 1:
        return "a one-channel input (the grey conversion stays on the host)"
    if _opset(loaded.model) < 11:
        return f"opset {_opset(loaded.model)} (the device crops need GatherND, opset 11)"
    if loaded.size_bytes + loaded.external_bytes > MAX_MODEL_BYTES:
        return "a model over 1.8 GB (the merged graph is handed to onnxruntime in memory)"
    return ""


def choose_pipeline(requested: str, provider: str, loaded, spec) -> PipelineChoice:
    """The path for this run. ``auto``: the device path when the session runs on CUDA (the host
    path's per-batch upload of float crops is what limits it there), else the host path, which on
    the CPU overlaps cropping with inference on a producer thread (``bench/bench_pipeline.py``
    measures both)."""
    requested = (requested or "auto").lower()
    if requested not in PIPELINES:
        raise InputError(f"{param('pipeline', requested)}: use one of {', '.join(PIPELINES)}")
    obstacle = device_obstacle(loaded, spec)
    if requested == "device":
        if obstacle:
            raise InputError(f"{param('pipeline', 'device')}: not possible for this model: {obstacle}")
        return PipelineChoice("device", requested, "as requested")
    if requested == "host":
        return PipelineChoice("host", requested, "as requested")
    if provider != "cuda":
        return PipelineChoice("host", requested, f"the session runs on {provider}: the host path "
                                                  "overlaps cropping with inference")
    if obstacle:
        return PipelineChoice("host", requested, f"the device path cannot take {obstacle}")
    return PipelineChoice("device", requested, "the session runs on CUDA")


# ---- the graph -----------------------------------------------------------------------------------
class _Builder:
    """Nodes and constants of the prefix/suffix, named under :data:`PREFIX`."""

    def __init__(self):
        self.nodes, self.inits, self.k = [], [], 0

    def name(self, what: str) -> str:
        self.k += 1
        return f"{PREFIX}{what}_{self.k}"

    def const(self, value, dtype=np.int64) -> str:
        from onnx import numpy_helper

        n = self.name("c")
        self.inits.append(numpy_helper.from_array(np.asarray(value, dtype), n))
        return n

    def op(self, op_type: str, inputs, out: str | None = None, **attrs) -> str:
        from onnx import helper

        out = out or self.name(op_type.lower())
        self.nodes.append(helper.make_node(op_type, list(inputs), [out], **attrs))
        return out


def _crop_nodes(b: _Builder, spec, normalize, out_name: str) -> None:
    """plan [V, 5] + bases [NB, Hb, Wb, 3] -> the model's input tensor [V, ...] named ``out_name``."""
    from onnx import TensorProto

    h, w = spec.height, spec.width

    def column(k):   # plan[:, k] as [V, 1]
        return b.op("Reshape", [b.op("Gather", [PLAN, b.const(k)], axis=1), b.const([-1, 1])])

    def indices(first, offset, flipped, n):
        """[V, n, 2]: (first index, offset + i or offset + n-1-i) for i < n."""
        ar, rev = b.const(np.arange(n)[None]), b.const(np.arange(n)[::-1].copy()[None])
        cond = b.op("Cast", [flipped], to=TensorProto.BOOL)
        pos = b.op("Add", [offset, b.op("Where", [cond, rev, ar])])                # [V, n]
        pos3 = b.op("Reshape", [pos, b.const([-1, n, 1])])
        lead = b.op("Add", [b.op("Mul", [pos3, b.const(0)]), first])               # [V, n, 1]
        return b.op("Concat", [lead, pos3], axis=2)

    slot = b.op("Reshape", [b.op("Gather", [PLAN, b.const(0)], axis=1), b.const([-1, 1, 1])])
    variant = b.op("Reshape", [b.op("Range", [b.const(0), b.op("Gather", [b.op("Shape", [PLAN]), b.const(0)]),
                                              b.const(1)]), b.const([-1, 1, 1])])
    rows = b.op("GatherND", [BASES, indices(slot, column(1), column(4), h)])                 # [V, H, Wb, 3]
    cols = b.op("GatherND", [b.op("Transpose", [rows], perm=[0, 2, 1, 3]),
                             indices(variant, column(2), column(3), w)])                    # [V, W, H, 3]
    x = cols
    if normalize.channel_order == "bgr":
        x = b.op("Gather", [x, b.const([2, 1, 0])], axis=3)
    if spec.dtype != "uint8":
        x = b.op("Cast", [x], to=TensorProto.FLOAT)
        x = b.op("Mul", [x, b.const(normalize.scale, np.float32)])
        x = b.op("Add", [x, b.const(normalize.offset, np.float32)])
        if spec.dtype != "float32":
            to = {"float16": TensorProto.FLOAT16, "float64": TensorProto.DOUBLE}[spec.dtype]
            x = b.op("Cast", [x], to=to)
    b.op("Transpose", [x], out=out_name, perm=[0, 3, 2, 1] if spec.layout == "NCHW" else [0, 2, 1, 3])


def _suffix_nodes(b: _Builder, raw: str, softmax: bool) -> None:
    """raw [V, ...] -> top-1 [V] (:data:`TOP1`) and probabilities [V, 3] (:data:`PROBS`) at its
    own, its first and its second partner's top-1. ``softmax``: the host's softmax (in float64,
    then float32), else the values as they are, in float32."""
    from onnx import TensorProto

    flat = b.op("Flatten", [raw], axis=1)
    if softmax:
        probs = b.op("Cast", [b.op("Softmax", [b.op("Cast", [flat], to=TensorProto.DOUBLE)], axis=1)],
                     to=TensorProto.FLOAT)
    else:
        probs = b.op("Cast", [flat], to=TensorProto.FLOAT)
    top = b.op("ArgMax", [probs], out=TOP1, axis=1, keepdims=0)
    partner_tops = b.op("Gather", [top, PARTNERS], axis=0)                                  # [V, 2]
    need = b.op("Concat", [b.op("Reshape", [top, b.const([-1, 1])]), partner_tops], axis=1)  # [V, 3]
    b.op("GatherElements", [probs, need], out=PROBS, axis=1)


def build_device_model(proto, spec, normalize, out_name: str, base_size, softmax: bool | None):
    """The model with the crop prefix in front (inputs :data:`BASES`, :data:`PLAN`, plus the
    model's other inputs; output ``out_name``) and, unless ``softmax`` is None, the classifier
    suffix behind it (input :data:`PARTNERS`; outputs :data:`TOP1`, :data:`PROBS` instead)."""
    import onnx
    from onnx import TensorProto, helper

    x_name = PREFIX + "x"
    b = _Builder()
    _crop_nodes(b, spec, normalize, x_name)
    hb, wb = base_size
    inputs = [helper.make_tensor_value_info(BASES, TensorProto.UINT8, ["nb", hb, wb, 3]),
              helper.make_tensor_value_info(PLAN, TensorProto.INT64, ["v", 5])]
    elem = {"float32": TensorProto.FLOAT, "float16": TensorProto.FLOAT16, "float64": TensorProto.DOUBLE,
            "uint8": TensorProto.UINT8}[spec.dtype]
    pre_graph = helper.make_graph(b.nodes, PREFIX + "prefix", inputs,
                                  [helper.make_tensor_value_info(x_name, elem, None)], b.inits)
    # merge_graphs, not merge_models: the latter runs onnx.checker on the result, which refuses
    # some models onnxruntime runs (and every model over 2 GB)
    graph = onnx.compose.merge_graphs(pre_graph, proto.graph, io_map=[(x_name, spec.name)],
                                      outputs=[out_name])
    merged = onnx.ModelProto()
    merged.CopyFrom(proto)
    merged.graph.CopyFrom(graph)
    if softmax is not None:
        s = _Builder()
        s.k = b.k
        _suffix_nodes(s, out_name, softmax)
        g = merged.graph
        g.node.extend(s.nodes)
        g.initializer.extend(s.inits)
        g.input.append(helper.make_tensor_value_info(PARTNERS, TensorProto.INT64, ["v", 2]))
        del g.output[:]
        g.output.append(helper.make_tensor_value_info(TOP1, TensorProto.INT64, ["v"]))
        g.output.append(helper.make_tensor_value_info(PROBS, TensorProto.FLOAT, ["v", 3]))
    return merged


# ---- the batches ---------------------------------------------------------------------------------
def partners_of(plan, n_variants: int) -> np.ndarray:
    """[n_variants, 2]: the variants each variant of one image is compared with (indices within the
    image): pair a <-> b, centre -> (mirror, vertical mirror or mirror again), mirrors -> centre."""
    c = 2 * plan.pairs
    out = np.empty((n_variants, 2), np.int64)
    for p in range(plan.pairs):
        out[2 * p] = 2 * p + 1
        out[2 * p + 1] = 2 * p
    out[c] = (c + 1, c + 2 if plan.vertical else c + 1)
    out[c + 1:] = c
    return out


class BatchPacker:
    """Fills the plan, partners and bases of device batches, whole images at a time when the batch
    holds whole images (then every comparison stays inside one batch and the classifier suffix
    can run), else variant by variant like the host path."""

    def __init__(self, plan, variants: int, base_size, fixed: bool):
        self.plan, self.v = plan, int(variants)
        self.per = plan.per_image
        self.aligned = self.v % self.per == 0
        self.slots_max = -(-self.v // self.per) + 1
        self.base_size = tuple(base_size)
        self.fixed = fixed
        self.partners_one = partners_of(plan, self.per)
        self._new()

    def _new(self):
        hb, wb = self.base_size
        self.bases = np.zeros((self.slots_max, hb, wb, 3), np.uint8)
        self.rows = np.zeros((self.v, 5), np.int64)
        self.partners = np.zeros((self.v, 2), np.int64)
        self.slot_of: dict = {}
        self.slots: list = []

    def add(self, i: int, base: np.ndarray):
        """Add every variant of image ``i``; yields each full batch (see :meth:`take`)."""
        for v, (y, x, flip) in enumerate(self.plan.variants(i)):
            if i not in self.slot_of:
                self.slot_of[i] = len(self.slot_of)
                self.bases[self.slot_of[i]] = base
                self._first = len(self.slots) - v   # row of this image's variant 0 (may be < 0)
            n = len(self.slots)
            self.rows[n] = (self.slot_of[i], y, x, 1 if flip == 1 else 0, 1 if flip == 2 else 0)
            self.partners[n] = np.clip(self._first + self.partners_one[v], 0, self.v - 1)
            self.slots.append((i, v))
            if len(self.slots) == self.v:
                yield self.take()

    def take(self):
        """("device", (bases, plan rows, partners), slots, n_real) for the variants added so far
        (bases: all :attr:`slots_max` slots, unused ones zero, so the device buffers keep one
        shape); a fixed batch is padded with copies of the last row."""
        n = len(self.slots)
        if self.fixed and n < self.v:
            self.rows[n:] = self.rows[n - 1]
            self.partners[n:] = self.partners[n - 1]
            m = self.v
        else:
            m = n
        item = ("device", (self.bases, self.rows[:m], self.partners[:m]), self.slots, n)
        self._new()
        return item


def host_tensor(payload, normalize) -> np.ndarray:
    """The model input the host path makes for the variants of a device batch (the first batch
    runs so, on the plain session, to learn what the output is)."""
    bases, rows = payload[0], payload[1]
    if normalize.fused:
        x = normalize.new_batch(len(rows))
        for k, (slot, y, xx, fh, fv) in enumerate(rows):
            normalize.crop_into(x[k], bases[slot], int(y), int(xx), 1 if fh else (2 if fv else 0))
        return x
    h, w = normalize.spec.height, normalize.spec.width
    crops = np.empty((len(rows), h, w, 3), np.uint8)
    for k, (slot, y, xx, fh, fv) in enumerate(rows):
        crop = bases[slot][y:y + h, xx:xx + w]
        crops[k] = crop[:, ::-1] if fh else (crop[::-1] if fv else crop)
    return normalize(crops)


class DevicePath:
    """The merged session of one measurement and how a batch runs on it.

    Opened (:meth:`open`) after the first batch has run on the plain session, when the output's
    kind is known: classifiers get the suffix (only [V, 3] probabilities come back), other outputs
    come back whole. The base images travel in a ring of :data:`RING` preallocated onnxruntime
    buffers on the session's device, filled by the producer thread (:meth:`upload`) while the
    previous batch runs; the plan, partners and extra inputs are bound from host memory."""

    def __init__(self, loaded, spec, normalize, out_name: str, base_size, slots: int, provider: str,
                 threads: int | None):
        import onnxruntime as ort

        self.loaded, self.spec, self.normalize, self.out_name = loaded, spec, normalize, out_name
        self.base_size, self.provider, self.threads = tuple(base_size), provider, threads
        self.device = "cuda" if provider == "cuda" else "cpu"
        shape = (slots, self.base_size[0], self.base_size[1], 3)
        self.ring = [ort.OrtValue.ortvalue_from_shape_and_type(shape, np.uint8, self.device, 0) for _ in range(RING)]
        self.k = 0
        self.rs = None
        self.suffix = False

    def upload(self, bases: np.ndarray):
        """Copy one batch's base images into the next device buffer; returns that buffer."""
        value = self.ring[self.k % RING]
        self.k += 1
        value.update_inplace(np.ascontiguousarray(bases))
        return value

    def open(self, handler, aligned: bool, load_proto) -> None:
        """Build the merged model and its session; ``load_proto()`` gives the full ModelProto."""
        from .runtime import create_session

        classifier = handler.kind == "classifier" and not handler.binary
        self.suffix = classifier and aligned
        softmax = bool(getattr(handler, "softmax", False)) if self.suffix else None
        merged = build_device_model(load_proto(), self.spec, self.normalize, self.out_name, self.base_size,
                                    softmax)
        self.rs = create_session(merged, self.provider, threads=self.threads)

    def records(self, payload, feed: dict, n_real: int, handler) -> list:
        """Per-variant records of one batch (:class:`~onnxsym.consistency.outputs.ClassRecord`
        with the suffix, else the handler's records of the whole output)."""
        from .outputs import ClassRecord

        bases, rows, partners, value = payload
        io = self.rs.session.io_binding()
        io.bind_ortvalue_input(BASES, value)
        io.bind_cpu_input(PLAN, rows)
        for name, v in feed.items():
            io.bind_cpu_input(name, np.ascontiguousarray(v))
        if self.suffix:
            io.bind_cpu_input(PARTNERS, partners)
            io.bind_output(TOP1, "cpu")
            io.bind_output(PROBS, "cpu")
        else:
            io.bind_output(self.out_name, "cpu")
        self.rs.run_with_iobinding(io)
        out = io.copy_outputs_to_cpu()
        if not self.suffix:
            return handler.records(np.asarray(out[0])[:n_real])
        tops, probs = out[0][:n_real], out[1][:n_real]
        mates = partners[:n_real]
        return [ClassRecord(int(tops[k]), {int(tops[k]): float(probs[k, 0]), int(tops[mates[k, 0]]): float(probs[k, 1]),
                                           int(tops[mates[k, 1]]): float(probs[k, 2])})
                for k in range(n_real)]
