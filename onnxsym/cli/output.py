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


class _Verbosity:
    """``-q``: errors only (and what a command prints on stdout); ``-v``: info lines too."""

    quiet = False
    verbose = False


VERBOSITY = _Verbosity()


def set_verbosity(quiet: bool, verbose: bool) -> None:
    VERBOSITY.quiet, VERBOSITY.verbose = bool(quiet), bool(verbose) and not quiet


def say(message: str, kind: str = "", prefix: bool = True):
    """One line on stderr (``onnxsym: warning: …``; ``prefix=False`` for a summary line that
    names itself), control characters escaped. ``kind="info"`` prints only under ``-v``; nothing
    but errors prints under ``-q``."""
    if VERBOSITY.quiet or (kind == "info" and not VERBOSITY.verbose):
        return
    head = f"onnxsym: {kind + ': ' if kind and kind != 'info' else ''}" if prefix else ""
    click.echo(f"{head}{clean(message)}", err=True)


def wrote(path) -> None:
    """Announce a written file once (not for stdout)."""
    if path and path != "-":
        say(f"wrote {path}")


def terminal_width() -> int:
    """``$COLUMNS``, else the terminal's width, else 100."""
    import os
    import shutil

    try:
        return max(60, int(os.environ["COLUMNS"]))
    except (KeyError, ValueError):
        pass
    return max(60, shutil.get_terminal_size((100, 24)).columns) if sys.stdout.isatty() else 100


FORMATS_BY_SUFFIX = {".json": "json", ".csv": "csv", ".html": "html", ".htm": "html", ".xml": "junit",
                     ".txt": "table"}


def resolve_format(fmt, output, choices) -> str:
    """``--format`` as given, else inferred from ``-o``'s extension (``.json`` → json …), else table."""
    import os

    if fmt:
        return fmt
    if output and output != "-":
        inferred = FORMATS_BY_SUFFIX.get(os.path.splitext(str(output))[1].lower())
        if inferred in choices:
            return inferred
    return "table"


def emit(text: str, output: str | None, human: bool = False):
    """Print ``text`` or write it to ``output`` (``-`` is stdout; see :func:`onnxsym.files.write_output`).

    ``human``: text for a person (tables), whose control characters from model and file names
    are escaped wherever it goes; machine formats (JSON, CSV) stay exact — JSON escapes them
    itself; CSV is escaped only when printed to a terminal."""
    if human or (not output and sys.stdout.isatty()):
        text = clean_lines(text)
    if output and output != "-":
        write_output(output, text if text.endswith("\n") else text + "\n")
        wrote(output)
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
    """Progress of a whole run, stage by stage (weights, padding, consistency).

    On a terminal: one line redrawn in place, with the stage, a bar, elapsed time and an ETA, shown
    only once a run has taken a couple of seconds. In a log (not a terminal, e.g. CI): one short line
    every ``LOG_EVERY`` seconds. Off under ``-q``. The library calls ``stage(name)(done, total)``;
    a plain ``bar(done, total)`` counts as the consistency stage."""

    DELAY = 2.0
    LOG_EVERY = 10.0
    WIDTH = 24

    def __init__(self, enabled: bool = True):
        import time

        self._time = time.monotonic
        self.start = self._time()
        self.enabled = enabled and not VERBOSITY.quiet
        self.tty = sys.stderr.isatty()
        self.shown = False
        self.last_log = self.start
        self.stage_start: dict = {}

    def stage(self, name: str):
        return lambda done, total: self.update(name, done, total)

    def __call__(self, done: int, total: int):
        self.update("consistency", done, total)

    def update(self, name: str, done: int, total: int):
        if not self.enabled:
            return
        now = self._time()
        began = self.stage_start.setdefault(name, now)
        elapsed = now - self.start
        rate = done / (now - began) if now > began and done else 0.0
        eta = f", ETA {(total - done) / rate:.0f} s" if rate and total and done < total else ""
        if not self.tty:
            if now - self.last_log >= self.LOG_EVERY:
                self.last_log = now
                click.echo(f"onnxsym: {name} {done}/{total}, {elapsed:.0f} s elapsed{eta}", err=True)
            return
        if elapsed < self.DELAY and not self.shown:
            return
        self.shown = True
        frac = done / total if total else 1.0
        bar = "#" * int(frac * self.WIDTH)
        sys.stderr.write(f"\r{name:<11} [{bar:<{self.WIDTH}}] {done}/{total}  {elapsed:.0f} s{eta}\x1b[K")
        sys.stderr.flush()

    def close(self):
        if self.shown:
            sys.stderr.write("\n")
            sys.stderr.flush()
