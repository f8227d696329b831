"""onnxsym.consistency.results: the consistency report and the ``onnxsym.consistency/1`` document
(non-finite numbers as null, floats rounded to 6), and the JSON Schema of what onnxsym reads back."""
from __future__ import annotations

import json

import pytest

import consistency_models as cm
from onnxsym import measure_consistency
from onnxsym.consistency import SCHEMA
from onnxsym.consistency.results import JSON_SCHEMA
from onnxsym.errors import InputError
from onnxsym.schema import validate

pytest.importorskip("onnxruntime")


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    return measure_consistency(cm.gap_linear(), cm.imageset(cm.smooth_images(4)), provider="cpu", pairs_per_image=2)


def test_the_document(report):
    d = report.to_dict()
    assert d["schema"] == SCHEMA == "onnxsym.consistency/1"
    assert d["images"] == 4 and d["pairs_per_image"] == 2 and d["shift"]["pairs"] == 8
    assert d["input"]["name"] == "x" and "notes" not in d["input"]             # the spec's notes are the report's
    assert d["metric"] == "top1_agreement" == d["output"]["metric"]
    assert d["max_shift"] == [5, 5] and d["base_size"] == [37, 37] and len(d["per_image"]) == 4
    assert d["timing"]["inputs_run"] == report.inputs_run
    assert json.loads(json.dumps(d, allow_nan=False)) == d                      # no NaN anywhere


def test_floats_are_rounded_and_non_finite_numbers_are_null(report):
    seconds, report.seconds = report.seconds, 0.0
    try:
        d = report.to_dict()
        assert d["timing"]["inputs_per_second"] is None                       # inputs / 0 s is NaN
        assert d["timing"]["seconds"] == 0.0
    finally:
        report.seconds = seconds
    assert report.inputs_per_second == pytest.approx(report.inputs_run / report.seconds)
    d = report.to_dict()
    for v in (d["shift"]["consistency"], *d["shift"]["ci95"], d["chance"]["value"]):
        assert v == round(v, 6)


def test_json_schema(report):
    validate(report.to_dict(), JSON_SCHEMA, "baseline")
    validate(None, JSON_SCHEMA, "baseline")                                     # no consistency part
    validate({"error": "no images"}, JSON_SCHEMA, "baseline")                   # a failed run in an audit
    with pytest.raises(InputError, match="baseline: field "):
        validate({**report.to_dict(), "shift": {"consistency": "high"}}, JSON_SCHEMA, "baseline")
