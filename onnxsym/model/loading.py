"""Open an ONNX model safely and cheaply: the single way onnxsym reads a model file.

How it works
------------
The ``.onnx`` file is memory-mapped (read-only) and its protobuf wire format is walked by hand
through the messages that can hold tensors (model → graph/functions/training info → nodes →
attributes → tensors/subgraphs/sparse tensors). Every large ``TensorProto.raw_data`` payload is cut
out of a *stripped* serialisation and replaced by an ordinary ONNX external-data reference to the
same file (``location`` = the file's name, ``offset`` = where the payload starts, ``length``). Only
that small stripped message is parsed by protobuf, so loading a model with embedded weights costs
little more memory than its graph, and :meth:`LoadedModel.array` serves the weights as read-only
NumPy views over the mapping.

Real external data (``onnx.save(..., save_as_external_data=True)``) is confined to the model's
folder: absolute locations, ``..`` components and symlinks resolving outside the folder are
refused. Every problem with the input becomes a one-line :class:`~onnxsym.errors.ModelError`.

The user's file is never written to, and nothing is written next to it.
"""
from __future__ import annotations

import hashlib
import math
import mmap
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Literal

import numpy as np
import onnx
from google.protobuf.message import DecodeError

from ..errors import ModelError
from ..files import open_regular

__all__ = ["LoadedModel", "load_model", "load_model_bytes", "iter_tensors", "IN_MEMORY", "STRIP_THRESHOLD", "TensorTooLarge",
           "MAX_DENSE_BYTES", "MAX_INLINED_NODES", "MAX_CALL_DEPTH"]

IN_MEMORY = "<in-memory model>"   # what messages and reports call a model given as bytes
#: ``raw_data`` payloads at least this large are left in the file and served from the mapping.
STRIP_THRESHOLD = 1024
#: a sparse tensor is densified only when its dense form takes at most this many bytes
MAX_DENSE_BYTES = 1 << 30
#: inlining model-local functions may create at most this many nodes, through calls this deep
MAX_INLINED_NODES = 200_000
MAX_CALL_DEPTH = 32
#: tensors of more dimensions than this are refused (numpy holds at most 64)
MAX_RANK = 32
#: ``external_data`` keys onnxruntime accepts (it refuses a model with any other key)
EXTERNAL_KEYS = ("location", "offset", "length", "checksum")


class TensorTooLarge(ModelError):
    """A tensor whose values would take more memory than onnxsym allows itself (a sparse tensor
    declaring a huge dense shape): the caller treats the value as unavailable, with this reason."""

DataOrigin = Literal["embedded", "external", "inline"]

# --------------------------------------------------------------------------------------------
# Wire-format walk
# --------------------------------------------------------------------------------------------
# Message kinds we descend into, as {field number: child kind}. Field numbers from onnx.proto.
_MODEL, _GRAPH, _NODE, _ATTR, _FUNC, _SPARSE, _TRAIN, _TENSOR = range(8)
_CHILDREN: dict[int, dict[int, int]] = {
    _MODEL: {7: _GRAPH, 25: _FUNC, 20: _TRAIN},  # graph, functions, training_info
    _TRAIN: {1: _GRAPH, 2: _GRAPH},  # initialization, algorithm
    _GRAPH: {1: _NODE, 5: _TENSOR, 15: _SPARSE},  # node, initializer, sparse_initializer
    _NODE: {5: _ATTR},  # attribute
    _FUNC: {7: _NODE, 11: _ATTR},  # node, attribute_proto (default values)
    # t, g, tensors, graphs, sparse_tensor, sparse_tensors
    _ATTR: {5: _TENSOR, 6: _GRAPH, 10: _TENSOR, 11: _GRAPH, 22: _SPARSE, 23: _SPARSE},
    # values only: onnx.checker reads sparse indices, so they stay inline (they are rare and small)
    _SPARSE: {1: _TENSOR},
}
# TensorProto fields the walk looks at.
_T_RAW_DATA, _T_EXTERNAL_DATA, _T_DATA_LOCATION = 9, 13, 14
_MAX_DEPTH = 200


class _WireError(Exception):
    pass


def _varint_bytes(value: int) -> bytes:
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _entry(key: str, value: str) -> bytes:
    """A serialised ``TensorProto.external_data`` field (StringStringEntryProto)."""
    k = key.encode()
    v = value.encode("utf-8", "replace")
    body = b"\x0a" + _varint_bytes(len(k)) + k + b"\x12" + _varint_bytes(len(v)) + v
    return b"\x6a" + _varint_bytes(len(body)) + body  # field 13, wire type 2


class _BufferFile:
    """The two reads the stripper makes (``pread``-like and ``readinto``), over bytes in memory."""

    def __init__(self, data):
        self.data = memoryview(data)
        self.pos = 0

    def seek(self, offset: int) -> None:
        self.pos = offset

    def readinto(self, view) -> int:
        n = max(0, min(len(view), len(self.data) - self.pos))
        view[:n] = self.data[self.pos:self.pos + n]
        self.pos += n
        return n

    def close(self) -> None:
        pass


def _pread(f, n: int, offset: int) -> bytes:
    if isinstance(f, _BufferFile):
        return bytes(f.data[offset:offset + n])
    if hasattr(os, "pread"):
        return os.pread(f.fileno(), n, offset)
    f.seek(offset)  # pragma: no cover - Windows
    return f.read(n)


