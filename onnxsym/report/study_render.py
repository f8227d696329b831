"""Renderers of a study (an ``onnxsym.study/1`` document or a StudyReport): the terminal table
with the families, correlations and findings under it, the CSV, the JSON. They format; they
never compute.

CSV: one row per model; a missing number is an empty cell, and nothing else is: text columns
hold ``-`` when there is nothing to say, and no cell is a string pandas reads as missing by
default (``NA``, ``n/a``, ``null``, ``None`` … are written with `` (text)`` after them).
"""
from __future__ import annotations

import csv
import io
import json
import os

from ..wording import is_cosine, metric_interval, metric_value
from .text import fmt, table, wrap_lines

#: strings pandas.read_csv reads as missing by default
PANDAS_NA = frozenset(["", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN",
                       "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null"])

METRIC_WORDS = {"top1_agreement": "top-1 agreement", "pixel_top1_agreement": "pixel top-1 agreement",
                "cosine_similarity": "cosine similarity"}
STAT_WORDS = {"spearman": "Spearman ρ", "kendall": "Kendall τ", "partial_spearman": "partial ρ | accuracy"}
FINDING_WORDS = {"internal_vs_first": "internal − first-layer S", "trained_vs_random": "internal S vs random init (z)",
                 "uneven_vs_other": "uneven strided − other internal S", "depth": "S against relative depth (ρ)"}


def as_doc(report) -> dict:
    return report if isinstance(report, dict) else report.to_dict()


def to_json(report) -> str:
    """The ``onnxsym.study/1`` JSON document."""
    return json.dumps(as_doc(report), indent=1, allow_nan=False, ensure_ascii=False)


def short_names(ids: list) -> dict:
    """{id: a short name}: the folder all ids share, a name prefix they all share (up to a ``_`` or
    ``-``: ``digits_``) and the ``.onnx`` suffix left out."""
    ids = list(ids)
    if not ids:
        return {}
    dirs = [os.path.dirname(i) for i in ids]
    common = os.path.commonpath(dirs) if all(dirs) and len(set(os.path.isabs(d) for d in dirs)) == 1 else ""
    out = {}
    for i in ids:
        s = os.path.relpath(i, common) if common else i
        out[i] = s[:-5] if s.lower().endswith(".onnx") else s
    if len(set(out.values())) < len(out):
        return {i: i for i in ids}
    prefix = os.path.commonprefix(list(out.values())) if len(out) > 1 else ""
    cut = max(prefix.rfind("_"), prefix.rfind("-")) + 1
    if cut and "/" not in prefix[:cut] and all(len(v) > cut for v in out.values()):
        out = {i: v[cut:] for i, v in out.items()}
    return out


def _value(part, metric, nd=1):
    part = part or {}
    v = part.get("consistency")
    if v is None:
        return "—"
    ci = metric_interval(part.get("ci95"), metric, nd if not is_cosine(metric) else 2)
    return f"{metric_value(v, metric, nd if not is_cosine(metric) else 3)}" + (f" {ci}" if ci else "")


def _internal(row):
    i = row.get("internal") or {}
    if i.get("median_symmetry") is None:
        return "—"
    ci = i.get("ci95")
    return fmt(i["median_symmetry"]) + (f" [{fmt(ci[0], 2)}, {fmt(ci[1], 2)}]" if ci and None not in ci else "")


def _uneven(row):
    if row.get("strided_layers") is None:
        return "—"
    u = row.get("uneven_strided")
    return f"{'?' if u is None else u}/{row['strided_layers']}"


def _status(row):
    if row.get("status") == "ok":
        return "ok"
    return f"{row.get('status')} ({row.get('error_stage')})"


