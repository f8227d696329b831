"""Find every conv-like node of a model and resolve its effective float weight.

A weight is resolved by evaluating the constant subgraph that produces it (onnx's reference
evaluator, one node at a time, memoised) rather than by matching a few op chains: initializers,
Constant nodes and any chain of deterministic ops over them (Cast, Transpose, Reshape,
DequantizeLinear, Mul, Concat, Slice, ...) all fold the same way. A weight that depends on a
runtime input (or on a random op) is reported as unresolved, with the reason.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np

from ..model.constants import Constants, NotConstant
from ..model.graph import Graph, NodeRef
from ..model.ops import CONV_OPS, ConvAttrs, conv_attrs, op_key, op_name

SHARED_LIST_MAX = 8  # ids listed in ``shared_with``; ``shared_count`` has the full number


@dataclass
class ConvLayer:
    """One conv-like node: geometry, where its weight comes from, and (lazily) its values.

    ``weight`` is None when ``status == "unresolved"``; ``reason`` then says why.
    Spatial attributes are per spatial axis; ``pads`` is ``[b0, b1, ..., e0, e1, ...]`` as in ONNX.
    """

    id: str
    path: str
    index: int
    op_type: str
    node_name: str
    weight_name: str
    weight_shape: tuple | None
    kernel_shape: tuple | None
    strides: tuple | None
    pads: tuple | None
    auto_pad: str
    dilations: tuple | None
    group: int
    transposed: bool
    depthwise: bool | None
    weight_source: str = ""
    weight_dtype: str = ""
    overridable: bool = False
    shared_with: list = field(default_factory=list)
    shared_count: int = 0
    followed_by: str = ""
    status: str = "ok"
    reason: str = ""
    weight: np.ndarray | None = field(default=None, repr=False)


def _per_channel(values, w, what):
    """A scale or zero point as an array that broadcasts over ``w`` [N, ...]: one value, or one
    per output channel (axis 0)."""
    v = np.asarray(values).astype(np.float64)
    if v.size == 1:
        return v.reshape(())
    if v.size == w.shape[0]:
        return v.reshape((-1,) + (1,) * (w.ndim - 1))
    raise NotConstant(f"{what} has {v.size} values for {w.shape[0]} output channels")


def _dequantize(w, scale, zero_point):
    """(q − zp)·scale with per-tensor or per-output-channel (axis 0) scale and zero point."""
    w = np.asarray(w).astype(np.float64)
    if zero_point is not None:
        w = w - _per_channel(zero_point, w, "the weight zero point")
    if scale is not None:
        w = w * _per_channel(scale, w, "the weight scale")
    return w


def _to_float(arr):
    """float32/float64 as they are; every other numeric dtype (fp16, bf16, fp8, int4 …) as float64."""
    arr = np.asarray(arr)
    if arr.dtype in (np.float32, np.float64):
        return arr
    if arr.dtype.kind in "OSUcM":  # objects, strings, complex, dates: not a weight
        raise NotConstant(f"weight has non-numeric dtype {arr.dtype}")
    try:  # numpy and ml_dtypes number types (fp16, bf16, fp8, fp6, fp4, e8m0 …) all cast
        return arr.astype(np.float64)
    except (TypeError, ValueError):
        raise NotConstant(f"weight has non-numeric dtype {arr.dtype}") from None


class ConvLayers:
    """Every conv-like node of ``loaded.model`` in walk order (:func:`iter_conv_layers`); ``total``
    is known before the first weight is resolved."""

    def __init__(self, loaded, graph: Graph | None = None):
        graph = graph if graph is not None else Graph(loaded.model)
        self.constants = Constants(loaded, graph)
        self.items = []
        weight_users = defaultdict(list)
        for ref in graph.nodes:
            key = op_key(ref.node)
            if key not in CONV_OPS:
                continue
            layer = _geometry(ref, key)
            weight_users[(id(graph.owner(layer.weight_name, ref.scopes)), layer.weight_name)].append(layer)
            nxt = graph.consumers_in(ref.graph, ref.node.output[0] if ref.node.output else "")
            layer.followed_by = ",".join(sorted({n.op_type for n in nxt}))
            self.items.append((layer, ref, key))
        for users in weight_users.values():
            if len(users) > 1:
                first = [u.id for u in users[:SHARED_LIST_MAX + 1]]
                for layer in users:
                    layer.shared_with = [i for i in first if i != layer.id][:SHARED_LIST_MAX]
                    layer.shared_count = len(users) - 1

    @property
    def total(self) -> int:
        return len(self.items)

    def __iter__(self):
        for layer, ref, key in self.items:
            _resolve_weight(layer, ref, self.constants, key)
            yield layer
            self.constants.forget_folded()


def iter_conv_layers(loaded, graph: Graph | None = None) -> ConvLayers:
    """Every conv-like node of ``loaded.model`` in walk order, its weight resolved one layer at a
    time: a layer's folded weight (e.g. a dequantized int8 tensor) is released before the next
    one is computed, so memory stays near one layer. Geometry, ids and ``shared_with`` are
    filled in for all layers before the first is yielded."""
    return ConvLayers(loaded, graph)


def find_conv_layers(loaded) -> list[ConvLayer]:
    """All conv layers with their weights resolved and kept (small models, tests); large models
    should use :func:`iter_conv_layers` and drop each weight after use.

    Parameters
    ----------
    loaded : LoadedModel
        From :func:`onnxsym.loading.load_model`.
    """
    return list(iter_conv_layers(loaded))


def _geometry(ref: NodeRef, key: tuple) -> ConvLayer:
    node = ref.node
    at: ConvAttrs = conv_attrs(node)
    widx = CONV_OPS[key]
    wname = node.input[widx] if len(node.input) > widx else ""
    layer = ConvLayer(
        id=ref.id, path=ref.path, index=ref.index, op_type=op_name(key), node_name=node.name,
        weight_name=wname, weight_shape=None, kernel_shape=None, strides=None, pads=None,
        auto_pad=at.auto_pad, dilations=None, group=1, transposed=key == ("", "ConvTranspose"), depthwise=None,
    )
    error = at.error(ConvAttrs.GEOMETRY)
    if error:
        layer.status, layer.reason = "unresolved", error
        return layer
    layer.kernel_shape, layer.strides, layer.pads, layer.dilations = (
        at.kernel_shape, at.strides, at.pads, at.dilations)
    layer.group = at.group
    return layer


def _resolve_weight(layer: ConvLayer, ref: NodeRef, constants: Constants, key: tuple):
    if layer.status != "ok":  # malformed attributes: the reason is already set
        return
    node = ref.node
    try:
        arr, src, overridable = constants.resolve(layer.weight_name, ref.scopes)
        layer.weight_dtype = str(np.asarray(arr).dtype)
        if key[1] == "QLinearConv":
            scale = _optional(constants, node, 4, ref)
            zp = _optional(constants, node, 5, ref)
            arr = _dequantize(arr, scale, zp)
            src += " → dequantized with its QLinearConv scale and zero point"
        elif key == ("", "ConvInteger"):
            zp = _optional(constants, node, 3, ref)
            arr = np.asarray(arr)
            scale = _scale_after_convinteger(ref, constants, int(arr.shape[0]))
            arr = _dequantize(arr, scale, zp)
            src += " → minus its ConvInteger zero point"
            src += (" → times the per-channel scale of the Mul after it" if scale is not None
                    else " (no per-channel scale follows; a per-tensor scale does not change S)")
        arr = _to_float(arr)
    except NotConstant as err:
        layer.status, layer.reason = "unresolved", str(err)
        return
    if arr.ndim < 3:
        layer.status, layer.reason = "unresolved", f"weight has shape {arr.shape}, not [N, C, k...]"
        return
    if arr.ndim > 5:
        layer.status, layer.reason = "unresolved", f"weight has {arr.ndim - 2} spatial axes; onnxsym handles 1 to 3"
        return
    shape = tuple(int(s) for s in arr.shape)
    if layer.kernel_shape is not None and tuple(layer.kernel_shape) != shape[2:]:
        layer.status = "unresolved"
        layer.reason = (f"kernel_shape {list(layer.kernel_shape)} does not match the weight's kernel "
                        f"{list(shape[2:])} (onnxruntime refuses such a node)")
        layer.weight_shape = shape
        return
    layer.weight = arr
    layer.weight_shape = shape
    layer.weight_source = src
    layer.overridable = overridable
    if layer.kernel_shape is None:
        layer.kernel_shape = layer.weight_shape[2:]
    g = layer.group
    if layer.transposed:
        layer.depthwise = g > 1 and arr.shape[0] == g and arr.shape[1] == 1
    else:
        layer.depthwise = g > 1 and arr.shape[1] == 1 and arr.shape[0] % g == 0


def _scale_after_convinteger(ref, constants: Constants, channels):
    """The per-output-channel weight scale that dynamic quantization applies *after* a
    ConvInteger (ConvInteger → Cast → Mul(·, x_scale · w_scale)), or None.

    Constant factors of the Mul (and of a Mul tree feeding it) are multiplied; runtime factors
    (x_scale) are per tensor and do not change S, so they are skipped. Only a factor with one
    value per output channel is returned: a per-tensor scale leaves S unchanged.
    """
    name, graph = ref.node.output[0] if ref.node.output else "", ref.graph
    for _ in range(4):  # through Cast/Identity to the first Mul
        users = constants.graph.consumers_in(graph, name)
        if len(users) != 1:
            return None
        node = users[0]
        if node.op_type in ("Cast", "Identity"):
            name = node.output[0]
            continue
        if node.op_type != "Mul":
            return None
        other = [i for i in node.input if i != name]
        factors = [f for i in other for f in _constant_factors(i, ref.scopes, constants, 0)]
        per_channel = [np.asarray(f, np.float64).reshape(-1) for f in factors if np.asarray(f).size == channels > 1]
        return np.prod(per_channel, axis=0) if per_channel else None
    return None


def _constant_factors(name, scopes, constants: Constants, depth):
    try:
        return [constants.resolve(name, scopes)[0]]
    except NotConstant:
        pass
    if depth > 3:
        return []
    for level in range(len(scopes) - 1, -1, -1):
        node = constants.graph.scope(scopes[level]).producers.get(name)
        if node is not None:
            if node.op_type != "Mul":
                return []
            return [f for i in node.input for f in _constant_factors(i, scopes[: level + 1], constants, depth + 1)]
    return []


def _optional(constants, node, idx, ref):
    if len(node.input) > idx and node.input[idx]:
        return np.asarray(constants.resolve(node.input[idx], ref.scopes)[0])
    return None
