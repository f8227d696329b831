"""onnxsym.consistency.images: image sources (folders, files, .npy/.npz, the shipped samples),
decoding to uint8 RGB (16-bit and float greys scaled, not clipped), and what is skipped."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

import consistency_models as cm
from onnxsym import measure_consistency
from onnxsym.consistency.images import ImageSet, load_images, size_problem
from onnxsym.errors import InputError


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
def test_wide_modes_to_8_bit(tmp_path, mode, arr, want):
    # a TIFF holds each of these modes; named .png, it is still decoded by its content
    path = tmp_path / "wide.png"
    Image.fromarray(arr).save(path, format="TIFF")
    with Image.open(path) as im:
        assert im.mode == mode
    out = load_images(path).load(0)
    assert out.dtype == np.uint8 and out.shape == (1, 3, 3)
    assert out[0, :, 0].tolist() == want and (out[..., 0] == out[..., 1]).all() and (out[..., 0] == out[..., 2]).all()


def test_float_image_decodes(tmp_path):
    f = (np.linspace(0, 1, 30 * 20).reshape(20, 30)).astype(np.float32)
    Image.fromarray(f).save(tmp_path / "f.png", format="TIFF")   # a PIL image in mode F, as a TIFF decoder gives
    got = load_images(tmp_path / "f.png").load(0)
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


def test_unreadable_files_are_listed_and_skipped(tmp_path):
    from PIL import Image

    Image.fromarray(cm.smooth_images(1)[0]).save(tmp_path / "good.png")
    (tmp_path / "bad.jpg").write_bytes(b"\xff\xd8\xff garbage")
    r = measure_consistency(cm.gap_linear(), tmp_path, provider="cpu")
    assert r.images == 1 and [n for n, _ in r.skipped] == ["bad.jpg"]


def test_size_problem():
    from onnxsym.consistency.images import MAX_ASPECT, MAX_PIXELS

    assert size_problem(640, 480) is None and size_problem(MAX_ASPECT, 1) is None
    assert size_problem(0, 5) == "empty image"
    assert "over onnxsym's cap of 64 Mpx" in size_problem(MAX_PIXELS // 1000 + 1, 1000)
    assert "aspect ratio over 20:1" in size_problem(MAX_ASPECT + 1, 1)


def test_grey_arrays_single_files_and_image_sets(tmp_path):
    grey = np.arange(2 * 10 * 12, dtype=np.uint8).reshape(2, 10, 12, 1)
    np.save(tmp_path / "g.npy", grey)
    s = load_images(tmp_path / "g.npy")
    assert s.load(1).shape == (10, 12, 3) and np.array_equal(s.load(1)[..., 2], grey[1, ..., 0])
    assert load_images(s) is s
    _write(tmp_path / "one.png", np.full((9, 11, 3), 7, np.uint8))
    one = load_images(tmp_path / "one.png")
    assert one.names == ["one.png"] and one.load(0).shape == (9, 11, 3) and one.source == str(tmp_path / "one.png")
    (tmp_path / "x.gif").write_bytes(b"GIF89a")
    with pytest.raises(InputError, match="expected a folder, an image"):
        load_images(tmp_path / "x.gif")
    assert isinstance(one, ImageSet) and len(one) == 1


def test_transparency_is_composited_over_white(tmp_path):
    rgba = np.zeros((8, 8, 4), np.uint8)
    rgba[:4, :, :] = (255, 0, 0, 255)          # opaque red on top, fully transparent below
    Image.fromarray(rgba, "RGBA").save(tmp_path / "a.png")
    img = load_images(tmp_path / "a.png").load(0)
    assert img[0, 0].tolist() == [255, 0, 0] and img[7, 7].tolist() == [255, 255, 255]
