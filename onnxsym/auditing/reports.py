"""Reading an onnxsym report back (a baseline, a report given to ``compare``): a regular file,
size- and depth-capped, of a schema this version reads, each field it reads of the right type."""
from __future__ import annotations

from ..errors import InputError
from ..files import load_json
from ..schema import validate
from .results import readable_schemas


def check_report(doc, what: str, accept=None) -> dict:
    """``doc`` after checking it is an onnxsym report of one of the ``accept`` schemas (default:
    an audit or a weights report), each field onnxsym reads of the right type."""
    schemas = readable_schemas()
    accept = tuple(accept or schemas)
    if not isinstance(doc, dict):
        raise InputError(f"{what} is not an onnxsym report (a JSON {type(doc).__name__}, not an object)")
    name = doc.get("schema")
    if name not in accept:
        shown = name if isinstance(name, str) else None
        raise InputError(f"{what} has schema {shown or 'none'!r}; expected "
                         f"{' or '.join(accept)} from this onnxsym version")
    validate(doc, schemas[name], what)
    return doc


def read_report(path, what: str) -> dict:
    """A report file (size- and depth-capped, a regular file), checked by :func:`check_report`."""
    return check_report(load_json(path, what), what)
