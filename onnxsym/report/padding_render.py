"""Renderers of a PaddingReport: text table and JSON. They format; they never compute.

``to_table(report)`` lists every conv and pool; ``to_table(report, strided_only=True)`` (also
``strided_table(report)``) only the strided and the uneven ones, the compact form for the
weights command. Both fit about 110 columns: layer ids are the compact ids of the weights table
(:func:`onnxsym.report.labels.layer_label`), sizes are written ``224×224``.
"""
from __future__ import annotations

from ..wording import param

import json
import textwrap

from .labels import layer_label

LAYER_WIDTH = 32
WIDTH = 110  # prose lines (summary, suggestions, notes) are wrapped at this width
_OPS = {"ConvTranspose": "ConvT", "AveragePool": "AvgPool", "QLinearConv": "QLConv",
        "ConvInteger": "ConvInt"}
_AUTO = {"SAME_UPPER": "SAME_U", "SAME_LOWER": "SAME_L", "VALID": "VALID"}


def to_json(report, indent: int | None = 2) -> str:
    """The ``onnxsym.padding/1`` JSON document."""
    return json.dumps(report.to_dict(), indent=indent, ensure_ascii=False)


def _x(v, sep="×"):
    return "?" if v is None else sep.join("?" if d is None else str(d) for d in v)


def _one(v):
    """``2`` when every axis has the same value, else ``2×1``."""
    if not v:
        return "1"
    return str(v[0]) if len(set(v)) == 1 else _x(v)


def _ks(r) -> str:
    text = f"{_x(r.kernel)}/{_one(r.strides)}" if r.kernel else f"?/{_one(r.strides)}"
    if r.dilations and max(r.dilations) > 1:
        text += f" d{_one(r.dilations)}"
    return text


def _pads(r) -> str:
    if r.auto_pad != "NOTSET":
        text = _AUTO.get(r.auto_pad, r.auto_pad)
    elif not r.pads:
        text = "0"
    else:
        text = str(r.pads[0]) if len(set(r.pads)) == 1 else ",".join(map(str, r.pads))
    if getattr(r, "explicit_pad", None):
        text += f" ({r.explicit_pad['mode']} Pad)"
    return text + (" ceil" if r.ceil_mode else "")


def _layer(r, width: int = LAYER_WIDTH) -> str:
    return layer_label(r.id, r.op_type, width=width)


def _op(r) -> str:
    return _OPS.get(r.op_type, r.op_type)


MAX_LISTED_INPUTS = 4  # a heading names at most this many image inputs, then counts the rest


def _listing(items) -> str:
    items = list(items)
    if len(items) <= MAX_LISTED_INPUTS:
        return ", ".join(items)
    return ", ".join(items[:3]) + f" and {len(items) - 3} more"


def _heading(report, strided_only: bool) -> list:
    inputs = report.inputs or ([report.input] if report.input else [])
    if not inputs:
        return []
    what = "Padding of strided and uneven layers" if strided_only else "Padding"
    layout = sorted({i.get("layout") or "layout unknown" for i in inputs})
    names = _listing(repr(i.get("name")) for i in inputs)
    noun = "inputs" if len(inputs) > 1 else "input"
    if any(i.get("spatial") is None for i in inputs):
        sizes = [i.get("spatial") for i in inputs]
        at = (" at " + _listing(f"{i.get('name')} {_x(s) if s else '?'}" for i, s in zip(inputs, sizes))
              if len(inputs) > 1 else "")
        return [f"{what}{at} ({noun} {names}, {', '.join(layout)}): input size unknown"]
    at = (_x(inputs[0]["spatial"]) if len(inputs) == 1
          else _listing(f"{i.get('name')} {_x(i['spatial'])}" for i in inputs))
    return [f"{what} at {at} ({noun} {names}, {', '.join(layout)})"]


def _size_known(report) -> bool:
    inputs = report.inputs or ([report.input] if report.input else [])
    return bool(inputs) and all(i.get("spatial") is not None for i in inputs)


def _static_rows(report, rows, layer_width: int = LAYER_WIDTH) -> list:
    """The input size is unknown: strided layers with what is known without it."""
    strided = [(k, r) for k, r in rows if r.strided]
    lines = []
    n = len(report.layers)
    if not strided:
        lines.append(f"{n} conv/pool layers, none strided: sizes unknown until {param('input_shape')} is given")
        return lines
    lines.append(f"{n} conv/pool layers; the {len(strided)} strided ones (sizes unknown until "
                 f"{param('input_shape')} is given):")
    table = [["#", "layer", "op", "k/s", "pads"]]
    for k, r in strided:
        table.append([str(k), _layer(r, layer_width), _op(r), _ks(r), _pads(r)])
    lines.extend(_align(table, "rllll"))
    return lines


def _align(table, align) -> list:
    widths = [max(len(row[c]) for row in table) for c in range(len(table[0]))]
    out = []
    for row in table:
        cells = [cell.rjust(widths[c]) if align[c] == "r" else cell.ljust(widths[c]) for c, cell in enumerate(row)]
        out.append("  ".join(cells).rstrip())
    return out


def _reason_lines(rows) -> list:
    """One line per distinct reason of the rows that are not ``ok``."""
    groups: dict = {}
    for k, r in rows:
        if r.status != "ok":
            groups.setdefault((r.status, r.reason), []).append(k)
    out = []
    for (status, reason), ks in list(groups.items())[:4]:
        where = f"#{ks[0]}" if len(ks) == 1 else (f"#{ks[0]}–{ks[-1]}" if ks[-1] - ks[0] == len(ks) - 1
                                                  else ", ".join(f"#{k}" for k in ks[:6]) + (" …" if len(ks) > 6 else ""))
        out.append(f"{status} ({len(ks)} layer{'s' if len(ks) > 1 else ''}, {where}): {reason}")
    if len(groups) > 4:
        out.append(f"… and {len(groups) - 4} more reasons (see the JSON)")
    return out


