"""The syntax users write values in: shapes, sizes, ranges, shifts, integers.

Every function takes what a caller may pass (text from the command line or a config file, or a
Python value) and returns a checked value or raises :class:`~onnxsym.errors.InputError` naming the
parameter (:func:`onnxsym.wording.param`).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from .errors import InputError
from .wording import param

MAX_DIM = (1 << 63) - 1   # ONNX dims are int64
MIN_IMAGE_SIDE = 8        # a spatial size below this is not an image
MAX_RANGE = 4096          # a size search covers at most this many sizes + 1


def _fmt(dims) -> str:
    return "x".join("?" if d is None else str(d) for d in dims)


def parse_shape(shape, name: str = "input_shape") -> tuple[int, ...]:
    """``"1x3x224x224"`` / ``"1,3,224,224"`` / ``(1, 3, 224, 224)`` -> tuple of positive ints."""
    if shape is None:
        raise InputError(f"no input shape given ({param(name)})")
    if isinstance(shape, str):
        text = shape.strip()
        parts = [p.strip() for p in re.split(r"[x×X,*\s]+", text) if p.strip()] if text else []
        if not parts:
            raise InputError(f"cannot parse input shape {shape!r}: expected e.g. 1x3x224x224")
        dims = []
        for p in parts:
            try:
                dims.append(int(p))
            except ValueError:
                raise InputError(f"cannot parse input shape {shape!r}: {p!r} is not an integer "
                                 "(expected e.g. 1x3x224x224)") from None
    else:
        try:
            dims = [int(d) for d in shape]
        except (TypeError, ValueError, OverflowError):
            raise InputError(f"cannot parse input shape {shape!r}: expected a sequence of integers") from None
        if any(isinstance(d, float) and not float(d).is_integer() for d in shape):
            raise InputError(f"cannot parse input shape {shape!r}: sizes must be integers")
    bad = [d for d in dims if d <= 0]
    if bad:
        raise InputError(f"input shape {_fmt(dims)} has a zero or negative size ({bad[0]}); "
                         "every size must be at least 1")
    huge = [d for d in dims if d > MAX_DIM]
    if huge:
        raise InputError(f"input shape: size {huge[0]} is larger than ONNX dims allow (int64, at most {MAX_DIM})")
    if len(dims) > 8:
        raise InputError(f"input shape {_fmt(dims)} has {len(dims)} dims; image inputs have 3 to 5")
    return tuple(dims)


@dataclass(frozen=True)
class InputShapes:
    """The input shape(s) a user gave: one shape for the (first) image input, or one per named
    input. Both empty: nothing given."""

    single: tuple | None = None
    named: dict = field(default_factory=dict)

    @property
    def given(self) -> bool:
        return self.single is not None or bool(self.named)


def parse_input_shapes(input_shape) -> InputShapes:
    """None, one shape (text or sequence), a mapping ``{input name: shape}``, or the text form
    ``a=1x3x64x64;b=1x3x32x32`` of it."""
    if input_shape is None:
        return InputShapes()
    if isinstance(input_shape, dict):
        return InputShapes(named={str(k): parse_shape(v) for k, v in input_shape.items()})
    if isinstance(input_shape, str) and "=" in input_shape:
        out = {}
        for part in input_shape.split(";"):
            if not part.strip():
                continue
            name, sep, shape = part.partition("=")
            if not sep or not name.strip():
                raise InputError(f"cannot parse input shape {input_shape!r}: expected NAME=SHAPE;NAME=SHAPE, "
                                 "e.g. a=1x3x64x64;b=1x3x32x32")
            out[name.strip()] = parse_shape(shape)
        return InputShapes(named=out)
    return InputShapes(single=parse_shape(input_shape))


def parse_size(size, name: str = "input_size") -> tuple[int, int] | None:
    """``224``, ``"224"``, ``"48x320"`` or a pair -> (H, W); None stays None."""
    if size is None:
        return None
    if isinstance(size, bool):
        raise InputError(f"{param(name, size)}: expected N or HxW")
    if isinstance(size, int):
        h = w = size
    elif isinstance(size, str):
        parts = size.lower().replace(",", "x").replace("×", "x").split("x")
        try:
            vals = [int(p) for p in parts]
        except ValueError:
            raise InputError(f"{param(name, size)}: expected N or HxW") from None
        if len(vals) not in (1, 2):
            raise InputError(f"{param(name, size)}: expected N or HxW")
        h, w = (vals[0], vals[0]) if len(vals) == 1 else (vals[0], vals[1])
    else:
        try:
            h, w = (int(size[0]), int(size[1]))
        except (TypeError, ValueError, IndexError, OverflowError):
            raise InputError(f"{param(name, size)}: expected N or (H, W)") from None
    if h < MIN_IMAGE_SIDE or w < MIN_IMAGE_SIDE:
        raise InputError(f"{param(name, size)}: each side must be at least {MIN_IMAGE_SIDE}")
    if h > MAX_DIM or w > MAX_DIM:
        raise InputError(f"{param(name, size)}: larger than ONNX dims allow")
    return h, w


def parse_range(size_range, name: str = "size_range") -> tuple[int, int] | None:
    """``"192:256"`` (also ``192-256``) or ``(192, 256)`` -> (lo, hi), inclusive."""
    if size_range is None:
        return None
    if isinstance(size_range, str):
        text = size_range.strip()
        sep = ":" if ":" in text else ("-" if "-" in text.lstrip("-") else None)
        parts = text.split(sep) if sep else []
        try:
            lo, hi = (int(p) for p in parts)
        except (ValueError, TypeError):
            raise InputError(f"cannot parse size range {size_range!r}: expected LO:HI, e.g. 192:256") from None
    else:
        try:
            lo, hi = (int(v) for v in size_range)
        except (ValueError, TypeError):
            raise InputError(f"cannot parse size range {size_range!r}: expected (lo, hi)") from None
    if lo < 1 or hi < lo:
        raise InputError(f"size range {lo}:{hi} is empty or not positive: expected 1 <= LO <= HI")
    if hi - lo > MAX_RANGE:
        raise InputError(f"size range {lo}:{hi} is too wide (at most {MAX_RANGE + 1} sizes)")
    return lo, hi


def integer(value, name: str, minimum: int) -> int:
    """``value`` as an int of at least ``minimum`` (bools and non-integral numbers refused)."""
    try:
        ok = int(value) == value
    except (TypeError, ValueError, OverflowError):
        ok = False
    if not ok or isinstance(value, bool):
        raise InputError(f"{param(name, value)}: must be an integer")
    if value < minimum:
        raise InputError(f"{param(name, value)}: must be ≥ {minimum}")
    return int(value)


def parse_max_shift(max_shift, name: str = "max_shift") -> tuple[int, int] | None:
    """None (scaled with the input), an int for both axes, or (rows, columns)."""
    if max_shift is None:
        return None
    vals = list(max_shift) if isinstance(max_shift, (tuple, list)) else [max_shift]
    if len(vals) == 1:
        vals = vals * 2
    if len(vals) != 2:
        raise InputError(f"{param(name, max_shift)}: expected N or (rows, columns)")
    my, mx = (integer(v, name, 1) for v in vals)
    return my, mx
