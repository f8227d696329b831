"""``onnxsym consistency``: shift and flip consistency, run with onnxruntime."""
from __future__ import annotations

from .app import handle_errors, main
from .options import (CONSISTENCY, ENGINE, MODEL, OUTPUT_KIND, PIPELINE, VERBOSITY, consistency_settings, engine_for,
                      format_option, output_kind_value, output_option)
from .output import ProgressBar, emit, feed_files, guard, resolve_format, say, terminal_width


@main.command("consistency")
@MODEL
@CONSISTENCY
@PIPELINE
@OUTPUT_KIND
@ENGINE
@format_option()
@output_option()
@VERBOSITY
@handle_errors
def consistency_cmd(model, images, provider, pairs_per_image, seed, input_size, preset, bgr, vertical,
                    batch_size, max_shift, feed, pipeline, model_output, output_kind, engine, address, fmt, output, quiet,
                    verbose):
    """Shift and flip consistency of MODEL (an .onnx file), run with onnxruntime."""
    from ..consistency import load_images, measure
    from ..model import load_model
    from ..report import consistency_render as render
    from .values import parse_feeds

    fmt = resolve_format(fmt, output, ("table", "json"))
    settings = consistency_settings(dict(images=images, provider=provider, pairs_per_image=pairs_per_image,
                                         seed=seed, input_size=input_size, preset=preset, bgr=bgr,
                                         vertical=vertical, batch_size=batch_size, max_shift=max_shift,
                                         pipeline=pipeline))
    outputs = {"--output": output}
    inputs = guard(outputs, {"model file": model, "image": images, **feed_files(feed)})
    loaded = load_model(model)
    imageset = load_images(settings.pop("images"))
    guard(outputs, loaded=loaded, images=imageset, inputs=inputs)
    feeds = parse_feeds(feed)
    with engine_for(engine, address, quiet=quiet) as chosen:
        bar = ProgressBar()
        try:
            report = measure(loaded, imageset, progress=bar, feeds=feeds or None, output=model_output,
                             output_kind=output_kind_value(output_kind), engine=chosen, **settings)
        finally:
            bar.close()
    if report.provider_note:
        say(report.provider_note, "info")
    say(f"variants made on the {report.pipeline.used} ({report.pipeline.reason})", "info")
    if report.provider_fallback:
        say(report.provider_fallback, "warning")
    for w in report.warnings:
        say(w, "warning")
    emit(render.to_json(report) if fmt == "json" else render.to_table(report, columns=terminal_width()), output,
         human=fmt == "table")
    if output or fmt == "json":
        say(render.summary_line(report), prefix=False)
