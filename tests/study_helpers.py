"""Small inputs for the study tests: a few digits images and their labels, models built in code."""
from __future__ import annotations

import json
import os

import numpy as np
from onnx import TensorProto, helper as h, numpy_helper as nh

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ZOO = os.path.join(ROOT, "models", "zoo")
DIGITS = ["digits_s2_zero_noflip", "digits_s2_zero_flip", "digits_pool_zero_noflip", "digits_s2_zero_noflip_e0",
          "digits_s2_zero_noflip_e1", "digits_s2_zero_noflip_e3", "digits_pool_zero_flip", "digits_s2_reflect_flip",
          "digits_s2_reflect_noflip", "digits_pool_reflect_flip", "digits_pool_reflect_noflip"]


def zoo(name: str) -> str:
    return os.path.join(ZOO, name if name.endswith(".onnx") else name + ".onnx")


def small_digits(folder, n: int = 16) -> tuple[str, str]:
    """(images .npy, labels .json) of the first ``n`` zoo test digits, named ``small.npy[i]``."""
    images = np.load(os.path.join(ZOO, "digits_test.npy"))[:n]
    labels = json.load(open(os.path.join(ZOO, "digits_test_labels.json")))
    npy, lab = os.path.join(folder, "small.npy"), os.path.join(folder, "small_labels.json")
    np.save(npy, images)
    with open(lab, "w") as fh:
        json.dump({f"small.npy[{i}]": labels[f"digits_test.npy[{i}]"] for i in range(n)}, fh)
    return npy, lab


def vector_model(path, seed: int = 0):
    """x [N,3,16,16] → Conv 3×3 → [N,1,16,16]: a one-channel map (compared by cosine), no classifier."""
    rng = np.random.default_rng(seed)
    x = h.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 3, 16, 16])
    y = h.make_tensor_value_info("y", TensorProto.FLOAT, None)
    w = nh.from_array(rng.standard_normal((1, 3, 3, 3)).astype(np.float32), "w")
    nodes = [h.make_node("Conv", ["x", "w"], ["y"], pads=[1, 1, 1, 1], name="c1")]
    m = h.make_model(h.make_graph(nodes, "g", [x], [y], initializer=[w]), opset_imports=[h.make_opsetid("", 17)])
    m.ir_version = 8
    import onnx

    onnx.save(m, str(path))
    return str(path)


def no_image_model(path):
    """x [N, 8] → MatMul: no image input (the consistency run refuses it), no conv."""
    x = h.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 8])
    y = h.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 4])
    w = nh.from_array(np.ones((8, 4), np.float32), "w")
    m = h.make_model(h.make_graph([h.make_node("MatMul", ["x", "w"], ["y"])], "g", [x], [y], initializer=[w]),
                     opset_imports=[h.make_opsetid("", 17)])
    m.ir_version = 8
    import onnx

    onnx.save(m, str(path))
    return str(path)


def symbolic_model(path):
    """x [N,3,H,W] → Conv 3×3 stride 2 → GlobalAveragePool → Flatten → [N, 4] (symbolic H, W)."""
    rng = np.random.default_rng(3)
    x = h.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 3, "H", "W"])
    y = h.make_tensor_value_info("y", TensorProto.FLOAT, None)
    w = nh.from_array(rng.standard_normal((4, 3, 3, 3)).astype(np.float32), "w")
    nodes = [h.make_node("Conv", ["x", "w"], ["c"], pads=[1, 1, 1, 1], strides=[2, 2], name="c1"),
             h.make_node("GlobalAveragePool", ["c"], ["g"]), h.make_node("Flatten", ["g"], ["y"])]
    m = h.make_model(h.make_graph(nodes, "g", [x], [y], initializer=[w]), opset_imports=[h.make_opsetid("", 17)])
    m.ir_version = 8
    import onnx

    onnx.save(m, str(path))
    return str(path)


def strip_timing(rows) -> list:
    """Rows as dicts without their run-dependent part."""
    return [{k: v for k, v in (r if isinstance(r, dict) else r.to_dict()).items() if k != "timing"} for r in rows]