def to_table(report, columns: int = 100) -> str:
    """The terminal report: the ranking table (internal S, highest first), then families,
    correlations, findings, errors and notes, then the summary line."""
    d = as_doc(report)
    rows = d.get("rows") or []
    names = short_names([r["id"] for r in rows])
    ranked = sorted(rows, key=lambda r: (-((r.get("internal") or {}).get("median_symmetry") or -1), r["id"]))
    body = []
    for r in ranked:
        metric = r.get("metric")
        acc = (r.get("accuracy") or {}).get("top1")
        fam = (r.get("family") or "—") + ("*" if r.get("representative") else "")
        body.append([names[r["id"]], fam, fmt((r.get("first_layer") or {}).get("symmetry")), _internal(r),
                     _value(r.get("shift"), metric), _value(r.get("flip"), metric),
                     metric_value(r.get("chance"), metric), "—" if acc is None else f"{100 * acc:.1f} %",
                     _uneven(r), r.get("provider") or "—", fmt((r.get("timing") or {}).get("seconds"), 1),
                     _status(r)])
    out = [table(["model", "family", "S first", "S internal [95 % CI]", "shift [95 % CI]", "flip [95 % CI]",
                  "chance", "top-1", "uneven", "prov", "s", "status"], body, "llrrrrrrrlrl")]
    out.append("family: * marks the representative the statistics use; uneven: strided layers that pad unevenly "
               "at the input size / strided layers; chance: the metric between unrelated images")
    out += _families_text(d, names)
    out += _correlations_text(d)
    out += _findings_text(d)
    for r in rows:
        if r.get("error"):
            out += wrap_lines(f"error: {names[r['id']]}: ", r["error"], columns)
    for r in rows:
        for note in r.get("notes") or []:
            out += wrap_lines(f"note: {names[r['id']]}: ", note, columns)
    for note in d.get("notes") or []:
        out += wrap_lines("note: ", note, columns)
    out.append(summary_line(d))
    return "\n".join(out)


def _families_text(d, names) -> list:
    fams = [f for f in d.get("families") or [] if len(f.get("members") or []) > 1]
    if not fams:
        return [f"families: {len(d.get('families') or [])}, each a single model (no two share their weights)"]
    out = [f"families: {len(d.get('families') or [])}; re-encodings of the same weights:"]
    for f in fams:
        members = ", ".join(f"{names.get(m, m)} ({(f.get('encodings') or {}).get(m) or '?'})" for m in f["members"])
        out.append(f"  {f['id']}: {members}; largest mean-kernel distance {fmt(f.get('max_distance'), 4)}; "
                   f"representative {names.get(f.get('representative'), f.get('representative'))}")
    return out


def _families(n) -> str:
    return f"{n} famil{'y' if n == 1 else 'ies'}"


def _stat_text(s) -> str:
    label = STAT_WORDS.get(s.get("name"), s.get("name"))
    if s.get("value") is None:
        return f"{label} — ({s.get('note') or 'not computed'})"
    ci = s.get("ci95")
    text = f"{label} {s['value']:+.2f}"
    if ci:
        text += f" [{ci[0]:+.2f}, {ci[1]:+.2f}]"
    if s.get("p_value") is not None:
        text += f" p {s['p_value']:.3f}"
    return text


def _correlations_text(d) -> list:
    out = []
    for c in d.get("correlations") or []:
        head = (f"internal S against consistency, {METRIC_WORDS.get(c['metric'], c['metric'])}, "
                f"{_families(c.get('families'))}:")
        if not c.get("meaningful"):
            out.append(f"{head} {c.get('reason')}")
            continue
        out.append(head)
        for measure, stats in (c.get("correlations") or {}).items():
            out.append(f"  {measure}: " + " · ".join(_stat_text(s) for s in stats))
    if not d.get("correlations"):
        out.append("internal S against consistency: no model has both numbers")
    return out


def _findings_text(d) -> list:
    out = ["findings over the representatives (mean of per-model values, 95 % CI, sign-flip p):"]
    for f in d.get("findings") or []:
        s = f.get("statistic") or {}
        label = FINDING_WORDS.get(f["name"], f["name"])
        if s.get("value") is None:
            out.append(f"  {label}: {f.get('reason') or s.get('note')}")
            continue
        ci = s.get("ci95")
        text = f"  {label}: {s['value']:+.3f}" + (f" [{ci[0]:+.3f}, {ci[1]:+.3f}]" if ci else "")
        text += f" p {s['p_value']:.4f}" if s.get("p_value") is not None else ""
        text += f", {s.get('n')} models, {f.get('positive')} positive"
        if f["name"] == "trained_vs_random" and f.get("internal_layers"):
            text += f"; {f.get('above_band')} of {f['internal_layers']} internal layers above mean + sd"
        out.append(text)
    return out


