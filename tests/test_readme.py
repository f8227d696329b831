"""The CLI examples documented in the README are executed, so they cannot rot."""
import os
import re
import shlex

import pytest
from click.testing import CliRunner

from onnxsym.cli import main

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
README = open(os.path.join(ROOT, "README.md"), encoding="utf-8").read()
EXAMPLES = re.findall(r"^\$ (onnxsym .+)$", README, flags=re.M)


def test_readme_has_examples_and_quickstart():
    assert len(EXAMPLES) >= 5
    lines = re.search(r"## Quickstart\s+```sh\n(.+?)```", README, flags=re.S).group(1).strip().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("pip install -e . && onnxsym audit models/")
    ci = open(os.path.join(ROOT, ".ci", "run"), encoding="utf-8").read()
    assert lines[1] in ci  # CI runs exactly the README's test line


@pytest.mark.parametrize("line", EXAMPLES)
def test_readme_example_runs(line, monkeypatch):
    monkeypatch.chdir(ROOT)
    args = shlex.split(line)[1:]
    r = CliRunner().invoke(main, args)
    assert r.exit_code == 0, (line, r.stderr[-500:])
    assert r.stdout.strip()


PYTHON_BLOCKS = re.findall(r"```python\n(.+?)```", README, flags=re.S)


@pytest.mark.parametrize("code", PYTHON_BLOCKS)
def test_readme_python_example_runs(code, monkeypatch, capsys):
    monkeypatch.chdir(ROOT)
    exec(compile(code, "README.md", "exec"), {})
    assert capsys.readouterr().out.strip()


def test_readme_config_example_is_valid(tmp_path, monkeypatch):
    block = re.search(r"```toml\n(.+?)```", README, flags=re.S).group(1)
    (tmp_path / "pyproject.toml").write_text(block)
    monkeypatch.chdir(tmp_path)
    r = CliRunner().invoke(main, ["audit", os.path.join(ROOT, "models", "mobilenet_v2.onnx"), "--provider", "cpu", "-q"])
    # the example's gates: symmetry and shift pass on MobileNetV2, uneven padding at 224 fails
    assert r.exit_code == 1, r.stderr
    assert "fail_on_uneven_padding" in r.stdout and "min_symmetry" not in r.stdout
