"""Convolution arithmetic: effective padding per side, uneven layers, input sizes that pad evenly.

For a conv or pool with input size i, kernel k, dilation d (reach k_e = d(k−1)+1), stride s and
pads p_begin, p_end (explicit ``pads``, or what onnxruntime computes for ``auto_pad``), the
window positions cover ``span = i + p_begin + p_end − k_e`` in steps of s. The output has
``floor(span/s) + 1`` positions (pools with ``ceil_mode``: ``ceil(span/s) + 1``, minus one when
the last window would start inside the end padding — what onnxruntime and PyTorch do), and

    unread = span − (out − 1)·s      rows/columns at the end never read (padding included);
                                     negative for a ceil_mode pool whose last window reads past
                                     the declared end padding
    before = p_begin                 effective padding at the top/left
    after  = p_end − unread          effective padding at the bottom/right; negative means real
                                     rows/columns are dropped

A layer pads evenly when ``before == after`` on every spatial axis. ``auto_pad`` follows
onnxruntime: SAME_* pads ``max(0, (ceil(i/s) − 1)·s + k_e − i)`` in total, SAME_UPPER puts the odd
pixel at the end, SAME_LOWER at the beginning (onnxruntime refuses SAME with dilation > 1).

ConvTranspose is listed with different arithmetic: its pads crop the output, so nothing is left
unread; its effective padding is that of the equivalent stride-1 conv over the zero-stuffed input,
``k_e − 1 − p_begin`` before and ``k_e − 1 − p_end + output_padding`` after. Input size does not
change it, so the size suggestions ignore ConvTranspose.

Size suggestions keep only sizes at which the network still fits together: each candidate is
checked by strict ONNX shape inference (which agrees with onnxruntime on PP-OCR det and a
UNet at every size tried), and sizes where, e.g., an upsampled decoder branch no longer matches
its skip connection are skipped and counted. With several image inputs, inputs of the same size
(or the same symbolic dims) are varied together and every other input is searched on its own;
a layer only joins the searches of the inputs that reach it.

Skew (from the weights report, ``(down, right)``, negative = top/left): for a conv whose padding
is uneven, the skew component toward the padded side is the skew projected on the unit vector
that points to the more-padded side(s) of its uneven axes with a kernel longer than 1 (top-left:
``(−1, −1)/√2``; top only: ``(−1, 0)``). Its mean kernel leans "toward" the padded side when that
component is at least ``LEAN_THRESHOLD`` (0.1), "away" from it when it is at most −0.1, and
"neither" in between: skews of a few hundredths are noise, not a lean.

Size suggestions are kept plausible: unless a range is given, sizes below half the nominal one,
and sizes at which some layer's output would shrink below 2 px (where it has at least 2 at the
nominal size), are not suggested. A suggestion comes with caveats when the model declares a fixed
input size (it must be re-exported to take another) and when it moves an axis more than 10 % from
the nominal size (a change that may cost accuracy).
"""
from __future__ import annotations

import time
from collections import Counter
from dataclasses import asdict, dataclass, field


from .errors import InputError
from . import __version__
from .graphwalk import attr_text, int_list, node_attrs, op_key, walk_nodes
from .shapes import (CONV_OPS, LAYER_OPS, ShapeOracle, apply_layout, as_model_proto, describe_inputs,
                     find_image_inputs, graph_index, parse_shape, reach, trace_layout)

__all__ = ["analyze_padding", "PaddingReport", "PaddingLayer", "Suggestions", "axis_geometry",
           "SCHEMA", "LEAN_THRESHOLD"]

SCHEMA = "onnxsym.padding/1"
DEFAULT_MARGIN = 32
LEAN_THRESHOLD = 0.1      # |skew component toward the padded side| that counts as a lean
MIN_OUTPUT = 2            # suggested sizes keep every layer's output at least this large (px)
LARGE_CHANGE = 0.10       # relative change of an axis beyond which a suggestion gets a caveat
_SIDES = {1: (("left", "right"),),
          2: (("top", "bottom"), ("left", "right")),
          3: (("front", "back"), ("top", "bottom"), ("left", "right"))}
_AXIS_NAMES = {1: ("width",), 2: ("height", "width"), 3: ("depth", "height", "width")}


# --------------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------------
@dataclass
class PaddingLayer:
    """One conv or pool and its padding at the analysed input size.

    Per-axis lists are in the layer's spatial order (H, W for 2-D; D, H, W for 3-D).

    Attributes
    ----------
    id, path, op_type : str
        ``id`` is the :func:`onnxsym.graphwalk.walk_nodes` id (joins with the weights report).
    status : str
        ``ok``; ``unknown`` (input size not inferred, see ``reason``); ``invalid`` (the input
        is smaller than the kernel's reach or the attributes are inconsistent).
    reason : str
    kind : str
        ``conv``, ``conv_transpose`` or ``pool``.
    input_size, output_size : list of int or None
        Spatial sizes (output: onnxruntime's arithmetic).
    kernel, dilations, strides : list of int
    auto_pad : str
        NOTSET, SAME_UPPER, SAME_LOWER or VALID.
    pads : list of int or None
        As declared (ONNX order: all begins, then all ends); None when absent.
    ceil_mode : bool or None
        Pools only.
    output_padding : list of int or None
        ConvTranspose only.
    pads_begin, pads_end : list of int or None
        What onnxruntime pads (``auto_pad`` resolved).
    unread : list of int or None
        Trailing rows/columns (padding included) never read; negative when a ceil_mode pool
        reads past the end padding. Always 0 for ConvTranspose.
    before, after : list of int or None
        Effective padding per axis; ``after`` < 0 means real pixels are dropped.
    sides : dict or None
        The same per side: ``top``/``bottom``/``left``/``right`` (1-D: left/right; 3-D also
        front/back).
    uneven : bool or None
    direction : str
        The side(s) with more padding, e.g. ``top-left``, ``bottom-right``, ``top``; "" when even.
    strided : bool
        Some stride > 1.
    size_dependent : bool
        Whether the input size can change the evenness (strided, not ConvTranspose).
    skew : list of float or None
        The mean kernel's skew from the weights report (convs only).
    leans_toward_padding : bool or None
        For uneven convs with a skew: whether ``lean`` is ``toward``.
    skew_toward_padding : float or None
        The skew component toward the more-padded side(s) (see the module docstring).
    lean : str or None
        ``toward``, ``away`` or ``neither`` (``|skew_toward_padding| < LEAN_THRESHOLD``); None
        when not checked.
    inputs : list of str
        The image inputs whose size reaches this layer.
    notes : list of str
    """

    id: str
    path: str
    op_type: str
    kind: str
    status: str = "ok"
    reason: str = ""
    input_size: list | None = None
    output_size: list | None = None
    kernel: list | None = None
    dilations: list | None = None
    strides: list | None = None
    auto_pad: str = "NOTSET"
    pads: list | None = None
    ceil_mode: bool | None = None
    output_padding: list | None = None
    pads_begin: list | None = None
    pads_end: list | None = None
    unread: list | None = None
    before: list | None = None
    after: list | None = None
    sides: dict | None = None
    uneven: bool | None = None
    direction: str = ""
    strided: bool = False
    size_dependent: bool = False
    skew: list | None = None
    leans_toward_padding: bool | None = None
    skew_toward_padding: float | None = None
    lean: str | None = None
    inputs: list = field(default_factory=list)
    notes: list = field(default_factory=list)


