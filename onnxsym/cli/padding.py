"""``onnxsym padding``: which downsampling layers pad unevenly, and input sizes that pad evenly."""
from __future__ import annotations

import click

from ..defaults import SUGGEST
from .app import handle_errors, main
from .options import INPUT_SHAPE, MODEL, VERBOSITY, format_option, output_option
from .output import ProgressBar, emit, guard, resolve_format, say, terminal_width


@main.command("padding")
@MODEL
@INPUT_SHAPE
@click.option("--input-size", help="Spatial size (N or HxW) of every image input, for a model with symbolic H, W "
                                   "[default: the model's own, else chosen and said].")
@click.option("--layout", type=click.Choice(["NCHW", "NHWC", "NCW", "NWC", "NCDHW", "NDHWC"], case_sensitive=False),
              help="The input's layout, when the graph does not show it.")
@click.option("--suggest/--no-suggest", default=SUGGEST, show_default=True,
              help="Search input sizes at which every strided layer pads evenly.")
@click.option("--range", "size_range", metavar="LO:HI", help="Sizes to search, inclusive (default: nominal ± 32).")
@click.option("--skew/--no-skew", default=True, show_default=True,
              help="Read the weights to check whether each uneven conv leans toward its padded side.")
@format_option()
@output_option()
@VERBOSITY
@handle_errors
def padding_cmd(model, input_shape, input_size, layout, suggest, size_range, skew, fmt, output, quiet, verbose):
    """Effective padding of every conv and pool in MODEL; uneven layers; sizes that fix them."""
    from ..auditing import analyze_padding
    from ..model import load_model
    from ..report import padding_render as render

    fmt = resolve_format(fmt, output, ("table", "json"))
    outputs = {"--output": output}
    inputs = guard(outputs, {"model file": model})
    loaded = load_model(model)
    guard(outputs, loaded=loaded, inputs=inputs)
    bar = ProgressBar()
    try:
        report = analyze_padding(loaded, input_shape, input_size=input_size, lean=skew, suggest=suggest,
                                 size_range=size_range, layout=layout, progress=bar.stage("padding"))
    finally:
        bar.close()
    if not report.layers:
        say(f"{model} has no convolutions or pools: nothing to analyse")
    emit(render.to_json(report) if fmt == "json" else render.to_table(report, columns=terminal_width()), output,
         human=fmt == "table")
    if (output or fmt == "json") and report.layers:
        say(report.summary_line, prefix=False)
