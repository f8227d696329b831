"""onnxsym.consistency.preprocess: the image input (layout, size, dtype, batch), the normalisation
presets, the base image of the shift protocol, and the fused numba crop against the numpy path."""
from __future__ import annotations

from types import SimpleNamespace as NS

import numpy as np
import pytest

import consistency_models as cm
from onnxsym import measure_consistency
from onnxsym.consistency.preprocess import PRESETS, Normalizer, input_spec, resize_center_square
from onnxsym.errors import InputError


def arg(name, shape, type_="tensor(float)"):
    return NS(name=name, shape=shape, type=type_)


def test_nchw_static():
    s = input_spec([arg("input", ["N", 3, 224, 224])])
    assert (s.layout, s.height, s.width, s.channels, s.dtype, s.batch) == ("NCHW", 224, 224, 3, "float32", None)
    assert s.size_from == "model"


def test_nhwc_fixed_batch_uint8():
    s = input_spec([arg("x", [1, 96, 128, 3], "tensor(uint8)")])
    assert (s.layout, s.height, s.width, s.dtype, s.batch) == ("NHWC", 96, 128, "uint8", 1)


def test_symbolic_size_is_chosen_and_said_unless_given():
    s = input_spec([arg("x", ["N", 3, "H", "W"])])
    assert (s.height, s.width, s.size_from) == (224, 224, "chosen")
    assert any("symbolic" in n and "input_size" in n for n in s.notes), s.notes
    s = input_spec([arg("x", ["N", 3, "H", "W"])], input_size="160x192")
    assert (s.height, s.width, s.size_from) == (160, 192, "input_size")


def test_wrong_input_size_for_a_static_model():
    with pytest.raises(InputError, match="does not match"):
        input_spec([arg("x", ["N", 3, 224, 224])], input_size=256)
    with pytest.raises(InputError):
        input_spec([arg("x", ["N", 3, "H", "W"])], input_size="abc")
    with pytest.raises(InputError):
        input_spec([arg("x", ["N", 3, "H", "W"])], input_size=1)  # never silently 1


@pytest.mark.parametrize("inputs", [
    [arg("x", ["N", 10])],
    [arg("x", ["N", 3, 1, 1])],
    [arg("x", ["N", 7, 32, 9])],
    [arg("x", ["N", 3, 32, 32], "tensor(int64)")],
])
def test_not_an_image(inputs):
    with pytest.raises(InputError):
        input_spec(inputs)


def test_extra_inputs_are_an_error_unless_fed():
    inputs = [arg("x", ["N", 3, 32, 32]), arg("scale", [1, 3])]
    with pytest.raises(InputError, match="scale"):
        input_spec(inputs)
    assert input_spec(inputs, feeds=["scale"]).name == "x"


def test_presets_and_bgr():
    spec = input_spec([arg("x", ["N", 3, 8, 8])])
    px = np.zeros((1, 8, 8, 3), np.uint8)
    px[..., 0], px[..., 1], px[..., 2] = 255, 127, 0
    out = Normalizer(spec, "imagenet")(px)
    assert out.shape == (1, 3, 8, 8) and out.dtype == np.float32
    np.testing.assert_allclose(out[0, :, 0, 0], [(1 - .485) / .229, (127 / 255 - .456) / .224, -.406 / .225], rtol=1e-5)
    np.testing.assert_allclose(Normalizer(spec, "unit")(px)[0, :, 0, 0], [1, 127 / 255, 0], atol=1e-6)
    np.testing.assert_allclose(Normalizer(spec, "symmetric")(px)[0, :, 0, 0], [1, -0.5 / 127.5, -1], atol=1e-6)
    np.testing.assert_allclose(Normalizer(spec, "symmetric-tf")(px)[0, :, 0, 0], [1, 0, -127 / 128], atol=1e-6)
    np.testing.assert_allclose(Normalizer(spec, "raw")(px)[0, :, 0, 0], [255, 127, 0])
    np.testing.assert_allclose(Normalizer(spec, "raw", "bgr")(px)[0, :, 0, 0], [0, 127, 255])
    with pytest.raises(InputError):
        Normalizer(spec, "caffe")
    assert set(PRESETS) == {"imagenet", "unit", "symmetric", "symmetric-tf", "raw"}


