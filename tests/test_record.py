"""onnxsym.record: result dataclasses that also read like the dicts they were."""
from __future__ import annotations

from dataclasses import dataclass

import pytest

from onnxsym.record import Record


@dataclass
class _Row(Record):
    id: str
    symmetry: float | None = None


def test_mapping_reads_of_the_fields():
    row = _Row("c1", 0.5)
    assert row["id"] == "c1" and row["symmetry"] == 0.5 and row.get("symmetry") == 0.5
    assert row.get("missing") is None and row.get("missing", 3) == 3
    assert "id" in row and "missing" not in row and row.keys() == ["id", "symmetry"]
    with pytest.raises(KeyError):
        row["missing"]
    assert {k: row[k] for k in row.keys()} == {"id": "c1", "symmetry": 0.5}
