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
import onnx

from .graphwalk import CONV_OPS, NodeRef, attr_text, int_list, node_attrs, op_key, op_name, walk_nodes

_RANDOM_OPS = {"RandomNormal", "RandomNormalLike", "RandomUniform", "RandomUniformLike",
               "Multinomial", "Bernoulli"}
_MAX_FOLD_DEPTH = 64
#: folding budget: no folded value may hold more than max(2 × the largest tensor stored in the
#: file, FOLD_FLOOR) elements, nor more than FOLD_MAX_BYTES bytes (a ConstantOfShape or Expand
#: can turn a few bytes of model into gigabytes of weight)
FOLD_FLOOR = 1 << 22
FOLD_MAX_BYTES = 1 << 30
_SMALL_INPUT = 4096   # inputs up to this many elements are given to shape inference as data
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


class _Unresolved(Exception):
    pass


class _Resolver:
    """Evaluates constant values by name within a scope chain, memoising every value."""

    def __init__(self, loaded, opsets):
        self.loaded = loaded
        self.opsets = opsets
        self._cap = None
        self.memo = {}
        self._folded = set()  # memo keys holding values computed here (not views of the file)
        self._scope_index = {}

    # ---- scope indexes -------------------------------------------------------------------
    def _index(self, graph):
        key = id(graph)
        idx = self._scope_index.get(key)
        if idx is None:
            producers = {}
            for node in graph.node:
                for out in node.output:
                    if out:
                        producers[out] = node
            inits = {t.name: t for t in getattr(graph, "initializer", [])}
            sparse = {t.values.name: t for t in getattr(graph, "sparse_initializer", [])}
            inputs = set()
            for inp in graph.input:
                inputs.add(inp if isinstance(inp, str) else inp.name)
            idx = (producers, inits, sparse, inputs)
            self._scope_index[key] = idx
        return idx

    # ---- resolution ----------------------------------------------------------------------
    def resolve(self, name, scopes, depth=0):
        """Return ``(array, source description, overridable)`` or raise _Unresolved."""
        if not name:
            raise _Unresolved("the weight input is empty")
        for level in range(len(scopes) - 1, -1, -1):
            graph = scopes[level]
            producers, inits, sparse, inputs = self._index(graph)
            key = (id(graph), name)
            if key in self.memo:
                return self.memo[key]
            if name in producers:
                result = self._from_node(producers[name], name, scopes[: level + 1], depth)
            elif name in inits:
                tensor = inits[name]
                arr = self.loaded.array(tensor)
                origin = self._origin(tensor)
                overridable = name in inputs
                src = f"initializer '{name}' ({origin})"
                if overridable:
                    src += ", also a graph input: a caller can override it"
                result = (arr, src, overridable)
            elif name in sparse:
                result = (self._sparse(sparse[name]), f"sparse initializer '{name}'", name in inputs)
            elif name in inputs:
                kind = "function parameter" if isinstance(graph, onnx.FunctionProto) else "graph input"
                raise _Unresolved(f"weight comes from {kind} '{name}' at run time")
            else:
                continue  # look in the enclosing scope
            self.memo[key] = result
            return result
        raise _Unresolved(f"value '{name}' is not produced by any node, initializer or input")

    @property
    def cap(self) -> int:
        """Largest number of elements a folded value may have (see FOLD_FLOOR)."""
        if self._cap is None:
            from .loading import iter_tensors

            largest = 0
            for tensor, _where in iter_tensors(self.loaded.model):
                n = 1
                for d in tensor.dims:
                    n *= max(int(d), 0)
                largest = max(largest, n)
            self._cap = max(2 * largest, FOLD_FLOOR)
        return self._cap

    def _check_size(self, op, count, nbytes=None):
        if count is not None and count > self.cap:
            raise _Unresolved(f"folding {op} would create a tensor of {count:,} values, more than onnxsym "
                              f"allows ({self.cap:,}: twice the largest tensor stored in the file)")
        if nbytes is not None and nbytes > FOLD_MAX_BYTES:
            raise _Unresolved(f"folding {op} would create a tensor of {nbytes / (1 << 30):.2f} GiB, more "
                              f"than onnxsym allows ({FOLD_MAX_BYTES >> 30} GiB)")

    def _origin(self, tensor):
        origin = getattr(self.loaded, "data_origin", None)
        if origin is not None:
            return origin(tensor)
        return "external" if tensor.data_location == onnx.TensorProto.EXTERNAL else "embedded"

    def _from_node(self, node, name, scopes, depth):
        if depth > _MAX_FOLD_DEPTH:
            raise _Unresolved("constant chain deeper than 64 ops")
        op = node.op_type
        if node.domain in ("", "ai.onnx") and op == "Constant":
            return self._constant(node), f"Constant node '{node.name or name}'", False
        if op in _RANDOM_OPS:
            raise _Unresolved(f"weight is produced by random op {op}")
        if node.domain not in ("", "ai.onnx"):
            raise _Unresolved(f"weight is produced by {node.domain}.{op}, which onnxsym does not fold")
        if any(a.type in (onnx.AttributeProto.GRAPH, onnx.AttributeProto.GRAPHS) for a in node.attribute):
            raise _Unresolved(f"weight is produced by control-flow op {op}")
        feeds, sources, overridable = {}, [], False
        for inp in node.input:
            if not inp:
                continue
            try:
                arr, src, ov = self.resolve(inp, scopes, depth + 1)
            except _Unresolved as err:
                raise _Unresolved(f"{err} (through {op})") from None
            feeds[inp] = arr
            sources.append(src)
            overridable = overridable or ov
        for count in _predicted_sizes(node, feeds, self.opsets):
            self._check_size(op, count)
        try:
            outputs = _evaluate(node, feeds, self.opsets)
        except MemoryError:
            raise _Unresolved(f"could not fold {op}: out of memory") from None
        except Exception as err:  # the reference evaluator raises many kinds
            raise _Unresolved(f"could not fold {op}: {' '.join(str(err).split())[:160]}") from None
        for value in outputs:
            self._check_size(op, int(value.size), int(value.nbytes))
        src = f"{op}({', '.join(sources)})" if len(sources) > 1 else f"{sources[0]} → {op}" if sources else op
        graph = scopes[-1]
        for out_name, value in zip(node.output, outputs):
            if out_name:
                self.memo[(id(graph), out_name)] = (value, src, overridable)
                self._folded.add((id(graph), out_name))
        return self.memo[(id(graph), name)]

    def _sparse(self, sparse):
        from .loading import TensorTooLarge

        try:
            return self.loaded.sparse_array(sparse, max_bytes=min(FOLD_MAX_BYTES, 8 * self.cap))
        except TensorTooLarge as err:
            raise _Unresolved(str(err).split(": ", 1)[-1]) from None

    def forget_folded(self):
        """Drop folded values (they own memory); views of the file stay memoised."""
        for key in self._folded:
            self.memo.pop(key, None)
        self._folded.clear()

    def _constant(self, node):
        a = node.attribute[0] if node.attribute else None
        if a is None:
            raise _Unresolved("Constant node without a value")
        if a.name == "value":
            return self.loaded.array(a.t)
        if a.name == "sparse_value":
            return self._sparse(a.sparse_tensor)
        if a.name in ("value_float", "value_int"):
            return np.array(a.f if a.name == "value_float" else a.i,
                            dtype=np.float32 if a.name == "value_float" else np.int64)
        if a.name in ("value_floats", "value_ints"):
            return np.array(list(a.floats) if a.name == "value_floats" else list(a.ints),
                            dtype=np.float32 if a.name == "value_floats" else np.int64)
        raise _Unresolved(f"Constant with attribute {a.name} is not a numeric weight")


