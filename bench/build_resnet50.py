"""Write a runnable ResNet-50 ONNX with random (He-initialised) weights, for throughput checks.

    python bench/build_resnet50.py [OUT.onnx]      (default bench/_work/resnet50_runnable.onnx)

The architecture is torchvision's ResNet-50 v1.5 (stride on the 3×3 conv of each bottleneck),
BatchNorm folded into conv biases as an exporter would, input ``input`` [N,3,224,224] with a dynamic
batch, output ``logits`` [N,1000]; opset 17, IR 8 (onnxruntime-gpu 1.31 reads IR ≤ 13). Random
weights are fine for timing and shape checks; they carry no symmetry. Needs onnx and numpy only.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper as h, numpy_helper as nh


def build(path: Path) -> Path:
    rng = np.random.default_rng(0)
    nodes, inits = [], []

    def conv(x, cin, cout, k, stride=1, relu=True, name=""):
        w = (rng.standard_normal((cout, cin, k, k)) * np.sqrt(2.0 / (cin * k * k))).astype(np.float32)
        b = np.zeros(cout, np.float32)
        inits.extend([nh.from_array(w, f"{name}.w"), nh.from_array(b, f"{name}.b")])
        nodes.append(h.make_node("Conv", [x, f"{name}.w", f"{name}.b"], [f"{name}.y"], name=name,
                                 kernel_shape=[k, k], strides=[stride, stride], pads=[k // 2] * 4))
        if not relu:
            return f"{name}.y"
        nodes.append(h.make_node("Relu", [f"{name}.y"], [f"{name}.r"]))
        return f"{name}.r"

    x = conv("input", 3, 64, 7, 2, name="conv1")
    nodes.append(h.make_node("MaxPool", [x], ["pool1"], kernel_shape=[3, 3], strides=[2, 2], pads=[1] * 4))
    x, cin = "pool1", 64
    for stage, (width, blocks) in enumerate([(64, 3), (128, 4), (256, 6), (512, 3)], start=1):
        for b in range(blocks):
            stride = 2 if b == 0 and stage > 1 else 1
            name = f"layer{stage}.{b}"
            y = conv(x, cin, width, 1, name=f"{name}.conv1")
            y = conv(y, width, width, 3, stride, name=f"{name}.conv2")
            y = conv(y, width, width * 4, 1, relu=False, name=f"{name}.conv3")
            skip = conv(x, cin, width * 4, 1, stride, relu=False, name=f"{name}.downsample") if b == 0 else x
            nodes.append(h.make_node("Add", [y, skip], [f"{name}.sum"]))
            nodes.append(h.make_node("Relu", [f"{name}.sum"], [f"{name}.out"]))
            x, cin = f"{name}.out", width * 4
    nodes.append(h.make_node("GlobalAveragePool", [x], ["gap"]))
    nodes.append(h.make_node("Flatten", ["gap"], ["flat"]))
    fc = (rng.standard_normal((1000, 2048)) * np.sqrt(1.0 / 2048)).astype(np.float32)
    inits.extend([nh.from_array(fc, "fc.w"), nh.from_array(np.zeros(1000, np.float32), "fc.b")])
    nodes.append(h.make_node("Gemm", ["flat", "fc.w", "fc.b"], ["logits"], transB=1))
    graph = h.make_graph(nodes, "resnet50", [h.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 3, 224, 224])],
                         [h.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", 1000])], initializer=inits)
    model = h.make_model(graph, opset_imports=[h.make_opsetid("", 17)], producer_name="onnxsym bench")
    model.ir_version = 8
    onnx.checker.check_model(model)
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(path))
    return path


if __name__ == "__main__":
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parent / "_work" / "resnet50_runnable.onnx"
    print(f"wrote {build(out)} ({out.stat().st_size / 1e6:.0f} MB)")
