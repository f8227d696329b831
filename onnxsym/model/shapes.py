"""Cheap, repeatable shape inference on a *skeleton* of the model.

:class:`ShapeOracle` runs ONNX shape inference on the same graph with every large tensor payload
cut off (dims and types kept), so inference costs about a millisecond per run on MobileNetV2 /
ResNet-50, never touches weights, and works for models over 2 GB. It is re-run per candidate input
size by the padding suggestions; ``infer_checked`` adds a strict run whose errors
(:class:`ShapeProblem`: e.g. an Add that cannot broadcast an upsampled branch with its skip
connection) mark sizes the network cannot run at. Loop bodies get the first iteration's sizes of
their carried values.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import onnx
from onnx import AttributeProto, TensorProto

from .graph import subgraphs as _subgraphs

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


_NO_FOLD = {"RandomNormal", "RandomNormalLike", "RandomUniform", "RandomUniformLike", "Multinomial", "Bernoulli",
            "If", "Loop", "Scan", "SequenceMap"}


def _tensor_value(node):
    """The array of a Constant node (any of its value forms), or None."""
    from onnx import numpy_helper

    for a in node.attribute:
        if a.name == "value" and a.type == AttributeProto.TENSOR:
            if a.t.data_location == TensorProto.EXTERNAL:
                return None
            return numpy_helper.to_array(a.t)
        if a.name in ("value_int", "value_float"):
            return np.asarray(a.i if a.name == "value_int" else a.f,
                              np.int64 if a.name == "value_int" else np.float32)
        if a.name in ("value_ints", "value_floats"):
            return np.asarray(list(a.ints) if a.name == "value_ints" else list(a.floats),
                              np.int64 if a.name == "value_ints" else np.float32)
    return None


def fold_small_constants(graph, opsets: dict) -> dict:
    """Evaluate, in ``graph`` (a skeleton: large payloads stripped), every node whose inputs are all
    small known constants, and put its value in place as a Constant node, so shape inference sees
    the data (a Pad whose pads an exporter computes through ConstantOfShape, Concat, Reshape,
    Slice, Transpose, Cast). Returns ``{tensor name: array}`` of the small constants known."""
    from onnx import helper, numpy_helper

    from .constants import _evaluate, _expander_sizes

    known = {}
    for t in graph.initializer:
        if t.data_location != TensorProto.EXTERNAL:
            try:
                known[t.name] = numpy_helper.to_array(t)
            except Exception:  # noqa: BLE001 - an odd tensor: not a known value
                pass
    nodes = list(graph.node)
    for k, node in enumerate(nodes):
        if node.op_type == "Constant" and node.domain in ("", "ai.onnx"):
            value = _tensor_value(node)
            if value is not None and node.output:
                known[node.output[0]] = value
            continue
        if (node.domain not in ("", "ai.onnx") or node.op_type in _NO_FOLD or not node.input
                or not all(i in known for i in node.input if i)):
            continue
        feeds = {i: known[i] for i in node.input if i}
        if any(v.size > _KEEP_ELEMENTS for v in feeds.values()) or \
                any(s is not None and s > _KEEP_ELEMENTS for s in _expander_sizes(node, feeds)):
            continue
        try:
            outs = _evaluate(node, feeds, opsets)
        except Exception:  # noqa: BLE001 - left to shape inference as it is
            continue
        if len(outs) != len(node.output) or any(o.size > _KEEP_ELEMENTS for o in outs):
            continue
        replacement = []
        for name, value in zip(node.output, outs):
            if name:
                known[name] = value
                replacement.append(helper.make_node("Constant", [], [name],
                                                    value=numpy_helper.from_array(value, name)))
        nodes[k:k + 1] = [replacement]
    del graph.node[:]
    for item in nodes:
        graph.node.extend(item if isinstance(item, list) else [item])
    return known


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
        opsets = {o.domain or "": int(o.version) for o in skel.opset_import}
        try:
            #: small values known without running the model (``{name: array}``), e.g. a Pad's pads
            self.values = fold_small_constants(skel.graph, opsets)
        except Exception:  # noqa: BLE001 - inference then runs on the graph as it is
            self.values = {}
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


def _fmt(dims) -> str:
    return "x".join("?" if d is None else str(d) for d in dims)
