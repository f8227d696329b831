"""onnxsym.model.inputs: the image inputs of a model (float or uint8, 3-D to 5-D, reaching a conv or
pool, also through subgraphs and functions) and their layout, traced through the graph or given."""
from __future__ import annotations

import pytest
from onnx import TensorProto, helper

from graphs import rand_weight, stack_model
from onnxsym.errors import InputError
from onnxsym.model.graph import Graph
from onnxsym.model.inputs import (ImageInput, apply_layout, describe_inputs, find_image_inputs, layout_from_dims,
                                  trace_layout)


def _vi(name, shape, elem=TensorProto.FLOAT):
    return helper.make_tensor_value_info(name, elem, shape)


def _model(nodes, inputs, inits=(), functions=()):
    g = helper.make_graph(nodes, "g", inputs, [_vi("y", None)], list(inits))
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("local", 1)],
                             functions=list(functions))


def test_which_inputs_are_images():
    nodes = [helper.make_node("Add", ["img", "bias"], ["a"]), helper.make_node("Conv", ["a", "w"], ["c"]),
             helper.make_node("Conv", ["u8", "w"], ["d"]), helper.make_node("Mul", ["c", "scale"], ["y"]),
             helper.make_node("Relu", ["side"], ["s"])]
    inputs = [_vi("img", ["N", 3, "H", "W"]), _vi("bias", [1, 3, 1, 1]), _vi("w", [4, 3, 3, 3]),
              _vi("u8", [1, 3, 8, 8], TensorProto.UINT8), _vi("scale", [1]), _vi("side", [1, 3, 8, 8]),
              _vi("ids", [1, 3, 8, 8], TensorProto.INT64)]
    m = _model(nodes, inputs, [rand_weight("w", 4, 3, 3, 3)])
    found = find_image_inputs(m)
    # bias is 4-D float but reaches the conv only through an Add with the image: also an image input;
    # w is an initializer; scale is 1-D; side reaches no conv; ids is not float
    assert [(i.name, i.elem_type, i.declared) for i in found] == [
        ("img", "FLOAT", ("N", 3, "H", "W")), ("bias", "FLOAT", (1, 3, 1, 1)), ("u8", "UINT8", (1, 3, 8, 8))]
    assert found[0].rank == 4 and found[0].declared_text() == "Nx3xHxW"
    assert describe_inputs(m) == ("img [FLOAT, 4-D], bias [FLOAT, 4-D], u8 [UINT8, 4-D], scale [FLOAT, 1-D], "
                                  "side [FLOAT, 4-D], ids [INT64, 4-D]")


def test_an_input_without_a_shape_takes_the_given_rank():
    shapeless = helper.make_tensor_value_info("x", TensorProto.FLOAT, None)
    m = _model([helper.make_node("Conv", ["x", "w"], ["y"])], [shapeless], [rand_weight("w", 4, 3, 3, 3)])
    assert find_image_inputs(m) == []
    (x,) = find_image_inputs(m, given_rank=4)
    assert x.declared is None and x.rank is None and x.declared_text() == "(no shape declared)"


def test_an_input_that_reaches_a_conv_inside_a_function():
    fn = helper.make_function("local", "Block", ["a", "k"], ["b"], [helper.make_node("Conv", ["a", "k"], ["b"])],
                              [helper.make_opsetid("", 17)])
    m = _model([helper.make_node("Block", ["x", "w"], ["y"], domain="local")], [_vi("x", [1, 3, 8, 8])],
               [rand_weight("w", 4, 3, 3, 3)], functions=[fn])
    assert [i.name for i in find_image_inputs(m)] == ["x"]


