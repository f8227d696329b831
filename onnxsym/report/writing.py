"""Reports written to files from Python: ``onnxsym.write_html(report, path)``."""
from __future__ import annotations

from pathlib import Path


def _audit_doc(report) -> dict:
    """The ``onnxsym.audit/1``-shaped dict the HTML page renders, from any report onnxsym makes."""
    if isinstance(report, dict):
        if report.get("schema") == "onnxsym.weights/1":
            doc = dict(report)
            return {"weights": doc, "padding": doc.pop("padding", None)}
        return report
    doc = report.to_dict()
    schema = doc.get("schema")
    if schema == "onnxsym.audit/1":
        return doc
    if schema == "onnxsym.weights/1":
        return {"weights": doc, "padding": doc.pop("padding", None)}
    if schema == "onnxsym.padding/1":
        return {"padding": doc}
    if schema == "onnxsym.consistency/1":
        return {"consistency": doc}
    raise TypeError(f"write_html takes an audit, weights, padding or consistency report, not {type(report).__name__}")


def write_html(report, path) -> Path:
    """Write ``report`` as one self-contained HTML page to ``path`` (atomically: a reader sees the
    old file or the new one, never half of it; ``"-"`` is stdout).

    Parameters
    ----------
    report : AuditReport, WeightsReport, PaddingReport, ConsistencyReport or dict
        What :func:`onnxsym.audit` (or the other entry points) returned, or its JSON document.
    path : str or os.PathLike

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    from ..files import write_output
    from .html import render_html

    write_output(path, render_html(_audit_doc(report)))
    return Path(path)
