"""Shapes and layout of a model's image input, and cheap repeated shape inference.

* :func:`parse_shape` reads ``1x3x224x224`` (also ``1,3,224,224`` or a sequence of ints).
* :func:`find_image_inputs` lists the inputs that carry images: 3-D, 4-D or 5-D float (or
  uint8) graph inputs from which a convolution or pool can be reached — also one inside an
  If/Loop/Scan body, by outer-scope reference or as a Loop/Scan initial value
  (:func:`find_image_input`: the first). :func:`reach` gives every tensor an input feeds.
* :func:`trace_layout` follows that input through layout-preserving ops and Transposes to the
  first convolution or pool and so learns which input axes are batch, channels and spatial
  (``NCHW``, or ``NHWC`` for tf2onnx exports with a Transpose in front of the convs).
* :class:`ShapeOracle` runs ONNX shape inference on a *skeleton* of the model — the same graph
  with every large tensor payload cut off (dims and types kept) — so inference costs about a
  millisecond per run on MobileNetV2/ResNet-50, never touches weights, and works for models
  over 2 GB. It is re-run per candidate input size by the padding suggestions;
  ``infer_checked`` adds a strict run whose errors (:class:`ShapeProblem`: e.g. an Add that
  cannot broadcast an upsampled branch with its skip connection) mark sizes the network cannot
  run at. Loop bodies get the first iteration's sizes of their carried values.
"""
from __future__ import annotations

import os
import re
from collections import deque
from dataclasses import dataclass

import onnx
from onnx import AttributeProto, TensorProto

from .errors import InputError
from .loading import type_name
from .graphwalk import CHANNELS_LAST_OPS, POOL_OPS, op_key
from .graphwalk import CONV_OPS as _ALL_CONV_OPS

__all__ = [
    "parse_shape", "ImageInput", "find_image_input", "find_image_inputs", "reach", "trace_layout", "ShapeOracle", "ShapeProblem", "parse_problems", "as_model_proto",
    "CONV_OPS", "POOL_OPS", "LAYER_OPS",
]

#: conv-like ops whose padding is diagnosed (the weights' table less the channels-last ones)
CONV_OPS = {k: v for k, v in _ALL_CONV_OPS.items() if k not in CHANNELS_LAST_OPS}
LAYER_OPS = set(CONV_OPS) | POOL_OPS

_FLOATS = {TensorProto.FLOAT, TensorProto.FLOAT16, TensorProto.BFLOAT16, TensorProto.DOUBLE}
_IMAGE_TYPES = _FLOATS | {TensorProto.UINT8}

# Ops that keep the axes of their first input where they were (elementwise, normalisation,
# resampling, quantisation, padding): the layout trace walks through them.
_PRESERVING = {
    "Identity", "Cast", "CastLike", "Relu", "LeakyRelu", "PRelu", "Elu", "Selu", "Celu", "Sigmoid",
    "HardSigmoid", "HardSwish", "Tanh", "Softplus", "Softsign", "Mish", "Gelu", "Erf", "Clip", "Abs",
    "Neg", "Sqrt", "Exp", "Log", "Floor", "Ceil", "Round", "Reciprocal", "Sign", "Not", "Add", "Sub",
    "Mul", "Div", "Pow", "Min", "Max", "Mean", "Sum", "Where", "BatchNormalization",
    "InstanceNormalization", "LpNormalization", "Dropout", "Pad", "Resize", "Upsample",
    "QuantizeLinear", "DequantizeLinear", "DynamicQuantizeLinear", "Concat", "Shrink", "ThresholdedRelu",
    "BitShift", "Mod", "Affine", "ScaledTanh", "Sin", "Cos",
}

_LETTERS = {3: "NCW", 4: "NCHW", 5: "NCDHW"}
MAX_DIM = (1 << 63) - 1   # ONNX dims are int64


def as_model_proto(model) -> tuple[onnx.ModelProto, object]:
    """``(ModelProto, source)`` for a path, a LoadedModel or a ModelProto.

    ``source`` is what was given once loaded (a LoadedModel where the loader was used), so a
    caller can hand it on (e.g. to ``analyze_weights``) without loading twice.
    """
    if isinstance(model, onnx.ModelProto):
        return model, model
    inner = getattr(model, "model", None)
    if isinstance(inner, onnx.ModelProto):
        return inner, model
    if isinstance(model, (str, bytes, os.PathLike)):
        from .loading import load_model

        loaded = load_model(model)
        return loaded.model, loaded
    raise InputError(f"expected a model path, LoadedModel or onnx.ModelProto, got {type(model).__name__}")


