"""onnxsym.cli.values: values given on the command line (``--feed NAME=FILE.npy|NUMBER``)."""
from __future__ import annotations

import numpy as np
import pytest

from onnxsym.errors import InputError


def test_parse_feed(tmp_path):
    from onnxsym.cli.values import parse_feed

    assert parse_feed("t=3") == ("t", 3) and parse_feed("t = -1.5e-2") == ("t", -0.015)
    np.save(tmp_path / "a.npy", np.arange(3))
    name, arr = parse_feed(f"a={tmp_path / 'a.npy'}")
    assert name == "a" and list(arr) == [0, 1, 2]
    for bad in ("t", "=3", "t=", "t=x.npz"):
        with pytest.raises(InputError):
            parse_feed(bad)
