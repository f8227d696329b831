"""CSV cells that pandas reads back as they were meant.

A missing number is an empty cell (read as NaN, as it should be) and nothing else is: a text
cell with nothing to say holds ``-``, and a text that pandas reads as missing by default (``NA``,
``n/a``, ``None`` …: a layer may be named so) gets `` (text)`` after it. Lists of numbers per axis
are joined with ``x`` (``3x3``, pads ``1x1x1x1``), lists of names with ``;``.
"""
from __future__ import annotations

#: strings pandas.read_csv reads as missing by default (pandas.io.parsers STR_NA_VALUES)
PANDAS_NA = frozenset(["", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN",
                       "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null"])

NOTHING = "-"


def text(value) -> str:
    """A text cell: ``-`` for nothing, never a string pandas reads as missing."""
    if value is None or value == "":
        return NOTHING
    s = str(value)
    return f"{s} (text)" if s.strip() in PANDAS_NA else s


def number(value):
    """A number cell: the value, or empty when missing."""
    return "" if value is None else value


def dims(values) -> str:
    """Per-axis numbers as ``3x3``; ``-`` when there are none."""
    return "x".join(map(str, values)) if values else NOTHING


def names(values) -> str:
    """Names as ``a;b``; ``-`` when there are none (each name made safe like :func:`text`)."""
    return ";".join(text(v) for v in values) if values else NOTHING