# --------------------------------------------------------------------------------------------
# Shapes given by the user
# --------------------------------------------------------------------------------------------
def parse_shape(shape) -> tuple[int, ...]:
    """``"1x3x224x224"`` / ``"1,3,224,224"`` / ``(1, 3, 224, 224)`` -> tuple of positive ints."""
    if shape is None:
        raise InputError("no input shape given")
    if isinstance(shape, str):
        text = shape.strip()
        parts = [p.strip() for p in re.split(r"[x×X,*\s]+", text) if p.strip()] if text else []
        if not parts:
            raise InputError(f"cannot parse input shape {shape!r}: expected e.g. 1x3x224x224")
        dims = []
        for p in parts:
            try:
                dims.append(int(p))
            except ValueError:
                raise InputError(f"cannot parse input shape {shape!r}: {p!r} is not an integer "
                                 "(expected e.g. 1x3x224x224)") from None
    else:
        try:
            dims = [int(d) for d in shape]
        except (TypeError, ValueError):
            raise InputError(f"cannot parse input shape {shape!r}: expected a sequence of integers") from None
        if any(isinstance(d, float) and not float(d).is_integer() for d in shape):
            raise InputError(f"cannot parse input shape {shape!r}: sizes must be integers")
    bad = [d for d in dims if d <= 0]
    if bad:
        raise InputError(f"input shape {_fmt(dims)} has a zero or negative size ({bad[0]}); "
                         "every size must be at least 1")
    huge = [d for d in dims if d > MAX_DIM]
    if huge:
        raise InputError(f"input shape: size {huge[0]} is larger than ONNX dims allow (int64, at most {MAX_DIM})")
    if len(dims) > 8:
        raise InputError(f"input shape {_fmt(dims)} has {len(dims)} dims; image inputs have 3 to 5")
    return tuple(dims)


def _fmt(dims) -> str:
    return "x".join("?" if d is None else str(d) for d in dims)


# --------------------------------------------------------------------------------------------
# The image input and its layout
# --------------------------------------------------------------------------------------------
@dataclass
class ImageInput:
    """The graph input that carries the image.

    Attributes
    ----------
    name : str
    elem_type : str
        ONNX element type name (``FLOAT``, ``FLOAT16``, ``UINT8``…).
    declared : tuple
        The dims as the model declares them: int, a symbolic name (str), or None (unknown);
        None for the whole tuple when the model declares no shape at all.
    layout : str or None
        ``"NCHW"``, ``"NHWC"`` (rank 4), ``"NCW"``/``"NWC"`` (rank 3), ``"NCDHW"``/``"NDHWC"``
        (rank 5) or another arrangement of those letters; None when it could not be traced.
    layout_source : str
        ``"graph"`` (traced through the graph to the first conv/pool), ``"given"``, or ``""``.
    batch_axis, channel_axis : int or None
    spatial_axes : tuple of int
        Input axes that become the spatial axes of the first conv/pool, in the conv's order.
    """

    name: str
    elem_type: str
    declared: tuple | None
    layout: str | None = None
    layout_source: str = ""
    batch_axis: int | None = None
    channel_axis: int | None = None
    spatial_axes: tuple = ()

    @property
    def rank(self) -> int | None:
        return None if self.declared is None else len(self.declared)

    def declared_text(self) -> str:
        if self.declared is None:
            return "(no shape declared)"
        return "x".join("?" if d is None else str(d) for d in self.declared)


def _declared(vi: onnx.ValueInfoProto):
    tt = vi.type.tensor_type
    if not tt.HasField("shape"):
        return None
    out = []
    for d in tt.shape.dim:
        if d.HasField("dim_value"):
            out.append(int(d.dim_value))
        elif d.HasField("dim_param") and d.dim_param:
            out.append(d.dim_param)
        else:
            out.append(None)
    return tuple(out)


def _subgraphs(node):
    for a in node.attribute:
        if a.type == AttributeProto.GRAPH:
            yield a.name, a.g
        elif a.type == AttributeProto.GRAPHS:
            for g in a.graphs:
                yield a.name, g


def _all_nodes(graph):
    """Every node of ``graph`` and of its nested subgraphs (If/Loop/Scan bodies)."""
    for node in graph.node:
        yield node
        for _name, g in _subgraphs(node):
            yield from _all_nodes(g)


