"""Fixtures shared by several test modules, and the ``kernels`` marker.

``kernels`` marks the tests of the numba kernels (weights symmetry and random init, the fused
crops of the consistency preprocessing) that are small enough to run again as plain Python:
tests/test_nojit.py runs them with ``NUMBA_DISABLE_JIT=1`` in a subprocess, started in the
background as soon as collection ends so that it overlaps the rest of the suite.
"""
from __future__ import annotations

import numpy as np
import pytest

import consistency_models as cm


def pytest_configure(config):
    config.addinivalue_line("markers", "kernels: a small test of a numba kernel, also run with NUMBA_DISABLE_JIT=1 "
                                       "(tests/test_nojit.py)")


def pytest_collection_finish(session):
    import nojit

    if not session.config.option.collectonly and any(item.path.name == "test_nojit.py" for item in session.items):
        nojit.start()


@pytest.fixture(scope="session")
def noise_npy(tmp_path_factory):
    """12 uniform-noise images 48x60, as a .npy file."""
    p = tmp_path_factory.mktemp("img") / "noise.npy"
    np.save(p, cm.random_images(12, (48, 60)))
    return str(p)


@pytest.fixture(scope="session")
def smooth_npy(tmp_path_factory):
    """8 smooth images 48x60, as a .npy file."""
    p = tmp_path_factory.mktemp("img") / "smooth.npy"
    np.save(p, cm.smooth_images(8, (48, 60)))
    return str(p)
