"""Renderers of a PaddingReport: text table and JSON. They format; they never compute."""
from __future__ import annotations

import json


def to_json(report, indent: int | None = 2) -> str:
    """The ``onnxsym.padding/1`` JSON document."""
    return json.dumps(report.to_dict(), indent=indent, ensure_ascii=False)


def _j(v, sep="x"):
    return "-" if v is None else sep.join(map(str, v))


def _short(text: str, width: int = 44) -> str:
    return text if len(text) <= width else "…" + text[-(width - 1):]


def to_table(report) -> str:
    lines = []
    for inp in (report.inputs or ([report.input] if report.input else [])):
        lines.append(f"input {inp.get('name')!r}: {_j(['?' if d is None else d for d in inp.get('shape') or []] or None)}"
                     f" (declared {_j(inp.get('declared'))}; layout {inp.get('layout') or 'unknown'}"
                     f"{' from the graph' if inp.get('layout_source') == 'graph' else ''})")
    head = ["#", "layer", "op", "in", "k", "d", "s", "pads", "unread", "eff pad (before/after)",
            "uneven", "skew (down,right)", "leans"]
    table = [head]
    for k, r in enumerate(report.layers):
        if r.auto_pad != "NOTSET":
            pads = r.auto_pad
        else:
            pads = ",".join(map(str, r.pads)) if r.pads else "0"
        if r.ceil_mode:
            pads += " ceil"
        if r.status != "ok":
            eff, unev = f"{r.status}: {r.reason}", "?"
        else:
            eff = " ".join(f"{b}/{a}" for b, a in zip(r.before, r.after))
            unev = r.direction if r.uneven else "even"
        skew = "-" if r.skew is None else ",".join(f"{v:+.2f}" for v in r.skew)
        leans = "-" if r.leans_toward_padding is None else ("yes" if r.leans_toward_padding else "no")
        op = r.op_type + ("*" if r.kind == "conv_transpose" else "")
        table.append([str(k), _short(r.id), op, _j(r.input_size), _j(r.kernel), _j(r.dilations),
                      _j(r.strides), pads, _j(r.unread, ","), eff, unev, skew, leans])
    # the effective-padding column of unknown rows can be long: keep it last-but-few, unpadded
    widths = [max(len(row[c]) for row in table if not (c == 9 and row[9].startswith(("unknown", "invalid"))))
              for c in range(len(head))]
    for row in table:
        cells = []
        for c, cell in enumerate(row):
            cells.append(cell.rjust(widths[c]) if c == 0 else cell.ljust(widths[c]))
        lines.append("  ".join(cells).rstrip())
    if any(r.kind == "conv_transpose" for r in report.layers):
        lines.append("* ConvTranspose: pads crop the output; effective padding is that of the equivalent "
                     "stride-1 conv over the zero-stuffed input")
    lines.append("")
    lines.append(f"summary: {report.summary_line}")
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
                         + ", ".join("×".join(map(str, z)) for z in s.sizes[:10])
                         + (f" … ({len(s.sizes)} in all)" if len(s.sizes) > 10 else ""))
            lines.append(f"e.g. --input-shape {s.input_shapes[0]}")
        lines.append(f"suggestion{who}: {s.note}")
    for n in report.notes:
        lines.append(f"note: {n}")
    return "\n".join(lines)
