"""``onnxsym audit``: weights, padding and consistency checked against gates; one summary line."""
from __future__ import annotations

import os
import sys

import click

from .app import PROCESS_START, handle_errors, main
from .options import (CONSISTENCY, ENGINE, GATES, INPUT_SHAPE, OUTPUT_KIND, PIPELINE, VERBOSITY, consistency_settings,
                      engine_for, format_option,
                      output_kind_value, output_option)
from .output import ProgressBar, feed_files, guard, resolve_format, say, terminal_width, wrote

_WORST = (3, 2, 1, 0)  # exit codes, worst first, for several models


@main.command("audit")
@click.argument("models", nargs=-1, required=True, type=click.Path(dir_okay=True, path_type=str), metavar="MODEL...")
@CONSISTENCY
@PIPELINE
@OUTPUT_KIND
@INPUT_SHAPE
@click.option("--no-run", is_flag=True, help="Data-free audit: weights and padding only, no onnxruntime.")
@ENGINE
@GATES
@click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=str),
              help="TOML file with gate settings (top-level keys or [tool.onnxsym]); default: "
                   "[tool.onnxsym] in ./pyproject.toml if present.")
@click.option("--json", "json_out", type=click.Path(dir_okay=False, allow_dash=True, path_type=str),
              help="Write the JSON report here (- is stdout).")
@click.option("--html", "html_out", type=click.Path(dir_okay=False, allow_dash=True, path_type=str),
              help="Write the HTML report here (- is stdout).")
@click.option("--junit", "junit_out", type=click.Path(dir_okay=False, allow_dash=True, path_type=str),
              help="Write a JUnit XML report here: one testcase per gate (CI test reporters show gates).")
@format_option(("table", "json", "html", "junit"), what="What to print on stdout, or write to -o")
@output_option()
@VERBOSITY
@handle_errors
def audit_cmd(models, images, provider, pairs_per_image, seed, input_size, preset, bgr, vertical, batch_size,
              max_shift, feed, pipeline, model_output, output_kind, input_shape, no_run, engine, address, min_symmetry,
              max_asymmetric_layers,
              asymmetry_below, min_shift_consistency, min_flip_consistency, fail_on_uneven_padding, baseline,
              max_symmetry_drop, max_consistency_drop, config_path, json_out, html_out, junit_out, fmt, output,
              quiet, verbose):
    """Weights, padding and consistency of MODEL, checked against gates; one summary line.

    \b
    Exit codes: 0 every gate passed (or none was set), 1 a gate failed, 2 bad input or usage,
    3 onnxruntime failed. When the consistency part fails (2 or 3), --json and --html are
    still written, with the weight part complete and the error in the consistency part.
    Several MODELs (as a pre-commit hook passes them) are audited in turn, a summary line each;
    the exit code is the worst.
    """
    from ..errors import InputError
    from .config import gates_from, load_config

    files = {"--json": json_out, "--html": html_out, "--junit": junit_out, "--output": output}
    if len(models) > 1 and any(files.values()):
        raise InputError("--json, --html, --junit and -o take one model: give them for each model in turn")
    config, source = load_config(config_path)
    if source:
        say(f"using settings from {source}", "info")
    gates = gates_from(config, source, min_symmetry=min_symmetry, max_asymmetric_layers=max_asymmetric_layers,
                       asymmetry_below=asymmetry_below, min_shift_consistency=min_shift_consistency,
                       min_flip_consistency=min_flip_consistency, fail_on_uneven_padding=fail_on_uneven_padding,
                       max_symmetry_drop=max_symmetry_drop, max_consistency_drop=max_consistency_drop)
    settings = consistency_settings(dict(images=images, provider=provider, pairs_per_image=pairs_per_image,
                                         seed=seed, input_size=input_size, preset=preset, bgr=bgr,
                                         vertical=vertical, batch_size=batch_size, max_shift=max_shift,
                                         pipeline=pipeline), config)
    options = dict(settings=settings, config=config, config_path=config_path, gates=gates, baseline=baseline,
                   feed=feed, model_output=model_output, output_kind=output_kind_value(output_kind),
                   input_shape=input_shape if input_shape is not None else config.get("input_shape"),
                   run=not (no_run or config.get("no_run", False)), files=files, fmt=fmt, quiet=quiet)
    ray_used = options["run"]  # --no-run measures nothing the engine would run
    with engine_for(engine if ray_used else "local", address if ray_used else None, quiet=quiet) as chosen:
        codes = [_audit_one(model, engine=chosen, **options) for model in models]
    sys.exit(next((c for c in _WORST if c in codes), 0))


