"""One way for tests to run the real CLI in-process: ``run(*args, cwd=None)`` gives
``(exit code, stdout, stderr)``; arguments are turned into strings, ``cwd`` is entered for the run."""
from __future__ import annotations

import contextlib

from click.testing import CliRunner

from onnxsym.cli import main


def run(*args, cwd=None):
    with contextlib.chdir(cwd) if cwd else contextlib.nullcontext():
        r = CliRunner().invoke(main, [str(a) for a in args])
    return r.exit_code, r.stdout, r.stderr
