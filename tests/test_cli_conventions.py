"""What a user of the command line and the Python API can rely on across commands (issue #10): quiet
and right by default, dynamic sizes, a verdict that says what it found, the output kind, drop gates
that respect noise, one set of output conventions, progress, CI conventions, the Python API.

CLI tests run the commands as a user would (click's runner, or a subprocess where the process
matters)."""
from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET

import numpy as np
import onnx
import pytest
from click.testing import CliRunner
from onnx import TensorProto as T
from onnx import helper as h

import consistency_models as cm
import graphs
import onnxsym
from onnxsym.cli import main

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MOBILENET = os.path.join(ROOT, "models", "mobilenet_v2.onnx")


def run(args, env=None):
    return CliRunner().invoke(main, [str(a) for a in args], env=env)


@pytest.fixture
def clf(tmp_path):
    path = cm.save(cm.gap_linear(), tmp_path / "clf.onnx")
    images = tmp_path / "imgs.npy"
    np.save(images, cm.smooth_images(6))
    return path, str(images)


# ---- 1. quiet and right by default -------------------------------------------------------------
def test_no_cuda_words_where_there_is_no_gpu(clf):
    path, images = clf
    r = run(["consistency", path, "--images", images], env={"ONNXSYM_ASSUME_GPU": "0"})
    assert r.exit_code == 0 and "CUDA" not in r.stderr and "cuda" not in r.stderr.lower()
    r = run(["consistency", path, "--images", images, "-v"], env={"ONNXSYM_ASSUME_GPU": "0"})
    assert "onnxsym: runs on the CPU" in r.stderr or "no NVIDIA GPU" in r.stderr
    r = run(["audit", path, "--images", images, "--json", "-"], env={"ONNXSYM_ASSUME_GPU": "0"})
    doc = json.loads(r.stdout)
    assert doc["consistency"]["provider_fallback"] is None and "CUDA" not in r.stderr


def test_a_gpu_that_cuda_cannot_use_is_said_once(clf):
    import onnxruntime as ort

    if "CUDAExecutionProvider" not in ort.get_available_providers():
        pytest.skip("this onnxruntime has no CUDA provider")
    path, images = clf
    r = run(["consistency", path, "--images", images], env={"ONNXSYM_ASSUME_GPU": "1"})
    if r.exit_code == 0 and "CUDA was requested" not in r.stderr:
        pytest.skip("CUDA works here")
    assert r.stderr.count("CUDA was requested") == 1
    r = run(["consistency", path, "--images", images, "--provider", "cuda"], env={"ONNXSYM_ASSUME_GPU": "1"})
    assert r.exit_code == 3 and r.stderr.count("\n") == 1


def test_a_symbolic_size_is_chosen_and_one_flag_changes_it(tmp_path):
    path = graphs.save(graphs.stack_model(["N", 3, "H", "W"], [("conv", 3, 2, 1)] * 3), tmp_path / "dyn.onnx")
    images = tmp_path / "imgs.npy"
    np.save(images, cm.smooth_images(3, (240, 250)))
    out = tmp_path / "a.json"
    r = run(["audit", path, "--images", images, "--json", out])
    assert r.exit_code == 0, r.stderr
    doc = json.loads(out.read_text())
    assert doc["consistency"]["input"]["size_from"] == "chosen"
    assert (doc["consistency"]["input"]["height"], doc["padding"]["input"]["spatial"]) == (224, [224, 224])
    notes = doc["consistency"]["notes"] + doc["padding"]["notes"]
    assert all("--input-size" in n for n in notes if "symbolic spatial size" in n)
    r = run(["audit", path, "--images", images, "--input-size", "64", "--json", out])
    doc = json.loads(out.read_text())
    assert doc["consistency"]["input"]["height"] == 64 and doc["padding"]["input"]["spatial"] == [64, 64]


