"""The no-JIT run of the kernel tests: the tests marked ``kernels`` in the modules that exercise
numba kernels, run again in a subprocess with ``NUMBA_DISABLE_JIT=1`` (every ``@njit`` function is
then the plain Python function it decorates, so the kernels' logic is checked without numba's
compiler in between, and coverage tools see their lines).

:func:`start` launches it (tests/conftest.py does so right after collection, so it runs while the
rest of the suite does); :func:`result` waits for it.
"""
from __future__ import annotations

import atexit
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
MODULES = ["tests/test_weights_symmetry.py", "tests/test_weights_random_init.py",
           "tests/test_consistency_preprocess.py"]
# the child checks that the variable took effect before it runs a test
CHILD = ("import sys, numba, pytest\n"
         "assert numba.config.DISABLE_JIT, 'NUMBA_DISABLE_JIT did not take effect'\n"
         "sys.exit(pytest.main(sys.argv[1:]))\n")

_run: dict = {}


def start() -> None:
    """Launch the no-JIT run once (a no-op inside that run itself)."""
    if _run or os.environ.get("NUMBA_DISABLE_JIT") == "1":
        return
    out = tempfile.TemporaryFile(mode="w+")
    env = dict(os.environ, NUMBA_DISABLE_JIT="1", PYTHONDONTWRITEBYTECODE="1")
    # niced: on a busy machine it takes only the time the rest of the suite leaves
    proc = subprocess.Popen([sys.executable, "-c", CHILD, "-q", "-m", "kernels", "-p", "no:cacheprovider",
                             *MODULES], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, text=True,
                            preexec_fn=(lambda: os.nice(10)) if hasattr(os, "nice") else None)
    _run.update(proc=proc, out=out, t0=time.perf_counter())
    atexit.register(_stop)


def result(timeout: float) -> tuple[int, str]:
    """(exit code, output) of the no-JIT run, started here if need be; ``timeout`` seconds from
    its start at most."""
    start()
    proc = _run["proc"]
    try:
        proc.wait(timeout=max(1.0, timeout - (time.perf_counter() - _run["t0"])))
    except subprocess.TimeoutExpired:
        _stop()
    _run["out"].seek(0)
    return proc.returncode, _run["out"].read()


def _stop() -> None:
    proc = _run.get("proc")
    if proc is not None and proc.poll() is None:
        proc.kill()
        proc.wait()
