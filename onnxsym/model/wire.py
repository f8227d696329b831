"""The protobuf wire format of a ModelProto, walked by hand.

The ``.onnx`` file is read through a small window (``pread``), never through a memory map, and
walked through the messages that can hold tensors (model → graph/functions/training info → nodes →
attributes → tensors/subgraphs/sparse tensors). Every large ``TensorProto.raw_data`` payload is
cut out of a *stripped* serialisation and replaced by an ordinary external-data reference to the
same file (``location`` = the file's name, ``offset`` = where the payload starts, ``length``), so
protobuf parses only the small stripped message. Hand-written because no library offers it: the
protobuf runtime parses a whole message or nothing, which for a 1 GB model means 1 GB more memory
and all of it read (bench/RESULTS.md: 0.22-0.54x the peak of ``onnx.load``).
"""
from __future__ import annotations

import os

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


class WireError(Exception):
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


class BufferFile:
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


def pread(f, n: int, offset: int) -> bytes:
    if isinstance(f, BufferFile):
        return bytes(f.data[offset:offset + n])
    if hasattr(os, "pread"):
        return os.pread(f.fileno(), n, offset)
    f.seek(offset)  # pragma: no cover - Windows
    return f.read(n)


class Stripper:
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
        self.win = pread(self.f, self._WINDOW, pos)
        self.ws = pos

    def _varint(self, pos: int, end: int) -> tuple[int, int]:
        if pos >= end:
            raise WireError(f"truncated varint at byte {pos}")
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
                raise WireError(f"truncated varint at byte {pos}")
            b = win[i]
            pos += 1
            i += 1
            result |= (b & 0x7F) << shift
            if b < 0x80:
                return result, pos
            shift += 7
            if shift >= 70:
                raise WireError(f"malformed varint at byte {pos}")

    def rewrite(self, kind: int, start: int, end: int, depth: int = 0):
        """Walk one message; return None when it is unchanged, else (pieces, new_length).

        Pieces are ``(offset, length)`` ranges of the file or ``bytes`` to insert."""
        if depth > _MAX_DEPTH:
            raise WireError("messages nested too deeply")
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
                raise WireError(f"invalid field number 0 at byte {fstart}")
            if wt == 2:
                ln, pos = varint(pos, end)
                pstart = pos
                pos += ln
                if pos > end:
                    raise WireError(f"field length runs past the end of its message at byte {fstart}")
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
                raise WireError(f"unsupported wire type {wt} at byte {fstart}")
            if pos > end:
                raise WireError(f"field runs past the end of its message at byte {fstart}")

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
                    raise WireError("the file changed while it was read")
                pos += n
            else:
                view[pos:pos + len(p)] = p
                pos += len(p)
        view.release()
        return out
