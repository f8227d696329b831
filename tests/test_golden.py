"""The JSON outputs of every command stay as recorded in tests/golden/ (see tests/golden.py).

Numbers are compared with a relative tolerance of 1e-4 and an absolute one of 1e-5: onnxruntime
picks its kernels by CPU (AVX2, AVX-512, ...) and sums in another order, which moved consistency
means by up to 4e-6 between two x86 machines; the documents round to 6 decimals. Everything else
is compared exactly. A deliberate change regenerates the files in one
commit: ``python tests/golden.py --update``.
"""
import json
import math

import pytest

import golden


def _diff(got, want, path="", out=None):
    out = [] if out is None else out
    if len(out) >= 10:
        return out
    if isinstance(want, dict) and isinstance(got, dict):
        for k in sorted(set(want) | set(got)):
            if k not in got or k not in want:
                out.append(f"{path}/{k}: {'missing' if k not in got else 'unexpected'}")
            else:
                _diff(got[k], want[k], f"{path}/{k}", out)
    elif isinstance(want, list) and isinstance(got, list):
        if len(want) != len(got):
            out.append(f"{path}: {len(got)} items, expected {len(want)}")
        for k, (g, w) in enumerate(zip(got, want)):
            _diff(g, w, f"{path}/{k}", out)
    elif isinstance(want, float) and isinstance(got, (int, float)) and not isinstance(got, bool):
        if not math.isclose(got, want, rel_tol=1e-4, abs_tol=1e-5):
            out.append(f"{path}: {got!r} != {want!r}")
    elif got != want or type(got) is not type(want):
        out.append(f"{path}: {got!r:.120} != {want!r:.120}")
    return out


@pytest.mark.parametrize("name", golden.case_names())
def test_outputs_match_the_golden_files(name):
    with open(golden.path_of(name)) as fh:
        want = json.load(fh)
    got = golden.produce(name)
    problems = _diff(got, want)
    assert not problems, f"{name}: outputs changed (python tests/golden.py --update {name} if deliberate):\n" \
                         + "\n".join(problems)
