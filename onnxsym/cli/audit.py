"""``onnxsym audit``: weights, padding and consistency checked against gates; one summary line."""
from __future__ import annotations

import os
import sys

import click

from .app import handle_errors, main
from .options import CONSISTENCY, GATES, INPUT_SHAPE, MODEL, consistency_settings, format_option
from .output import ProgressBar, feed_files, guard, say


@main.command("audit")
@MODEL
@CONSISTENCY
@INPUT_SHAPE
@click.option("--no-run", is_flag=True, help="Data-free audit: weights and padding only, no onnxruntime.")
@GATES
@click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=str),
              help="TOML file with gate settings (top-level keys or [tool.onnxsym]); default: "
                   "[tool.onnxsym] in ./pyproject.toml if present.")
@click.option("--json", "json_out", type=click.Path(dir_okay=False, allow_dash=True, path_type=str),
              help="Write the JSON report here (- is stdout).")
@click.option("--html", "html_out", type=click.Path(dir_okay=False, allow_dash=True, path_type=str),
              help="Write the HTML report here (- is stdout).")
@format_option(what="What to print on stdout.")
@click.option("-q", "--quiet", is_flag=True, help="Print only the summary line.")
@handle_errors
def audit_cmd(model, images, provider, pairs_per_image, seed, input_size, preset, bgr, vertical, batch_size,
              max_shift, feed, input_shape, no_run, min_symmetry, max_asymmetric_layers, asymmetry_below,
              min_shift_consistency, min_flip_consistency, fail_on_uneven_padding, baseline, max_symmetry_drop,
              max_consistency_drop, config_path, json_out, html_out, fmt, quiet):
    """Weights, padding and consistency of MODEL, checked against gates; one summary line.

    \b
    Exit codes: 0 every gate passed, 1 a gate failed, 2 bad input or usage,
    3 onnxruntime failed. When the consistency part fails (2 or 3), --json and --html are
    still written, with the weight part complete and the error in the consistency part.
    """
    from ..auditing import audit
    from ..consistency import load_images
    from ..errors import InputError
    from ..files import write_output
    from ..model import load_model
    from ..report import audit_render as render
    from ..terminal import clean_lines
    from .config import gates_from, load_config
    from .values import parse_feeds

    outputs = {"--json": json_out, "--html": html_out}
    inputs = guard(outputs, {"model file": model, "--baseline": baseline, "--config": config_path,
                             "config": None if config_path else "pyproject.toml", **feed_files(feed)})
    config, source = load_config(config_path)
    if source and not quiet:
        say(f"using settings from {source}")
    gates = gates_from(config, source, min_symmetry=min_symmetry, max_asymmetric_layers=max_asymmetric_layers,
                       asymmetry_below=asymmetry_below, min_shift_consistency=min_shift_consistency,
                       min_flip_consistency=min_flip_consistency, fail_on_uneven_padding=fail_on_uneven_padding,
                       max_symmetry_drop=max_symmetry_drop, max_consistency_drop=max_consistency_drop)
    settings = consistency_settings(dict(images=images, provider=provider, pairs_per_image=pairs_per_image,
                                         seed=seed, input_size=input_size, preset=preset, bgr=bgr,
                                         vertical=vertical, batch_size=batch_size, max_shift=max_shift), config)
    run = not (no_run or config.get("no_run", False))
    loaded = load_model(model)
    imageset = settings.pop("images")
    if run:
        try:
            imageset = load_images(imageset)
        except InputError:  # the audit reports it as its consistency part's failure
            pass
    guard(outputs, {"image": images}, loaded=loaded, images=imageset if hasattr(imageset, "sources") else None,
          inputs=inputs)
    bar = None if quiet else ProgressBar()
    try:
        report = audit(loaded, images=imageset, input_shape=input_shape if input_shape is not None
                       else config.get("input_shape"), run=run, feeds=parse_feeds(feed) or None, gates=gates,
                       baseline=baseline, progress=bar, **settings)
    finally:
        if bar is not None:
            bar.close()
    cons = report.data.get("consistency") or {}
    for warning in (([cons["provider_fallback"]] if cons.get("provider_fallback") else [])
                    + list(cons.get("warnings") or []) + report.data["warnings"]):
        say(warning, "warning")
    if json_out:
        write_output(json_out, render.to_json(report) + "\n")
        if json_out != "-":
            say(f"wrote {json_out}")
    if html_out:
        from ..report.html import render_html

        write_output(html_out, render_html(report.to_dict()))
        if html_out != "-":
            say(f"wrote {html_out}")
    if report.error:
        say(f"consistency failed: {report.error}", "error")
    if quiet:
        click.echo(clean_lines(report.summary_line))
    elif fmt == "json":
        click.echo(render.to_json(report))
    else:
        text = clean_lines(render.to_table(report))
        click.echo(render.paint(text) if sys.stdout.isatty() and not os.environ.get("NO_COLOR") else text)
    sys.exit(report.exit_code)
