"""onnxsym.errors: one exception family, each with its exit code and a one-line message."""
from __future__ import annotations

import pytest

import onnxsym
from onnxsym.errors import (EXIT_GATE, EXIT_INPUT, EXIT_OK, EXIT_RUNTIME, InputError, ModelError, OnnxsymError,
                            RuntimeFailure)


def test_exit_codes_and_hierarchy():
    assert (EXIT_OK, EXIT_GATE, EXIT_INPUT, EXIT_RUNTIME) == (0, 1, 2, 3)
    assert OnnxsymError.exit_code == InputError.exit_code == ModelError.exit_code == 2
    assert RuntimeFailure.exit_code == 3
    assert issubclass(ModelError, InputError) and issubclass(InputError, OnnxsymError)
    assert issubclass(RuntimeFailure, OnnxsymError) and not issubclass(RuntimeFailure, InputError)
    assert onnxsym.InputError is InputError and onnxsym.RuntimeFailure is RuntimeFailure   # the public names


@pytest.mark.parametrize("cls", [OnnxsymError, InputError, ModelError, RuntimeFailure])
def test_messages_are_one_line(cls):
    err = cls("onnxruntime said:\n  line one\n\tline two  ")
    assert str(err) == "onnxruntime said: line one line two"
    assert str(cls(ValueError("x\ny"))) == "x y"
    with pytest.raises(OnnxsymError) as info:
        raise cls("boom")
    assert info.value.exit_code == cls.exit_code
