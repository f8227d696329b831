"""Golden outputs: the JSON documents of ``weights``, ``padding``, ``consistency`` (CPU, seed 0) and
``audit --no-run`` for every shipped model and a dozen test graphs, normalised (no timings, no
machine paths), kept in ``tests/golden/`` and compared by ``tests/test_golden.py``.

A deliberate change of an output is one commit that regenerates them and says so:

    python tests/golden.py --update          # all cases
    python tests/golden.py --update CASE...  # some
"""
from __future__ import annotations

import json
import math
import os
import re
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
GOLDEN = os.path.join(HERE, "golden")
if HERE not in sys.path:
    sys.path.insert(0, HERE)

import numpy as np  # noqa: E402
from onnx import TensorProto, helper  # noqa: E402

# keys whose values depend on the machine or the moment, not on the model
VOLATILE = {"timings", "seconds", "timing", "inputs_per_second", "load_s", "layers_s", "total_s",
            "weights_s", "consistency_s", "onnxsym_version", "versions"}
_TIME = re.compile(r" \| \d+(\.\d+)? s$")


def _shipped(name):
    return os.path.join(ROOT, "models", name)


def _builders():
    """name -> (function(tmp dir) -> model path, commands). Commands: weights, padding,
    audit (``--no-run``), consistency (with its extra CLI arguments)."""
    import consistency_models as cm
    import graphs

    def save(model, tmp, name):
        path = os.path.join(tmp, name + ".onnx")
        graphs.save(model, path)
        return path

    def images(tmp, kind):
        path = os.path.join(tmp, f"{kind}.npy")
        arr = {"random": cm.random_images, "smooth": cm.smooth_images}[kind](n=6, hw=(48, 60))
        if kind == "blobs":  # pragma: no cover
            arr = np.concatenate([cm.dark_images(3), cm.bright_blob_images(3)])
        np.save(path, arr)
        return path

    def blob_images(tmp):
        path = os.path.join(tmp, "blobs.npy")
        np.save(path, np.concatenate([cm.dark_images(3), cm.bright_blob_images(3)]))
        return path

    def if_model():
        x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 16, 16])
        cond = helper.make_tensor_value_info("c", TensorProto.BOOL, [])

        def branch(tag, stride):
            return helper.make_graph(
                [helper.make_node("Conv", ["x", "w"], [f"o{tag}"], name=f"conv_{tag}", kernel_shape=[3, 3],
                                  strides=[stride, stride], pads=[1, 1, 1, 1])], f"b{tag}", [],
                [helper.make_tensor_value_info(f"o{tag}", TensorProto.FLOAT, None)])

        node = helper.make_node("If", ["c"], ["y"], then_branch=branch("t", 2), else_branch=branch("e", 1), name="if")
        g = helper.make_graph([node], "g", [x, cond], [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
                              [graphs.rand_weight("w", 4, 3, 3, 3)])
        m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
        m.ir_version = 8
        return m

    def function_model():
        body = [helper.make_node("Conv", ["a", "k"], ["b"], kernel_shape=[3, 3], pads=[1, 1, 1, 1], strides=[2, 2])]
        fn = helper.make_function("local", "block", ["a", "k"], ["b"], body, [helper.make_opsetid("", 17)])
        rng = np.random.default_rng(3)
        w1 = graphs.init("w1", rng.standard_normal((3, 3, 3, 3)).astype(np.float32))
        w2 = graphs.init("w2", (rng.standard_normal((3, 3, 3, 3)) + 1).astype(np.float32))
        nodes = [helper.make_node("block", ["x", "w1"], ["t"], domain="local", name="call1"),
                 helper.make_node("block", ["t", "w2"], ["y"], domain="local", name="call2")]
        x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 32, 32])
        g = helper.make_graph(nodes, "g", [x], [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], [w1, w2])
        m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("local", 1)],
                              functions=[fn])
        m.ir_version = 8
        return m

    def qdq_model():
        rng = np.random.default_rng(5)
        q = rng.integers(-127, 127, size=(6, 3, 3, 3)).astype(np.int8)
        nodes = [helper.make_node("DequantizeLinear", ["wq", "ws", "wz"], ["w"], axis=0, name="dq")]
        inits = [graphs.init("wq", q), graphs.init("ws", (rng.random(6) * 0.02 + 0.01).astype(np.float32)),
                 graphs.init("wz", np.zeros(6, np.int8))]
        return graphs.conv_model("w", nodes=nodes, inits=inits, attrs={"strides": [2, 2], "pads": [1, 1, 1, 1]})

    W = {"weights": [], "padding": [], "audit": []}
    cases = {
        "mobilenet_v2": (lambda t: _shipped("mobilenet_v2.onnx"),
                         {**W, "consistency": ["--pairs-per-image", "3"]}),
        "keras_digits": (lambda t: _shipped("keras_digits.onnx"),
                         {**W, "consistency": ["--preset", "unit"]}),
        "ppocr_det": (lambda t: _shipped("ppocr/ch_PP-OCRv4_det_infer.onnx"),
                      {"weights": [], "padding": ["--input-shape", "1x3x320x320"],
                       "audit": ["--input-shape", "1x3x320x320"],
                       "consistency": ["--input-size", "160", "--pairs-per-image", "2"]}),
        "ppocr_rec": (lambda t: _shipped("ppocr/ch_PP-OCRv4_rec_infer.onnx"),
                      {"weights": [], "padding": ["--input-shape", "1x3x48x320"], "audit": [],
                       "consistency": ["--input-size", "48x320", "--pairs-per-image", "2"]}),
        "ppocr_cls": (lambda t: _shipped("ppocr/ch_ppocr_mobile_v2.0_cls_infer.onnx"),
                      {**W, "consistency": ["--input-size", "48x192", "--pairs-per-image", "2"]}),
        "tiny_conv": (lambda t: save(graphs.conv_model("w", inits=[graphs.init("w", graphs.weight())]), t, "tiny"), W),
        "resnet_stem": (lambda t: save(graphs.stack_model([1, 3, 224, 224], graphs.RESNET_STEM), t, "stem"), W),
        "nhwc_stack": (lambda t: save(graphs.stack_model([1, 64, 64, 3], [("conv", 3, 2, "SAME_UPPER"),
                                                                     ("conv", 3, 2, "SAME_UPPER")], "NHWC"), t, "nhwc"), W),
        "conv_transpose": (lambda t: save(graphs.layer_model([1, 3, 16, 16], (4, 4), (2, 2), pads=[1, 1, 1, 1],
                                                        op="ConvTranspose"), t, "ct"), W),
        "conv_1d": (lambda t: save(graphs.layer_model([1, 3, 50], (5,), (2,), pads=[2, 2]), t, "c1"), W),
        "conv_3d": (lambda t: save(graphs.layer_model([1, 3, 8, 16, 16], (3, 3, 3), (2, 2, 2), pads=[1] * 6), t, "c3"), W),
        "maxpool_ceil": (lambda t: save(graphs.layer_model([1, 3, 17, 17], (3, 3), (2, 2), op="MaxPool", ceil_mode=1),
                                        t, "pool"), {"padding": [], "audit": []}),
        "unet": (lambda t: save(graphs.unet_like("ConvTranspose"), t, "unet"), W),
        "loop": (lambda t: save(graphs.loop_model(2), t, "loop"), W),
        "two_inputs": (lambda t: save(graphs.two_input_model([1, 3, 64, 64], [1, 3, 32, 32]), t, "two"), W),
        "if_branches": (lambda t: save(if_model(), t, "if"), W),
        "functions": (lambda t: save(function_model(), t, "fn"), W),
        "qdq_weight": (lambda t: save(qdq_model(), t, "qdq"), W),
        "classifier": (lambda t: save(cm.gap_linear(), t, "cls"),
                       {"consistency": ["--images", "@random", "--pairs-per-image", "3"]}),
        "binary": (lambda t: save(cm.binary(), t, "bin"),
                   {"consistency": ["--images", "@smooth", "--pairs-per-image", "3"]}),
        "detector": (lambda t: save(cm.detector(), t, "det"), {"consistency": ["--images", "@blobs"]}),
        "embedding": (lambda t: save(cm.embedding(), t, "emb"),
                      {"consistency": ["--images", "@smooth", "--pairs-per-image", "2"]}),
    }
    return cases, {"random": lambda t: images(t, "random"), "smooth": lambda t: images(t, "smooth"),
                   "blobs": blob_images}


