"""onnxsym.weights.results: the weights report and the ``onnxsym.weights/1`` document it makes (the
random-init band under its v1 key ``baseline``), and the JSON Schema of what onnxsym reads back."""
from __future__ import annotations

import json

import pytest

import onnxsym
from graphs import conv_model, init, weight
from onnxsym.errors import InputError
from onnxsym.schema import validate
from onnxsym.weights import SCHEMA, analyze
from onnxsym.weights.results import JSON_SCHEMA


@pytest.fixture(scope="module")
def report():
    return analyze(conv_model("w", inits=[init("w", weight())]))


def test_the_document_uses_the_v1_names(report):
    d = report.to_dict()
    assert d["schema"] == SCHEMA == "onnxsym.weights/1" and d["onnxsym_version"] == onnxsym.__version__
    assert list(d) == ["schema", "onnxsym_version", "model", "summary", "layers", "timings"]   # no padding: no key
    row = d["layers"][0]
    assert "baseline" in row and "z_vs_baseline" in row and "random_init" not in row and "z_vs_random_init" not in row
    assert row["baseline"] == report.layers[0].random_init and row["z_vs_baseline"] == report.layers[0].z_vs_random_init
    assert "baseline" in d["summary"]["first_layer"]
    assert "baseline" in d["summary"] and "random_init" not in d["summary"]
    assert json.loads(json.dumps(d)) == d


def test_padding_section_is_a_report_or_an_error(report):
    report.padding = {"schema": "onnxsym.padding/1", "error": "padding not diagnosed: X"}
    try:
        assert report.to_dict()["padding"] == {"schema": "onnxsym.padding/1", "error": "padding not diagnosed: X"}
    finally:
        report.padding = None


def test_skews_of_the_layers_with_a_mean_kernel(report):
    assert report.skews() == {"the_conv": tuple(report.layers[0].skew)}


def test_json_schema_reads_back_the_fields_onnxsym_uses(report):
    validate(report.to_dict(), JSON_SCHEMA, "baseline")
    for bad, where in (({"schema": "onnxsym.weights/2"}, "schema"), ({"layers": {}}, "layers"),
                       ({"summary": {"internal": {"median_symmetry": "0.7"}}}, "summary/internal/median_symmetry")):
        doc = {**report.to_dict(), **bad}
        with pytest.raises(InputError, match=f"field {where}:"):
            validate(doc, JSON_SCHEMA, "baseline")
