"""``onnxsym audit``: gates, exit codes, config, baseline, reports, through the real CLI."""
import hashlib
import json
import os
import re

import pytest

import onnxsym
from cli_run import run
from graphs import classifier_file


def test_no_run_audit_passes_and_writes_json_with_provenance(tmp_path):
    model = classifier_file(tmp_path)
    code, out, err = run("audit", model, "--no-run", "--json", tmp_path / "a.json", "--input-shape", "1x3x32x32")
    assert code == 0, err
    doc = json.loads((tmp_path / "a.json").read_text())
    assert doc["schema"] == "onnxsym.audit/1" and doc["verdict"] == "INFO"   # no gates: nothing to pass
    assert doc["provenance"]["sha256"] == hashlib.sha256(model.read_bytes()).hexdigest()
    assert doc["provenance"]["size_bytes"] == model.stat().st_size
    assert doc["consistency"] is None and doc["weights"]["schema"] == "onnxsym.weights/1"
    assert doc["padding"]["schema"] == "onnxsym.padding/1"
    assert out.strip().splitlines()[-1].startswith("INFO (no gates) | symmetry")
    code, out, err = run("audit", model, "--no-run", "--min-symmetry", "0.1", "--input-shape", "1x3x32x32")
    assert code == 0 and out.strip().splitlines()[-1].startswith("PASSED | symmetry"), err


def test_gate_failure_exit_1_names_gate_and_margin(tmp_path):
    model = classifier_file(tmp_path)
    code, out, err = run("audit", model, "--no-run", "--min-symmetry", "0.999", "-q")
    assert code == 1
    line = out.strip()
    assert line.startswith("FAILED") and "min_symmetry" in line and len(out.strip().splitlines()) == 1
    code, out, _ = run("audit", model, "--no-run", "--min-symmetry", "0.999")
    assert "short by" in out


def test_uneven_padding_gate(tmp_path):
    model = classifier_file(tmp_path)
    code, out, _ = run("audit", model, "--no-run", "--fail-on-uneven-padding", "--input-shape", "1x3x32x32")
    assert code == 1 and "fail_on_uneven_padding" in out  # 32 is even: stride-2 conv pads top/left only
    code, out, _ = run("audit", model, "--no-run", "--fail-on-uneven-padding", "--input-shape", "1x3x33x33")
    assert code == 0, out


@pytest.mark.parametrize("flag,value", [("--min-shift-consistency", "85"), ("--min-symmetry", "-0.1"),
                                        ("--max-asymmetric-layers", "-1"), ("--max-consistency-drop", "2")])
def test_impossible_gate_values_exit_2(tmp_path, flag, value):
    model = classifier_file(tmp_path)
    code, out, err = run("audit", model, "--no-run", flag, value)
    assert code == 2 and err.count("\n") == 1 and "onnxsym: error:" in err


def test_config_file_and_pyproject_table(tmp_path):
    model = classifier_file(tmp_path)
    (tmp_path / "onnxsym.toml").write_text("min_symmetry = 0.999\n")
    code, out, _ = run("audit", model, "--no-run", "--config", tmp_path / "onnxsym.toml", "-q")
    assert code == 1 and "min_symmetry" in out
    code, out, _ = run("audit", model, "--no-run", "--config", tmp_path / "onnxsym.toml", "--min-symmetry", "0.1", "-q")
    assert code == 0  # a flag overrides the config
    proj = tmp_path / "proj"
    proj.mkdir()
    (proj / "pyproject.toml").write_text("[project]\nname='x'\n[tool.onnxsym]\nmin-symmetry = 0.999\n")
    code, out, _ = run("audit", model, "--no-run", "-q", cwd=proj)
    assert code == 1
    (proj / "pyproject.toml").write_text("[tool.onnxsym]\nmin_symmetri = 0.5\n")
    code, out, err = run("audit", model, "--no-run", "-q", cwd=proj)
    assert code == 2 and "min_symmetri" in err


