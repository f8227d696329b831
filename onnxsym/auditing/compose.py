"""The public analyses that put two siblings together: the weights with their padding section,
the padding with the lean of each conv's mean kernel. (The siblings never import each other.)"""
from __future__ import annotations

import os

from .. import padding as _padding
from .. import weights as _weights
from ..defaults import PER_KERNEL, SUGGEST
from ..errors import InputError
from ..model.source import open_model


def analyze_weights(model, *, per_kernel: bool = PER_KERNEL, input_shape=None, input_size=None,
                    padding: bool = False, progress=None):
    """Symmetry statistics of every conv weight of ``model``, with the padding diagnosis attached
    (``report.padding``) when ``padding`` is set or an ``input_shape`` is given.

    Parameters
    ----------
    model : path, bytes, onnx.ModelProto or LoadedModel
    per_kernel : bool
        Also score every individual kernel W[n, c] (median and quartiles per layer).
    input_shape, input_size : optional
        The input's shape(s) or spatial size for the padding diagnosis, as :func:`analyze_padding`
        takes them.
    padding : bool
        Attach the padding diagnosis (at the model's size, the size given, or one chosen).
    progress : object with ``stage(name)``, or callable(done, total), optional

    Returns
    -------
    onnxsym.weights.WeightsReport
    """
    loaded = open_model(model)
    report = _weights.analyze(loaded, per_kernel=per_kernel, progress=stage(progress, "weights"))
    if padding or input_shape is not None or input_size is not None:
        report.padding = padding_section(loaded, input_shape, input_size, report.skews(),
                                         progress=stage(progress, "padding"))
    return report


def stage(progress, name):
    """The callable(done, total) for one stage of ``progress`` (an object with ``stage(name)``, as
    the command line's progress line has; a plain callable is used for the consistency stage only)."""
    if progress is None:
        return None
    if hasattr(progress, "stage"):
        return progress.stage(name)
    return progress if name == "consistency" else None


def padding_section(loaded, input_shape, input_size, skews, progress=None):
    """The padding diagnosis with the layers' skews; None where no input size is known, or an
    ``{"schema", "error"}`` stand-in when the diagnosis itself fails (the weights are kept)."""
    try:
        report = _padding.analyze(loaded, input_shape, input_size=input_size, skews=skews, progress=progress)
    except InputError:
        if input_shape is not None or input_size is not None:
            raise
        return None
    except Exception as err:  # a model the padding analysis does not understand: say so, keep the weights
        if os.environ.get("ONNXSYM_DEBUG"):
            raise
        return {"schema": _padding.SCHEMA,
                "error": f"padding not diagnosed: {type(err).__name__}: {' '.join(str(err).split())[:200]}"}
    if input_shape is None and not (report.input or {}).get("spatial"):
        return None  # symbolic spatial size and none given: nothing to diagnose
    return report


def analyze_padding(model, input_shape=None, *, input_size=None, lean: bool = True, skews=None,
                    suggest: bool = SUGGEST, size_range=None, layout: str | None = None, progress=None):
    """Effective padding of every conv and pool of ``model`` at one input size.

    Parameters
    ----------
    model : path, bytes, onnx.ModelProto or LoadedModel
    input_shape, input_size, suggest, size_range, layout, progress
        As :func:`onnxsym.padding.analyze` takes them.
    lean : bool
        Read the weights to tell, for each unevenly padded conv, whether its mean kernel leans
        toward the padded side (one pass over the weights without the per-kernel scores).
    skews : mapping, optional
        ``{layer id: (down, right)}`` to use instead of reading the weights (e.g. from a weights
        report already made: ``WeightsReport.skews()``).

    Returns
    -------
    onnxsym.padding.PaddingReport
    """
    loaded = open_model(model)
    report = _padding.analyze(loaded, input_shape, input_size=input_size, skews=skews, suggest=suggest,
                              size_range=size_range, layout=layout, progress=progress)
    if skews is None and lean and any(r.kind == "conv" for r in report.layers):
        _padding.with_skews(report, _weights.layer_skews(loaded))
    return report
