"""``onnxsym study``: outputs, exit codes, messages in flags, outputs never overwrite inputs."""
import csv
import json
import shutil

import pytest

from cli_run import run
from onnxsym.report.study_render import CSV_TEXT_COLUMNS, PANDAS_NA
from onnxsym.schema import validate
from onnxsym.study import JSON_SCHEMA
from study_helpers import small_digits, zoo


@pytest.fixture()
def inputs(tmp_path):
    npy, labels = small_digits(tmp_path, 8)
    d = tmp_path / "models"
    d.mkdir()
    for n in ("digits_s2_zero_noflip", "digits_pool_zero_noflip"):
        shutil.copy(zoo(n), d / f"{n}.onnx")
    return d, npy, labels


def test_reports_and_exit_0(tmp_path, inputs):
    d, npy, labels = inputs
    out = tmp_path / "out"
    out.mkdir()
    code, stdout, stderr = run("study", d, "--images", npy, "--labels", labels, "--preset", "unit", "--provider", "cpu",
                               "--pairs-per-image", "1", "--cache", tmp_path / "cache", "--json", out / "s.json",
                               "--csv", out / "s.csv", "--html", out / "s.html")
    assert code == 0, stderr
    assert "onnxsym study: 2 models, 2 families, 0 failed" in stdout
    assert "S first" in stdout and "pool_zero_noflip" in stdout
    doc = json.loads((out / "s.json").read_text())
    validate(doc, JSON_SCHEMA, "study")
    assert doc["settings"]["cache"] == str(tmp_path / "cache")
    with open(out / "s.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["model"] for r in rows] == [x["id"] for x in doc["rows"]]
    for r in rows:
        for k, v in r.items():
            if k in CSV_TEXT_COLUMNS:
                assert v not in PANDAS_NA, (k, v)
            elif v != "" and k not in ("representative", "cached"):
                float(v)
        assert r["status"] == "ok" and r["error"] == "-" and r["internal_ci_low"] == ""  # n = 5: no interval
    html = (out / "s.html").read_text()
    assert "<svg" in html and "http://" not in html.replace("http://www.w3.org", "") and "<script" not in html
    code, stdout, stderr = run("study", d, "--images", npy, "--labels", labels, "--preset", "unit", "--provider", "cpu",
                               "--pairs-per-image", "1", "--cache", tmp_path / "cache", "-q")
    assert code == 0 and stdout.startswith("onnxsym study: 2 models")
    assert len(stdout.strip().splitlines()) == 1


def test_a_failed_model_exits_2_and_says_so(tmp_path, inputs):
    d, npy, _ = inputs
    (d / "broken.onnx").write_text("nope")
    code, stdout, stderr = run("study", d, "--images", npy, "--preset", "unit", "--provider", "cpu",
                               "--pairs-per-image", "1", "--csv", tmp_path / "s.csv")
    assert code == 2
    assert "onnxsym: error: 1 of 3 models failed:" in stderr and "broken.onnx (model:" in stderr
    assert "failed (model)" in stdout
    rows = list(csv.DictReader(open(tmp_path / "s.csv", newline="")))
    assert {r["status"] for r in rows} == {"ok", "failed"}


def test_messages_name_flags(inputs):
    d, npy, _ = inputs
    code, _, stderr = run("study", d, "--images", npy, "--jobs", "0")
    assert code == 2 and "--jobs 0: must be ≥ 1" in stderr
    bad = d.parent / "l.json"
    bad.write_text('{"x.jpg": 1}')
    code, _, stderr = run("study", d, "--images", npy, "--labels", bad)
    assert code == 2 and "labels in --labels" in stderr


def test_outputs_never_overwrite_inputs(inputs):
    d, npy, labels = inputs
    model = d / "digits_s2_zero_noflip.onnx"
    before = model.read_bytes()
    code, _, stderr = run("study", d, "--images", npy, "--json", model)
    assert code == 2 and "never writes its inputs" in stderr
    code, _, stderr = run("study", d, "--images", npy, "--labels", labels, "--csv", labels)
    assert code == 2 and "never writes its inputs" in stderr
    assert model.read_bytes() == before


def test_no_models(tmp_path):
    code, _, stderr = run("study", tmp_path)
    assert code == 2 and "no .onnx files" in stderr


def test_outputs_never_overwrite_an_image_of_a_folder(tmp_path):
    import numpy as np
    from PIL import Image

    photos = tmp_path / "photos"
    photos.mkdir()
    for i in range(3):
        Image.fromarray(np.full((40, 40, 3), 60 * i, np.uint8)).save(photos / f"p{i}.png")
    before = (photos / "p1.png").read_bytes()
    code, _, stderr = run("study", zoo("digits_s2_zero_noflip"), "--images", photos, "--csv", photos / "p1.png")
    assert code == 2 and "never writes its inputs" in stderr
    assert (photos / "p1.png").read_bytes() == before


@pytest.mark.parametrize("flag", ["--json", "--csv"])
def test_a_document_on_stdout_is_all_stdout_holds(inputs, flag):
    # --json - (or --csv -): the table and the summary line must not follow the document on stdout
    d, npy, labels = inputs
    code, stdout, stderr = run("study", d, "--images", npy, "--preset", "unit", "--provider", "cpu",
                               "--pairs-per-image", "1", flag, "-")
    assert code == 0, stderr
    if flag == "--json":
        assert json.loads(stdout)["schema"].startswith("onnxsym.study/")
    else:
        assert [r["model"] for r in csv.DictReader(stdout.splitlines())] and "S first" not in stdout
    assert "onnxsym study: 2 models" in stderr and "onnxsym study:" not in stdout
