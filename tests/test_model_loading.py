"""onnxsym.model.loading: the safe, low-memory model loader.

``onnx.load`` + ``onnx.numpy_helper.to_array`` are the independent reference throughout.
"""
from __future__ import annotations

import hashlib
import json
import mmap
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto as TP
from onnx import helper, numpy_helper

from onnxsym.errors import ModelError
from onnxsym.model.loading import STRIP_THRESHOLD, LoadedModel, iter_tensors, load_model

ROOT = Path(__file__).resolve().parents[1]


# ----------------------------------------------------------------------------------------------
# helpers
# ----------------------------------------------------------------------------------------------
def make_model(nodes=(), inits=(), *, sparse_inits=(), functions=(), inputs=None, outputs=None,
               opset=17, ir_version=None):
    inputs = inputs if inputs is not None else [helper.make_tensor_value_info("x", TP.FLOAT, [1, 3, 8, 8])]
    outputs = outputs if outputs is not None else [helper.make_tensor_value_info("y", TP.FLOAT, [1, 16, 6, 6])]
    graph = helper.make_graph(list(nodes), "main", inputs, outputs, list(inits),
                              sparse_initializer=list(sparse_inits))
    opsets = [helper.make_opsetid("", opset)]
    if functions:
        opsets.append(helper.make_opsetid("local", 1))
    model = helper.make_model(graph, opset_imports=opsets, functions=list(functions))
    if ir_version is not None:
        model.ir_version = ir_version
    return model


def save(model, path: Path, **kw) -> Path:
    onnx.save(model, str(path), **kw)
    return path


def same(a: np.ndarray, b: np.ndarray) -> bool:
    """Bitwise equality with equal dtype and shape (NaN-safe)."""
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


def drop_data(model: onnx.ModelProto) -> onnx.ModelProto:
    m = onnx.ModelProto()
    m.CopyFrom(model)
    for t, _ in iter_tensors(m):
        t.ClearField("raw_data")
        del t.external_data[:]
        t.ClearField("data_location")
    return m


def mmap_backed(a: np.ndarray) -> bool:
    base = a
    while base is not None:
        if isinstance(base, mmap.mmap):
            return True
        if isinstance(base, memoryview):
            return isinstance(base.obj, mmap.mmap)
        base = getattr(base, "base", None)
    return False


def conv_weight(c_out, c_in, k=3, seed=0):
    return np.random.default_rng(seed).standard_normal((c_out, c_in, k, k)).astype(np.float32)


# ----------------------------------------------------------------------------------------------
# dtypes
# ----------------------------------------------------------------------------------------------
RNG = np.random.default_rng(1234)

# (data type, values as the dtype numpy_helper / ml_dtypes uses)
def _values(dt: int, n: int) -> np.ndarray:
    npdt = helper.tensor_dtype_to_np_dtype(dt)
    if dt == TP.BOOL:
        return RNG.integers(0, 2, n).astype(bool)
    if dt in (TP.COMPLEX64, TP.COMPLEX128):
        return (RNG.standard_normal(n) + 1j * RNG.standard_normal(n)).astype(npdt)
    if np.dtype(npdt).kind in "iu" and np.dtype(npdt).itemsize >= 1 and dt not in (
            TP.INT4, TP.UINT4, TP.INT2, TP.UINT2):
        info = np.iinfo(npdt)
        return RNG.integers(info.min, info.max, n, endpoint=True, dtype=npdt)
    if dt in (TP.INT4, TP.INT2):
        lo, hi = (-8, 7) if dt == TP.INT4 else (-2, 1)
        return RNG.integers(lo, hi, n, endpoint=True).astype(npdt)
    if dt in (TP.UINT4, TP.UINT2):
        hi = 15 if dt == TP.UINT4 else 3
        return RNG.integers(0, hi, n, endpoint=True).astype(npdt)
    if dt == TP.FLOAT8E8M0:
        return (2.0 ** RNG.integers(-20, 20, n)).astype(npdt)
    return (RNG.standard_normal(n) * 3).astype(npdt)


