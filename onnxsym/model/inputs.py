"""The image inputs of a model and their layout — the one detector the padding diagnosis and the
consistency run both use.

* :func:`find_image_inputs` lists the graph inputs that carry images: 3-D, 4-D or 5-D float (or
  uint8) inputs from which a convolution or pool can be reached, also inside an If/Loop/Scan body
  (by outer-scope reference or as a Loop/Scan initial value) or a model-local function.
* :func:`trace_layout` follows an input through layout-preserving ops and Transposes to the first
  convolution or pool and so learns which axes are batch, channels and spatial (``NCHW``, or
  ``NHWC`` for tf2onnx exports with a Transpose in front of the convs).
* :func:`layout_from_dims` is the fallback when the graph does not show it: the axis of size 1 or 3
  in position 1 (NCHW) or last (NHWC).
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import onnx
from onnx import TensorProto

from ..errors import InputError
from .graph import Graph, is_layer
from .tensors import type_name

_FLOATS = {TensorProto.FLOAT, TensorProto.FLOAT16, TensorProto.BFLOAT16, TensorProto.DOUBLE}
IMAGE_TYPES = _FLOATS | {TensorProto.UINT8}

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



def find_image_inputs(model: onnx.ModelProto, given_rank: int | None = None, graph: Graph | None = None) -> list[ImageInput]:
    """Every graph input that is 3-D/4-D/5-D float or uint8 and feeds a conv or pool (also one
    inside an If/Loop/Scan body or a model-local function), in graph-input order.

    ``given_rank`` stands in for the rank of inputs that declare no shape at all.
    """
    graph = graph if graph is not None else Graph(model)
    g = model.graph
    inits = {t.name for t in g.initializer} | {t.values.name for t in g.sparse_initializer}
    holders = graph.layer_functions()
    found = []
    for vi in g.input:
        if vi.name in inits or not vi.type.HasField("tensor_type"):
            continue
        et = vi.type.tensor_type.elem_type
        if et not in IMAGE_TYPES:
            continue
        declared = _declared(vi)
        rank = len(declared) if declared is not None else given_rank
        if rank not in (3, 4, 5):
            continue
        if not graph.reaches_layer(vi.name, holders):
            continue
        found.append(ImageInput(name=vi.name, elem_type=type_name(et), declared=declared))
    return found


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



def trace_layout(graph: Graph, image: ImageInput, rank: int) -> ImageInput:
    """Fill ``image.layout``/axes by following the input to the first conv or pool.

    Walks breadth-first through layout-preserving ops (elementwise, normalisation, Pad, Resize,
    Q/DQ, Concat) and Transposes (whose ``perm`` moves the axes); any other op ends the walk.
    The first conv/pool reached fixes the layout: its input is NC<spatial> by the ONNX spec.
    """
    links = graph.links
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
        for ref, k in graph.consumers(name):
            node = ref.node
            if is_layer(node):
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


def layout_from_dims(shape) -> tuple[str | None, str]:
    """``(layout, note)`` of a rank-4 input from its dims alone: the channel axis is the one of
    size 1 or 3 in position 1 (NCHW) or 3 (NHWC); NCHW when both or neither could be (a note
    says so); None when a dim is static and neither position holds 1 or 3."""
    def dim(d):
        return d if isinstance(d, int) and d > 0 else None

    c1, c3 = dim(shape[1]), dim(shape[3])
    if c1 in (1, 3) and c3 not in (1, 3):
        return "NCHW", ""
    if c3 in (1, 3) and c1 not in (1, 3):
        return "NHWC", ""
    if c1 in (1, 3) and c3 in (1, 3):
        return "NCHW", "layout ambiguous, assumed NCHW"
    if c1 is None and c3 is None:
        return "NCHW", "channel dimension symbolic, assumed NCHW with 3 channels"
    return None, ""
