"""onnxsym.padding.results: the padding report's rows and suggestions, and the ``onnxsym.padding/1``
document they make."""
from __future__ import annotations

import json

import onnxsym
from graphs import layer_model
from onnxsym.padding import SCHEMA, PaddingLayer, PaddingReport, Suggestions, analyze


def test_to_dict_is_the_versioned_document_of_every_field():
    row = PaddingLayer(id="c", path="main", op_type="Conv", kind="conv", before=[1], after=[0], uneven=True)
    sug = Suggestions(nominal=[8], axes=["width"], range=[4, 40], mode="square", sizes=[[9]])
    rep = PaddingReport(model={"path": None}, input={"name": "x"}, layers=[row], summary={"layers": 1},
                        summary_line="line", suggestions=sug, notes=["n"], inputs=[{"name": "x"}])
    d = rep.to_dict()
    assert SCHEMA == "onnxsym.padding/1" and d["schema"] == SCHEMA and d["onnxsym_version"] == onnxsym.__version__
    assert list(d) == ["schema", "onnxsym_version", "model", "input", "inputs", "summary", "summary_line", "layers",
                       "suggestions", "notes"]
    assert d["layers"][0]["id"] == "c" and d["layers"][0]["before"] == [1] and d["layers"][0]["lean"] is None
    assert set(d["layers"][0]) == set(PaddingLayer.__dataclass_fields__)
    assert d["suggestions"]["sizes"] == [[9]] and d["suggestions"]["others"] == [] and d["suggestions"]["checked"] == 0
    assert d["notes"] == ["n"] and d["notes"] is not rep.notes     # a copy
    rep.suggestions = None
    assert rep.to_dict()["suggestions"] is None


def test_a_real_report_round_trips_through_json():
    rep = analyze(layer_model([1, 3, 32, 32], [3, 3], [2, 2], pads=[1, 1, 1, 1]))
    d = json.loads(json.dumps(rep.to_dict()))
    assert d["layers"][0]["sides"] == {"top": 1, "bottom": 0, "left": 1, "right": 0}
    assert d["suggestions"]["sizes"][0] == [31, 31] and d["inputs"][0]["name"] == "x"
