"""onnxsym: audit convolutional networks through their ONNX files.

Public API (imported lazily so ``onnxsym --version`` stays fast):
``analyze_weights``, ``analyze_padding``, ``measure_consistency``, ``audit``.
"""
from __future__ import annotations

__version__ = "0.1.0"

_LAZY = {
    "analyze_weights": ("onnxsym.weights", "analyze_weights"),
    "analyze_padding": ("onnxsym.padding", "analyze_padding"),
    "measure_consistency": ("onnxsym.consistency", "measure_consistency"),
    "audit": ("onnxsym.auditing", "audit"),
}

__all__ = ["__version__", *_LAZY]


def __dir__():
    return sorted(set(globals()) | set(_LAZY))


def __getattr__(name):
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        return getattr(importlib.import_module(module), attr)
    raise AttributeError(f"module 'onnxsym' has no attribute {name!r}")
