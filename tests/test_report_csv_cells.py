"""onnxsym.report.csv_cells: every cell reads back from pandas as written; only missing numbers are NaN."""
from __future__ import annotations

import csv
import io

import pytest
from hypothesis import given
from hypothesis import strategies as st

from onnxsym.report import csv_cells as c


def test_cells():
    assert c.text(None) == c.text("") == "-"
    assert c.text("NA") == "NA (text)" and c.text(" n/a ") == " n/a  (text)" and c.text("conv1") == "conv1"
    assert c.number(None) == "" and c.number(0.0) == 0.0
    assert c.dims([3, 3]) == "3x3" and c.dims([]) == c.dims(None) == "-"
    assert c.names(["a", "None"]) == "a;None (text)" and c.names([]) == "-"


@given(st.lists(st.text(min_size=0, max_size=8), min_size=1, max_size=6))
def test_no_text_cell_is_read_as_missing(values):
    pd = pytest.importorskip("pandas")
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["t"])
    for v in values:
        w.writerow([c.text(v.replace("\r", " ").replace("\n", " "))])
    df = pd.read_csv(io.StringIO(buf.getvalue()), dtype=str)
    assert not df["t"].isna().any()
