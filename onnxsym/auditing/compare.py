"""``compare``: per-layer and summary deltas of two reports, layers matched by weight shape and
order, not by name (converters rename and reorder)."""
from __future__ import annotations

import difflib
from pathlib import Path

from .facts import consistency_facts, protocol_differences, protocol_of
from .results import SCHEMA as AUDIT

def _shape_key(row):
    return (tuple(row.get("weight_shape") or ()), row.get("op_type"))


#: above this many (rows of A) x (rows of B), layers are matched by shape occurrence only
MATCH_PAIRWISE_MAX = 4_000_000


def match_layers(a_rows: list, b_rows: list) -> list:
    """Pairs (i, j) of conv rows matched by weight shape and order, not by name (converters
    rename nodes and reorder branches): first the longest in-order runs of equal shapes, then
    the layers left over, by shape, in order of appearance. Sorted by i.

    The run search (difflib) is quadratic in the worst case; for reports whose row counts
    multiply to more than MATCH_PAIRWISE_MAX (2 000 x 2 000) the k-th layer of each shape in A is
    paired with the k-th of that shape in B, which is linear."""
    ka, kb = [_shape_key(r) for r in a_rows], [_shape_key(r) for r in b_rows]
    if len(ka) * len(kb) > MATCH_PAIRWISE_MAX:
        return _match_by_occurrence(ka, kb)
    sm = difflib.SequenceMatcher(a=ka, b=kb, autojunk=False)
    pairs = []
    for block in sm.get_matching_blocks():
        for k in range(block.size):
            pairs.append((block.a + k, block.b + k))
    used_a, used_b = {i for i, _ in pairs}, {j for _, j in pairs}
    left_b = {}
    for j, key in enumerate(kb):
        if j not in used_b:
            left_b.setdefault(key, []).append(j)
    for i, key in enumerate(ka):
        if i not in used_a and left_b.get(key):
            pairs.append((i, left_b[key].pop(0)))
    return sorted(pairs)


def _match_by_occurrence(ka: list, kb: list) -> list:
    left_b: dict = {}
    for j, key in enumerate(kb):
        left_b.setdefault(key, []).append(j)
    taken = {key: 0 for key in left_b}
    pairs = []
    for i, key in enumerate(ka):
        js = left_b.get(key)
        if js and taken[key] < len(js):
            pairs.append((i, js[taken[key]]))
            taken[key] += 1
    return pairs


def structure_match(a_rows, b_rows) -> float:
    if not a_rows or not b_rows:
        return 0.0
    return len(match_layers(a_rows, b_rows)) / max(len(a_rows), len(b_rows))


def load_report(source) -> dict:
    """A report for ``compare``: a JSON file (audit/1 or weights/1) or an .onnx model (analysed now)."""
    from .reports import read_report
    from .compose import analyze_weights

    p = Path(source)
    if p.suffix.lower() == ".json":
        return read_report(p, f"report {p}")
    return analyze_weights(p).to_dict()


def compare_docs(a: dict, b: dict) -> dict:
    """Per-layer and summary deltas between two reports (b − a), layers matched by shape and order."""
    wa = a.get("weights", a) if a.get("schema") == AUDIT else a
    wb = b.get("weights", b) if b.get("schema") == AUDIT else b
    la, lb = wa.get("layers", []), wb.get("layers", [])
    rows = []
    for i, j in match_layers(la, lb):
        ra, rb = la[i], lb[j]
        sa, sb = ra.get("symmetry"), rb.get("symmetry")
        rows.append({"a": ra.get("id"), "b": rb.get("id"), "kernel_shape": rb.get("kernel_shape"),
                     "symmetry_a": sa, "symmetry_b": sb,
                     "delta": None if sa is None or sb is None else round(sb - sa, 6)})
    ma = (wa.get("summary") or {}).get("internal", {}).get("median_symmetry")
    mb = (wb.get("summary") or {}).get("internal", {}).get("median_symmetry")
    summary = {"median_symmetry": [ma, mb, None if ma is None or mb is None else round(mb - ma, 6)],
               "matched_layers": len(rows), "layers_a": len(la), "layers_b": len(lb)}
    if len(rows) < 0.5 * max(len(la), len(lb), 1):
        summary["warning"] = (f"only {len(rows)} of {max(len(la), len(lb))} conv layers match by weight shape: "
                              "these look like different model families, the deltas mean little")
    cons_a = a.get("consistency") if a.get("schema") == AUDIT else None
    cons_b = b.get("consistency") if b.get("schema") == AUDIT else None
    for k, kind in enumerate(("shift", "flip")):
        ca, cb = consistency_facts(cons_a)[k], consistency_facts(cons_b)[k]
        summary[f"{kind}_consistency"] = [ca, cb, None if ca is None or cb is None else round(cb - ca, 6)]
        summary[f"{kind}_ci95"] = [((c or {}).get(kind) or {}).get("ci95") if c and "error" not in c else None
                                   for c in (cons_a, cons_b)]
    summary["consistency_metric"] = [(c or {}).get("metric") if c and "error" not in c else None
                                     for c in (cons_a, cons_b)]
    diffs = protocol_differences(protocol_of(cons_a), protocol_of(cons_b))
    if diffs:
        summary["protocol_differences"] = diffs
    return {"summary": summary, "layers": rows}
