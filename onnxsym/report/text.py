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


def compact_id(node_id: str) -> str:
    """Drop path parts that the next part repeats, as exporters write them:
    ``/features/features.7/conv/conv.1/conv.1.0/Conv`` → ``features.7/conv.1.0/Conv``."""
    parts = [p for p in str(node_id).split("/") if p]
    keep = [p for i, p in enumerate(parts) if not (i + 1 < len(parts) and parts[i + 1].startswith(p + "."))]
    return "/".join(keep) if keep else str(node_id)


def shorten(text: str, width: int) -> str:
    """Cut the middle of ``text`` so it fits ``width`` characters."""
    text = str(text)
    if len(text) <= width:
        return text
    keep = width - 1
    head = keep // 3
    return text[:head] + "…" + text[len(text) - (keep - head):]


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
