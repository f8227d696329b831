"""``onnxsym weights``: outputs, exit codes and bad input, through the real CLI."""
import csv
import io
import json
import os

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper as h

from cli_run import run
import naive
from graphs import conv_model, init, save, weight

W = weight()
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture
def model(tmp_path):
    return save(conv_model("w", inits=[init("w", W)]), tmp_path / "m.onnx")


def test_json_schema_and_values(model):
    code, out, err = run("weights", model, "--format", "json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["schema"] == "onnxsym.weights/1"
    layer = doc["layers"][0]
    for key in ("id", "op_type", "weight_shape", "status", "reason", "symmetry", "terms", "mean_kernel"):
        assert key in layer
    assert layer["status"] == "ok" and layer["weight_shape"] == [4, 3, 3, 3]
    ref_k = naive.mean_kernel(W)
    s, terms = naive.symmetry(ref_k)
    assert layer["symmetry"] == pytest.approx(s, abs=1e-6)
    assert set(layer["terms"]) == set(terms)
    for k, v in terms.items():
        assert layer["terms"][k] == pytest.approx(v, abs=1e-6)
    np.testing.assert_allclose(layer["mean_kernel"], ref_k, atol=1e-8)
    assert doc["summary"]["conv_nodes"] == 1 and doc["summary"]["analysed"] == 1


def test_csv_and_table_and_atomic_output(model, tmp_path):
    out_file = tmp_path / "r.csv"
    code, out, err = run("weights", model, "--format", "csv", "-o", out_file)
    assert code == 0 and out == ""
    rows = list(csv.DictReader(io.StringIO(out_file.read_text())))
    assert rows[0]["id"] == "the_conv" and float(rows[0]["symmetry"]) > 0.5
    assert not [p for p in os.listdir(tmp_path) if p.endswith(".tmp")]
    code, out, _ = run("weights", model)
    assert code == 0 and "the_conv" in out and out.strip().splitlines()[-1].startswith("onnxsym weights:")


def test_version_and_help():
    code, out, _ = run("--version")
    assert code == 0 and "0.1.0" in out
    code, out, _ = run("weights", "--help")
    assert code == 0 and "--format" in out


def _bad_inputs(tmp_path):
    cases = {}
    cases["missing"] = tmp_path / "nope.onnx"
    cases["directory"] = tmp_path
    (tmp_path / "empty.onnx").write_bytes(b"")
    cases["empty"] = tmp_path / "empty.onnx"
    (tmp_path / "random.onnx").write_bytes(np.random.default_rng(0).bytes(4096))
    cases["random"] = tmp_path / "random.onnx"
    good = conv_model("w", inits=[init("w", weight((64, 32, 3, 3)))]).SerializeToString()
    (tmp_path / "trunc.onnx").write_bytes(good[: len(good) // 2])
    cases["truncated"] = tmp_path / "trunc.onnx"
    sub = tmp_path / "sub"
    sub.mkdir()
    onnx.save(conv_model("w", inits=[init("w", W)]), str(sub / "ext.onnx"), save_as_external_data=True,
              location="ext.bin", size_threshold=0)
    os.remove(sub / "ext.bin")
    cases["missing external"] = sub / "ext.onnx"
    m = conv_model("w", inits=[init("w", W)])
    onnx.save(m, str(tmp_path / "esc.onnx"), save_as_external_data=True, location="esc.bin", size_threshold=0)
    esc = onnx.load(str(tmp_path / "esc.onnx"), load_external_data=False)
    for e in esc.graph.initializer[0].external_data:
        if e.key == "location":
            e.value = "../esc.bin"
    (sub / "escape.onnx").write_bytes(esc.SerializeToString())
    cases["escaping external"] = sub / "escape.onnx"
    return cases


def test_bad_inputs_one_line_exit_2_nothing_written(tmp_path):
    for what, path in _bad_inputs(tmp_path).items():
        out_file = tmp_path / f"out-{what.replace(' ', '_')}.json"
        code, out, err = run("weights", path, "--format", "json", "-o", out_file)
        assert code == 2, (what, code, err)
        lines = err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("onnxsym: error:"), (what, err)
        assert "Traceback" not in err and not out_file.exists(), what


def test_model_without_convolutions_exits_0_with_message(tmp_path):
    x = h.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3])
    y = h.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3])
    m = h.make_model(h.make_graph([h.make_node("Relu", ["x"], ["y"])], "g", [x], [y]),
                     opset_imports=[h.make_opsetid("", 17)])
    m.ir_version = 8
    save(m, tmp_path / "relu.onnx")
    code, out, err = run("weights", tmp_path / "relu.onnx")
    assert code == 0 and "no convolutions" in err


