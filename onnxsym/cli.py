"""The click command line: parse arguments, call the library, render, map errors to exit codes.

Exit codes: 0 all good, 1 a gate failed, 2 bad input or usage, 3 the runtime failed.
Heavy modules are imported inside the commands so ``onnxsym --version`` stays fast.
"""
from __future__ import annotations

import functools
import os
import sys

import click

from . import __version__
from .errors import EXIT_INPUT, EXIT_RUNTIME, OnnxsymError


def _fail(message: str, code: int):
    from .terminal import clean

    click.echo(f"onnxsym: error: {clean(message)}", err=True)
    sys.exit(code)


def _say(message: str, kind: str = "", prefix: bool = True):
    """One line on stderr (``onnxsym: warning: …``; ``prefix=False`` for a summary line that
    names itself), control characters escaped."""
    from .terminal import clean

    head = f"onnxsym: {kind + ': ' if kind else ''}" if prefix else ""
    click.echo(f"{head}{clean(message)}", err=True)


def handle_errors(fn):
    """Turn library errors into one line on stderr and their exit code; no tracebacks.

    Set ONNXSYM_DEBUG=1 to see the traceback of an unexpected error.
    """

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except OnnxsymError as err:
            _fail(str(err), err.exit_code)
        except KeyboardInterrupt:
            _fail("interrupted", 130)
        except MemoryError:
            _fail("out of memory", EXIT_RUNTIME)
        except Exception as err:  # a bug: still one line unless debugging
            if os.environ.get("ONNXSYM_DEBUG"):
                raise
            _fail(f"internal error: {type(err).__name__}: {' '.join(str(err).split())} "
                  "(set ONNXSYM_DEBUG=1 for the traceback)", EXIT_RUNTIME)

    return wrapper


def emit(text: str, output: str | None, human: bool = False):
    """Print ``text`` or write it to ``output`` (``-`` is stdout; see :func:`onnxsym.files.write_output`).

    ``human``: text for a person (tables), whose control characters from model and file names
    are escaped wherever it goes; machine formats (JSON, CSV) stay exact — JSON escapes them
    itself; CSV is escaped only when printed to a terminal."""
    from .files import write_output
    from .terminal import clean_lines

    if human or (not output and sys.stdout.isatty()):
        text = clean_lines(text)
    if output and output != "-":
        write_output(output, text if text.endswith("\n") else text + "\n")
        _say(f"wrote {output}")
    else:
        # color=True: click would strip ANSI sequences from a pipe, altering a machine format
        click.echo(text.rstrip("\n"), color=True)


def _feed_files(feeds) -> dict:
    """{label: path} of the ``--feed NAME=FILE`` values that name files."""
    out = {}
    for text in feeds or ():
        name, _, value = str(text).partition("=")
        out[f"--feed {name.strip()} file"] = value.strip()
    return out


def _guard(outputs: dict, paths: dict = (), loaded=None, images=None, inputs=None):
    """Refuse (exit 2) output paths that cannot be written or that name an input: ``paths``
    {what: path} of the files read, ``loaded`` a LoadedModel (its file and external data),
    ``images`` an ImageSet. Called before any work, and again when more inputs are known."""
    from .files import Inputs, check_distinct_outputs, check_writable

    inputs = inputs if inputs is not None else Inputs()
    for what, path in dict(paths).items():
        if path:
            inputs.add(path, what)
    if loaded is not None:
        inputs.add(loaded.path, "model file")
        for f in loaded.external_files:
            inputs.add(f, "external data file")
    if images is not None:
        for src in images.sources:
            if not hasattr(src, "shape"):
                inputs.add(src, "image")
        if getattr(images, "path", None):
            inputs.add(images.path, "image file")
    check_distinct_outputs(outputs)
    for flag, path in outputs.items():
        if path:
            check_writable(path)
            inputs.check_output(path, flag)
    return inputs


