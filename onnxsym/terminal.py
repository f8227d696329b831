"""Text meant for a terminal: control characters from models and file names shown escaped.

A node or tensor name is whatever bytes an exporter (or an attacker) wrote; printed raw, an
``ESC ] 0 ; … BEL`` retitles the terminal, other sequences move the cursor or hide text, and
bidirectional overrides reorder what is shown. Every line onnxsym prints for a person passes
through :func:`clean` (one value, newlines escaped too) or :func:`clean_lines` (a block of text,
its own newlines kept). JSON output stays exact: ``json.dumps`` escapes control characters itself.
"""
from __future__ import annotations

import re

# C0 controls but tab/newline handled below, DEL and C1; bidi embeddings/overrides/isolates and
# the invisible directional marks
_UNSAFE = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_UNSAFE_LINES = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _escape(m: re.Match) -> str:
    c = ord(m.group(0))
    return f"\\x{c:02x}" if c < 0x100 else f"\\u{c:04x}"


def clean(text) -> str:
    """``text`` with every control character (newline and tab too) written as ``\\xNN``/``\\uNNNN``."""
    return _UNSAFE.sub(_escape, str(text).replace("\t", "\\x09"))


def clean_lines(text) -> str:
    """As :func:`clean` but newlines are kept (a rendered table or report)."""
    return _UNSAFE_LINES.sub(_escape, str(text).replace("\t", "\\x09"))