def _consumers(graph: onnx.GraphProto) -> dict[str, list[tuple[onnx.NodeProto, int]]]:
    """Tensor name -> [(consuming node, input index)] over ``graph`` and its subgraphs.

    A node inside an If/Loop/Scan body that reads an outer-scope name by reference is listed as
    a consumer of that name (value names are unique across a model's scopes)."""
    out: dict[str, list] = {}
    for node in _all_nodes(graph):
        for k, name in enumerate(node.input):
            if name:
                out.setdefault(name, []).append((node, k))
    return out


def _links(graph: onnx.GraphProto) -> dict[str, list[str]]:
    """Edges along which a value passes unchanged into or out of a subgraph.

    Loop: initial value ``input[k]`` (k >= 2) -> body input k; body output j (j >= 1, a carried
    value) -> Loop output j-1. If: branch output i -> If output i. Scan: state variables as Loop.
    """
    out: dict[str, list] = {}

    def add(src, dst):
        if src and dst:
            out.setdefault(src, []).append(dst)

    for node in _all_nodes(graph):
        if node.domain not in ("", "ai.onnx"):
            continue
        subs = dict(_subgraphs(node)) if node.op_type != "If" else None
        if node.op_type == "If":
            for _name, g in _subgraphs(node):
                for i, vo in enumerate(g.output):
                    if i < len(node.output):
                        add(vo.name, node.output[i])
        elif node.op_type == "Loop" and "body" in subs:
            body = subs["body"]
            carried = len(node.input) - 2
            for k in range(2, len(node.input)):
                if k < len(body.input):
                    add(node.input[k], body.input[k].name)
            for j in range(1, 1 + carried):
                if j < len(body.output) and j - 1 < len(node.output):
                    add(body.output[j].name, node.output[j - 1])
        elif node.op_type == "Scan" and "body" in subs:
            body = subs["body"]
            nscan = next((a.i for a in node.attribute if a.name == "num_scan_inputs"), 0)
            nstate = len(node.input) - nscan
            for k in range(nstate):
                if k < len(body.input):
                    add(node.input[k], body.input[k].name)
                if k < len(body.output) and k < len(node.output):
                    add(body.output[k].name, node.output[k])
    return out


def _is_layer(node) -> bool:
    return op_key(node) in LAYER_OPS


def _holds_layer(graph) -> bool:
    for node in graph.node:
        if _is_layer(node):
            return True
        for a in node.attribute:
            if a.type == AttributeProto.GRAPH and _holds_layer(a.g):
                return True
            if a.type == AttributeProto.GRAPHS and any(_holds_layer(g) for g in a.graphs):
                return True
    return False


def _layer_holders(model) -> set:
    """(domain, name) of model-local functions whose bodies hold a conv or pool."""
    return {(f.domain, f.name) for f in model.functions if _holds_layer(f)}


def _downstream(start: str, consumers: dict, links: dict, through_layers: bool = True):
    """Breadth-first walk from tensor ``start``: yields each reached tensor name and its
    ``(node, input index)`` consumers (``links`` adds edges into subgraphs). With
    ``through_layers=False`` the walk does not continue past a conv or pool reached through
    another input than its data input (a DeformConv's offsets are not its image)."""
    seen = {start}
    todo = deque([start])
    while todo:
        name = todo.popleft()
        users = list(consumers.get(name, ()))
        yield name, users
        outs = [o for node, k in users if through_layers or k == 0 or not _is_layer(node) for o in node.output]
        for out in [*links.get(name, ()), *outs]:
            if out and out not in seen:
                seen.add(out)
                todo.append(out)


def _reaches_layer(graph, consumers, start: str, holders=frozenset(), links=None) -> bool:
    """True when ``start`` reaches the data input of a conv or pool (or a function holding one)."""
    links = links if links is not None else _links(graph)
    return any((_is_layer(node) and k == 0) or (node.domain, node.op_type) in holders
               for _name, users in _downstream(start, consumers, links, through_layers=False)
               for node, k in users)


def reach(model: onnx.ModelProto, start: str, consumers=None, links=None) -> set:
    """Every tensor name whose value depends on ``start`` (through subgraphs too)."""
    consumers = consumers if consumers is not None else _consumers(model.graph)
    links = links if links is not None else _links(model.graph)
    return {name for name, _users in _downstream(start, consumers, links)}


