"""onnxsym.consistency.feeds: extra model inputs besides the image, checked against the model and
converted to each input's dtype."""
from __future__ import annotations

from types import SimpleNamespace as NS

import numpy as np
import pytest

import consistency_models as cm
from onnxsym import measure_consistency
from onnxsym.consistency.feeds import prepare_feeds
from onnxsym.consistency.preprocess import input_spec
from onnxsym.errors import InputError


def test_extra_input_fed(smooth_npy):
    m = cm.two_inputs()
    with pytest.raises(InputError, match="'s'|s\\b"):
        measure_consistency(m, smooth_npy, provider="cpu")
    r = measure_consistency(m, smooth_npy, provider="cpu", feeds={"s": np.ones((1, 3), np.float32)})
    assert r.flip.consistency == 1.0


def _inputs():
    return [NS(name="x", shape=["N", 3, 32, 32], type="tensor(float)"),
            NS(name="s", shape=[1, 3], type="tensor(float)"),
            NS(name="n", shape=[], type="tensor(int64)"), NS(name="m", shape=["N", 4], type="tensor(float)"),
            NS(name="t", shape=["T"], type="tensor(string)")]


def test_prepare_feeds_converts_and_broadcasts():
    inputs = _inputs()
    spec = input_spec(inputs, feeds=["s", "n", "m", "t"])
    out, broadcast, notes = prepare_feeds({"s": [[1, 2, 3]], "n": 5, "m": np.ones((1, 4), np.float64)}, inputs, spec)
    assert out["s"].dtype == np.float32 and out["s"].tolist() == [[1.0, 2.0, 3.0]]
    assert out["n"].dtype == np.int64 and out["n"].ravel().tolist() == [5]
    assert out["m"].dtype == np.float32 and out["m"].shape == (1, 4)
    assert broadcast == {"m"} and notes == ["feeds['m']: one row, repeated over the batch"]
    # a number for an input with dims: an array of its shape, symbolic dims 1
    out, _, _ = prepare_feeds({"m": 2.5}, inputs, spec)
    assert out["m"].shape == (1, 4) and (out["m"] == 2.5).all()


def test_a_number_for_a_rank_0_input_keeps_rank_0():
    inputs = _inputs()
    out, _, _ = prepare_feeds({"n": 5}, inputs, input_spec(inputs, feeds=["s", "n", "m", "t"]))
    assert out["n"].shape == ()


@pytest.mark.parametrize("feeds,match", [
    ({"x": 1}, r"feeds\['x'\]: that is the image input"),
    ({"z": 1}, r"feeds\['z'\]: the model has no input 'z'"),
    ({"s": np.ones((2, 3))}, r"shape \[2, 3\] does not match the model's input 's' \[1, 3\]"),
    ({"s": np.ones(3)}, r"shape \[3\] does not match the model's input 's' \[1, 3\] \(rank 2\)"),
    ({"m": np.ones((3, 4))}, r"give one row \(\[1, \.\.\.\]\) to repeat over the batch"),
    ({"s": np.array([["a", "b", "c"]])}, "array dtype <U1 is not numeric"),
    ({"s": "abc"}, "cannot convert to float32"),
    ({"t": 1}, r"input type tensor\(string\) is not supported"),
])
def test_prepare_feeds_refusals(feeds, match):
    inputs = _inputs()
    with pytest.raises(InputError, match=match):
        prepare_feeds(feeds, inputs, input_spec(inputs, feeds=["s", "n", "m", "t"]))