def test_nan_and_zero_weights_reported_per_layer(tmp_path):
    wn = W.copy()
    wn[0, 0, 0, 0] = np.nan
    x = h.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])
    y = h.make_tensor_value_info("y", TensorProto.FLOAT, None)
    nodes = [h.make_node("Conv", ["x", "wn"], ["a"], name="nan_conv"),
             h.make_node("Conv", ["x", "wz"], ["b"], name="zero_conv"),
             h.make_node("Conv", ["x", "w"], ["c"], name="good_conv"),
             h.make_node("Sum", ["a", "b", "c"], ["y"])]
    inits = [init("wn", wn), init("wz", np.zeros_like(W)), init("w", W)]
    m = h.make_model(h.make_graph(nodes, "g", [x], [y], initializer=inits), opset_imports=[h.make_opsetid("", 17)])
    m.ir_version = 8
    save(m, tmp_path / "nan.onnx")
    code, out, err = run("weights", tmp_path / "nan.onnx", "--format", "json")
    assert code == 0, err
    rows = {r["id"]: r for r in json.loads(out)["layers"]}
    assert rows["nan_conv"]["status"] == "n/a" and "non-finite" in rows["nan_conv"]["reason"]
    assert rows["zero_conv"]["status"] == "n/a" and "zero" in rows["zero_conv"]["reason"]
    assert rows["good_conv"]["status"] == "ok"


def test_external_data_past_2gb_is_memory_mapped(tmp_path):
    """A weight stored past the 2 GiB mark of a sparse external-data file (no disk used)."""
    m = conv_model("w", inits=[init("w", W)])
    onnx.save(m, str(tmp_path / "big.onnx"), save_as_external_data=True, location="big.bin", size_threshold=0)
    proto = onnx.load(str(tmp_path / "big.onnx"), load_external_data=False)
    offset = 2 ** 31 + 4096
    with open(tmp_path / "big.bin", "r+b") as fh:
        data = fh.read()
        fh.truncate(offset + len(data) + 1024)
        fh.seek(offset)
        fh.write(data)
    for e in proto.graph.initializer[0].external_data:
        if e.key == "offset":
            e.value = str(offset)
    (tmp_path / "big.onnx").write_bytes(proto.SerializeToString())
    code, out, err = run("weights", tmp_path / "big.onnx", "--format", "json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["layers"][0]["symmetry"] == pytest.approx(naive.symmetry(naive.mean_kernel(W))[0], abs=1e-6)
    assert doc["model"]["external_bytes"] > 2 ** 31


def test_model_file_is_never_modified(model):
    before = (model.read_bytes(), os.stat(model).st_mtime_ns)
    run("weights", model, "--format", "json")
    assert (model.read_bytes(), os.stat(model).st_mtime_ns) == before


@pytest.mark.skipif(not os.path.exists(os.path.join(ROOT, "models", "mobilenet_v2.onnx")), reason="model not built")
def test_mobilenet_v2_calibration_of_metric_md():
    code, out, err = run("weights", os.path.join(ROOT, "models", "mobilenet_v2.onnx"), "--format", "json")
    assert code == 0, err
    s = json.loads(out)["summary"]
    assert s["conv_nodes"] == 52 and s["analysed"] == 18 and s["one_by_one"] == 34
    assert s["first_layer"]["symmetry"] == pytest.approx(0.455, abs=0.002)
    assert s["internal"]["n"] == 17
    assert s["internal"]["median_symmetry"] == pytest.approx(0.786, abs=0.002)


def test_1d_and_3d_convs_report_their_own_terms_and_the_seven_as_null(tmp_path):
    rng = np.random.default_rng(4)
    w1 = rng.standard_normal((4, 2, 5)).astype(np.float32)
    w3 = rng.standard_normal((3, 2, 3, 3, 3)).astype(np.float32)
    x1 = h.make_tensor_value_info("x1", TensorProto.FLOAT, [1, 2, 16])
    x3 = h.make_tensor_value_info("x3", TensorProto.FLOAT, [1, 2, 8, 8, 8])
    y1 = h.make_tensor_value_info("y1", TensorProto.FLOAT, None)
    y3 = h.make_tensor_value_info("y3", TensorProto.FLOAT, None)
    nodes = [h.make_node("Conv", ["x1", "w1"], ["y1"], name="c1d"), h.make_node("Conv", ["x3", "w3"], ["y3"], name="c3d")]
    m = h.make_model(h.make_graph(nodes, "g", [x1, x3], [y1, y3], initializer=[init("w1", w1), init("w3", w3)]),
                     opset_imports=[h.make_opsetid("", 17)])
    m.ir_version = 8
    save(m, tmp_path / "nd.onnx")
    code, out, err = run("weights", tmp_path / "nd.onnx", "--format", "json")
    assert code == 0, err
    rows = {r["id"]: r for r in json.loads(out)["layers"]}
    for rid, w in (("c1d", w1), ("c3d", w3)):
        s, terms = naive.symmetry(naive.mean_kernel(w))
        row = rows[rid]
        assert row["symmetry"] == pytest.approx(s, abs=1e-6)
        assert all(row["terms"][k] is None for k in ("rot90", "flip_lr", "antitranspose"))
        for k, v in terms.items():
            assert row["terms"][k] == pytest.approx(v, abs=1e-6)