class _Stripper:
    """Build the stripped serialisation of the ModelProto in file ``f`` (``size`` bytes).

    Headers are read with ``pread`` through a small window rather than through the memory map,
    so walking the file does not map its pages into this process (a large-folio page cache would
    otherwise map megabytes around every header touched)."""

    _WINDOW = 1 << 16

    def __init__(self, f, size: int, location: str, threshold: int):
        self.f = f
        self.size = size
        self.threshold = threshold
        self.location = location
        self.embedded: set[tuple[int, int]] = set()  # (offset, length) of payloads left in the file
        self.stripped_bytes = 0
        self.win = b""
        self.ws = 0  # file offset of win[0]

    def _fill(self, pos: int) -> None:
        self.win = _pread(self.f, self._WINDOW, pos)
        self.ws = pos

    def _varint(self, pos: int, end: int) -> tuple[int, int]:
        if pos >= end:
            raise _WireError(f"truncated varint at byte {pos}")
        i = pos - self.ws
        win = self.win
        if i < 0 or i + 10 > len(win):
            if i < 0 or self.ws + len(win) < self.size:
                self._fill(pos)
                i = 0
                win = self.win
        b = win[i]
        if b < 0x80:
            return b, pos + 1
        result = b & 0x7F
        shift = 7
        pos += 1
        i += 1
        while True:
            if pos >= end:
                raise _WireError(f"truncated varint at byte {pos}")
            b = win[i]
            pos += 1
            i += 1
            result |= (b & 0x7F) << shift
            if b < 0x80:
                return result, pos
            shift += 7
            if shift >= 70:
                raise _WireError(f"malformed varint at byte {pos}")

    def rewrite(self, kind: int, start: int, end: int, depth: int = 0):
        """Walk one message; return None when it is unchanged, else (pieces, new_length).

        Pieces are ``(offset, length)`` ranges of the file or ``bytes`` to insert."""
        if depth > _MAX_DEPTH:
            raise _WireError("messages nested too deeply")
        children = _CHILDREN.get(kind)
        is_tensor = kind == _TENSOR
        threshold = self.threshold
        pieces: list | None = None
        copy_from = start
        new_len = 0
        raw_fields: list[tuple[int, int, int, int]] = []  # (field start, field end, payload start, payload end)
        has_external = False
        data_location = 0
        pos = start
        varint = self._varint
        while pos < end:
            fstart = pos
            key, pos = varint(pos, end)
            tag_end = pos
            fn = key >> 3
            wt = key & 7
            if fn == 0:
                raise _WireError(f"invalid field number 0 at byte {fstart}")
            if wt == 2:
                ln, pos = varint(pos, end)
                pstart = pos
                pos += ln
                if pos > end:
                    raise _WireError(f"field length runs past the end of its message at byte {fstart}")
                if is_tensor:
                    if fn == _T_RAW_DATA:
                        raw_fields.append((fstart, pos, pstart, pos))
                    elif fn == _T_EXTERNAL_DATA:
                        has_external = True
                    continue
                if children is None or ln < threshold:
                    continue
                child = children.get(fn)
                if child is None:
                    continue
                sub = self.rewrite(child, pstart, pos, depth + 1)
                if sub is None:
                    continue
                sub_pieces, sub_len = sub
                if pieces is None:
                    pieces = []
                # everything before this field, then its tag, new length and new content
                if tag_end > copy_from:
                    pieces.append((copy_from, tag_end - copy_from))
                    new_len += tag_end - copy_from
                lenb = _varint_bytes(sub_len)
                pieces.append(lenb)
                pieces.extend(sub_pieces)
                new_len += len(lenb) + sub_len
                copy_from = pos
            elif wt == 0:
                value, pos = varint(pos, end)
                if is_tensor and fn == _T_DATA_LOCATION:
                    data_location = value
            elif wt == 5:
                pos += 4
            elif wt == 1:
                pos += 8
            else:
                raise _WireError(f"unsupported wire type {wt} at byte {fstart}")
            if pos > end:
                raise _WireError(f"field runs past the end of its message at byte {fstart}")

        if is_tensor:
            if not raw_fields or has_external or data_location == 1:
                return None
            _, _, pstart, pend = raw_fields[-1]  # protobuf: the last occurrence wins
            length = pend - pstart
            if length < threshold:
                return None
            pieces = []
            new_len = 0
            copy_from = start
            for fs, fe, _, _ in raw_fields:
                if fs > copy_from:
                    pieces.append((copy_from, fs - copy_from))
                    new_len += fs - copy_from
                copy_from = fe
            if end > copy_from:
                pieces.append((copy_from, end - copy_from))
                new_len += end - copy_from
            extra = (
                _entry("location", self.location)
                + _entry("offset", str(pstart))
                + _entry("length", str(length))
                + b"\x70\x01"  # data_location = EXTERNAL
            )
            pieces.append(extra)
            new_len += len(extra)
            self.embedded.add((pstart, length))
            self.stripped_bytes += length
            return pieces, new_len

        if pieces is None:
            return None
        if end > copy_from:
            pieces.append((copy_from, end - copy_from))
            new_len += end - copy_from
        return pieces, new_len

    def strip(self) -> bytes:
        size = self.size
        result = self.rewrite(_MODEL, 0, size)
        if result is None:
            pieces, total = [(0, size)], size
        else:
            pieces, total = result
        out = bytearray(total)
        view = memoryview(out)
        pos = 0
        f = self.f
        for p in pieces:
            if isinstance(p, tuple):
                off, n = p
                f.seek(off)
                if f.readinto(view[pos:pos + n]) != n:
                    raise _WireError("the file changed while it was read")
                pos += n
            else:
                view[pos:pos + len(p)] = p
                pos += len(p)
        view.release()
        return out


# --------------------------------------------------------------------------------------------
# dtypes
# --------------------------------------------------------------------------------------------
_TP = onnx.TensorProto


def _ml(name: str):
    import ml_dtypes

    return np.dtype(getattr(ml_dtypes, name))


