"""The audit report (``onnxsym.audit/1``): its data, gate results, verdict and summary line."""
from __future__ import annotations

from dataclasses import dataclass, field

from ..wording import is_cosine, metric_interval, metric_value

SCHEMA = "onnxsym.audit/1"


def readable_schemas() -> dict:
    """{schema name: JSON Schema} of the reports onnxsym reads back (baselines, compare inputs):
    only the fields it reads are constrained, so reports with more fields still read."""
    from ..consistency.results import JSON_SCHEMA as CONSISTENCY
    from ..weights.results import JSON_SCHEMA as WEIGHTS
    from ..weights.results import SCHEMA as WEIGHTS_NAME

    audit = {
        "type": "object",
        "required": ["schema", "weights"],
        "properties": {
            "schema": {"const": SCHEMA},
            "weights": WEIGHTS,
            "consistency": CONSISTENCY,
            "provenance": {"type": ["object", "null"], "properties": {"sha256": {"type": ["string", "null"]}}},
        },
    }
    return {SCHEMA: audit, WEIGHTS_NAME: WEIGHTS}


@dataclass
class AuditReport:
    """The audit's data (a JSON-ready dict), its gate results and verdict: ``PASSED`` (every gate
    passed), ``FAILED`` (one did), ``INFO`` (no gate was set: nothing was checked) or ``ERROR``
    (the consistency part failed).

    ``error`` holds the one-line message (and ``error_code`` the exit code) when the consistency
    part failed; the weight part of the report is complete either way.
    """

    data: dict
    gates: list
    verdict: str
    summary_line: str
    error: str | None = None
    error_code: int = 0
    weights_report: object = field(default=None, repr=False)

    @property
    def exit_code(self) -> int:
        if self.error_code:
            return self.error_code
        return 1 if self.verdict == "FAILED" else 0

    def to_dict(self) -> dict:
        return self.data


def summary_line(verdict, s, cons, results, seconds, base=None) -> str:
    """``PASSED | symmetry 0.79 (random init 0.41) | shift 84.1 % [81.8, 86.2] | flip 91.0 % [87.9, 93.4] | 12.3 s``.

    Intervals are 95 % and printed as [low, high] (they are not symmetric); cosine metrics print
    ``shift cosine 0.41 [0.30, 0.52]``; with a baseline report its median S follows the random one.
    """
    parts = ["INFO (no gates)" if verdict == "INFO" else verdict]
    med = s.internal.get("median_symmetry")
    if med is None:
        parts.append("symmetry n/a")
    else:
        ref = f"random init {s.random_init.median_mean:.2f}" if s.random_init.median_mean is not None else ""
        if ref and s.internal.reading:
            ref += f": {s.internal.reading.replace('the random-init band', 'it')}"
        if base and base.get("median_symmetry") is not None:
            ref += f"; baseline report {base['median_symmetry']:.2f}"
        parts.append(f"symmetry {med:.2f}" + (f" ({ref})" if ref else ""))
    if cons and "error" not in cons:
        metric = cons.get("metric")
        cosine = is_cosine(metric)
        nd = 2 if cosine else None  # the line is short: cosines to two decimals
        for kind in ("shift", "flip"):
            part = cons.get(kind) or {}
            v = part.get("consistency")
            if v is None:
                parts.append(f"{kind} n/a")
                continue
            ci = metric_interval(part.get("ci95"), metric, nd)
            text = f"{kind} {'cosine ' if cosine else ''}{metric_value(v, metric, nd)}" + (f" {ci}" if ci else "")
            chance = (cons.get("chance") or {}).get("value")
            if cosine and chance is not None:
                text += f" (unrelated images {metric_value(chance, metric, nd)})"
            parts.append(text)
    elif cons:
        parts.append("consistency failed")
    else:
        parts.append("consistency not run")
    failed = [g.short or g.name for g in results if not g.passed]
    if failed:
        parts.append("failed: " + ", ".join(failed))
    parts.append(f"{seconds:.1f} s")
    return " | ".join(parts)