BYTE_TYPES = [TP.FLOAT, TP.DOUBLE, TP.FLOAT16, TP.BFLOAT16, TP.FLOAT8E4M3FN, TP.FLOAT8E4M3FNUZ,
              TP.FLOAT8E5M2, TP.FLOAT8E5M2FNUZ, TP.FLOAT8E8M0, TP.INT8, TP.UINT8, TP.INT16,
              TP.UINT16, TP.INT32, TP.INT64, TP.UINT32, TP.UINT64, TP.BOOL, TP.COMPLEX64,
              TP.COMPLEX128]
PACKED_TYPES = [TP.INT4, TP.UINT4, TP.INT2, TP.UINT2, TP.FLOAT4E2M1, TP.FLOAT6E2M3, TP.FLOAT6E3M2]
ALL_TYPES = BYTE_TYPES + PACKED_TYPES


def _dtype_tensors():
    """Each type three ways: large raw (embedded), small raw (inline), typed fields (inline)."""
    tensors = []
    for dt in ALL_TYPES:
        name = TP.DataType.Name(dt)
        big = _values(dt, 4099).reshape(1, 4099)  # odd count exercises packing padding
        small = _values(dt, 5)
        tensors.append(helper.make_tensor(f"{name}_big", dt, big.shape, big, raw=True)
                       if dt in PACKED_TYPES else numpy_helper.from_array(big, f"{name}_big"))
        tensors.append(helper.make_tensor(f"{name}_small", dt, small.shape, small, raw=True)
                       if dt in PACKED_TYPES else numpy_helper.from_array(small, f"{name}_small"))
        tensors.append(helper.make_tensor(f"{name}_typed", dt, small.shape, small, raw=False))
    return tensors


@pytest.fixture(scope="module")
def dtype_model(tmp_path_factory):
    path = tmp_path_factory.mktemp("dtypes") / "dtypes.onnx"
    save(make_model(inits=_dtype_tensors()), path)
    return path


def test_every_dtype_matches_numpy_helper(dtype_model):
    loaded = load_model(dtype_model)
    ref = onnx.load(str(dtype_model))
    assert len(loaded.model.graph.initializer) == len(ref.graph.initializer) == 3 * len(ALL_TYPES)
    for ours, theirs in zip(loaded.model.graph.initializer, ref.graph.initializer):
        assert ours.name == theirs.name
        a = loaded.array(ours)
        b = numpy_helper.to_array(theirs)
        assert not a.flags.writeable, ours.name
        if ours.data_type in (TP.INT4, TP.INT2):
            assert a.dtype == np.int8 and same(a, b.astype(np.int8)), ours.name
        elif ours.data_type in (TP.UINT4, TP.UINT2):
            assert a.dtype == np.uint8 and same(a, b.astype(np.uint8)), ours.name
        else:
            assert a.dtype == b.dtype, ours.name
            assert a.shape == b.shape and a.tobytes() == b.tobytes(), ours.name


def test_data_origin_by_size_and_storage(dtype_model):
    loaded = load_model(dtype_model)
    for t in loaded.model.graph.initializer:
        expected = "embedded" if t.name.endswith("_big") else "inline"
        assert loaded.data_origin(t) == expected, t.name
        assert loaded.is_in_file(t)
        if expected == "embedded":
            assert not t.HasField("raw_data")
            if t.data_type in BYTE_TYPES:
                assert mmap_backed(loaded.array(t)), t.name


