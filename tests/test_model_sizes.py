"""onnxsym.model.sizes: the input size chosen for a model whose spatial size is symbolic — the
static dims kept, each symbolic one the smallest multiple of the network's total stride >= 224."""
from __future__ import annotations

import numpy as np
from graphs import (
    RESNET_STEM,
    graph_model,
    layer_model,
    model_y,
    rand_weight,
    stack_model,
    unet_like,
)
from onnx import TensorProto, helper, numpy_helper

from onnxsym.model.sizes import MIN_SIDE, SizeChoice, choose_input_size


def test_a_static_size_is_the_models():
    assert choose_input_size(stack_model([1, 3, 96, 128], RESNET_STEM)) == SizeChoice((96, 128), "model")


def test_a_symbolic_size_is_a_multiple_of_the_total_stride():
    # the stem halves the size five times: total stride 32; 7 * 32 = 224
    c = choose_input_size(stack_model(["N", 3, "H", "W"], RESNET_STEM))
    assert (c.size, c.source, c.stride) == ((224, 224), "chosen", (32, 32))
    assert c.note.startswith("input 'x' is ?×3×?×? (symbolic spatial size): analysed at 224×224, the smallest "
                             "size ≥ 224 that is a multiple of the network's total stride (32×32)")
    # three stride-2 convs: 8; 224 is a multiple; one static dim is kept
    c = choose_input_size(stack_model(["N", 3, 100, "W"], [("conv", 3, 2, 1)] * 3))
    assert (c.size, c.stride) == ((100, 224), (1, 8))
    # stride 64 (six halvings): the smallest multiple >= 224 is 256
    assert choose_input_size(stack_model(["N", 3, "H", "W"], [("conv", 3, 2, 1)] * 6)).size == (256, 256)
    assert MIN_SIDE == 224


def test_no_rank_4_image_input_no_choice():
    assert choose_input_size(layer_model([1, 3, "W"], [3], [2], pads=[1, 1])) is None
    m = model_y([helper.make_node("Relu", ["x"], ["y"])], [helper.make_tensor_value_info("x", TensorProto.FLOAT,
                                                                                     ["N", 3, "H", "W"])])
    assert choose_input_size(m) is None
    assert choose_input_size(stack_model(["N", 3, "H", "W"], RESNET_STEM), image_name="other") is None


def test_the_total_stride_of_a_unet_is_its_downsampling():
    # the ConvTranspose brings the size back up: the stride-2 conv alone counts
    assert choose_input_size(unet_like("convt")).stride == (2, 2)
    assert choose_input_size(unet_like("resize")).size == (224, 224)     # even sizes fit: 224 itself


def test_a_size_where_the_shapes_do_not_fit_is_not_said_to_fit():
    # the conv's output is added to a constant of a fixed 100x100 size: no size >= 224 fits
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, "H", "W"])
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"], pads=[1, 1, 1, 1], strides=[2, 2], name="down"),
             helper.make_node("Add", ["c", "bias"], ["y"], name="join")]
    inits = [rand_weight("w", 4, 3, 3, 3), numpy_helper.from_array(np.zeros((1, 4, 100, 100), np.float32), "bias")]
    c = choose_input_size(graph_model(nodes, [x], ["y"], inits))
    assert c.size == (224, 224) and c.source == "chosen"
    assert "no size tried passed strict shape inference (every size failed at Add node 'join')" in c.note
    assert "fit together" not in c.note
    # the ConvTranspose U-Net fits only off the stride grid (odd sizes): that is said, not hidden
    c = choose_input_size(unet_like("convt"))
    assert c.size == (225, 225) and "no multiple of the network's total stride, 2×2, does" in c.note