def find_image_inputs(model: onnx.ModelProto, given_rank: int | None = None) -> list[ImageInput]:
    """Every graph input that is 3-D/4-D/5-D float or uint8 and feeds a conv or pool (also one
    inside an If/Loop/Scan body), in graph-input order.

    ``given_rank`` stands in for the rank of inputs that declare no shape at all.
    """
    graph = model.graph
    inits = {t.name for t in graph.initializer} | {t.values.name for t in graph.sparse_initializer}
    consumers = _consumers(graph)
    links = _links(graph)
    holders = _layer_holders(model)
    found = []
    for vi in graph.input:
        if vi.name in inits or not vi.type.HasField("tensor_type"):
            continue
        et = vi.type.tensor_type.elem_type
        if et not in _IMAGE_TYPES:
            continue
        declared = _declared(vi)
        rank = len(declared) if declared is not None else given_rank
        if rank not in (3, 4, 5):
            continue
        if not _reaches_layer(graph, consumers, vi.name, holders, links):
            continue
        found.append(ImageInput(name=vi.name, elem_type=TensorProto.DataType.Name(et), declared=declared))
    return found


def find_image_input(model: onnx.ModelProto, given_rank: int | None = None) -> ImageInput | None:
    """The first of :func:`find_image_inputs`, or None."""
    found = find_image_inputs(model, given_rank)
    return found[0] if found else None


def describe_inputs(model: onnx.ModelProto) -> str:
    inits = {t.name for t in model.graph.initializer}
    parts = []
    for vi in model.graph.input:
        if vi.name in inits:
            continue
        tt = vi.type.tensor_type
        et = type_name(tt.elem_type) if vi.type.HasField("tensor_type") else "non-tensor"
        d = _declared(vi) if vi.type.HasField("tensor_type") else None
        parts.append(f"{vi.name} [{et}, {'?' if d is None else str(len(d)) + '-D'}]")
    return ", ".join(parts) or "none"


def _perm(node, rank):
    for a in node.attribute:
        if a.name == "perm":
            return list(a.ints)
    return list(range(rank))[::-1]


def graph_index(model: onnx.ModelProto) -> tuple:
    """``(consumers, links)`` of the main graph, built once for :func:`reach` and
    :func:`trace_layout` calls over many inputs."""
    return _consumers(model.graph), _links(model.graph)


def trace_layout(model: onnx.ModelProto, image: ImageInput, rank: int, index=None) -> ImageInput:
    """Fill ``image.layout``/axes by following the input to the first conv or pool.

    Walks breadth-first through layout-preserving ops (elementwise, normalisation, Pad, Resize,
    Q/DQ, Concat) and Transposes (whose ``perm`` moves the axes); any other op ends the walk.
    The first conv/pool reached fixes the layout: its input is NC<spatial> by the ONNX spec.
    """
    consumers, links = index if index is not None else graph_index(model)
    start = list(range(rank))
    maps = {image.name: start}
    todo = deque([image.name])
    while todo:
        name = todo.popleft()
        amap = maps[name]
        for out in links.get(name, ()):  # into a Loop/Scan body, out of a subgraph: unchanged
            if out not in maps:
                maps[out] = amap
                todo.append(out)
        for node, k in consumers.get(name, ()):
            if _is_layer(node):
                if k != 0:
                    continue
                batch, channel, spatial = amap[0], amap[1], tuple(amap[2:])
                letters = _LETTERS.get(rank)
                if letters is None or None in amap:
                    continue
                text = [""] * rank
                for conv_axis, in_axis in enumerate(amap):
                    text[in_axis] = letters[conv_axis]
                image.layout = "".join(text)
                image.layout_source = "graph"
                image.batch_axis, image.channel_axis, image.spatial_axes = batch, channel, spatial
                return image
            op = node.op_type
            if node.domain not in ("", "ai.onnx"):
                continue
            if op == "Transpose":
                perm = _perm(node, len(amap))
                if sorted(perm) != list(range(len(amap))):
                    continue
                new = [amap[p] for p in perm]
            elif op in _PRESERVING:
                if op == "Concat" or k == 0 or op in ("Add", "Sub", "Mul", "Div", "Pow", "Min", "Max",
                                                       "Mean", "Sum", "Where", "PRelu", "Mod"):
                    new = amap
                else:
                    continue
            else:
                continue
            for out in node.output[:1]:
                if out and out not in maps:
                    maps[out] = new
                    todo.append(out)
    return image


