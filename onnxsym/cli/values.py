"""The command line's own syntax for values: ``--feed NAME=FILE.npy|NUMBER``."""
from __future__ import annotations

import os

import numpy as np

from ..consistency.pipeline import MAX_BATCH_BYTES
from ..errors import InputError


def parse_feed(text: str):
    """``NAME=FILE.npy`` or ``NAME=number`` (the --feed option) -> (name, array or number)."""
    from pathlib import Path

    name, sep, value = str(text).partition("=")
    name, value = name.strip(), value.strip()
    if not sep or not name or not value:
        raise InputError(f"--feed {text!r}: expected NAME=FILE.npy or NAME=NUMBER")
    path = Path(value)
    if value.lower().endswith(".npy") or path.exists():
        from ..files import open_regular

        fd, st = open_regular(path, f"--feed {name} file")
        if st.st_size > MAX_BATCH_BYTES:
            os.close(fd)
            raise InputError(f"--feed {name}: {value} is {st.st_size / (1 << 30):.1f} GiB; a fed input may "
                             f"take at most {MAX_BATCH_BYTES >> 30} GiB")
        try:
            with os.fdopen(fd, "rb") as fh:
                arr = np.load(fh, allow_pickle=False)
        except Exception as err:  # not a .npy, pickled objects, truncated ...
            raise InputError(f"--feed {name}: cannot read {value} as a .npy array: "
                             f"{' '.join(str(err).split())}") from None
        if not isinstance(arr, np.ndarray):
            raise InputError(f"--feed {name}: {value} is not a single .npy array")
        return name, arr
    try:
        number = int(value)
    except ValueError:
        try:
            number = float(value)
        except ValueError:
            raise InputError(f"--feed {name}={value}: expected a .npy file or a number") from None
    return name, number


def parse_feeds(texts) -> dict:
    """Several ``--feed`` values -> {name: array or number}; a name given twice is an error."""
    feeds = {}
    for text in texts or ():
        name, value = parse_feed(text)
        if name in feeds:
            raise InputError(f"--feed {name}: given twice")
        feeds[name] = value
    return feeds
