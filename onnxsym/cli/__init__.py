"""L5, the command line: click commands that parse their arguments, call the library and render
its results (:mod:`onnxsym.report`); the only place that knows flag names. ``main`` is the
``onnxsym`` entry point."""
from . import audit, compare, consistency, padding, study, weights  # noqa: F401  (each registers its command)
from .app import main

__all__ = ["main"]
