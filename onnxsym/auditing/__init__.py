"""L3, the audit: the three analyses composed (weights with their padding section, padding with
the lean of each conv), checked against gates, against a baseline report, or compared with
another report. See :func:`audit` and :func:`compare_docs`."""
from .compare import compare_docs, load_report, match_layers
from .compose import analyze_padding, analyze_weights
from .gates import Gates, GateResult, as_gates, evaluate
from .results import SCHEMA, AuditReport
from .run import audit

__all__ = ["audit", "compare_docs", "load_report", "match_layers", "analyze_weights", "analyze_padding",
           "Gates", "GateResult", "as_gates", "evaluate", "SCHEMA", "AuditReport"]
