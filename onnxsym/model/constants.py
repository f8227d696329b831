"""Values known at load time: a tensor name resolved to its array by evaluating the constant
subgraph that produces it.

Initializers (dense, sparse, external), Constant nodes and any chain of deterministic ops over
them (Cast, Transpose, Reshape, DequantizeLinear, Mul, Concat, Slice, ...) are folded the same way:
onnx's reference evaluator, one node at a time, memoised — not a few op chains matched by hand. A
value that depends on a runtime input, a random op or control flow is :class:`NotConstant`, with
the reason.

Folding is budgeted: no folded value may hold more than max(2 × the largest tensor stored in the
file, :data:`FOLD_FLOOR`) elements nor :data:`FOLD_MAX_BYTES` bytes. The size of a node's outputs
is predicted by ONNX shape inference *before* it is evaluated, so a ConstantOfShape or Expand that
would turn a few bytes of model into gigabytes is refused without allocating them.
"""
from __future__ import annotations

import numpy as np
import onnx

from .graph import Graph
from .loading import TensorTooLarge
from .tensors import iter_tensors

_RANDOM_OPS = {"RandomNormal", "RandomNormalLike", "RandomUniform", "RandomUniformLike",
               "Multinomial", "Bernoulli"}
MAX_FOLD_DEPTH = 64
FOLD_FLOOR = 1 << 22
FOLD_MAX_BYTES = 1 << 30
_SMALL_INPUT = 4096   # inputs up to this many elements are given to shape inference as data


class NotConstant(Exception):
    """The value is not known at load time; ``str()`` says why (one line)."""


class Constants:
    """Evaluates the load-time values of a model by name within a scope chain, memoising every
    value. ``loaded`` serves the tensors (:class:`onnxsym.model.loading.LoadedModel`); ``graph`` is
    the model's :class:`~onnxsym.model.graph.Graph`."""

    def __init__(self, loaded, graph: Graph | None = None):
        self.loaded = loaded
        self.graph = graph if graph is not None else Graph(loaded.model)
        self.opsets = {"": default_opset(loaded.model)}
        self._cap = None
        self.memo = {}
        self._folded = set()  # memo keys holding values computed here (not views of the file)

    # ---- resolution ----------------------------------------------------------------------
    def resolve(self, name, scopes, depth=0):
        """Return ``(array, source description, overridable)`` or raise NotConstant."""
        if not name:
            raise NotConstant("the weight input is empty")
        for level in range(len(scopes) - 1, -1, -1):
            graph = scopes[level]
            sc = self.graph.scope(graph)
            producers, inits, sparse, inputs = sc.producers, sc.initializers, sc.sparse, sc.inputs
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
                raise NotConstant(f"weight comes from {kind} '{name}' at run time")
            else:
                continue  # look in the enclosing scope
            self.memo[key] = result
            return result
        raise NotConstant(f"value '{name}' is not produced by any node, initializer or input")

    @property
    def cap(self) -> int:
        """Largest number of elements a folded value may have (see FOLD_FLOOR)."""
        if self._cap is None:
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
            raise NotConstant(f"folding {op} would create a tensor of {count:,} values, more than onnxsym "
                              f"allows ({self.cap:,}: twice the largest tensor stored in the file)")
        if nbytes is not None and nbytes > FOLD_MAX_BYTES:
            raise NotConstant(f"folding {op} would create a tensor of {nbytes / (1 << 30):.2f} GiB, more "
                              f"than onnxsym allows ({FOLD_MAX_BYTES >> 30} GiB)")

    def _origin(self, tensor):
        return self.loaded.data_origin(tensor)

    def _from_node(self, node, name, scopes, depth):
        if depth > MAX_FOLD_DEPTH:
            raise NotConstant("constant chain deeper than 64 ops")
        op = node.op_type
        if node.domain in ("", "ai.onnx") and op == "Constant":
            return self._constant(node), f"Constant node '{node.name or name}'", False
        if op in _RANDOM_OPS:
            raise NotConstant(f"weight is produced by random op {op}")
        if node.domain not in ("", "ai.onnx"):
            raise NotConstant(f"weight is produced by {node.domain}.{op}, which onnxsym does not fold")
        if any(a.type in (onnx.AttributeProto.GRAPH, onnx.AttributeProto.GRAPHS) for a in node.attribute):
            raise NotConstant(f"weight is produced by control-flow op {op}")
        feeds, sources, overridable = {}, [], False
        for inp in node.input:
            if not inp:
                continue
            try:
                arr, src, ov = self.resolve(inp, scopes, depth + 1)
            except NotConstant as err:
                raise NotConstant(f"{err} (through {op})") from None
            feeds[inp] = arr
            sources.append(src)
            overridable = overridable or ov
        for count in _predicted_sizes(node, feeds, self.opsets):
            self._check_size(op, count)
        try:
            outputs = _evaluate(node, feeds, self.opsets)
        except MemoryError:
            raise NotConstant(f"could not fold {op}: out of memory") from None
        except Exception as err:  # the reference evaluator raises many kinds
            raise NotConstant(f"could not fold {op}: {' '.join(str(err).split())[:160]}") from None
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
        try:
            return self.loaded.sparse_array(sparse, max_bytes=min(FOLD_MAX_BYTES, 8 * self.cap))
        except TensorTooLarge as err:
            raise NotConstant(str(err).split(": ", 1)[-1]) from None

    def forget_folded(self):
        """Drop folded values (they own memory); views of the file stay memoised."""
        for key in self._folded:
            self.memo.pop(key, None)
        self._folded.clear()

    def _constant(self, node):
        a = node.attribute[0] if node.attribute else None
        if a is None:
            raise NotConstant("Constant node without a value")
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
        raise NotConstant(f"Constant with attribute {a.name} is not a numeric weight")


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


def default_opset(model: onnx.ModelProto) -> int:
    """The default domain's opset, written "" or "ai.onnx" (17 where a malformed model has none)."""
    found = [int(o.version) for o in model.opset_import if o.domain in ("", "ai.onnx")]
    return found[0] if found else 17
