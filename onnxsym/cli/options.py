"""Options shared by several commands, declared once.

The consistency options default to None everywhere, so that ``audit`` can tell a flag given from
one not given (a config file fills the latter); :func:`consistency_settings` resolves them against
the config and :mod:`onnxsym.defaults`, which the help texts show.
"""
from __future__ import annotations

from contextlib import contextmanager

import click

from .. import defaults as D
from ..consistency.preprocess import PRESETS
from ..engines import ENGINES


def group(*decorators):
    """Several click decorators applied as one (in the order listed)."""
    def apply(fn):
        for d in reversed(decorators):
            fn = d(fn)
        return fn
    return apply


MODEL = click.argument("model", type=click.Path(dir_okay=True, path_type=str))


def output_option(what: str = "the report"):
    return click.option("-o", "--output", type=click.Path(dir_okay=False, allow_dash=True, path_type=str),
                        help=f"Write {what} to FILE instead of stdout (a regular file is replaced atomically; "
                             "a device or FIFO is written in place; - is stdout).")


def format_option(choices=("table", "json"), what: str = "Output format"):
    return click.option("--format", "fmt", type=click.Choice(list(choices)), default=None,
                        help=f"{what} [default: from the -o extension (.json, .csv, .html, .xml), else table].")


def _verbosity(ctx, param, value):
    from .output import set_verbosity

    if param.name == "verbose":
        quiet = ctx.params.get("quiet", False)
        set_verbosity(quiet, value)
    else:
        set_verbosity(value, ctx.params.get("verbose", False))
    return value


VERBOSITY = group(
    click.option("-q", "--quiet", is_flag=True, callback=_verbosity, expose_value=True,
                 help="Print nothing on stderr but errors (audit: only the summary line on stdout)."),
    click.option("-v", "--verbose", is_flag=True, callback=_verbosity, expose_value=True,
                 help="Also print info lines (where it runs and why, settings chosen)."),
)

OUTPUT_KIND = group(
    click.option("--model-output", "model_output", metavar="NAME",
                 help="The model output to compare (default: the first)."),
    click.option("--output-kind", "output_kind", metavar="KIND|NAME=KIND", multiple=True,
                 help="What the output is: auto (decided from it, and said), classes (top-1 agreement), "
                      "spatial (a map, compared per position), vector (cosine similarity); NAME=KIND per "
                      "output (repeatable)."),
)


def output_kind_value(values) -> object:
    """``--output-kind`` values → "auto", one kind, or {output name: kind}."""
    from ..errors import InputError

    values = list(values or ())
    if not values:
        return "auto"
    if len(values) == 1 and "=" not in values[0]:
        return values[0].strip().lower()
    out = {}
    for v in values:
        name, sep, kind = v.partition("=")
        if not sep or not name.strip():
            raise InputError(f"--output-kind {v!r}: expected KIND or NAME=KIND")
        out[name.strip()] = kind.strip().lower()
    return out


INPUT_SHAPE = click.option(
    "--input-shape", metavar="SHAPE",
    help="The image input's shape as the model declares it (1x3x224x224; NHWC models 1x224x224x3), or "
         "just HxW when the layout is known; several image inputs as 'a=1x3x64x64;b=1x3x32x32' (quoted). "
         "Default: the model's own static shape.")

CONSISTENCY = group(
    click.option("--images", type=click.Path(path_type=str),
                 help="A folder of JPEG/PNG (recursive), an image, or a .npy/.npz array [N,H,W,3]; "
                      "default: the photos shipped in onnxsym/samples."),
    click.option("--provider", type=click.Choice(["auto", "cuda", "cpu"]), default=None, show_default=D.PROVIDER,
                 help="auto: CUDA then CPU (a fallback is reported); cuda: fail (exit 3) without CUDA."),
    click.option("--pairs-per-image", type=int, default=None, show_default=str(D.PAIRS_PER_IMAGE),
                 help="Random crop pairs per image for shift consistency."),
    click.option("--seed", type=int, default=None, show_default=str(D.SEED), help="Seed of the crop offsets."),
    click.option("--input-size", help="Spatial size (N or HxW) for a model with symbolic H, W."),
    click.option("--preset", type=click.Choice(list(PRESETS)), default=None, show_default=D.PRESET,
                 help="Normalisation: imagenet mean/std, unit [0,1], symmetric (x-127.5)/127.5, "
                      "symmetric-tf (x-127)/128, raw 0-255."),
    click.option("--bgr", is_flag=True, default=None, help="Feed channels in BGR order (default RGB)."),
    click.option("--vertical", is_flag=True, default=None, help="Also measure vertical-flip consistency."),
    click.option("--batch-size", type=int, default=None, show_default=str(D.BATCH_SIZE),
                 help="Inputs per onnxruntime run (a fixed batch dimension wins)."),
    click.option("--max-shift", type=int, default=None, show_default="round(32 × side / 224), Zhang's 32 at 224",
                 help="Largest shift in pixels per axis."),
    click.option("--feed", "feed", multiple=True, metavar="NAME=FILE.npy|NUMBER",
                 help="Value of a model input other than the image (repeatable): a .npy array or a number, "
                      "converted to the input's dtype; an array [1, ...] is repeated over the batch when the "
                      "input has a batch dimension."),
)

