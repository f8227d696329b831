"""onnxsym.schema: a document onnxsym reads validated against its result type's JSON Schema, with
one line naming the first field that does not fit."""
from __future__ import annotations

import pytest

from onnxsym.errors import InputError
from onnxsym.schema import validate
from onnxsym.weights.results import JSON_SCHEMA as WEIGHTS_SCHEMA

SCHEMA = {"type": "object", "required": ["schema", "layers"],
          "properties": {"schema": {"const": "x/1"},
                         "layers": {"type": "array",
                                    "items": {"type": "object", "properties": {"id": {"type": "string"}}}}}}


def test_a_fitting_document_passes():
    validate({"schema": "x/1", "layers": [{"id": "a"}], "extra": 1}, SCHEMA, "baseline")


@pytest.mark.parametrize("doc,where", [
    ({"layers": []}, "(top level)"), ({"schema": "x/2", "layers": []}, "schema"),
    ({"schema": "x/1", "layers": [{"id": "a"}, {"id": 3}]}, "layers/1/id"),
])
def test_the_first_misfit_is_named(doc, where):
    with pytest.raises(InputError, match=f"^baseline a.json: field {where.replace('(', '[(]').replace(')', '[)]')}: "):
        validate(doc, SCHEMA, "baseline a.json")


def test_long_messages_are_cut_and_a_real_schema_is_used():
    with pytest.raises(InputError) as err:
        validate({"schema": "x/1", "layers": "y" * 500}, SCHEMA, "doc")
    assert str(err.value).endswith("...") and len(str(err.value)) < 160
    with pytest.raises(InputError, match="field layers/0/symmetry: 'high' is not of type 'number', 'null'"):
        validate({"schema": "onnxsym.weights/1", "summary": {"internal": {}},
                  "layers": [{"id": "c", "op_type": "Conv", "symmetry": "high"}]}, WEIGHTS_SCHEMA, "report")