def test_no_gates_is_info_and_random_weights_are_called_untrained(tmp_path):
    rng_model = graphs.stack_model([1, 3, 64, 64], [("conv", 3, 1, 1)] * 6)   # random weights
    path = graphs.save(rng_model, tmp_path / "random.onnx")
    r = run(["audit", path, "--no-run"])
    assert r.exit_code == 0
    line = r.stdout.strip().splitlines()[-1]
    assert line.startswith("INFO (no gates) | symmetry ")
    assert "these weights look untrained" in line
    r = run(["audit", MOBILENET, "--no-run", "--min-symmetry", "0.5"])
    assert r.stdout.strip().splitlines()[-1].startswith("PASSED | symmetry 0.79 (random init 0.41: above it)")


# ---- the output kind ---------------------------------------------------------------------------
def _landmarks(tmp_path, name="landmarks"):
    """A regressor: 21 (x, y, z) coordinates [N, 63] computed from the mean colour."""
    rng = np.random.default_rng(0)
    nodes = [h.make_node("ReduceMean", ["x"], ["m"], axes=[2, 3], keepdims=0),
             h.make_node("Gemm", ["m", "W", "b"], [name])]
    m = cm._model(nodes, [h.make_tensor_value_info("x", T.FLOAT, ["N", 3, 32, 32])],
                  [h.make_tensor_value_info(name, T.FLOAT, ["N", 63])],
                  [cm._w("W", rng.normal(size=(3, 63))), cm._w("b", rng.normal(size=63))])
    return cm.save(m, tmp_path / "lm.onnx")


def test_a_coordinate_regressor_is_not_scored_as_a_classifier(tmp_path, clf):
    path = _landmarks(tmp_path)
    images = clf[1]
    doc = json.loads(run(["consistency", path, "--images", images, "--format", "json"]).stdout)
    assert doc["output"]["kind"] == "vector" and doc["metric"] == "cosine_similarity"
    assert "landmarks" in doc["output"]["kind_reason"]
    doc = json.loads(run(["consistency", path, "--images", images, "--format", "json",
                          "--output-kind", "classes"]).stdout)
    assert doc["output"]["kind"] == "classifier" and doc["output"]["kind_reason"] == "classes, as given"
    doc = json.loads(run(["consistency", path, "--images", images, "--format", "json",
                          "--output-kind", "landmarks=vector"]).stdout)
    assert doc["output"]["kind_reason"] == "vector, as given"
    r = run(["consistency", path, "--images", images, "--output-kind", "nope=vector"])
    assert r.exit_code == 2 and "no output 'nope'" in r.stderr


# ---- drop gates --------------------------------------------------------------------------------
def test_a_drop_that_is_noise_does_not_fail_the_gate(tmp_path):
    base = tmp_path / "base.json"
    r = run(["audit", MOBILENET, "--provider", "cpu", "--seed", "0", "--json", base, "-q"])
    assert r.exit_code == 0
    r = run(["audit", MOBILENET, "--provider", "cpu", "--seed", "1", "--baseline", base,
             "--max-consistency-drop", "0.01", "--json", tmp_path / "now.json", "-q"])
    doc = json.loads((tmp_path / "now.json").read_text())
    gate = next(g for g in doc["gates"] if g["name"] == "max_shift_consistency_drop")
    assert gate["test"] == "two estimates and their 95 % intervals (unpaired)"   # the seed differs
    assert gate["passed"] and gate["p_value"] > 0.05 and "unpaired" in gate["message"]
    assert r.exit_code == 0


def test_a_real_drop_on_the_same_images_fails_by_a_paired_test(tmp_path):
    # a classifier of one corner pixel: on noise photos its crops rarely agree
    path = cm.save(cm.corner_pixel(), tmp_path / "corner.onnx")
    images = tmp_path / "noise.npy"
    np.save(images, cm.random_images(30))
    base = tmp_path / "base.json"
    run(["audit", path, "--images", images, "--json", base, "-q"])
    doc = json.loads(base.read_text())
    for r in doc["consistency"]["per_image"]:      # the baseline agreed on every pair and flip
        r["shift_agree"], r["shift_mean"], r["flip"] = r["shift_pairs"], 1.0, 1.0
    doc["consistency"]["shift"]["consistency"] = doc["consistency"]["flip"]["consistency"] = 1.0
    base.write_text(json.dumps(doc))
    r = run(["audit", path, "--images", images, "--baseline", base, "--max-consistency-drop", "0.05",
             "--json", tmp_path / "now.json", "-q"])
    assert r.exit_code == 1
    gates = json.loads((tmp_path / "now.json").read_text())["gates"]
    for name, test in (("max_shift_consistency_drop", "sign-flip permutation test, paired by image"),
                       ("max_flip_consistency_drop", "McNemar exact test, paired by image")):
        gate = next(g for g in gates if g["name"] == name)
        assert not gate["passed"] and gate["test"] == test and gate["p_value"] < 0.05, gate