def _audit_one(model, *, settings, config, config_path, gates, baseline, feed, model_output, output_kind,
               input_shape, run, files, fmt, quiet, engine=None) -> int:
    from ..auditing import audit
    from ..consistency import load_images
    from ..errors import InputError
    from ..model import load_model
    from .values import parse_feeds

    outputs = {k: v for k, v in files.items() if v}
    inputs = guard(outputs, {"model file": model, "--baseline": baseline, "--config": config_path,
                             "config": None if config_path else "pyproject.toml", **feed_files(feed)})
    settings = dict(settings)
    loaded = load_model(model)
    imageset = settings.pop("images")
    given_images = imageset
    if run:
        try:
            imageset = load_images(imageset)
        except InputError:  # the audit reports it as its consistency part's failure
            pass
    guard(outputs, {"image": given_images}, loaded=loaded,
          images=imageset if hasattr(imageset, "sources") else None, inputs=inputs)
    bar = ProgressBar(enabled=not quiet)
    try:
        report = audit(loaded, images=imageset, input_shape=input_shape, run=run, feeds=parse_feeds(feed) or None,
                       output=model_output, output_kind=output_kind, gates=gates, baseline=baseline, progress=bar,
                       engine=engine,
                       started=PROCESS_START, invocation=click.get_current_context().find_root().command.invocation, **settings)
    finally:
        bar.close()
    _render(report, model, files, fmt, quiet)
    return report.exit_code


def _render(report, model, files, fmt, quiet) -> None:
    from ..files import write_output
    from ..report import audit_render as render
    from ..terminal import clean_lines

    cons = report.data.get("consistency") or {}
    if cons.get("provider_note"):
        say(cons["provider_note"], "info")
    for warning in (([cons["provider_fallback"]] if cons.get("provider_fallback") else [])
                    + list(cons.get("warnings") or []) + report.data["warnings"]):
        say(warning, "warning")

    def html():
        from ..report.html import render_html

        return render_html(report.to_dict())

    writers = {"json": lambda: render.to_json(report) + "\n", "html": html,
               "junit": lambda: render.to_junit(report, os.path.basename(model))}
    for key, flag in (("json", "--json"), ("html", "--html"), ("junit", "--junit")):
        if files[flag]:
            write_output(files[flag], writers[key]())
            wrote(files[flag])
    summary_file = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary_file:
        _append(summary_file, render.to_markdown(report, os.path.basename(model)))
    if report.error:
        say(f"consistency failed: {report.error}", "error")
    fmt = resolve_format(fmt, files["--output"], ("table", "json", "html", "junit"))
    if "-" in (files["--json"], files["--html"], files["--junit"]):
        # stdout carries that document: the summary line goes to stderr, nothing else is printed
        if not quiet:
            say(clean_lines(report.summary_line), prefix=False)
    elif files["--output"]:
        text = writers[fmt]() if fmt in writers else clean_lines(render.to_table(report, columns=terminal_width())) + "\n"
        write_output(files["--output"], text)
        wrote(files["--output"])
        click.echo(clean_lines(report.summary_line))
    elif quiet:
        click.echo(clean_lines(report.summary_line))
    elif fmt in writers:
        click.echo(writers[fmt]().rstrip("\n"), color=True)
    else:
        text = clean_lines(render.to_table(report, columns=terminal_width()))
        click.echo(render.paint(text) if sys.stdout.isatty() and not os.environ.get("NO_COLOR") else text)


def _append(path, text) -> None:
    """Append to $GITHUB_STEP_SUMMARY (GitHub's protocol: the file is the runner's, appended to)."""
    from ..errors import InputError
    from ..files import check_regular

    try:
        check_regular(path, "GITHUB_STEP_SUMMARY")
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(text + "\n")
    except (OSError, InputError) as err:  # never fail an audit over the summary file
        say(f"could not append to GITHUB_STEP_SUMMARY: {err}", "warning")
