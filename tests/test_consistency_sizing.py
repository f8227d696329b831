"""onnxsym.consistency.sizing: a chosen input size is checked by running one blank image, and when
onnxruntime refuses it the nearest common size that runs is used instead, said in a note."""
from __future__ import annotations

import os

import numpy as np
import pytest

import onnxsym
from onnxsym.consistency.preprocess import InputSpec
from onnxsym.consistency.sizing import COMMON_SIDES, fit_chosen_size
from onnxsym.errors import RuntimeFailure

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _spec(h=224, w=224, layout="NCHW"):
    return InputSpec(name="x", layout=layout, height=h, width=w, channels=3, dtype="float32", batch=None,
                     shape=["N", 3, "H", "W"], size_from="chosen")


def _runner(ok, seen):
    def run_once(x):
        hw = x.shape[2:] if x.shape[1] == 3 else x.shape[1:3]
        seen.append(tuple(hw))
        assert x.dtype == np.float32 and not x.any()
        if not ok(*hw):
            raise RuntimeFailure("onnxruntime failed to run the model: Concat: mismatched dimensions")
    return run_once


def test_a_size_that_runs_is_kept_after_one_run():
    seen = []
    spec, note = fit_chosen_size(_runner(lambda h, w: True, seen), _spec(), True, True)
    assert (spec.height, spec.width, note, seen) == (224, 224, "", [(224, 224)])


def test_a_recogniser_that_needs_height_48_gets_the_nearest_height_that_runs():
    seen = []
    spec, note = fit_chosen_size(_runner(lambda h, w: h == 48, seen), _spec(), True, True)
    assert (spec.height, spec.width) == (48, 224)
    # nearest first: the heights tried before 48 are every common side closer to 224
    tried_h = [h for h, w in seen[1:]]
    assert tried_h == sorted(tried_h, key=lambda s: (abs(s - 224), s)) and tried_h[-1] == 48
    assert all(abs(h - 224) <= abs(48 - 224) for h in tried_h)
    assert "could not run the model at the chosen 224×224 (Concat: mismatched dimensions); measured at 48×224" in note
    assert "input_size" in note


def test_only_the_symbolic_side_changes_then_squares():
    seen = []
    spec, _ = fit_chosen_size(_runner(lambda h, w: w == 96, seen), _spec(100, 224), False, True)
    assert (spec.height, spec.width) == (100, 96)
    assert {h for h, _ in seen} == {100}
    seen = []
    spec, _ = fit_chosen_size(_runner(lambda h, w: h == w == 64, seen), _spec(), True, True)
    assert (spec.height, spec.width) == (64, 64)   # neither side alone: then the squares


def test_nothing_runs_one_clear_failure():
    seen = []
    with pytest.raises(RuntimeFailure, match=r"at 224×224, a size chosen for the model's symbolic input; "
                                             r"\d+ common sizes tried, none runs: give input_size"):
        fit_chosen_size(_runner(lambda h, w: False, seen), _spec(), True, True)
    others = len(COMMON_SIDES) - 1          # 224 itself is the chosen size
    assert len(seen) == 1 + 3 * others      # heights, widths, squares
    assert len(set(seen)) == len(seen)


def test_ppocr_recogniser_runs_by_default():
    # its symbolic height passes shape inference at 224 but onnxruntime needs a small height
    r = onnxsym.measure_consistency(os.path.join(ROOT, "models", "ppocr", "ch_PP-OCRv4_rec_infer.onnx"),
                                    provider="cpu", pairs_per_image=1)
    assert r.input.size_from == "chosen" and r.input.height < 224
    assert any("nearest common size that runs" in n for n in r.input.notes)
