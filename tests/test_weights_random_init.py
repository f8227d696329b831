"""onnxsym.weights.random_init: the random-init band (S of i.i.d. Gaussian kernels), from the
shipped table and drawn on demand, against a naive Monte Carlo."""
import numpy as np
import pytest

import naive
from onnxsym.weights.random_init import (RANDOM_INIT_CELL_DRAWS, RANDOM_INIT_DRAWS, RANDOM_INIT_MIN_DRAWS,
                                         random_init as gaussian_baseline)


@pytest.mark.kernels
@pytest.mark.parametrize("k,mean,sd", [(3, 0.409, 0.099), (5, 0.349, 0.052), (7, 0.329, 0.034)])
def test_gaussian_baseline_matches_calibration(k, mean, sd):
    b = gaussian_baseline((k, k))
    assert b["mean"] == pytest.approx(mean, abs=0.004)
    assert b["sd"] == pytest.approx(sd, abs=0.003)


@pytest.mark.kernels
def test_baseline_computed_for_unlisted_shape_agrees_with_naive_monte_carlo():
    b = gaussian_baseline((4, 6))  # not in the shipped table: drawn on demand
    rng = np.random.default_rng(1)
    ref = [naive.symmetry(rng.standard_normal((4, 6)))[0] for _ in range(3000)]
    assert b["mean"] == pytest.approx(np.mean(ref), abs=0.01)
    assert b["sd"] == pytest.approx(np.std(ref), abs=0.01)


def test_shipped_baseline_table_matches_fresh_draws():
    shipped = gaussian_baseline((5, 5))
    fresh = gaussian_baseline.__wrapped__((5, 5), draws=20001)
    assert shipped["mean"] == pytest.approx(fresh["mean"], abs=0.003)


@pytest.mark.kernels
def test_draws_are_seeded_and_undefined_grids_have_no_band():
    # the same seed every time: one shape twice gives the same band (also without the JIT, whose
    # generator is numpy's and not numba's: the values then differ from a compiled run's, which is
    # why the tests of drawn bands compare against an independent Monte Carlo with a tolerance)
    a = gaussian_baseline.__wrapped__((2, 5), draws=500)
    assert a == gaussian_baseline.__wrapped__((2, 5), draws=500) and a["draws"] == 500
    assert 0.0 < a["mean"] < 1.0 and a["sd"] > 0.0
    assert gaussian_baseline((1, 1)) == {"mean": None, "sd": None, "draws": 0}     # every transform the identity
    assert gaussian_baseline((1,)) == {"mean": None, "sd": None, "draws": 0}


def test_shipped_table_is_used_for_the_default_draws():
    # every 2-D square shape from 2x2 to 11x11 is in the table, drawn with the default count
    for k in range(2, 12):
        b = gaussian_baseline((k, k))
        assert b["draws"] == RANDOM_INIT_DRAWS and 0.2 < b["mean"] < 0.6, k
    # the budget: at most RANDOM_INIT_CELL_DRAWS cell draws, at least RANDOM_INIT_MIN_DRAWS kernels
    assert RANDOM_INIT_DRAWS * 1000 == RANDOM_INIT_CELL_DRAWS and RANDOM_INIT_MIN_DRAWS == 200
