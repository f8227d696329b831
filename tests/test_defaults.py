"""onnxsym.defaults: every run default once — the library's keyword defaults are these values."""
from __future__ import annotations

import inspect

from onnxsym import defaults
from onnxsym.auditing.compose import analyze_padding, analyze_weights
from onnxsym.consistency.analysis import measure


def _default(fn, name):
    return inspect.signature(fn).parameters[name].default


def test_the_values():
    assert (defaults.PROVIDER, defaults.PAIRS_PER_IMAGE, defaults.SEED, defaults.PRESET) == ("auto", 5, 0, "imagenet")
    assert (defaults.CHANNEL_ORDER, defaults.BATCH_SIZE, defaults.VERTICAL) == ("rgb", 32, False)
    assert (defaults.PER_KERNEL, defaults.SIZE_MARGIN, defaults.SUGGEST) == (True, 32, True)
    assert defaults.ASYMMETRY_BELOW == 0.5


def test_the_library_defaults_are_read_from_here():
    for name, value in (("provider", defaults.PROVIDER), ("pairs_per_image", defaults.PAIRS_PER_IMAGE),
                        ("seed", defaults.SEED), ("preset", defaults.PRESET),
                        ("channel_order", defaults.CHANNEL_ORDER), ("vertical", defaults.VERTICAL)):
        assert _default(measure, name) == value, name
    assert _default(analyze_weights, "per_kernel") is defaults.PER_KERNEL
    assert _default(analyze_padding, "suggest") is defaults.SUGGEST


def test_the_batch_size_and_the_size_margin_are_used():
    from graphs import layer_model
    from onnxsym.consistency.pipeline import fixed_batch
    from onnxsym.consistency.preprocess import InputSpec
    from onnxsym.padding import analyze

    spec = InputSpec(name="x", layout="NCHW", height=32, width=32, channels=3, dtype="float32", batch=None,
                     shape=["N", 3, 32, 32], size_from="model")
    assert fixed_batch(spec, None) == (defaults.BATCH_SIZE, [])
    rep = analyze(layer_model([1, 3, 100, 100], [3, 3], [2, 2], pads=[1, 1, 1, 1]))
    assert rep.suggestions.range == [100 - defaults.SIZE_MARGIN, 100 + defaults.SIZE_MARGIN]
