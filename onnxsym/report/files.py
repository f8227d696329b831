"""Writing outputs: atomically (temp file in the same folder, then rename), never half a file."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

from ..errors import InputError


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def check_writable(path) -> Path:
    """Fail early (exit 2) when ``path`` cannot be written: no such folder, a directory, no access."""
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        raise InputError(f"cannot write {path}: it is a directory")
    if not folder.is_dir():
        raise InputError(f"cannot write {path}: folder {folder} does not exist")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise InputError(f"cannot write {path}: folder {folder} is not writable")
    return path


def write_atomic(path, data) -> Path:
    """Write ``data`` (str or bytes) to ``path`` atomically and return the path.

    The text goes to a temporary file beside the target, is flushed to disk, then renamed over
    the target, so a reader never sees a partial report and a failure leaves no file behind.
    """
    path = check_writable(path)
    folder = path.parent if str(path.parent) else Path(".")
    # a path with undecodable bytes (surrogates) must not stop the report: replace them
    payload = data.encode("utf-8", errors="replace") if isinstance(data, str) else data
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    except OSError as err:
        raise InputError(f"cannot write {path}: {err.strerror or err}") from None
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(payload)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; a report is an ordinary file
        os.replace(tmp, path)
    except BaseException as err:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(err, OSError):  # disk full, file system gone: bad output path, not a bug
            raise InputError(f"cannot write {path}: {err.strerror or err}") from None
        raise
    return path
