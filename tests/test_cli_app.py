"""onnxsym.cli.app: the click group — usage errors are one line and exit 2, whatever the command."""
from click.testing import CliRunner

from onnxsym.cli import main


def run(*args):
    r = CliRunner().invoke(main, [str(a) for a in args])
    return r.exit_code, r.stdout, r.stderr


def test_usage_errors_are_one_line():
    for args in (["consistency", "x.onnx", "--provider", "tpu"], ["nosuch"], ["weights"], ["audit", "--bogus"]):
        code, out, err = run(*args)
        assert code == 2 and err.count("\n") == 1 and err.startswith("onnxsym: error:"), (args, err)
