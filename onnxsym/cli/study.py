"""``onnxsym study``: symmetry against consistency across many models; one row per model."""
from __future__ import annotations

import os
import sys

import click

from .. import defaults as D
from .app import handle_errors, main
from .options import CONSISTENCY, ENGINE, consistency_settings, engine_for, format_option
from .output import ProgressBar, feed_files, guard, say


@main.command("study")
@click.argument("models", nargs=-1, required=True, type=click.Path(path_type=str))
@CONSISTENCY
@click.option("--labels", type=click.Path(dir_okay=False, path_type=str),
              help="Class labels of the images, for top-1 accuracy: CSV rows image,label or a JSON object "
                   "{image name: class index} (names as onnxsym names images: a folder's relative paths, "
                   "file.npy[i]).")
@click.option("--jobs", type=int, default=D.JOBS, show_default=True,
              help="Models measured at once (worker processes of --engine local; Ray chooses its own).")
@ENGINE
@click.option("--cache", type=click.Path(file_okay=False, path_type=str),
              help="Folder of per-model results: a model measured before with the same settings is not measured "
                   "again (created if missing).")
@click.option("--json", "json_out", type=click.Path(dir_okay=False, allow_dash=True, path_type=str),
              help="Write the onnxsym.study/1 JSON here (- is stdout).")
@click.option("--html", "html_out", type=click.Path(dir_okay=False, allow_dash=True, path_type=str),
              help="Write the HTML page here (- is stdout).")
@click.option("--csv", "csv_out", type=click.Path(dir_okay=False, allow_dash=True, path_type=str),
              help="Write one CSV row per model here (- is stdout).")
@format_option(("table", "json", "csv"), what="What to print on stdout.")
@click.option("-q", "--quiet", is_flag=True, help="Print only the summary line.")
@handle_errors
def study_cmd(models, images, provider, pairs_per_image, seed, input_size, preset, bgr, vertical, batch_size,
              max_shift, feed, labels, jobs, engine, address, cache, json_out, html_out, csv_out, fmt, quiet):
    """Symmetry against shift/flip consistency across MODELS (.onnx files or folders of them).

    \b
    One row per model (a model that fails is a row with its error), families of
    re-encodings of the same weights, correlations and the paper's pooled findings over
    one representative per family.
    Exit codes: 0 every model measured, 2 bad input or usage, or some model failed
    (its row says why; the reports are still written).
    With --json - (or --csv -, --html -) stdout holds that document only: the
    summary line goes to stderr.
    """
    from ..study import study
    from ..files import write_output
    from ..report import study_render as render
    from ..terminal import clean_lines
    from .values import parse_feeds

    outputs = {"--json": json_out, "--html": html_out, "--csv": csv_out}
    paths = {"--labels": labels, **feed_files(feed)}
    inputs = guard(outputs, paths)
    from ..study import list_models

    from ..consistency import load_images

    found, _skipped, _notes = list_models(models)
    guard(outputs, {**{f"model {i}": p for i, p in found}, "image": images}, images=load_images(images),
          inputs=inputs)
    settings = consistency_settings(dict(images=images, provider=provider, pairs_per_image=pairs_per_image, seed=seed,
                                         input_size=input_size, preset=preset, bgr=bgr, vertical=vertical,
                                         batch_size=batch_size, max_shift=max_shift))
    with engine_for(engine, address, jobs=jobs, quiet=quiet) as chosen:
        bar = None if quiet else ProgressBar()
        try:
            report = study(list(models), labels=labels, jobs=jobs if chosen is None else 1, engine=chosen, cache=cache,
                           feeds=parse_feeds(feed) or None, progress=bar.stage("models") if bar is not None else None,
                           **settings)
        finally:
            if bar is not None:
                bar.close()
    doc = report.to_dict()
    guard(outputs, {f"external data file of {r.id}": os.path.join(os.path.dirname(r.path), e["file"])
                    for r in report.rows for e in r.external}, inputs=inputs)  # known now that models were read
    for flag, path, text in (("--json", json_out, lambda: render.to_json(doc) + "\n"),
                             ("--csv", csv_out, lambda: render.to_csv(doc)),
                             ("--html", html_out, lambda: _html(doc))):
        if path:
            write_output(path, text())
            if path != "-" and not quiet:
                say(f"wrote {path}")
    if report.computed or report.from_cache:
        if not quiet and cache:
            say(f"{len(report.computed)} models measured, {len(report.from_cache)} from the cache")
    if report.failed:
        say(f"{len(report.failed)} of {len(report.rows)} models failed: "
            + "; ".join(f"{r.id} ({r.error_stage}: {r.error})" for r in report.failed[:3])
            + (" …" if len(report.failed) > 3 else ""), "error")
    if "-" in outputs.values():
        # stdout carries that document: the summary line goes to stderr, nothing else is printed
        if not quiet:
            say(clean_lines(render.summary_line(doc)), prefix=False)
    elif quiet:
        click.echo(clean_lines(render.summary_line(doc)))
    elif fmt == "json":
        click.echo(render.to_json(doc))
    elif fmt == "csv":
        click.echo(render.to_csv(doc).rstrip("\n"))
    else:
        click.echo(clean_lines(render.to_table(doc)))
    sys.exit(report.exit_code)


def _html(doc) -> str:
    from ..report.html.study import render_study_html

    return render_study_html(doc)
