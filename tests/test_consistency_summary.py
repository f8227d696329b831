"""onnxsym.consistency.summary: the per-image comparisons added up — flat outputs left out of
cosine metrics, and the repeat check of the runtime's determinism."""
from __future__ import annotations

import json

import numpy as np
import pytest

import consistency_models as cm
from onnxsym import measure_consistency
from onnxsym.consistency.outputs import OutputHandler
from onnxsym.consistency.preprocess import InputSpec
from onnxsym.consistency.summary import repeat_check

pytest.importorskip("onnxruntime")


def test_non_deterministic_runtime_is_flagged(smooth_npy):
    r = measure_consistency(cm.noisy(), smooth_npy, provider="cpu")
    assert not r.repeat.ok
    assert any("not deterministic" in w for w in r.warnings)


# ---- flat (near-zero / near-constant) outputs ----------------------------------------------


def test_flat_outputs_are_left_out_of_the_cosine_metric():
    imgs = np.concatenate([cm.dark_images(6), cm.bright_blob_images(4)])
    r = measure_consistency(cm.detector(), cm.imageset(imgs), provider="cpu", vertical=True)
    assert r.output.kind == "spatial" and r.output.metric == "cosine_similarity"
    assert r.shift.excluded_images == 6 and r.shift.excluded_pairs == 30
    assert r.shift.images == 4 and r.shift.pairs == 20
    assert r.flip.excluded_images == 6 and r.flip.images == 4
    assert r.flip_vertical.excluded_images == 6
    assert r.shift.consistency == pytest.approx(1.0)  # equivariant where it responds
    assert [p.flat for p in r.per_image] == [True] * 6 + [False] * 4
    assert all(p.shift_mean is None and p.flip is None for p in r.per_image[:6])
    assert any("not meaningful for most images" in w for w in r.warnings)
    assert any("left out" in n for n in r.notes)


def test_all_flat_outputs_measure_nothing():
    r = measure_consistency(cm.detector(), cm.imageset(cm.dark_images(5)), provider="cpu")
    assert r.shift.consistency is None and r.shift.ci95 is None and r.flip.consistency is None
    assert r.shift.excluded_pairs == 25 and r.images == 5
    assert any("nothing to compare" in w for w in r.warnings)
    from onnxsym.report.consistency_render import summary_line, to_json, to_table

    assert "shift n/a (all outputs flat)" in summary_line(r)
    assert json.loads(to_json(r))["shift"]["consistency"] is None
    to_table(r)


def test_no_flat_outputs_no_exclusion(noise_npy):
    r = measure_consistency(cm.pointwise_conv(), noise_npy, provider="cpu")
    assert r.shift.excluded_pairs == 0 and r.flip.excluded_images == 0
    assert not r.warnings and not any("flat" in n for n in r.notes)


# ---- the repeat check, called directly ---------------------------------------------------------
def _spec():
    return InputSpec(name="x", layout="NCHW", height=32, width=32, channels=3, dtype="float32", batch=None,
                     shape=["N", 3, 32, 32], size_from="model")


def test_repeat_check_of_a_classifier():
    a = np.array([[0.7, 0.2, 0.1], [0.1, 0.6, 0.3]], np.float32)
    o = OutputHandler("p", a, _spec())
    same = repeat_check(o, a, a.copy())
    assert (same.inputs, same.identical, same.max_abs_diff, same.agreement, same.ok) == (2, True, 0.0, 1.0, True)
    near = repeat_check(o, a, a + np.float32(1e-3))              # other bits, the same top-1
    assert not near.identical and near.max_abs_diff == pytest.approx(1e-3, rel=1e-3) and near.ok
    other = a.copy()
    other[1] = [0.1, 0.3, 0.6]                                   # the second input's top-1 moves
    bad = repeat_check(o, a, other)
    assert bad.agreement == 0.5 and not bad.ok


def test_repeat_check_of_a_vector_output_is_its_cosine():
    a = np.random.default_rng(0).standard_normal((3, 2, 5)).astype(np.float32)
    o = OutputHandler("v", a, _spec())
    assert o.kind == "vector"
    scaled = repeat_check(o, a, 2 * a)                           # cosine 1: the same direction
    assert not scaled.identical and scaled.agreement == pytest.approx(1.0) and scaled.ok
    noisy = repeat_check(o, a, a + 0.5 * np.random.default_rng(1).standard_normal(a.shape).astype(np.float32))
    assert noisy.agreement < 0.9999 and not noisy.ok