# data_type -> (numpy dtype of raw little-endian storage) for byte-sized types
_PLAIN = {
    _TP.FLOAT: "<f4",
    _TP.UINT8: "u1",
    _TP.INT8: "i1",
    _TP.UINT16: "<u2",
    _TP.INT16: "<i2",
    _TP.INT32: "<i4",
    _TP.INT64: "<i8",
    _TP.BOOL: "?",
    _TP.FLOAT16: "<f2",
    _TP.DOUBLE: "<f8",
    _TP.UINT32: "<u4",
    _TP.UINT64: "<u8",
    _TP.COMPLEX64: "<c8",
    _TP.COMPLEX128: "<c16",
}
_ML_PLAIN = {
    _TP.BFLOAT16: "bfloat16",
    _TP.FLOAT8E4M3FN: "float8_e4m3fn",
    _TP.FLOAT8E4M3FNUZ: "float8_e4m3fnuz",
    _TP.FLOAT8E5M2: "float8_e5m2",
    _TP.FLOAT8E5M2FNUZ: "float8_e5m2fnuz",
    _TP.FLOAT8E8M0: "float8_e8m0fnu",
}
# sub-byte types: data_type -> (bits, result dtype, signed)
_PACKED = {
    _TP.UINT4: (4, "u1", False),
    _TP.INT4: (4, "i1", True),
    _TP.UINT2: (2, "u1", False),
    _TP.INT2: (2, "i1", True),
    _TP.FLOAT4E2M1: (4, "ml:float4_e2m1fn", False),
}
_SIX_BIT = {_TP.FLOAT6E2M3: "float6_e2m3fn", _TP.FLOAT6E3M2: "float6_e3m2fn"}


def type_name(data_type: int) -> str:
    """The name of an ONNX element type (``FLOAT``…), or ``data type N`` for a value ONNX lacks."""
    return _type_name(data_type)


def _type_name(data_type: int) -> str:
    try:
        return _TP.DataType.Name(data_type)
    except ValueError:
        return f"data type {data_type}"


def _unpack_bits(packed: np.ndarray, bits: int, count: int) -> np.ndarray:
    """Unpack ``8 // bits`` elements per byte, least significant bits first, to one uint8 each."""
    per = 8 // bits
    mask = (1 << bits) - 1
    out = np.empty((packed.size, per), dtype=np.uint8)
    for k in range(per):
        np.bitwise_and(packed >> (bits * k), mask, out=out[:, k])
    return out.reshape(-1)[:count]


