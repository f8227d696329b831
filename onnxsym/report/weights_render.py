"""Renderers of a WeightsReport: text table, CSV, JSON. They format; they never compute."""
from __future__ import annotations

import csv
import io
import json
import textwrap

from ..weights.symmetry import TERMS_2D
from .labels import layer_label
from .text import fmt, opsets_text, table


def to_json(report) -> str:
    """The ``onnxsym.weights/1`` JSON document."""
    return json.dumps(report.to_dict(), indent=1, allow_nan=False)


def summary_line(report) -> str:
    """One greppable line: counts, first-layer S, internal median S with CI, the random baseline."""
    s = report.summary
    parts = [f"{s.conv_nodes} conv nodes, {s.analysed} analysed, {s.one_by_one} 1×1, "
             f"{s.not_applicable - s.one_by_one} other n/a, "
             f"{s.unresolved} unresolved"]
    if s.first_layer:
        b = s.first_layer.random_init
        parts.append(f"first layer S {fmt(s.first_layer.symmetry)} (random {fmt(b.get('mean'))}±{fmt(b.get('sd'))})")
    i = s.internal
    if i.n:
        ci = f" [{fmt(i.ci95[0])}, {fmt(i.ci95[1])}] (95 % CI)" if i.ci95 else ""
        z = "" if i.z_vs_random_init is None else f"; z {i.z_vs_random_init:.1f}: {i.reading}"
        parts.append(f"internal median S {fmt(i.median_symmetry)}{ci} over {i.n} layer{'s' if i.n != 1 else ''} "
                     f"(random init {fmt(s.random_init.median_mean)}±{fmt(s.random_init.median_sd)}{z})")
    return "onnxsym weights: " + " | ".join(parts)


def _status(r):
    if r.status == "ok":
        return ""
    if r.status == "n/a" and r.kernel_shape and all(k == 1 for k in r.kernel_shape):
        return "n/a (1×1)"
    return f"{r.status}: {r.reason}" if r.status == "n/a" else r.status


def _kernel(r):
    return "×".join(map(str, r.kernel_shape)) if r.kernel_shape else "?"


def _stride(r):
    s = r.strides or [1]
    return str(s[0]) if len(set(s)) == 1 else "×".join(map(str, s))


