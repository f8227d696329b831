"""Property-based fuzzing of the model reader and the data-free commands.

A small real model (``models/keras_digits.onnx``, a tf2onnx export) is mutated by a *recipe* — a
short list of mutations drawn by hypothesis — and each mutant is given to ``weights``, ``padding``
or ``audit --no-run`` in-process (click's ``CliRunner``). The property (:func:`check_case`):

* the exit code is 0 or 2 (a mutant is a valid model or bad input; 3 would be a runtime failure,
  and no onnxruntime runs here) and no exception escapes the command;
* no traceback and no ``internal error`` in the output; exit 2 comes with one ``onnxsym: error:`` line;
* a report claimed written (exit 0) is valid JSON;
* each case takes at most ``HARD_TIMEOUT`` seconds (over ``SLOW_CASE`` is reported as slow) and
  its peak RSS stays under ``MEMORY_CAP``;
* the model file is byte-identical afterwards and nothing is written next to it.

Mutations (see :func:`draw_recipe`) are biased toward the structure of the file, found by walking
its protobuf wire format here (independently of :mod:`onnxsym.model.loading`):

* tree mutations, on the parsed message tree and re-serialised with correct lengths, so that they
  reach past the wire format into onnx and onnxsym's own analysis: duplicate / delete / splice a
  field (preferably into a message of the same kind), set a varint (dims, attribute types, data
  types, ints) / string / fixed-width value to an interesting one, change a node's op type or a
  Conv-like attribute, a graph input's dims, reinterpret a tensor's bytes with another shape or
  data type, point a tensor at external data, give a conv weight another producer (a sparse
  initializer, a Constant, DequantizeLinear, a model-local function call — recursive too —, If,
  Reshape/Transpose/Slice/Concat/Cast/Mul, a random op), insert a nested-message bomb (deep
  subgraphs, TypeProto sequences, function bodies, unknown fields);
* byte mutations, on the serialised mutant: bit flips and overwrites (mostly in field headers and
  small fields), truncations, insertions and length-varint changes (bigger, smaller, huge,
  non-minimal, overlong).

A recipe is a list of plain tuples, replayable with ``apply_recipe(seed_bytes(), recipe)``; the
same engine drives the long run, ``bench/fuzz_long.py``. Regression cases found by fuzzing are kept
at the end of this file as recipes.

``ONNXSYM_FUZZ_EXAMPLES`` sets the number of hypothesis examples (default 1000).
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import resource
import shutil
import signal
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SEED_MODEL = ROOT / "models" / "keras_digits.onnx"

HARD_TIMEOUT = 20.0  # seconds per case: a failure ("hang")
SLOW_CASE = 5.0  # seconds per case: reported
MEMORY_CAP = int(1.5 * (1 << 30))  # peak RSS of a case: a failure ("memory")
COMMAND_NAMES = ("weights", "padding", "audit")

# ==============================================================================================
# Protobuf wire format (walk, tree, serialise)
# ==============================================================================================


class WireError(Exception):
    pass


def read_varint(buf, pos: int, end: int) -> tuple[int, int]:
    result = 0
    shift = 0
    while True:
        if pos >= end:
            raise WireError("truncated varint")
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if b < 0x80:
            return result, pos
        shift += 7
        if shift >= 70:
            raise WireError("overlong varint")


def varint(value: int) -> bytes:
    value &= (1 << 64) - 1  # negative int64 values as protobuf writes them (10 bytes)
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


@dataclass(frozen=True)
class Rec:
    """One field found by :func:`walk`: byte offsets in the buffer."""

    start: int  # first byte of the tag
    tag_end: int  # first byte after the tag (the length varint for wire type 2)
    payload: int  # first byte of the value / payload
    end: int  # one past the field
    fn: int
    wt: int
    depth: int


def _walk_message(buf, start: int, end: int, depth: int, max_depth: int, out: list, strict: bool) -> bool:
    """Append the fields of the message buf[start:end] (recursively) to ``out``. With ``strict``,
    return False (and leave ``out`` alone) unless the bytes parse as a message exactly."""
    mine: list[Rec] = []
    pos = start
    try:
        while pos < end:
            fstart = pos
            key, pos = read_varint(buf, pos, end)
            tag_end = pos
            fn, wt = key >> 3, key & 7
            if fn == 0 or fn >= (1 << 29):
                raise WireError("bad field number")
            if wt == 0:
                _, pos = read_varint(buf, pos, end)
                payload = tag_end
            elif wt == 1:
                payload, pos = tag_end, pos + 8
            elif wt == 5:
                payload, pos = tag_end, pos + 4
            elif wt == 2:
                ln, payload = read_varint(buf, pos, end)
                pos = payload + ln
            else:
                raise WireError("unsupported wire type")
            if pos > end:
                raise WireError("field past the end")
            mine.append(Rec(fstart, tag_end, payload, pos, fn, wt, depth))
            if wt == 2 and pos - payload >= 2 and depth < max_depth:
                _walk_message(buf, payload, pos, depth + 1, max_depth, mine, True)
    except WireError:
        if strict:
            return False
    out.extend(mine)
    return True


def walk(buf, max_depth: int = 40) -> list[Rec]:
    """Every field of ``buf`` (best effort: a corrupt tail is skipped), nested messages included
    where a length-delimited payload parses as one."""
    out: list[Rec] = []
    _walk_message(buf, 0, len(buf), 0, max_depth, out, False)
    return out


# A tree: a message is a list of fields [fn, wt, value]; value is an int (wire type 0), bytes
# (1, 5, or 2 when the payload is not a message), or a message (2).


def parse_tree(buf: bytes, depth: int = 0, max_depth: int = 40) -> list:
    fields = []
    pos, end = 0, len(buf)
    while pos < end:
        key, pos = read_varint(buf, pos, end)
        fn, wt = key >> 3, key & 7
        if fn == 0 or fn >= (1 << 29):
            raise WireError("bad field number")
        if wt == 0:
            v, pos = read_varint(buf, pos, end)
        elif wt in (1, 5):
            n = 8 if wt == 1 else 4
            if pos + n > end:
                raise WireError("field past the end")
            v, pos = bytes(buf[pos:pos + n]), pos + n
        elif wt == 2:
            ln, pos = read_varint(buf, pos, end)
            if pos + ln > end:
                raise WireError("field past the end")
            v = bytes(buf[pos:pos + ln])
            pos += ln
            if ln >= 2 and depth < max_depth:
                try:
                    sub = parse_tree(v, depth + 1, max_depth)
                    if serialize(sub) == v:  # a string that merely looks like a message stays bytes
                        v = sub
                except WireError:
                    pass
        else:
            raise WireError("unsupported wire type")
        fields.append([fn, wt, v])
    return fields


def _ser_into(msg: list, out: list) -> int:
    n = 0
    for fn, wt, v in msg:
        tag = varint((fn << 3) | wt)
        out.append(tag)
        n += len(tag)
        if wt == 0:
            b = varint(v)
            out.append(b)
            n += len(b)
        elif wt == 2:
            if isinstance(v, list):
                sub: list = []
                ln = _ser_into(v, sub)
                lb = varint(ln)
                out.append(lb)
                out.extend(sub)
                n += len(lb) + ln
            else:
                lb = varint(len(v))
                out.append(lb)
                out.append(v)
                n += len(lb) + len(v)
        else:
            out.append(v)
            n += len(v)
    return n


def serialize(msg: list) -> bytes:
    out: list = []
    _ser_into(msg, out)
    return b"".join(out)


def copy_tree(msg: list) -> list:
    return [[f[0], f[1], copy_tree(f[2]) if isinstance(f[2], list) else f[2]] for f in msg]


def fields_of(msg: list, sig: tuple = ()):
    """(container, index, sig of the container) for every field of the tree, depth first."""
    for i, f in enumerate(msg):
        yield msg, i, sig
        if isinstance(f[2], list):
            yield from fields_of(f[2], sig + (f[0],))


def messages_of(msg: list, sig: tuple = ()):
    """(message, sig) for every message of the tree, the root included."""
    yield msg, sig
    for f in msg:
        if isinstance(f[2], list):
            yield from messages_of(f[2], sig + (f[0],))


# ==============================================================================================
# The seed model
# ==============================================================================================
_SEED: dict = {}


def seed_bytes() -> bytes:
    if "bytes" not in _SEED:
        _SEED["bytes"] = SEED_MODEL.read_bytes()
    return _SEED["bytes"]


def seed_tree() -> list:
    if "tree" not in _SEED:
        tree = parse_tree(seed_bytes())
        assert serialize(tree) == seed_bytes(), "the seed model does not round-trip"
        _SEED["tree"] = tree
    return _SEED["tree"]


# ==============================================================================================
# Interesting values
# ==============================================================================================
U64 = (1 << 64) - 1
INTS = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 20, 21, 22, 23, 24, 25, 26,
        31, 32, 33, 63, 64, 100, 127, 128, 255, 256, 1000, 1 << 15, 1 << 16, (1 << 31) - 1, 1 << 31,
        (1 << 32) - 1, 1 << 32, (1 << 32) + 1, 1 << 40, 1 << 53, (1 << 62), (1 << 63) - 1, 1 << 63,
        U64, U64 - 1, U64 - 2, U64 - 15, (1 << 64) - (1 << 31), (1 << 64) - (1 << 32)]
STRINGS = [b"", b"x", b"\xff\xfe\x00\x80", b"\x00", b"..", b"../m.onnx", b"/etc/passwd", b"m.onnx",
           b"./m.onnx", b"sub/../../m.onnx", b"C:\\x", b"location", b"offset", b"length", b"a" * 4096,
           b"\x1b[2J\x1b[31mred", b"line1\nline2\r\n", b"NOTSET", b"SAME_UPPER", b"SAME_LOWER",
           b"VALID", b"SAME", b"", b"ai.onnx.ml", b"com.microsoft", b"ai.onnx", b"local", b"N", b"-1",
           b"0", b"1e400", b"nan", b"input", b"logits", "\u00e9\u4e2d\U0001f600".encode(), b"%s%n{0}",
           b"keras_digits_1/conv1_1/convolution/ReadVariableOp:0", b"const_fold_opt__31"]
OPS = [b"Conv", b"ConvTranspose", b"QLinearConv", b"ConvInteger", b"DeformConv", b"FusedConv",
       b"MaxPool", b"AveragePool", b"LpPool", b"GlobalAveragePool", b"Loop", b"If", b"Scan",
       b"DequantizeLinear", b"QuantizeLinear", b"Reshape", b"Transpose", b"Constant", b"Cast", b"Slice",
       b"Concat", b"Mul", b"Add", b"Pad", b"Resize", b"Identity", b"Squeeze", b"Unsqueeze", b"Gather",
       b"RandomNormal", b"Shape", b"Expand", b"Tile", b"Split", b"MatMul", b"Gemm", b"Unknown", b""]
FIXED4 = [b"\x00\x00\xc0\x7f", b"\x00\x00\x80\x7f", b"\x00\x00\x80\xff", b"\x00\x00\x00\x80",
          b"\xff\xff\x7f\x7f", b"\x01\x00\x00\x00", b"\x00\x00\x00\x00", b"\x00\x00\x80\x3f",
          b"\xff\xff\xff\xff"]
FIXED8 = [b"\x00" * 7 + b"\x80", b"\x00" * 6 + b"\xf8\x7f", b"\x00" * 6 + b"\xf0\x7f", b"\xff" * 8,
          b"\x00" * 8, b"\x01" + b"\x00" * 7, b"\xff" * 7 + b"\x7f"]
BLOBS = [b"\x00", b"\xff", b"\x80", b"\x7f", b"\x00\x00\x00\x00", b"\xff\xff\xff\xff",
         b"\xff" * 9 + b"\x01", b"\x80" * 10 + b"\x00", b"\x08\x00", b"\x12\x00", b"\x0a\x80\x80\x80\x80\x08",
         b"\x3a\xff\xff\xff\xff\x0f", b"\x0b", b"\x0c", b"\x0e", b"\x0f"]
EXT_LOCATIONS = [b"m.onnx", b"", b"../m.onnx", b"/etc/passwd", b"missing.bin", b".", b"m.onnx\x00x",
                 b"sub/../m.onnx", b"\xff.bin", b"C:/x"]
EXT_NUMBERS = [b"0", b"1", b"-1", b"16", b"4096", b"99999999999999999999", b"abc", b"1e3", b" 8", b"0x10",
               b"", b"105000", b"18446744073709551615"]
# attribute actions: (what, values); names of attributes the analysis reads
ATTR_NAMES = [b"kernel_shape", b"strides", b"pads", b"dilations", b"group", b"auto_pad", b"output_padding",
              b"output_shape", b"perm", b"axes", b"axis", b"value", b"to", b"ceil_mode", b"storage_order",
              b"count_include_pad", b"p", b"then_branch", b"body", b"block_size", b"saturate", b"x"]
INT_LISTS = [[], [0], [1], [-1], [3], [0, 0], [1, 1], [3, 3], [2, 2], [-1, -1], [0, 0, 0, 0], [1, 1, 1, 1],
             [-5, -5, 10, 10], [1, 2, 3, 4], [3, 3, 3], [1] * 7, [1 << 40, 1 << 40], [(1 << 63) - 1, 1],
             [-(1 << 63), 0], [100000, 100000, 100000, 100000], [0, 3, 1, 2], [0, 2, 3, 1], [3, 2, 1, 0],
             [0, 0, 1, 1, 5], [2, 2, 2, 2, 2, 2], [1 << 31, 1 << 31]]
ATTR_ACTIONS = ["type", "ints", "i", "name", "f", "s", "add_t", "add_g", "add_floats", "drop_value",
                "ref_attr"]
DIM_ACTIONS = ["0", "1", "-1", "huge", "2^31", "odd", "even", "param", "param_empty", "drop_dims", "add_dim",
               "unknown_shape", "elem_type"]
# data types and their byte sizes (0: sub-byte), for reinterpreting a tensor's raw bytes
TYPE_SIZES = {1: 4, 6: 4, 12: 4, 10: 2, 16: 2, 5: 2, 4: 2, 3: 1, 2: 1, 9: 1, 17: 1, 18: 1, 19: 1, 20: 1,
              11: 8, 7: 8, 13: 8, 14: 8, 15: 16, 21: 0, 22: 0, 23: 0, 24: 0, 25: 0, 8: 1, 0: 4, 99: 4}
BOMB_DEPTHS = [8, 50, 99, 100, 101, 150, 199, 200, 201, 300, 1000, 5000, 30000]
COPIES = [1, 1, 2, 3, 10, 100, 2000]
DUP_BYTES = 8 << 20

# ONNX message kinds by their path of field numbers from the model (onnx.proto field numbers).
SIG_GRAPH = (7,)
SIG_NODE = (7, 1)
SIG_INITIALIZER = (7, 5)
SIG_ATTR_TENSOR = (7, 1, 5, 5)
SEL = 1 << 20  # selectors are drawn in [0, SEL) and taken modulo the number of candidates


# ==============================================================================================
# Recipes: drawing
# ==============================================================================================
# Weights of the mutation kinds; tree kinds first.
TREE_KINDS = {"dup": 8, "del": 8, "splice": 10, "setint": 12, "setstr": 6, "setfix": 3, "optype": 6,
              "attr": 12, "shape": 5, "reshape": 8, "extdata": 4, "bomb": 4, "graft": 14}
BYTE_KINDS = {"flip": 10, "overwrite": 6, "truncate": 4, "insert": 3, "varlen": 10}
KINDS = {**TREE_KINDS, **BYTE_KINDS}


def _pick(ri, table: dict) -> str:
    total = sum(table.values())
    x = ri(0, total - 1)
    for k, w in table.items():
        if x < w:
            return k
        x -= w
    raise AssertionError


def draw_mutation(ri) -> tuple:
    """One mutation, drawn with ``ri(lo, hi)`` (an inclusive random integer: hypothesis'
    ``st.integers`` in the tests, ``random.Random.randint`` in the long run)."""
    kind = _pick(ri, KINDS)
    s = lambda: ri(0, SEL - 1)  # noqa: E731
    if kind == "dup":
        return (kind, s(), COPIES[ri(0, len(COPIES) - 1)])
    if kind == "del":
        return (kind, s())
    if kind == "splice":  # src field, dst message, position, same kind of message?
        return (kind, s(), s(), s(), ri(0, 3) > 0)
    if kind == "setint":  # an interesting value, or a small change of the current one
        return (kind, s(), ri(0, len(INTS) + 5))
    if kind == "setstr":
        return (kind, s(), ri(0, len(STRINGS) - 1))
    if kind == "setfix":
        return (kind, s(), ri(0, 8))
    if kind == "optype":
        return (kind, s(), ri(0, len(OPS) - 1))
    if kind == "attr":  # attribute, action, value
        return (kind, s(), ri(0, len(ATTR_ACTIONS) - 1), s())
    if kind == "shape":  # a dim of a graph input / output / value_info, what to make of it
        return (kind, s(), ri(0, len(DIM_ACTIONS) - 1))
    if kind == "reshape":  # tensor, new (dims, data type) consistent with its byte size
        return (kind, s(), s())
    if kind == "graft":  # which conv, which producer, its variant
        return (kind, s(), ri(0, len(GRAFTS) - 1), ri(0, 15))
    if kind == "extdata":  # tensor, location, offset, length, keep raw_data?
        return (kind, s(), ri(0, len(EXT_LOCATIONS) - 1), ri(0, len(EXT_NUMBERS) - 1),
                ri(0, len(EXT_NUMBERS) - 1), ri(0, 1) == 1)
    if kind == "bomb":  # pattern, depth, where
        return (kind, ri(0, len(BOMBS) - 1), BOMB_DEPTHS[ri(0, len(BOMB_DEPTHS) - 1)], s())
    structural = ri(0, 9) > 1  # 80 %: headers and small fields
    if kind == "flip":
        return (kind, s(), ri(0, 7), structural)
    if kind == "overwrite":
        if ri(0, 1):
            return (kind, s(), BLOBS[ri(0, len(BLOBS) - 1)], structural)
        return (kind, s(), bytes(ri(0, 255) for _ in range(ri(1, 8))), structural)
    if kind == "truncate":
        return (kind, s(), structural)
    if kind == "insert":
        return (kind, s(), BLOBS[ri(0, len(BLOBS) - 1)], structural)
    if kind == "varlen":
        return (kind, s(), ri(0, len(VARLEN_HOW) - 1))
    raise AssertionError(kind)


def draw_recipe(ri) -> list:
    n = [1, 1, 1, 2, 2, 3, 4][ri(0, 6)]
    return [draw_mutation(ri) for _ in range(n)]


# ==============================================================================================
# Recipes: applying
# ==============================================================================================
def _nest(levels: list[tuple[int, bytes]], depth: int, inner: bytes = b"") -> bytes:
    """``depth`` nested length-delimited fields, cycling through ``levels`` ((field number,
    bytes put before the child)), built in linear time."""
    seq = [levels[i % len(levels)] for i in range(depth)]
    lengths = [0] * depth
    ln = len(inner)
    for i in range(depth - 1, -1, -1):
        fn, prefix = seq[i]
        lengths[i] = len(prefix) + ln
        ln = lengths[i] + len(varint((fn << 3) | 2)) + len(varint(lengths[i]))
    out = []
    for i, (fn, prefix) in enumerate(seq):
        out += [varint((fn << 3) | 2), varint(lengths[i]), prefix]
    out.append(inner)
    return b"".join(out)


def _s(fn: int, text: bytes) -> bytes:
    return varint((fn << 3) | 2) + varint(len(text)) + text


def _i(fn: int, value: int) -> bytes:
    return varint(fn << 3) + varint(value)


# Nested-message bombs: (where: "graph" | "model", levels). A level's field number opens the
# child; its prefix fills the message before the child.
_IF_NODE = _s(4, b"If") + _s(1, b"x")  # NodeProto op_type, input
_ATTR_G = _s(1, b"then_branch") + _i(20, 5)  # AttributeProto name, type GRAPH
BOMBS = [
    ("graph", [(1, _IF_NODE), (5, _ATTR_G), (6, _s(2, b"g"))]),  # node → attribute → g → node ...
    ("graph", [(1, _s(4, b"Loop")), (5, _s(1, b"body") + _i(20, 10)), (11, b"")]),  # attribute.graphs
    ("graph", [(11, _s(1, b"x")), (2, b""), (4, b""), (1, b"")]),  # value_info type: Sequence of Sequence ...
    ("graph", [(1, _s(4, b"Conv")), (5, _s(1, b"t") + _i(20, 4)), (5, b"")]),  # attr tensor: wrong kind nests
    ("model", [(25, _s(1, b"f") + _s(2, b"local")), (7, _IF_NODE), (5, _ATTR_G), (6, b""), (1, b"")]),
    ("graph", [(999, b"")]),  # an unknown field, nested
    ("model", [(7, b"")]),  # graph of graph of graph ...
]

VARLEN_HOW = ["+1", "-1", "+2", "-2", "+7", "0", "*2", "/2", "end", "2^31", "2^32-1", "2^63-1", "2^64-1",
              "nonminimal", "overlong"]


def _new_len(how: str, ln: int, total: int) -> bytes:
    if how == "nonminimal":
        b = bytearray(varint(ln))
        b[-1] |= 0x80
        return bytes(b) + b"\x00"
    if how == "overlong":
        return b"\x80" * 10 + b"\x01"
    value = {"+1": ln + 1, "-1": max(ln - 1, 0), "+2": ln + 2, "-2": max(ln - 2, 0), "+7": ln + 7, "0": 0,
             "*2": ln * 2, "/2": ln // 2, "end": total, "2^31": 1 << 31, "2^32-1": (1 << 32) - 1,
             "2^63-1": (1 << 63) - 1, "2^64-1": U64}[how]
    return varint(value)


def _structural_offsets(recs: list[Rec], size: int) -> list[int]:
    """Tag and length bytes of every field, and the bytes of small fields."""
    offs: list[int] = []
    for r in recs:
        offs.extend(range(r.start, r.payload))
        if r.end - r.payload <= 64:
            offs.extend(range(r.payload, r.end))
    return sorted(set(o for o in offs if o < size)) or [0]


class _ByteState:
    def __init__(self, data: bytes):
        self.data = bytearray(data)
        self._recs = None
        self._offs = None

    def changed(self):
        self._recs = self._offs = None

    @property
    def recs(self) -> list[Rec]:
        if self._recs is None:
            self._recs = walk(self.data)
        return self._recs

    def offset(self, sel: int, structural: bool) -> int:
        if not self.data:
            return 0
        if structural:
            if self._offs is None:
                self._offs = _structural_offsets(self.recs, len(self.data))
            return self._offs[sel % len(self._offs)]
        return sel % len(self.data)


def _tree_op(tree: list, op: tuple) -> None:
    kind = op[0]
    if kind in ("dup", "del", "setint", "setstr", "setfix"):
        if kind == "setint":
            cands = [(c, i) for c, i, _ in fields_of(tree) if c[i][1] == 0]
        elif kind == "setstr":
            cands = [(c, i) for c, i, _ in fields_of(tree) if c[i][1] == 2 and not isinstance(c[i][2], list)
                     and len(c[i][2]) <= 256]
        elif kind == "setfix":
            cands = [(c, i) for c, i, _ in fields_of(tree) if c[i][1] in (1, 5)]
        else:
            cands = [(c, i) for c, i, _ in fields_of(tree)]
        if not cands:
            return
        c, i = cands[op[1] % len(cands)]
        f = c[i]
        if kind == "dup":  # at most ~8 MB more: a big field is copied fewer times
            size = len(serialize([f]))
            for _ in range(min(op[2], max(1, DUP_BYTES // size))):
                c.insert(i + 1, [f[0], f[1], copy_tree(f[2]) if isinstance(f[2], list) else f[2]])
        elif kind == "del":
            del c[i]
        elif kind == "setint":
            k = op[2]
            if k < len(INTS):
                f[2] = INTS[k]
            else:  # a small change of the current value
                f[2] = [f[2] + 1, f[2] - 1, f[2] * 2, f[2] // 2, U64 - f[2] + 1, f[2] ^ 1][k - len(INTS)] & U64
        elif kind == "setstr":
            f[2] = STRINGS[op[2]]
        else:
            table = FIXED8 if f[1] == 1 else FIXED4
            f[2] = table[op[2] % len(table)]
    elif kind == "splice":
        _, src_sel, dst_sel, pos_sel, same = op
        srcs = list(fields_of(tree))
        if not srcs:
            return
        c, i, sig = srcs[src_sel % len(srcs)]
        f = c[i]
        dsts = [m for m, msig in messages_of(tree) if msig == sig] if same else []
        if not dsts:
            dsts = [m for m, _ in messages_of(tree)]
        dst = dsts[dst_sel % len(dsts)]
        dst.insert(pos_sel % (len(dst) + 1), [f[0], f[1], copy_tree(f[2]) if isinstance(f[2], list) else f[2]])
    elif kind == "optype":
        nodes = [m for m, sig in messages_of(tree) if sig and sig[-1] in (1, 7) and any(
            g[0] == 4 and g[1] == 2 for g in m)]
        if not nodes:
            return
        node = nodes[op[1] % len(nodes)]
        for g in node:
            if g[0] == 4 and g[1] == 2:
                g[2] = OPS[op[2]]
    elif kind == "attr":
        _, sel, action, vsel = op
        attrs = [m for m, sig in messages_of(tree) if len(sig) >= 2 and sig[-1] == 5 and sig[-2] in (1, 7)
                 and any(g[0] == 1 and g[1] == 2 for g in m)]
        if attrs:
            _attr_op(attrs[sel % len(attrs)], ATTR_ACTIONS[action], vsel)
    elif kind == "shape":
        _, sel, action = op
        # TensorShapeProto.Dimension messages of graph inputs (11), outputs (12), value_info (13)
        shapes = [m for m, sig in messages_of(tree) if len(sig) >= 5 and sig[-5] in (11, 12, 13)
                  and sig[-4:] == (2, 1, 2, 1)]
        dims = [m for m, sig in messages_of(tree) if len(sig) >= 6 and sig[-6] in (11, 12, 13)
                and sig[-5:] == (2, 1, 2, 1, 1)]
        if dims or shapes:
            _shape_op(dims, shapes, DIM_ACTIONS[action], sel)
    elif kind == "reshape":
        _, sel, vsel = op
        tensors = [m for m, sig in messages_of(tree) if sig in (SIG_INITIALIZER, SIG_ATTR_TENSOR)]
        if tensors:
            _reshape_op(tensors[sel % len(tensors)], vsel)
    elif kind == "graft":
        _graft(tree, *op[1:])
    elif kind == "extdata":
        _, sel, loc, off, ln, keep_raw = op
        tensors = [m for m, sig in messages_of(tree) if sig in (SIG_INITIALIZER, SIG_ATTR_TENSOR)]
        if not tensors:
            return
        t = tensors[sel % len(tensors)]
        if not keep_raw:
            t[:] = [g for g in t if g[0] != 9]
        for key, value in ((b"location", EXT_LOCATIONS[loc]), (b"offset", EXT_NUMBERS[off]),
                           (b"length", EXT_NUMBERS[ln])):
            t.append([13, 2, [[1, 2, key], [2, 2, value]]])
        t.append([14, 0, 1])  # data_location = EXTERNAL
    elif kind == "bomb":
        _, pattern, depth, where_sel = op
        where, levels = BOMBS[pattern]
        if where == "model":
            host = tree
        else:
            graphs = [m for m, sig in messages_of(tree) if sig == SIG_GRAPH] or [tree]
            host = graphs[where_sel % len(graphs)]
        fn, prefix = levels[0]
        blob = _nest(levels, depth)
        # the outermost level is the host's own field: its payload goes in as opaque bytes
        ln, p = read_varint(blob, len(varint((fn << 3) | 2)), len(blob))
        host.insert(where_sel % (len(host) + 1), [fn, 2, blob[p:p + ln]])
    else:
        raise AssertionError(kind)


def _attr_op(attr: list, action: str, v: int) -> None:
    """Change one AttributeProto (fields: name 1, f 2, i 3, s 4, t 5, g 6, floats 7, ints 8,
    ref_attr_name 21, type 20)."""
    def drop(*fns):
        attr[:] = [g for g in attr if g[0] not in fns]

    if action == "type":
        drop(20)
        attr.append([20, 0, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 99][v % 16]])
    elif action == "ints":
        drop(8)
        attr.extend([8, 0, x & U64] for x in INT_LISTS[v % len(INT_LISTS)])
    elif action == "i":
        drop(3)
        attr.append([3, 0, INTS[v % len(INTS)]])
    elif action == "name":
        for g in attr:
            if g[0] == 1 and g[1] == 2:
                g[2] = ATTR_NAMES[v % len(ATTR_NAMES)]
    elif action == "f":
        drop(2)
        attr.append([2, 5, FIXED4[v % len(FIXED4)]])
    elif action == "s":
        drop(4)
        attr.append([4, 2, STRINGS[v % len(STRINGS)]])
    elif action == "add_t":  # a small tensor value: dims, data type, maybe mismatching raw bytes
        dims = INT_LISTS[v % len(INT_LISTS)]
        t = [[1, 0, d & U64] for d in dims] + [[2, 0, [1, 7, 6, 10, 3, 8, 0][v % 7]]]
        t.append([9, 2, bytes(range(4)) * ([1, 2, 4, 9, 0][v % 5])])
        attr.append([5, 2, t])
    elif action == "add_g":  # a subgraph: empty, or holding a Conv without weights
        node = [[1, 2, b"x"], [1, 2, b"w"], [2, 2, b"y"], [4, 2, b"Conv"]]
        attr.append([6, 2, [] if v % 2 else [[1, 2, node], [2, 2, b"sub"]]])
    elif action == "add_floats":
        attr.extend([7, 5, FIXED4[(v + k) % len(FIXED4)]] for k in range(v % 5))
    elif action == "drop_value":
        drop([2, 3, 4, 5, 6, 7, 8, 20][v % 8])
    elif action == "ref_attr":
        attr.append([21, 2, [b"kernel_shape", b"x", b""][v % 3]])


def _shape_op(dims: list, shapes: list, action: str, sel: int) -> None:
    """Change a dimension (dim_value 1, dim_param 2) or a shape (dim 1) of a graph's value info."""
    if action in ("drop_dims", "add_dim", "unknown_shape", "elem_type") or not dims:
        if not shapes:
            return
        shape = shapes[sel % len(shapes)]
        if action == "drop_dims":
            del shape[(sel >> 3) % max(len(shape), 1):]
        elif action == "add_dim":
            shape.append([1, 2, [[1, 0, [1, 3, 7, 224][sel % 4]]]])
        elif action == "unknown_shape":
            shape[:] = []
        else:  # the tensor type's elem_type, next to the shape: not reachable from here; set dims odd
            for d in shape:
                if isinstance(d[2], list):
                    d[2][:] = [[1, 0, 33]]
        return
    d = dims[sel % len(dims)]
    value = {"0": 0, "1": 1, "-1": U64, "huge": 1 << 40, "2^31": 1 << 31, "odd": 31, "even": 64}.get(action)
    if value is not None:
        d[:] = [[1, 0, value]]
    elif action == "param":
        d[:] = [[2, 2, b"H"]]
    elif action == "param_empty":
        d[:] = []


