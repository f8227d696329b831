"""One exception family; each carries its exit code and a one-line message.

Exit codes (also documented in the README):
0 all good, 1 a gate failed, 2 bad input or usage, 3 the runtime failed.
"""
from __future__ import annotations

EXIT_OK = 0
EXIT_GATE = 1
EXIT_INPUT = 2
EXIT_RUNTIME = 3


class OnnxsymError(Exception):
    """Base class: ``str(err)`` is one line meant for a person, ``exit_code`` for the shell."""

    exit_code = EXIT_INPUT

    def __init__(self, message: str):
        # Keep the message on one line whatever the caller passed (onnx/ORT messages are multi-line).
        super().__init__(" ".join(str(message).split()))


class InputError(OnnxsymError):
    """Bad input or usage: a missing file, a bad flag, images that cannot be read."""

    exit_code = EXIT_INPUT


class ModelError(InputError):
    """The model file cannot be read or is unsafe to read (e.g. external data outside its folder)."""


class RuntimeFailure(OnnxsymError):
    """onnxruntime could not create or run the session (or CUDA was demanded and not obtained)."""

    exit_code = EXIT_RUNTIME
