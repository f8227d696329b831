"""``onnxsym weights``: mean-kernel symmetry of every convolution."""
from __future__ import annotations

import click

from ..defaults import PER_KERNEL
from .app import handle_errors, main
from .options import INPUT_SHAPE, MODEL, VERBOSITY, format_option, output_option
from .output import emit, guard, resolve_format, say, terminal_width


@main.command("weights")
@MODEL
@format_option(("table", "json", "csv"))
@output_option()
@INPUT_SHAPE
@click.option("--input-size", help="Spatial size (N or HxW) for the padding section of a model with symbolic H, W.")
@click.option("--per-kernel/--no-per-kernel", default=PER_KERNEL, show_default=True,
              help="Also score every individual kernel W[n, c].")
@VERBOSITY
@handle_errors
def weights_cmd(model, fmt, output, input_shape, input_size, per_kernel, quiet, verbose):
    """Mean-kernel symmetry of every convolution in MODEL (an .onnx file)."""
    from ..auditing import analyze_weights
    from ..model import load_model
    from ..model.ops import conv_op_names
    from ..report import weights_render as render

    fmt = resolve_format(fmt, output, ("table", "json", "csv"))
    outputs = {"--output": output}
    inputs = guard(outputs, {"model file": model})
    loaded = load_model(model)
    guard(outputs, loaded=loaded, inputs=inputs)
    report = analyze_weights(loaded, per_kernel=per_kernel, input_shape=input_shape, input_size=input_size,
                             padding=True)
    if not report.layers:
        say(f"{model} has no convolutions ({conv_op_names()}): nothing to analyse")
    text = {"table": lambda r: render.to_table(r, columns=terminal_width()), "json": render.to_json,
            "csv": render.to_csv}[fmt](report)
    emit(text, output, human=fmt == "table")
