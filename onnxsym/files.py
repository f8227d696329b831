"""The user's files: read only regular files, within caps; write outputs without touching an input.

Reading
-------
Every file onnxsym reads (model, external data, reports, config, images, feeds) is opened with
``O_NONBLOCK`` and checked with ``fstat`` before a byte is read: a FIFO, a device or a socket is
refused, so nothing can hang on it or stream forever (``/dev/zero``). JSON and TOML documents are
read whole but at most :data:`MAX_DOCUMENT_BYTES`, and refused when nested deeper than
:data:`MAX_DOCUMENT_DEPTH` (parsers recurse; a document 10 000 levels deep is an attack, not a
report).

Writing
-------
:func:`write_output` writes a report:

* ``-`` is stdout;
* a character device, FIFO or socket (``/dev/null``, a pipe) is opened and written in place, never
  renamed over — replacing ``/dev/null`` with a regular file (as root) breaks every later program;
  a FIFO without a reader is refused instead of waited on;
* a regular file or a new path is replaced atomically: a temporary file in the same folder, fsync,
  rename; an existing file keeps its permission bits;
* a symlink is written through: its target is replaced atomically and the link stays a link; a
  symlink whose target does not exist is refused.

:class:`Inputs` records the identity (device, inode) of every file a command reads; before any
work, :meth:`Inputs.check_output` refuses an output path that is one of them, however it is
spelt (``dir/../model.onnx``, a symlink, a hard link).
"""
from __future__ import annotations

import errno
import json
import os
import stat
import sys
import tempfile
from pathlib import Path

from .errors import InputError

MAX_DOCUMENT_BYTES = 64 << 20   # JSON reports, baselines and TOML configs
MAX_DOCUMENT_DEPTH = 64         # nesting of lists/objects; onnxsym's own documents need about 10

_KINDS = ((stat.S_ISFIFO, "FIFO"), (stat.S_ISCHR, "character device"), (stat.S_ISBLK, "block device"),
          (stat.S_ISSOCK, "socket"), (stat.S_ISDIR, "directory"))


def kind_of(mode: int) -> str:
    """``regular file``, ``FIFO``, ``character device`` … for an ``st_mode``."""
    if stat.S_ISREG(mode):
        return "regular file"
    for test, name in _KINDS:
        if test(mode):
            return name
    return "special file"


def _reason(err: OSError) -> str:
    return err.strerror or str(err)


