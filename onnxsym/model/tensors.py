"""Tensor values: the numpy dtype of each ONNX element type, the unpacking of sub-byte types, and
every TensorProto a parsed model holds (:func:`iter_tensors`)."""
from __future__ import annotations

from typing import Iterator

import numpy as np
import onnx

_TP = onnx.TensorProto


def _ml(name: str):
    import ml_dtypes

    return np.dtype(getattr(ml_dtypes, name))


# data_type -> (numpy dtype of raw little-endian storage) for byte-sized types
_PLAIN = {
    _TP.FLOAT: "<f4",
    _TP.UINT8: "u1",
    _TP.INT8: "i1",
    _TP.UINT16: "<u2",
    _TP.INT16: "<i2",
    _TP.INT32: "<i4",
    _TP.INT64: "<i8",
    _TP.BOOL: "?",
    _TP.FLOAT16: "<f2",
    _TP.DOUBLE: "<f8",
    _TP.UINT32: "<u4",
    _TP.UINT64: "<u8",
    _TP.COMPLEX64: "<c8",
    _TP.COMPLEX128: "<c16",
}
_ML_PLAIN = {
    _TP.BFLOAT16: "bfloat16",
    _TP.FLOAT8E4M3FN: "float8_e4m3fn",
    _TP.FLOAT8E4M3FNUZ: "float8_e4m3fnuz",
    _TP.FLOAT8E5M2: "float8_e5m2",
    _TP.FLOAT8E5M2FNUZ: "float8_e5m2fnuz",
    _TP.FLOAT8E8M0: "float8_e8m0fnu",
}
# sub-byte types: data_type -> (bits, result dtype, signed)
_PACKED = {
    _TP.UINT4: (4, "u1", False),
    _TP.INT4: (4, "i1", True),
    _TP.UINT2: (2, "u1", False),
    _TP.INT2: (2, "i1", True),
    _TP.FLOAT4E2M1: (4, "ml:float4_e2m1fn", False),
}
_SIX_BIT = {_TP.FLOAT6E2M3: "float6_e2m3fn", _TP.FLOAT6E3M2: "float6_e3m2fn"}


def type_name(data_type: int) -> str:
    """The name of an ONNX element type (``FLOAT``…), or ``data type N`` for a value ONNX lacks."""
    return _type_name(data_type)


def _type_name(data_type: int) -> str:
    try:
        return _TP.DataType.Name(data_type)
    except ValueError:
        return f"data type {data_type}"


def unpack_bits(packed: np.ndarray, bits: int, count: int) -> np.ndarray:
    """Unpack ``8 // bits`` elements per byte, least significant bits first, to one uint8 each."""
    per = 8 // bits
    mask = (1 << bits) - 1
    out = np.empty((packed.size, per), dtype=np.uint8)
    for k in range(per):
        np.bitwise_and(packed >> (bits * k), mask, out=out[:, k])
    return out.reshape(-1)[:count]


def unpack_6bit(packed: np.ndarray, count: int) -> np.ndarray:
    groups = -(-count // 4)
    data = np.zeros(groups * 3, dtype=np.uint32)
    data[: packed.size] = packed[: groups * 3]
    word = data[0::3] | (data[1::3] << 8) | (data[2::3] << 16)
    out = np.empty((groups, 4), dtype=np.uint8)
    for k in range(4):
        out[:, k] = (word >> (6 * k)) & 0x3F
    return out.reshape(-1)[:count]


def gib(n: int) -> str:
    return f"{n / (1 << 30):.3g} GiB" if n >= (1 << 27) else f"{n / (1 << 20):.3g} MiB"


def readonly(a: np.ndarray) -> np.ndarray:
    a.flags.writeable = False
    return a


# --------------------------------------------------------------------------------------------
# Tensor iteration over a parsed model
# --------------------------------------------------------------------------------------------
def _iter_attr(attr: onnx.AttributeProto, where: str):
    here = f"{where} attribute '{attr.name}'"
    if attr.HasField("t"):
        yield attr.t, here
    for t in attr.tensors:
        yield t, here
    if attr.HasField("sparse_tensor"):
        yield attr.sparse_tensor.values, here
        yield attr.sparse_tensor.indices, here
    for s in attr.sparse_tensors:
        yield s.values, here
        yield s.indices, here
    if attr.HasField("g"):
        yield from _iter_graph(attr.g, here)
    for g in attr.graphs:
        yield from _iter_graph(g, here)


def _iter_nodes(nodes, where: str):
    for i, node in enumerate(nodes):
        if not len(node.attribute):
            continue
        nwhere = f"{where} node '{node.name or f'{node.op_type}#{i}'}'"
        for attr in node.attribute:
            yield from _iter_attr(attr, nwhere)


def _iter_graph(graph: onnx.GraphProto, where: str):
    gwhere = f"{where} graph '{graph.name}'" if where else f"graph '{graph.name}'"
    for t in graph.initializer:
        yield t, f"{gwhere} initializer"
    for s in graph.sparse_initializer:
        yield s.values, f"{gwhere} sparse initializer"
        yield s.indices, f"{gwhere} sparse initializer"
    yield from _iter_nodes(graph.node, gwhere)


def iter_tensors(model: onnx.ModelProto) -> Iterator[tuple[onnx.TensorProto, str]]:
    """Every TensorProto in the model, with a readable place: initializers, sparse initializers
    (values and indices), Constant-like node attributes, subgraphs at any depth, model-local
    functions (nodes and default attributes) and training-info graphs."""
    if model.HasField("graph"):
        yield from _iter_graph(model.graph, "")
    for f in model.functions:
        fwhere = f"function '{f.domain}.{f.name}'"
        yield from _iter_nodes(f.node, fwhere)
        for attr in f.attribute_proto:
            yield from _iter_attr(attr, fwhere)
    for k, ti in enumerate(model.training_info):
        if ti.HasField("initialization"):
            yield from _iter_graph(ti.initialization, f"training_info[{k}]")
        if ti.HasField("algorithm"):
            yield from _iter_graph(ti.algorithm, f"training_info[{k}]")
