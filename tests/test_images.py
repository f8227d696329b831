"""onnxsym.images: input spec, normalisation presets, image sources."""
from __future__ import annotations

from types import SimpleNamespace as NS

import numpy as np
import pytest
from PIL import Image

from onnxsym.errors import InputError
from onnxsym.consistency.images import load_images
from onnxsym.consistency.preprocess import PRESETS, Normalizer, input_spec, resize_center_square


def arg(name, shape, type_="tensor(float)"):
    return NS(name=name, shape=shape, type=type_)


def test_nchw_static():
    s = input_spec([arg("input", ["N", 3, 224, 224])])
    assert (s.layout, s.height, s.width, s.channels, s.dtype, s.batch) == ("NCHW", 224, 224, 3, "float32", None)
    assert s.size_from == "model"


def test_nhwc_fixed_batch_uint8():
    s = input_spec([arg("x", [1, 96, 128, 3], "tensor(uint8)")])
    assert (s.layout, s.height, s.width, s.dtype, s.batch) == ("NHWC", 96, 128, "uint8", 1)


def test_symbolic_size_needs_input_size():
    with pytest.raises(InputError, match="input_size"):
        input_spec([arg("x", ["N", 3, "H", "W"])])
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


def _write(path, arr, fmt=None):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(arr).save(path, format=fmt)


def test_folder_recursive_sorted_and_unreadable_listed(tmp_path):
    rng = np.random.default_rng(0)
    _write(tmp_path / "b.png", rng.integers(0, 255, (20, 30, 3), dtype=np.uint8))
    _write(tmp_path / "a" / "z.jpg", rng.integers(0, 255, (20, 30, 3), dtype=np.uint8))
    _write(tmp_path / "c.PNG", rng.integers(0, 255, (20, 30), dtype=np.uint8))  # greyscale
    (tmp_path / "broken.jpg").write_bytes(b"not a jpeg")
    (tmp_path / "notes.txt").write_text("ignored")
    s = load_images(tmp_path)
    assert s.names == ["a/z.jpg", "b.png", "c.PNG"]
    assert [n for n, _ in s.skipped] == ["broken.jpg"]
    assert s.load(2).shape == (20, 30, 3) and s.load(2).dtype == np.uint8


def test_16_bit_greyscale_png_is_scaled_not_clipped(tmp_path):
    grey16 = (np.arange(40 * 50).reshape(40, 50) * 32).astype(np.uint16)   # 0 .. 63968
    _write(tmp_path / "g16.png", grey16)
    with Image.open(tmp_path / "g16.png") as im:
        assert im.mode.startswith("I")       # I;16 (or I in older Pillow)
    rgb8 = (np.arange(40 * 50 * 3).reshape(40, 50, 3) % 256).astype(np.uint8)
    _write(tmp_path / "rgb8.png", rgb8)
    s = load_images(tmp_path)
    got = s.load(s.names.index("g16.png"))
    want = np.clip(np.rint(grey16 / 257.0), 0, 255).astype(np.uint8)
    assert got.shape == (40, 50, 3) and got.dtype == np.uint8
    assert np.array_equal(got[..., 0], want) and np.array_equal(got[..., 1], want)
    assert got.mean() < 130                  # not almost white (PIL's convert clips at 255)
    assert np.array_equal(s.load(s.names.index("rgb8.png")), rgb8)   # 8-bit untouched


@pytest.mark.parametrize("mode,arr,want", [
    ("I;16", np.array([[0, 257, 65535]], np.uint16), [0, 1, 255]),
    ("I;16B", np.array([[0, 32896, 65535]], ">u2"), [0, 128, 255]),
    ("I", np.array([[0, 65535, 70000]], np.int32), [0, 255, 255]),
    ("F", np.array([[0.0, 0.5, 1.0]], np.float32), [0, 128, 255]),        # [0, 1]
    ("F", np.array([[0.0, 100.0, 255.0]], np.float32), [0, 100, 255]),    # 0-255
    ("F", np.array([[-1.0, 0.0, 1000.0]], np.float32), [0, 0, 255]),      # own range
])
def test_wide_modes_to_8_bit(mode, arr, want):
    from onnxsym.consistency.images import _to_8bit

    out = _to_8bit(arr, mode)
    assert out.dtype == np.uint8 and out[0].tolist() == want


def test_float_image_decodes():
    from onnxsym.consistency import images

    f = (np.linspace(0, 1, 30 * 20).reshape(20, 30)).astype(np.float32)
    got = images._rgb_array(Image.fromarray(f))  # a PIL image in mode F, as a TIFF decoder gives
    assert got.shape == (20, 30, 3) and got[0, 0, 0] == 0 and got[-1, -1, 0] == 255


def test_no_images_and_all_unreadable(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="no images found"):
        load_images(tmp_path / "empty")
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "x.jpg").write_bytes(b"garbage")
    (bad / "y.png").write_bytes(b"")
    with pytest.raises(InputError, match="could be read"):
        load_images(bad)
    with pytest.raises(InputError, match="not found"):
        load_images(tmp_path / "missing")


def test_npy_and_npz(tmp_path):
    a = np.random.default_rng(0).integers(0, 256, (3, 16, 20, 3), dtype=np.uint8)
    np.save(tmp_path / "a.npy", a)
    s = load_images(tmp_path / "a.npy")
    assert len(s) == 3 and np.array_equal(s.load(1), a[1])
    np.save(tmp_path / "chw.npy", a.transpose(0, 3, 1, 2).astype(np.float32) / 255.0)
    s = load_images(tmp_path / "chw.npy")
    assert s.load(0).shape == (16, 20, 3) and np.abs(s.load(0).astype(int) - a[0]).max() <= 1
    assert s.notes
    np.savez(tmp_path / "b.npz", first=a[:2], second=a[2:])
    s = load_images(tmp_path / "b.npz")
    assert len(s) == 3 and s.names[0] == "b.npz:first[0]"
    np.save(tmp_path / "bad.npy", np.zeros((4, 5)))
    with pytest.raises(InputError):
        load_images(tmp_path / "bad.npy")


def test_shipped_samples():
    s = load_images(None)
    assert len(s) >= 3 and "samples" in s.source
    img = s.load(0)
    assert img.ndim == 3 and img.shape[2] == 3 and img.dtype == np.uint8


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
