"""``onnxsym compare``: per-layer and summary deltas of two reports or two models."""
from __future__ import annotations

import click

from .app import handle_errors, main
from .options import VERBOSITY, format_option, output_option
from .output import emit, guard, resolve_format


@main.command("compare")
@click.argument("a", type=click.Path(dir_okay=False, path_type=str))
@click.argument("b", type=click.Path(dir_okay=False, path_type=str))
@format_option()
@output_option("the comparison")
@VERBOSITY
@handle_errors
def compare_cmd(a, b, fmt, output, quiet, verbose):
    """Per-layer and summary deltas (B − A) of two reports (audit or weights JSON) or two models.

    Layers are matched by weight shape and order, not by name: converters rename and reorder.
    """
    from ..auditing import compare_docs, load_report
    from ..report import audit_render as render

    fmt = resolve_format(fmt, output, ("table", "json"))
    guard({"--output": output}, {"report A": a, "report B": b})
    deltas = compare_docs(load_report(a), load_report(b))
    emit(render.compare_json(deltas) if fmt == "json" else render.compare_table(deltas, a, b), output,
         human=fmt == "table")
