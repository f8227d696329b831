"""Renderers of an AuditReport and of ``compare`` deltas: JSON and terminal text."""
from __future__ import annotations

import json

from ..wording import is_cosine, metric_delta, metric_interval, metric_value, param
from .labels import layer_label
from .text import fmt, table


def to_json(report) -> str:
    return json.dumps(report.to_dict(), indent=1, allow_nan=False)


_CODES = {"green": "32", "red": "31", "yellow": "33", "bold": "1"}


def _sgr(text, colour):
    return f"\033[{_CODES[colour]}m{text}\033[0m"


def paint(text: str) -> str:
    """Colour the marks of a :func:`to_table` text for a terminal: gate PASS/FAIL, a failed
    consistency part, the verdict that opens the last line. Applied after the text was
    sanitised, so these are the only escape sequences in it."""
    lines = text.split("\n")
    for k, line in enumerate(lines):
        if line.startswith("gate PASS "):
            lines[k] = "gate " + _sgr("PASS", "green") + line[9:]
        elif line.startswith("gate FAIL "):
            lines[k] = "gate " + _sgr("FAIL", "red") + line[9:]
        elif line.startswith("consistency: failed: "):
            lines[k] = _sgr(line, "red")
    if lines:
        verdict, sep, rest = lines[-1].partition(" | ")
        colour = {"PASSED": "green", "FAILED": "red"}.get(verdict, "yellow")
        if sep and verdict in ("PASSED", "FAILED", "ERROR"):
            lines[-1] = _sgr(verdict, colour) + sep + rest
    return "\n".join(lines)


def to_table(report) -> str:
    """Compact terminal view: weights summary, padding summary, consistency, gates, summary line."""
    from .weights_render import summary_line as weights_line

    d = report.to_dict()
    prov = d["provenance"]
    out = [f"model: {prov['model']}  ({prov['size_bytes'] / 1e6:.1f} MB, sha256 {prov['sha256'][:12]}…, "
           f"producer {prov['producer'] or '?'}, opsets {prov['opsets']})"]
    w = report.weights_report
    rows = []
    for n, r in enumerate(w.layers):
        if r.status == "ok":
            rows.append([n, layer_label(r.id, r.op_type, width=40), "×".join(map(str, r.kernel_shape)),
                         "×".join(map(str, r.strides or [1])), fmt(r.symmetry),
                         f"{fmt(r.random_init.get('mean'))}±{fmt(r.random_init.get('sd'))}",
                         ",".join(f"{v:+.2f}" for v in r.skew) if r.skew else ""])
    if rows:
        out.append(table(["#", "layer (k > 1)", "kernel", "stride", "S", "random S", "skew(↓,→)"], rows, "rllrrrr"))
    out.append(weights_line(w))
    pad = d.get("padding")
    if pad and pad.get("error"):
        out.append(pad["error"])
    elif pad:
        out.append("padding: " + (pad.get("summary_line") or json.dumps(pad.get("summary"))))
    elif pad is None:
        out.append(f"padding: not diagnosed (no static input size; give {param('input_shape')})")
    cons = d.get("consistency")
    if cons is None:
        out.append("consistency: not run (data-free audit)")
    elif "error" in cons:
        out.append(f"consistency: failed: {cons['error']}")
    else:
        metric = cons.get("metric")
        what = "mean cosine similarity" if is_cosine(metric) else "consistency"
        for kind in ("shift", "flip"):
            part = cons.get(kind) or {}
            n = part.get("pairs") if kind == "shift" else part.get("images")
            unit = "pairs" if kind == "shift" else "images"
            ci = metric_interval(part.get("ci95"), metric) or "[—, —]"
            chance = (cons.get("chance") or {}).get("value")
            extra = (f"{cons.get('images')} images, " if kind == "shift" else "") + \
                f"seed {cons.get('seed')}, provider {cons.get('provider')}"
            out.append(f"{kind} {what}: {metric_value(part.get('consistency'), metric)} "
                       f"[95% CI {ci[1:-1]}] over {n} {unit} ({extra})"
                       + ("" if chance is None else f"; unrelated images: {metric_value(chance, metric)}"))
    if cons and "error" not in cons:
        for note in cons.get("notes") or []:
            out.append(f"note: {note}")
    for g in d["gates"]:
        mark = "PASS" if g["passed"] else "FAIL"
        out.append(f"gate {mark} {g['name']}: {g['message']}")
    if not d["gates"]:
        out.append(f"gates: none set (see {param('min_symmetry')}, {param('min_shift_consistency')}, ... or {param('config')})")
    out.append(report.summary_line)
    return "\n".join(out)


def compare_json(deltas: dict) -> str:
    return json.dumps({"schema": "onnxsym.compare/1", **deltas}, indent=1, allow_nan=False)


def compare_table(deltas: dict, a: str, b: str) -> str:
    rows = []
    for r in deltas["layers"]:
        if r["symmetry_a"] is None and r["symmetry_b"] is None:
            continue
        rows.append([layer_label(r["a"], width=34), layer_label(r["b"], width=34), "×".join(map(str, r["kernel_shape"] or [])),
                     fmt(r["symmetry_a"]), fmt(r["symmetry_b"]),
                     "" if r["delta"] is None else f"{r['delta']:+.3f}"])
    out = [f"A: {a}", f"B: {b}",
           table(["layer in A", "layer in B", "kernel", "S A", "S B", "ΔS"], rows, "lllrrr")]
    s = deltas["summary"]
    out.append(f"matched {s['matched_layers']} of {s['layers_a']} (A) / {s['layers_b']} (B) conv layers by "
               "weight shape and order")
    if s.get("warning"):
        out.append(f"warning: {s['warning']}")
    va, vb, dv = s["median_symmetry"]
    if va is not None or vb is not None:
        out.append(f"median internal S: {fmt(va)} → {fmt(vb)}" + ("" if dv is None else f" ({dv:+.3f})"))
    for kind in ("shift", "flip"):
        va, vb, dv = s[f"{kind}_consistency"]
        if va is None and vb is None:
            continue
        cis = s.get(f"{kind}_ci95") or [None, None]
        metric = "cosine_similarity" if "cosine_similarity" in (s.get("consistency_metric") or []) else None
        cosine = is_cosine(metric)

        def one(v, ci):
            if v is None:
                return "—"
            interval = metric_interval(ci, metric)
            return metric_value(v, metric) + (f" {interval}" if interval else "")

        delta = "" if dv is None else f" ({metric_delta(dv, metric)})"
        out.append(f"{kind} {'mean cosine' if cosine else 'consistency'}: {one(va, cis[0])} → {one(vb, cis[1])}{delta}")
    if s.get("protocol_differences"):
        out.append("warning: consistency measured differently: " + "; ".join(s["protocol_differences"]))
    return "\n".join(out)