class _Group(click.Group):
    """click group whose usage errors are one line on stderr (exit 2), like every other error."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        import warnings

        for stream in (sys.stdout, sys.stderr):  # a file name with undecodable bytes must still print
            try:
                stream.reconfigure(errors="backslashreplace")
            except (AttributeError, ValueError):
                pass
        if not os.environ.get("ONNXSYM_DEBUG"):
            # the libraries' own Python warnings (onnx on odd external data, PIL, numba) are not
            # for the user of this command: what matters, onnxsym reports itself, once
            warnings.simplefilter("ignore")
        try:
            rv = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except BrokenPipeError:  # `onnxsym … | head`: the reader left; not an error of ours
            try:
                sys.stdout = open(os.devnull, "w")
            except OSError:
                pass
            sys.exit(0)
        except click.exceptions.NoArgsIsHelpError as err:
            click.echo(err.ctx.get_help() if err.ctx else str(err))
            sys.exit(EXIT_INPUT)
        except click.UsageError as err:
            where = f" (see '{err.ctx.command_path} --help')" if err.ctx else ""
            _fail(f"{' '.join(err.format_message().split())}{where}", EXIT_INPUT)
        except click.ClickException as err:
            _fail(" ".join(err.format_message().split()), err.exit_code or EXIT_INPUT)
        except click.Abort:
            _fail("aborted", 130)
        if standalone_mode:
            sys.exit(rv if isinstance(rv, int) else 0)
        return rv


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", "-V", prog_name="onnxsym")
def main():
    """Audit convolutional networks through their ONNX files.

    \b
    Exit codes: 0 all good, 1 a gate failed, 2 bad input or usage,
    3 the runtime (onnxruntime) failed.
    """


# ---- commands (each: parse, call the library, render) ----------------------------------------
# weights: below.  padding, consistency, audit, compare: added by their modules' authors.


@main.command("weights")
@click.argument("model", type=click.Path(dir_okay=True, path_type=str))
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table",
              show_default=True, help="Output format.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, allow_dash=True, path_type=str),
              help="Write the report to FILE instead of stdout (a regular file is replaced atomically; "
                   "a device or FIFO is written in place; - is stdout).")
@click.option("--input-shape", help="Input shape (e.g. 1x3x224x224) for the padding section; "
              "by default the model's static shape is used when it has one.")
@click.option("--per-kernel/--no-per-kernel", default=True, show_default=True,
              help="Also score every individual kernel W[n, c].")
@handle_errors
def weights_cmd(model, fmt, output, input_shape, per_kernel):
    """Mean-kernel symmetry of every convolution in MODEL (an .onnx file)."""
    from .loading import load_model
    from .weights import analyze_weights

    outputs = {"--output": output}
    inputs = _guard(outputs, {"model file": model})
    loaded = load_model(model)
    _guard(outputs, loaded=loaded, inputs=inputs)
    report = analyze_weights(loaded, per_kernel=per_kernel, input_shape=input_shape,
                             padding=True)
    if not report.layers:
        _say(f"{model} has no convolutions (Conv, ConvTranspose, QLinearConv, "
             "ConvInteger, DeformConv, FusedConv): nothing to analyse")
    from .report import weights_render as render

    text = {"table": render.to_table, "json": render.to_json, "csv": render.to_csv}[fmt](report)
    emit(text, output, human=fmt == "table")


# ---- consistency (shift / flip consistency with onnxruntime) -------------------------------
class _ProgressBar:
    """A progress line on stderr, only on a terminal and only once a run has taken a few seconds."""

    def __init__(self, delay: float = 2.0):
        import time

        self._time = time.monotonic
        self.start = self._time()
        self.delay = delay
        self.enabled = sys.stderr.isatty()
        self.shown = False

    def __call__(self, done: int, total: int):
        if not self.enabled:
            return
        elapsed = self._time() - self.start
        if elapsed < self.delay and done < total:
            return
        if not self.shown and done >= total:
            return  # finished before the delay: never show a bar
        self.shown = True
        width = 30
        frac = done / total if total else 1.0
        bar = "#" * int(frac * width)
        rate = done / elapsed if elapsed > 0 else 0.0
        sys.stderr.write(f"\rconsistency [{bar:<{width}}] {done}/{total} inputs {rate:.0f}/s")
        sys.stderr.flush()

    def close(self):
        if self.shown:
            sys.stderr.write("\n")
            sys.stderr.flush()


@main.command("consistency")
@click.argument("model", type=click.Path(dir_okay=True, path_type=str))
@click.option("--images", "images", type=click.Path(path_type=str),
              help="A folder of JPEG/PNG (recursive), an image, or a .npy/.npz array "
              "[N,H,W,3]; default: the photos shipped in onnxsym/samples.")
@click.option("--provider", type=click.Choice(["auto", "cuda", "cpu"]), default="auto",
              show_default=True, help="auto: CUDA then CPU (a fallback is reported); "
              "cuda: fail (exit 3) without CUDA.")
@click.option("--pairs-per-image", type=int, default=5, show_default=True,
              help="Random crop pairs per image for shift consistency.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the crop offsets.")
@click.option("--input-size", help="Spatial size (N or HxW) for a model with symbolic H, W.")
@click.option("--preset", type=click.Choice(["imagenet", "unit", "symmetric", "symmetric-tf", "raw"]),
              default="imagenet", show_default=True,
              help="Normalisation: imagenet mean/std, unit [0,1], symmetric (x-127.5)/127.5, "
              "symmetric-tf (x-127)/128, raw 0-255.")
@click.option("--bgr", is_flag=True, help="Feed channels in BGR order (default RGB).")
@click.option("--vertical", is_flag=True, help="Also measure vertical-flip consistency.")
@click.option("--batch-size", type=int, default=None,
              help="Inputs per onnxruntime run (default 32; a fixed batch dimension wins).")
@click.option("--max-shift", type=int, default=None,
              help="Largest shift in pixels per axis [default: round(32 × side / 224), Zhang's 32 at 224].")
@click.option("--feed", "feed", multiple=True, metavar="NAME=FILE.npy|NUMBER",
              help="Value of a model input other than the image (repeatable): a .npy array or a "
              "number, converted to the input's dtype; an array [1, ...] is repeated over the batch "
              "when the input has a batch dimension.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table",
              show_default=True, help="Output format.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, allow_dash=True, path_type=str),
              help="Write the report to FILE instead of stdout (a regular file is replaced atomically; "
                   "a device or FIFO is written in place; - is stdout).")
@handle_errors
def consistency_cmd(model, images, provider, pairs_per_image, seed, input_size, preset, bgr,
                    vertical, batch_size, max_shift, feed, fmt, output):
    """Shift and flip consistency of MODEL (an .onnx file), run with onnxruntime."""
    from .consistency import measure_consistency, parse_feeds
    from .images import load_images
    from .loading import load_model
    from .report import consistency_render as render

    outputs = {"--output": output}
    inputs = _guard(outputs, {"model file": model, "image": images,
                              **_feed_files(feed)})
    loaded = load_model(model)
    imageset = load_images(images)
    _guard(outputs, loaded=loaded, images=imageset, inputs=inputs)
    feeds = parse_feeds(feed)
    bar = _ProgressBar()
    try:
        report = measure_consistency(
            loaded, imageset, provider=provider, pairs_per_image=pairs_per_image, seed=seed,
            input_size=input_size, preset=preset, channel_order="bgr" if bgr else "rgb",
            batch_size=batch_size, vertical=vertical, progress=bar, feeds=feeds or None,
            max_shift=max_shift)
    finally:
        bar.close()
    if report.provider_fallback:
        _say(report.provider_fallback, "warning")
    for w in report.warnings:
        _say(w, "warning")
    emit(render.to_json(report) if fmt == "json" else render.to_table(report), output, human=fmt == "table")
    if output or fmt == "json":
        _say(render.summary_line(report), prefix=False)


# ---- padding (which downsampling layers pad unevenly; input sizes that pad evenly) ----------
@main.command("padding")
@click.argument("model", type=click.Path(dir_okay=True, path_type=str))
@click.option("--input-shape", metavar="SHAPE",
              help="The image input's shape as the model declares it (1x3x224x224; NHWC models "
                   "1x224x224x3), or just HxW when the layout is known; several image inputs as "
                   "'a=1x3x64x64;b=1x3x32x32' (quoted). Default: the model's own.")
@click.option("--layout", type=click.Choice(["NCHW", "NHWC", "NCW", "NWC", "NCDHW", "NDHWC"],
                                            case_sensitive=False),
              help="The input's layout, when the graph does not show it.")
@click.option("--suggest/--no-suggest", default=True, show_default=True,
              help="Search input sizes at which every strided layer pads evenly.")
@click.option("--range", "size_range", metavar="LO:HI",
              help="Sizes to search, inclusive (default: nominal ± 32).")
@click.option("--skew/--no-skew", default=True, show_default=True,
              help="Read the weights to check whether each uneven conv leans toward its padded side.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table",
              show_default=True, help="Output format.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, allow_dash=True, path_type=str),
              help="Write the report to FILE instead of stdout (a regular file is replaced atomically; "
                   "a device or FIFO is written in place; - is stdout).")
@handle_errors
def padding_cmd(model, input_shape, layout, suggest, size_range, skew, fmt, output):
    """Effective padding of every conv and pool in MODEL; uneven layers; sizes that fix them."""
    from .loading import load_model
    from .padding import analyze_padding

    outputs = {"--output": output}
    inputs = _guard(outputs, {"model file": model})
    loaded = load_model(model)
    _guard(outputs, loaded=loaded, inputs=inputs)
    report = analyze_padding(loaded, input_shape, suggest=suggest, size_range=size_range, layout=layout,
                             skews="weights" if skew else None)
    if not report.layers:
        _say(f"{model} has no convolutions or pools: nothing to analyse")
    from .report import padding_render as render

    emit(render.to_json(report) if fmt == "json" else render.to_table(report), output, human=fmt == "table")
    if (output or fmt == "json") and report.layers:
        _say(report.summary_line, prefix=False)


# ---- audit and compare ------------------------------------------------------------------------
@main.command("audit")
@click.argument("model", type=click.Path(dir_okay=True, path_type=str))
@click.option("--images", type=click.Path(path_type=str),
              help="Photos for the consistency part (folder, image, .npy/.npz); default: the shipped samples.")
@click.option("--input-shape", help="Input shape for the padding diagnosis (e.g. 1x3x224x224).")
@click.option("--input-size", help="Spatial size (N or HxW) for consistency when the model's H, W are symbolic.")
@click.option("--no-run", is_flag=True, help="Data-free audit: weights and padding only, no onnxruntime.")
@click.option("--provider", type=click.Choice(["auto", "cuda", "cpu"]), default=None,
              help="onnxruntime provider for the consistency run [default: auto].")
@click.option("--pairs-per-image", type=int, default=None, help="Shift pairs per image [default: 5].")
@click.option("--seed", type=int, default=None, help="Seed of the shift offsets [default: 0].")
@click.option("--preset", type=click.Choice(["imagenet", "unit", "symmetric", "symmetric-tf", "raw"]),
              default=None, help="Input normalisation [default: imagenet].")
@click.option("--bgr", is_flag=True, default=None, help="Feed channels in BGR order (default RGB).")
@click.option("--vertical", is_flag=True, default=None, help="Also measure vertical-flip consistency.")
@click.option("--batch-size", type=int, default=None, help="Inputs per onnxruntime run [default: 32].")
@click.option("--max-shift", type=int, default=None,
              help="Largest shift in pixels per axis [default: round(32 × side / 224), Zhang's 32 at 224].")
@click.option("--feed", "feed", multiple=True, metavar="NAME=FILE.npy|NUMBER",
              help="Value of a model input other than the image (repeatable), as in `consistency`.")
@click.option("--min-symmetry", type=float, help="Gate: median internal S at least this.")
@click.option("--max-asymmetric-layers", type=int, help="Gate: at most N layers with S below --asymmetry-below.")
@click.option("--asymmetry-below", type=float, help="Threshold for --max-asymmetric-layers [default: 0.5].")
@click.option("--min-shift-consistency", type=float, help="Gate: shift consistency at least this fraction (0.85 = 85 %).")
@click.option("--min-flip-consistency", type=float, help="Gate: flip consistency at least this fraction.")
@click.option("--fail-on-uneven-padding/--no-fail-on-uneven-padding", default=None,
              help="Gate: no strided layer may pad unevenly (the --no form switches off a config's setting).")
@click.option("--baseline", type=click.Path(dir_okay=False, path_type=str),
              help="An earlier audit JSON of this model family, for the drop gates and deltas.")
@click.option("--max-symmetry-drop", type=float, help="Gate vs --baseline: median S may drop at most this.")
@click.option("--max-consistency-drop", type=float, help="Gate vs --baseline: shift/flip may drop at most this fraction.")
@click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=str),
              help="TOML file with gate settings (top-level keys or [tool.onnxsym]); default: "
                   "[tool.onnxsym] in ./pyproject.toml if present.")
@click.option("--json", "json_out", type=click.Path(dir_okay=False, allow_dash=True, path_type=str),
              help="Write the JSON report here (- is stdout).")
@click.option("--html", "html_out", type=click.Path(dir_okay=False, allow_dash=True, path_type=str),
              help="Write the HTML report here (- is stdout).")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True,
              help="What to print on stdout.")
@click.option("-q", "--quiet", is_flag=True, help="Print only the summary line.")
@handle_errors
def audit_cmd(model, images, input_shape, input_size, no_run, provider, pairs_per_image, seed, preset,
              bgr, vertical, batch_size, max_shift, feed, min_symmetry, max_asymmetric_layers, asymmetry_below, min_shift_consistency,
              min_flip_consistency, fail_on_uneven_padding, baseline, max_symmetry_drop,
              max_consistency_drop, config_path, json_out, html_out, fmt, quiet):
    """Weights, padding and consistency of MODEL, checked against gates; one summary line.

    \b
    Exit codes: 0 every gate passed, 1 a gate failed, 2 bad input or usage,
    3 onnxruntime failed. When the consistency part fails (2 or 3), --json and --html are
    still written, with the weight part complete and the error in the consistency part.
    """
    from .auditing import audit
    from .consistency import parse_feeds
    from .files import write_output
    from .gates import gates_from, load_config
    from .images import load_images
    from .loading import load_model
    from .report import audit_render as render
    from .terminal import clean_lines

    outputs = {"--json": json_out, "--html": html_out}
    inputs = _guard(outputs, {"model file": model, "--baseline": baseline, "--config": config_path,
                              "config": None if config_path else "pyproject.toml",
                              **_feed_files(feed)})
    config, source = load_config(config_path)
    if source and not quiet:
        _say(f"using settings from {source}")
    gates = gates_from(config, source, min_symmetry=min_symmetry, max_asymmetric_layers=max_asymmetric_layers,
                       asymmetry_below=asymmetry_below, min_shift_consistency=min_shift_consistency,
                       min_flip_consistency=min_flip_consistency,
                       fail_on_uneven_padding=fail_on_uneven_padding, max_symmetry_drop=max_symmetry_drop,
                       max_consistency_drop=max_consistency_drop)

    def pick(flag, key, default):
        return flag if flag is not None else config.get(key, default)

    from .errors import InputError

    run = not (no_run or config.get("no_run", False))
    loaded = load_model(model)
    imageset = None
    if run:
        try:
            imageset = load_images(pick(images, "images", None))
        except InputError:  # the audit reports it as its consistency part's failure
            imageset = pick(images, "images", None)
    _guard(outputs, {"image": pick(images, "images", None)}, loaded=loaded,
           images=imageset if hasattr(imageset, "sources") else None, inputs=inputs)
    bar = None if quiet else _ProgressBar()
    try:
        report = audit(loaded, images=imageset,
                       input_shape=pick(input_shape, "input_shape", None),
                       input_size=pick(input_size, "input_size", None),
                       run=run,
                       provider=pick(provider, "provider", "auto"),
                       pairs_per_image=pick(pairs_per_image, "pairs_per_image", 5),
                       seed=pick(seed, "seed", 0), preset=pick(preset, "preset", "imagenet"),
                       channel_order="bgr" if pick(bgr, "bgr", False) else "rgb",
                       vertical=pick(vertical, "vertical", False), batch_size=pick(batch_size, "batch_size", None),
                       feeds=parse_feeds(feed) or None, max_shift=pick(max_shift, "max_shift", None), gates=gates, baseline=baseline, progress=bar)
    finally:
        if bar is not None:
            bar.close()
    cons = report.data.get("consistency") or {}
    for warning in (([cons["provider_fallback"]] if cons.get("provider_fallback") else [])
                    + list(cons.get("warnings") or []) + report.data["warnings"]):
        _say(warning, "warning")
    if json_out:
        write_output(json_out, render.to_json(report) + "\n")
        if json_out != "-":
            _say(f"wrote {json_out}")
    if html_out:
        from .report.html import render_html

        write_output(html_out, render_html(report.to_dict()))
        if html_out != "-":
            _say(f"wrote {html_out}")
    if report.error:
        _say(f"consistency failed: {report.error}", "error")
    if quiet:
        click.echo(clean_lines(report.summary_line))
    elif fmt == "json":
        click.echo(render.to_json(report))
    else:
        text = clean_lines(render.to_table(report))
        click.echo(render.paint(text) if sys.stdout.isatty() and not os.environ.get("NO_COLOR") else text)
    sys.exit(report.exit_code)


@main.command("compare")
@click.argument("a", type=click.Path(dir_okay=False, path_type=str))
@click.argument("b", type=click.Path(dir_okay=False, path_type=str))
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, allow_dash=True, path_type=str),
              help="Write the comparison to FILE instead of stdout (- is stdout).")
@handle_errors
def compare_cmd(a, b, fmt, output):
    """Per-layer and summary deltas (B − A) of two reports (audit or weights JSON) or two models.

    Layers are matched by weight shape and order, not by name: converters rename and reorder.
    """
    from .auditing import compare_docs, load_report
    from .report import audit_render as render

    _guard({"--output": output}, {"report A": a, "report B": b})
    deltas = compare_docs(load_report(a), load_report(b))
    emit(render.compare_json(deltas) if fmt == "json" else render.compare_table(deltas, a, b), output,
         human=fmt == "table")


if __name__ == "__main__":  # python -m onnxsym.cli
    main()