def _reshape_op(t: list, v: int) -> None:
    """Give a tensor new dims and/or data type that keep its raw byte size (when it has raw data):
    a reinterpretation the loader accepts, so the analysis sees odd shapes and values."""
    dims = [g[2] for g in t if g[0] == 1 and g[1] == 0]
    dtype = next((g[2] for g in t if g[0] == 2 and g[1] == 0), 1)
    raw = next((g[2] for g in t if g[0] == 9 and isinstance(g[2], bytes)), None)
    nbytes = len(raw) if raw is not None else 0
    types = list(TYPE_SIZES)
    new_type = types[v % len(types)] if v % 3 else dtype
    size = TYPE_SIZES.get(new_type, 4)
    if raw is None or size == 0:
        count = max(1, nbytes * 2) if size == 0 else 1
    else:
        count = nbytes // size
    # factorisations of count with 1 … 6 axes
    shape_kind = (v >> 4) % 8
    n = count
    if shape_kind == 0:
        new_dims = [n]
    elif shape_kind == 1:
        new_dims = [n, 1, 1, 1]
    elif shape_kind == 2:
        new_dims = [1, 1, 1, n]
    elif shape_kind == 3:
        new_dims = [1, n, 1, 1, 1]
    elif shape_kind == 4:
        new_dims = list(reversed(dims)) if dims else [n]
    elif shape_kind == 5:  # move a factor of 3 or 2 into a kernel-like axis
        f = 3 if n % 9 == 0 else 2 if n % 4 == 0 else 1
        new_dims = [n // (f * f), 1, f, f] if f > 1 else [n, 1, 1, 1]
    elif shape_kind == 6:
        new_dims = dims + [1] if dims else [n, 1]
    else:
        new_dims = [0] + dims if dims else [0]
    t[:] = [g for g in t if not (g[0] in (1, 2) and g[1] == 0)]
    t[0:0] = [[1, 0, d & U64] for d in new_dims] + [[2, 0, new_type]]


# ---- grafts: another producer for a conv's weight ---------------------------------------------
# The conv's weight input is renamed to "gw" and a fragment producing "gw" is added (onnx.helper
# builds it; it goes into the tree parsed, so later mutations can reach inside it).
GW_SHAPES = [[16, 3, 3, 3], [16, 3, 3, 3], [16, 3, 1, 3], [3, 3], [16, 3, 3, 3, 1], [], [0, 3, 3, 3],
             [1 << 20, 1 << 20, 3, 3], [16, 3, 5, 5], [1, 3, 3, 3], [16, 1, 3, 3], [48, 3, 3], [16, 3, 3, 3],
             [2, 16, 3, 3, 3], [1 << 31, 1, 1, 1], [16, 3, 3, 3]]


def _graft_fragment(which: str, v: int):
    """(graph fields, model fields) as onnx protos, producing "gw"."""
    import numpy as np
    from onnx import TensorProto as TP, helper as h, numpy_helper as nh

    shape = GW_SHAPES[v]
    small = all(d < 1 << 16 for d in shape) and int(np.prod(shape, dtype=np.int64)) <= 1 << 16
    def arr(shp=shape, dtype=np.float32):
        n = int(np.prod(shp, dtype=np.int64)) if shp else 1
        return (np.arange(n) % 7 - 3).astype(dtype).reshape(shp) if n <= 1 << 16 else np.zeros(1, dtype)

    if which == "sparse":
        n = 6
        dims = shape or [1]
        if v % 3 == 0:  # linear indices, maybe out of range / negative / unsorted
            idx = [[0, 1, 2, 3, 4, 5], [5, 4, 3, 2, 1, 0], [-1, 0, 1, 2, 3, 4], [0, 0, 0, 0, 0, 0],
                   [10 ** 12, 1, 2, 3, 4, 5]][v % 5]
            ind = nh.from_array(np.array(idx, np.int64), "gi")
        else:  # coordinates [nnz, rank]
            ind = nh.from_array(np.zeros((n, len(dims) if v % 3 == 1 else 1), np.int64), "gi")
        vals = nh.from_array(np.ones(n, [np.float32, np.float16, np.int8, np.float64][v % 4]), "gw")
        sp = h.make_sparse_tensor(vals, ind, dims)
        return [(15, sp)], []
    if which == "constant":
        if v == 5:
            node = h.make_node("Constant", [], ["gw"], value_float=1.5)
        elif v == 6:
            node = h.make_node("Constant", [], ["gw"], value_ints=[1, 2, 3])
        elif v == 7:
            vals = nh.from_array(np.ones(2, np.float32), "v")
            ind = nh.from_array(np.array([0, 40], np.int64), "i")
            node = h.make_node("Constant", [], ["gw"], sparse_value=h.make_sparse_tensor(vals, ind, [16, 3, 3, 3]))
        else:
            node = h.make_node("Constant", [], ["gw"], value=nh.from_array(arr(), "c"))
        return [(1, node)], []
    if which == "dequantize":
        q_type = [np.int8, np.uint8, np.int32, np.float32][v % 4]
        q = nh.from_array(arr(dtype=q_type) if small else np.zeros(1, q_type), "gq")
        scale_shape = [[], [16], [3], [5], [16, 3, 3, 3], [1]][v % 6]
        sc = nh.from_array(np.full(scale_shape, [0.5, 0.0, np.inf, -1.0][v % 4], np.float32), "gs")
        zp = nh.from_array(np.zeros(scale_shape, q_type if v % 5 else np.int8), "gz")
        attrs = [{}, {"axis": 0}, {"axis": 1}, {"axis": -1}, {"axis": 7}, {"axis": 1, "block_size": 2},
                 {"axis": 0, "block_size": 0}, {"axis": -5}][v % 8]
        node = h.make_node("DequantizeLinear", ["gq", "gs", "gz"][: 2 + (v % 2)], ["gw"], **attrs)
        return [(1, node), (5, q), (5, sc), (5, zp)], []
    if which == "function":
        body_const = h.make_node("Constant", [], ["fo"], value=nh.from_array(arr(), "c"))
        f_calls = {0: [], 1: ["F"], 2: ["G"], 3: ["F", "F"]}[v % 4]
        f_nodes = [h.make_node(c, [], [f"t{i}"], domain="local") for i, c in enumerate(f_calls)] + [body_const]
        f = h.make_function("local", "F", [], ["fo"], f_nodes, [h.make_opsetid("", 17), h.make_opsetid("local", 1)])
        g_nodes = [h.make_node("F", [], ["u"], domain="local"), h.make_node("Constant", [], ["go"],
                   value=nh.from_array(np.ones(1, np.float32), "c"))]
        g = h.make_function("local", "G", [], ["go"], g_nodes, [h.make_opsetid("", 17), h.make_opsetid("local", 1)])
        call = h.make_node("F", [], ["gw"], domain="local")
        model = [(25, f)] + ([(25, g)] if v % 4 == 2 else []) + ([(8, h.make_opsetid("local", 1))] if v < 12 else [])
        return [(1, call)], model
    if which == "if":
        cond = nh.from_array(np.array(v % 2 == 0), "gc")
        def branch(name, shp):
            c = h.make_node("Constant", [], [name], value=nh.from_array(arr(shp), "c"))
            return h.make_graph([c], name, [], [h.make_tensor_value_info(name, TP.FLOAT, None)])
        node = h.make_node("If", ["gc"], ["gw"], then_branch=branch("tb", shape),
                           else_branch=branch("eb", [16, 3, 3, 3] if v % 3 else [2]))
        return [(1, node), (5, cond)], []
    if which == "shape_ops":  # Reshape / Transpose / Slice / Concat / Cast of a real-looking weight
        base = nh.from_array(arr([16, 3, 3, 3]), "gb")
        op = v % 6
        if op == 0:
            sh = nh.from_array(np.array(shape or [-1], np.int64), "gsh")
            return [(1, h.make_node("Reshape", ["gb", "gsh"], ["gw"], allowzero=v % 2)), (5, base), (5, sh)], []
        if op == 1:
            perm = [[0, 1, 3, 2], [3, 2, 1, 0], [0, 1, 2], [0, 0, 1, 2], [0, 1, 2, 7]][v % 5]
            return [(1, h.make_node("Transpose", ["gb"], ["gw"], perm=perm)), (5, base)], []
        if op == 2:
            st_ = nh.from_array(np.array([0, 0, -1, 1 << 62][v % 4:v % 4 + 1], np.int64), "gst")
            en = nh.from_array(np.array([1 << 62], np.int64), "gen")
            ax = nh.from_array(np.array([[0], [3], [-1], [9]][v % 4], np.int64), "gax")
            return [(1, h.make_node("Slice", ["gb", "gst", "gen", "gax"], ["gw"])), (5, base), (5, st_), (5, en),
                    (5, ax)], []
        if op == 3:
            return [(1, h.make_node("Concat", ["gb", "gb"], ["gw"], axis=[0, 1, -1, 4, -5][v % 5])), (5, base)], []
        if op == 4:
            return [(1, h.make_node("Cast", ["gb"], ["gw"], to=[10, 16, 8, 3, 255, 0][v % 6])), (5, base)], []
        return [(1, h.make_node("Mul", ["gb", "gb2"], ["gw"])), (5, base),
                (5, nh.from_array(arr(shape if small else [2]), "gb2"))], []
    if which == "random":
        return [(1, h.make_node(["RandomNormal", "RandomUniform", "EyeLike", "Shape"][v % 4], [] if v % 4 < 2
                                else ["input"], ["gw"], shape=shape or [1]) if v % 4 < 2 else
                 h.make_node(["RandomNormal", "RandomUniform", "EyeLike", "Shape"][v % 4], ["input"], ["gw"]))], []
    raise AssertionError(which)


GRAFTS = ["sparse", "constant", "dequantize", "function", "if", "shape_ops", "random"]


def _graft(tree: list, conv_sel: int, which: int, v: int) -> None:
    graphs = [m for m, sig in messages_of(tree) if sig == SIG_GRAPH]
    if not graphs:
        return
    graph = graphs[0]
    convs = [m for m in (f[2] for f in graph if f[0] == 1 and isinstance(f[2], list))
             if any(g[0] == 4 and g[2] in (b"Conv", b"ConvTranspose") for g in m)]
    if not convs:
        return
    conv = convs[conv_sel % len(convs)]
    inputs = [g for g in conv if g[0] == 1 and g[1] == 2]
    if len(inputs) < 2:
        return
    inputs[1][2] = b"gw"
    g_fields, m_fields = _graft_fragment(GRAFTS[which], v)
    for k, (fn, proto) in enumerate(g_fields):  # producer nodes first in the graph (topological)
        graph.insert(k if fn == 1 else len(graph), [fn, 2, parse_tree(proto.SerializeToString())])
    for fn, proto in m_fields:
        tree.append([fn, 2, parse_tree(proto.SerializeToString())])


def _byte_op(st: _ByteState, op: tuple) -> None:
    kind = op[0]
    data = st.data
    if kind == "flip":
        _, sel, bit, structural = op
        if data:
            data[st.offset(sel, structural)] ^= 1 << bit
    elif kind == "overwrite":
        _, sel, blob, structural = op
        o = st.offset(sel, structural)
        data[o:o + len(blob)] = blob
    elif kind == "insert":
        _, sel, blob, structural = op
        o = st.offset(sel, structural)
        data[o:o] = blob
    elif kind == "truncate":
        _, sel, structural = op
        if structural and st.recs:
            bounds = sorted({r.start for r in st.recs} | {r.payload for r in st.recs})
            o = bounds[sel % len(bounds)]
        else:
            o = st.offset(sel, False)
        del data[o:]
    elif kind == "varlen":
        _, sel, how = op
        recs = [r for r in st.recs if r.wt == 2]
        if not recs:
            return
        r = recs[sel % len(recs)]
        data[r.tag_end:r.payload] = _new_len(VARLEN_HOW[how], r.end - r.payload, len(data))
    else:
        raise AssertionError(kind)
    st.changed()


def apply_recipe(data: bytes, recipe: list) -> bytes:
    """The mutant: the recipe's tree mutations (in order) on the parsed ``data``, re-serialised,
    then its byte mutations (in order). ``data`` is the seed model unless told otherwise."""
    tree_ops = [op for op in recipe if op[0] in TREE_KINDS]
    byte_ops = [op for op in recipe if op[0] in BYTE_KINDS]
    if tree_ops:
        tree = copy_tree(seed_tree() if data is _SEED.get("bytes") else parse_tree(data))
        for op in tree_ops:
            _tree_op(tree, op)
        data = serialize(tree)
    if byte_ops:
        st = _ByteState(data)
        for op in byte_ops:
            _byte_op(st, op)
        data = bytes(st.data)
    return data


# ==============================================================================================
# The property
# ==============================================================================================
class CaseTimeout(BaseException):
    """Raised by the alarm inside a case; a BaseException so that onnxsym's handler of unexpected
    errors (``except Exception``) does not turn it into an exit code."""


@dataclass
class Outcome:
    command: str
    exit_code: int | None
    seconds: float
    rss_before: int
    rss_after: int
    maxrss: int  # the process' peak RSS after the case (bytes)
    problem: str | None = None  # a failure class, None when the case passed
    detail: str = ""  # first line of the error / exception
    slow: bool = False
    output: str = field(default="", repr=False)


def _rss() -> int:
    try:
        import psutil

        return psutil.Process().memory_info().rss
    except Exception:  # pragma: no cover
        return 0


def _maxrss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux


def command_args(command: str, model: Path, out: Path) -> list[str]:
    if command == "weights":
        return ["weights", str(model), "--format", "json", "-o", str(out / "w.json")]
    if command == "padding":
        return ["padding", str(model), "--format", "json"]
    if command == "audit":
        return ["audit", str(model), "--no-run", "--json", str(out / "a.json")]
    raise ValueError(command)


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_")[:60] or "x"


def _normalise(message: str) -> str:
    """An error message with its particulars (numbers, quoted names) blanked, for classing."""
    m = re.sub(r"'[^']*'|\"[^\"]*\"", "'…'", message)
    m = re.sub(r"0x[0-9a-fA-F]+|\d+", "N", m)
    return m[:90]


def failure_class(o: Outcome) -> str:
    """A short stable name for the kind of failure (not the command: one bug shows in several):
    what went wrong, the exception type and its message with particulars blanked."""
    d = o.detail
    if o.problem in ("internal_error", "exit"):
        m = re.search(r"internal error: (\w+): ?(.*?)(?: \(set ONNXSYM_DEBUG=1 for the traceback\))?$", d)
        if m:
            return f"internal_{m.group(1)}_{_slug(_normalise(m.group(2)))[:40]}"
        return f"{o.problem}{o.exit_code}_{_slug(_normalise(d))[:40]}"
    if o.problem == "uncaught":
        return f"uncaught_{_slug(d.split(':')[0])}"
    if o.problem == "hang":
        return f"hang_{_slug(d.split(' in ', 1)[-1])[:40]}"
    return o.problem


def _first_error_line(text: str) -> str:
    for line in text.splitlines():
        if "internal error" in line or line.startswith("onnxsym: error:"):
            return line.strip()
    for line in reversed(text.splitlines()):
        if line.strip():
            return line.strip()
    return ""


def check_case(data: bytes, command: str, workdir: Path, timeout: float = HARD_TIMEOUT,
               memory_cap: int = MEMORY_CAP, debug: bool = False) -> Outcome:
    """Run ``command`` on the mutant ``data`` in-process and judge it (see the module docstring).
    ``debug``: with ONNXSYM_DEBUG=1, so that an internal error escapes as an exception whose
    innermost onnxsym frame goes into ``detail`` (to locate a bug; the class then differs)."""
    from click.testing import CliRunner

    from onnxsym.cli import main

    src, out = workdir / "in", workdir / "out"
    for d in (src, out):
        shutil.rmtree(d, ignore_errors=True)
        d.mkdir(parents=True)
    model = src / "m.onnx"
    model.write_bytes(data)
    digest = hashlib.sha256(data).digest()
    args = command_args(command, model, out)

    rss0 = _rss()
    old = signal.signal(signal.SIGALRM, _on_alarm)
    # the alarm repeats every second: an exception raised while a finaliser runs (gc) is
    # swallowed by Python, so one alarm alone may not end the case
    _ALARM["armed"] = True
    signal.setitimer(signal.ITIMER_REAL, timeout, 1.0)
    t0 = time.perf_counter()
    timed_out = False
    result = None
    where = ""
    try:
        result = CliRunner().invoke(main, args, catch_exceptions=True,
                                    env={"ONNXSYM_DEBUG": "1" if debug else None})
    except CaseTimeout:
        _ALARM["armed"] = False
        timed_out = True
        where = _where(traceback.extract_tb(sys.exc_info()[2]))
    finally:
        _ALARM["armed"] = False
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
    seconds = time.perf_counter() - t0
    o = Outcome(command, None if result is None else result.exit_code, seconds, rss0, _rss(), _maxrss(),
                slow=seconds > SLOW_CASE)
    if timed_out:
        o.problem, o.detail = "hang", f"over {timeout:g} s in {where}"
        return o
    if seconds > timeout:  # the alarm's exception was swallowed somewhere; still too slow
        o.problem, o.detail = "hang", f"over {timeout:g} s ({seconds:.1f} s, alarm swallowed)"
        return o
    text = result.output  # stdout and stderr together
    o.output = text
    exc = result.exception
    if exc is not None and not isinstance(exc, SystemExit):
        tb = traceback.extract_tb(exc.__traceback__) if exc.__traceback__ else []
        o.problem = "uncaught"
        o.detail = f"{type(exc).__name__}: {' '.join(str(exc).split())[:200]} at {_where(tb)}"
    elif "Traceback" in text or "internal error" in text:
        o.problem, o.detail = "internal_error", _first_error_line(text)
    elif result.exit_code not in (0, 2):
        o.problem, o.detail = "exit", _first_error_line(text)
    elif result.exit_code == 2 and sum(l.startswith("onnxsym: error:") for l in result.stderr.splitlines()) != 1:
        o.problem, o.detail = "bad_error_line", _first_error_line(text) or "(no error line)"
    elif hashlib.sha256(model.read_bytes()).digest() != digest:
        o.problem, o.detail = "input_modified", "the model file changed"
    elif sorted(p.name for p in src.iterdir()) != ["m.onnx"]:
        o.problem, o.detail = "wrote_next_to_input", ", ".join(sorted(p.name for p in src.iterdir()))
    elif o.maxrss > memory_cap:
        o.problem, o.detail = "memory", f"peak RSS {o.maxrss / 2**30:.2f} GiB"
    elif result.exit_code == 0:
        o.problem, o.detail = _check_report(command, out, result.stdout)
    else:
        o.detail = _first_error_line(text)  # a clean refusal: its message, for statistics
    return o


_ALARM = {"armed": False}


def _on_alarm(signum, frame):
    if _ALARM["armed"]:
        raise CaseTimeout()


def _where(tb) -> str:
    """The innermost onnxsym frame of a traceback (else the innermost frame)."""
    frames = [f for f in tb if "onnxsym" in f.filename and "test_fuzz" not in f.filename] or list(tb)
    if not frames:
        return "?"
    f = frames[-1]
    return f"{Path(f.filename).name}:{f.lineno} {f.name}"


def _check_report(command: str, out: Path, stdout: str):
    try:
        if command == "padding":
            json.loads(stdout)
        else:
            path = out / ("w.json" if command == "weights" else "a.json")
            json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        return "bad_report", f"{type(e).__name__}: {' '.join(str(e).split())[:200]}"
    return None, ""


# ==============================================================================================
# Tests
# ==============================================================================================
import pytest  # noqa: E402

try:
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st
except ImportError:  # pragma: no cover - hypothesis is a test extra
    given = None

EXAMPLES = int(os.environ.get("ONNXSYM_FUZZ_EXAMPLES", "1000"))


@pytest.fixture(scope="module")
def fuzz_dir():
    d = Path(tempfile.mkdtemp(prefix="onnxsym-fuzz-"))
    old = os.getcwd()
    os.chdir(d)  # audit reads ./pyproject.toml: not the project's
    try:
        # warm up: lazy imports and numba compilation are not the cases' time
        for command in COMMAND_NAMES:
            o = check_case(seed_bytes(), command, d / "warm")
            assert o.problem is None and o.exit_code == 0, (command, o.detail, o.output[-2000:])
        yield d
    finally:
        os.chdir(old)
        shutil.rmtree(d, ignore_errors=True)


def test_engine_round_trips_and_mutates():
    data = seed_bytes()
    assert serialize(seed_tree()) == data
    recs = walk(data)
    assert any(r.fn == 7 and r.depth == 0 for r in recs)  # ModelProto.graph
    assert any(r.depth >= 3 for r in recs)  # graph → node → attribute → ...
    import random

    rng = random.Random(0)
    mutants = {apply_recipe(data, draw_recipe(rng.randint)) for _ in range(200)}
    assert len(mutants) > 150
    assert seed_bytes() == SEED_MODEL.read_bytes()  # the engine never touched the seed


if given is not None:

    @st.composite
    def recipes(draw):
        return draw_recipe(lambda lo, hi: draw(st.integers(lo, hi)))

    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None, print_blob=True,
              suppress_health_check=list(HealthCheck))
    @given(recipe=recipes(), which=st.integers(0, 2))
    def test_mutants_fail_cleanly(fuzz_dir, recipe, which):
        """Every mutant: exit 0 or 2, one error line, no traceback, bounded time and memory, the
        model untouched."""
        data = apply_recipe(seed_bytes(), recipe)
        o = check_case(data, COMMAND_NAMES[which], fuzz_dir / "case")
        if o.slow:
            print(f"slow case ({o.seconds:.1f} s): {COMMAND_NAMES[which]} {recipe!r}")
        assert o.problem is None, f"{failure_class(o)}: {o.detail} | recipe {recipe!r}"


