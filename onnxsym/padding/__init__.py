"""L2, the padding diagnosis: effective padding per side of every conv and pool at an input size,
uneven strided layers and their direction, the lean of their mean kernels, and input sizes that pad
every strided layer evenly. See :func:`analyze`."""
from .analysis import analyze, with_skews
from .arithmetic import axis_geometry
from .lean import LEAN_THRESHOLD
from .results import SCHEMA, PaddingLayer, PaddingReport, Suggestions

__all__ = ["analyze", "axis_geometry", "LEAN_THRESHOLD", "with_skews", "SCHEMA", "PaddingLayer", "PaddingReport", "Suggestions"]