def test_baseline_drop_gate_and_bad_baselines(tmp_path):
    model = classifier_file(tmp_path)
    base = tmp_path / "base.json"
    assert run("audit", model, "--no-run", "--json", base)[0] == 0
    doc = json.loads(base.read_text())
    doc["weights"]["summary"]["internal"]["median_symmetry"] = 0.99
    (tmp_path / "better.json").write_text(json.dumps(doc))
    code, out, _ = run("audit", model, "--no-run", "--baseline", tmp_path / "better.json",
                       "--max-symmetry-drop", "0.01", "-q")
    assert code == 1 and "max_symmetry_drop" in out
    code, _, _ = run("audit", model, "--no-run", "--baseline", base, "--max-symmetry-drop", "0.01", "-q")
    assert code == 0
    doc["schema"] = "onnxsym.audit/0"
    (tmp_path / "old.json").write_text(json.dumps(doc))
    code, _, err = run("audit", model, "--no-run", "--baseline", tmp_path / "old.json")
    assert code == 2 and "schema" in err
    other = {"schema": "onnxsym.weights/1", "summary": {"internal": {}},
             "layers": [{"id": f"c{k}", "weight_shape": [5, 5, 7, 7], "op_type": "Conv"} for k in range(4)]}
    (tmp_path / "other.json").write_text(json.dumps(other))
    code, _, err = run("audit", model, "--no-run", "--baseline", tmp_path / "other.json")
    assert code == 2 and "another model family" in err
    (tmp_path / "junk.json").write_text("{not json")
    assert run("audit", model, "--no-run", "--baseline", tmp_path / "junk.json")[0] == 2


def test_full_audit_with_consistency_and_html(tmp_path):
    model = classifier_file(tmp_path)
    code, out, err = run("audit", model, "--provider", "cpu", "--pairs-per-image", "2",
                         "--min-flip-consistency", "0.0", "--json", tmp_path / "a.json", "--html", tmp_path / "a.html")
    assert code == 0, err
    doc = json.loads((tmp_path / "a.json").read_text())
    cons = doc["consistency"]
    assert cons["schema"] == "onnxsym.consistency/1" and cons["provider"] == "cpu"
    for part in (doc, doc["weights"], doc["padding"], cons):  # every document says what made it
        assert part["onnxsym_version"] == onnxsym.__version__ and part["schema"].startswith("onnxsym.")
    assert cons["shift"]["pairs"] == 2 * cons["images"] and doc["provenance"]["images"] == cons["images"]
    assert doc["gates"][0]["name"] == "min_flip_consistency" and doc["gates"][0]["passed"]
    html = (tmp_path / "a.html").read_text()
    assert html.lstrip().lower().startswith("<!doctype html") and "<svg" in html
    line = out.strip().splitlines()[-1]
    assert line.startswith("PASSED") and "shift" in line and "flip" in line and line.endswith(" s")


def test_consistency_failure_still_writes_weight_part(tmp_path):
    model = classifier_file(tmp_path)
    empty = tmp_path / "no_images"
    empty.mkdir()
    code, out, err = run("audit", model, "--images", empty, "--json", tmp_path / "a.json")
    assert code == 2 and "consistency failed" in err
    doc = json.loads((tmp_path / "a.json").read_text())
    assert doc["weights"]["layers"] and "error" in doc["consistency"] and doc["verdict"] == "ERROR"


@pytest.mark.parametrize("args,needle", [
    (["--no-run", "--min-flip-consistency", "0.5"], "drop --no-run"),
    (["--no-run", "--max-symmetry-drop", "0.1"], "needs --baseline"),
])
def test_gates_that_cannot_be_evaluated_are_usage_errors(tmp_path, args, needle):
    model = classifier_file(tmp_path, size=("H", "W"))  # no input size known
    code, out, err = run("audit", model, *args)
    assert code == 2 and needle in err and err.count("\n") == 1


def test_uneven_padding_gate_at_a_chosen_size_says_it_was_chosen(tmp_path):
    model = classifier_file(tmp_path, size=("H", "W"))  # symbolic: analysed at 224x224
    code, out, err = run("audit", model, "--no-run", "--fail-on-uneven-padding")
    assert code == 1, err
    text = " ".join(out.split())  # the gate line may wrap at the terminal width
    assert "1 strided layer(s) pad unevenly at 224x224 (chosen: the model's input size is symbolic)" in text
    code, out, err = run("audit", model, "--no-run", "--fail-on-uneven-padding", "--input-shape", "1x3x225x225")
    text = " ".join(out.split())
    assert code == 0 and "0 strided layer(s) pad unevenly at 225x225" in text, out
    assert "chosen" not in text.split("pad unevenly at 225x225")[1][:40]


def test_consistency_drop_needs_a_baseline_with_consistency(tmp_path):
    model = classifier_file(tmp_path)
    run("weights", model, "--format", "json", "-o", tmp_path / "w.json")
    code, _, err = run("audit", model, "--baseline", tmp_path / "w.json", "--max-consistency-drop", "0.05")
    assert code == 2 and "no consistency numbers" in err


