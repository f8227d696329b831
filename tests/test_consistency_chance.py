"""onnxsym.consistency.chance: the metric between centre crops of different images (the chance
level), checked by brute force, and the warnings when a consistency does not clear it."""
from __future__ import annotations

import numpy as np
import pytest

import consistency_models as cm
from onnxsym import measure_consistency
from onnxsym.consistency.chance import chance_warnings
from onnxsym.consistency.results import ChanceResult, FlipResult, ShiftResult

ort = pytest.importorskip("onnxruntime")


def _centre_outputs(model, imgs, size=32, ms=5):
    """The model's outputs on the centre crops, made independently of the pipeline."""
    from onnxsym.consistency.preprocess import resize_center_square

    mean = np.array([0.485, 0.456, 0.406], np.float32) * 255
    std = np.array([0.229, 0.224, 0.225], np.float32) * 255
    x = []
    for img in imgs:
        base = resize_center_square(img, (size + ms, size + ms))
        c = ms // 2
        crop = base[c:c + size, c:c + size].astype(np.float32)
        x.append(((crop - mean) / std).transpose(2, 0, 1))
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return sess.run(None, {"x": np.stack(x)})[0]


def _pairs(n):
    return [(i, j) for i in range(n) for j in range(i + 1, n)]


def test_chance_for_a_classifier_is_the_top1_agreement_of_image_pairs(noise_npy):
    r = measure_consistency(cm.gap_linear(classes=3), noise_npy, provider="cpu")
    tops = [p.top1 for p in r.per_image]
    want = np.mean([tops[i] == tops[j] for i, j in _pairs(len(tops))])
    assert r.chance.metric == "top1_agreement" and r.chance.pairs == 66 and r.chance.images == 12
    assert r.chance.value == pytest.approx(want) and not r.chance.sampled
    d = r.to_dict()["chance"]
    assert set(d) >= {"value", "what", "pairs", "images", "metric"} and "different images" in d["what"]


def test_a_classifier_that_always_says_the_same_is_flagged(smooth_npy):
    from onnxsym.report.consistency_render import summary_line

    r = measure_consistency(cm.constant_class(), smooth_npy, provider="cpu")
    assert r.shift.consistency == 1.0 and r.chance.value == 1.0
    assert any("does not clear the agreement between unrelated images (100.0 %)" in w for w in r.warnings)
    assert "(unrelated images: 100.0 %)" in summary_line(r)


def test_chance_for_cosine_is_the_mean_cosine_of_different_images(smooth_npy):
    from onnxsym.consistency.outputs import cosine
    from onnxsym.report.consistency_render import summary_line, to_table

    model = cm.embedding()
    r = measure_consistency(model, smooth_npy, provider="cpu")
    outs = _centre_outputs(model, np.load(smooth_npy))
    want = np.mean([cosine(outs[i], outs[j]) for i, j in _pairs(len(outs))])
    assert r.chance.metric == "cosine_similarity" and r.chance.pairs == 28
    assert r.chance.value == pytest.approx(want, abs=1e-5)
    line = summary_line(r)
    assert f"(unrelated images: {r.chance.value:.3f})" in line
    assert "unrelated images" in to_table(r)


def test_cosine_no_better_than_unrelated_images_is_warned(smooth_npy, noise_npy):
    from onnxsym.report.consistency_render import to_table

    # the mirror of a noise photo's top-left corner is its top-right one: as unrelated as another photo
    r = measure_consistency(cm.embedding(corner=True, offset=2.0), noise_npy, provider="cpu")
    assert r.flip.ci95[0] <= r.chance.value < r.shift.ci95[0]
    warn = [w for w in r.warnings if "unrelated images" in w]
    assert len(warn) == 1 and "does not separate shifted or mirrored copies from unrelated images" in warn[0]
    assert f"(flip {r.flip.consistency:.3f} [" in warn[0] and "shift" not in warn[0].split(")")[0]
    assert "WARNING: the cosine consistency" in to_table(r)
    ok = measure_consistency(cm.embedding(), smooth_npy, provider="cpu")
    assert ok.shift.ci95[0] > ok.chance.value and not any("unrelated" in w for w in ok.warnings)


