"""onnxsym.model.shapes: repeatable shape inference on a skeleton of the model (weights cut off),
strict inference's problems, Loop bodies at the first iteration's sizes, opset-14 upgrade."""
from __future__ import annotations

import numpy as np
from onnx import TensorProto, helper, numpy_helper

from graphs import layer_model, loop_model, model_y, rand_weight, unet_like
from onnxsym.model.shapes import ShapeOracle, ShapeProblem, parse_problems


def test_infer_is_rerun_at_other_sizes():
    # k3 s2 p1: out = (i + 2 - 3) // 2 + 1
    oracle = ShapeOracle(layer_model(["N", 3, "H", "W"], [3, 3], [2, 2], pads=[1, 1, 1, 1]))
    for i in (32, 33, 224):
        shapes = oracle.infer({"x": [1, 3, i, i]})
        assert shapes["y"] == (1, 4, (i - 1) // 2 + 1, (i - 1) // 2 + 1) and shapes["w"] == (4, 3, 3, 3)
    assert oracle.infer({"x": [2, 3, "H", 40]})["y"] == (2, 4, None, 20)      # symbolic dims stay unknown
    assert oracle.upgraded_from is None and oracle.loop_notes == []


def test_the_skeleton_keeps_shapes_and_small_values_only():
    big = rand_weight("w", 64, 64, 3, 3)                                     # 36 864 values: cut off
    m = model_y([helper.make_node("Conv", ["x", "w"], ["y"])], [helper.make_tensor_value_info("x", 1, [1, 64, 8, 8])],
                [big])
    oracle = ShapeOracle(m)
    w = oracle.skeleton.graph.initializer[0]
    assert list(w.dims) == [64, 64, 3, 3] and not w.raw_data and w.data_location == TensorProto.EXTERNAL
    assert m.graph.initializer[0].raw_data == big.raw_data                    # the model is untouched
    assert oracle.infer({"x": [1, 64, 8, 8]})["y"] == (1, 64, 6, 6)


def test_strict_inference_names_where_shapes_do_not_fit():
    oracle = ShapeOracle(unet_like("convt"))
    # the ConvTranspose gives 2*ceil(H/2)-1: H-1 at even H, which the skip connection's Add cannot take
    shapes, problems = oracle.infer_checked({"x": [1, 3, 64, 64]})
    assert [(p.op_type, p.node, p.kind) for p in problems] == [("Add", "join", "ShapeInferenceError")]
    assert shapes["d"] == (1, 4, 32, 32) and shapes["u"] == (1, 4, 63, 63)   # the lenient run's shapes
    shapes, problems = oracle.infer_checked({"x": [1, 3, 65, 65]})
    assert problems == [] and shapes["y"] == (1, 4, 65, 65)
    assert oracle.infer_checked({"x": [1, 3, 64, 64]}, need_shapes=False)[0] is None


def test_parse_problems_and_their_wording():
    text = ("[ShapeInferenceError] Inference error(s): (op_type:Add, node name: join): [ShapeInferenceError] "
            "Incompatible dimensions\n(op_type:Relu): [TypeInferenceError] Input 0 expected to have type but "
            "instead is null, which is not allowed\n(op_type:Conv, node name: c): [TypeInferenceError] bad   type")
    add, conv = parse_problems(text)                 # the Relu's complaint is a cascade of the Add's: left out
    assert add == ShapeProblem("Add", "join", "ShapeInferenceError", "Incompatible dimensions")
    assert conv.message == "bad type" and conv.key == ("Conv", "c", "TypeInferenceError")
    assert add.where() == "Add node 'join'" and add.text() == "Add node 'join': Incompatible dimensions"
    assert ShapeProblem("Add", "", "k", "m").where() == "an Add node"
    assert ShapeProblem("Conv", "", "k", "m").where() == "a Conv node"
    assert parse_problems("") == [] and parse_problems("something else\nbroke") == [
        ShapeProblem("?", "", "InferenceError", "something else broke")]


def test_loop_bodies_get_the_first_iterations_sizes():
    oracle = ShapeOracle(loop_model(2))
    shapes = oracle.infer({"x8": [1, 8, 64, 64]})
    assert shapes["xs"] == (1, 8, 64, 64) and shapes["xs_out"] == (1, 8, 32, 32)   # not the body's declared 32
    assert oracle.loop_notes == ["Loop 'loop': carried value 'xs' changes size across iterations "
                                 "(1x8x64x64 -> 1x8x32x32); sizes inside the body are the first iteration's"]
    same = ShapeOracle(loop_model(1))                 # stride 1: the carried value keeps its size
    assert same.infer({"x8": [1, 8, 64, 64]})["xs_out"] == (1, 8, 64, 64) and same.loop_notes == []


def test_reshape_to_a_computed_shape_below_opset_14_is_upgraded():
    i64 = lambda name, v: numpy_helper.from_array(np.array(v, np.int64), name)  # noqa: E731
    nodes = [helper.make_node("Shape", ["x"], ["sh"]), helper.make_node("Reshape", ["x", "sh"], ["x2"]),
             helper.make_node("Conv", ["x2", "w"], ["y"], kernel_shape=[3, 3])]
    x = helper.make_tensor_value_info("x", 1, [1, 3, 16, 16])
    m = model_y(nodes, [x], [rand_weight("w", 4, 3, 3, 3)], opset=12)
    oracle = ShapeOracle(m)
    assert (oracle.upgraded_from, oracle.upgraded_to) == (12, 14)
    assert oracle.infer({"x": [1, 3, 20, 20]})["y"] == (1, 4, 18, 18)
    # a constant target shape needs no upgrade
    m2 = model_y([helper.make_node("Reshape", ["x", "s"], ["x2"]), helper.make_node("Conv", ["x2", "w"], ["y"])],
                 [helper.make_tensor_value_info("x", 1, [1, 3, 16, 16])], [i64("s", [1, 3, 16, 16]),
                                                                         rand_weight("w", 4, 3, 3, 3)], opset=12)
    assert ShapeOracle(m2).upgraded_from is None
