"""onnxsym: audit convolutional networks through their ONNX files.

Public API (imported lazily so ``onnxsym --version`` stays fast):
``analyze_weights``, ``analyze_padding``, ``measure_consistency``, ``audit``, ``compare``,
``load_model``, ``write_html``, ``run_study``, ``Gates``, and the error types (``OnnxsymError`` and its subclasses
``InputError``, ``ModelError``, ``RuntimeFailure``, each with its ``exit_code``).
Every entry point takes a model as a path, bytes, an ``onnx.ModelProto`` or a ``LoadedModel``.
"""
from __future__ import annotations

__version__ = "0.1.0"

_LAZY = {
    "analyze_weights": ("onnxsym.auditing.compose", "analyze_weights"),
    "analyze_padding": ("onnxsym.auditing.compose", "analyze_padding"),
    "measure_consistency": ("onnxsym.consistency.analysis", "measure"),
    "audit": ("onnxsym.auditing.run", "audit"),
    "compare": ("onnxsym.auditing.compare", "compare_docs"),
    "load_model": ("onnxsym.model.loading", "load_model"),
    "write_html": ("onnxsym.report.writing", "write_html"),
    "run_study": ("onnxsym.study.run", "study"),
    "Gates": ("onnxsym.auditing.gates", "Gates"),
    "OnnxsymError": ("onnxsym.errors", "OnnxsymError"),
    "InputError": ("onnxsym.errors", "InputError"),
    "ModelError": ("onnxsym.errors", "ModelError"),
    "RuntimeFailure": ("onnxsym.errors", "RuntimeFailure"),
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
