"""Renderers of an AuditReport and of ``compare`` deltas: JSON and terminal text."""
from __future__ import annotations

import json
import os

from ..wording import is_cosine, metric_delta, metric_interval, metric_value, param
from .labels import layer_label
from .text import fmt, opsets_text, table, wrap_lines


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
        colour = {"PASSED": "green", "FAILED": "red", "INFO (no gates)": "bold"}.get(verdict, "yellow")
        if sep and verdict in ("PASSED", "FAILED", "ERROR", "INFO (no gates)"):
            lines[-1] = _sgr(verdict, colour) + sep + rest
    return "\n".join(lines)


def to_table(report, columns: int = 100) -> str:
    """Compact terminal view: weights summary, padding summary, consistency, gates, summary line."""
    from .weights_render import summary_line as weights_line

    d = report.to_dict()
    prov = d["provenance"]
    out = [f"model: {prov['model']}  ({prov['size_bytes'] / 1e6:.1f} MB, sha256 {prov['sha256'][:12]}…, "
           f"producer {prov['producer'] or '?'}, opsets {opsets_text(prov['opsets'])})"]
    w = report.weights_report
    layer_width = max(16, min(48, columns - 60))
    rows = []
    for n, r in enumerate(w.layers):
        if r.status == "ok":
            rows.append([n, layer_label(r.id, r.op_type, width=layer_width), "×".join(map(str, r.kernel_shape)),
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
        out.extend(wrap_lines("padding: ", pad.get("summary_line") or json.dumps(pad.get("summary")), columns))
    elif pad is None:
        out.append(f"padding: not diagnosed (no static input size; give {param('input_size')})")
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
            out.extend(wrap_lines("note: ", note, columns))
    for g in d["gates"]:
        mark = "PASS" if g["passed"] else "FAIL"
        out.extend(wrap_lines(f"gate {mark} {g['name']}: ", g["message"], columns))
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


def to_junit(report, model_label: str = "") -> str:
    """A JUnit XML report: one testcase per gate (a failed gate's ``failure`` message is its margin),
    or one "audit" testcase when no gate was set; a failed consistency part is an ``error``. GitLab,
    Jenkins and GitHub's test reporters show gates natively this way."""
    import xml.etree.ElementTree as ET

    d = report.to_dict()
    name = model_label or os.path.basename(str((d.get("provenance") or {}).get("model") or "model"))
    seconds = ((d.get("provenance") or {}).get("timings") or {}).get("total_s") or 0
    gates = d.get("gates") or []
    failures = sum(1 for g in gates if not g.get("passed"))
    errors = 1 if report.error else 0
    tests = max(1, len(gates)) + errors
    root = ET.Element("testsuites", name="onnxsym", tests=str(tests), failures=str(failures),
                      errors=str(errors), time=f"{seconds:.3f}")
    suite = ET.SubElement(root, "testsuite", name=f"onnxsym audit {name}", tests=str(tests),
                          failures=str(failures), errors=str(errors), time=f"{seconds:.3f}")
    for g in gates:
        case = ET.SubElement(suite, "testcase", classname=f"onnxsym.audit.{name}", name=g["name"], time="0")
        if not g.get("passed"):
            ET.SubElement(case, "failure", message=g.get("short") or g["name"], type="gate").text = g.get("message")
        else:
            ET.SubElement(case, "system-out").text = g.get("message")
    if not gates:
        case = ET.SubElement(suite, "testcase", classname=f"onnxsym.audit.{name}", name="audit (no gates)", time="0")
        ET.SubElement(case, "system-out").text = report.summary_line
    if report.error:
        case = ET.SubElement(suite, "testcase", classname=f"onnxsym.audit.{name}", name="consistency", time="0")
        ET.SubElement(case, "error", message=report.error, type="runtime" if report.error_code == 3 else "input")
    ET.SubElement(suite, "system-out").text = report.summary_line
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def to_markdown(report, model_label: str = "") -> str:
    """A short Markdown summary (verdict, gates, symmetry, consistency), as appended to
    ``$GITHUB_STEP_SUMMARY``."""
    d = report.to_dict()
    name = model_label or os.path.basename(str((d.get("provenance") or {}).get("model") or "model"))
    verdict = "INFO (no gates)" if report.verdict == "INFO" else report.verdict
    icon = {"PASSED": "✅", "FAILED": "❌", "ERROR": "⚠️"}.get(report.verdict, "ℹ️")
    out = [f"### {icon} onnxsym audit — `{_md(name)}`: {verdict}", "", f"`{_md(report.summary_line)}`", ""]
    gates = d.get("gates") or []
    if gates:
        out += ["| gate | result | detail |", "| --- | --- | --- |"]
        out += [f"| {g['name']} | {'pass' if g['passed'] else '**fail**'} | {_md(g.get('message') or '')} |"
                for g in gates]
    else:
        out.append(f"No gates set (see `{param('min_symmetry')}`, `{param('min_shift_consistency')}`, … "
                   f"or `{param('config')}`).")
    if report.error:
        out += ["", f"Consistency failed: {_md(report.error)}"]
    return "\n".join(out) + "\n"


def _md(text) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")