@dataclass
class Suggestions:
    """Input sizes near the nominal one at which every strided layer pads evenly.

    Attributes
    ----------
    nominal : list of int
        The spatial size analysed (H, W).
    axes : list of str
        Names of the spatial axes (``height``, ``width``…), in the order of ``nominal``.
    range : list of int
        ``[lo, hi]`` searched (inclusive), per axis.
    mode : str
        ``square`` (all spatial sizes equal, varied together) or ``per-axis``.
    sizes : list of list of int
        Spatial sizes that pad every strided layer evenly, nearest first (per-axis mode: the
        nearest combinations, each checked by a full run).
    per_axis : dict or None
        Per-axis mode: ``{axis name: [good sizes, nearest first]}``.
    input_shapes : list of str
        ``sizes`` written as full input shapes in the model's layout (for ``--input-shape``).
    checked : int
        Shape-inference runs made.
    best : dict or None
        When nothing is fully even: the nearest size with the fewest uneven strided layers.
    never_even : list of str
        Strided layers that pad unevenly at every size tried (ids).
    fixed_uneven : list of str
        Layers uneven at every size (stride 1 with asymmetric pads, ConvTranspose).
    inputs : list of str
        The image inputs varied together (their spatial sizes set to each candidate).
    not_varied : list of str
        Strided layers no varied input reaches (fed by other inputs only): left out of the search.
    mismatched : int
        Candidate sizes rejected because strict ONNX shape inference finds the network's shapes
        do not fit together there (e.g. an Add of an upsampled branch and a skip connection).
    mismatch_example : str
        One such size and where it breaks.
    others : list of Suggestions
        The same search for each other group of image inputs (the rest at their nominal size).
    note : str
    floor : list of int or None
        Per axis, the smallest size searched when no range was given (half the nominal size);
        None when the range was given.
    below_floor : int
        Sizes left out because some layer's output would be under ``MIN_OUTPUT`` px there
        (where it is at least that at the nominal size); 0 when a range was given.
    fixed_input : list of int or None
        The spatial size the model declares as fixed (static dims), when it does: other sizes
        need a re-export.
    relative_change : list of float or None
        Per axis, ``(suggested − nominal) / nominal`` of the first suggestion.
    caveats : list of str
        Plain warnings about the first suggestion (fixed input, large change).
    """

    nominal: list
    axes: list
    range: list
    mode: str
    sizes: list = field(default_factory=list)
    per_axis: dict | None = None
    input_shapes: list = field(default_factory=list)
    checked: int = 0
    best: dict | None = None
    never_even: list = field(default_factory=list)
    fixed_uneven: list = field(default_factory=list)
    inputs: list = field(default_factory=list)
    not_varied: list = field(default_factory=list)
    mismatched: int = 0
    mismatch_example: str = ""
    others: list = field(default_factory=list)
    note: str = ""
    seconds: float = 0.0
    floor: list | None = None
    below_floor: int = 0
    fixed_input: list | None = None
    relative_change: list | None = None
    caveats: list = field(default_factory=list)


@dataclass
class PaddingReport:
    """The padding diagnosis of a model at one input size.

    Attributes
    ----------
    model : dict
        ``path`` and ``producer`` where known.
    input : dict
        ``name``, ``declared`` (dims as the model declares them), ``shape`` (dims analysed,
        None for unknown), ``layout`` and ``layout_source``, ``spatial`` (spatial sizes or None).
    layers : list of PaddingLayer
        Every conv-like node and pool, in graph-walk order.
    summary : dict
        Counts behind ``summary_line``.
    summary_line : str
        One greppable line, e.g. ``5 of 5 stride-2 convs pad unevenly at 224×224 (all top-left); …``.
    suggestions : Suggestions or None
    notes : list of str
    inputs : list of dict
        Every image input (the first is ``input``), same keys as ``input``.
    """

    model: dict
    input: dict
    layers: list
    summary: dict
    summary_line: str
    suggestions: Suggestions | None = None
    notes: list = field(default_factory=list)
    inputs: list = field(default_factory=list)
    schema: str = SCHEMA

    def to_dict(self) -> dict:
        return {
            "schema": self.schema,
            "onnxsym_version": __version__,
            "model": self.model,
            "input": self.input,
            "inputs": list(self.inputs),
            "summary": self.summary,
            "summary_line": self.summary_line,
            "layers": [asdict(layer) for layer in self.layers],
            "suggestions": asdict(self.suggestions) if self.suggestions is not None else None,
            "notes": list(self.notes),
        }

    def attach_skews(self, skews) -> "PaddingReport":
        """Add the weights report's skews (``{id: (down, right)}``) and recompute the leans and
        the summary; returns ``self``."""
        skews = dict(skews or {})
        for row in self.layers:
            sk = skews.get(row.id) if row.kind == "conv" else None
            row.skew = [float(v) for v in sk] if sk is not None else None
            row.skew_toward_padding = _toward(row) if sk is not None else None
            t = row.skew_toward_padding
            row.lean = None if t is None else ("toward" if t >= LEAN_THRESHOLD else
                                               "away" if t <= -LEAN_THRESHOLD else "neither")
            row.leans_toward_padding = None if t is None else row.lean == "toward"
        if self.layers:
            self.summary, self.summary_line = _summarize(self.layers, self.inputs or [self.input or {}],
                                                         bool(skews))
        return self



# --------------------------------------------------------------------------------------------
# Arithmetic
# --------------------------------------------------------------------------------------------
@dataclass
class AxisGeometry:
    pad_begin: int
    pad_end: int
    output: int
    unread: int
    before: int
    after: int


