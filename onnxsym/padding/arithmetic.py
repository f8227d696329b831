"""Convolution arithmetic: the effective padding of one layer at one input size.

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
"""
from __future__ import annotations

import numpy as np

from dataclasses import dataclass

from ..model.ops import PADDED_CONV_OPS, conv_attrs, op_key
from .results import PaddingLayer

SIDES = {1: (("left", "right"),),
         2: (("top", "bottom"), ("left", "right")),
         3: (("front", "back"), ("top", "bottom"), ("left", "right"))}


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


@dataclass
class LayerSpec:
    """What the arithmetic needs of one conv or pool node (attributes read once, by
    :func:`onnxsym.model.ops.conv_attrs`)."""

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
    explicit_pad: dict | None = None


_PAD_MODES = ("constant", "reflect", "edge", "wrap")


def _pad_values(node, values: dict, opset: int):
    """A Pad node's pads (all begins, then all ends) and mode, or None when not known."""
    mode = "constant"
    pads = None
    for a in node.attribute:
        if a.name == "mode":
            mode = a.s.decode("utf-8", "replace") if isinstance(a.s, bytes) else str(a.s)
        elif a.name in ("pads", "paddings") and opset < 11:
            pads = list(a.ints)
    if opset >= 11:
        if len(node.input) < 2 or not node.input[1] or node.input[1] not in values:
            return None
        if len(node.input) > 3 and node.input[3]:
            return None   # pads over chosen axes (opset 18): left as a separate op
        pads = [int(v) for v in np.asarray(values[node.input[1]]).reshape(-1)]
    return (pads, mode) if pads is not None and mode in _PAD_MODES else None


def absorb_explicit_pad(spec: LayerSpec, producer, values: dict, opset: int) -> None:
    """A Pad right before a conv or pool (spatial pads only, none negative, no ``auto_pad``) is
    part of the layer's padding, as exporters write PyTorch's ``padding_mode="reflect"`` and
    TensorFlow's explicit paddings: the layer reads the Pad's input, and the Pad's pads add to
    its own. ``producer``: the node that makes the layer's input (or None); ``values``: small
    load-time constants (:attr:`onnxsym.model.shapes.ShapeOracle.values`)."""
    if (producer is None or producer.op_type != "Pad" or producer.domain not in ("", "ai.onnx")
            or spec.kind == "conv_transpose" or spec.auto_pad not in ("NOTSET", "") or spec.error
            or not producer.input):
        return
    found = _pad_values(producer, values, opset)
    if found is None:
        return
    pads, mode = found
    rank = len(pads) // 2
    n = rank - 2
    if n < 1 or len(pads) != 2 * rank or any(p < 0 for p in pads) or any(pads[a] or pads[rank + a] for a in (0, 1)):
        return
    begin, end = pads[2:rank], pads[rank + 2:]
    own = spec.pads if spec.pads and len(spec.pads) == 2 * n else [0] * (2 * n)
    spec.pads = [own[i] + begin[i] for i in range(n)] + [own[n + i] + end[i] for i in range(n)]
    spec.data = producer.input[0]
    spec.explicit_pad = {"node": producer.name or producer.output[0], "mode": mode, "pads": begin + end}


def spec_of(ref) -> LayerSpec:
    """The :class:`LayerSpec` of a conv or pool ``ref`` (a NodeRef)."""
    node = ref.node
    key = op_key(node)
    if key in PADDED_CONV_OPS:
        kind = "conv_transpose" if node.op_type == "ConvTranspose" else "conv"
        widx = PADDED_CONV_OPS[key]
        weight = node.input[widx] if len(node.input) > widx and node.input[widx] else None
    else:
        kind, weight = "pool", None
    at = conv_attrs(node)

    def listed(v):
        return None if v is None else list(v)

    error = at.error(("kernel_shape", "dilations", "strides", "pads", "output_padding", "auto_pad"))
    spec = LayerSpec(ref=ref, kind=kind, data=node.input[0] if node.input else "", weight=weight,
                     kernel=listed(at.kernel_shape), dilations=listed(at.dilations), strides=listed(at.strides),
                     pads=listed(at.pads), auto_pad=at.auto_pad,
                     ceil_mode=at.ceil_mode if kind == "pool" else None,
                     output_padding=listed(at.output_padding), error=error)
    if not error and kind == "pool" and spec.kernel is None:
        spec.error = "pool without kernel_shape"
    return spec


def nspatial(spec: LayerSpec, shapes: dict) -> int | None:
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


def resolve_static(spec: LayerSpec, shapes: dict) -> tuple:
    """(n, kernel, dilations, strides, pb, pe, output_padding) or a reason string."""
    if spec.error:
        return spec.error
    n = nspatial(spec, shapes)
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


def input_size(spec: LayerSpec, shapes: dict, n: int):
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


def geometry(spec: LayerSpec, static, sizes):
    n, kernel, dil, st, pb, pe, op = static
    out = []
    for j in range(n):
        g = axis_geometry(spec.kind, sizes[j], kernel[j], dil[j], st[j], pb[j], pe[j], spec.auto_pad,
                          bool(spec.ceil_mode), op[j])
        if g is None:
            return None
        out.append(g)
    return out


def direction(n, before, after) -> str:
    sides = SIDES.get(n)
    parts = []
    for j in range(n):
        if before[j] == after[j]:
            continue
        name = (sides[j] if sides else (f"axis{j}-begin", f"axis{j}-end"))[0 if before[j] > after[j] else 1]
        parts.append(name)
    return "-".join(parts)


def layer_row(spec: LayerSpec, shapes: dict, fn_scope: bool) -> PaddingLayer:
    ref = spec.ref
    row = PaddingLayer(id=ref.id, path=ref.path, op_type=ref.node.op_type, kind=spec.kind,
                       auto_pad=spec.auto_pad, pads=spec.pads, ceil_mode=spec.ceil_mode,
                       output_padding=spec.output_padding if spec.kind == "conv_transpose" else None,
                       explicit_pad=spec.explicit_pad)
    if spec.explicit_pad:
        e = spec.explicit_pad
        row.notes.append(f"the {e['mode']} Pad {e['node']!r} before it is counted as its padding "
                         f"({', '.join(map(str, e['pads']))})")
    static = resolve_static(spec, shapes)
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
    sizes, why = input_size(spec, shapes, n)
    if sizes is None:
        row.status, row.reason = "unknown", why
        return row
    row.input_size = sizes
    geo = geometry(spec, static, sizes)
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
    sides = SIDES.get(n)
    if sides:
        row.sides = {}
        for j, (b, e) in enumerate(sides):
            row.sides[b] = row.before[j]
            row.sides[e] = row.after[j]
    row.uneven = row.before != row.after
    row.direction = direction(n, row.before, row.after) if row.uneven else ""
    if spec.kind == "pool" and spec.ceil_mode and any(u < 0 for u in row.unread):
        row.notes.append("ceil_mode: the last window reads past the declared end padding")
    if spec.kind == "pool" and spec.ceil_mode:
        inferred = shapes.get(ref.node.output[0]) if ref.node.output else None
        if inferred and len(inferred) == n + 2 and None not in inferred[2:] and list(inferred[2:]) != row.output_size:
            row.notes.append(f"ONNX shape inference gives output {'x'.join(map(str, inferred[2:]))}, "
                             f"onnxruntime computes {'x'.join(map(str, row.output_size))} (it drops a "
                             "last window that starts in the padding); downstream sizes follow ONNX")
    return row