def test_chance_for_pixel_agreement_matches_brute_force(noise_npy):
    model = cm.pointwise_conv()
    r = measure_consistency(model, noise_npy, provider="cpu")
    labels = _centre_outputs(model, np.load(noise_npy)).argmax(axis=1)
    want = np.mean([np.mean(labels[i] == labels[j]) for i, j in _pairs(len(labels))])
    assert r.chance.metric == "pixel_top1_agreement"
    assert r.chance.value == pytest.approx(want, abs=1e-9) and r.chance.pairs == 66
    assert r.shift.consistency > r.chance.value  # equivariant model: far above chance


def test_chance_leaves_out_pairs_of_two_flat_outputs(tmp_path):
    imgs = cm.imageset(np.concatenate([cm.dark_images(3), cm.bright_blob_images(3)]))
    r = measure_consistency(cm.detector(), imgs, provider="cpu")
    assert r.chance.excluded_pairs == 3 and r.chance.pairs == 12   # C(3,2) flat pairs of 15


def test_chance_sample_is_seeded_and_bounded(monkeypatch, noise_npy):
    import onnxsym.consistency.chance as C

    monkeypatch.setattr(C, "CHANCE_IMAGES", 5)
    a = measure_consistency(cm.embedding(), noise_npy, provider="cpu", seed=1)
    b = measure_consistency(cm.embedding(), noise_npy, provider="cpu", seed=1, batch_size=5)
    assert a.chance.sampled and a.chance.images == 5 and a.chance.pairs == 10
    assert a.chance == b.chance
    c = measure_consistency(cm.gap_linear(), noise_npy, provider="cpu")  # top-1: exact, all images
    assert c.chance.images == 12 and not c.chance.sampled


def test_chance_needs_two_images():
    r = measure_consistency(cm.embedding(), cm.imageset(cm.smooth_images(1)), provider="cpu")
    assert r.chance.value is None and r.chance.pairs == 0
    assert r.to_dict()["chance"]["value"] is None


# ---- the warnings, called directly ---------------------------------------------------------------
def _shift(c, ci, metric="m"):
    return ShiftResult(consistency=c, pairs=10, images=5, ci95=ci, ci95_method="", metric=metric)


def _flip(c, ci, axis="horizontal"):
    return FlipResult(axis=axis, consistency=c, images=5, ci95=ci, ci95_method="", metric="m")


def test_chance_warnings_name_the_results_that_do_not_clear_it():
    top1 = ChanceResult(0.5, "top1_agreement", "", 10, 5)
    w = chance_warnings(top1, _shift(0.6, (0.4, 0.8)), _flip(0.8, (0.7, 0.9)), None)
    assert w == ["the top-1 agreement (shift 60.0 % [40.0, 80.0]) does not clear the agreement between unrelated "
                 "images (50.0 %): the model gives many of these images the same top-1, so agreement here says "
                 "little about consistency"]
    assert chance_warnings(top1, _shift(0.6, (0.55, 0.8)), _flip(0.8, (0.7, 0.9)), None) == []
    # no interval: the value itself is compared; a vertical flip counts too
    w = chance_warnings(top1, _shift(None, None), _flip(0.9, None), _flip(0.45, None, "vertical"))
    assert len(w) == 1 and w[0].startswith("the top-1 agreement (vertical flip 45.0 %) does not clear")
    cos = ChanceResult(0.92, "cosine_similarity", "", 10, 5)
    w = chance_warnings(cos, _shift(0.95, (0.93, 0.97)), _flip(0.9, (0.85, 0.95)), None)
    assert w[0].startswith("the cosine consistency (flip 0.900 [0.850, 0.950]) does not clear the cosine between "
                           "the outputs of unrelated images (0.920)")
    pix = ChanceResult(0.5, "pixel_top1_agreement", "", 10, 5)
    assert chance_warnings(pix, _shift(0.4, None), _flip(0.9, None), None)[0].startswith(
        "the pixel agreement (shift 40.0 %) does not clear the agreement between unrelated images (50.0 %)")
    assert chance_warnings(None, _shift(0.1, None), _flip(0.1, None), None) == []
    assert chance_warnings(ChanceResult(None, "top1_agreement", "", 0, 1), _shift(0.1, None), _flip(0.1, None),
                           None) == []
