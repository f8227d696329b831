"""An earlier report as the baseline of an audit: checked against its schema and this model,
its numbers, and what its consistency measurement depended on (the protocol)."""
from __future__ import annotations

from ..errors import InputError
from ..wording import param
from .compare import structure_match
from .facts import consistency_facts, measurement_of, protocol_of
from .reports import check_report
from .results import SCHEMA


def baseline_facts(doc: dict, current_weights: dict) -> dict:
    """Numbers of an earlier audit (or weights) report, after checking it is comparable."""
    check_report(doc, param("baseline"))
    schema = doc["schema"]
    weights = doc.get("weights", doc) if schema == SCHEMA else doc
    before, now = weights.get("layers", []), current_weights.get("layers", [])
    ratio = structure_match(before, now) if before or now else 1.0   # two conv-free models match
    if ratio < 0.5:
        raise InputError(f"{param('baseline')} looks like another model family: only {100 * ratio:.0f} % of "
                         "its conv layers match this model's by weight shape and order")
    cons = doc.get("consistency") if schema == SCHEMA else None
    shift, flip = consistency_facts(cons)
    return {"median_symmetry": (weights.get("summary") or {}).get("internal", {}).get("median_symmetry"),
            "shift_consistency": shift, "flip_consistency": flip,
            "sha256": (doc.get("provenance") or {}).get("sha256"),
            "protocol": protocol_of(cons),
            "measurement": measurement_of(cons)}


