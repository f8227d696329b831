"""The numba kernels run as plain Python: the tests marked ``kernels`` (weights symmetry and random
init, the consistency preprocessing's fused crops) run again in a subprocess with
``NUMBA_DISABLE_JIT=1`` and must pass there too (tests/nojit.py; started in the background right
after collection).

With the JIT disabled, ``np.random`` inside the random-init Monte Carlo is numpy's generator, not
numba's: the drawn bands differ in their digits from a compiled run's. The tests of drawn bands
therefore compare against an independent naive Monte Carlo with a tolerance (and check that the
draws are seeded), never against recorded digits; shapes from the shipped table are not drawn.
"""
import re

import nojit

TIMEOUT = 120   # seconds; the run takes about 10 s on two cores


def test_kernel_tests_pass_without_the_jit():
    code, out = nojit.result(TIMEOUT)
    tail = out.strip().splitlines()[-1] if out.strip() else ""
    assert code == 0, out[-4000:]
    m = re.search(r"(\d+) passed", tail)
    assert m and int(m.group(1)) >= 50 and "failed" not in tail and "error" not in tail, tail
    assert re.search(r"\d+ deselected", tail), tail      # only the kernel tests were selected