@pytest.mark.parametrize("perm,want", [([0, 3, 1, 2], "NHWC"), ([0, 1, 2, 3], "NCHW"), ([0, 2, 3, 1], "NWCH")])
def test_trace_layout_follows_transposes(perm, want):
    nodes = [helper.make_node("Relu", ["x"], ["r"]), helper.make_node("Transpose", ["r"], ["t"], perm=perm),
             helper.make_node("Mul", ["two", "t"], ["m"]), helper.make_node("Conv", ["m", "w"], ["y"])]
    m = _model(nodes, [_vi("x", [1, 8, 8, 3])], [rand_weight("w", 4, 3, 3, 3)])
    graph = Graph(m)
    (im,) = find_image_inputs(m, graph=graph)
    trace_layout(graph, im, 4)
    assert im.layout == want and im.layout_source == "graph"
    # the conv sees [N, C, H, W] = input axes perm[0], perm[1], perm[2:]
    assert (im.batch_axis, im.channel_axis, im.spatial_axes) == (perm[0], perm[1], tuple(perm[2:]))


def test_trace_layout_stops_at_an_op_that_moves_axes():
    shape = helper.make_tensor("s", TensorProto.INT64, [4], [1, 3, 8, 8])
    m = _model([helper.make_node("Reshape", ["x", "s"], ["r"]), helper.make_node("Conv", ["r", "w"], ["y"])],
               [_vi("x", [1, 8, 8, 3])], [shape, rand_weight("w", 4, 3, 3, 3)])
    graph = Graph(m)
    (im,) = find_image_inputs(m, graph=graph)
    assert trace_layout(graph, im, 4).layout is None and im.spatial_axes == ()


def test_trace_layout_of_1d_and_3d_inputs():
    m1 = _model([helper.make_node("Conv", ["x", "w"], ["y"])], [_vi("x", [1, 3, 50])], [rand_weight("w", 4, 3, 5)])
    g1 = Graph(m1)
    assert trace_layout(g1, find_image_inputs(m1, graph=g1)[0], 3).layout == "NCW"
    m3 = _model([helper.make_node("Transpose", ["x"], ["t"], perm=[0, 4, 1, 2, 3]),
                 helper.make_node("Conv", ["t", "w"], ["y"])], [_vi("x", [1, 8, 16, 16, 3])],
                [rand_weight("w", 4, 3, 3, 3, 3)])
    g3 = Graph(m3)
    im = trace_layout(g3, find_image_inputs(m3, graph=g3)[0], 5)
    assert im.layout == "NDHWC" and im.spatial_axes == (1, 2, 3) and im.channel_axis == 4


def test_apply_layout():
    im = apply_layout(ImageInput("x", "FLOAT", (1, 224, 224, 3)), "nhwc")
    assert (im.layout, im.layout_source) == ("NHWC", "given")
    assert (im.batch_axis, im.channel_axis, im.spatial_axes) == (0, 3, (1, 2))
    assert apply_layout(ImageInput("x", "FLOAT", (1, 3, 50)), "NWC").spatial_axes == (1,)
    assert apply_layout(ImageInput("x", "FLOAT", None), "NCDHW").spatial_axes == (2, 3, 4)   # rank from the text
    with pytest.raises(InputError, match=r"layout 'NCHWX' does not fit input 'x' \(1x3x8x8\): expected NCHW or NHWC"):
        apply_layout(ImageInput("x", "FLOAT", (1, 3, 8, 8)), "NCHWX")
    with pytest.raises(InputError, match="expected NCW or NWC"):
        apply_layout(ImageInput("x", "FLOAT", (1, 3, 50)), "NCHW")


@pytest.mark.parametrize("shape,want", [
    ([1, 3, 224, 224], ("NCHW", "")), (["N", 224, 224, 3], ("NHWC", "")), ([1, 1, 28, 28], ("NCHW", "")),
    ([1, 3, 8, 3], ("NCHW", "layout ambiguous, assumed NCHW")),
    (["N", "C", "H", "W"], ("NCHW", "channel dimension symbolic, assumed NCHW with 3 channels")),
    ([1, 16, 16, 16], (None, "")),
])
def test_layout_from_dims(shape, want):
    assert layout_from_dims(shape) == want


def test_a_stack_through_a_transpose_is_nhwc():
    m = stack_model(["N", 64, 64, 3], [("conv", 3, 2, 1)], layout="NHWC")
    graph = Graph(m)
    (im,) = find_image_inputs(m, graph=graph)
    assert trace_layout(graph, im, 4).layout == "NHWC" and im.spatial_axes == (1, 2)