def normalise(doc, tmp: str):
    """``doc`` with volatile values removed and machine paths replaced by placeholders."""
    if isinstance(doc, dict):
        return {k: normalise(v, tmp) for k, v in doc.items() if k not in VOLATILE}
    if isinstance(doc, list):
        return [normalise(v, tmp) for v in doc]
    if isinstance(doc, str):
        s = doc.replace(tmp, "<tmp>").replace(ROOT, "<repo>")
        return _TIME.sub(" | <time>", s)
    if isinstance(doc, float) and not math.isfinite(doc):  # pragma: no cover - JSON has no NaN
        return str(doc)
    return doc


def produce(name: str) -> dict:
    """{command: normalised JSON document} for one case."""
    from click.testing import CliRunner

    from onnxsym.cli import main

    cases, image_sets = _builders()
    build, commands = cases[name]
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = os.path.realpath(tmp)
        model = build(tmp)
        for command, extra in commands.items():
            extra = [image_sets[a[1:]](tmp) if a.startswith("@") else a for a in extra]
            target = os.path.join(tmp, f"{command}.json")
            if command == "audit":
                args = ["audit", model, "--no-run", "--json", target, *extra]
            elif command == "consistency":
                args = ["consistency", model, "--provider", "cpu", "--seed", "0", "--format", "json",
                        "-o", target, *extra]
            else:
                args = [command, model, "--format", "json", "-o", target, *extra]
            r = CliRunner().invoke(main, args)
            if r.exit_code not in (0, 1):
                raise RuntimeError(f"{name} {command}: exit {r.exit_code}: {r.stderr.strip()}")
            with open(target) as fh:
                out[command] = normalise(json.load(fh), tmp)
    return out


def case_names() -> list:
    return list(_builders()[0])


def path_of(name: str) -> str:
    return os.path.join(GOLDEN, f"{name}.json")


def main(argv):
    if not argv or argv[0] != "--update":
        print(__doc__)
        return 2
    names = argv[1:] or case_names()
    os.makedirs(GOLDEN, exist_ok=True)
    for name in names:
        doc = produce(name)
        with open(path_of(name), "w") as fh:
            json.dump(doc, fh, indent=1, sort_keys=True)
            fh.write("\n")
        print(f"wrote {os.path.relpath(path_of(name), ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
