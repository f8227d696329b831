"""onnxsym.consistency.pipeline: the batches (a fixed batch padded, batch size not changing the
numbers, buffers never refilled while queued), the memory bound on a batch, upscaled images."""
from __future__ import annotations

import numpy as np
import pytest

import consistency_models as cm
from onnxsym import measure_consistency
from onnxsym.consistency.pipeline import MAX_BATCH_BYTES, check_memory, fixed_batch
from onnxsym.consistency.preprocess import InputSpec
from onnxsym.errors import InputError

pytest.importorskip("onnxruntime")


def test_fixed_batch_dimension_is_padded(smooth_npy):
    r1 = measure_consistency(cm.gap_linear(batch=5), smooth_npy, provider="cpu", batch_size=16)
    r2 = measure_consistency(cm.gap_linear(), smooth_npy, provider="cpu")
    assert r1.batch_size == 5 and any("fixed" in n for n in r1.notes)
    assert r1.shift.consistency == r2.shift.consistency and r1.flip == r2.flip


def test_large_inputs_lower_the_default_batch(monkeypatch, smooth_npy):
    import onnxsym.consistency.pipeline as C

    per_input = 3 * 24 * 24 * 4
    monkeypatch.setattr(C, "MAX_BATCH_BYTES", 10 * per_input)
    m = cm.gap_linear(spatial_symbolic=True)
    r = measure_consistency(m, smooth_npy, provider="cpu", input_size=24)
    assert r.batch_size == 10 and any("10 per run" in n for n in r.notes)
    with pytest.raises(InputError, match="batch_size=10"):
        measure_consistency(m, smooth_npy, provider="cpu", input_size=24, batch_size=16)
    with pytest.raises(InputError, match="fixed batch"):
        measure_consistency(cm.gap_linear(batch=12, spatial_symbolic=True), smooth_npy, provider="cpu",
                            input_size=24)
    monkeypatch.undo()
    assert r.shift == measure_consistency(m, smooth_npy, provider="cpu", input_size=24).shift


def test_upscaled_images_are_counted_in_one_note():
    small = cm.imageset(list(cm.smooth_images(3, (20, 30))) + list(cm.smooth_images(2, (48, 60))))
    r = measure_consistency(cm.gap_linear(), small, provider="cpu", pairs_per_image=1)
    assert r.upscaled_images == 3
    notes = [n for n in r.notes if "upscaled" in n]
    assert len(notes) == 1 and notes[0].startswith("3 of 5 images are smaller than the 37x37 base")


def test_uint8_nhwc_results_do_not_depend_on_batch_size(tmp_path):
    """The non-fused path hands batches over without copying: a queued batch must never be refilled."""
    import onnx
    from onnx import TensorProto, helper as h, numpy_helper as nh

    rng = np.random.default_rng(0)
    x = h.make_tensor_value_info("x", TensorProto.UINT8, ["N", 16, 16, 3])
    y = h.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 10])
    nodes = [h.make_node("Cast", ["x"], ["xf"], to=TensorProto.FLOAT),
             h.make_node("Flatten", ["xf"], ["f"], axis=1), h.make_node("MatMul", ["f", "W"], ["y"])]
    w = rng.standard_normal((16 * 16 * 3, 10)).astype(np.float32)
    m = h.make_model(h.make_graph(nodes, "g", [x], [y], initializer=[nh.from_array(w, "W")]),
                     opset_imports=[h.make_opsetid("", 17)])
    m.ir_version = 8
    onnx.save(m, str(tmp_path / "u8.onnx"))
    np.save(tmp_path / "imgs.npy", rng.integers(0, 256, (24, 24, 24, 3), dtype=np.uint8))
    per_image = {}
    for bs in (1, 3, 1000):
        r = measure_consistency(str(tmp_path / "u8.onnx"), str(tmp_path / "imgs.npy"), provider="cpu",
                                batch_size=bs, seed=0)
        per_image[bs] = [(p.shift_agree, p.flip, p.top1) for p in r.per_image]
    assert per_image[1] == per_image[1000] and per_image[3] == per_image[1000]


def _spec(h=224, w=224, batch=None, dtype="float32"):
    return InputSpec(name="x", layout="NCHW", height=h, width=w, channels=3, dtype=dtype, batch=batch,
                     shape=[batch or "N", 3, h, w], size_from="model")


def test_fixed_batch():
    assert fixed_batch(_spec(), None) == (32, []) and fixed_batch(_spec(), 7) == (7, [])
    assert fixed_batch(_spec(batch=4), 4) == (4, [])
    n, notes = fixed_batch(_spec(batch=4), 16)
    assert n == 4 and notes == ["the model's batch dimension is fixed at 4; batch_size=16 ignored"]
    with pytest.raises(InputError, match="batch_size=0: must be at least 1"):
        fixed_batch(_spec(), 0)


def test_check_memory_by_hand():
    notes = []
    assert check_memory(_spec(), 32, None, notes) == 32 and notes == []     # 32 x 588 KiB
    per_input = 4096 * 4096 * 3 * 4                                        # 192 MiB of float32
    fit = MAX_BATCH_BYTES // per_input
    assert fit == 5
    assert check_memory(_spec(4096, 4096), 32, None, notes) == fit
    assert notes == ["input size 4096x4096: 32 inputs per run would need 6.0 GiB; running 5 per run instead"]
    with pytest.raises(InputError, match="batch_size=32 at input size 4096x4096 needs 6.0 GiB per run .* use "
                                         "batch_size=5 or less"):
        check_memory(_spec(4096, 4096), 32, 32, [])
    with pytest.raises(InputError, match="the model's fixed batch of 8 needs 1.5 GiB"):
        check_memory(_spec(4096, 4096, batch=8), 8, None, [])
    with pytest.raises(InputError, match="one input alone needs"):
        check_memory(_spec(20000, 20000, dtype="uint8"), 1, None, [])
    # uint8 inputs take a quarter of the memory: 32 x 48 MiB = 1.5 GiB > 1 GiB, 21 fit
    assert check_memory(_spec(4096, 4096, dtype="uint8"), 32, None, []) == MAX_BATCH_BYTES // (4096 * 4096 * 3)
