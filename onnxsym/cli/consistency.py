"""``onnxsym consistency``: shift and flip consistency, run with onnxruntime."""
from __future__ import annotations

from .app import handle_errors, main
from .options import CONSISTENCY, MODEL, consistency_settings, format_option, output_option
from .output import ProgressBar, emit, feed_files, guard, say


@main.command("consistency")
@MODEL
@CONSISTENCY
@format_option()
@output_option()
@handle_errors
def consistency_cmd(model, images, provider, pairs_per_image, seed, input_size, preset, bgr, vertical,
                    batch_size, max_shift, feed, fmt, output):
    """Shift and flip consistency of MODEL (an .onnx file), run with onnxruntime."""
    from ..consistency import load_images, measure
    from ..model import load_model
    from ..report import consistency_render as render
    from .values import parse_feeds

    settings = consistency_settings(dict(images=images, provider=provider, pairs_per_image=pairs_per_image,
                                         seed=seed, input_size=input_size, preset=preset, bgr=bgr,
                                         vertical=vertical, batch_size=batch_size, max_shift=max_shift))
    outputs = {"--output": output}
    inputs = guard(outputs, {"model file": model, "image": images, **feed_files(feed)})
    loaded = load_model(model)
    imageset = load_images(settings.pop("images"))
    guard(outputs, loaded=loaded, images=imageset, inputs=inputs)
    feeds = parse_feeds(feed)
    bar = ProgressBar()
    try:
        report = measure(loaded, imageset, progress=bar, feeds=feeds or None, **settings)
    finally:
        bar.close()
    if report.provider_fallback:
        say(report.provider_fallback, "warning")
    for w in report.warnings:
        say(w, "warning")
    emit(render.to_json(report) if fmt == "json" else render.to_table(report), output, human=fmt == "table")
    if output or fmt == "json":
        say(render.summary_line(report), prefix=False)