def to_table(report, columns: int = 100) -> str:
    """The human-readable report: one row per conv node, then the summary (about 115 columns)."""
    show_op = len({r.op_type for r in report.layers}) > 1 or any(r.op_type != "Conv" for r in report.layers)
    width = max(16, min(48, columns - 80 - (8 if show_op else 0)))  # the layer column takes what is left
    rows = []
    for n, r in enumerate(report.layers):
        base = r.random_init
        pk = r.per_kernel
        rows.append([
            n, layer_label(r.id, r.op_type, width=width), *([r.op_type.split(".")[-1]] if show_op else []), _kernel(r),
            _stride(r), ("dw" if r.depthwise else str(r.group)),
            fmt(r.symmetry),
            f"{fmt(base.get('mean'), 2)}±{fmt(base.get('sd'), 2)}" if base else "",
            fmt(r.z_vs_random_init, 1),
            (f"{fmt(pk.get('median'))} [{fmt(pk.get('q1'), 2)},{fmt(pk.get('q3'), 2)}]"
             if pk.get("median") is not None else ""),
            ",".join(f"{v:+.2f}" for v in r.skew) if r.skew else "",
            fmt(r.coherence, 2),
            _status(r),
        ])
    head = ["#", "layer", *(["op"] if show_op else []), "k", "s", "g", "S", "random S", "z",
            "single kernels S", "skew(↓,→)", "coher", "status"]
    align = "rl" + ("l" if show_op else "") + "lllrrrlrrl"
    out = [table(head, rows, align)]
    s = report.summary
    out.append("")
    out.append(f"model: {report.model['path']} ({report.model['size_bytes'] / 1e6:.1f} MB"
               f"{', + %.1f MB external data' % (report.model['external_bytes'] / 1e6) if report.model.get('external_bytes') else ''}), "
               f"IR {report.model['ir_version']}, opsets {opsets_text(report.model['opsets'])}, producer {report.model['producer'] or '?'}")
    for note in report.model.get("notes", []):
        out.append(f"note: {note}")
    if s.followed_by_batchnorm:
        out.append(f"note: {s.followed_by_batchnorm} conv(s) feed a BatchNormalization: BN rescales output "
                   "channels, so folding it into the conv changes the mean kernel.")
    unresolved = [r for r in report.layers if r.status == "unresolved"]
    for r in unresolved:
        out.append(f"unresolved: {r.id}: {r.reason}")
    if s.least_symmetric:
        out.append("least symmetric: " + ", ".join(
            f"{layer_label(x['id'], width=36)} S={fmt(x['symmetry'])}" for x in s.least_symmetric[:3]))
    out.extend(textwrap.wrap(
        "k: kernel, s: stride, g: group (dw = depthwise); S: symmetry of the mean kernel, 1 = invariant "
        "under every flip/rotation of its grid; random S: mean±sd for i.i.d. Gaussian kernels of that "
        "shape (untrained init); z = (S − random mean)/sd; single kernels S: median [quartiles] over the "
        "individual kernels W[n, c]; skew: lean of the mean kernel (negative = toward top / left); "
        "coher: ||mean kernel|| / rms ||single kernel||.", width=max(40, columns)))
    if isinstance(report.padding, dict):
        out.append(report.padding.get("error", "padding: not diagnosed"))
    elif report.padding is not None:
        out.append("")
        from .padding_render import strided_table

        out.append(strided_table(report.padding, columns=columns))
        out.append("(every conv and pool: onnxsym padding MODEL)")
    out.append(summary_line(report))
    return "\n".join(out)


#: CSV ``status`` values: the report's, with ``n/a`` spelt out (pandas reads "n/a" as missing)
CSV_STATUS = {"ok": "ok", "n/a": "not_applicable", "unresolved": "unresolved"}


def to_csv(report) -> str:
    """One CSV row per conv node, the seven 2-D terms as columns (cells: :mod:`onnxsym.report.csv_cells`;
    ``status`` is ok, not_applicable or unresolved)."""
    from . import csv_cells as c

    buf = io.StringIO()
    cols = ["id", "path", "op_type", "weight_shape", "kernel_shape", "strides", "pads", "auto_pad",
            "dilations", "group", "depthwise", "status", "reason", "symmetry", *TERMS_2D,
            "per_kernel_median", "per_kernel_q1", "per_kernel_q3", "skew_down", "skew_right",
            "coherence", "coherence_random", "baseline_mean", "baseline_sd", "z_vs_baseline",
            "weight_source", "shared_with", "shared_count", "followed_by"]
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(cols)
    for r in report.layers:
        skew = list(r.skew) if r.skew and len(r.skew) == 2 else [None, None]  # (down, right): 2-D only
        w.writerow([
            c.text(r.id), c.text(r.path), c.text(r.op_type), c.dims(r.weight_shape), c.dims(r.kernel_shape),
            c.dims(r.strides), c.dims(r.pads), c.text(r.auto_pad), c.dims(r.dilations),
            r.group, c.number(r.depthwise), CSV_STATUS.get(r.status, c.text(r.status)), c.text(r.reason),
            c.number(r.symmetry), *[c.number(r.terms.get(t)) for t in TERMS_2D],
            *(c.number(r.per_kernel.get(k)) for k in ("median", "q1", "q3")),
            c.number(skew[0]), c.number(skew[1]), c.number(r.coherence), c.number(r.coherence_random),
            c.number(r.random_init.get("mean")), c.number(r.random_init.get("sd")), c.number(r.z_vs_random_init),
            c.text(r.weight_source), c.names(r.shared_with), r.shared_count, c.text(r.followed_by),
        ])
    return buf.getvalue()
