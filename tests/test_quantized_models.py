"""The shipped MobileNetV2, quantized by onnxruntime's own tools (QDQ, QOperator/QLinearConv,
dynamic/ConvInteger), must give the float model's symmetry within the precision of int8."""
import os

import numpy as np
import pytest

from onnxsym import analyze_weights

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODEL = os.path.join(ROOT, "models", "mobilenet_v2.onnx")
quantization = pytest.importorskip("onnxruntime.quantization")


class _Reader(quantization.CalibrationDataReader):
    def __init__(self):
        self.left = 2

    def get_next(self):
        if not self.left:
            return None
        self.left -= 1
        return {"input": np.random.default_rng(self.left).standard_normal((1, 3, 224, 224)).astype(np.float32)}


@pytest.fixture(scope="module")
def reference():
    return analyze_weights(MODEL)


@pytest.mark.parametrize("kind", ["qdq", "qoperator", "dynamic"])
def test_quantized_mobilenet_matches_float(tmp_path, reference, kind):
    out = str(tmp_path / f"{kind}.onnx")
    q = quantization
    if kind == "dynamic":
        q.quantize_dynamic(MODEL, out, weight_type=q.QuantType.QUInt8)
        op = "ConvInteger"
    else:
        fmt = q.QuantFormat.QDQ if kind == "qdq" else q.QuantFormat.QOperator
        q.quantize_static(MODEL, out, _Reader(), quant_format=fmt, per_channel=True,
                          weight_type=q.QuantType.QInt8)
        op = "Conv" if kind == "qdq" else "QLinearConv"
    report = analyze_weights(out)
    s = report.summary
    assert (s.conv_nodes, s.analysed, s.unresolved) == (52, 18, 0)
    assert {r.op_type for r in report.layers} == {op}
    pairs = [(a.symmetry, b.symmetry) for a, b in zip(reference.layers, report.layers) if a.symmetry is not None]
    assert len(pairs) == 18 and all(b is not None for _, b in pairs)
    assert max(abs(a - b) for a, b in pairs) < 0.004
    assert s.internal["median_symmetry"] == pytest.approx(reference.summary.internal["median_symmetry"], abs=0.002)
