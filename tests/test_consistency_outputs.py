"""onnxsym.consistency.outputs: what a model's output is (classifier, binary, spatial, vector) and
how two outputs are compared."""
from __future__ import annotations

import numpy as np
import pytest

import consistency_models as cm
from onnxsym import measure_consistency
from onnxsym.consistency.outputs import FLAT_RTOL, OutputHandler, cosine
from onnxsym.consistency.preprocess import InputSpec

pytest.importorskip("onnxruntime")


def test_softmax_not_applied_to_a_distribution(smooth_npy):
    r = measure_consistency(cm.gap_linear(softmax=True), smooth_npy, provider="cpu")
    assert r.output.softmax_applied is False


def test_spatial_output_compared_on_the_overlap(noise_npy):
    r = measure_consistency(cm.pointwise_conv(), noise_npy, provider="cpu", vertical=True)
    assert r.output.kind == "spatial" and r.output.stride == (1.0, 1.0)
    assert r.shift.consistency == pytest.approx(1.0)  # equivariant: identical after undoing the shift
    assert r.flip.consistency == pytest.approx(1.0)
    assert r.flip_vertical.consistency == pytest.approx(1.0)
    assert "overlap" in r.shift.metric


def test_other_outputs_use_cosine_similarity(smooth_npy):
    r = measure_consistency(cm.embedding(), smooth_npy, provider="cpu")
    assert r.output.kind == "vector" and "cosine" in r.shift.metric
    assert r.flip.consistency == pytest.approx(1.0, abs=1e-6)
    assert -1.0 <= r.shift.consistency <= 1.0


# ---- one-score (binary) outputs -----------------------------------------------------------


def _spec():
    from onnxsym.consistency.preprocess import InputSpec

    return InputSpec(name="x", layout="NCHW", height=32, width=32, channels=3, dtype="float32",
                     batch=None, shape=["N", 3, 32, 32], size_from="model")


@pytest.mark.parametrize("sample,mode,classes", [
    (np.array([[0.3], [0.7], [0.5]], np.float32), "probability", [0, 1, 0]),
    (np.array([[-2.0], [0.1], [0.0]], np.float32), "logit", [0, 1, 0]),
    (np.array([-1e-30, 1e-30, 3.0], np.float32), "logit", [0, 1, 1]),      # [B]: sign, not sigmoid
    (np.array([[[[0.2]]], [[[0.9]]]], np.float32), "probability", [0, 1]),  # [B, 1, 1, 1]
])
def test_one_score_output_is_a_binary_classifier(sample, mode, classes):
    from onnxsym.consistency.outputs import OutputHandler

    o = OutputHandler("y", sample, _spec())
    assert o.kind == "classifier" and o.info.binary == mode and o.info.metric == "top1_agreement"
    assert ("p > 0.5" if mode == "probability" else "logit > 0") in o.info.comparison
    recs = o.records(sample)
    assert [o.top1(r) for r in recs] == classes
    j = max(range(len(recs)), key=lambda k: abs(recs[k][1] - recs[0][1]))
    agree, dp = o.compare_classifier(recs[0], recs[j])
    assert agree is False and 0 < dp <= 1


def test_binary_probability_and_logit_models(smooth_npy, noise_npy):
    r = measure_consistency(cm.binary(), smooth_npy, provider="cpu", vertical=True)
    assert r.output.binary == "probability" and r.output.kind == "classifier"
    assert r.flip.consistency == 1.0 and r.flip_vertical.consistency == 1.0  # GAP: mirror-invariant
    assert r.shift.mean_abs_delta_top1_prob is not None and {p.top1 for p in r.per_image} <= {0, 1}
    lg = measure_consistency(cm.binary(sigmoid=False), smooth_npy, provider="cpu")
    assert lg.output.binary == "logit"
    # sigmoid(z) > 0.5 exactly when z > 0: the same decisions
    assert [p.top1 for p in lg.per_image] == [p.top1 for p in r.per_image]
    assert lg.shift.consistency == r.shift.consistency
    assert lg.shift.mean_abs_delta_top1_prob == pytest.approx(r.shift.mean_abs_delta_top1_prob, abs=1e-6)


@pytest.mark.parametrize("sigmoid,rank", [(True, 2), (False, 2), (False, 1)])
def test_binary_model_reading_a_corner_pixel_scores_low(noise_npy, sigmoid, rank):
    # cosine similarity of scalars is always +-1: before, this scored 100 % (or a mean of signs)
    r = measure_consistency(cm.binary(corner=True, sigmoid=sigmoid, rank=rank), noise_npy, provider="cpu")
    assert r.output.binary == ("probability" if sigmoid else "logit")
    assert r.shift.consistency < 0.7 and r.shift.ci95[1] < 0.85
    assert r.flip.consistency < 0.8 and r.flip.ci95 is not None
    assert r.shift.design_effect is not None


