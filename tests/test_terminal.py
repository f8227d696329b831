"""onnxsym.terminal: control characters from models and file names shown escaped."""
from __future__ import annotations

from onnxsym.terminal import clean, clean_lines


def test_clean_escapes_every_control_character():
    assert clean("conv_1") == "conv_1" and clean(42) == "42"
    assert clean("a\x1b]0;pwned\x07b") == "a\\x1b]0;pwned\\x07b"          # a terminal retitle, shown, not run
    assert clean("x\ny\tz\rw") == "x\\x0ay\\x09z\\x0dw"
    assert clean("\x7f\x85\x9f") == "\\x7f\\x85\\x9f"                      # DEL and C1 controls
    assert clean("abc\u202edef\u2066\u200f\u061c") == "abc\\u202edef\\u2066\\u200f\\u061c"   # bidi overrides, marks
    assert clean("café — ok ✓") == "café — ok ✓"                         # printable text untouched


def test_clean_lines_keeps_newlines_only():
    assert clean_lines("row 1\nrow\t2\x1b[31m\n") == "row 1\nrow\\x092\\x1b[31m\n"
    assert clean_lines("a\rb") == "a\\x0db"
