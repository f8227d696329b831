"""onnxsym.model.ops: the op tables and the spatial attributes of a conv or pool, read once with
their types checked."""
from __future__ import annotations

import onnx
import pytest
from onnx import helper

from onnxsym.model.ops import (AUTO_PADS, CHANNELS_LAST_OPS, CONV_OPS, LAYER_OPS, PADDED_CONV_OPS, POOL_OPS, attr_text,
                               conv_attrs, conv_op_names, int_list, node_attrs, op_key, op_name)


def test_tables():
    assert CONV_OPS[("", "Conv")] == 1 and CONV_OPS[("", "QLinearConv")] == 3   # index of the weight input
    assert ("com.microsoft", "QLinearConv") in CONV_OPS and ("com.microsoft", "QLinearConv") not in PADDED_CONV_OPS
    assert set(PADDED_CONV_OPS) == set(CONV_OPS) - CHANNELS_LAST_OPS
    assert LAYER_OPS == set(PADDED_CONV_OPS) | POOL_OPS and ("", "MaxPool") in LAYER_OPS
    assert AUTO_PADS == ("NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID")
    assert conv_op_names() == "Conv, ConvTranspose, DeformConv, QLinearConv, ConvInteger, FusedConv"


def test_op_key_and_name():
    assert op_key(helper.make_node("Conv", [], [], domain="ai.onnx")) == ("", "Conv")
    assert op_key(helper.make_node("FusedConv", [], [], domain="com.microsoft")) == ("com.microsoft", "FusedConv")
    assert op_name(("", "Conv")) == "Conv" and op_name(("com.microsoft", "FusedConv")) == "com.microsoft.FusedConv"


def test_node_attrs_and_lists():
    node = helper.make_node("Conv", [], [], kernel_shape=[3, 3], auto_pad="SAME_UPPER", alpha=0.5)
    # a reference to a function's attribute, outside a function: unreadable, left out
    node.attribute.append(onnx.AttributeProto(name="broken", ref_attr_name="k", type=onnx.AttributeProto.INTS))
    attrs = node_attrs(node)
    assert attrs == {"kernel_shape": [3, 3], "auto_pad": b"SAME_UPPER", "alpha": 0.5}
    assert attr_text(b"SAME_UPPER") == "SAME_UPPER" and attr_text(b"\xffX") == "\ufffdX" and attr_text(7) == "7"
    assert int_list(attrs, "kernel_shape") == [3, 3] and int_list(attrs, "pads") is None
    with pytest.raises(ValueError, match="attribute alpha is not a list of integers"):
        int_list(attrs, "alpha")


def test_conv_attrs_reads_every_attribute_once():
    node = helper.make_node("Conv", ["x", "w"], ["y"], kernel_shape=[3, 5], strides=[2, 1], pads=[1, 2, 1, 2],
                            dilations=[1, 1], group=4, auto_pad="NOTSET")
    at = conv_attrs(node)
    assert (at.kernel_shape, at.strides, at.pads, at.dilations, at.output_padding) == ((3, 5), (2, 1), (1, 2, 1, 2),
                                                                                      (1, 1), None)
    assert (at.group, at.auto_pad, at.ceil_mode, at.errors, at.error()) == (4, "NOTSET", False, {}, "")
    pool = conv_attrs(helper.make_node("MaxPool", ["x"], ["y"], kernel_shape=[2, 2], ceil_mode=1, auto_pad=""))
    assert pool.ceil_mode is True and pool.auto_pad == "NOTSET" and pool.group == 1


def test_conv_attrs_of_the_wrong_type_are_errors_with_none_values():
    node = helper.make_node("Conv", ["x", "w"], ["y"], strides=[2.0, 2.0], group=1.5, auto_pad="SIDEWAYS",
                            ceil_mode=0.5)
    at = conv_attrs(node)
    assert at.strides is None and at.group == 1 and at.ceil_mode is False
    assert at.errors == {"strides": "attribute strides is not a list of integers ([2.0, 2.0])",
                         "group": "attribute group is not an integer (1.5)", "auto_pad": "unknown auto_pad 'SIDEWAYS'"}
    assert at.error() == "attribute strides is not a list of integers ([2.0, 2.0])"   # the first one
    assert at.error(("group",)) == "attribute group is not an integer (1.5)" and at.error(("pads",)) == ""
    assert at.error(type(at).GEOMETRY) == at.errors["strides"]                       # auto_pad is not geometry


def test_a_subgraph_attribute_is_read_as_a_graph():
    g = helper.make_graph([], "body", [], [])
    node = helper.make_node("If", ["c"], ["y"], then_branch=g, else_branch=g)
    assert isinstance(node_attrs(node)["then_branch"], onnx.GraphProto)
