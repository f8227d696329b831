"""Validating a document onnxsym reads against the JSON Schema its result type owns, with one line
naming the first field that does not fit (``jsonschema``'s best match)."""
from __future__ import annotations

from .errors import InputError


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