def _unpack_6bit(packed: np.ndarray, count: int) -> np.ndarray:
    groups = -(-count // 4)
    data = np.zeros(groups * 3, dtype=np.uint32)
    data[: packed.size] = packed[: groups * 3]
    word = data[0::3] | (data[1::3] << 8) | (data[2::3] << 16)
    out = np.empty((groups, 4), dtype=np.uint8)
    for k in range(4):
        out[:, k] = (word >> (6 * k)) & 0x3F
    return out.reshape(-1)[:count]


def _gib(n: int) -> str:
    return f"{n / (1 << 30):.3g} GiB" if n >= (1 << 27) else f"{n / (1 << 20):.3g} MiB"


def _readonly(a: np.ndarray) -> np.ndarray:
    a.flags.writeable = False
    return a


# --------------------------------------------------------------------------------------------
# Tensor iteration over a parsed model
# --------------------------------------------------------------------------------------------
def _iter_attr(attr: onnx.AttributeProto, where: str):
    here = f"{where} attribute '{attr.name}'"
    if attr.HasField("t"):
        yield attr.t, here
    for t in attr.tensors:
        yield t, here
    if attr.HasField("sparse_tensor"):
        yield attr.sparse_tensor.values, here
        yield attr.sparse_tensor.indices, here
    for s in attr.sparse_tensors:
        yield s.values, here
        yield s.indices, here
    if attr.HasField("g"):
        yield from _iter_graph(attr.g, here)
    for g in attr.graphs:
        yield from _iter_graph(g, here)


def _iter_nodes(nodes, where: str):
    for i, node in enumerate(nodes):
        if not len(node.attribute):
            continue
        nwhere = f"{where} node '{node.name or f'{node.op_type}#{i}'}'"
        for attr in node.attribute:
            yield from _iter_attr(attr, nwhere)


def _iter_graph(graph: onnx.GraphProto, where: str):
    gwhere = f"{where} graph '{graph.name}'" if where else f"graph '{graph.name}'"
    for t in graph.initializer:
        yield t, f"{gwhere} initializer"
    for s in graph.sparse_initializer:
        yield s.values, f"{gwhere} sparse initializer"
        yield s.indices, f"{gwhere} sparse initializer"
    yield from _iter_nodes(graph.node, gwhere)


def iter_tensors(model: onnx.ModelProto) -> Iterator[tuple[onnx.TensorProto, str]]:
    """Every TensorProto in the model, with a readable place: initializers, sparse initializers
    (values and indices), Constant-like node attributes, subgraphs at any depth, model-local
    functions (nodes and default attributes) and training-info graphs."""
    if model.HasField("graph"):
        yield from _iter_graph(model.graph, "")
    for f in model.functions:
        fwhere = f"function '{f.domain}.{f.name}'"
        yield from _iter_nodes(f.node, fwhere)
        for attr in f.attribute_proto:
            yield from _iter_attr(attr, fwhere)
    for k, ti in enumerate(model.training_info):
        if ti.HasField("initialization"):
            yield from _iter_graph(ti.initialization, f"training_info[{k}]")
        if ti.HasField("algorithm"):
            yield from _iter_graph(ti.algorithm, f"training_info[{k}]")


# --------------------------------------------------------------------------------------------
# LoadedModel
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _ExternalRef:
    file: Path
    offset: int
    length: int


@dataclass(eq=False)
class LoadedModel:
    """A model opened by :func:`load_model`.

    ``model`` is the graph with large embedded ``raw_data`` payloads replaced by external-data
    references to the ``.onnx`` file itself (see :meth:`data_origin`), and with the calls of
    model-local functions inlined (``file_model`` keeps the functions as the file has them; both
    share the same tensors); use :meth:`array` to read
    any tensor's values. Arrays returned are read-only; those served from raw or external data
    are views over read-only memory maps (they may be unaligned: use ``np.ascontiguousarray`` or
    ``np.require(a, requirements="A")`` if a kernel needs aligned data).
    """

    path: Path | None                    # None for a model given as bytes (see ``label``)
    model: onnx.ModelProto
    size_bytes: int
    external_bytes: int
    base_dir: Path | None = field(repr=False)
    _mm: object = field(repr=False, default=None)
    _embedded: frozenset = field(repr=False, default=frozenset())
    _self_location: str = field(repr=False, default="")
    _external_files: dict = field(repr=False, default_factory=dict)  # resolved path -> size
    _maps: dict = field(repr=False, default_factory=dict)  # resolved path -> mmap
    _sha256: str | None = field(repr=False, default=None)
    _bytes: object = field(repr=False, default=None)   # the serialised model, when given as bytes
    file_model: onnx.ModelProto | None = field(repr=False, default=None)  # the graph as in the file
    inlined_calls: int = 0   # calls of model-local functions inlined into ``model`` (see load_model)
    notes: list = field(default_factory=list)

    # ---- facts ------------------------------------------------------------------------------
    @property
    def ir_version(self) -> int:
        return int(self.model.ir_version)

    @property
    def opsets(self) -> dict[str, int]:
        """Imported opsets, ``{domain: version}`` (``""`` is the default ONNX domain)."""
        return {o.domain: int(o.version) for o in self.model.opset_import}

    @property
    def external_files(self) -> list[Path]:
        """The external data files the model references (resolved, inside ``base_dir``)."""
        return sorted(self._external_files)

    @property
    def name(self) -> str:
        """The file's name, or ``<in-memory model>``: how messages name the model."""
        return self.path.name if self.path is not None else IN_MEMORY

    @property
    def label(self) -> str:
        """The file's path, or ``<in-memory model>``: how reports name the model."""
        return str(self.path) if self.path is not None else IN_MEMORY

    @property
    def serialized(self):
        """The serialised model when it was given as bytes (None for a file)."""
        return self._bytes

    def sha256(self) -> str:
        """Hex SHA-256 of the ``.onnx`` file or of the bytes given (streamed, computed once)."""
        if self._sha256 is None and self._bytes is not None:
            self._sha256 = hashlib.sha256(self._bytes).hexdigest()
        if self._sha256 is None:
            h = hashlib.sha256()
            try:
                with open(self.path, "rb") as f:
                    if hasattr(hashlib, "file_digest"):
                        h = hashlib.file_digest(f, "sha256")
                    else:  # pragma: no cover - Python 3.10
                        for chunk in iter(lambda: f.read(1 << 20), b""):
                            h.update(chunk)
            except OSError as e:
                raise ModelError(f"cannot read {self.path}: {e.strerror or e}") from None
            self._sha256 = h.hexdigest()
        return self._sha256

    def iter_tensors(self) -> Iterator[tuple[onnx.TensorProto, str]]:
        """Shortcut for :func:`iter_tensors` on this model."""
        return iter_tensors(self.model)

    # ---- where a tensor's data lives --------------------------------------------------------
    @staticmethod
    def _entries(tensor: onnx.TensorProto) -> dict[str, str]:
        return {e.key: e.value for e in tensor.external_data}

    def data_origin(self, tensor: onnx.TensorProto) -> DataOrigin:
        """``"embedded"``: raw data stored inside the ``.onnx`` file, served from the mapping;
        ``"external"``: data in a separate external data file; ``"inline"``: small values
        kept in the parsed proto (typed fields or small ``raw_data``)."""
        if tensor.data_location != _TP.EXTERNAL:
            return "inline"
        if self._is_embedded(self._entries(tensor)):
            return "embedded"
        return "external"

    def is_in_file(self, tensor: onnx.TensorProto) -> bool:
        """True when the tensor's values are stored in the ``.onnx`` file itself."""
        return self.data_origin(tensor) != "external"

    def _is_embedded(self, entries: dict[str, str]) -> bool:
        if entries.get("location") != self._self_location:
            return False
        try:
            key = (int(entries.get("offset", "")), int(entries.get("length", "")))
        except ValueError:
            return False
        return key in self._embedded

    def _tname(self, tensor: onnx.TensorProto) -> str:
        return f"tensor '{tensor.name}'" if tensor.name else "an unnamed tensor"

    def _fail(self, tensor: onnx.TensorProto, what: str) -> ModelError:
        return ModelError(f"{self.name}: {self._tname(tensor)}: {what}")

    def _external_ref(self, tensor: onnx.TensorProto) -> _ExternalRef:
        """Validate a real external-data reference (confined to ``base_dir``, within the file)."""
        entries = self._entries(tensor)
        odd = sorted(k for k in entries if k not in EXTERNAL_KEYS)
        if odd:
            raise self._fail(tensor, f"external data has the key {odd[0]!r}, which onnxruntime refuses "
                                     f"(it accepts {', '.join(EXTERNAL_KEYS)})")
        location = entries.get("location")
        if not location:
            raise self._fail(tensor, "external data has no location")
        if self.base_dir is None:
            raise self._fail(tensor, f"refers to the external data file '{location}', but a model given as "
                                     "bytes has no folder to find it in; give the model's path")
        file = _resolve_location(self.base_dir, location, lambda m: self._fail(tensor, m))
        size = self._external_files.get(file)
        if size is None:
            size = file.stat().st_size
        try:
            offset = int(entries.get("offset", "0") or "0")
            length = int(entries["length"]) if entries.get("length", "") != "" else size - offset
        except ValueError:
            raise self._fail(tensor, f"external data offset/length are not integers in '{location}'") from None
        if offset > size:
            raise self._fail(
                tensor, f"external data offset {offset} runs past the end of '{location}' ({size} bytes)"
            )
        if offset < 0 or length < 0:
            raise self._fail(tensor, f"negative external data offset/length in '{location}'")
        if offset + length > size:
            raise self._fail(
                tensor,
                f"external data (offset {offset}, length {length}) runs past the end of "
                f"'{location}' ({size} bytes)",
            )
        return _ExternalRef(file, offset, length)

    def _map(self, file: Path):
        mm = self._maps.get(file)
        if mm is None:
            fd, _st = open_regular(file, "external data file", ModelError)
            try:
                mm = mmap.mmap(fd, 0, access=mmap.ACCESS_READ)
            except (OSError, ValueError) as e:
                raise ModelError(f"cannot map external data file '{file.name}': {e}") from None
            finally:
                os.close(fd)
            self._maps[file] = mm
        return mm

    def release_pages(self) -> None:
        """Drop the mapped pages this process has touched so far (they stay in the page cache).

        Arrays served earlier stay valid: touching them again faults the pages back in. Callers
        that walk a large model layer by layer call this between layers, so resident memory
        stays near one layer's size instead of growing to the whole file.
        """
        advice = getattr(mmap, "MADV_DONTNEED", None)
        if advice is None:
            return
        for mm in [self._mm, *self._maps.values()]:
            if not isinstance(mm, mmap.mmap):  # None, or the bytes of an in-memory model
                continue
            try:
                mm.madvise(advice)
            except (OSError, ValueError):  # closed, or the platform refuses: only a memory hint
                pass

    def _raw_view(self, tensor: onnx.TensorProto) -> np.ndarray | None:
        """The tensor's raw bytes as a uint8 array (view where possible), or None if typed."""
        if tensor.data_location == _TP.EXTERNAL:
            entries = self._entries(tensor)
            if self._is_embedded(entries):
                offset, length = int(entries["offset"]), int(entries["length"])
                return np.frombuffer(self._mm, dtype=np.uint8, count=length, offset=offset)
            ref = self._external_ref(tensor)
            if ref.length == 0:
                return np.empty(0, dtype=np.uint8)
            return np.frombuffer(self._map(ref.file), dtype=np.uint8, count=ref.length, offset=ref.offset)
        if tensor.HasField("raw_data"):
            return np.frombuffer(tensor.raw_data, dtype=np.uint8)
        return None

    def _check_external(self) -> None:
        """Validate every real external-data reference now, so a bad model fails at load time."""
        files: dict[Path, int] = {}
        for tensor, where in iter_tensors(self.model):
            if tensor.data_location != _TP.EXTERNAL or self._is_embedded(self._entries(tensor)):
                continue
            try:
                ref = self._external_ref(tensor)
            except ModelError as e:
                raise ModelError(f"{e} ({where})") from None
            files.setdefault(ref.file, ref.file.stat().st_size)
        self._external_files = files
        self.external_bytes = sum(files.values())

    # ---- values -----------------------------------------------------------------------------
    def array(self, tensor: onnx.TensorProto) -> np.ndarray:
        """The tensor's values as a read-only array shaped ``tensor.dims``.

        Raw and external data are served zero-copy (views over memory maps) for byte-sized
        types: float32/64, float16, bfloat16 and float8 variants (as ml_dtypes types), ints,
        bool, complex. Sub-byte types are unpacked (a copy): int4/int2 → int8 (sign-extended),
        uint4/uint2 → uint8, float4e2m1 and float6 → their ml_dtypes types. Typed fields
        (float_data, int32_data, ...) are converted. Strings, segments and malformed data raise
        :class:`ModelError`.
        """
        dt = tensor.data_type
        if tensor.HasField("segment"):
            raise self._fail(tensor, "segmented tensors are not supported")
        if dt == _TP.STRING:
            raise self._fail(tensor, "string tensors have no numeric values")
        dims = tuple(int(d) for d in tensor.dims)
        if any(d < 0 for d in dims):
            raise self._fail(tensor, f"negative dimension in shape {list(dims)}")
        if len(dims) > MAX_RANK:
            raise self._fail(tensor, f"has {len(dims)} dimensions; onnxsym reads tensors of at most {MAX_RANK}")
        count = math.prod(dims)
        if dt in _PLAIN:
            dtype = np.dtype(_PLAIN[dt])
        elif dt in _ML_PLAIN:
            dtype = _ml(_ML_PLAIN[dt])
        elif dt in _PACKED or dt in _SIX_BIT:
            dtype = None
        else:
            raise self._fail(tensor, f"unsupported element type {_type_name(dt)}")

        raw = self._raw_view(tensor)
        if raw is not None:
            if dtype is not None:
                expected = count * dtype.itemsize
            elif dt in _PACKED:
                expected = -(-count * _PACKED[dt][0] // 8)
            else:
                expected = -(-count * 6 // 8)
            if raw.size != expected:
                raise self._fail(
                    tensor,
                    f"has {raw.size} bytes of data, expected {expected} for "
                    f"{_type_name(dt)} {list(dims)}",
                )
            if dtype is not None:
                return _readonly(raw.view(dtype).reshape(dims))
            if dt in _PACKED:
                return _readonly(self._finish_packed(dt, _unpack_bits(raw, _PACKED[dt][0], count), dims))
            return _readonly(_unpack_6bit(raw, count).view(_ml(_SIX_BIT[dt])).reshape(dims))

        if tensor.data_location == _TP.EXTERNAL:  # pragma: no cover - handled in _raw_view
            raise self._fail(tensor, "external data could not be read")
        return _readonly(self._typed(tensor, dt, dtype, dims, count))

    def _finish_packed(self, dt: int, unpacked: np.ndarray, dims) -> np.ndarray:
        bits, kind, signed = _PACKED[dt]
        if kind.startswith("ml:"):
            return unpacked.view(_ml(kind[3:])).reshape(dims)
        if signed:
            half = 1 << (bits - 1)
            out = (unpacked.view(np.int8) ^ np.int8(half)) - np.int8(half)
            return out.reshape(dims)
        return unpacked.reshape(dims)

    def _typed(self, tensor, dt, dtype, dims, count) -> np.ndarray:
        def check(n, what):
            if n != count:
                raise self._fail(
                    tensor, f"has {n} values in {what}, expected {count} for {_type_name(dt)} {list(dims)}"
                )

        if dt in (_TP.FLOAT, _TP.COMPLEX64):
            vals = np.asarray(tensor.float_data, dtype=np.float32)
            if dt == _TP.COMPLEX64:
                check(vals.size // 2 if vals.size % 2 == 0 else -1, "float_data")
                return vals.view(np.complex64).reshape(dims)
            check(vals.size, "float_data")
            return vals.reshape(dims)
        if dt in (_TP.DOUBLE, _TP.COMPLEX128):
            vals = np.asarray(tensor.double_data, dtype=np.float64)
            if dt == _TP.COMPLEX128:
                check(vals.size // 2 if vals.size % 2 == 0 else -1, "double_data")
                return vals.view(np.complex128).reshape(dims)
            check(vals.size, "double_data")
            return vals.reshape(dims)
        if dt == _TP.INT64:
            vals = np.asarray(tensor.int64_data, dtype=np.int64)
            check(vals.size, "int64_data")
            return vals.reshape(dims)
        if dt in (_TP.UINT32, _TP.UINT64):
            vals = np.asarray(tensor.uint64_data, dtype=np.uint64)
            check(vals.size, "uint64_data")
            return vals.astype(dtype).reshape(dims)
        # everything else lives in int32_data
        ints = np.asarray(tensor.int32_data, dtype=np.int32)
        if dt in _PACKED:
            bits = _PACKED[dt][0]
            per = 8 // bits
            if ints.size != -(-count // per):
                check(ints.size * per, "int32_data (packed)")
            packed = ints.view(np.uint32).astype(np.uint8)
            return self._finish_packed(dt, _unpack_bits(packed, bits, count), dims)
        check(ints.size, "int32_data")
        if dt in _SIX_BIT:
            return (ints.view(np.uint32).astype(np.uint8) & 0x3F).view(_ml(_SIX_BIT[dt])).reshape(dims)
        if dtype.itemsize == 2 and dt not in (_TP.INT16, _TP.UINT16):  # float16/bfloat16 bit patterns
            return ints.view(np.uint32).astype(np.uint16).view(dtype).reshape(dims)
        if dt in _ML_PLAIN:  # float8 bit patterns
            return ints.view(np.uint32).astype(np.uint8).view(dtype).reshape(dims)
        if dt == _TP.BOOL:
            return (ints != 0).reshape(dims)
        return ints.astype(dtype.newbyteorder("=")).reshape(dims)

    def sparse_array(self, sparse: onnx.SparseTensorProto, max_bytes: int = MAX_DENSE_BYTES) -> np.ndarray:
        """The dense (read-only) array of a SparseTensorProto; missing entries are zero.

        Raises :class:`TensorTooLarge` before allocating when the dense form would take more than
        ``max_bytes`` (a few stored values can declare a shape of terabytes)."""
        dims = tuple(int(d) for d in sparse.dims)
        name = sparse.values.name or sparse.indices.name
        where = f"{self.name}: sparse tensor '{name}'" if name else f"{self.name}: a sparse tensor"
        if any(d < 0 for d in dims):
            raise ModelError(f"{where}: negative dimension in shape {list(dims)}")
        if len(dims) > MAX_RANK:
            raise ModelError(f"{where}: has {len(dims)} dimensions; onnxsym reads tensors of at most {MAX_RANK}")
        values = self.array(sparse.values).reshape(-1)
        indices = self.array(sparse.indices)
        if indices.dtype.kind not in "iu":
            raise ModelError(f"{where}: indices must be integers, got {indices.dtype}")
        nnz = values.size
        total = math.prod(dims)
        dense_bytes = total * values.dtype.itemsize
        if dense_bytes > max_bytes:
            raise TensorTooLarge(f"{where} declares a dense shape {list(dims)} of {_gib(dense_bytes)} "
                                 f"({nnz} stored values); onnxsym densifies at most {_gib(max_bytes)}")
        if indices.ndim == 1 and indices.size == nnz:
            flat = indices.astype(np.int64)
        elif indices.ndim == 2 and indices.shape == (nnz, len(dims)):
            idx = indices.astype(np.int64)
            if idx.size and ((idx < 0).any() or (idx >= np.asarray(dims, dtype=np.int64)).any()):
                raise ModelError(f"{where}: index out of range for shape {list(dims)}")
            flat = np.ravel_multi_index(tuple(idx.T), dims) if nnz else np.zeros(0, np.int64)
        else:
            raise ModelError(
                f"{where}: indices of shape {list(indices.shape)} do not match {nnz} values "
                f"and shape {list(dims)}"
            )
        if flat.size and (flat.min() < 0 or flat.max() >= total):
            raise ModelError(f"{where}: index out of range for shape {list(dims)}")
        dense = np.zeros(total, dtype=values.dtype)
        dense[flat] = values
        return _readonly(dense.reshape(dims))

    def tensor_with_data(self, tensor: onnx.TensorProto) -> onnx.TensorProto:
        """A copy of ``tensor`` whose values are inline ``raw_data`` (for tools such as
        ``onnx.reference`` that cannot read references to the mapping). Copies the data."""
        if tensor.data_location != _TP.EXTERNAL:
            return tensor
        out = onnx.TensorProto()
        out.CopyFrom(tensor)
        raw = self._raw_view(tensor)
        del out.external_data[:]
        out.ClearField("data_location")
        out.raw_data = raw.tobytes()
        return out


# --------------------------------------------------------------------------------------------
# External data locations
# --------------------------------------------------------------------------------------------
_DRIVE = re.compile(r"^[A-Za-z]:")


def _resolve_location(base_dir: Path, location: str, fail) -> Path:
    if "\x00" in location:
        raise fail(f"external data location {location!r} is invalid")
    if location.startswith(("/", "\\")) or _DRIVE.match(location) or os.path.isabs(location):
        raise fail(f"external data location '{location}' is an absolute path; refusing to read it")
    parts = [p for p in re.split(r"[\\/]", location) if p not in ("", ".")]
    if not parts:
        raise fail(f"external data location '{location}' is not a file name")
    if ".." in parts:
        raise fail(f"external data location '{location}' escapes the model's folder; refusing to read it")
    candidate = base_dir.joinpath(*parts)
    base_real = Path(os.path.realpath(base_dir))
    real = Path(os.path.realpath(candidate))
    if real != base_real and base_real not in real.parents:
        raise fail(
            f"external data location '{location}' resolves outside the model's folder "
            f"(a symlink?); refusing to read it"
        )
    try:
        st = os.stat(real)
    except FileNotFoundError:
        raise fail(f"external data file '{location}' not found next to the model") from None
    except OSError as e:
        raise fail(f"cannot read external data file '{location}': {e.strerror or e}") from None
    if not stat.S_ISREG(st.st_mode):
        raise fail(f"external data location '{location}' is not a regular file")
    return real


# --------------------------------------------------------------------------------------------
# load_model
# --------------------------------------------------------------------------------------------
def _inline_local_functions(model: onnx.ModelProto):
    """Inline the model-local functions the graph calls, in memory: each call site's convs then
    appear with their own weights (a function body's weight is usually a parameter) and shape
    inference sees through them. Returns (model, number of calls inlined, note or None)."""
    if not len(model.functions):
        return model, 0, None
    local = {(f.domain, f.name) for f in model.functions}
    calls = sum(1 for _ in _iter_called(model.graph, local))
    if not calls:
        return model, 0, None
    _check_inline_budget(model)
    try:
        import onnx.inliner

        inlined = onnx.inliner.inline_local_functions(model)
    except Exception as e:  # keep the functions: their convs are then listed once, per definition
        return model, 0, f"model-local functions could not be inlined ({' '.join(str(e).split())[:120]}); " \
                         "convs inside them are analysed once per definition"
    return inlined, calls, f"{calls} call(s) of model-local functions inlined in memory: each call's convs are listed"


def _count_nodes(graph_or_fn, local, size_of) -> int:
    """Nodes of a graph (subgraphs included) once every call of a local function is inlined."""
    total = 0
    for node in graph_or_fn.node:
        key = (node.domain, node.op_type)
        total += size_of(key) if key in local else 1
        for attr in node.attribute:
            if attr.type == onnx.AttributeProto.GRAPH:
                total += _count_nodes(attr.g, local, size_of)
            elif attr.type == onnx.AttributeProto.GRAPHS:
                total += sum(_count_nodes(g, local, size_of) for g in attr.graphs)
        if total > MAX_INLINED_NODES:
            return total
    return total


def _check_inline_budget(model: onnx.ModelProto) -> None:
    """Refuse (ModelError) model-local functions whose inlining would explode: a call cycle, a
    call chain deeper than MAX_CALL_DEPTH, or more than MAX_INLINED_NODES nodes once inlined (a
    chain of functions each calling the next twice doubles the graph at every level)."""
    funcs = {(f.domain, f.name): f for f in model.functions}
    sizes: dict = {}
    depth: dict = {}
    active: list = []

    def visit(key):
        if key in sizes:
            return sizes[key]
        if key in active:
            cycle = " → ".join(f"{k[1]}" for k in active[active.index(key):] + [key])
            raise ModelError(f"model-local functions call each other in a cycle ({cycle}); "
                             "such a model cannot be inlined or run")
        if len(active) >= MAX_CALL_DEPTH:
            raise ModelError(f"model-local function calls nest more than {MAX_CALL_DEPTH} deep; "
                             "onnxsym refuses to inline them")
        active.append(key)
        fn = funcs[key]
        callees = [(n.domain, n.op_type) for n in _all_nodes(fn) if (n.domain, n.op_type) in funcs]
        depth[key] = 1 + max((visit_depth(c) for c in callees), default=0)
        sizes[key] = min(_count_nodes(fn, funcs, visit), MAX_INLINED_NODES + 1)
        active.pop()
        return sizes[key]

    def visit_depth(key):
        visit(key)
        return depth[key]

    total = _count_nodes(model.graph, funcs, visit)
    if total > MAX_INLINED_NODES:
        raise ModelError(f"inlining the model-local functions would create more than {MAX_INLINED_NODES:,} "
                         "nodes (functions that call each other repeatedly); onnxsym refuses to inline them")


def _first_non_utf8(model: onnx.ModelProto) -> str | None:
    """Where the first string field of ``model`` holds bytes that are not UTF-8 (protobuf hands
    such a field to Python as ``bytes``, which no name may be), or None."""
    from google.protobuf.descriptor import FieldDescriptor

    string, message = FieldDescriptor.TYPE_STRING, FieldDescriptor.TYPE_MESSAGE
    stack = [(model, "model")]
    while stack:
        msg, where = stack.pop()
        for fd, value in msg.ListFields():
            repeated = fd.is_repeated if hasattr(fd, "is_repeated") else fd.label == FieldDescriptor.LABEL_REPEATED
            if fd.type == string:
                if any(isinstance(v, bytes) for v in (value if repeated else (value,))):
                    return f"{where}.{fd.name}"
            elif fd.type == message:
                if repeated:
                    stack.extend((v, f"{where}.{fd.name}[{k}]") for k, v in enumerate(value))
                else:
                    stack.append((value, f"{where}.{fd.name}"))
    return None


def _all_nodes(graph_or_fn):
    for node in graph_or_fn.node:
        yield node
        for attr in node.attribute:
            if attr.type == onnx.AttributeProto.GRAPH:
                yield from _all_nodes(attr.g)
            elif attr.type == onnx.AttributeProto.GRAPHS:
                for g in attr.graphs:
                    yield from _all_nodes(g)


def _iter_called(graph, local):
    for node in graph.node:
        if (node.domain, node.op_type) in local:
            yield node
        for attr in node.attribute:
            if attr.type == onnx.AttributeProto.GRAPH:
                yield from _iter_called(attr.g, local)
            elif attr.type == onnx.AttributeProto.GRAPHS:
                for g in attr.graphs:
                    yield from _iter_called(g, local)


def load_model(path: str | os.PathLike) -> LoadedModel:
    """Open an ONNX model file read-only; see the module docstring. Raises :class:`ModelError`."""
    given = Path(os.fspath(path))
    name = given.name or str(given)
    fd, st = open_regular(given, "model file", ModelError)
    f = os.fdopen(fd, "rb", buffering=0)
    if st.st_size == 0:
        f.close()
        raise ModelError(f"{name} is empty, not an ONNX model")
    mm = None
    ok = False
    try:
        try:
            mm = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        except (OSError, ValueError) as e:
            raise ModelError(f"cannot map model file {given}: {getattr(e, 'strerror', None) or e}") from None
        loaded = _open(f, st.st_size, mm, name=name, location=given.name,
                       path=Path(os.path.realpath(given)), base_dir=Path(os.path.abspath(given)).parent)
        ok = True
        return loaded
    finally:
        f.close()
        if not ok and mm is not None:
            try:
                mm.close()
            except BufferError:  # pragma: no cover - a view is still alive somewhere
                pass


def load_model_bytes(data: bytes, label: str = IN_MEMORY) -> LoadedModel:
    """Open a serialised ONNX model held in memory (the bytes are kept, not copied). An
    in-memory model has no folder, so it may not reference external data."""
    if not len(data):
        raise ModelError(f"{label} is empty, not an ONNX model")
    return _open(_BufferFile(data), len(data), data, name=label, location="", path=None, base_dir=None)


def _open(f, size: int, mm, *, name: str, location: str, path, base_dir) -> LoadedModel:
    """The loader's work once the bytes are reachable through ``f`` (reads) and ``mm`` (views)."""
    stripper = _Stripper(f, size, location or "__onnxsym_in_memory__", STRIP_THRESHOLD)
    try:
        stripped = stripper.strip()
    except _WireError as e:
        head = _pread(f, 256, 0)
        if all(32 <= b < 127 or b in (9, 10, 13) for b in head):
            raise ModelError(f"{name} is not an ONNX model (it looks like a text file)") from None
        raise ModelError(f"{name} is not a valid ONNX model (truncated or corrupt: {e})") from None
    except RecursionError:
        raise ModelError(f"{name} is not a valid ONNX model (messages nested too deeply)") from None
    except IndexError:  # the file shrank while it was read
        raise ModelError(f"{name} changed while it was being read") from None
    except OSError as e:
        raise ModelError(f"cannot read model file {name}: {e.strerror or e}") from None
    model = onnx.ModelProto()
    try:
        model.ParseFromString(stripped)
    except (DecodeError, RuntimeError, ValueError) as e:
        raise ModelError(f"{name} is not a valid ONNX model (protobuf parse failed: {e})") from None
    # Our own references account for n serialised "location" keys; only when the stripped
    # bytes hold more can the model reference real external data (checked eagerly below).
    # A reference without a location is caught when its tensor is read.
    may_have_external = stripped.count(b"\x0a\x08location") > len(stripper.embedded)
    del stripped
    if not model.HasField("graph"):
        raise ModelError(f"{name} is not an ONNX model (it has no graph)")
    bad_text = _first_non_utf8(model)
    if bad_text:
        raise ModelError(f"{name} is not a valid ONNX model: {bad_text} is not UTF-8 text "
                         "(ONNX names and strings must be)")
    if model.ir_version <= 0:
        raise ModelError(f"{name} is not an ONNX model (it has no IR version)")
    if model.ir_version >= 3 and not len(model.opset_import):
        raise ModelError(f"{name} is not an ONNX model (it imports no opset)")

    analysed, calls, note = _inline_local_functions(model)
    loaded = LoadedModel(
        path=path, model=analysed, file_model=model, inlined_calls=calls, notes=[note] if note else [],
        size_bytes=size, external_bytes=0, base_dir=base_dir, _mm=mm,
        _embedded=frozenset(stripper.embedded), _self_location=location or "__onnxsym_in_memory__",
        _bytes=None if path is not None else mm,
    )
    if may_have_external:
        loaded._check_external()
    return loaded