# ---- 2. output conventions ---------------------------------------------------------------------
def test_format_from_the_extension_and_files_announced_once(tmp_path, clf):
    path, images = clf
    for cmd, ext, check in (("weights", "csv", lambda t: t.startswith("id,")),
                            ("weights", "json", lambda t: json.loads(t)["schema"] == "onnxsym.weights/1"),
                            ("padding", "json", lambda t: json.loads(t)["schema"] == "onnxsym.padding/1"),
                            ("audit", "html", lambda t: t.startswith("<!DOCTYPE html>")),
                            ("audit", "xml", lambda t: ET.fromstring(t).tag == "testsuites")):
        out = tmp_path / f"{cmd}.{ext}"
        extra = ["--no-run"] if cmd == "audit" else []
        r = run([cmd, MOBILENET, "-o", out, *extra])
        assert r.exit_code == 0, r.stderr
        assert check(out.read_text()), (cmd, ext)
        assert r.stderr.count(f"wrote {out}") == 1


def test_quiet_and_verbose_on_every_command(tmp_path, clf):
    path, images = clf
    for cmd in (["weights", path], ["padding", path], ["consistency", path, "--images", images],
                ["audit", path, "--images", images], ["compare", path, path]):
        q = run([*cmd, "-q", "-o", tmp_path / "x.json"])
        assert q.exit_code == 0, (cmd, q.stderr)
        assert q.stderr == "", (cmd, q.stderr)
        v = run([*cmd, "-v", "-o", tmp_path / "y.json"])
        assert v.exit_code == 0 and "wrote" in v.stderr
    r = run(["audit", path, "--images", images, "-q"])
    assert r.stdout.count("\n") == 1 and r.stdout.startswith("INFO (no gates) | ")


def test_one_path_for_two_reports_is_refused(tmp_path, clf):
    path, images = clf
    same = tmp_path / "r.out"
    r = run(["audit", path, "--no-run", "--json", same, "--html", same])
    assert r.exit_code == 2 and "same file" in r.stderr and not same.exists()


def test_human_output_fits_100_columns_and_has_no_python_reprs(tmp_path):
    for cmd in (["weights", MOBILENET], ["padding", MOBILENET], ["audit", MOBILENET, "--no-run"]):
        r = run(cmd)
        assert "{'" not in r.stdout and "['" not in r.stdout, cmd
        for line in r.stdout.splitlines():
            if line.startswith(("note:", "summary:", "suggestion:", "caveat:", "gate ", "padding:")):
                assert len(line) <= 100, (cmd, line)
        if cmd[0] != "padding":
            assert re.search(r"opsets ai\.onnx \d+", r.stdout), cmd


def test_one_short_label_per_layer_in_text_and_html(tmp_path):
    from onnxsym.report.labels import layer_label

    w = onnxsym.analyze_weights(MOBILENET)
    table = run(["weights", MOBILENET]).stdout
    page = tmp_path / "a.html"
    run(["audit", MOBILENET, "--no-run", "--html", page])
    html = page.read_text()
    lay = next(r for r in w.layers if r.status == "ok" and len(r.id) > 30)
    label = layer_label(lay.id, lay.op_type)
    assert label != lay.id and label in table and label in html