def _explicit_unpack(raw: bytes, bits: int, count: int, signed: bool) -> list[int]:
    out = []
    for byte in raw:
        for k in range(8 // bits):
            v = (byte >> (bits * k)) & ((1 << bits) - 1)
            if signed and v >= 1 << (bits - 1):
                v -= 1 << bits
            out.append(v)
    return out[:count]


@pytest.mark.parametrize("dt,bits,signed", [(TP.INT4, 4, True), (TP.UINT4, 4, False),
                                            (TP.INT2, 2, True), (TP.UINT2, 2, False)])
def test_subbyte_ints_against_explicit_unpacking(tmp_path, dt, bits, signed):
    big = _values(dt, 5001)  # odd count: last byte partly used
    small = _values(dt, 7)
    t_big = helper.make_tensor("big", dt, [5001], big, raw=True)
    t_typed = helper.make_tensor("typed", dt, [7], small, raw=False)
    path = save(make_model(inits=[t_big, t_typed]), tmp_path / "m.onnx")
    loaded = load_model(path)
    big_ours, typed_ours = loaded.model.graph.initializer
    assert loaded.data_origin(big_ours) == "embedded"
    expected = _explicit_unpack(t_big.raw_data, bits, 5001, signed)
    assert loaded.array(big_ours).tolist() == expected == big.astype(np.int64).tolist()
    packed = bytes(v & 0xFF for v in t_typed.int32_data)
    assert loaded.array(typed_ours).tolist() == _explicit_unpack(packed, bits, 7, signed) \
        == small.astype(np.int64).tolist()


def test_strip_threshold_boundary(tmp_path):
    at = numpy_helper.from_array(np.arange(STRIP_THRESHOLD, dtype=np.uint8), "at")
    below = numpy_helper.from_array(np.arange(STRIP_THRESHOLD - 1, dtype=np.uint8), "below")
    loaded = load_model(save(make_model(inits=[at, below]), tmp_path / "m.onnx"))
    t_at, t_below = loaded.model.graph.initializer
    assert loaded.data_origin(t_at) == "embedded" and loaded.data_origin(t_below) == "inline"
    assert same(loaded.array(t_at), np.arange(STRIP_THRESHOLD, dtype=np.uint8))
    assert same(loaded.array(t_below), np.arange(STRIP_THRESHOLD - 1, dtype=np.uint8))


def test_string_segment_and_bad_sizes_are_model_errors(tmp_path):
    s = helper.make_tensor("s", TP.STRING, [2], [b"a", b"b"])
    seg = numpy_helper.from_array(np.ones(4, np.float32), "seg")
    seg.segment.begin = 0
    seg.segment.end = 4
    short = numpy_helper.from_array(np.ones(600, np.float32), "short")
    short.dims[0] = 601  # raw data too small for the shape
    typed = helper.make_tensor("typed", TP.FLOAT, [3], [1.0, 2.0, 3.0])
    typed.dims[0] = 4
    loaded = load_model(save(make_model(inits=[s, seg, short, typed]), tmp_path / "m.onnx"))
    ts = {t.name: t for t in loaded.model.graph.initializer}
    with pytest.raises(ModelError, match="string"):
        loaded.array(ts["s"])
    with pytest.raises(ModelError, match="segment"):
        loaded.array(ts["seg"])
    with pytest.raises(ModelError, match=r"'short'.*2400 bytes.*expected 2404"):
        loaded.array(ts["short"])
    with pytest.raises(ModelError, match=r"'typed'.*3 values"):
        loaded.array(ts["typed"])


# ----------------------------------------------------------------------------------------------
# tensors everywhere: Constant nodes, subgraphs, functions, sparse
# ----------------------------------------------------------------------------------------------
def _nested_model():
    w_main = conv_weight(16, 3, seed=1)
    w_then = conv_weight(16, 3, seed=2)
    w_else = conv_weight(16, 3, seed=3)
    c_big = conv_weight(4, 16, seed=4)
    f_big = conv_weight(8, 5, seed=5)
    sparse_vals = np.arange(1, 401, dtype=np.float32)
    sp_attr = helper.make_sparse_tensor(
        numpy_helper.from_array(sparse_vals, "spv"),
        numpy_helper.from_array(np.arange(0, 800, 2, dtype=np.int64), "spi"), [1000])

    then_g = helper.make_graph(
        [helper.make_node("Conv", ["x", "w_then"], ["t"], name="then_conv")], "then_branch", [],
        [helper.make_tensor_value_info("t", TP.FLOAT, [1, 16, 6, 6])],
        [numpy_helper.from_array(w_then, "w_then")])
    else_g = helper.make_graph(
        [helper.make_node("Constant", [], ["w_else_c"], value=numpy_helper.from_array(w_else, "w_else")),
         helper.make_node("Conv", ["x", "w_else_c"], ["e"], name="else_conv")], "else_branch", [],
        [helper.make_tensor_value_info("e", TP.FLOAT, [1, 16, 6, 6])])
    func = helper.make_function(
        "local", "BigConst", ["a"], ["b"],
        [helper.make_node("Constant", [], ["k"], value=numpy_helper.from_array(f_big, "f_big")),
         helper.make_node("Conv", ["a", "k"], ["b"])],
        [helper.make_opsetid("", 17)])
    nodes = [
        helper.make_node("Conv", ["x", "w_main"], ["c"], name="conv0", pads=[1, 1, 1, 1]),
        helper.make_node("Constant", [], ["cb"], name="const_big", value=numpy_helper.from_array(c_big, "c_big")),
        helper.make_node("Constant", [], ["cs"], name="const_small", value_floats=[1.0, 2.0]),
        helper.make_node("Constant", [], ["csp"], name="const_sparse", sparse_value=sp_attr),
        helper.make_node("ReduceSum", ["c"], ["s"], keepdims=0),
        helper.make_node("Greater", ["s", "zero"], ["cond"]),
        helper.make_node("If", ["cond"], ["y"], name="if0", then_branch=then_g, else_branch=else_g),
        helper.make_node("BigConst", ["x"], ["fy"], domain="local"),
    ]
    sparse_init = helper.make_sparse_tensor(
        numpy_helper.from_array(np.arange(1, 301, dtype=np.float32), "sp_init"),
        numpy_helper.from_array(np.stack([np.arange(300) // 20, np.arange(300) % 20], 1).astype(np.int64), "sp_idx"),
        [15, 20])
    inits = [numpy_helper.from_array(w_main, "w_main"), numpy_helper.from_array(np.float32(0), "zero")]
    model = make_model(nodes, inits, sparse_inits=[sparse_init], functions=[func])
    expect = {"w_main": w_main, "w_then": w_then, "w_else": w_else, "c_big": c_big, "f_big": f_big}
    return model, expect


def test_tensors_in_constants_subgraphs_and_functions(tmp_path):
    model, expect = _nested_model()
    path = save(model, tmp_path / "nested.onnx")
    loaded = load_model(path)
    ref = onnx.load(str(path))
    ours = list(iter_tensors(loaded.file_model))
    theirs = list(iter_tensors(ref))
    assert [w for _, w in ours] == [w for _, w in theirs]
    found = {}
    for (t, where), (r, _) in zip(ours, theirs):
        assert same(loaded.array(t), numpy_helper.to_array(r)), where
        found[t.name] = (loaded.array(t), loaded.data_origin(t), where)
    for name, values in expect.items():
        arr, origin, _ = found[name]
        assert origin == "embedded", name
        assert np.array_equal(arr, values), name
    assert "function 'local.BigConst'" in found["f_big"][2]
    assert "if0" in found["w_then"][2] and "then_branch" in found["w_then"][2]


def test_sparse_tensors_densify(tmp_path):
    model, _ = _nested_model()
    loaded = load_model(save(model, tmp_path / "nested.onnx"))
    sp = loaded.model.graph.sparse_initializer[0]
    dense = loaded.sparse_array(sp)
    expected = np.arange(1, 301, dtype=np.float32).reshape(15, 20)
    assert same(dense, expected)
    const_sparse = next(n for n in loaded.model.graph.node if n.name == "const_sparse")
    dense1 = loaded.sparse_array(const_sparse.attribute[0].sparse_tensor)
    expected1 = np.zeros(1000, np.float32)
    expected1[0:800:2] = np.arange(1, 401)
    assert same(dense1, expected1)
    assert loaded.data_origin(const_sparse.attribute[0].sparse_tensor.values) == "embedded"
    bad = onnx.SparseTensorProto()
    bad.CopyFrom(sp)
    bad.dims[0] = 10  # rows 10..14 now out of range
    with pytest.raises(ModelError, match="out of range"):
        loaded.sparse_array(bad)


def test_stripped_graph_equals_onnx_load(tmp_path, monkeypatch):
    model, _ = _nested_model()
    path = save(model, tmp_path / "nested.onnx")
    loaded = load_model(path)
    ref = onnx.load(str(path))
    assert drop_data(loaded.file_model).SerializeToString(deterministic=True) == \
        drop_data(ref).SerializeToString(deterministic=True)
    # the stripped proto holds none of the embedded payloads
    embedded = sum(loaded.array(t).nbytes for t, _ in iter_tensors(loaded.file_model)
                   if loaded.data_origin(t) == "embedded")
    assert embedded > 10_000
    assert len(loaded.file_model.SerializeToString()) < path.stat().st_size - embedded + 1024
    # and it is a valid ONNX model whose references point at the file itself (the checker
    # resolves locations against the working directory when given a ModelProto)
    monkeypatch.chdir(tmp_path)
    onnx.checker.check_model(ref)
    onnx.checker.check_model(loaded.model)
    t = loaded.model.graph.initializer[0]
    entries = {e.key: e.value for e in t.external_data}
    assert entries["location"] == "nested.onnx"
    full = loaded.tensor_with_data(t)
    assert same(numpy_helper.to_array(full), numpy_helper.to_array(ref.graph.initializer[0]))


def test_ir_version_and_opsets_kept(tmp_path):
    model = make_model(inits=[numpy_helper.from_array(conv_weight(2, 3), "w")], opset=13, ir_version=7)
    loaded = load_model(save(model, tmp_path / "m.onnx"))
    assert loaded.ir_version == loaded.model.ir_version == 7
    assert loaded.opsets == {"": 13}


def test_sha256_and_file_untouched(tmp_path):
    model, _ = _nested_model()
    path = save(model, tmp_path / "nested.onnx")
    before = path.read_bytes()
    os.utime(path, ns=(1_000_000_000, 1_000_000_000))
    st0 = path.stat()
    listing = sorted(os.listdir(tmp_path))
    loaded = load_model(path)
    for t, _ in loaded.iter_tensors():
        loaded.array(t)
    assert loaded.sha256() == hashlib.sha256(before).hexdigest() == loaded.sha256()
    assert loaded.size_bytes == len(before) and loaded.external_bytes == 0
    assert loaded.path == path.resolve()
    del loaded
    st1 = path.stat()
    assert path.read_bytes() == before
    assert (st1.st_mtime_ns, st1.st_size) == (st0.st_mtime_ns, st0.st_size)
    assert sorted(os.listdir(tmp_path)) == listing


# ----------------------------------------------------------------------------------------------
# external data
# ----------------------------------------------------------------------------------------------
def _external_model(tmp_path, **kw):
    w1, w2 = conv_weight(32, 16, seed=7), conv_weight(8, 32, seed=8)
    small = np.ones(4, np.float32)
    nodes = [helper.make_node("Conv", ["x", "w1"], ["h"]), helper.make_node("Conv", ["h", "w2"], ["y"]),
             helper.make_node("Constant", [], ["c"], value=numpy_helper.from_array(conv_weight(8, 8, seed=9), "cw"))]
    model = make_model(nodes, [numpy_helper.from_array(w1, "w1"), numpy_helper.from_array(w2, "w2"),
                               numpy_helper.from_array(small, "small")])
    folder = tmp_path / "ext"
    folder.mkdir()
    path = folder / "model.onnx"
    onnx.save(model, str(path), save_as_external_data=True, size_threshold=1024, convert_attribute=True, **kw)
    return path, {"w1": w1, "w2": w2, "small": small}


def test_external_data_one_file(tmp_path):
    path, expect = _external_model(tmp_path, all_tensors_to_one_file=True, location="weights.bin")
    loaded = load_model(path)
    assert loaded.external_bytes == (path.parent / "weights.bin").stat().st_size > 0
    assert loaded.external_files == [(path.parent / "weights.bin").resolve()]
    ref = onnx.load(str(path))
    for (t, where), (r, _) in zip(loaded.iter_tensors(), iter_tensors(ref)):
        a = loaded.array(t)
        assert same(a, numpy_helper.to_array(r)), where
        if t.name in ("w1", "w2", "cw"):
            assert loaded.data_origin(t) == "external" and not loaded.is_in_file(t)
            assert mmap_backed(a) and not a.flags.writeable and not a.flags.owndata
    small = next(t for t in loaded.model.graph.initializer if t.name == "small")
    assert loaded.data_origin(small) == "inline"
    assert same(loaded.array(small), expect["small"])


def test_external_data_many_files(tmp_path):
    path, expect = _external_model(tmp_path, all_tensors_to_one_file=False)
    loaded = load_model(path)
    assert len(loaded.external_files) == 3  # w1, w2 and the Constant's cw
    assert loaded.external_bytes == sum(p.stat().st_size for p in loaded.external_files)
    for t in loaded.model.graph.initializer:
        assert same(loaded.array(t), expect[t.name])


def _model_with_location(folder: Path, location: str, *, offset=None, length=None, name="w") -> Path:
    t = onnx.TensorProto(name=name, data_type=TP.FLOAT, dims=[4])
    t.data_location = TP.EXTERNAL
    entries = {"location": location}
    if offset is not None:
        entries["offset"] = str(offset)
    if length is not None:
        entries["length"] = str(length)
    for k, v in entries.items():
        e = t.external_data.add()
        e.key, e.value = k, v
    path = folder / "model.onnx"
    path.write_bytes(make_model(inits=[t]).SerializeToString())
    return path


@pytest.fixture()
def ext_layout(tmp_path):
    folder = tmp_path / "models"
    folder.mkdir()
    outside = tmp_path / "x.bin"
    outside.write_bytes(np.arange(4, dtype=np.float32).tobytes())
    (folder / "ok.bin").write_bytes(np.arange(8, dtype=np.float32).tobytes())
    return folder, outside


def test_external_offset_and_length(ext_layout):
    folder, _ = ext_layout
    loaded = load_model(_model_with_location(folder, "ok.bin", offset=16, length=16))
    assert same(loaded.array(loaded.model.graph.initializer[0]), np.arange(4, 8, dtype=np.float32))
    loaded = load_model(_model_with_location(folder, "./ok.bin", offset=16))  # length = rest of file
    assert same(loaded.array(loaded.model.graph.initializer[0]), np.arange(4, 8, dtype=np.float32))


@pytest.mark.parametrize("location,message", [
    ("../x.bin", "escapes the model's folder"),
    ("sub/../../x.bin", "escapes the model's folder"),
    ("ABSOLUTE", "absolute path"),
    ("link.bin", "resolves outside the model's folder"),
    ("missing.bin", r"'missing.bin' not found"),
    ("LINKDIR/x.bin", "resolves outside the model's folder"),
])
def test_external_locations_refused(ext_layout, location, message):
    folder, outside = ext_layout
    if location == "ABSOLUTE":
        location = str(outside)
    (folder / "link.bin").symlink_to(outside)
    (folder / "LINKDIR").symlink_to(outside.parent, target_is_directory=True)
    path = _model_with_location(folder, location)
    with pytest.raises(ModelError, match=message) as err:
        load_model(path)
    assert "tensor 'w'" in str(err.value) and "\n" not in str(err.value)


def test_symlink_inside_folder_allowed(ext_layout):
    folder, _ = ext_layout
    (folder / "alias.bin").symlink_to(folder / "ok.bin")
    loaded = load_model(_model_with_location(folder, "alias.bin", length=16))
    assert same(loaded.array(loaded.model.graph.initializer[0]), np.arange(4, dtype=np.float32))


@pytest.mark.parametrize("offset,length,message", [
    (0, 64, "runs past the end of 'ok.bin'"),
    (40, None, "runs past the end of 'ok.bin'"),
    ("x", None, "not integers"),
    (-4, 16, "negative"),
])
def test_external_bounds_checked(ext_layout, offset, length, message):
    folder, _ = ext_layout
    with pytest.raises(ModelError, match=message):
        load_model(_model_with_location(folder, "ok.bin", offset=offset, length=length))


def test_external_size_mismatch_is_model_error(ext_layout):
    folder, _ = ext_layout
    loaded = load_model(_model_with_location(folder, "ok.bin", offset=0, length=8))
    with pytest.raises(ModelError, match="8 bytes of data, expected 16"):
        loaded.array(loaded.model.graph.initializer[0])


def test_external_beyond_2gb_is_memmapped(tmp_path):
    """A > 2 GB external file (sparse, so the test stays cheap): offsets and lengths past 2**31."""
    folder = tmp_path / "big"
    folder.mkdir()
    blob = folder / "big.bin"
    far = 2_600_000_000
    values = np.arange(1024, dtype=np.float32)
    with open(blob, "wb") as f:
        f.truncate(3_000_000_000)
        f.seek(far)
        f.write(values.tobytes())
    huge_n = (far + 4096) // 4  # 2.6 GB of float32 from offset 0, ending where `values` ends
    huge = onnx.TensorProto(name="huge", data_type=TP.FLOAT, dims=[huge_n])
    far_t = onnx.TensorProto(name="far", data_type=TP.FLOAT, dims=[1024])
    for t, off, ln in ((huge, 0, huge_n * 4), (far_t, far, 4096)):
        t.data_location = TP.EXTERNAL
        for k, v in (("location", "big.bin"), ("offset", str(off)), ("length", str(ln))):
            e = t.external_data.add()
            e.key, e.value = k, v
    path = folder / "model.onnx"
    path.write_bytes(make_model(inits=[huge, far_t]).SerializeToString())
    loaded = load_model(path)
    assert loaded.external_bytes == 3_000_000_000
    a_huge, a_far = (loaded.array(t) for t in loaded.model.graph.initializer)
    assert a_huge.shape == (huge_n,) and mmap_backed(a_huge)
    assert a_huge[0] == 0 and a_huge[-1] == values[-1]
    assert same(a_far, values) and mmap_backed(a_far)


# ----------------------------------------------------------------------------------------------
# bad input
# ----------------------------------------------------------------------------------------------
def _real_model_bytes() -> bytes:
    model, _ = _nested_model()
    return model.SerializeToString()


def _bad_inputs(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    out = {}
    out["missing"] = (tmp_path / "nope.onnx", "not found")
    d = tmp_path / "adir.onnx"
    d.mkdir()
    out["directory"] = (d, "directory")
    (tmp_path / "empty.onnx").write_bytes(b"")
    out["empty"] = (tmp_path / "empty.onnx", "empty")
    real = _real_model_bytes()
    (tmp_path / "half.onnx").write_bytes(real[: len(real) // 2])
    out["truncated"] = (tmp_path / "half.onnx", "not a valid ONNX model")
    (tmp_path / "text.onnx").write_text("This is not a model.\nJust some text, lines and words.\n" * 20)
    out["text"] = (tmp_path / "text.onnx", "looks like a text file")
    (tmp_path / "json.onnx").write_text(json.dumps({"graph": {"node": [1, 2, 3]}}))
    out["json"] = (tmp_path / "json.onnx", "looks like a text file")
    nograph = onnx.ModelProto(ir_version=8)
    nograph.opset_import.add(version=17)
    (tmp_path / "nograph.onnx").write_bytes(nograph.SerializeToString())
    out["no graph"] = (tmp_path / "nograph.onnx", "no graph")
    noopset = make_model()
    del noopset.opset_import[:]
    (tmp_path / "noopset.onnx").write_bytes(noopset.SerializeToString())
    out["no opset"] = (tmp_path / "noopset.onnx", "imports no opset")
    tensor = numpy_helper.from_array(np.arange(1000, dtype=np.int64), "t")
    (tmp_path / "tensor.onnx").write_bytes(tensor.SerializeToString())
    out["tensor proto"] = (tmp_path / "tensor.onnx", "not")
    for seed in range(8):
        p = tmp_path / f"random{seed}.onnx"
        p.write_bytes(np.random.default_rng(seed).integers(0, 256, 4096, dtype=np.uint8).tobytes())
        out[f"random {seed}"] = (p, "not")
    # hand-made wire-format damage
    wire = {
        "varint too long": b"\x3a" + b"\xff" * 11 + b"\x01",
        "varint truncated": b"\x08\x80",
        "length past end": b"\x3a\x10abc",
        "group wire type": b"\x0b\x0c",
        "field zero": b"\x00\x01",
        # a graph big enough to be walked whose first node claims more bytes than the graph has
        "inner length past end": b"\x3a" + bytes([0xD0, 0x0F]) + b"\x0a" + bytes([0x88, 0x27]) + b"\x00" * 1998,
    }
    for k, blob in wire.items():
        p = tmp_path / f"wire_{k.replace(' ', '_')}.onnx"
        p.write_bytes(blob)
        out[k] = (p, "not a valid ONNX model")
    return out


def test_bad_inputs_are_one_line_model_errors(tmp_path):
    for label, (path, message) in _bad_inputs(tmp_path).items():
        with pytest.raises(ModelError) as err:
            load_model(path)
        text = str(err.value)
        assert message in text, (label, text)
        assert "\n" not in text and len(text) < 300, (label, text)
        assert err.value.exit_code == 2


def test_inner_length_error_mentions_position(tmp_path):
    path, _ = _bad_inputs(tmp_path)["inner length past end"]
    with pytest.raises(ModelError, match="past the end"):
        load_model(path)


def test_accepts_str_and_pathlike(tmp_path):
    path = save(make_model(), tmp_path / "m.onnx")
    assert isinstance(load_model(str(path)), LoadedModel)
    assert isinstance(load_model(path), LoadedModel)


# ----------------------------------------------------------------------------------------------
# memory
# ----------------------------------------------------------------------------------------------
_MEMORY_CHILD = textwrap.dedent("""
    import resource, sys, psutil
    from onnxsym.model.loading import load_model

    def peak():
        # VmHWM: ru_maxrss would include the parent's peak, which survives fork + exec on Linux
        try:
            with open("/proc/self/status") as f:
                return next(int(l.split()[1]) * 1024 for l in f if l.startswith("VmHWM:"))
        except OSError:
            return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * (1 if sys.platform == "darwin" else 1024)

    rss0 = psutil.Process().memory_info().rss
    loaded = load_model(sys.argv[1])
    print(peak() - rss0, len(loaded.model.SerializeToString()))
""")


@pytest.mark.skipif(sys.platform == "win32", reason="uses resource.getrusage")
def test_peak_memory_well_below_file_size(tmp_path):
    pytest.importorskip("psutil")
    n_tensors, per = 4, 50 * 1024 * 1024 // 4  # 4 x 50 MiB float32
    inits = [numpy_helper.from_array(np.full(per, i + 0.5, dtype=np.float32), f"w{i}") for i in range(n_tensors)]
    path = tmp_path / "big.onnx"
    path.write_bytes(make_model(inits=inits).SerializeToString())
    del inits
    size = path.stat().st_size
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    out = subprocess.run([sys.executable, "-c", _MEMORY_CHILD, str(path)], capture_output=True,
                         text=True, env=env, timeout=60)
    assert out.returncode == 0, out.stderr
    growth, stripped = map(int, out.stdout.split())
    assert growth < 1.3 * size, f"peak RSS grew by {growth / 2**20:.0f} MiB for a {size / 2**20:.0f} MiB file"
    assert stripped < 4096


def test_model_reached_through_symlink(tmp_path):
    real = save(make_model(inits=[numpy_helper.from_array(conv_weight(8, 8), "w")]), tmp_path / "real.onnx")
    other = tmp_path / "elsewhere"
    other.mkdir()
    (other / "link.onnx").symlink_to(real)
    loaded = load_model(other / "link.onnx")
    assert loaded.path == real.resolve() and loaded.base_dir == other
    t = loaded.model.graph.initializer[0]
    assert loaded.data_origin(t) == "embedded" and np.array_equal(loaded.array(t), conv_weight(8, 8))
