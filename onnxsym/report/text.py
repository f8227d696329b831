"""Plain-text helpers shared by the renderers: aligned tables, number formatting, colour."""
from __future__ import annotations

from ..terminal import clean


def fmt(x, nd=3, none="—"):
    """A number with ``nd`` decimals, or ``none`` for missing values."""
    if x is None:
        return none
    if isinstance(x, float):
        return f"{x:.{nd}f}"
    return str(x)


def table(headers, rows, align=None) -> str:
    """An aligned text table; ``align`` is a string of 'l'/'r' per column."""
    rows = [[("" if c is None else clean(c)) for c in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in rows:
        for i, c in enumerate(row):
            widths[i] = max(widths[i], len(c))
    align = align or "l" * len(headers)

    def line(cells):
        out = []
        for i, c in enumerate(cells):
            out.append(c.rjust(widths[i]) if align[i] == "r" else c.ljust(widths[i]))
        return "  ".join(out).rstrip()

    sep = "  ".join("-" * w for w in widths)
    return "\n".join([line(headers), sep] + [line(r) for r in rows])


def dims(shape) -> str:
    """A shape as ``N×3×224×224`` (symbolic dims by name, unknown ones as ?)."""
    if shape is None:
        return "?"
    return "×".join("?" if d is None else str(d) for d in shape)


def opsets_text(opsets: dict) -> str:
    """``ai.onnx 17, ai.onnx.ml 2`` (not a Python dict)."""
    return ", ".join(f"{k} {v}" for k, v in (opsets or {}).items()) or "none"


def wrap_lines(prefix: str, text: str, columns: int = 100) -> list:
    """``prefix + text`` wrapped to ``columns``, continuation lines indented."""
    import textwrap

    return textwrap.wrap(prefix + str(text), max(40, columns), subsequent_indent="  ", break_long_words=False,
                         break_on_hyphens=False) or [prefix]