# ----------------------------------------------------------------------------------------------
# Regression cases found by fuzzing (bench/fuzz_long.py), as recipes on keras_digits.onnx.
# ----------------------------------------------------------------------------------------------
# (name, command, recipe). Each crashed at 1cf103b (the failure in the comment) unless noted.
REGRESSIONS: list[tuple[str, str, list]] = [
    # internal TypeError: a bytes-like object is required, not 'str' (loading._resolve_location)
    ("non_utf8_external_location", "weights", [("extdata", 0, 8, 0, 0, False)]),
    # internal TypeError: Object of type bytes is not JSON serializable (weights_render.to_json)
    ("non_utf8_node_input", "weights", [("overwrite", 212819, b"\xff", True)]),
    # internal TypeError: sequence item 0: expected str instance, bytes found (layers.iter_conv_layers)
    ("non_utf8_op_type", "audit", [("setstr", 627323, 2)]),
    # internal TypeError: keys must be str, int, float, bool or None, not bytes (an opset domain)
    ("non_utf8_opset_domain", "audit", [("flip", 903669, 7, True)]),
    # internal ValueError: maximum supported dimension for an ndarray is currently 64 (loading.array)
    ("rank_over_64", "weights", [("dup", 86506, 2000)]),
    ("rank_over_64_padding", "padding", [("dup", 360445, 2), ("dup", 273672, 100)]),
    # internal ValueError: Enum DataType has no name defined for value 255 (graph input elem_type)
    ("input_elem_type_255", "padding", [("setint", 123, 33)]),
    # hang: a weight reshaped to [1, 1, 1, 9216]: symmetry.gaussian_baseline ran > 100 s in numba
    ("huge_kernel_baseline", "padding", [("reshape", 191183, 570016)]),
    # hang, still at cdb0646: 2001 copies of the graph input x 2000 extra nodes: padding's
    # per-image-input reach()/trace_layout rescans the graph (quadratic; 1000 copies: 9 s, 2000: 27 s)
    ("many_image_inputs", "padding", [("dup", 311, 2000), ("dup", 50, 2000)]),
]


@pytest.mark.parametrize("name,command,recipe", REGRESSIONS, ids=[r[0] for r in REGRESSIONS])
def test_fuzz_regression(fuzz_dir, name, command, recipe):
    o = check_case(apply_recipe(seed_bytes(), recipe), command, fuzz_dir / "case")
    assert o.problem is None, f"{failure_class(o)}: {o.detail}"