# ---------------------------------------------------------------------------------------- reading
def open_regular(path, what: str, error=InputError) -> tuple[int, os.stat_result]:
    """Open ``path`` read-only and return ``(fd, stat)``; refuse anything but a regular file.

    ``O_NONBLOCK`` makes opening a FIFO return at once instead of waiting for a writer; the
    ``fstat`` of the open descriptor (not of the name) decides, so the file cannot be swapped
    between the check and the read. ``what`` names the file in messages ("model file",
    "--baseline"); ``error`` is the exception class raised.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOCTTY", 0)
    try:
        fd = os.open(os.fspath(path), flags)
    except FileNotFoundError:
        raise error(f"{what} not found: {path}") from None
    except IsADirectoryError:
        raise error(f"{what} {path} is a directory, not a file") from None
    except OSError as err:
        if err.errno == errno.ENXIO:  # a socket or a device without a driver
            raise error(f"{what} {path} is not a regular file; onnxsym reads only regular files") from None
        raise error(f"cannot open {what} {path}: {_reason(err)}") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            kind = kind_of(st.st_mode)
            if kind == "directory":
                raise error(f"{what} {path} is a directory, not a file")
            raise error(f"{what} {path} is a {kind}, not a regular file; onnxsym reads only regular files")
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return fd, st


def check_regular(path, what: str, error=InputError) -> os.stat_result:
    """The ``stat`` of ``path`` after :func:`open_regular` accepted it (the file is not kept open)."""
    fd, st = open_regular(path, what, error)
    os.close(fd)
    return st


def read_capped(path, what: str, limit: int = MAX_DOCUMENT_BYTES, error=InputError) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes."""
    fd, st = open_regular(path, what, error)
    try:
        if st.st_size > limit:
            raise error(f"{what} {path} is {_size(st.st_size)}; onnxsym reads documents of at most "
                        f"{_size(limit)}")
        chunks, total = [], 0
        while True:
            chunk = os.read(fd, min(1 << 20, limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
            if total > limit:  # it grew while being read
                raise error(f"{what} {path} is larger than {_size(limit)}; onnxsym reads documents of at "
                            f"most {_size(limit)}")
        return b"".join(chunks)
    except OSError as err:
        raise error(f"cannot read {what} {path}: {_reason(err)}") from None
    finally:
        os.close(fd)


def _size(n: int) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB"):
        if n < 1024 or unit == "TiB":
            return f"{n} bytes" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TiB"  # pragma: no cover


def nesting_depth(obj, cap: int = MAX_DOCUMENT_DEPTH) -> int:
    """Depth of nested lists/dicts in ``obj`` (1 for a scalar), counted up to ``cap + 1``."""
    deepest = 0
    stack = [(obj, 1)]
    while stack:
        item, depth = stack.pop()
        deepest = max(deepest, depth)
        if depth > cap:
            return depth
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)
    return deepest


def _text(data: bytes, what: str, path) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise InputError(f"{what} {path}: not UTF-8 text (byte {err.start})") from None


def _check_depth(doc, what: str, path):
    if nesting_depth(doc) > MAX_DOCUMENT_DEPTH:
        raise InputError(f"{what} {path}: nested more than {MAX_DOCUMENT_DEPTH} levels deep; "
                         "not an onnxsym document")


def load_json(path, what: str = "JSON file"):
    """Parse a JSON document (regular file, size- and depth-capped). Raises InputError."""
    text = _text(read_capped(path, what), what, path)
    try:
        doc = json.loads(text)
    except RecursionError:
        raise InputError(f"{what} {path}: nested too deeply; not an onnxsym document") from None
    except ValueError as err:
        raise InputError(f"{what} {path}: not valid JSON ({' '.join(str(err).split())[:120]})") from None
    _check_depth(doc, what, path)
    return doc


def load_toml(path, what: str = "config") -> dict:
    """Parse a TOML document (regular file, size- and depth-capped). Raises InputError."""
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib

    text = _text(read_capped(path, what), what, path)
    try:
        doc = tomllib.loads(text)
    except RecursionError:
        raise InputError(f"{what} {path}: nested too deeply") from None
    except tomllib.TOMLDecodeError as err:
        raise InputError(f"cannot read {what} {path}: {' '.join(str(err).split())[:160]}") from None
    _check_depth(doc, what, path)
    return doc


# ---------------------------------------------------------------------------------------- inputs
class Inputs:
    """The files a command reads, by identity, so that no output can overwrite one of them."""

    def __init__(self):
        self._ids: dict[tuple[int, int], str] = {}

    def add(self, path, what: str) -> None:
        """Record ``path`` (followed through symlinks); a path that does not exist is skipped
        (reading it will fail with its own message)."""
        try:
            st = os.stat(os.fspath(path))
        except (OSError, ValueError):
            return
        self.add_stat(st, f"{what} {path}")

    def add_stat(self, st: os.stat_result, label: str) -> None:
        if stat.S_ISREG(st.st_mode):
            self._ids.setdefault((st.st_dev, st.st_ino), label)

    def __len__(self):
        return len(self._ids)

    def check_output(self, path, flag: str) -> None:
        """Refuse (InputError, exit 2) an output ``path`` that is one of the inputs."""
        if path is None or os.fspath(path) == "-":
            return
        try:
            st = os.stat(os.fspath(path))
        except (OSError, ValueError):
            return  # a new file cannot be an input; a bad path fails when written
        label = self._ids.get((st.st_dev, st.st_ino))
        if label is not None:
            raise InputError(f"{flag} {path} is the {label}: onnxsym never writes its inputs; choose "
                             "another output path")


def check_distinct_outputs(outputs: dict) -> None:
    """Refuse two output flags naming the same regular file (or the same new path)."""
    seen: dict = {}
    for flag, path in outputs.items():
        if not path or os.fspath(path) == "-":
            continue
        try:
            st = os.stat(os.fspath(path))
            if not stat.S_ISREG(st.st_mode):
                continue  # /dev/null twice is harmless
            key = ("id", st.st_dev, st.st_ino)
        except (OSError, ValueError):
            key = ("path", os.path.realpath(os.fspath(path)))
        if key in seen:
            raise InputError(f"{seen[key]} and {flag} name the same file ({path}): give each its own path")
        seen[key] = flag


# ---------------------------------------------------------------------------------------- writing
def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _target(path) -> tuple[str, os.stat_result | None]:
    """(the path to write, its stat or None): a symlink is followed to its (existing) target."""
    p = os.fspath(path)
    try:
        lst = os.lstat(p)
    except FileNotFoundError:
        return p, None
    except OSError as err:
        raise InputError(f"cannot write {path}: {_reason(err)}") from None
    if stat.S_ISLNK(lst.st_mode):
        real = os.path.realpath(p)
        try:
            return real, os.stat(real)
        except FileNotFoundError:
            raise InputError(f"cannot write {path}: it is a symlink to {real}, which does not exist") from None
        except OSError as err:
            raise InputError(f"cannot write {path}: {_reason(err)}") from None
    return p, lst


def check_writable(path) -> None:
    """Fail early (exit 2) when ``path`` cannot be written: no such folder, a directory, no access."""
    if path is None or os.fspath(path) == "-":
        return
    target, st = _target(path)
    if st is not None and stat.S_ISDIR(st.st_mode):
        raise InputError(f"cannot write {path}: it is a directory")
    if st is not None and not stat.S_ISREG(st.st_mode):
        if not os.access(target, os.W_OK):
            raise InputError(f"cannot write {path}: permission denied")
        return
    folder = os.path.dirname(target) or "."
    if not os.path.isdir(folder):
        raise InputError(f"cannot write {path}: folder {folder} does not exist")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise InputError(f"cannot write {path}: folder {folder} is not writable")


def _write_in_place(target: str, payload: bytes, st: os.stat_result, shown) -> None:
    flags = os.O_WRONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(target, flags)
    except OSError as err:
        if err.errno == errno.ENXIO:
            what = "a FIFO with no reader" if stat.S_ISFIFO(st.st_mode) else f"a {kind_of(st.st_mode)}"
            raise InputError(f"cannot write {shown}: it is {what}") from None
        raise InputError(f"cannot write {shown}: {_reason(err)}") from None
    try:
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)  # a reader that is slow must not turn into EAGAIN
        view = memoryview(payload)
        while view:
            n = os.write(fd, view)
            view = view[n:]
    except OSError as err:
        raise InputError(f"cannot write {shown}: {_reason(err)}") from None
    finally:
        os.close(fd)