def axis_geometry(kind: str, i: int, k: int, d: int, s: int, pb: int, pe: int, auto_pad: str = "NOTSET",
                  ceil_mode: bool = False, output_padding: int = 0) -> AxisGeometry | None:
    """One spatial axis as onnxruntime computes it; None when the output would be empty."""
    ke = d * (k - 1) + 1
    if kind == "conv_transpose":
        if auto_pad in ("SAME_UPPER", "SAME_LOWER"):
            total = max(0, s * (i - 1) + output_padding + ke - i * s)
            # onnxruntime: SAME_UPPER puts the odd pixel at the end, SAME_LOWER at the beginning.
            pb = total // 2 if auto_pad == "SAME_UPPER" else total - total // 2
            pe = total - pb
        elif auto_pad == "VALID":
            pb = pe = 0
        out = s * (i - 1) + output_padding + ke - pb - pe
        if out <= 0:
            return None
        return AxisGeometry(pb, pe, out, 0, ke - 1 - pb, ke - 1 - pe + output_padding)
    if auto_pad in ("SAME_UPPER", "SAME_LOWER"):
        target = -(-i // s)
        total = max(0, (target - 1) * s + ke - i)
        pb = total // 2 if auto_pad == "SAME_UPPER" else (total + 1) // 2
        pe = total - pb
    elif auto_pad == "VALID":
        pb = pe = 0
    span = i + pb + pe - ke
    if span < 0:
        return None
    if ceil_mode and kind == "pool":
        out = -(-span // s) + 1
        if (out - 1) * s >= i + pb:  # the last window would start in the end padding
            out -= 1
    else:
        out = span // s + 1
    unread = span - (out - 1) * s
    return AxisGeometry(pb, pe, out, unread, pb, pe - unread)


# --------------------------------------------------------------------------------------------
# Layers
# --------------------------------------------------------------------------------------------
@dataclass
class _Spec:
    ref: object
    kind: str
    data: str
    weight: str | None
    kernel: list | None
    dilations: list | None
    strides: list | None
    pads: list | None
    auto_pad: str
    ceil_mode: bool | None
    output_padding: list | None
    error: str = ""


def _spec(ref) -> _Spec:
    node = ref.node
    key = op_key(node)
    a = node_attrs(node)
    if key in CONV_OPS:
        kind = "conv_transpose" if node.op_type == "ConvTranspose" else "conv"
        widx = CONV_OPS[key]
        weight = node.input[widx] if len(node.input) > widx and node.input[widx] else None
    else:
        kind, weight = "pool", None
    auto = attr_text(a.get("auto_pad", "NOTSET")) or "NOTSET"
    ints, error = {}, ""
    for name in ("kernel_shape", "dilations", "strides", "pads", "output_padding"):
        try:
            ints[name] = int_list(a, name)
        except ValueError as err:
            ints[name], error = None, str(err)
    spec = _Spec(ref=ref, kind=kind, data=node.input[0] if node.input else "", weight=weight,
                 kernel=ints["kernel_shape"], dilations=ints["dilations"], strides=ints["strides"],
                 pads=ints["pads"], auto_pad=auto,
                 ceil_mode=bool(a.get("ceil_mode", 0)) if kind == "pool" else None,
                 output_padding=ints["output_padding"], error=error)
    if error:
        return spec
    if auto not in ("NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID"):
        spec.error = f"unknown auto_pad {auto!r}"
    if kind == "pool" and spec.kernel is None:
        spec.error = "pool without kernel_shape"
    return spec


def _nspatial(spec: _Spec, shapes: dict) -> int | None:
    for v in (spec.kernel, spec.strides, spec.dilations):
        if v:
            return len(v)
    if spec.pads:
        return len(spec.pads) // 2
    dims = shapes.get(spec.data)
    if dims is not None and len(dims) >= 3:
        return len(dims) - 2
    w = shapes.get(spec.weight) if spec.weight else None
    if w is not None and len(w) >= 3:
        return len(w) - 2
    return None


def _resolve_static(spec: _Spec, shapes: dict) -> tuple:
    """(n, kernel, dilations, strides, pb, pe, output_padding) or a reason string."""
    if spec.error:
        return spec.error
    n = _nspatial(spec, shapes)
    if n is None:
        return "number of spatial axes unknown (no kernel_shape and no inferred shapes)"
    kernel = spec.kernel
    if kernel is None:
        w = shapes.get(spec.weight) if spec.weight else None
        if w is None or len(w) != n + 2 or None in w[2:]:
            return "kernel size unknown: no kernel_shape attribute and the weight's shape was not inferred"
        kernel = list(w[2:])
    dil = spec.dilations or [1] * n
    st = spec.strides or [1] * n
    pads = spec.pads or [0] * (2 * n)
    op = spec.output_padding or [0] * n
    if not (len(kernel) == len(dil) == len(st) == n and len(pads) == 2 * n and len(op) == n):
        return "inconsistent attribute lengths (kernel_shape/strides/dilations/pads)"
    if min(kernel) < 1 or min(dil) < 1 or min(st) < 1:
        return "kernel, stride and dilation must be positive"
    return n, list(kernel), list(dil), list(st), pads[:n], pads[n:], op


def _input_size(spec: _Spec, shapes: dict, n: int):
    dims = shapes.get(spec.data)
    if dims is None:
        return None, f"input size unknown: shape inference gave no shape for {spec.data!r}"
    if len(dims) != n + 2:
        return None, f"input {spec.data!r} has rank {len(dims)}, expected {n + 2}"
    sp = dims[2:]
    if None in sp:
        return None, ("input size unknown: shape inference left spatial dims of "
                      f"{spec.data!r} unresolved ({'x'.join('?' if d is None else str(d) for d in sp)})")
    return list(sp), ""


def _geometry(spec: _Spec, static, sizes):
    n, kernel, dil, st, pb, pe, op = static
    out = []
    for j in range(n):
        g = axis_geometry(spec.kind, sizes[j], kernel[j], dil[j], st[j], pb[j], pe[j], spec.auto_pad,
                          bool(spec.ceil_mode), op[j])
        if g is None:
            return None
        out.append(g)
    return out


def _direction(n, before, after) -> str:
    sides = _SIDES.get(n)
    parts = []
    for j in range(n):
        if before[j] == after[j]:
            continue
        name = (sides[j] if sides else (f"axis{j}-begin", f"axis{j}-end"))[0 if before[j] > after[j] else 1]
        parts.append(name)
    return "-".join(parts)


def _layer(spec: _Spec, shapes: dict, fn_scope: bool) -> PaddingLayer:
    ref = spec.ref
    row = PaddingLayer(id=ref.id, path=ref.path, op_type=ref.node.op_type, kind=spec.kind,
                       auto_pad=spec.auto_pad, pads=spec.pads, ceil_mode=spec.ceil_mode,
                       output_padding=spec.output_padding if spec.kind == "conv_transpose" else None)
    static = _resolve_static(spec, shapes)
    if isinstance(static, str):
        row.status, row.reason = ("invalid" if spec.error else "unknown"), static
        row.kernel, row.dilations, row.strides = spec.kernel, spec.dilations, spec.strides
        row.strided = bool(spec.strides and max(spec.strides) > 1)
        row.size_dependent = row.strided and spec.kind != "conv_transpose"
        return row
    n, kernel, dil, st, pb, pe, op = static
    row.kernel, row.dilations, row.strides = kernel, dil, st
    row.strided = max(st) > 1
    row.size_dependent = row.strided and spec.kind != "conv_transpose"
    if spec.kind == "conv_transpose":
        row.notes.append("ConvTranspose: pads crop the output; effective padding is that of the "
                         "equivalent stride-1 conv over the zero-stuffed input (k_e-1-p_begin, "
                         "k_e-1-p_end+output_padding) and does not depend on the input size")
    if spec.auto_pad in ("SAME_UPPER", "SAME_LOWER") and max(dil) > 1 and spec.kind == "conv":
        row.notes.append("onnxruntime refuses auto_pad SAME with dilation > 1; shown per the ONNX spec")
    if spec.auto_pad != "NOTSET" and spec.pads and any(spec.pads):
        row.notes.append(f"pads {spec.pads} ignored: auto_pad={spec.auto_pad} takes precedence")
    if fn_scope:
        row.status, row.reason = "unknown", ("input size unknown: node is inside a model-local function "
                                            "(sizes differ per call site)")
        return row
    sizes, why = _input_size(spec, shapes, n)
    if sizes is None:
        row.status, row.reason = "unknown", why
        return row
    row.input_size = sizes
    geo = _geometry(spec, static, sizes)
    if geo is None:
        ke = [d * (k - 1) + 1 for k, d in zip(kernel, dil)]
        row.status = "invalid"
        row.reason = (f"input {'x'.join(map(str, sizes))} is smaller than the kernel's reach "
                      f"{'x'.join(map(str, ke))} with its padding: the output would be empty")
        return row
    row.output_size = [g.output for g in geo]
    row.pads_begin = [g.pad_begin for g in geo]
    row.pads_end = [g.pad_end for g in geo]
    row.unread = [g.unread for g in geo]
    row.before = [g.before for g in geo]
    row.after = [g.after for g in geo]
    sides = _SIDES.get(n)
    if sides:
        row.sides = {}
        for j, (b, e) in enumerate(sides):
            row.sides[b] = row.before[j]
            row.sides[e] = row.after[j]
    row.uneven = row.before != row.after
    row.direction = _direction(n, row.before, row.after) if row.uneven else ""
    if spec.kind == "pool" and spec.ceil_mode and any(u < 0 for u in row.unread):
        row.notes.append("ceil_mode: the last window reads past the declared end padding")
    if spec.kind == "pool" and spec.ceil_mode:
        inferred = shapes.get(ref.node.output[0]) if ref.node.output else None
        if inferred and len(inferred) == n + 2 and None not in inferred[2:] and list(inferred[2:]) != row.output_size:
            row.notes.append(f"ONNX shape inference gives output {'x'.join(map(str, inferred[2:]))}, "
                             f"onnxruntime computes {'x'.join(map(str, row.output_size))} (it drops a "
                             "last window that starts in the padding); downstream sizes follow ONNX")
    return row


def _skew_component(skew, j, n):
    if skew is None:
        return None
    if len(skew) == n:
        return skew[j]
    if n == 1 and len(skew) == 2:
        return skew[1]
    return None


def _lean_axes(row: PaddingLayer) -> tuple[int, int]:
    """(axis components pointing to the more-padded side, uneven axes with k > 1 and a skew)."""
    if not row.uneven or row.kind != "conv" or row.skew is None:
        return 0, 0
    n = len(row.before)
    agree = total = 0
    for j in range(n):
        if row.before[j] == row.after[j] or row.kernel[j] <= 1:
            continue
        c = _skew_component(row.skew, j, n)
        if c is None:
            continue
        total += 1
        agree += c * (-1 if row.before[j] > row.after[j] else 1) > 0
    return agree, total


def _toward(row: PaddingLayer):
    """The skew component toward the more-padded side(s): the skew projected on the unit vector
    pointing there, over the uneven axes with k > 1; None when not applicable."""
    if not row.uneven or row.kind != "conv" or row.skew is None:
        return None
    n = len(row.before)
    comps = []
    for j in range(n):
        if row.before[j] == row.after[j] or row.kernel[j] <= 1:
            continue
        c = _skew_component(row.skew, j, n)
        if c is None:
            return None
        comps.append(c * (-1 if row.before[j] > row.after[j] else 1))
    if not comps:
        return None
    return round(sum(comps) / len(comps) ** 0.5, 4)


# --------------------------------------------------------------------------------------------
# Summary
# --------------------------------------------------------------------------------------------
def _input_size_text(inp: dict) -> str | None:
    """``224×224`` (spatial), else the full shape where every dim is known, else None."""
    if inp.get("spatial"):
        return "×".join(map(str, inp["spatial"]))
    shape = inp.get("shape")
    if shape and all(isinstance(d, int) for d in shape):
        return "x".join(map(str, shape))
    return None


def _at_text(inputs: list) -> tuple[str, list]:
    """(``224×224`` or ``a 64×64, b 32×32``, names of inputs of unknown size)."""
    texts = [(inp.get("name"), _input_size_text(inp)) for inp in inputs]
    unknown = [n for n, t in texts if t is None]
    if len(texts) <= 1:
        return (texts[0][1] if texts and texts[0][1] else "the analysed size"), unknown
    if len(texts) > 4:  # a line, not a list: many inputs are counted
        sizes = Counter(t or "?" for _, t in texts)
        if len(sizes) == 1:
            return f"{next(iter(sizes))} ({len(texts)} image inputs)", unknown
        shown = ", ".join(f"{n} {t or '?'}" for n, t in texts[:3])
        return f"{shown} and {len(texts) - 3} more image inputs", unknown
    return ", ".join(f"{n} {t or '?'}" for n, t in texts), unknown


def _dir_text(counter: Counter) -> str:
    if not counter:
        return ""
    if len(counter) == 1:
        (d, _), = counter.items()
        return f"all {d}"
    return ", ".join(f"{c} {d}" for d, c in counter.most_common())


def _stride_label(rows, noun) -> str:
    strides = {s for r in rows for s in (r.strides or []) if s > 1}
    if len(strides) == 1:
        return f"stride-{strides.pop()} {noun}"
    return f"strided {noun}"


def _lean_text(n_uneven, n_checked, toward, away, neither) -> str:
    """``their mean kernels lean toward the padded side in 0, away from it in 3, neither in 2
    (|skew| ≥ 0.1 counts)``."""
    counts = f"(|skew| ≥ {LEAN_THRESHOLD:g} counts)"
    if n_checked == 1:
        verdict = ("leans toward the padded side" if toward else "leans away from it" if away
                   else "leans neither way")
        return f"{'its' if n_uneven == 1 else 'of the 1 with a skew, its'} mean kernel {verdict} {counts}"
    who = "their mean kernels" if n_checked == n_uneven else f"of the {n_checked} with a skew, mean kernels"
    return f"{who} lean toward the padded side in {toward}, away from it in {away}, neither in {neither} {counts}"


def _summarize(layers, inputs, skews_given) -> tuple[dict, str]:
    known = [r for r in layers if r.status == "ok"]
    sconv = [r for r in known if r.kind == "conv" and r.size_dependent]
    spool = [r for r in known if r.kind == "pool" and r.size_dependent]
    uconv = [r for r in sconv if r.uneven]
    upool = [r for r in spool if r.uneven]
    checked = [r for r in uconv if r.lean is not None]
    leaning = [r for r in checked if r.lean == "toward"]
    away = [r for r in checked if r.lean == "away"]
    neither = [r for r in checked if r.lean == "neither"]
    fixed = [r for r in known if r.uneven and not r.size_dependent]
    summary = {
        "layers": len(layers),
        "known": len(known),
        "unknown": sum(1 for r in layers if r.status == "unknown"),
        "invalid": sum(1 for r in layers if r.status == "invalid"),
        "uneven": sum(1 for r in known if r.uneven),
        "strided_convs": len(sconv),
        "strided_convs_uneven": len(uconv),
        "conv_directions": dict(Counter(r.direction for r in uconv)),
        "skew_checked": len(checked),
        "lean_toward_padding": len(leaning),
        "lean_away_from_padding": len(away),
        "lean_neither": len(neither),
        "lean_threshold": LEAN_THRESHOLD,
        "lean_axes": [sum(_lean_axes(r)[0] for r in uconv), sum(_lean_axes(r)[1] for r in uconv)],
        "strided_pools": len(spool),
        "strided_pools_uneven": len(upool),
        "pool_directions": dict(Counter(r.direction for r in upool)),
        "uneven_at_every_size": [r.id for r in fixed],
        "conv_transposes": sum(1 for r in layers if r.kind == "conv_transpose"),
    }
    at, unknown_inputs = _at_text(inputs)
    size_known = not unknown_inputs
    if not layers:
        return summary, "no convolutions or pools"
    parts = []
    if unknown_inputs:
        parts.append("input size unknown (give --input-shape)" if len(inputs) <= 1 else
                     f"size of input(s) {', '.join(map(repr, unknown_inputs))} unknown (give --input-shape)")
    if sconv:
        part = (f"{len(uconv)} of {len(sconv)} {_stride_label(sconv, 'convs')} pad unevenly at {at}")
        if uconv:
            part += f" ({_dir_text(Counter(r.direction for r in uconv))})"
        parts.append(part)
        if uconv:
            if checked:
                parts.append(_lean_text(len(uconv), len(checked), len(leaning), len(away), len(neither)))
            elif not skews_given:
                parts.append("skew not checked (no weights report)")
    elif known and size_known:
        parts.append(f"no strided convs at {at}")
    if spool:
        part = f"{len(upool)} of {len(spool)} {_stride_label(spool, 'pools')} pad unevenly"
        if upool:
            part += f" ({_dir_text(Counter(r.direction for r in upool))})"
        parts.append(part)
    if fixed:
        parts.append(f"{len(fixed)} more uneven at every size")
    unknown = summary["unknown"] + summary["invalid"]
    if unknown:
        parts.append(f"{unknown} of {len(layers)} layers of unknown size")
    return summary, "; ".join(parts) if parts else "no layer size known"


# --------------------------------------------------------------------------------------------
# Suggestions
# --------------------------------------------------------------------------------------------
def _even_axes(spec, static, shapes, n_axes) -> list | None:
    """Per conv axis: True (even) / False (uneven); None when the size is unknown or invalid."""
    if isinstance(static, str):
        return None
    n = static[0]
    sizes, _ = _input_size(spec, shapes, n)
    if sizes is None:
        return None
    geo = _geometry(spec, static, sizes)
    if geo is None:
        return "too small"
    return [g.before == g.after for g in geo]


def _shrinks(keep_big, shapes) -> bool:
    """Whether some layer's output falls below its floor (``MIN_OUTPUT`` px per axis where it had
    that much at the nominal size) at the sizes in ``shapes``."""
    for spec, static, need in keep_big:
        if isinstance(static, str):
            continue
        sizes, _ = _input_size(spec, shapes, static[0])
        if sizes is None:
            continue
        geo = _geometry(spec, static, sizes)
        if geo is None:
            return True
        if any(g.output < m for g, m in zip(geo, need)):
            return True
    return False


def _names(names) -> str:
    return ", ".join(repr(x) for x in names)


def _suggest(oracle, group, all_dims, specs, statics, rows, size_range, spatial, baseline=frozenset()) -> Suggestions:
    """Search sizes for the image inputs of ``group`` (varied together; every other input stays
    at its size in ``all_dims``) over the strided layers those inputs reach."""
    t0 = time.perf_counter()
    n = len(spatial)
    names = [im.name for im in group]
    axes = list(_AXIS_NAMES.get(n, tuple(f"axis{j}" for j in range(n))))
    floor = None
    if size_range is not None:
        ranges = [tuple(size_range)] * n
    else:  # no sizes below half the nominal one unless a range asks for them
        floor = [max(1, -(-s // 2)) for s in spatial]
        ranges = [(max(f, s - DEFAULT_MARGIN), s + DEFAULT_MARGIN) for s, f in zip(spatial, floor)]
    square = len(set(spatial)) == 1 and len(set(ranges)) == 1
    sug = Suggestions(nominal=list(spatial), axes=axes,
                      range=list(ranges[0]) if len(set(ranges)) == 1 else [list(r) for r in ranges],
                      mode="square" if square else "per-axis", inputs=names, floor=floor)
    # layers whose output must stay >= MIN_OUTPUT px per axis (where it is at the nominal size)
    keep_big = [] if floor is None else [
        (sp, st, [MIN_OUTPUT if o >= MIN_OUTPUT else 0 for o in r.output_size])
        for sp, st, r in zip(specs, statics, rows)
        if r.status == "ok" and r.output_size and any(o >= MIN_OUTPUT for o in r.output_size)
        and set(r.inputs) & set(names)]
    fed = [bool(set(r.inputs) & set(names)) for r in rows]
    active = [(sp, st, r) for sp, st, r, f in zip(specs, statics, rows, fed) if r.size_dependent and f]
    sug.not_varied = [r.id for r, f in zip(rows, fed) if r.size_dependent and not f]
    sug.fixed_uneven = [r.id for r in rows if r.status == "ok" and r.uneven and not r.size_dependent]
    rng = (f"{ranges[0][0]}–{ranges[0][1]}" if len(set(ranges)) == 1
           else ", ".join(f"{a} {lo}–{hi}" for a, (lo, hi) in zip(axes, ranges)))
    fixed_note = (f"{len(sug.fixed_uneven)} layer(s) pad unevenly at every input size (stride 1 with "
                  "asymmetric pads, e.g. TF SAME with an even kernel, or ConvTranspose): no size fixes them")
    others = sorted({i for r, f in zip(rows, fed) if r.size_dependent and not f for i in r.inputs})
    not_varied_note = (f"{len(sug.not_varied)} strided layer(s) not reached from {_names(names)} "
                       f"(fed by {_names(others) if others else 'no image input'}): left out of this search")
    if not active:
        sug.note = "no strided layer: the input size does not change the padding"
        if sug.not_varied:
            sug.note = (f"no strided layer reached from {_names(names)}: its size does not change the padding; "
                        + not_varied_note)
        if sug.fixed_uneven:
            sug.note += "; " + fixed_note
        sug.seconds = round(time.perf_counter() - t0, 4)
        return sug

    def shape_for(sizes, name=None):
        out = {k: list(v) for k, v in all_dims.items()}
        for im in group:
            for ax, v in zip(im.spatial_axes, sizes):
                out[im.name][ax] = v
        return out if name is None else out[name]

    mismatch: dict = {}

    def evaluate(sizes):
        """Per active layer: list of per-axis evenness, or None where its size is unknown, the
        input is too small for it (``too_small``/``unknown_at``) or the network's shapes do not
        fit together at this size (``mismatch``)."""
        try:
            shapes, problems = oracle.infer_checked(shape_for(sizes), need_shapes=bool(baseline))
        except Exception:  # noqa: BLE001 - a size inference cannot handle is just not suggested
            shapes, problems = {}, []
        sug.checked += 1
        new = [p for p in problems if p.key not in baseline]
        if new:
            mismatch[tuple(sizes)] = new[0]
            return [None] * len(active)
        if keep_big and _shrinks(keep_big, shapes or {}):
            tiny.add(tuple(sizes))
            return [None] * len(active)
        res = [_even_axes(sp, st, shapes or {}, n) for sp, st, _ in active]
        if any(ev == "too small" for ev in res):
            too_small.add(tuple(sizes))
        elif any(ev is None for ev in res):
            unknown_at.add(tuple(sizes))
        return [None if isinstance(ev, str) else ev for ev in res]

    known = [False] * len(active)          # size known at some size tried
    ever_even = [[False] * n for _ in active]  # per layer, per axis: even at some size tried
    ever_all_even = [False] * len(active)
    too_small: set = set()
    unknown_at: set = set()
    tiny: set = set()
    score = {}
    if square:
        lo, hi = ranges[0]
        good = []
        for c in range(lo, hi + 1):
            res = evaluate([c] * n)
            for k, ev in enumerate(res):
                if ev is not None:
                    known[k] = True
                    ever_all_even[k] |= all(ev)
            if any(ev is None for ev in res):
                continue
            bad = sum(1 for ev in res if not all(ev))
            score[c] = bad
            if bad == 0:
                good.append(c)
        good.sort(key=lambda c: (abs(c - spatial[0]), c))
        sug.sizes = [[c] * n for c in good]
        never = [known[k] and not ever_all_even[k] for k in range(len(active))]
    else:
        # Axes are independent in conv arithmetic: run t sets every axis to lo_j + t at once and
        # each axis is judged on its own column of results.
        good_axis = [[] for _ in range(n)]
        longest = max(hi - lo + 1 for lo, hi in ranges)
        for t in range(longest):
            sizes, which = [], []
            for j, (lo, hi) in enumerate(ranges):
                v = lo + t
                if v <= hi:
                    sizes.append(v)
                    which.append(j)
                else:
                    sizes.append(spatial[j])
            res = evaluate(sizes)
            if any(ev is None for ev in res) and len(which) > 1:
                # one axis may be too small: judge each axis alone, the others at nominal
                runs = []
                for j in which:
                    alone = list(spatial)
                    alone[j] = sizes[j]
                    runs.append(([j], alone, evaluate(alone)))
            else:
                runs = [(which, sizes, res)]
            for axes_run, sizes_run, res_run in runs:
                for k, ev in enumerate(res_run):
                    if ev is not None:
                        known[k] = True
                        for j in axes_run:
                            ever_even[k][j] |= ev[j]
                for j in axes_run:
                    col = [None if ev is None else ev[j] for ev in res_run]
                    if any(c is None for c in col):
                        continue
                    if all(col):
                        good_axis[j].append(sizes_run[j])
        for j in range(n):
            good_axis[j].sort(key=lambda v: (abs(v - spatial[j]), v))
        sug.per_axis = {axes[j]: good_axis[j] for j in range(n)}
        if all(good_axis):
            import itertools
            combos = sorted(itertools.product(*[g[:6] for g in good_axis]),
                            key=lambda c: (sum(abs(v - s) for v, s in zip(c, spatial)), c))
            for c in combos[:8]:  # confirm the combinations with a full run each
                res = evaluate(list(c))
                if all(ev is not None and all(ev) for ev in res):
                    sug.sizes.append(list(c))
                if len(sug.sizes) >= 5:
                    break
        never = [known[k] and not all(ever_even[k]) for k in range(len(active))]
    sug.never_even = [r.id for k, (_, _, r) in enumerate(active) if never[k]]
    if len(all_dims) == 1:
        sug.input_shapes = ["x".join(map(str, shape_for(s, names[0]))) for s in sug.sizes]
    else:  # name every image input (its size known), so that the others keep theirs
        shown = [k for k, v in all_dims.items() if k in names or all(isinstance(d, int) for d in v)]
        sug.input_shapes = [";".join(f"{k}={'x'.join(map(str, shape_for(s, k)))}" for k in shown)
                            for s in sug.sizes]
    notes = []
    if sug.sizes:
        notes.append(f"{'×'.join(map(str, sug.sizes[0]))} pads every strided layer evenly"
                     + (f" ({len(sug.sizes)} size{'s' if len(sug.sizes) != 1 else ''} in {rng} do{'es' if len(sug.sizes) == 1 else ''})" if square else f" (sizes tried: {rng})"))
    else:
        notes.append(f"no input size in {rng} pads every strided layer evenly")
        if square and score:
            fewest = min(score.values())
            best = min((c for c, v in score.items() if v == fewest), key=lambda c: (abs(c - spatial[0]), c))
            sug.best = {"size": [best] * n, "uneven_strided_layers": fewest}
            notes.append(f"fewest uneven strided layers: {fewest} at {'×'.join([str(best)] * n)}")
        elif not square:
            missing = [axes[j] for j in range(n) if not sug.per_axis[axes[j]]]
            if missing:
                notes.append(f"no even {' or '.join(missing)} in range")
    if sug.never_even:
        head = ", ".join(sug.never_even[:3]) + (f" and {len(sug.never_even) - 3} more"
                                                 if len(sug.never_even) > 3 else "")
        notes.append(f"uneven at every size tried: {head}")
    if too_small:
        notes.append(f"{len(too_small)} size(s) too small for the network (some layer's output would be empty)")
    sug.below_floor = len(tiny)
    if tiny:
        notes.append(f"{len(tiny)} size(s) skipped: some layer's output would be under {MIN_OUTPUT} px "
                     "(give --range to search them)")
    if sug.sizes:
        first = sug.sizes[0]
        sug.relative_change = [round((v - s0) / s0, 4) for v, s0 in zip(first, spatial)]
        big = [(axes[j], spatial[j], first[j], sug.relative_change[j]) for j in range(n)
               if abs(sug.relative_change[j]) > LARGE_CHANGE]
        if big:
            if n > 1 and len(big) == n and len({b[3] for b in big}) == 1:
                what = (f"the size by {abs(big[0][3]) * 100:.0f} % ({'×'.join(map(str, spatial))} → "
                        f"{'×'.join(map(str, first))})")
            else:
                what = ", ".join(f"the {a} by {abs(c) * 100:.0f} % ({s0} → {v})" for a, s0, v, c in big)
            sug.caveats.append(f"{'×'.join(map(str, first))} changes {what}: a change this large may cost "
                               "accuracy; check the model at that size before adopting it")
    if mismatch:
        sug.mismatched = len(mismatch)
        at, prob = min(mismatch.items(), key=lambda kv: (sum(abs(v - s) for v, s in zip(kv[0], spatial)), kv[0]))
        sug.mismatch_example = f"{'×'.join(map(str, at))}: {prob.text()}"
        notes.append(f"{len(mismatch)} size(s) skipped: the network's shapes do not fit together there "
                     f"(e.g. at {'×'.join(map(str, at))}, {prob.where()}: {prob.message})")
    if unknown_at:
        notes.append(f"{len(unknown_at)} size(s) skipped: some strided layer's size could not be inferred there")
    if sug.not_varied:
        notes.append(not_varied_note)
    if sug.fixed_uneven:
        notes.append(fixed_note)
    sug.note = "; ".join(notes)
    sug.seconds = round(time.perf_counter() - t0, 4)
    return sug


# --------------------------------------------------------------------------------------------
# Entry point
# --------------------------------------------------------------------------------------------
def _parse_range(size_range):
    if size_range is None:
        return None
    if isinstance(size_range, str):
        text = size_range.strip()
        sep = ":" if ":" in text else ("-" if "-" in text.lstrip("-") else None)
        parts = text.split(sep) if sep else []
        try:
            lo, hi = (int(p) for p in parts)
        except (ValueError, TypeError):
            raise InputError(f"cannot parse size range {size_range!r}: expected LO:HI, e.g. 192:256") from None
    else:
        try:
            lo, hi = (int(v) for v in size_range)
        except (ValueError, TypeError):
            raise InputError(f"cannot parse size range {size_range!r}: expected (lo, hi)") from None
    if lo < 1 or hi < lo:
        raise InputError(f"size range {lo}:{hi} is empty or not positive: expected 1 <= LO <= HI")
    if hi - lo > 4096:
        raise InputError(f"size range {lo}:{hi} is too wide (at most 4097 sizes)")
    return lo, hi


def _parse_given(input_shape):
    """None, ``("one", dims)`` or ``("named", {input name: dims})`` (a mapping, or text like
    ``a=1x3x64x64;b=1x3x32x32``)."""
    if input_shape is None:
        return None
    if isinstance(input_shape, dict):
        return "named", {str(k): parse_shape(v) for k, v in input_shape.items()}
    if isinstance(input_shape, str) and "=" in input_shape:
        out = {}
        for part in input_shape.split(";"):
            if not part.strip():
                continue
            name, sep, shape = part.partition("=")
            if not sep or not name.strip():
                raise InputError(f"cannot parse input shape {input_shape!r}: expected NAME=SHAPE;NAME=SHAPE, "
                                 "e.g. a=1x3x64x64;b=1x3x32x32")
            out[name.strip()] = parse_shape(shape)
        return "named", out
    return "one", parse_shape(input_shape)


def _resolve_dims(image, given, rank) -> list:
    """The dims analysed for ``image``: ``given`` (full or spatial only) checked against the
    declaration, else the declared dims with a symbolic batch taken as 1."""
    declared = image.declared if image.declared is not None else (None,) * rank
    if given is not None:
        if len(given) == rank:
            dims = list(given)
        elif len(given) == rank - 2:
            if not image.spatial_axes:
                raise InputError(f"cannot tell which axes of input {image.name!r} ({image.declared_text()}) are "
                                 "spatial from the graph: give the full shape as the model declares it "
                                 "(e.g. 1x3x224x224 or 1x224x224x3) or the layout (--layout NCHW|NHWC)")
            dims = [d if isinstance(d, int) else None for d in declared]
            dims[image.batch_axis] = dims[image.batch_axis] or 1
            if dims[image.channel_axis] is None:
                raise InputError(f"input {image.name!r} ({image.declared_text()}) has no static channel count: "
                                 "give the full shape")
            for ax, v in zip(image.spatial_axes, given):
                dims[ax] = v
        else:
            raise InputError(f"input shape {'x'.join(map(str, given))} has {len(given)} dims; model input "
                             f"{image.name!r} has {rank} ({image.declared_text()})")
        if image.channel_axis is not None:
            c = declared[image.channel_axis]
            if isinstance(c, int) and c != dims[image.channel_axis]:
                raise InputError(f"input shape {'x'.join(map(str, dims))} does not match input {image.name!r} "
                                 f"({image.declared_text()}, layout {image.layout}): it has {c} channels, "
                                 f"not {dims[image.channel_axis]}")
        return dims
    dims = []
    batch_axis = image.batch_axis if image.batch_axis is not None else 0
    for ax, d in enumerate(declared):
        if isinstance(d, int) and d > 0:
            dims.append(d)
        elif ax == batch_axis:
            dims.append(1)
        else:
            dims.append(d if isinstance(d, str) else None)
    return dims


def _input_info(image, dims) -> dict:
    spatial = None
    if image.spatial_axes and all(isinstance(dims[a], int) for a in image.spatial_axes):
        spatial = [dims[a] for a in image.spatial_axes]
    return {"name": image.name, "elem_type": image.elem_type,
            "declared": list(image.declared) if image.declared is not None else None,
            "shape": [d if isinstance(d, int) else None for d in dims],
            "layout": image.layout, "layout_source": image.layout_source,
            "spatial": spatial}


def _groups(images, infos) -> list:
    """Image inputs whose sizes are varied together: the same nominal spatial size (or the same
    symbolic spatial dims), first group holding the first input."""
    groups: list = []
    for im, info in zip(images, infos):
        if info["spatial"] is None:
            continue
        sym = tuple(im.declared[a] for a in im.spatial_axes) if im.declared is not None else ()
        key = (tuple(info["spatial"]), sym if all(isinstance(d, str) for d in sym) else None)
        for g in groups:
            if g["spatial"] == key[0] and (key[1] is None or g["sym"] in (None, key[1])):
                g["images"].append(im)
                break
        else:
            groups.append({"spatial": key[0], "sym": key[1], "images": [im]})
    return groups


def analyze_padding(model, input_shape=None, *, skews=None, suggest: bool = True, size_range=None,
                    layout: str | None = None) -> PaddingReport:
    """Effective padding of every conv and pool of ``model`` at one input size.

    Parameters
    ----------
    model : str, os.PathLike, LoadedModel or onnx.ModelProto
    input_shape : str, sequence of int or mapping, optional
        The image input's shape as the model declares it (``"1x3x224x224"``; NHWC models
        ``"1x224x224x3"``), or its spatial sizes only (``"224x224"``) when the layout is known.
        Models with several image inputs: this is the first one's shape (others whose declared
        dims share its symbolic names follow it), or per input ``{"a": "1x3x64x64", ...}`` /
        ``"a=1x3x64x64;b=1x3x32x32"``.
        Default: the declared shape, with a symbolic batch dim taken as 1.
    skews : mapping or "weights", optional
        ``{layer id: (down, right)}`` from the weights report (``LayerResult.skew``), or
        ``"weights"`` to compute them here from the model's weights (a weights pass without the
        per-kernel scores).
    suggest : bool
        Search input sizes that pad every strided layer evenly. Image inputs of equal size are
        varied together; each other input is searched on its own, the rest at their size.
        Candidates at which strict ONNX shape inference finds shapes that do not fit together
        (an upsampled branch added to a skip connection of another size, …) are rejected.
    size_range : (lo, hi) or "lo:hi", optional
        Sizes to search (inclusive) for the first image input; default nominal ± 32.
    layout : str, optional
        ``"NCHW"``/``"NHWC"``… when the graph does not show it.

    Raises
    ------
    InputError
        Unparsable or non-positive shape, rank mismatch, channel mismatch, no image input.
    """
    proto, source = as_model_proto(model)
    rng = _parse_range(size_range)
    given = _parse_given(input_shape)
    model_info = {"path": str(getattr(source, "path", "")) or None,
                  "producer": f"{proto.producer_name} {proto.producer_version}".strip() or None}
    refs = [r for r in walk_nodes(proto)
            if op_key(r.node) in LAYER_OPS]
    notes: list[str] = []
    if not refs:
        return PaddingReport(model=model_info, input={}, layers=[], summary={"layers": 0},
                             summary_line="no convolutions or pools", notes=["the model has no conv or pool"])
    named = given[1] if given and given[0] == "named" else {}
    one = given[1] if given and given[0] == "one" else None
    images = find_image_inputs(proto, given_rank=len(one) if one else None)
    if named:
        for im in find_image_inputs(proto, given_rank=max(len(v) for v in named.values())):
            if im.name not in {i.name for i in images}:
                images.append(im)
        unknown = [k for k in named if k not in {i.name for i in images}]
        if unknown:
            raise InputError(f"--input-shape names {', '.join(map(repr, unknown))}, which is not an image input "
                             f"of the model (image inputs: {', '.join(i.name for i in images) or 'none'})")
    if not images:
        raise InputError("model has no image input: no 3-D, 4-D or 5-D float input feeds a convolution "
                         f"or pool (inputs: {describe_inputs(proto)})")
    all_dims: dict = {}
    infos = []
    index = graph_index(proto)
    for j, image in enumerate(images):
        g = named.get(image.name) if named else (one if j == 0 else None)
        rank = image.rank if image.rank is not None else len(g) if g is not None else None
        if rank is None:
            continue
        trace_layout(proto, image, rank, index)
        if layout and (j == 0 or len(layout.strip()) == rank):
            traced = image.layout
            apply_layout(image, layout)
            if traced and traced != image.layout:
                notes.append(f"layout {image.layout} given for {image.name!r}; the graph suggests {traced}")
        dims = _resolve_dims(image, g, rank)
        if j > 0 and g is None and images[0].declared is not None:
            # dims named like the first input's symbolic dims take its values
            first = dict(zip(images[0].declared, all_dims[images[0].name]))
            dims = [first.get(d, d) if isinstance(d, str) and isinstance(first.get(d), int) else d
                    for d in dims]
        all_dims[image.name] = dims
        info = _input_info(image, dims)
        infos.append(info)
        unknown_dims = [str(image.declared[a]) if image.declared and image.declared[a] is not None else "?"
                        for a, d in enumerate(dims) if not isinstance(d, int)]
        info["unknown_dims"] = unknown_dims
    images = [im for im in images if im.name in all_dims]
    image = images[0]
    oracle = ShapeOracle(proto)
    for im, info in zip(images, infos):
        if info["unknown_dims"]:
            info["example_shape"] = _example_shape(im, all_dims[im.name], oracle, proto, all_dims)
            notes.append(f"input {im.name!r} (declared {_declared_short(im)}) has no known "
                         f"{'spatial size' if info['spatial'] is None else 'size'}: give e.g. "
                         f"--input-shape {info['example_shape']}")
    any_unknown = any(info.pop("unknown_dims") for info in infos)
    if oracle.upgraded_from is not None:
        notes.append(f"sizes inferred on an opset-{oracle.upgraded_to} copy: at opset {oracle.upgraded_from} ONNX "
                     "cannot size a Reshape to a shape computed at run time")
    problems = []
    try:
        shapes, problems = oracle.infer_checked(all_dims)
    except Exception as e:  # noqa: BLE001 - inference failures are reported per layer
        shapes = {}
        notes.append(f"ONNX shape inference failed: {' '.join(str(e).split())[:300]}")
    # Problems that do not disqualify a candidate size: at the model's own declared shape, all of
    # them (the model is analysed as shipped); at a size the user gave, only those that are not
    # shape mismatches (type complaints of ONNX's checker that onnxruntime may not share).
    as_declared = all(im.declared is not None and list(im.declared) == all_dims[im.name] for im in images)
    baseline = frozenset(p.key for p in problems if as_declared or p.kind != "ShapeInferenceError")
    at, _unk = _at_text(infos)
    if problems and not any_unknown:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        notes.append(f"the network's shapes do not fit together at {at} (strict ONNX shape inference: "
                     f"{problems[0].text()}{more}); layers after that point are of unknown size")
    elif problems:
        notes.append(f"strict ONNX shape inference: {problems[0].text()}")
    notes.extend(oracle.loop_notes)
    reached = {im.name: reach(proto, im.name, *index) for im in images}
    specs = [_spec(r) for r in refs]
    rows = []
    statics = []
    for spec in specs:
        in_fn = spec.ref.path.startswith("function:")
        row = _layer(spec, shapes, in_fn)
        row.inputs = [im.name for im in images if spec.data in reached[im.name]]
        if row.status == "unknown" and any_unknown and "function" not in row.reason:
            row.reason = ("input size unknown: an image input has unknown dims; give --input-shape"
                          if len(images) > 1 else
                          f"input size unknown: model input {image.name!r} has unknown dims; give --input-shape")
        elif row.status == "unknown" and shapes and "function" not in row.reason:
            why = _blocker(proto, spec.data, shapes)
            if why:
                row.reason += f": {why}"
        rows.append(row)
        statics.append(_resolve_static(spec, shapes))
    for im in images:
        fixed = _fixed_spatial(im)
        given_sp = [all_dims[im.name][a] for a in im.spatial_axes] if im.spatial_axes else None
        if fixed and given_sp and given_sp != fixed:
            notes.append(f"input {im.name!r} is fixed at {'×'.join(map(str, fixed))} in the model; analysed at "
                         f"{'×'.join(map(str, given_sp))} as given: onnxruntime refuses that size until the model "
                         "is re-exported with it (or with a dynamic input)")
    report = PaddingReport(model=model_info, input=infos[0], layers=rows, summary={}, summary_line="",
                           notes=notes, inputs=infos)
    if isinstance(skews, str) and skews == "weights":
        from .weights import layer_skews

        if not hasattr(source, "array"):
            raise InputError('skews="weights" needs a model file or LoadedModel, not a bare ModelProto')
        skews = layer_skews(source) if any(r.kind == "conv" for r in rows) else None
    report.attach_skews(skews)
    if suggest:
        spatial = infos[0]["spatial"]
        if spatial is None:
            if not image.spatial_axes:
                notes.append("no size suggestions: cannot tell which input axes are spatial from the graph; "
                             "give --layout NCHW|NHWC")
            elif not any_unknown:
                notes.append("no size suggestions: the input size is not known")
        else:
            groups = _groups(images, infos)
            main_sug = None
            for k, grp in enumerate(groups):
                sug = _suggest(oracle, grp["images"], all_dims, specs, statics, rows, rng if k == 0 else None,
                               list(grp["spatial"]), baseline)
                _fixed_caveat(sug, grp["images"])
                if main_sug is None:
                    main_sug = sug
                else:
                    main_sug.others.append(sug)
            report.suggestions = main_sug
    return report


def _fixed_spatial(image) -> list | None:
    """The spatial size the model declares, when every spatial dim is static."""
    if image.declared is None or not image.spatial_axes:
        return None
    dims = [image.declared[a] for a in image.spatial_axes]
    return dims if all(isinstance(d, int) and d > 0 for d in dims) else None


def _fixed_caveat(sug, images):
    fixed = [f for f in (_fixed_spatial(im) for im in images) if f]
    if not fixed:
        return
    sug.fixed_input = fixed[0]
    if sug.sizes and sug.sizes[0] != fixed[0]:
        want = "×".join(map(str, sug.sizes[0]))
        sug.caveats.insert(0, f"the model's input is fixed at {'×'.join(map(str, fixed[0]))}: re-export it with "
                              f"a {want} (or dynamic) input to use this size")


def _declared_short(image) -> str:
    """Declared dims with long symbolic names shown as ``?`` (``?×3×?×?``)."""
    if image.declared is None:
        return "?"
    return "×".join(str(d) if isinstance(d, int) and d > 0 else (d if isinstance(d, str) and 0 < len(d) <= 6
                                                                 else "?") for d in image.declared)


_TYPICAL = (224, 256, 320, 512, 640)


def _example_shape(image, dims, oracle=None, proto=None, all_dims=None) -> str:
    """An ``--input-shape`` for ``image`` built from its declared dims: known dims kept, batch 1,
    channels 3, and unknown spatial dims set to a size that fits the network: 640 for models
    that upsample (detection, segmentation), 224 otherwise, or the first of 224, 256, 320, 512,
    640 at which strict shape inference finds no mismatch."""
    spatial = set(image.spatial_axes or ())
    known_sp = [d for ax, d in enumerate(dims) if ax in spatial and isinstance(d, int)]
    upsamples = proto is not None and any(n.op_type in ("ConvTranspose", "Resize", "Upsample")
                                          for n in proto.graph.node)
    first = known_sp[0] if known_sp else (640 if upsamples else 224)
    candidates = [first] + [c for c in _TYPICAL if c != first]

    def shape(c):
        ex = []
        for ax, d in enumerate(dims):
            if isinstance(d, int):
                ex.append(d)
            elif ax == image.channel_axis:
                ex.append(3)
            elif ax == image.batch_axis:
                ex.append(1)
            else:
                ex.append(c)
        return ex

    if oracle is not None and all_dims is not None and spatial:
        for c in candidates:
            trial = {k: list(v) for k, v in all_dims.items()}
            trial[image.name] = shape(c)
            try:
                _, problems = oracle.infer_checked(trial, need_shapes=False)
            except Exception:  # noqa: BLE001 - keep the first candidate
                break
            if not problems:
                return "x".join(map(str, shape(c)))
    return "x".join(map(str, shape(first)))


def _blocker(proto, tensor, shapes) -> str:
    """Why ``tensor`` has no inferred size: the first node upstream whose inputs all have
    shapes but whose output has none (e.g. a Reshape to a shape computed at run time)."""
    producer = {}
    for node in proto.graph.node:
        for o in node.output:
            producer[o] = node
    seen, todo = set(), [tensor]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        node = producer.get(name)
        if node is None:
            continue
        ins = [i for i in node.input if i]
        unknown = [i for i in ins if shapes.get(i) is None or None in shapes.get(i)]
        if not unknown:
            label = f"{node.op_type} {node.name!r}" if node.name else node.op_type
            if node.op_type == "Reshape" and len(ins) > 1:
                return (f"shape inference loses the size at {label}, whose target shape is computed at run "
                        "time")
            return f"shape inference loses the size at {label}"
        todo.extend(unknown)
    return ""