def apply_layout(image: ImageInput, layout: str) -> ImageInput:
    """Set the layout the user gave (``NCHW``, ``NHWC``, ``NCW``, ``NDHWC``…)."""
    text = layout.strip().upper()
    rank = image.rank or len(text)
    letters = _LETTERS.get(rank)
    if letters is None or len(text) != rank or sorted(text) != sorted(letters):
        want = " or ".join(sorted({letters, "N" + letters[2:] + "C"})) if letters else "NCHW or NHWC"
        raise InputError(f"layout {layout!r} does not fit input {image.name!r} ({image.declared_text()}): "
                         f"expected {want}")
    image.layout = text
    image.layout_source = "given"
    image.batch_axis = text.index("N")
    image.channel_axis = text.index("C")
    image.spatial_axes = tuple(text.index(c) for c in letters[2:])
    return image


# --------------------------------------------------------------------------------------------
# Repeated shape inference on a skeleton
# --------------------------------------------------------------------------------------------
_KEEP_ELEMENTS = 4096  # tensors up to this many elements keep their data (shapes, scalars, scales)
_DATA_FIELDS = ("raw_data", "float_data", "int32_data", "int64_data", "double_data", "uint64_data",
                "string_data")


def _strip_tensor(t: TensorProto):
    n = 1
    for d in t.dims:
        n *= d
    if n <= _KEEP_ELEMENTS:
        return
    for f in _DATA_FIELDS:
        t.ClearField(f)
    t.data_location = TensorProto.EXTERNAL
    del t.external_data[:]
    e = t.external_data.add()
    e.key, e.value = "location", "__onnxsym_skeleton__"


def _strip_graph(graph):
    if isinstance(graph, onnx.GraphProto):
        for t in graph.initializer:
            _strip_tensor(t)
        for s in graph.sparse_initializer:
            _strip_tensor(s.values)
            _strip_tensor(s.indices)
        del graph.value_info[:]
    for node in graph.node:
        for a in node.attribute:
            if a.type == AttributeProto.TENSOR:
                _strip_tensor(a.t)
            elif a.type == AttributeProto.TENSORS:
                for t in a.tensors:
                    _strip_tensor(t)
            elif a.type == AttributeProto.GRAPH:
                _strip_graph(a.g)
            elif a.type == AttributeProto.GRAPHS:
                for g in a.graphs:
                    _strip_graph(g)


def _dims(vi) -> tuple | None:
    if not vi.type.HasField("tensor_type") or not vi.type.tensor_type.HasField("shape"):
        return None
    return tuple(int(d.dim_value) if d.HasField("dim_value") else None
                 for d in vi.type.tensor_type.shape.dim)


def _collect(graph, out: dict):
    for vi in list(graph.input) + list(graph.value_info) + list(graph.output):
        d = _dims(vi)
        if d is not None and (vi.name not in out or out[vi.name] is None or None in out[vi.name]):
            out[vi.name] = d
    for t in graph.initializer:
        out.setdefault(t.name, tuple(int(x) for x in t.dims))
    for node in graph.node:
        if node.op_type == "Constant" and node.output:
            for a in node.attribute:
                if a.name == "value" and a.type == AttributeProto.TENSOR:
                    out.setdefault(node.output[0], tuple(int(x) for x in a.t.dims))
        for a in node.attribute:
            if a.type == AttributeProto.GRAPH:
                _collect(a.g, out)
            elif a.type == AttributeProto.GRAPHS:
                for g in a.graphs:
                    _collect(g, out)


@dataclass
class ShapeProblem:
    """One error of strict ONNX shape inference: where the network's shapes do not fit."""

    op_type: str
    node: str
    kind: str       # ShapeInferenceError, TypeInferenceError…
    message: str

    @property
    def key(self) -> tuple:
        return (self.op_type, self.node, self.kind)

    def where(self) -> str:
        if self.node:
            return f"{self.op_type} node {self.node!r}"
        return f"{'an' if self.op_type[:1] in 'AEIOU' else 'a'} {self.op_type} node"

    def text(self) -> str:
        return f"{self.where()}: {self.message}"


_PROBLEM = re.compile(r"\(op_type:([^,)]*)(?:, node name: ([^\n]*?))?\): \[(\w+)\] ([^\n]*)")
_CASCADE = ("expected to have type but instead is null",)