PIPELINE = click.option(
    "--pipeline", type=click.Choice(["auto", "device", "host"]), default=None, show_default=D.PIPELINE,
    help="Where the crops, mirrors and normalisation are made: device (inside the onnxruntime session: "
         "uint8 images uploaded, classifier outputs reduced there), host (numpy); auto: device on CUDA, "
         "host on the CPU. The numbers are the same.")

#: the consistency options' names and defaults (what a config file may set too)
CONSISTENCY_DEFAULTS = {"images": None, "provider": D.PROVIDER, "pairs_per_image": D.PAIRS_PER_IMAGE,
                        "seed": D.SEED, "input_size": None, "preset": D.PRESET, "bgr": False,
                        "vertical": D.VERTICAL, "batch_size": None, "max_shift": None}


def consistency_settings(flags: dict, config: dict | None = None) -> dict:
    """The library's keyword arguments from the consistency options: each flag given wins, then
    the config file's value, then the default (``pipeline`` only when given among ``flags``)."""
    from .config import pick

    defaults = dict(CONSISTENCY_DEFAULTS, **({"pipeline": D.PIPELINE} if "pipeline" in flags else {}))
    s = pick(flags, config or {}, defaults)
    s["channel_order"] = "bgr" if s.pop("bgr") else "rgb"
    return s


GATES = group(
    click.option("--min-symmetry", type=float, help="Gate: median internal S at least this."),
    click.option("--max-asymmetric-layers", type=int, help="Gate: at most N layers with S below --asymmetry-below."),
    click.option("--asymmetry-below", type=float, show_default=str(D.ASYMMETRY_BELOW),
                 help="Threshold for --max-asymmetric-layers."),
    click.option("--min-shift-consistency", type=float,
                 help="Gate: shift consistency at least this fraction (0.85 = 85 %)."),
    click.option("--min-flip-consistency", type=float, help="Gate: flip consistency at least this fraction."),
    click.option("--fail-on-uneven-padding/--no-fail-on-uneven-padding", default=None,
                 help="Gate: no strided layer may pad unevenly (the --no form switches off a config's setting)."),
    click.option("--baseline", type=click.Path(dir_okay=False, path_type=str),
                 help="An earlier audit JSON of this model family, for the drop gates and deltas."),
    click.option("--max-symmetry-drop", type=float, help="Gate vs --baseline: median S may drop at most this."),
    click.option("--max-consistency-drop", type=float,
                 help="Gate vs --baseline: shift/flip may drop at most this fraction."),
)


ENGINE = group(
    click.option("--engine", type=click.Choice(list(ENGINES)), default="local", show_default=True,
                 help="Where the work runs: local (this machine; study: --jobs processes), or ray (Ray tasks per "
                      "model, a Ray Data actor pool over the images; needs pip install -e \".[ray]\"). The numbers "
                      "are the same."),
    click.option("--address", metavar="ADDR",
                 help="With --engine ray: the cluster to use (auto: the one this machine is a node of; HOST:PORT "
                      "of its head; ray://HOST:10001 through Ray Client). Default: a local Ray instance listening "
                      "on 127.0.0.1 only. Its token: RAY_AUTH_TOKEN, RAY_AUTH_TOKEN_PATH or ~/.ray/auth_token."),
)


@contextmanager
def engine_for(engine: str, address: str | None, *, jobs: int = 1, quiet: bool = False):
    """The engine the ``--engine``/``--address`` options ask for, for the command's duration:
    None for the local engine (the library's default), else a started Ray engine, said once on
    stderr (what runs where) and stopped when the command ends."""
    from ..engines import running
    from .output import say

    if engine == "local" and address is None:
        yield None
        return
    with running(engine, jobs=jobs, address=address) as chosen:
        if not quiet:
            say(chosen.summary())
        yield chosen
