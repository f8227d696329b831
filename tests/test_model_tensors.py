"""onnxsym.model.tensors: element type names, the unpacking of sub-byte types (checked against
explicit bit arithmetic), and every TensorProto a parsed model holds, with its place."""
from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from onnxsym.model.tensors import gib, iter_tensors, readonly, type_name, unpack_6bit, unpack_bits


def test_type_names():
    assert type_name(TensorProto.FLOAT) == "FLOAT" and type_name(TensorProto.UINT4) == "UINT4"
    assert type_name(999) == "data type 999"


def test_unpack_bits_low_bits_first():
    # 0x21 = 0010 0001: the low nibble 1 comes first, then 2; 0xE4 = 11 10 01 00 -> 0, 1, 2, 3
    assert unpack_bits(np.array([0x21, 0xF0], np.uint8), 4, 3).tolist() == [1, 2, 0]
    assert unpack_bits(np.array([0xE4], np.uint8), 2, 4).tolist() == [0, 1, 2, 3]
    rng = np.random.default_rng(0)
    packed = rng.integers(0, 256, 33, dtype=np.uint8)
    for bits in (2, 4):
        want = [(int(b) >> (bits * k)) & ((1 << bits) - 1) for b in packed for k in range(8 // bits)]
        assert unpack_bits(packed, bits, len(want) - 1).tolist() == want[:-1]


def test_unpack_6bit_four_values_per_three_bytes():
    values = [1, 2, 3, 63, 0, 62, 17]
    packed = []
    for g in range(0, len(values), 4):
        word = sum(v << (6 * k) for k, v in enumerate(values[g:g + 4]))   # 24 bits, little-endian
        packed += [word & 0xFF, (word >> 8) & 0xFF, (word >> 16) & 0xFF]
    assert unpack_6bit(np.array(packed, np.uint8), len(values)).tolist() == values
    assert unpack_6bit(np.array(packed[:3], np.uint8), 2).tolist() == [1, 2]


def test_gib_and_readonly():
    assert gib(1 << 30) == "1 GiB" and gib(3 << 27) == "0.375 GiB" and gib(1 << 20) == "1 MiB"
    a = np.arange(3)
    assert readonly(a) is a and not a.flags.writeable


def test_iter_tensors_finds_every_tensor_with_its_place():
    t = lambda name: numpy_helper.from_array(np.zeros(2, np.float32), name)  # noqa: E731
    sparse = helper.make_sparse_tensor(t("sv"), numpy_helper.from_array(np.array([0, 1], np.int64), "si"), [4])
    branch = helper.make_graph([], "then", [], [], [t("b_init")])
    nodes = [helper.make_node("Constant", [], ["c"], name="k", value=t("c_val")),
             helper.make_node("If", ["cond"], ["y"], then_branch=branch,
                              else_branch=helper.make_graph([], "e", [], [])),
             helper.make_node("Relu", ["c"], ["r"])]
    g = helper.make_graph(nodes, "main", [], [], [t("init")], sparse_initializer=[sparse])
    fn = helper.make_function("dom", "F", ["a"], ["b"], [helper.make_node("Constant", [], ["b"], value=t("f_val"))],
                              [helper.make_opsetid("", 17)])
    fn.attribute_proto.append(helper.make_attribute("default", t("f_default")))
    m = helper.make_model(g, functions=[fn])
    ti = m.training_info.add()
    ti.initialization.CopyFrom(helper.make_graph([], "init_g", [], [], [t("ti_init")]))
    assert [(x.name, where) for x, where in iter_tensors(m)] == [
        ("init", "graph 'main' initializer"),
        ("sv", "graph 'main' sparse initializer"), ("si", "graph 'main' sparse initializer"),
        ("c_val", "graph 'main' node 'k' attribute 'value'"),
        ("b_init", "graph 'main' node 'If#1' attribute 'then_branch' graph 'then' initializer"),
        ("f_val", "function 'dom.F' node 'Constant#0' attribute 'value'"),
        ("f_default", "function 'dom.F' attribute 'default'"),
        ("ti_init", "training_info[0] graph 'init_g' initializer"),
    ]
    assert list(iter_tensors(onnx.ModelProto())) == []