def test_baseline_measured_differently_is_flagged(tmp_path):
    model = classifier_file(tmp_path)
    assert run("audit", model, "--provider", "cpu", "--pairs-per-image", "1", "--seed", "3",
               "--json", tmp_path / "b.json", "-q")[0] == 0
    code, out, err = run("audit", model, "--provider", "cpu", "--pairs-per-image", "2", "--baseline",
                         tmp_path / "b.json", "--max-consistency-drop", "1.0", "--json", tmp_path / "a.json")
    assert code == 0
    assert "measured differently" in err and "seed 3 → 0" in err
    assert json.loads((tmp_path / "a.json").read_text())["warnings"]


def test_summary_line_says_by_how_much(tmp_path):
    model = classifier_file(tmp_path)
    code, out, _ = run("audit", model, "--no-run", "-q", "--min-symmetry", "0.999")
    assert code == 1 and re.search(r"failed: min_symmetry 0\.\d{3} < 0\.999", out)


def test_bad_baseline_and_config_types_exit_2(tmp_path):
    model = classifier_file(tmp_path)
    (tmp_path / "list.json").write_text("[1, 2]")
    assert run("audit", model, "--no-run", "--baseline", tmp_path / "list.json")[0] == 2
    assert run("compare", model, tmp_path / "list.json")[0] == 2
    for text, needle in (('fail_on_uneven_padding = "false"\n', "true or false"),
                         ("max_asymmetric_layers = 7.9\n", "integer"),
                         ('pairs_per_image = "x"\n', "integer"),
                         ('min_symmetry = "high"\n', "number")):
        (tmp_path / "c.toml").write_text(text)
        code, _, err = run("audit", model, "--no-run", "--config", tmp_path / "c.toml")
        assert code == 2 and needle in err, (text, err)


def test_flag_switches_off_config_gate(tmp_path):
    model = classifier_file(tmp_path)
    (tmp_path / "c.toml").write_text("fail_on_uneven_padding = true\n")
    code, _, err = run("audit", model, "--no-run", "--config", tmp_path / "c.toml", "--no-fail-on-uneven-padding", "-q")
    assert code == 0, err


def test_unwritable_report_path_fails_before_the_run(tmp_path):
    model = classifier_file(tmp_path)
    code, out, err = run("audit", model, "--no-run", "--html", tmp_path / "missing" / "a.html")
    assert code == 2 and "does not exist" in err and out == ""


def test_reports_get_ordinary_file_permissions(tmp_path):
    model = classifier_file(tmp_path)
    old = os.umask(0o022)
    try:
        run("audit", model, "--no-run", "--json", tmp_path / "a.json", "--html", tmp_path / "a.html")
    finally:
        os.umask(old)
    assert oct((tmp_path / "a.json").stat().st_mode & 0o777) == oct(0o644)
    assert oct((tmp_path / "a.html").stat().st_mode & 0o777) == oct(0o644)


def test_config_source_is_said_and_bad_config_values_are_named_as_config(tmp_path):
    model = classifier_file(tmp_path)
    (tmp_path / "c.toml").write_text("min_shift_consistency = 80\n")
    code, _, err = run("audit", model, "--no-run", "--config", tmp_path / "c.toml")
    assert code == 2 and "min_shift_consistency = 80" in err and "--min-shift" not in err
    (tmp_path / "d.toml").write_text("min_symmetry = 0.1\n")
    code, _, err = run("audit", model, "--no-run", "--config", tmp_path / "d.toml")
    assert code == 0 and "using settings from" not in err      # an info line: only under -v
    code, _, err = run("audit", model, "--no-run", "--config", tmp_path / "d.toml", "-v")
    assert code == 0 and f"using settings from {tmp_path / 'd.toml'}" in err


def test_summary_line_intervals_and_baseline_wording(tmp_path):
    model = classifier_file(tmp_path)
    run("audit", model, "--provider", "cpu", "--pairs-per-image", "1", "--json", tmp_path / "b.json", "-q")
    code, out, _ = run("audit", model, "--provider", "cpu", "--pairs-per-image", "1", "-q",
                       "--baseline", tmp_path / "b.json")
    line = out.strip()
    assert re.search(r"symmetry \d\.\d\d \(random init \d\.\d\d: above it; baseline report \d\.\d\d\)", line)
    assert re.search(r"shift \d+\.\d % \[\d+\.\d, \d+\.\d\]", line) and "±" not in line
