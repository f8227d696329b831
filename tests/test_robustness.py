"""Malformed and odd models: one line on stderr, a documented exit code, never a traceback."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest
from onnx import TensorProto, helper as h

from cli_run import run
from graphs import conv_model, init, save, weight

W = weight()


def one_line_or_none(err):
    return err.count("\n") <= 1 and "internal error" not in err and "Traceback" not in err


def _malformed(tmp_path, what):
    m = conv_model("w", inits=[init("w", W)])
    conv = m.graph.node[-1]
    if what == "auto_pad_bytes":
        conv.attribute.append(h.make_attribute("auto_pad", b"\xff\xfe"))
    elif what == "kernel_shape_float":
        conv.attribute.append(h.make_attribute("kernel_shape", 3.0))
    elif what == "ref_attr":
        a = h.make_attribute("kernel_shape", [3, 3])
        a.ref_attr_name = "foo"
        conv.attribute.append(a)
    elif what == "rank6":
        m.graph.initializer[0].CopyFrom(init("w", np.ones((4, 3, 2, 2, 2, 2), np.float32)))
    elif what == "inf":
        w = W.copy()
        w[...] = np.inf
        w[0, 0, 0, 0] = -np.inf
        m.graph.initializer[0].CopyFrom(init("w", w))
    return save(m, tmp_path / f"{what}.onnx")


@pytest.mark.parametrize("what", ["auto_pad_bytes", "kernel_shape_float", "ref_attr", "rank6", "inf"])
def test_malformed_conv_is_a_row_not_a_crash(tmp_path, what):
    path = _malformed(tmp_path, what)
    for cmd in ("weights", "padding"):
        code, out, err = run(cmd, path, "--format", "json")
        assert code == 0 and one_line_or_none(err) and "Warning" not in err, (what, cmd, err)
    doc = json.loads(run("weights", path, "--format", "json")[1])
    row = doc["layers"][0]
    if what in ("kernel_shape_float", "rank6"):
        assert row["status"] == "unresolved" and row["reason"]
    if what == "inf":
        assert row["status"] == "n/a" and "non-finite" in row["reason"]


def test_model_without_outputs_is_bad_input(tmp_path):
    m = conv_model("w", inits=[init("w", W)])
    del m.graph.output[:]
    path = save(m, tmp_path / "noout.onnx")
    code, _, err = run("consistency", path, "--provider", "cpu")
    assert code == 2 and "no outputs" in err


def test_pickled_npz_and_deeply_nested_json(tmp_path):
    model = save(conv_model("w", inits=[init("w", W)]), tmp_path / "m.onnx")
    np.savez(tmp_path / "p.npz", a=np.array([None, 1], dtype=object))
    code, _, err = run("consistency", model, "--provider", "cpu", "--images", tmp_path / "p.npz")
    assert code == 2 and one_line_or_none(err)
    (tmp_path / "deep.json").write_text("[" * 100000 + "]" * 100000)
    code, _, err = run("compare", tmp_path / "deep.json", model)
    assert code == 2 and one_line_or_none(err)


def test_many_convs_sharing_a_weight_stay_small(tmp_path):
    x = h.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])
    nodes = [h.make_node("Conv", ["x", "w"], [f"y{i}"], name=f"c{i}") for i in range(300)]
    outs = [h.make_tensor_value_info(f"y{i}", TensorProto.FLOAT, None) for i in range(300)]
    m = h.make_model(h.make_graph(nodes, "g", [x], outs, initializer=[init("w", W)]),
                     opset_imports=[h.make_opsetid("", 17)])
    m.ir_version = 8
    code, out, err = run("weights", save(m, tmp_path / "shared.onnx"), "--format", "json")
    rows = json.loads(out)["layers"]
    assert code == 0 and len(rows) == 300
    assert len(rows[0]["shared_with"]) == 8 and rows[0]["shared_count"] == 299
    assert len({r["symmetry"] for r in rows}) == 1


def test_onnxruntime_run_failure_is_one_line_on_the_real_stderr(tmp_path):
    """onnxruntime's own coloured error log must not reach the terminal (checked on fd 2)."""
    m = conv_model("w", inits=[init("w", W)], attrs={"group": 2})  # 3 channels cannot split in 2 groups
    path = save(m, tmp_path / "g.onnx")
    p = subprocess.run([sys.executable, "-m", "onnxsym.cli", "consistency", str(path), "--provider", "cpu",
                        "--pairs-per-image", "1"], capture_output=True, text=True,
                       env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    assert p.returncode in (2, 3), p.stderr
    assert p.stderr.count("\n") == 1 and p.stderr.startswith("onnxsym: error:"), p.stderr


def test_non_utf8_model_path_in_audit_reports(tmp_path):
    name = os.fsdecode(b"bad\xffname.onnx")
    path = save(conv_model("w", inits=[init("w", W)]), tmp_path / name)
    code, _, err = run("audit", path, "--no-run", "--json", tmp_path / "a.json", "--html", tmp_path / "a.html")
    assert code == 0, err
    assert (tmp_path / "a.html").read_text(encoding="utf-8").startswith("<!")
    code, _, err = run("consistency", path, "--provider", "cpu", "--pairs-per-image", "1")
    assert code == 0, err  # onnxruntime takes only UTF-8 paths: the model goes in as bytes
