"""onnxsym.study.results: the documents and their schemas."""
import json

import numpy as np
import pytest

from onnxsym.errors import InputError
from onnxsym.schema import validate
from onnxsym.study.results import (ENTRY_JSON_SCHEMA, ENTRY_SCHEMA, JSON_SCHEMA, SCHEMA, Family, ModelRow,
                                   Statistic, StudyReport, clean)


def _row(**kw):
    base = dict(id="a.onnx", path="a.onnx", sha256="ab" * 32, internal={"n": 5, "median_symmetry": 0.5, "ci95": None},
                shift={"consistency": 0.9, "ci95": [0.8, 0.95], "pairs": 10}, flip={"consistency": 0.7, "ci95": None},
                metric="top1_agreement", layers=[{"id": "c", "index": 0, "depth": 0.0, "symmetry": 0.4}],
                fingerprint=[{"op_type": "Conv", "weight_shape": [4, 3, 3, 3], "kernel": [1.0] + [0.0] * 8}],
                top1={"x.npy[0]": 3}, seconds=1.25)
    base.update(kw)
    return ModelRow(**base)


def test_clean_makes_json():
    assert clean({"a": (1, np.float32(0.1234567891)), "b": float("nan"), "c": np.int64(3), "d": np.bool_(True),
                  "e": np.arange(2)}) == {"a": [1, 0.123457], "b": None, "c": 3, "d": True, "e": [0, 1]}


def test_row_document_keeps_entry_only_fields_out_and_timing_apart():
    d = _row().to_dict()
    assert "fingerprint" not in d and "top1" not in d and "external" not in d
    assert d["timing"] == {"seconds": 1.25, "cached": False}
    assert "seconds" not in d and "cached" not in d


def test_entry_round_trip_and_schema():
    row = _row(family="F1", representative=True, accuracy={"top1": 1.0})
    entry = json.loads(json.dumps(row.to_entry({"k": 1})))
    assert entry["schema"] == ENTRY_SCHEMA
    validate(entry, ENTRY_JSON_SCHEMA, "entry")
    assert "family" not in entry["row"] and "accuracy" not in entry["row"]
    back = ModelRow.from_entry(entry)
    assert back.cached and back.fingerprint == row.fingerprint and back.top1 == row.top1
    assert {k: v for k, v in back.to_dict().items() if k not in ("timing", "family", "representative", "accuracy")} \
        == {k: v for k, v in row.to_dict().items() if k not in ("timing", "family", "representative", "accuracy")}


def test_entry_schema_names_the_bad_field():
    entry = json.loads(json.dumps(_row().to_entry({})))
    entry["row"]["shift"]["ci95"] = "wide"
    with pytest.raises(InputError, match="row/shift/ci95"):
        validate(entry, ENTRY_JSON_SCHEMA, "entry")


def test_study_document_and_exit_code():
    ok, bad = _row(family="F1", representative=True), _row(id="b.onnx", status="failed", error="broken")
    rep = StudyReport(settings={}, rows=[ok, bad], families=[Family("F1", ["a.onnx"], "a.onnx", {}, None, None)],
                      correlations=[], findings=[], skipped=[], notes=[], computed=["a.onnx"], from_cache=[],
                      seconds=1.0)
    d = json.loads(json.dumps(rep.to_dict()))
    validate(d, JSON_SCHEMA, "study")
    assert d["schema"] == SCHEMA and d["models"] == 2 and d["failed"] == 1
    assert rep.exit_code == 2
    rep.rows = [ok]
    assert rep.exit_code == 0


def test_statistic_rounds():
    assert Statistic("spearman", 5, value=0.123456789, ci95=[0.1, 0.2]).to_dict()["value"] == 0.123457