def _predicted_sizes(node, feeds, opsets) -> list:
    """Element count of each output of ``node`` before it is evaluated, from ONNX shape inference
    with the small inputs given as data (None where it cannot tell)."""
    from onnx import shape_inference

    try:
        schema = onnx.defs.get_schema(node.op_type, opsets.get("", 17), node.domain or "")
        types, data = {}, {}
        for name, value in feeds.items():
            arr = np.asarray(value)
            elem = onnx.helper.np_dtype_to_tensor_dtype(arr.dtype)
            types[name] = onnx.helper.make_tensor_type_proto(elem, list(arr.shape))
            if arr.size <= _SMALL_INPUT:
                data[name] = onnx.numpy_helper.from_array(arr, name)
        out = shape_inference.infer_node_outputs(
            schema, node, types, data, opset_imports=[onnx.helper.make_opsetid("", opsets.get("", 17))])
    except Exception:  # noqa: BLE001 - unknown: the size is checked after evaluation instead
        return _expander_sizes(node, feeds)
    sizes = []
    for name in node.output:
        tt = out.get(name)
        dims = None
        if tt is not None and tt.tensor_type.HasField("shape"):
            dims = [d.dim_value if d.HasField("dim_value") else None for d in tt.tensor_type.shape.dim]
        sizes.append(None if dims is None or None in dims else int(np.prod(dims, dtype=object)))
    if None in sizes:
        guess = _expander_sizes(node, feeds)
        sizes = [g if s is None else s for s, g in zip(sizes, guess + [None] * len(sizes))]
    return sizes


