"""onnxsym.cli.app: the click group — usage errors are one line and exit 2, whatever the command."""

from cli_run import run


def test_usage_errors_are_one_line():
    for args in (["consistency", "x.onnx", "--provider", "tpu"], ["nosuch"], ["weights"], ["audit", "--bogus"]):
        code, out, err = run(*args)
        assert code == 2 and err.count("\n") == 1 and err.startswith("onnxsym: error:"), (args, err)
