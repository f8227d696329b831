"""onnxsym.frames: results as pandas DataFrames (pandas optional)."""
from __future__ import annotations

import pytest

from onnxsym.frames import flatten, to_frame


def test_flatten_one_level():
    row = {"id": "c", "terms": {"rot90": 0.1, "flip_lr": None}, "mean_kernel": [[1]], "skip": {"a": 1}}
    assert flatten(row, skip=("skip",)) == {"id": "c", "terms_rot90": 0.1, "terms_flip_lr": None, "mean_kernel": [[1]]}
    assert flatten({"a": {"b": {"c": 1}}}) == {"a_b": {"c": 1}}                 # one level only


def test_to_frame():
    pd = pytest.importorskip("pandas")
    rows = [{"id": "a", "s": 0.5}, {"id": "b", "s": None}]
    frame = to_frame(rows, index="id")
    assert isinstance(frame, pd.DataFrame) and list(frame.index) == ["a", "b"] and list(frame.columns) == ["s"]
    assert frame.loc["a", "s"] == 0.5 and pd.isna(frame.loc["b", "s"])
    assert list(to_frame(rows, index="nope").columns) == ["id", "s"]           # an unknown index is ignored