def _expander_sizes(node, feeds) -> list:
    """Output sizes of the ops that make big tensors from small inputs, computed by hand."""
    op = node.op_type
    ins = [np.asarray(feeds[i]) if i in feeds else None for i in node.input]
    try:
        if op == "ConstantOfShape" and ins and ins[0] is not None:
            return [int(np.prod([int(v) for v in ins[0].reshape(-1)], dtype=object))]
        if op == "Expand" and len(ins) > 1 and ins[0] is not None and ins[1] is not None:
            shape = np.broadcast_shapes(ins[0].shape, tuple(int(v) for v in ins[1].reshape(-1)))
            return [int(np.prod(shape, dtype=object))]
        if op == "Tile" and len(ins) > 1 and ins[0] is not None and ins[1] is not None:
            reps = [int(v) for v in ins[1].reshape(-1)]
            return [int(np.prod([d * r for d, r in zip(ins[0].shape, reps)], dtype=object))]
        if op == "Range" and len(ins) == 3 and all(x is not None for x in ins):
            start, limit, delta = (float(x.reshape(-1)[0]) for x in ins)
            return [max(0, int(np.ceil((limit - start) / delta))) if delta else None]
    except (ValueError, TypeError, OverflowError, IndexError):
        return [None]
    return [None] * len(node.output)


def _evaluate(node, feeds, opsets):
    from onnx.reference import ReferenceEvaluator

    ev = ReferenceEvaluator(node, opsets=opsets)
    outs = ev.run(None, {k: np.asarray(v) for k, v in feeds.items()})
    return [np.asarray(o) for o in outs]


def _per_channel(values, w, what):
    """A scale or zero point as an array that broadcasts over ``w`` [N, ...]: one value, or one
    per output channel (axis 0)."""
    v = np.asarray(values).astype(np.float64)
    if v.size == 1:
        return v.reshape(())
    if v.size == w.shape[0]:
        return v.reshape((-1,) + (1,) * (w.ndim - 1))
    raise _Unresolved(f"{what} has {v.size} values for {w.shape[0]} output channels")


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
        raise _Unresolved(f"weight has non-numeric dtype {arr.dtype}")
    try:  # numpy and ml_dtypes number types (fp16, bf16, fp8, fp6, fp4, e8m0 …) all cast
        return arr.astype(np.float64)
    except (TypeError, ValueError):
        raise _Unresolved(f"weight has non-numeric dtype {arr.dtype}") from None


def iter_conv_layers(loaded):
    """Every conv-like node of ``loaded.model`` in walk order, its weight resolved one layer at a
    time: a layer's folded weight (e.g. a dequantized int8 tensor) is released before the next
    one is computed, so memory stays near one layer. Geometry, ids and ``shared_with`` are
    filled in for all layers before the first is yielded."""
    model = loaded.model
    # the default domain's opset, written "" or "ai.onnx"; absent only in malformed models
    default = [int(o.version) for o in model.opset_import if o.domain in ("", "ai.onnx")]
    refs = walk_nodes(model)
    consumers = _consumers(refs)
    resolver = _Resolver(loaded, {"": default[0] if default else 17})
    items = []
    weight_users = defaultdict(list)
    for ref in refs:
        key = op_key(ref.node)
        if key not in CONV_OPS:
            continue
        layer = _geometry(ref, key)
        weight_users[(id(_owner_scope(ref, layer.weight_name, resolver)), layer.weight_name)].append(layer)
        nxt = consumers.get((id(ref.graph), ref.node.output[0] if ref.node.output else ""), [])
        layer.followed_by = ",".join(sorted({n.op_type for n in nxt}))
        items.append((layer, ref, key))
    for users in weight_users.values():
        if len(users) > 1:
            first = [u.id for u in users[:SHARED_LIST_MAX + 1]]
            for layer in users:
                layer.shared_with = [i for i in first if i != layer.id][:SHARED_LIST_MAX]
                layer.shared_count = len(users) - 1
    for layer, ref, key in items:
        _resolve_weight(layer, ref, resolver, key, consumers)
        yield layer
        resolver.forget_folded()


def find_conv_layers(loaded) -> list[ConvLayer]:
    """All conv layers with their weights resolved and kept (small models, tests); large models
    should use :func:`iter_conv_layers` and drop each weight after use.

    Parameters
    ----------
    loaded : LoadedModel
        From :func:`onnxsym.loading.load_model`.
    """
    return list(iter_conv_layers(loaded))


def _owner_scope(ref, name, resolver):
    for graph in reversed(ref.scopes):
        producers, inits, sparse, inputs = resolver._index(graph)
        if name in producers or name in inits or name in sparse or name in inputs:
            return graph
    return ref.graph