def test_csv_has_nothing_pandas_reads_as_missing_but_missing_numbers(tmp_path):
    pd = pytest.importorskip("pandas")
    text = run(["weights", MOBILENET, "--format", "csv"]).stdout
    df = pd.read_csv(io.StringIO(text))
    text_cols = ["id", "path", "op_type", "status", "reason", "weight_shape", "kernel_shape", "strides", "pads",
                 "weight_source", "shared_with", "followed_by"]
    assert not df[text_cols].isna().any().any()
    assert set(df["status"]) == {"ok", "not_applicable"}
    assert df.loc[df["status"] == "not_applicable", "symmetry"].isna().all()
    assert (df["kernel_shape"].str.fullmatch(r"\d+(x\d+)*")).all()
    rows = list(csv.reader(io.StringIO(text)))
    assert all(" " not in r[rows[0].index("pads")] for r in rows[1:])


# ---- 3. progress and timing --------------------------------------------------------------------
def test_progress_in_a_log_is_one_short_line_every_ten_seconds(monkeypatch, capsys):
    from onnxsym.cli.output import ProgressBar

    clock = iter([0.0, 5.0, 11.0, 12.0, 25.0])
    bar = ProgressBar()
    bar._time = lambda: next(clock)
    bar.start = bar.last_log = 0.0
    bar.tty = False
    stage = bar.stage("consistency")
    for done in (0, 10, 20, 30, 40):
        stage(done, 100)
    err = capsys.readouterr().err.splitlines()
    assert err == ["onnxsym: consistency 20/100, 11 s elapsed, ETA 44 s",
                   "onnxsym: consistency 40/100, 25 s elapsed, ETA 38 s"]


def test_the_summary_time_is_the_whole_process(tmp_path):
    out = subprocess.run([sys.executable, "-m", "onnxsym", "audit", MOBILENET, "--no-run", "-q"],
                         capture_output=True, text=True, cwd=ROOT, timeout=300)
    seconds = float(re.search(r"\| (\d+(\.\d+)?) s$", out.stdout.strip()).group(1))
    doc_time = None
    assert seconds > 0.3, out.stdout   # start-up and imports included: more than the analysis alone
    assert doc_time is None


# ---- 4. CI conventions -------------------------------------------------------------------------
def test_junit_has_one_testcase_per_gate_with_the_margin(tmp_path):
    out = tmp_path / "gates.xml"
    r = run(["audit", MOBILENET, "--no-run", "--min-symmetry", "0.9", "--max-asymmetric-layers", "20",
             "--junit", out, "-q"])
    assert r.exit_code == 1
    root = ET.fromstring(out.read_text())
    cases = root.findall(".//testcase")
    assert [c.get("name") for c in cases] == ["min_symmetry", "max_asymmetric_layers"]
    failure = cases[0].find("failure")
    assert failure is not None and "0.786 < 0.900" in failure.get("message")
    assert cases[1].find("failure") is None
    assert root.find("testsuite").get("failures") == "1"


def test_github_step_summary_is_appended(tmp_path):
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n")
    r = run(["audit", MOBILENET, "--no-run", "--min-symmetry", "0.6", "-q"],
            env={"GITHUB_STEP_SUMMARY": str(summary)})
    assert r.exit_code == 0
    text = summary.read_text()
    assert text.startswith("earlier step\n") and "onnxsym audit" in text and "| min_symmetry | pass |" in text


def test_pre_commit_hooks_run_as_declared(tmp_path):
    import shlex

    yaml = pytest.importorskip("yaml")
    hooks = yaml.safe_load(open(os.path.join(ROOT, ".pre-commit-hooks.yaml")))
    assert {hk["id"] for hk in hooks} == {"onnxsym-audit", "onnxsym-audit-weights"}
    for hook in hooks:
        assert re.search(hook["files"], "build/model.onnx") and not re.search(hook["files"], "model.onnx.data")
        args = shlex.split(hook["entry"])
        assert args[0] == "onnxsym"
        r = run([*args[1:], "--no-run", MOBILENET, os.path.join(ROOT, "models", "keras_digits.onnx")])
        assert r.exit_code == 0 and len(r.stdout.strip().splitlines()) == 2