def parse_problems(text: str) -> list[ShapeProblem]:
    """The errors in an ``onnx.shape_inference.InferenceError`` message, cascades left out
    (a node whose input got no type because an earlier node failed)."""
    out = []
    for m in _PROBLEM.finditer(text):
        msg = " ".join(m.group(4).split())
        if any(c in msg for c in _CASCADE):
            continue
        out.append(ShapeProblem(m.group(1).strip(), (m.group(2) or "").strip(), m.group(3), msg[:200]))
    if not out and text.strip():
        out.append(ShapeProblem("?", "", "InferenceError", " ".join(text.split())[:200]))
    return out


def _set_dims(vi, dims):
    shp = vi.type.tensor_type.shape
    shp.ClearField("dim")
    for d in dims:
        dim = shp.dim.add()
        if isinstance(d, int):
            dim.dim_value = d
        elif isinstance(d, str):
            dim.dim_param = d


def _loops(graph, out):
    """(Loop node, body) pairs of ``graph`` and its subgraphs, outer first; strips declared
    shapes of subgraph outputs (stale export-time sizes must not clash with new ones)."""
    for node in graph.node:
        for name, g in _subgraphs(node):
            for vi in g.output:
                if vi.type.HasField("tensor_type"):
                    vi.type.tensor_type.ClearField("shape")
            if node.op_type == "Loop" and name == "body" and node.domain in ("", "ai.onnx"):
                out.append((node, g))
            _loops(g, out)
    return out