def test_binary_probability_that_leaves_0_1_later_is_warned():
    from onnxsym.consistency.outputs import OutputHandler

    o = OutputHandler("y", np.array([[0.2], [0.9]], np.float32), _spec())
    o.records(np.array([[1.5], [0.3]], np.float32))
    assert o.binary_out_of_range == 1


# ---- the handler called directly ----------------------------------------------------------


def _nchw(h=8, w=8):
    return InputSpec(name="x", layout="NCHW", height=h, width=w, channels=3, dtype="float32", batch=None,
                     shape=["N", 3, h, w], size_from="model")


def test_cosine_by_hand():
    a = np.array([1.0, 2.0, 2.0])
    assert cosine(a, 3 * a) == pytest.approx(1.0) and cosine(a, -a) == pytest.approx(-1.0)
    assert cosine(np.array([1.0, 0.0]), np.array([0.0, 5.0])) == 0.0
    assert cosine(np.array([1.0, 1.0]), np.array([1.0, 0.0])) == pytest.approx(2 ** -0.5)
    assert cosine(np.zeros(3), np.zeros(3)) == 1.0 and cosine(np.zeros(3), a) == 0.0


def test_classifier_records_and_comparison():
    dist = np.array([[0.7, 0.2, 0.1], [0.1, 0.6, 0.3]], np.float32)
    o = OutputHandler("p", dist, _nchw())
    assert o.kind == "classifier" and o.info.softmax_applied is False and o.info.metric == "top1_agreement"
    a, b = o.records(dist)
    assert [o.top1(a), o.top1(b)] == [0, 1]
    # top-1 0 and 1: 0.5 * (|0.7 - 0.1| + |0.2 - 0.6|)
    agree, dp = o.compare_classifier(a, b)
    assert agree is False and dp == pytest.approx(0.5)
    logits = np.array([[2.0, 0.0, 0.0], [0.0, -1.0, 1.0]], np.float32)
    o = OutputHandler("z", logits, _nchw())
    assert o.kind == "classifier" and o.info.softmax_applied is True
    e = np.exp(2.0)
    np.testing.assert_allclose(o.records(logits)[0], [e / (e + 2), 1 / (e + 2), 1 / (e + 2)], rtol=1e-6)


def test_spatial_records_compared_on_the_overlap_and_mirrored_back():
    rng = np.random.default_rng(0)
    out = rng.standard_normal((2, 3, 8, 8)).astype(np.float32)
    o = OutputHandler("s", out, _nchw())
    assert o.kind == "spatial" and o.pixel_top1 and o.info.stride == (1.0, 1.0)
    a = o.records(out)[0]
    b = rng.standard_normal(a.shape).astype(np.float32)
    b[:, :7, :6] = a[:, 1:, 2:]          # crop b is 1 row lower and 2 columns right of crop a
    assert o.compare_shift(a, b, (0, 0), (1, 2)) == 1.0
    assert o.compare_shift(b, a, (1, 2), (0, 0)) == 1.0
    assert o.compare_shift(a, b, (0, 0), (0, 0)) < 0.6
    assert o.compare_flip(a, np.flip(a, -1), -1) == 1.0
    # an integer label map [B, H, W]; half the output's resolution: stride 2
    labels = rng.integers(0, 4, (2, 4, 4))
    o = OutputHandler("l", labels, _nchw())
    assert o.labels and o.pixel_top1 and o.info.stride == (2.0, 2.0) and o.records(labels)[0].shape == (1, 4, 4)


def test_flat_threshold_follows_the_output_scale():
    vec = np.array([[0.0, 50.0, -3.0]] * 2, np.float32)[:, :, None]      # [B, 3, 1]: compared as a vector
    o = OutputHandler("v", vec, _nchw())
    assert o.kind == "vector" and o.cosine and o.info.metric == "cosine_similarity"
    assert o.flat_threshold() == 0.0                                      # nothing recorded yet
    o.records(vec)
    assert o.flat_threshold() == pytest.approx(50.0 * FLAT_RTOL)
    probs = np.full((2, 5), 0.2, np.float32)[:, :, None]
    o = OutputHandler("p", probs, _nchw())
    o.records(probs * 0.001)                                              # a probability map: scale 1
    assert o.flat_threshold() == pytest.approx(FLAT_RTOL)
    assert OutputHandler.value_range(np.array([3.0, -1.0, 2.0])) == 4.0
    assert OutputHandler.value_range(np.array([])) == 0.0
