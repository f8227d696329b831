"""``onnxsym padding``: the table and JSON, exit codes and bad input, through the real CLI."""
from __future__ import annotations

import json
import os

import numpy as np
import onnx
import pytest
from click.testing import CliRunner
from onnx import TensorProto, helper, numpy_helper

from graphs import RESNET_STEM, model_y, rand_weight, stack_model
from onnxsym.cli import main

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MOBILENET = os.path.join(ROOT, "models", "mobilenet_v2.onnx")
PPOCR_DET = os.path.join(ROOT, "models", "ppocr", "ch_PP-OCRv4_det_infer.onnx")


@pytest.fixture()
def stem_path(tmp_path):
    p = tmp_path / "stem.onnx"
    onnx.save(stack_model(["N", 3, 224, 224], RESNET_STEM), p)
    return str(p)


def test_cli_table_and_json(stem_path, tmp_path):
    runner = CliRunner()
    res = runner.invoke(main, ["padding", stem_path, "--no-skew"])
    assert res.exit_code == 0, res.output
    assert "summary: 4 of 4 stride-2 convs pad unevenly at 224×224 (all top-left)" in res.output
    assert "suggested sizes (nearest first): 225×225" in res.output
    out = tmp_path / "pad.json"
    res = runner.invoke(main, ["padding", stem_path, "--no-skew", "--format", "json", "-o", str(out),
                               "--range", "200:250", "--input-shape", "1x3x225x225"])
    assert res.exit_code == 0, res.output
    data = json.loads(out.read_text())
    assert data["schema"] == "onnxsym.padding/1"
    assert data["summary"]["strided_convs_uneven"] == 0
    assert data["suggestions"]["range"] == [200, 250]
    assert data["layers"][0]["sides"] == {"top": 3, "bottom": 3, "left": 3, "right": 3}
    res = runner.invoke(main, ["padding", stem_path, "--no-skew", "--no-suggest", "--format", "json"])
    assert json.loads(res.stdout)["suggestions"] is None


@pytest.mark.parametrize("args,match", [
    (["--input-shape", "1x3x224"], "has 3 dims"),
    (["--input-shape", "1x3x0x224"], "zero or negative"),
    (["--input-shape", "1x3x-1x224"], "zero or negative"),
    (["--input-shape", "axb"], "cannot parse"),
    (["--range", "300:200"], "range"),
])
def test_cli_bad_input_exit_2(stem_path, args, match):
    res = CliRunner().invoke(main, ["padding", stem_path, "--no-skew", *args])
    assert res.exit_code == 2
    assert match in res.output and "Traceback" not in res.output
    assert len([ln for ln in res.output.splitlines() if ln.strip()]) == 1


def test_cli_not_images_and_missing_file(tmp_path):
    nodes = [helper.make_node("Reshape", ["x", "shp"], ["r"]),
             helper.make_node("Conv", ["r", "w"], ["y"], kernel_shape=[3, 3])]
    m = model_y(nodes, [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3072])],
               [numpy_helper.from_array(np.array([1, 3, 32, 32], np.int64), "shp"), rand_weight("w", 4, 3, 3, 3)])
    p = tmp_path / "flat.onnx"
    onnx.save(m, p)
    res = CliRunner().invoke(main, ["padding", str(p), "--no-skew"])
    assert res.exit_code == 2 and "no image input" in res.output
    res = CliRunner().invoke(main, ["padding", str(tmp_path / "missing.onnx")])
    assert res.exit_code == 2


def test_cli_no_convolutions_exit_0(tmp_path):
    m = model_y([helper.make_node("Relu", ["x"], ["y"])],
               [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])])
    p = tmp_path / "relu.onnx"
    onnx.save(m, p)
    res = CliRunner().invoke(main, ["padding", str(p)])
    assert res.exit_code == 0 and "no convolutions or pools" in res.output


@pytest.mark.skipif(not os.path.exists(MOBILENET), reason="models/mobilenet_v2.onnx not built")
def test_mobilenet_v2_cli_with_skews():
    res = CliRunner().invoke(main, ["padding", MOBILENET, "--format", "json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    uneven = [r for r in data["layers"] if r["uneven"]]
    assert len(uneven) == 5
    # skews come from the weights report and join by layer id
    assert all(r["skew"] is not None and r["leans_toward_padding"] is not None for r in uneven)
    assert data["summary"]["skew_checked"] == 5


@pytest.mark.skipif(not os.path.exists(MOBILENET), reason="models/mobilenet_v2.onnx not built")
def test_mobilenet_table_is_compact_and_headed():
    res = CliRunner().invoke(main, ["padding", MOBILENET])
    assert res.exit_code == 0, res.output
    lines = res.output.splitlines()
    assert lines[0] == "Padding at 224×224 (input 'input', NCHW)"
    assert max(len(ln) for ln in lines) <= 112
    assert "features.1/conv.0.0 " in res.output and "/features/features.1" not in res.output
    assert "3×3/2" in res.output and "224×224" in res.output
    assert "caveat: the model's input is fixed at 224×224: re-export it with a 225×225 (or dynamic) input" \
        in res.output
    assert "e.g. --input-shape 1x3x225x225" in res.output


@pytest.mark.skipif(not os.path.exists(PPOCR_DET), reason="PP-OCR det model not shipped")
def test_ppocr_det_without_shape_is_analysed_at_a_chosen_size():
    res = CliRunner().invoke(main, ["padding", PPOCR_DET, "--no-skew"])
    assert res.exit_code == 0, res.output
    lines = res.output.splitlines()
    assert lines[0].startswith("Padding at 224×224") and max(len(ln) for ln in lines) <= 110
    assert res.output.count("symbolic spatial size") == 1 and "give --input-size" in res.output
    assert "5 of 5 stride-2 convs pad unevenly at 224×224" in res.output
    assert "unresolved" not in res.output and "unknown" not in res.output