def _write_atomic(target: str, payload: bytes, old: os.stat_result | None, shown) -> None:
    folder = os.path.dirname(target) or "."
    name = os.path.basename(target)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=folder)
    except OSError as err:
        raise InputError(f"cannot write {shown}: {_reason(err)}") from None
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(payload)
            fh.flush()
            os.fsync(fh.fileno())
        mode = stat.S_IMODE(old.st_mode) if old is not None else 0o666 & ~_umask()
        os.chmod(tmp, mode)  # mkstemp makes 0600; a report is an ordinary file
        os.replace(tmp, target)
    except BaseException as err:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(err, OSError):  # disk full, file system gone: bad output path, not a bug
            raise InputError(f"cannot write {shown}: {_reason(err)}") from None
        raise


def write_output(path, data) -> str:
    """Write ``data`` (str or bytes) to ``path`` by the rules of the module docstring; returns what
    was written to (``"stdout"`` or the path as given)."""
    payload = data.encode("utf-8", errors="replace") if isinstance(data, str) else bytes(data)
    if os.fspath(path) == "-":
        out = sys.stdout.buffer if hasattr(sys.stdout, "buffer") else None
        if out is None:  # pragma: no cover - a text-only stdout (some embedders)
            sys.stdout.write(payload.decode("utf-8", "replace"))
        else:
            out.write(payload)
        sys.stdout.flush()
        return "stdout"
    target, st = _target(path)
    if st is not None and stat.S_ISDIR(st.st_mode):
        raise InputError(f"cannot write {path}: it is a directory")
    if st is not None and not stat.S_ISREG(st.st_mode):
        _write_in_place(target, payload, st, path)
    else:
        _write_atomic(target, payload, st, path)
    return os.fspath(path)


def write_atomic(path, data) -> Path:
    """Compatibility name of :func:`write_output` for a file path."""
    write_output(path, data)
    return Path(path)