def test_nhwc_float16_and_uint8_layouts():
    px = np.random.default_rng(0).integers(0, 256, (2, 8, 8, 3), dtype=np.uint8)
    s16 = input_spec([arg("x", ["N", 8, 8, 3], "tensor(float16)")])
    out = Normalizer(s16, "unit")(px)
    assert out.shape == (2, 8, 8, 3) and out.dtype == np.float16
    s8 = input_spec([arg("x", ["N", 3, 8, 8], "tensor(uint8)")])
    n8 = Normalizer(s8, "imagenet")
    out = n8(px)
    assert out.dtype == np.uint8 and out.shape == (2, 3, 8, 8) and np.array_equal(out[1, 2], px[1, ..., 2])
    assert n8.notes  # says the preset was not applied


def test_resize_center_square():
    img = np.zeros((100, 200, 3), np.uint8)
    img[:, 100:] = 255
    out = resize_center_square(img, (64, 64))
    assert out.shape == (64, 64, 3)
    assert out[:, :30].max() == 0 and out[:, 34:].min() == 255  # centre kept


def test_needs_upscale_matches_what_resize_center_square_does():
    from onnxsym.consistency.preprocess import needs_upscale

    assert not needs_upscale((256, 384, 3), (256, 256))   # the shipped photos at 224: exact fit
    assert needs_upscale((255, 384, 3), (256, 256))
    assert needs_upscale((256, 384, 3), (55, 366))        # non-square base: shorter side -> 366
    assert not needs_upscale((48, 60), (37, 37))
    small = np.full((20, 30, 3), 7, np.uint8)
    assert resize_center_square(small, (37, 37)).shape == (37, 37, 3)


@pytest.mark.kernels
@pytest.mark.parametrize("layout", ["NCHW", "NHWC"])
@pytest.mark.parametrize("order", ["rgb", "bgr"])
@pytest.mark.parametrize("flip", [0, 1, 2])
def test_fused_crop_matches_the_numpy_path(layout, order, flip):
    shape = ["N", 3, 12, 10] if layout == "NCHW" else ["N", 12, 10, 3]
    spec = input_spec([arg("x", shape)])
    norm = Normalizer(spec, "imagenet", order)
    assert norm.fused
    base = np.random.default_rng(1).integers(0, 256, (20, 18, 3), dtype=np.uint8)
    y, x = 5, 7
    crop = base[y:y + 12, x:x + 10]
    crop = crop[:, ::-1] if flip == 1 else crop[::-1] if flip == 2 else crop
    want = norm(crop[None])[0]
    out = norm.new_batch(2)
    norm.crop_into(out[1], base, y, x, flip)
    np.testing.assert_allclose(out[1], want, rtol=1e-6, atol=1e-6)


# ---- through measure ----------------------------------------------------------------------


def test_uint8_and_float16_inputs(smooth_npy):
    from onnx import TensorProto as T

    for elem in (T.UINT8, T.FLOAT16):
        r = measure_consistency(cm.gap_linear(elem=elem), smooth_npy, provider="cpu")
        assert r.flip.consistency == 1.0


def test_symbolic_size_is_chosen_to_measure_or_given(smooth_npy):
    m = cm.gap_linear(spatial_symbolic=True)
    r = measure_consistency(m, smooth_npy, provider="cpu")
    assert (r.input.height, r.input.width, r.input.size_from) == (224, 224, "chosen")
    assert any("symbolic spatial size" in n and "224×224" in n for n in r.notes), r.notes
    r = measure_consistency(m, smooth_npy, provider="cpu", input_size=24)
    assert (r.input.height, r.input.size_from) == (24, "input_size")


