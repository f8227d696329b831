"""What the command line writes: one-line messages on stderr, reports to stdout or to files, the
check that no output is an input, and a progress line."""
from __future__ import annotations

import sys

import click

from ..files import Inputs, check_distinct_outputs, check_writable, write_output
from ..terminal import clean, clean_lines


def fail(message: str, code: int):
    """``onnxsym: error: …`` on stderr (control characters escaped), then exit with ``code``."""
    click.echo(f"onnxsym: error: {clean(message)}", err=True)
    sys.exit(code)


def say(message: str, kind: str = "", prefix: bool = True):
    """One line on stderr (``onnxsym: warning: …``; ``prefix=False`` for a summary line that
    names itself), control characters escaped."""
    head = f"onnxsym: {kind + ': ' if kind else ''}" if prefix else ""
    click.echo(f"{head}{clean(message)}", err=True)


def emit(text: str, output: str | None, human: bool = False):
    """Print ``text`` or write it to ``output`` (``-`` is stdout; see :func:`onnxsym.files.write_output`).

    ``human``: text for a person (tables), whose control characters from model and file names
    are escaped wherever it goes; machine formats (JSON, CSV) stay exact — JSON escapes them
    itself; CSV is escaped only when printed to a terminal."""
    if human or (not output and sys.stdout.isatty()):
        text = clean_lines(text)
    if output and output != "-":
        write_output(output, text if text.endswith("\n") else text + "\n")
        say(f"wrote {output}")
    else:
        # color=True: click would strip ANSI sequences from a pipe, altering a machine format
        click.echo(text.rstrip("\n"), color=True)


def feed_files(feeds) -> dict:
    """{label: path} of the ``--feed NAME=FILE`` values that name files."""
    out = {}
    for text in feeds or ():
        name, _, value = str(text).partition("=")
        out[f"--feed {name.strip()} file"] = value.strip()
    return out


def guard(outputs: dict, paths: dict = (), loaded=None, images=None, inputs=None):
    """Refuse (exit 2) output paths that cannot be written or that name an input: ``paths``
    {what: path} of the files read, ``loaded`` a LoadedModel (its file and external data),
    ``images`` an ImageSet. Called before any work, and again when more inputs are known."""
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
    check_distinct_outputs(outputs)
    for flag, path in outputs.items():
        if path:
            check_writable(path)
            inputs.check_output(path, flag)
    return inputs


class ProgressBar:
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