def summary_line(report) -> str:
    """``onnxsym study: 11 models, 11 families, 0 failed | shift ρ +0.57 [..] | flip ρ … | 8.5 s``."""
    d = as_doc(report)
    parts = [f"onnxsym study: {d.get('models')} model{'' if d.get('models') == 1 else 's'}, "
             f"{_families(len(d.get('families') or []))}, {d.get('failed')} failed"]
    for c in d.get("correlations") or []:
        if not c.get("meaningful"):
            parts.append(f"{METRIC_WORDS.get(c['metric'], c['metric'])}: {_families(c.get('families'))}, "
                         "no correlation")
            continue
        for measure, stats in (c.get("correlations") or {}).items():
            rho = next((s for s in stats if s.get("name") == "spearman"), None)
            if rho and rho.get("value") is not None:
                ci = rho.get("ci95")
                parts.append(f"S vs {measure} ρ {rho['value']:+.2f}" + (f" [{ci[0]:+.2f}, {ci[1]:+.2f}]" if ci else ""))
    parts.append(f"{fmt((d.get('timing') or {}).get('seconds'), 1)} s")
    return " | ".join(parts)


# ------------------------------------------------------------------------------------------ CSV
CSV_COLUMNS = ["model", "status", "error", "family", "representative", "encoding", "producer", "conv_nodes",
               "analysed", "first_layer_S", "internal_median_S", "internal_ci_low", "internal_ci_high", "internal_n",
               "random_init_median_S", "internal_z_median", "S_by_kernel", "input_size", "input_size_source",
               "strided_layers", "uneven_strided", "metric", "output_kind", "shift", "shift_ci_low", "shift_ci_high",
               "shift_pairs", "flip", "flip_ci_low", "flip_ci_high", "flip_images", "chance", "images",
               "top1_accuracy", "labelled_images", "provider", "seconds", "cached", "notes"]


#: the columns that hold text (never empty; the others are numbers, empty when missing, or true/false)
CSV_TEXT_COLUMNS = ("model", "status", "error", "family", "encoding", "producer", "S_by_kernel", "input_size",
                    "input_size_source", "metric", "output_kind", "provider", "notes")


def _text(v) -> str:
    s = "-" if v is None or v == "" else str(v)
    return f"{s} (text)" if s in PANDAS_NA else s


def _num(v):
    return "" if v is None else v


def _ci(part, k):
    ci = (part or {}).get("ci95")
    return "" if not ci or ci[k] is None else ci[k]


def csv_row(r: dict) -> list:
    i, sh, fl = r.get("internal") or {}, r.get("shift") or {}, r.get("flip") or {}
    acc = r.get("accuracy") or {}
    by = "; ".join(f"{k}: {fmt(v.get('median_symmetry'))} ({v.get('n')})" for k, v in (r.get("by_kernel") or {}).items())
    size = r.get("input_size")
    return [_text(r["id"]), _text(r.get("status")), _text(r.get("error")), _text(r.get("family")),
            "true" if r.get("representative") else "false", _text(r.get("encoding")), _text(r.get("producer")),
            _num(r.get("conv_nodes")), _num(r.get("analysed")), _num((r.get("first_layer") or {}).get("symmetry")),
            _num(i.get("median_symmetry")), _ci(i, 0), _ci(i, 1), _num(i.get("n")), _num(i.get("random_init_median")),
            _num(i.get("z_median")), _text(by), _text("x".join(map(str, size)) if size else None),
            _text(r.get("input_size_source")), _num(r.get("strided_layers")), _num(r.get("uneven_strided")),
            _text(r.get("metric")), _text(r.get("output_kind")), _num(sh.get("consistency")), _ci(sh, 0), _ci(sh, 1),
            _num(sh.get("pairs")), _num(fl.get("consistency")), _ci(fl, 0), _ci(fl, 1), _num(fl.get("images")),
            _num(r.get("chance")), _num(r.get("images")), _num(acc.get("top1")), _num(acc.get("labelled")),
            _text(r.get("provider")), _num((r.get("timing") or {}).get("seconds")),
            "true" if (r.get("timing") or {}).get("cached") else "false", _text("; ".join(r.get("notes") or []))]


def to_csv(report) -> str:
    """One row per model (columns :data:`CSV_COLUMNS`); consistency as fractions."""
    d = as_doc(report)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    for r in d.get("rows") or []:
        w.writerow(csv_row(r))
    return buf.getvalue()
