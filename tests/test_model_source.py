"""onnxsym.model.source: the one way into the library for a model — a path, bytes, an
onnx.ModelProto or a LoadedModel."""
from __future__ import annotations

import pytest

from graphs import conv_model, init, save, weight
from onnxsym.errors import InputError, ModelError
from onnxsym.model.loading import IN_MEMORY, LoadedModel
from onnxsym.model.source import ACCEPTED, open_model


def test_every_accepted_kind_opens_to_the_same_graph(tmp_path):
    m = conv_model("w", inits=[init("w", weight())])
    path = save(m, tmp_path / "m.onnx")
    data = m.SerializeToString()
    opened = [open_model(x) for x in (path, str(path), data, bytearray(data), memoryview(data), m)]
    assert all(isinstance(o, LoadedModel) for o in opened)
    assert [o.path for o in opened] == [path.resolve()] * 2 + [None] * 4
    assert {o.label for o in opened[2:]} == {IN_MEMORY}
    assert len({o.model.graph.SerializeToString() for o in opened}) == 1          # a small weight stays inline
    for o in opened:
        assert (o.array(o.model.graph.initializer[0]) == weight()).all()
    assert open_model(opened[0]) is opened[0]                                     # a LoadedModel as it is


def test_anything_else_is_refused(tmp_path):
    with pytest.raises(InputError, match=f"expected a model \\({ACCEPTED}\\), got int"):
        open_model(42)
    with pytest.raises(ModelError, match="not found"):
        open_model(tmp_path / "missing.onnx")
    with pytest.raises(ModelError):
        open_model(b"\x00\x01 not a model")
