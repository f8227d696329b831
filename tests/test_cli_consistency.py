"""``onnxsym consistency``: JSON and table outputs, extra inputs, exit codes and bad input, through
the real CLI."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

import consistency_models as cm
from cli_run import run
from onnxsym.consistency import SCHEMA

ort = pytest.importorskip("onnxruntime")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HAS_CUDA_EP = "CUDAExecutionProvider" in ort.get_available_providers()


def test_cli_json_schema(tmp_path, noise_npy):
    model = cm.save(cm.gap_linear(), tmp_path / "m.onnx")
    code, out, err = run("consistency", model, "--images", noise_npy, "--provider", "cpu",
                         "--format", "json", "--seed", "2", "--pairs-per-image", "3")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["schema"] == SCHEMA and doc["provider"] == "cpu" and doc["seed"] == 2
    assert doc["providers_requested"] == ["CPUExecutionProvider"]
    assert doc["images"] == 12 and doc["shift"]["pairs"] == 36
    for key in ("consistency", "pairs", "ci95", "ci95_method"):
        assert key in doc["shift"]
    for key in ("consistency", "images", "ci95"):
        assert key in doc["flip"]
    assert "notes" in doc and "repeat" in doc
    assert "onnxsym consistency:" in err  # the summary line


def test_cli_table_and_output_file(tmp_path, smooth_npy):
    model = cm.save(cm.gap_linear(), tmp_path / "m.onnx")
    code, out, err = run("consistency", model, "--images", smooth_npy, "--provider", "cpu",
                         "-o", tmp_path / "r.txt", "--vertical", "--bgr", "--preset", "unit")
    assert code == 0, err
    text = (tmp_path / "r.txt").read_text()
    assert "flip (vertical)" in text and "BGR" in text and "onnxsym consistency:" in text


@pytest.mark.parametrize("case", ["no_images", "unreadable", "not_image", "wrong_size", "bad_op"])
def test_cli_bad_input_one_line(tmp_path, case):
    model = cm.save(cm.gap_linear(), tmp_path / "m.onnx")
    args = ["consistency", model, "--provider", "cpu"]
    want = 2
    if case == "no_images":
        (tmp_path / "empty").mkdir()
        args += ["--images", tmp_path / "empty"]
    elif case == "unreadable":
        (tmp_path / "bad").mkdir()
        (tmp_path / "bad" / "a.jpg").write_bytes(b"nope")
        args += ["--images", tmp_path / "bad"]
    elif case == "not_image":
        args[1] = cm.save(cm.vector_input(), tmp_path / "v.onnx")
    elif case == "wrong_size":
        args += ["--input-size", "224"]
    elif case == "bad_op":
        args[1] = cm.save(cm.unsupported_op(), tmp_path / "u.onnx")
        want = 3
    code, out, err = run(*args)
    assert code == want, err
    lines = [l for l in err.splitlines() if l.strip()]
    assert len(lines) == 1 and lines[0].startswith("onnxsym: error:"), err
    assert "Traceback" not in err


def _cli(*args, env=None):
    return subprocess.run([sys.executable, "-c", "from onnxsym.cli import main; main()", *map(str, args)],
                          capture_output=True, text=True, cwd=ROOT, timeout=120,
                          env=None if env is None else {**os.environ, **env})


@pytest.mark.skipif(not HAS_CUDA_EP, reason="CPU-only onnxruntime: no CUDA to want")
def test_cli_cuda_wanted_but_cpu_obtained_said_exactly_once(tmp_path, smooth_npy):
    model = cm.save(cm.gap_linear(), tmp_path / "m.onnx")
    # a machine without an NVIDIA GPU: auto means the CPU, and CUDA is not mentioned at all
    p = _cli("consistency", model, "--images", smooth_npy, env={"ONNXSYM_ASSUME_GPU": "0"})
    assert p.returncode == 0 and "CUDA" not in p.stdout + p.stderr, p.stderr
    # a GPU said to be present but CUDA unusable: said once
    p = _cli("consistency", model, "--images", smooth_npy, env={"ONNXSYM_ASSUME_GPU": "1"})
    if "provider cuda" in p.stderr:
        pytest.skip("CUDA works on this machine")
    assert p.returncode == 0, p.stderr
    both = p.stdout + p.stderr
    assert both.count("CUDA was requested") == 1, both
    assert "[E:onnxruntime" not in both and "[W:onnxruntime" not in both
    assert "Failed to load" not in p.stdout
    p = _cli("consistency", model, "--images", smooth_npy, "--provider", "cuda")
    assert p.returncode == 3
    lines = [l for l in p.stderr.splitlines() if l.strip()]
    assert len(lines) == 1 and "CUDA" in lines[0], p.stderr


def test_cosine_metric_is_not_shown_as_a_percentage(tmp_path):
    imgs = np.concatenate([cm.dark_images(3), cm.bright_blob_images(3)])
    np.save(tmp_path / "i.npy", imgs)
    model = cm.save(cm.detector(), tmp_path / "d.onnx")
    code, out, err = run("consistency", model, "--images", tmp_path / "i.npy", "--provider", "cpu",
                         "--format", "json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["metric"] == "cosine_similarity" and doc["output"]["metric"] == "cosine_similarity"
    assert isinstance(doc["shift"]["consistency"], float)
    assert doc["shift"]["excluded_pairs"] == 15 and doc["flip"]["excluded_images"] == 3
    line = [l for l in err.splitlines() if l.startswith("onnxsym consistency:")][0]
    assert "shift cosine 1.000" in line and "%" not in line and "flat left out" in line
    code, out, err = run("consistency", model, "--images", tmp_path / "i.npy", "--provider", "cpu")
    rows = [l for l in out.splitlines() if l.startswith(("shift  ", "flip ("))]
    assert "cosine similarity" in out and "(+3 flat)" in out and len(rows) == 2
    assert all("cosine 1.000" in l and "%" not in l for l in rows)
    # classifiers stay percentages
    code, out, err = run("consistency", cm.save(cm.gap_linear(), tmp_path / "m.onnx"), "--images",
                         tmp_path / "i.npy", "--provider", "cpu", "--format", "json")
    assert json.loads(out)["metric"] == "top1_agreement" and "%" in err


@pytest.mark.parametrize("case", ["seed", "png_model", "text_model", "huge_size", "huge_batch",
                                  "feed_unknown", "feed_bad_value", "feed_bad_shape", "feed_missing",
                                  "feed_twice", "unfed"])
def test_cli_bad_input_exit_2(tmp_path, smooth_npy, case):
    from PIL import Image

    model = cm.save(cm.gap_linear(), tmp_path / "m.onnx")
    args = ["consistency", model, "--provider", "cpu", "--images", smooth_npy]
    want = {"seed": "--seed -1: must be ≥ 0", "png_model": "not a valid ONNX model",
            "text_model": "not an ONNX model", "huge_size": "smaller --input-size",
            "huge_batch": "--batch-size 1", "feed_unknown": "no input 'nope'",
            "feed_bad_value": "expected a .npy file or a number", "feed_bad_shape": "does not match",
            "feed_missing": "file not found", "feed_twice": "given twice", "unfed": "--feed NAME"}[case]
    if case == "seed":
        args += ["--seed", "-1"]
    elif case == "png_model":
        Image.fromarray(cm.smooth_images(1)[0]).save(tmp_path / "x.png")
        args[1] = tmp_path / "x.png"
    elif case == "text_model":
        (tmp_path / "x.onnx").write_text("hello")
        args[1] = tmp_path / "x.onnx"
    elif case in ("huge_size", "huge_batch"):
        args[1] = cm.save(cm.gap_linear(spatial_symbolic=True), tmp_path / "s.onnx")
        args += ["--input-size", "100000"] if case == "huge_size" else ["--input-size", "8000", "--batch-size", "4"]
    else:
        args[1] = cm.save(cm.two_inputs(), tmp_path / "t.onnx")
        np.save(tmp_path / "bad.npy", np.ones((2, 3), np.float32))
        args += {"feed_unknown": ["--feed", "s=1", "--feed", "nope=1"], "feed_bad_value": ["--feed", "s=abc"],
                 "feed_bad_shape": ["--feed", f"s={tmp_path / 'bad.npy'}"],
                 "feed_missing": ["--feed", f"s={tmp_path / 'none.npy'}"],
                 "feed_twice": ["--feed", "s=1", "--feed", "s=2"], "unfed": []}[case]
    code, out, err = run(*args)
    assert code == 2, err
    lines = [l for l in err.splitlines() if l.strip()]
    assert len(lines) == 1 and lines[0].startswith("onnxsym: error:") and want in lines[0], err


def test_cli_feed_npy_scalar_and_broadcast(tmp_path, smooth_npy):
    np.save(tmp_path / "s.npy", np.ones((1, 3), np.float64))   # converted to the input's float32
    m = cm.save(cm.two_inputs(), tmp_path / "t.onnx")
    code, out, err = run("consistency", m, "--images", smooth_npy, "--provider", "cpu",
                         "--feed", f"s={tmp_path / 's.npy'}", "--format", "json")
    assert code == 0, err
    ref = json.loads(out)
    assert ref["flip"]["consistency"] == 1.0
    # the same scale as one row repeated over a batch dimension [N, 3]
    mb = cm.save(cm.two_inputs_batched(), tmp_path / "tb.onnx")
    code, out, err = run("consistency", mb, "--images", smooth_npy, "--provider", "cpu",
                         "--feed", f"s={tmp_path / 's.npy'}", "--format", "json", "--batch-size", "7")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["shift"] == ref["shift"] and any("repeated over the batch" in n for n in doc["notes"])
    # a number, with the input's dtype and shape ([1, 1] temperature)
    mt = cm.save(cm.temperature(), tmp_path / "temp.onnx")
    code, out, err = run("consistency", mt, "--images", smooth_npy, "--provider", "cpu", "--feed", "temp=2")
    assert code == 0, err
    code2, out2, _ = run("consistency", mt, "--images", smooth_npy, "--provider", "cpu", "--feed", "temp=0.5")
    assert code2 == 0 and out.splitlines()[-1] == out2.splitlines()[-1]  # argmax ignores the temperature