class ShapeOracle:
    """Shape inference on a skeleton of ``model``, re-runnable with different input shapes.

    ``infer({input_name: dims})`` returns ``{tensor name: dims}`` (ints, None where unknown) over
    the main graph and its subgraphs. Declared output shapes (also of subgraphs) and stored
    value_info are dropped from the skeleton so that stale shapes from the export cannot
    conflict with new sizes.

    Loop bodies: ONNX shape inference does not carry the initial values' shapes into a Loop
    body (a loop-carried value may change size per iteration); it uses the body's declared input
    shapes, stale when the input size changes. So for models with Loops a first pass infers the
    initial values and writes their shapes into the body inputs (the first iteration's sizes),
    then a second pass infers the bodies. ``loop_notes`` says where a carried value's size
    changes across iterations.

    ``infer_checked`` also runs strict inference and returns its :class:`ShapeProblem` list
    (e.g. an Add whose inputs cannot broadcast at this size).

    Opset < 14: ONNX shape inference cannot follow a Reshape whose target shape is computed from
    Shape ops (Reshape-5/13 read only constant shapes; Reshape-14 uses propagated data), so every
    layer after such a Reshape would be of unknown size (PP-OCRv4 rec's SVTR neck). When the
    model has a Reshape with a computed shape, the skeleton is converted to opset 14 with
    onnx's version converter (tensor names kept); ``upgraded_from``/``upgraded_to`` say so. If
    the conversion fails or renames tensors, the original is used.
    """

    def __init__(self, model: onnx.ModelProto):
        skel = onnx.ModelProto()
        skel.CopyFrom(model) if model.ByteSize() < (1 << 26) else self._copy_light(skel, model)
        _strip_graph(skel.graph)
        for fn in skel.functions:
            _strip_graph(fn)
        for vi in skel.graph.output:
            if vi.type.HasField("tensor_type"):
                vi.type.tensor_type.ClearField("shape")
        self.upgraded_from = self.upgraded_to = None
        skel = self._upgrade(skel)
        self.skeleton = skel
        self._inputs = {vi.name: vi for vi in skel.graph.input}
        self._loops = _loops(skel.graph, [])
        self._loop_inputs = [[(k, onnx.ValueInfoProto.FromString(body.input[k].SerializeToString()))
                              for k in range(2, min(len(node.input), len(body.input)))]
                             for node, body in self._loops]
        self.loop_notes: list[str] = []

    def _upgrade(self, skel):
        """``skel`` converted to opset 14 where that lets inference follow computed Reshape
        shapes; else ``skel`` itself."""
        version = next((o.version for o in skel.opset_import if o.domain in ("", "ai.onnx")), None)
        if version is None or version >= 14 or skel.functions:
            return skel
        consts = {t.name for t in skel.graph.initializer}
        consts |= {o for n in skel.graph.node if n.op_type == "Constant" for o in n.output}
        if not any(n.op_type == "Reshape" and len(n.input) > 1 and n.input[1] not in consts
                   for n in skel.graph.node):
            return skel
        try:
            from onnx import version_converter

            up = version_converter.convert_version(skel, 14)
        except Exception:  # noqa: BLE001 - keep the original opset
            return skel
        names = {o for n in skel.graph.node for o in n.output}
        new = {o for n in up.graph.node for o in n.output}
        if not names <= new or [i.name for i in up.graph.input] != [i.name for i in skel.graph.input]:
            return skel
        del up.graph.value_info[:]  # the converter's own inference: stale at other sizes
        for vi in up.graph.output:
            if vi.type.HasField("tensor_type"):
                vi.type.tensor_type.ClearField("shape")
        self.upgraded_from, self.upgraded_to = version, 14
        return up

    @staticmethod
    def _copy_light(skel, model):
        # Large in-memory model (weights inline): copy piecewise, stripping as we go, so that the
        # full payload is never duplicated at once.
        for f in ("ir_version", "producer_name", "producer_version", "domain", "model_version"):
            setattr(skel, f, getattr(model, f))
        skel.opset_import.extend(model.opset_import)
        skel.functions.extend(model.functions)
        g = skel.graph
        g.name = model.graph.name
        g.input.extend(model.graph.input)
        g.output.extend(model.graph.output)
        for t in model.graph.initializer:
            c = g.initializer.add()
            c.CopyFrom(t)
            _strip_tensor(c)
        for n in model.graph.node:
            c = g.node.add()
            c.CopyFrom(n)
            for a in c.attribute:
                if a.type == AttributeProto.TENSOR:
                    _strip_tensor(a.t)
                elif a.type == AttributeProto.GRAPH:
                    _strip_graph(a.g)

    def _run(self, strict: bool) -> onnx.ModelProto:
        return onnx.shape_inference.infer_shapes(self.skeleton, check_type=False, strict_mode=strict,
                                                 data_prop=True)

    def _prepare(self, shapes: dict[str, tuple]):
        for name, dims in shapes.items():
            _set_dims(self._inputs[name], dims)
        if not self._loops:
            return
        for (node, body), saved in zip(self._loops, self._loop_inputs):
            for k, vi in saved:
                body.input[k].CopyFrom(vi)
        first: dict[str, tuple] = {}
        try:
            _collect(self._run(False).graph, first)
        except Exception:  # noqa: BLE001 - then the bodies keep their declared shapes
            return
        for (node, body), saved in zip(self._loops, self._loop_inputs):
            for k, vi in saved:
                init = first.get(node.input[k])
                if init is None:
                    continue
                old = _dims(vi)
                dims = [d if d is not None else (old[j] if old and len(old) == len(init) else None)
                        for j, d in enumerate(init)]
                _set_dims(body.input[k], dims)

    def _finish(self, inferred) -> dict[str, tuple]:
        out: dict[str, tuple] = {}
        _collect(inferred.graph, out)
        notes = []
        for (node, body), saved in zip(self._loops, self._loop_inputs):
            for k, _vi in saved:
                j = k - 1  # body output of the carried value
                if j >= len(body.output):
                    continue
                a, b = out.get(body.input[k].name), out.get(body.output[j].name)
                if a and b and None not in a and None not in b and a != b:
                    notes.append(f"Loop {node.name or node.op_type!r}: carried value {body.input[k].name!r} "
                                 f"changes size across iterations ({_fmt(a)} -> {_fmt(b)}); sizes inside "
                                 "the body are the first iteration's")
        self.loop_notes = notes
        return out

    def infer(self, shapes: dict[str, tuple]) -> dict[str, tuple]:
        """Run inference with ``shapes`` ({input name: dims, None/str for symbolic}) substituted."""
        self._prepare(shapes)
        return self._finish(self._run(False))

    def infer_checked(self, shapes: dict[str, tuple], need_shapes: bool = True):
        """``(shapes, problems)``: strict inference first; where it raises, its problems and (when
        ``need_shapes``) the shapes of a lenient run, else ``None`` for the shapes."""
        self._prepare(shapes)
        try:
            return self._finish(self._run(True)), []
        except onnx.shape_inference.InferenceError as e:
            problems = parse_problems(str(e))
        except Exception as e:  # noqa: BLE001 - e.g. a checker error: report it as a problem
            problems = parse_problems(f"{type(e).__name__}: {e}")
        if not need_shapes:
            return None, problems
        return self._finish(self._run(False)), problems
