"""Open an ONNX model safely and cheaply: the single way onnxsym reads a model file.

How it works
------------
The ``.onnx`` file is memory-mapped (read-only) and its protobuf wire format walked by hand
(:mod:`.wire`): every large ``TensorProto.raw_data`` payload stays in the file, replaced in a
*stripped* copy of the message by an external-data reference to the file itself. Only that small
copy is parsed by protobuf, so loading a model with embedded weights costs little more memory than
its graph, and :meth:`LoadedModel.array` serves the weights as read-only NumPy views over the
mapping (:mod:`.tensors` decodes the element types). Model-local functions are inlined in memory
within a budget (:mod:`.functions`).

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
from .functions import MAX_CALL_DEPTH, MAX_INLINED_NODES, inline_local_functions
from .tensors import (_ML_PLAIN, _PACKED, _PLAIN, _SIX_BIT, _TP, _ml, _type_name, gib, iter_tensors, readonly,
                      type_name, unpack_6bit, unpack_bits)
from .wire import BufferFile, Stripper, WireError, pread

__all__ = ["LoadedModel", "load_model", "load_model_bytes", "iter_tensors", "type_name", "IN_MEMORY",
           "STRIP_THRESHOLD", "TensorTooLarge", "MAX_DENSE_BYTES", "MAX_INLINED_NODES", "MAX_CALL_DEPTH"]

IN_MEMORY = "<in-memory model>"   # what messages and reports call a model given as bytes
#: ``raw_data`` payloads at least this large are left in the file and served from the mapping.
STRIP_THRESHOLD = 1024
#: a sparse tensor is densified only when its dense form takes at most this many bytes
MAX_DENSE_BYTES = 1 << 30
#: tensors of more dimensions than this are refused (numpy holds at most 64)
MAX_RANK = 32
#: ``external_data`` keys onnxruntime accepts (it refuses a model with any other key)
EXTERNAL_KEYS = ("location", "offset", "length", "checksum")


class TensorTooLarge(ModelError):
    """A tensor whose values would take more memory than onnxsym allows itself (a sparse tensor
    declaring a huge dense shape): the caller treats the value as unavailable, with this reason."""


DataOrigin = Literal["embedded", "external", "inline"]


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
                return readonly(raw.view(dtype).reshape(dims))
            if dt in _PACKED:
                return readonly(self._finish_packed(dt, unpack_bits(raw, _PACKED[dt][0], count), dims))
            return readonly(unpack_6bit(raw, count).view(_ml(_SIX_BIT[dt])).reshape(dims))

        if tensor.data_location == _TP.EXTERNAL:  # pragma: no cover - handled in _raw_view
            raise self._fail(tensor, "external data could not be read")
        return readonly(self._typed(tensor, dt, dtype, dims, count))

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
            return self._finish_packed(dt, unpack_bits(packed, bits, count), dims)
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
            raise TensorTooLarge(f"{where} declares a dense shape {list(dims)} of {gib(dense_bytes)} "
                                 f"({nnz} stored values); onnxsym densifies at most {gib(max_bytes)}")
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
        return readonly(dense.reshape(dims))

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
    return _open(BufferFile(data), len(data), data, name=label, location="", path=None, base_dir=None)


def _open(f, size: int, mm, *, name: str, location: str, path, base_dir) -> LoadedModel:
    """The loader's work once the bytes are reachable through ``f`` (reads) and ``mm`` (views)."""
    stripper = Stripper(f, size, location or "__onnxsym_in_memory__", STRIP_THRESHOLD)
    try:
        stripped = stripper.strip()
    except WireError as e:
        head = pread(f, 256, 0)
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

    analysed, calls, note = inline_local_functions(model)
    loaded = LoadedModel(
        path=path, model=analysed, file_model=model, inlined_calls=calls, notes=[note] if note else [],
        size_bytes=size, external_bytes=0, base_dir=base_dir, _mm=mm,
        _embedded=frozenset(stripper.embedded), _self_location=location or "__onnxsym_in_memory__",
        _bytes=None if path is not None else mm,
    )
    if may_have_external:
        loaded._check_external()
    return loaded