def _wrap(prefix: str, text: str, width: int = WIDTH) -> list:
    """``prefix + text`` in lines of at most ``width``, broken after "; " where possible (each
    clause stays whole, so it can be grepped), continuation lines indented by two spaces."""
    line = prefix + text
    if len(line) <= width:
        return [line]
    clauses = text.split("; ")
    out, cur, empty = [], prefix, True
    for k, c in enumerate(clauses):
        piece = c + (";" if k < len(clauses) - 1 else "")
        if empty:
            cur, empty = cur + piece, False
        elif len(cur) + 1 + len(piece) > width:
            out.append(cur)
            cur = "  " + piece
        else:
            cur += " " + piece
    out.append(cur)
    final = []
    for ln in out:
        if len(ln) <= width:
            final.append(ln)
        else:
            final.extend(textwrap.wrap(ln, width, subsequent_indent="  ", break_long_words=False,
                                       break_on_hyphens=False))
    return final


def to_table(report, strided_only: bool = False, heading: bool = True, columns: int = WIDTH) -> str:
    """The padding section as text, about ``columns`` wide.

    ``strided_only``: list only the strided layers and the uneven ones (the compact form shown
    under the weights table); ``heading``: start with ``Padding at 224×224 (input 'input', NCHW)``;
    ``columns``: the terminal width (the layer column and the prose lines adapt to it; the table
    keeps its other columns whole).
    """
    width = max(40, columns)
    layer_width = max(16, min(48, width - 78))
    lines = _heading(report, strided_only) if heading else []
    inputs = report.inputs or ([report.input] if report.input else [])
    if len(inputs) > 1:
        for inp in inputs[:2 * MAX_LISTED_INPUTS]:
            lines.append(f"  input {inp.get('name')!r}: {_x(inp.get('shape'))} (layout {inp.get('layout') or 'unknown'})")
        if len(inputs) > 2 * MAX_LISTED_INPUTS:
            lines.append(f"  … and {len(inputs) - 2 * MAX_LISTED_INPUTS} more image inputs (all in the JSON report)")
    rows = list(enumerate(report.layers))
    if strided_only:
        rows = [(k, r) for k, r in rows if r.strided or r.uneven]
    if not _size_known(report) and report.layers:
        lines.extend(_static_rows(report, rows, layer_width))
    elif rows:
        table = [["#", "layer", "op", "in", "k/s", "pads", "unread", "eff pad", "uneven", "skew(↓,→)", "lean"]]
        for k, r in rows:
            if r.status == "ok":
                eff = " ".join(f"{b}/{a}" for b, a in zip(r.before, r.after))
                unev = r.direction if r.uneven else "even"
                unread = ",".join(map(str, r.unread))
            else:
                eff, unev, unread = "?", r.status, "?"
            skew = "-" if r.skew is None else ",".join(f"{v:+.2f}" for v in r.skew)
            table.append([str(k), _layer(r, layer_width), _op(r), _x(r.input_size) if r.input_size else "?", _ks(r),
                          _pads(r), unread, eff, unev, skew, r.lean or "-"])
        lines.extend(_align(table, "rllllllllll"))
        for ln in _reason_lines(rows):
            lines.extend(_wrap("", ln, width))
        legend = "k/s: kernel/stride; eff pad: before/after per axis"
        if any(getattr(r, "explicit_pad", None) for _, r in rows):
            legend += "; (… Pad): an explicit Pad op before the layer, counted as its padding"
        if any(r.lean for _, r in rows):
            legend += f"; lean: skew toward the padded side (|skew| ≥ {_threshold(report):g} counts)"
        lines.append(legend)
    elif strided_only and report.layers:
        lines.append("no strided or uneven layer")
    if any(r.kind == "conv_transpose" for _, r in rows):
        lines.append("ConvT: pads crop the output; eff pad is that of the equivalent stride-1 conv over the "
                     "zero-stuffed input")
    lines.extend(_wrap("summary: ", report.summary_line, width))
    top = report.suggestions
    several = top is not None and bool(top.others)
    for s in ([top] + list(top.others)) if top is not None else []:
        who = f" for {', '.join(map(repr, s.inputs))}" if several else ""
        if s.mode == "per-axis" and s.per_axis:
            for ax, vals in s.per_axis.items():
                lines.append(f"even {ax}s{who}: {', '.join(map(str, vals[:12])) or 'none'}"
                             + (" …" if len(vals) > 12 else ""))
        if s.sizes:
            lines.append(f"suggested sizes{who} (nearest first): "
                         + ", ".join("×".join(map(str, z)) for z in s.sizes[:8])
                         + (f" … ({len(s.sizes)} in all)" if len(s.sizes) > 8 else ""))
            shape = s.input_shapes[0]
            lines.append(f"e.g. {param('input_shape', shape)}")
        lines.extend(_wrap(f"suggestion{who}: ", s.note, width))
        for c in s.caveats:
            lines.extend(_wrap("caveat: ", c, width))
    for n in report.notes:
        lines.extend(_wrap("note: ", n, width))
    return "\n".join(lines)


def strided_table(report, heading: bool = True, columns: int = WIDTH) -> str:
    """``to_table(report, strided_only=True)``: only strided and uneven layers."""
    return to_table(report, strided_only=True, heading=heading, columns=columns)


def _threshold(report) -> float:
    return float((report.summary or {}).get("lean_threshold", 0.1))