# ---- the fused crop against the slow reference (also run without the JIT) -----------------------
@pytest.mark.kernels
@pytest.mark.parametrize("layout", ["NCHW", "NHWC"])
@pytest.mark.parametrize("preset,order", [("imagenet", "rgb"), ("symmetric-tf", "bgr"), ("raw", "bgr")])
@pytest.mark.parametrize("flip", [0, 1, 2])
def test_crop_into_matches_the_slow_reference(layout, preset, order, flip):
    import naive

    h, w = 9, 8
    spec = input_spec([arg("x", ["N", 3, h, w] if layout == "NCHW" else ["N", h, w, 3])])
    norm = Normalizer(spec, preset, order)
    base = np.random.default_rng(flip).integers(0, 256, (13, 11, 3), dtype=np.uint8)
    out = norm.new_batch(3)
    assert out.shape == ((3, 3, h, w) if layout == "NCHW" else (3, h, w, 3)) and out.dtype == np.float32
    norm.crop_into(out[2], base, 3, 2, flip)
    src = [2, 1, 0] if order == "bgr" else [0, 1, 2]
    mean, std, _ = PRESETS[preset]
    mean, std = np.array([mean[c] for c in src]), np.array([std[c] for c in src])
    want = (naive.crop(base, 3, 2, h, w, flip, src) - mean) / std
    got = out[2].transpose(1, 2, 0) if layout == "NCHW" else out[2]
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


def test_grey_input_gets_the_luma_and_no_fused_crop():
    spec = input_spec([arg("x", ["N", 1, 8, 8])])
    assert spec.channels == 1
    norm = Normalizer(spec, "unit", "bgr")
    assert not norm.fused
    px = np.zeros((1, 8, 8, 3), np.uint8)
    px[..., 0], px[..., 1], px[..., 2] = 255, 127, 0
    out = norm(px)
    assert out.shape == (1, 1, 8, 8)
    assert out[0, 0, 0, 0] == pytest.approx((0.299 * 255 + 0.587 * 127) / 255, rel=1e-6)   # no channel order for grey
    u8 = Normalizer(input_spec([arg("x", ["N", 8, 8, 1], "tensor(uint8)")]), "raw")(px)
    assert u8.dtype == np.uint8 and u8.shape == (1, 8, 8, 1) and u8[0, 0, 0, 0] == round(0.299 * 255 + 0.587 * 127)


def test_check_preset_and_channel_order():
    from onnxsym.consistency.preprocess import check_preset

    assert check_preset("ImageNet") == "imagenet" and check_preset(None) == "imagenet"
    with pytest.raises(InputError, match="unknown preset 'caffe': use one of imagenet, unit"):
        check_preset("caffe")
    with pytest.raises(InputError, match="unknown channel order 'grb'"):
        Normalizer(input_spec([arg("x", ["N", 3, 8, 8])]), "unit", "grb")


def test_input_spec_traces_the_layout_through_the_graph():
    # an NHWC model with a symbolic channel dim: its dims alone do not show the layout, the
    # Transpose in front of the conv does
    from onnx import TensorProto, helper

    from graphs import rand_weight

    nodes = [helper.make_node("Transpose", ["x"], ["t"], perm=[0, 3, 1, 2]),
             helper.make_node("Conv", ["t", "w"], ["y"], kernel_shape=[3, 3])]
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 16, 12, "C"])
    m = helper.make_model(helper.make_graph(nodes, "g", [x], [helper.make_tensor_value_info("y", 1, None)],
                                            [rand_weight("w", 4, 3, 3, 3)]))
    s = input_spec([arg("x", ["N", 16, 12, "C"])], model=m)
    assert (s.layout, s.height, s.width, s.channels) == ("NHWC", 16, 12, 3)
    with pytest.raises(InputError, match="no dimension of size 1 or 3 for the channels"):
        input_spec([arg("x", ["N", 16, 12, "C"])])
    s = input_spec([arg("x", ["N", "C", 16, "W"])], input_size="16x12")
    assert (s.layout, s.width) == ("NCHW", 12) and "channel dimension symbolic, assumed NCHW" in s.notes[0]