def test_shell_completion_is_clicks():
    r = CliRunner().invoke(main, [], prog_name="onnxsym", env={"_ONNXSYM_COMPLETE": "bash_source"})
    assert "_onnxsym_completion()" in r.output
    r = CliRunner().invoke(main, [], prog_name="onnxsym",
                           env={"_ONNXSYM_COMPLETE": "bash_complete", "COMP_WORDS": "onnxsym au", "COMP_CWORD": "1"})
    assert "audit" in r.output


def test_provenance_has_versions_and_the_command_line(tmp_path):
    out = tmp_path / "a.json"
    run(["audit", MOBILENET, "--no-run", "--json", out])
    prov = json.loads(out.read_text())["provenance"]
    assert {"onnxsym", "python", "onnx", "onnxruntime", "numpy", "numba"} <= set(prov["versions"])
    assert prov["command"] == ["onnxsym", "audit", MOBILENET, "--no-run", "--json", str(out)]


# ---- 6. the Python API -------------------------------------------------------------------------
def test_every_entry_point_takes_a_path_bytes_or_a_proto(tmp_path):
    proto = onnx.load(MOBILENET)
    data = open(MOBILENET, "rb").read()
    images = cm.imageset(cm.smooth_images(2, (240, 240)))
    for model in (MOBILENET, data, proto):
        assert onnxsym.analyze_weights(model).summary.analysed == 18
        assert onnxsym.analyze_padding(model).summary.strided_convs == 5
        assert onnxsym.measure_consistency(model, images, provider="cpu", pairs_per_image=1).images == 2
        assert onnxsym.audit(model, run=False, gates={"min_symmetry": 0.5}).verdict == "PASSED"


def test_gates_and_errors_are_exported_and_messages_name_parameters():
    assert onnxsym.Gates(min_symmetry=0.5).min_symmetry == 0.5
    for name in ("OnnxsymError", "InputError", "ModelError", "RuntimeFailure"):
        assert issubclass(getattr(onnxsym, name), Exception)
    with pytest.raises(onnxsym.InputError) as err:
        onnxsym.audit(MOBILENET, run=False, gates={"min_shift_consistency": 0.5})
    assert "min_shift_consistency" in str(err.value) and "--" not in str(err.value)
    with pytest.raises(onnxsym.InputError):
        onnxsym.audit(MOBILENET, run=False, gates={"no_such_gate": 1})


def test_write_html_and_dataframes(tmp_path):
    pd = pytest.importorskip("pandas")
    a = onnxsym.audit(MOBILENET, run=False)
    path = onnxsym.write_html(a, tmp_path / "a.html")
    assert path.read_text().startswith("<!DOCTYPE html>")
    w = onnxsym.analyze_weights(MOBILENET)
    assert onnxsym.write_html(w, tmp_path / "w.html").read_text().count("<svg") > 10
    df = w.to_dataframe()
    assert isinstance(df, pd.DataFrame) and len(df) == 52 and df.index.name == "id"
    assert df["symmetry"].notna().sum() == 18 and {"terms_rot90", "skew_down", "random_init_mean"} <= set(df)
    p = onnxsym.analyze_padding(MOBILENET).to_dataframe()
    assert len(p) == 52 and p["uneven"].sum() == 5
    c = onnxsym.measure_consistency(MOBILENET, cm.imageset(cm.smooth_images(3, (240, 240))), provider="cpu",
                                    pairs_per_image=1).to_dataframe()
    assert list(c.index) == ["img0", "img1", "img2"] and "shift_mean" in c


def test_summaries_are_dataclasses():
    import dataclasses

    w = onnxsym.analyze_weights(MOBILENET)
    p = onnxsym.analyze_padding(MOBILENET)
    for obj in (w.summary, w.summary.internal, w.summary.random_init, p.summary):
        assert dataclasses.is_dataclass(obj)
    assert w.summary.internal.z_vs_random_init > 2 and p.summary.strided_convs_uneven == 5
    assert p.summary["strided_convs"] == 5          # still readable like the JSON it was