def _consumers(refs):
    out = defaultdict(list)
    for ref in refs:
        for inp in ref.node.input:
            out[(id(ref.graph), inp)].append(ref.node)
    return out


def _geometry(ref: NodeRef, key: tuple) -> ConvLayer:
    node = ref.node
    at = node_attrs(node)
    widx = CONV_OPS[key]
    wname = node.input[widx] if len(node.input) > widx else ""
    layer = ConvLayer(
        id=ref.id, path=ref.path, index=ref.index, op_type=op_name(key), node_name=node.name,
        weight_name=wname, weight_shape=None, kernel_shape=None, strides=None, pads=None,
        auto_pad=attr_text(at.get("auto_pad", "NOTSET")) or "NOTSET", dilations=None,
        group=1, transposed=key == ("", "ConvTranspose"), depthwise=None,
    )
    try:
        ints = {name: int_list(at, name) for name in ("kernel_shape", "strides", "pads", "dilations")}
        group = at.get("group", 1)
        if not isinstance(group, int):
            raise ValueError(f"attribute group is not an integer ({group!r:.40})")
    except ValueError as err:
        layer.status, layer.reason = "unresolved", str(err)
        return layer
    layer.kernel_shape, layer.strides, layer.pads, layer.dilations = (
        None if ints[n] is None else tuple(ints[n]) for n in ("kernel_shape", "strides", "pads", "dilations"))
    layer.group = group
    return layer


def _resolve_weight(layer: ConvLayer, ref: NodeRef, resolver: _Resolver, key: tuple, consumers=None):
    if layer.status != "ok":  # malformed attributes: the reason is already set
        return
    node = ref.node
    try:
        arr, src, overridable = resolver.resolve(layer.weight_name, ref.scopes)
        layer.weight_dtype = str(np.asarray(arr).dtype)
        if key[1] == "QLinearConv":
            scale = _optional(resolver, node, 4, ref)
            zp = _optional(resolver, node, 5, ref)
            arr = _dequantize(arr, scale, zp)
            src += " → dequantized with its QLinearConv scale and zero point"
        elif key == ("", "ConvInteger"):
            zp = _optional(resolver, node, 3, ref)
            arr = np.asarray(arr)
            scale = _scale_after_convinteger(ref, consumers or {}, resolver, int(arr.shape[0]))
            arr = _dequantize(arr, scale, zp)
            src += " → minus its ConvInteger zero point"
            src += (" → times the per-channel scale of the Mul after it" if scale is not None
                    else " (no per-channel scale follows; a per-tensor scale does not change S)")
        arr = _to_float(arr)
    except _Unresolved as err:
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


def _scale_after_convinteger(ref, consumers, resolver, channels):
    """The per-output-channel weight scale that dynamic quantization applies *after* a
    ConvInteger (ConvInteger → Cast → Mul(·, x_scale · w_scale)), or None.

    Constant factors of the Mul (and of a Mul tree feeding it) are multiplied; runtime factors
    (x_scale) are per tensor and do not change S, so they are skipped. Only a factor with one
    value per output channel is returned: a per-tensor scale leaves S unchanged.
    """
    name, graph = ref.node.output[0] if ref.node.output else "", ref.graph
    for _ in range(4):  # through Cast/Identity to the first Mul
        users = consumers.get((id(graph), name), [])
        if len(users) != 1:
            return None
        node = users[0]
        if node.op_type in ("Cast", "Identity"):
            name = node.output[0]
            continue
        if node.op_type != "Mul":
            return None
        other = [i for i in node.input if i != name]
        factors = [f for i in other for f in _constant_factors(i, ref.scopes, resolver, consumers, 0)]
        per_channel = [np.asarray(f, np.float64).reshape(-1) for f in factors if np.asarray(f).size == channels > 1]
        return np.prod(per_channel, axis=0) if per_channel else None
    return None


def _constant_factors(name, scopes, resolver, consumers, depth):
    try:
        return [resolver.resolve(name, scopes)[0]]
    except _Unresolved:
        pass
    if depth > 3:
        return []
    for level in range(len(scopes) - 1, -1, -1):
        producers = resolver._index(scopes[level])[0]
        node = producers.get(name)
        if node is not None:
            if node.op_type != "Mul":
                return []
            return [f for i in node.input for f in _constant_factors(i, scopes[: level + 1], resolver, consumers, depth + 1)]
    return []


def _optional(resolver, node, idx, ref):
    if len(node.input) > idx and node.input[idx]:
        return np.asarray(resolver.resolve(node.input[idx], ref.scopes)[0])
    return None
