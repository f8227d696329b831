"""The click group, the mapping of errors to exit codes, and the flag names the library's messages
use when they run under the command line (:func:`onnxsym.wording.use_flags`).

Exit codes: 0 all good, 1 a gate failed, 2 bad input or usage, 3 the runtime failed. Heavy modules
are imported inside the commands so ``onnxsym --version`` stays fast.
"""
from __future__ import annotations

import functools
import os
import sys

import click

from .. import __version__
from ..errors import EXIT_INPUT, EXIT_RUNTIME, OnnxsymError
from .output import fail

def _process_start() -> float:
    """``time.time()`` when this process started (Linux: from /proc), else now: the summary's time
    is the whole command's, Python's start-up and imports included."""
    import time

    try:
        with open("/proc/self/stat") as fh:
            start_ticks = int(fh.read().rsplit(")", 1)[1].split()[19])
        with open("/proc/uptime") as fh:
            uptime = float(fh.read().split()[0])
        return time.time() - (uptime - start_ticks / os.sysconf("SC_CLK_TCK"))
    except (OSError, ValueError, IndexError, AttributeError):
        return time.time()


PROCESS_START = _process_start()

#: parameter name (library) -> flag (command line), for messages that tell the user what to give
FLAGS = {
    "input_shape": "--input-shape", "input_size": "--input-size", "size_range": "--range", "layout": "--layout",
    "max_shift": "--max-shift", "batch_size": "--batch-size", "pairs_per_image": "--pairs-per-image",
    "seed": "--seed", "images": "--images", "provider": "--provider", "feeds": "--feed", "baseline": "--baseline",
    "run": ("--no-run", "drop"), "config": "--config", "lean": "--skew", "per_kernel": "--per-kernel",
    "min_symmetry": "--min-symmetry", "max_asymmetric_layers": "--max-asymmetric-layers",
    "asymmetry_below": "--asymmetry-below", "min_shift_consistency": "--min-shift-consistency",
    "min_flip_consistency": "--min-flip-consistency", "fail_on_uneven_padding": "--fail-on-uneven-padding",
    "max_symmetry_drop": "--max-symmetry-drop", "max_consistency_drop": "--max-consistency-drop",
    "output_kind": "--output-kind", "output": "--model-output", "pipeline": "--pipeline",
    "jobs": "--jobs", "cache": "--cache", "labels": "--labels", "engine": "--engine", "address": "--address",
}


def handle_errors(fn):
    """Turn library errors into one line on stderr and their exit code; no tracebacks.

    Set ONNXSYM_DEBUG=1 to see the traceback of an unexpected error.
    """

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except OnnxsymError as err:
            fail(str(err), err.exit_code)
        except KeyboardInterrupt:
            fail("interrupted", 130)
        except MemoryError:
            fail("out of memory", EXIT_RUNTIME)
        except Exception as err:  # a bug: still one line unless debugging
            if os.environ.get("ONNXSYM_DEBUG"):
                raise
            fail(f"internal error: {type(err).__name__}: {' '.join(str(err).split())} "
                 "(set ONNXSYM_DEBUG=1 for the traceback)", EXIT_RUNTIME)

    return wrapper


class _Group(click.Group):
    """click group whose usage errors are one line on stderr (exit 2), like every other error."""

    invocation: list = ["onnxsym"]

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        import warnings

        from ..wording import flags

        # what the user typed, for the audit's provenance (under CliRunner sys.argv is the runner's)
        self.invocation = ["onnxsym", *(sys.argv[1:] if args is None else list(args))]
        with flags(FLAGS):
            return self._main(args, prog_name, complete_var, standalone_mode, warnings, **extra)

    def _main(self, args, prog_name, complete_var, standalone_mode, warnings, **extra):
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
            rv = click.Group.main(self, args, prog_name, complete_var, standalone_mode=False, **extra)
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
            fail(f"{' '.join(err.format_message().split())}{where}", EXIT_INPUT)
        except click.ClickException as err:
            fail(" ".join(err.format_message().split()), err.exit_code or EXIT_INPUT)
        except click.Abort:
            fail("aborted", 130)
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
