"""onnxsym.parsing: the syntax users write values in (shapes, sizes, ranges, shifts, integers),
each refused with an InputError naming the parameter."""
from __future__ import annotations

import pytest

from onnxsym.errors import InputError
from onnxsym.parsing import (MAX_DIM, MAX_RANGE, MIN_IMAGE_SIDE, InputShapes, integer, parse_input_shapes,
                             parse_max_shift, parse_range, parse_shape, parse_size)


def test_parse_shape_forms():
    assert parse_shape("1x3x224x224") == (1, 3, 224, 224)
    assert parse_shape("1,3,224,224") == (1, 3, 224, 224)
    assert parse_shape([1, 3, 8, 8]) == (1, 3, 8, 8)



def test_parse_shape_spellings():
    assert parse_shape(" 1 x 3 × 8X8 ") == (1, 3, 8, 8)
    assert parse_shape("1*3*8*8") == parse_shape("1 3 8 8") == (1, 3, 8, 8)
    assert parse_shape((1.0, 3, 8, 8)) == (1, 3, 8, 8)        # integral floats are integers
    assert parse_shape([MAX_DIM]) == (MAX_DIM,)


@pytest.mark.parametrize("shape,match", [
    (None, r"no input shape given \(input_shape\)"), ("", "cannot parse"), ("1x3xax8", "'a' is not an integer"),
    ([1, 3, "a"], "sequence of integers"), ([1, 2.5], "sizes must be integers"), (5, "sequence of integers"),
    ("1x0x8", r"zero or negative size \(0\)"), ([1, -2], r"zero or negative size \(-2\)"),
    ([MAX_DIM + 1], "larger than ONNX dims allow"), ("1x" * 8 + "1", "has 9 dims"),
])
def test_parse_shape_refusals(shape, match):
    with pytest.raises(InputError, match=match):
        parse_shape(shape)


def test_parse_input_shapes_single_named_and_nothing():
    assert parse_input_shapes(None) == InputShapes() and not InputShapes().given
    one = parse_input_shapes("1x3x8x8")
    assert one == InputShapes(single=(1, 3, 8, 8)) and one.given
    named = parse_input_shapes("a=1x3x64x64; b = 1,3,32,32;")
    assert named.named == {"a": (1, 3, 64, 64), "b": (1, 3, 32, 32)} and named.single is None and named.given
    assert parse_input_shapes({"a": [1, 3, 8, 8], 7: "1x1x8x8"}).named == {"a": (1, 3, 8, 8), "7": (1, 1, 8, 8)}
    with pytest.raises(InputError, match="expected NAME=SHAPE"):
        parse_input_shapes("a=1x3x8x8;=1x3x8x8")
    with pytest.raises(InputError, match="zero or negative"):
        parse_input_shapes("a=1x3x0x8")


def test_parse_size_forms_and_limits():
    assert parse_size(None) is None
    assert parse_size(224) == parse_size("224") == (224, 224)
    assert parse_size("48x320") == parse_size("48,320") == parse_size("48×320") == parse_size((48, 320)) == (48, 320)
    assert parse_size(MIN_IMAGE_SIDE) == (MIN_IMAGE_SIDE, MIN_IMAGE_SIDE)
    for bad, match in ((True, "expected N or HxW"), ("2x3x4", "expected N or HxW"), ("ax3", "expected N or HxW"),
                       ((1,), r"expected N or \(H, W\)"), (MIN_IMAGE_SIDE - 1, f"at least {MIN_IMAGE_SIDE}"),
                       ((8, MAX_DIM + 1), "larger than ONNX dims allow")):
        with pytest.raises(InputError, match=match):
            parse_size(bad)
    with pytest.raises(InputError, match="^width=4: each side"):
        parse_size(4, name="width")                               # the message names the parameter


def test_parse_range_forms_and_limits():
    assert parse_range(None) is None
    assert parse_range("192:256") == parse_range(" 192-256 ") == parse_range((192, 256)) == (192, 256)
    assert parse_range("5:5") == (5, 5) and parse_range((1, 1 + MAX_RANGE)) == (1, 1 + MAX_RANGE)
    for bad, match in (("300:200", "empty or not positive"), ("0:4", "empty or not positive"),
                       ("-4:8", "empty or not positive"), ("4-8-9", "cannot parse"), ("abc", "cannot parse"),
                       ((1, 2, 3), "cannot parse"),
                       ((1, 2 + MAX_RANGE), "too wide")):
        with pytest.raises(InputError, match=match):
            parse_range(bad)


def test_integer_refuses_bools_fractions_and_small_values():
    assert integer(3, "seed", 0) == 3 and integer(3.0, "seed", 0) == 3 and type(integer(3.0, "seed", 0)) is int
    for bad in (True, 2.5, "3", None, float("nan")):
        with pytest.raises(InputError, match=r"^seed(=.*)?: must be an integer$"):
            integer(bad, "seed", 0)
    with pytest.raises(InputError, match="^seed=-1: must be ≥ 0$"):
        integer(-1, "seed", 0)


def test_parse_max_shift_forms():
    assert parse_max_shift(None) is None
    assert parse_max_shift(8) == parse_max_shift([8]) == (8, 8)
    assert parse_max_shift((2, 9)) == (2, 9)
    for bad, match in (((1, 2, 3), r"expected N or \(rows, columns\)"), (0, "must be ≥ 1"),
                       ((2, 2.5), "must be an integer")):
        with pytest.raises(InputError, match=match):
            parse_max_shift(bad)
