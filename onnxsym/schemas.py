"""JSON Schemas of the onnxsym documents that onnxsym reads back (a ``--baseline``, the reports
given to ``compare``), and their validation with one line naming the first bad field.

Only the fields onnxsym reads are constrained (with their types); other fields may be present, so
a report of a later onnxsym with more fields still reads.
"""
from __future__ import annotations

from .errors import InputError

_NUM = {"type": ["number", "null"]}
_INT = {"type": ["integer", "null"]}
_STR = {"type": ["string", "null"]}
_INTS = {"type": ["array", "null"], "items": {"type": "integer"}, "maxItems": 16}
_CI = {"anyOf": [{"type": "null"},
                 {"type": "array", "items": _NUM, "minItems": 2, "maxItems": 2}]}

LAYER = {
    "type": "object",
    "required": ["id", "op_type"],
    "properties": {"id": {"type": "string"}, "op_type": {"type": "string"}, "status": {"type": "string"},
                   "weight_shape": _INTS, "kernel_shape": _INTS, "symmetry": _NUM},
}
WEIGHTS = {
    "type": "object",
    "required": ["schema", "summary", "layers"],
    "properties": {
        "schema": {"const": "onnxsym.weights/1"},
        "summary": {"type": "object", "required": ["internal"], "properties": {
            "internal": {"type": "object", "properties": {"n": _INT, "median_symmetry": _NUM, "ci95": _CI}}}},
        "layers": {"type": "array", "items": LAYER},
    },
}
_PART = {"type": ["object", "null"], "properties": {"consistency": _NUM, "ci95": _CI}}
CONSISTENCY = {
    "anyOf": [
        {"type": "null"},
        {"type": "object", "required": ["error"], "properties": {"error": {"type": "string"}}},
        {"type": "object", "required": ["shift", "flip", "metric"], "properties": {
            "shift": _PART, "flip": _PART, "metric": {"type": "string"}, "images": _INT,
            "image_source": _STR, "seed": _INT, "pairs_per_image": _INT,
            "input": {"type": ["object", "null"], "properties": {"height": _INT, "width": _INT}},
            "max_shift": _INTS}},
    ],
}
AUDIT = {
    "type": "object",
    "required": ["schema", "weights"],
    "properties": {
        "schema": {"const": "onnxsym.audit/1"},
        "weights": WEIGHTS,
        "consistency": CONSISTENCY,
        "provenance": {"type": ["object", "null"], "properties": {"sha256": _STR}},
    },
}
#: schema name -> JSON Schema of the documents onnxsym reads
READABLE = {"onnxsym.weights/1": WEIGHTS, "onnxsym.audit/1": AUDIT}


def _where(error) -> str:
    path = "/".join(str(p) for p in error.absolute_path)
    return path or "(top level)"


def validate(doc, schema: dict, what: str) -> None:
    """Raise InputError naming the first field of ``doc`` that does not fit ``schema``."""
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import best_match

    err = best_match(Draft202012Validator(schema).iter_errors(doc))
    if err is not None:
        message = " ".join(err.message.split())
        if len(message) > 120:
            message = message[:117] + "..."
        raise InputError(f"{what}: field {_where(err)}: {message}")


def check_report(doc, what: str, accept=("onnxsym.audit/1", "onnxsym.weights/1")) -> dict:
    """``doc`` after checking it is an onnxsym report of one of the ``accept`` schemas."""
    if not isinstance(doc, dict):
        raise InputError(f"{what} is not an onnxsym report (a JSON {type(doc).__name__}, not an object)")
    name = doc.get("schema")
    if name not in accept:
        shown = name if isinstance(name, str) else None
        raise InputError(f"{what} has schema {shown or 'none'!r}; expected "
                         f"{' or '.join(accept)} from this onnxsym version")
    validate(doc, READABLE[name], what)
    return doc
