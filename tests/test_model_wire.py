"""onnxsym.model.wire: the protobuf wire format walked by hand — every large raw_data payload cut
out of the stripped serialisation and replaced by an external-data reference to its own offset in
the file; damaged input is a WireError."""
from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from onnxsym.model.wire import BufferFile, Stripper, WireError, pread


def _model():
    big = numpy_helper.from_array(np.arange(600, dtype=np.float32), "big")          # 2400 bytes
    small = numpy_helper.from_array(np.arange(4, dtype=np.float32), "small")
    const = helper.make_node("Constant", [], ["c"], value=numpy_helper.from_array(np.ones(500, np.float32) * 3, "cv"))
    g = helper.make_graph([const, helper.make_node("Add", ["big", "c"], ["y"])], "g", [],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], [big, small])
    return helper.make_model(g)


def _strip(data, threshold=1024, location="model.onnx"):
    s = Stripper(BufferFile(data), len(data), location, threshold)
    return s, bytes(s.strip())


def test_large_payloads_become_references_to_their_own_bytes():
    data = _model().SerializeToString()
    s, out = _strip(data)
    m = onnx.ModelProto.FromString(out)
    big, small = m.graph.initializer
    cv = m.graph.node[0].attribute[0].t
    refs = {}
    for t, values in ((big, np.arange(600, dtype=np.float32)), (cv, np.ones(500, np.float32) * 3)):
        entries = {e.key: e.value for e in t.external_data}
        assert t.data_location == TensorProto.EXTERNAL and not t.raw_data and entries["location"] == "model.onnx"
        off, n = int(entries["offset"]), int(entries["length"])
        assert n == values.nbytes and data[off:off + n] == values.tobytes()       # the payload, in place
        refs[(off, n)] = t.name
    assert small.raw_data == np.arange(4, dtype=np.float32).tobytes() and not small.external_data
    assert s.embedded == set(refs) and s.stripped_bytes == 2400 + 2000
    assert len(out) < len(data) - 4000


def test_nothing_large_is_left_as_it_is():
    data = _model().SerializeToString()
    s, out = _strip(data, threshold=1 << 20)
    assert out == data and s.embedded == set() and s.stripped_bytes == 0


def test_a_tensor_already_external_is_not_touched():
    m = _model()
    t = m.graph.initializer[0]
    t.data_location = TensorProto.EXTERNAL
    e = t.external_data.add()
    e.key, e.value = "location", "weights.bin"
    s, out = _strip(m.SerializeToString())
    big = onnx.ModelProto.FromString(out).graph.initializer[0]
    assert {x.key: x.value for x in big.external_data} == {"location": "weights.bin"} and big.raw_data
    assert s.stripped_bytes == 2000                                               # only the Constant's


@pytest.mark.parametrize("blob,match", [
    (b"\x3a\x10abc", "runs past the end"), (b"\x00\x01", "invalid field number 0"),
    (b"\x0b\x0c", "unsupported wire type 3"), (b"\x08\x80", "truncated varint"),
    (b"\x08" + b"\xff" * 11, "malformed varint"),
])
def test_damaged_messages_are_wire_errors(blob, match):
    with pytest.raises(WireError, match=match):
        _strip(blob)


def test_pread_and_buffer_file(tmp_path):
    buf = BufferFile(b"abcdef")
    assert pread(buf, 3, 2) == b"cde" and pread(buf, 10, 4) == b"ef"
    view = bytearray(4)
    buf.seek(3)
    assert buf.readinto(memoryview(view)) == 3 and bytes(view[:3]) == b"def"
    (tmp_path / "f").write_bytes(b"0123456789")
    with open(tmp_path / "f", "rb") as fh:
        assert pread(fh, 4, 5) == b"5678"
