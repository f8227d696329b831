"""A chosen input size checked by running the model once, and another one found when it fails.

ONNX shape inference cannot see everything (a text recogniser whose neck reshapes to a fixed
height passes it at 224×224 and fails in onnxruntime). So when the size was chosen for a symbolic
input (:func:`onnxsym.model.sizes.choose_input_size`), one blank image is run first; if that
fails, common sizes are tried, nearest first, changing one symbolic side at a time, then both.
"""
from __future__ import annotations

import time
from dataclasses import replace

import numpy as np

from ..errors import RuntimeFailure
from ..wording import param

#: sides tried when the chosen size does not run, besides the chosen one
COMMON_SIDES = (32, 48, 64, 96, 112, 128, 160, 192, 224, 256, 288, 320, 384, 416, 448, 512, 640)
PROBE_SECONDS = 20.0   # the search stops after this long


def _blank(spec, h, w) -> np.ndarray:
    n = spec.batch or 1
    shape = (n, spec.channels, h, w) if spec.layout == "NCHW" else (n, h, w, spec.channels)
    return np.zeros(shape, dtype=spec.dtype)


def _candidates(spec, symbolic_h: bool, symbolic_w: bool):
    """Sizes to try after the chosen one, nearest first: one symbolic side at a time, then squares."""
    h0, w0 = spec.height, spec.width

    def near(v):
        return sorted((s for s in COMMON_SIDES if s != v), key=lambda s: (abs(s - v), s))

    seen = {(h0, w0)}
    lists = []
    if symbolic_h:
        lists.append([(s, w0) for s in near(h0)])
    if symbolic_w:
        lists.append([(h0, s) for s in near(w0)])
    if symbolic_h and symbolic_w:
        lists.append([(s, s) for s in near(h0)])
    for sizes in lists:
        for size in sizes:
            if size not in seen:
                seen.add(size)
                yield size


def _short(err, limit: int = 160) -> str:
    text = str(err).removeprefix("onnxruntime failed to run the model: ")
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0] + " …"


def fit_chosen_size(run_once, spec, symbolic_h: bool, symbolic_w: bool):
    """``(spec, note)``: ``spec`` unchanged (note "") when one blank image runs at its size, else a
    copy at the first common size that runs, with a note saying so.

    ``run_once(x)`` runs the model on the image tensor ``x`` (raising RuntimeFailure).

    Raises
    ------
    RuntimeFailure
        No size tried runs; the message has onnxruntime's error at the chosen size.
    """
    try:
        run_once(_blank(spec, spec.height, spec.width))
        return spec, ""
    except RuntimeFailure as err:
        first = err
    t0 = time.perf_counter()
    tried = 1
    for h, w in _candidates(spec, symbolic_h, symbolic_w):
        if time.perf_counter() - t0 > PROBE_SECONDS:
            break
        tried += 1
        try:
            run_once(_blank(spec, h, w))
        except RuntimeFailure:
            continue
        note = (f"onnxruntime could not run the model at the chosen {spec.height}×{spec.width} "
                f"({_short(first)}); measured at "
                f"{h}×{w}, the nearest common size that runs ({tried} sizes tried); give "
                f"{param('input_size')} for the size the model is meant for")
        return replace(spec, height=h, width=w), note
    raise RuntimeFailure(f"{first} (at {spec.height}×{spec.width}, a size chosen for the model's symbolic "
                         f"input; {tried} common sizes tried, none runs: give {param('input_size')})")
