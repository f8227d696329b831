"""One short label per layer, the same in every table and in the HTML (JSON keeps the full id)."""
from __future__ import annotations


def layer_label(layer_id, op_type: str = "", width: int | None = None) -> str:
    """A compact label for an exporter path like ``/features/features.7/conv/conv.1/conv.1.0/Conv``:
    the trailing op name dropped (the tables show the op), and every path segment that the next
    one repeats (``features`` before ``features.7``) → ``features.7/conv.1.0``; then, with
    ``width``, the middle cut so it fits."""
    s = str(layer_id)
    parts = [p for p in s.split("/") if p]
    if len(parts) > 1 and op_type and parts[-1].lower() == str(op_type).split(".")[-1].lower():
        parts = parts[:-1]
    kept = [p for i, p in enumerate(parts) if not (i + 1 < len(parts) and parts[i + 1].startswith(p + "."))]
    s = "/".join(kept) or s
    return shorten(s, width) if width else s


def shorten(text, width: int) -> str:
    """Cut the middle of ``text`` so it fits ``width`` characters."""
    text = str(text)
    if len(text) <= width:
        return text
    keep = width - 1
    head = keep // 3
    return text[:head] + "…" + text[len(text) - (keep - head):]
