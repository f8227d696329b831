"""onnxsym.consistency.protocol: the shift range scaled with the input, the crop offsets drawn per
image, and each image's variants."""
from __future__ import annotations

import os

import numpy as np
import pytest

import consistency_models as cm
from onnxsym import measure_consistency
from onnxsym.errors import InputError

pytest.importorskip("onnxruntime")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_same_seed_identical_and_other_seed_within_intervals(noise_npy):
    model = cm.corner_pixel(classes=4)
    a = measure_consistency(model, noise_npy, provider="cpu", seed=3)
    b = measure_consistency(model, noise_npy, provider="cpu", seed=3, batch_size=7)
    c = measure_consistency(model, noise_npy, provider="cpu", seed=4)
    assert a.shift == b.shift and a.flip == b.flip  # batch size does not change the numbers
    assert [p.shift_agree for p in a.per_image] == [p.shift_agree for p in b.per_image]
    assert a.shift != c.shift  # other offsets were drawn ...
    assert a.shift.ci95[0] <= c.shift.ci95[1] and c.shift.ci95[0] <= a.shift.ci95[1]  # ... same answer


def test_max_shift_scales_with_the_input_and_keeps_zhang_at_224():
    from onnxsym.consistency.protocol import auto_max_shift, resolve_max_shift

    assert auto_max_shift(224, 224) == (32, 32)          # Zhang: base 256, offsets [0, 32)
    assert auto_max_shift(32, 32) == (5, 5)               # not 31 px on a 32 px digit
    assert auto_max_shift(48, 320) == (7, 46)             # per axis (PP-OCR recognition)
    assert auto_max_shift(8, 3) == (1, 1)                 # at least 1
    assert auto_max_shift(21, 35) == (3, 5)               # 21 * 32 / 224 = 3.0, 35 -> 5.0
    assert resolve_max_shift(None, 32, 32) == ((5, 5), "auto")
    assert resolve_max_shift(8, 32, 32) == ((8, 8), "max_shift")
    assert resolve_max_shift((2, 9), 48, 320) == ((2, 9), "max_shift")
    for bad in (0, -3, 2.5, "x", True, (1, 2, 3)):
        with pytest.raises(InputError, match="max_shift"):
            resolve_max_shift(bad, 32, 32)


def test_offsets_at_224_are_zhangs_and_stay_in_range_per_axis():
    from onnxsym.consistency.protocol import Plan

    plan = Plan(3, 5, 0, False, (32, 32))
    for i in range(3):  # identical to the draws before the range was scaled
        want = np.random.default_rng([0, i]).integers(0, 32, size=(5, 2, 2))
        assert np.array_equal(plan.offsets(i), want)
    assert plan.variants(0)[-2:] == [(16, 16, 0), (16, 16, 1)]   # Resize(256) + CenterCrop(224)
    wide = Plan(50, 5, 1, True, (7, 46))
    offs = np.concatenate([wide.offsets(i).reshape(-1, 2) for i in range(50)])
    assert offs[:, 0].min() == 0 and offs[:, 0].max() == 6
    assert offs[:, 1].min() == 0 and offs[:, 1].max() == 45
    assert wide.variants(0)[-3:] == [(3, 23, 0), (3, 23, 1), (3, 23, 2)]


def test_max_shift_in_the_report_and_overridable(tmp_path, smooth_npy):
    from onnxsym.report.consistency_render import to_table

    r = measure_consistency(cm.gap_linear(), smooth_npy, provider="cpu")
    assert r.max_shift == (5, 5) and r.max_shift_from == "auto" and r.base_size == (37, 37)
    assert "[0, 5) per axis" in r.shift.offsets and r.shift.max_shift == (5, 5)
    assert "offsets uniform in [0, 5) per axis" in to_table(r)
    d = r.to_dict()
    assert d["max_shift"] == [5, 5] and d["base_size"] == [37, 37] and d["max_shift_from"] == "auto"
    o = measure_consistency(cm.gap_linear(), smooth_npy, provider="cpu", max_shift=(2, 9))
    assert o.max_shift == (2, 9) and o.max_shift_from == "max_shift" and o.base_size == (34, 41)
    assert "[0, 2) rows and [0, 9) columns" in to_table(o) and "set by max_shift" in to_table(o)
    with pytest.raises(InputError, match="max_shift=0"):
        measure_consistency(cm.gap_linear(), smooth_npy, provider="cpu", max_shift=0)


def test_keras_digits_gets_a_small_shift():
    path = os.path.join(ROOT, "models", "keras_digits.onnx")
    if not os.path.exists(path):
        pytest.skip("models/keras_digits.onnx not built")
    r = measure_consistency(path, provider="cpu", preset="unit", pairs_per_image=1)
    assert r.max_shift == (5, 5) and r.base_size == (37, 37) and r.upscaled_images == 0


def test_offsets_text_names_the_range_per_axis():
    from onnxsym.consistency.protocol import offsets_text

    assert offsets_text((32, 32)) == "per image, uniform in [0, 32) per axis, numpy default_rng([seed, image_index])"
    assert offsets_text((2, 9)).startswith("per image, uniform in [0, 2) rows and [0, 9) columns")


def test_plan_variants_per_image():
    from onnxsym.consistency.protocol import Plan

    plan = Plan(4, 2, 7, True, (6, 4))
    assert plan.per_image == 2 * 2 + 2 + 1
    v = plan.variants(3)
    assert len(v) == plan.per_image and v[-3:] == [(3, 2, 0), (3, 2, 1), (3, 2, 2)]
    assert all(0 <= y < 6 and 0 <= x < 4 and f == 0 for y, x, f in v[:4])
    # an image's offsets do not depend on how many images there are
    assert np.array_equal(Plan(10, 2, 7, False, (6, 4)).offsets(3), plan.offsets(3))
    assert not np.array_equal(plan.offsets(2), plan.offsets(3))
    assert len(Plan(1, 1, 0, False).variants(0)) == 4 and Plan(1, 1, 0, False).variants(0)[-1] == (16, 16, 1)
