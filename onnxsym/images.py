"""The input side: which input is the image, its layout/size/dtype, normalisation, image sources.

* :func:`input_spec` reads the model's inputs (from an onnxruntime session) and finds the image:
  rank 4, layout NCHW or NHWC (a TF export has NHWC), spatial size static or from ``input_size``
  (never silently 1), dtype float32/float16/float64/uint8, batch fixed or dynamic. Other inputs are
  an error unless the caller feeds them.
* :data:`PRESETS` - normalisation of 0-255 RGB pixels: ``imagenet`` (mean/std, the default),
  ``unit`` [0, 1], ``symmetric`` (x-127.5)/127.5, ``symmetric-tf`` (x-127)/128 (TF/EfficientNet-Lite),
  ``raw`` 0-255.
* :func:`load_images` - a folder of JPEG/PNG (recursive, sorted; unreadable files listed and
  skipped), a single image file, ``.npy``/``.npz`` arrays, or (default) the photos shipped in
  ``onnxsym/samples``. ``ImageSet.load(i)`` decodes lazily to a uint8 RGB array [H, W, 3].
* :class:`Normalizer` turns uint8 RGB crops into the model's tensor; ``crop_into`` does crop,
  mirror, normalisation and layout in one numba pass (checked against the numpy path in tests).
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .errors import InputError

try:  # numba is a dependency; the numpy path below stays as the fallback and the reference
    from numba import njit
except ImportError:  # pragma: no cover
    njit = None

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")
MIN_IMAGE_SIDE = 8  # a static spatial size below this is not an image input
#: images are refused (listed as skipped) from their header, never decoded, beyond these caps: a
#: 13 000 x 13 000 palette PNG is 169 Mpx (500 MB as RGB); a 1 x 5000 strip resized to a 256 base
#: would be 256 x 1 280 000 pixels
MAX_PIXELS = 64_000_000
MAX_ASPECT = 20
#: .npy/.npz image arrays: at most this many bytes of pixels (a .npy is memory-mapped)
MAX_ARRAY_BYTES = 1 << 30

# name -> (mean, std) applied as (x - mean) / std to RGB values in 0..255, and a description.
PRESETS: dict[str, tuple[tuple[float, float, float], tuple[float, float, float], str]] = {
    "imagenet": ((0.485 * 255, 0.456 * 255, 0.406 * 255), (0.229 * 255, 0.224 * 255, 0.225 * 255),
                 "x/255, mean (0.485, 0.456, 0.406), std (0.229, 0.224, 0.225)"),
    "unit": ((0.0, 0.0, 0.0), (255.0, 255.0, 255.0), "x/255, range [0, 1]"),
    "symmetric": ((127.5, 127.5, 127.5), (127.5, 127.5, 127.5), "(x-127.5)/127.5, range [-1, 1]"),
    "symmetric-tf": ((127.0, 127.0, 127.0), (128.0, 128.0, 128.0),
                     "(x-127)/128 (TF / EfficientNet-Lite style)"),
    "raw": ((0.0, 0.0, 0.0), (1.0, 1.0, 1.0), "raw pixel values 0-255"),
}

_DTYPES = {"tensor(float)": np.float32, "tensor(float16)": np.float16,
           "tensor(double)": np.float64, "tensor(uint8)": np.uint8}


@dataclass
class InputSpec:
    """How to feed images to the model."""

    name: str
    layout: str                 # "NCHW" | "NHWC"
    height: int
    width: int
    channels: int              # 3 (RGB/BGR) or 1 (grey)
    dtype: str                 # numpy dtype name: float32 | float16 | float64 | uint8
    batch: int | None          # fixed batch size, or None when dynamic
    shape: list                # the declared shape, symbolic dims as strings
    size_from: str             # "model" | "--input-size"
    notes: list[str] = field(default_factory=list)

    @property
    def size(self) -> tuple[int, int]:
        return self.height, self.width


def _dim(d):
    return d if isinstance(d, int) and d > 0 else None


def parse_input_size(input_size):
    """``224``, ``"224"`` or ``"224x192"`` (or a pair) → (H, W); None stays None."""
    if input_size is None:
        return None
    if isinstance(input_size, int):
        h = w = input_size
    elif isinstance(input_size, str):
        parts = input_size.lower().replace(",", "x").split("x")
        try:
            vals = [int(p) for p in parts]
        except ValueError:
            raise InputError(f"--input-size {input_size!r}: expected N or HxW") from None
        h, w = (vals[0], vals[0]) if len(vals) == 1 else (vals[0], vals[1]) if len(vals) == 2 else (0, 0)
    else:
        h, w = (int(input_size[0]), int(input_size[1]))
    if h < MIN_IMAGE_SIDE or w < MIN_IMAGE_SIDE:
        raise InputError(f"--input-size {input_size!r}: each side must be at least {MIN_IMAGE_SIDE}")
    return h, w


def input_spec(inputs, input_size=None, feeds=None) -> InputSpec:
    """Find the image input among ``inputs`` (onnxruntime NodeArgs: .name, .shape, .type).

    ``feeds``: names of inputs the caller provides itself; every other non-image input is an error.
    """
    feeds = set(feeds or ())
    size = parse_input_size(input_size)
    candidates = [i for i in inputs if i.name not in feeds]
    if not candidates:
        raise InputError("the model has no input left for the images (all inputs are fed)")
    rank4 = [i for i in candidates if i.shape is not None and len(i.shape) == 4]
    if not rank4:
        desc = ", ".join(f"{i.name} {list(i.shape or [])} {i.type}" for i in candidates)
        raise InputError(f"the model's input is not an image (expected rank 4, NCHW or NHWC): {desc}")
    if len(rank4) > 1:
        names = ", ".join(i.name for i in rank4)
        raise InputError(f"the model has several rank-4 inputs ({names}); cannot tell which is the image")
    img = rank4[0]
    others = [i.name for i in candidates if i is not img]
    if others:
        raise InputError(f"the model has inputs besides the image {img.name!r} that nobody feeds: "
                         f"{', '.join(others)} (give each with --feed NAME=FILE.npy or NAME=NUMBER)")
    if img.type not in _DTYPES:
        raise InputError(f"the model's input {img.name!r} has type {img.type}; an image input must "
                         "be float32, float16, float64 or uint8")
    shape = list(img.shape)
    shown = [d if _dim(d) else str(d) for d in shape]
    c1, c3 = _dim(shape[1]), _dim(shape[3])
    notes = []
    if c1 in (1, 3) and c3 not in (1, 3):
        layout = "NCHW"
    elif c3 in (1, 3) and c1 not in (1, 3):
        layout = "NHWC"
    elif c1 in (1, 3) and c3 in (1, 3):
        layout = "NCHW"
        notes.append(f"input {img.name!r} {shown}: layout ambiguous, assumed NCHW")
    elif c1 is None and c3 is None:
        layout = "NCHW"
        notes.append(f"input {img.name!r} {shown}: channel dimension symbolic, assumed NCHW with 3 channels")
    else:
        raise InputError(f"the model's input {img.name!r} {shown} is not an image: no dimension of "
                         "size 1 or 3 for the channels in position 1 (NCHW) or 3 (NHWC)")
    channels = (c1 if layout == "NCHW" else c3) or 3
    hdim, wdim = (shape[2], shape[3]) if layout == "NCHW" else (shape[1], shape[2])
    h, w = _dim(hdim), _dim(wdim)
    if h is not None and w is not None:
        if h < MIN_IMAGE_SIDE or w < MIN_IMAGE_SIDE:
            raise InputError(f"the model's input {img.name!r} {shown} has spatial size {h}x{w}; "
                             "that is not an image")
        if size is not None and size != (h, w):
            raise InputError(f"--input-size {size[0]}x{size[1]} does not match the model's fixed "
                             f"input size {h}x{w} ({img.name!r} {shown})")
        size_from = "model"
    else:
        if size is None:
            raise InputError(f"the model's input {img.name!r} {shown} has a symbolic spatial size; "
                             "pass --input-size (e.g. 224)")
        if (h is not None and h != size[0]) or (w is not None and w != size[1]):
            raise InputError(f"--input-size {size[0]}x{size[1]} does not match the model's input "
                             f"{img.name!r} {shown}")
        h, w = size
        size_from = "--input-size"
    return InputSpec(name=img.name, layout=layout, height=h, width=w, channels=channels,
                     dtype=np.dtype(_DTYPES[img.type]).name, batch=_dim(shape[0]), shape=shown,
                     size_from=size_from, notes=notes)


def check_preset(preset: str) -> str:
    preset = (preset or "imagenet").lower()
    if preset not in PRESETS:
        raise InputError(f"unknown preset {preset!r}: use one of {', '.join(PRESETS)}")
    return preset


class Normalizer:
    """uint8 RGB batch [B, H, W, 3] -> the model's tensor (layout, channels, dtype, preset, order)."""

    def __init__(self, spec: InputSpec, preset: str = "imagenet", channel_order: str = "rgb"):
        self.spec = spec
        self.preset = check_preset(preset)
        order = (channel_order or "rgb").lower()
        if order not in ("rgb", "bgr"):
            raise InputError(f"unknown channel order {channel_order!r}: use rgb or bgr")
        self.channel_order = order
        self.notes: list[str] = []
        mean, std, _ = PRESETS[self.preset]
        mean, std = np.array(mean, np.float32), np.array(std, np.float32)
        if order == "bgr":
            mean, std = mean[::-1].copy(), std[::-1].copy()
        if spec.channels == 1:
            mean, std = mean.mean(keepdims=True), std.mean(keepdims=True)
        self.scale = (1.0 / std).astype(np.float32)
        self.offset = (-mean / std).astype(np.float32)
        if spec.dtype == "uint8" and self.preset != "raw":
            self.notes.append(f"the model takes uint8 pixels: fed raw 0-255 values, preset "
                              f"{self.preset!r} not applied (the model normalises itself)")

        # fused crop + mirror + normalise + layout in one pass (numba, releases the GIL)
        self.fused = njit is not None and spec.dtype == "float32" and spec.channels == 3
        self.perm = np.array([2, 1, 0] if order == "bgr" else [0, 1, 2], np.int64)

    def new_batch(self, n: int) -> np.ndarray:
        """An empty model tensor for ``n`` inputs (for :meth:`crop_into`)."""
        h, w, c = self.spec.height, self.spec.width, self.spec.channels
        shape = (n, c, h, w) if self.spec.layout == "NCHW" else (n, h, w, c)
        return np.empty(shape, self.spec.dtype)

    def crop_into(self, out: np.ndarray, base: np.ndarray, y: int, x: int, flip: int):
        """Write the crop base[y:y+H, x:x+W] (mirrored: flip 1 horizontal, 2 vertical), normalised,
        into ``out`` (one input of :meth:`new_batch`). Only when ``self.fused``."""
        kernel = _crop_nchw if self.spec.layout == "NCHW" else _crop_nhwc
        kernel(base, y, x, flip, self.perm, self.scale, self.offset, out)

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        """``batch``: uint8 [B, H, W, 3] RGB (any strides, e.g. mirrored views)."""
        if self.channel_order == "bgr" and self.spec.channels != 1:  # grey has no channel order
            batch = batch[..., ::-1]
        if self.spec.channels == 1:
            batch = (batch.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32))[..., None]
            if self.spec.dtype == "uint8":
                batch = np.clip(np.rint(batch), 0, 255).astype(np.uint8)
        if self.spec.dtype == "uint8":
            out = batch
        else:
            out = batch.astype(np.float32)
            out *= self.scale
            out += self.offset
            if self.spec.dtype != "float32":
                out = out.astype(self.spec.dtype)
        if self.spec.layout == "NCHW":
            out = out.transpose(0, 3, 1, 2)
        return np.ascontiguousarray(out)


def _crop_nchw_py(base, y, x, flip, perm, scale, offset, out):
    c_, h, w = out.shape
    for c in range(c_):
        sc, of, src = scale[c], offset[c], perm[c]
        for i in range(h):
            yy = y + (h - 1 - i if flip == 2 else i)
            for j in range(w):
                xx = x + (w - 1 - j if flip == 1 else j)
                out[c, i, j] = base[yy, xx, src] * sc + of


def _crop_nhwc_py(base, y, x, flip, perm, scale, offset, out):
    h, w, c_ = out.shape
    for i in range(h):
        yy = y + (h - 1 - i if flip == 2 else i)
        for j in range(w):
            xx = x + (w - 1 - j if flip == 1 else j)
            for c in range(c_):
                out[i, j, c] = base[yy, xx, perm[c]] * scale[c] + offset[c]


if njit is not None:
    _crop_nchw = njit(cache=True, nogil=True)(_crop_nchw_py)
    _crop_nhwc = njit(cache=True, nogil=True)(_crop_nhwc_py)
else:  # pragma: no cover
    _crop_nchw, _crop_nhwc = _crop_nchw_py, _crop_nhwc_py


# ---------------------------------------------------------------------------------- sources
class UnreadableImage(Exception):
    """An image file whose header looked fine but whose pixels cannot be decoded."""


@dataclass
class ImageSet:
    """Images by name; files are decoded lazily (``load(i)``) so a large folder is not held in memory.

    ``skipped`` lists (name, reason) for files that could not be read: found when listing (bad
    header) or later when decoding (a consumer appends to it).
    """

    names: list[str]
    sources: list               # Path (decoded on demand) or a uint8 array [H, W, 3]
    source: str
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (name, reason)
    notes: list[str] = field(default_factory=list)

    def __len__(self):
        return len(self.sources)

    def load(self, i: int, min_side: int | None = None) -> np.ndarray:
        """uint8 RGB [H, W, 3]; raises UnreadableImage for a file that cannot be decoded.

        ``min_side``: the shorter side the caller needs; a JPEG larger than twice that is decoded
        at a reduced scale (libjpeg's DCT scaling, PIL's draft mode), never below it."""
        src = self.sources[i]
        if isinstance(src, np.ndarray):
            # memory-mapped .npy rows are read here, one image at a time
            return np.ascontiguousarray(np.repeat(src, 3, axis=-1) if src.shape[-1] == 1 else src)
        try:
            arr = _decode(src, min_side)
        except UnreadableImage:
            raise
        except Exception as err:  # PIL raises many types for broken files
            raise UnreadableImage(" ".join(str(err).split())[:200] or type(err).__name__) from None
        if arr.ndim != 3 or min(arr.shape[:2]) < 1:
            raise UnreadableImage("empty image")
        return arr


def _samples_dir():
    from importlib import resources

    return resources.files("onnxsym") / "samples"


def _to_8bit(a: np.ndarray, mode: str) -> np.ndarray:
    """A 16-bit / 32-bit integer or float greyscale image -> uint8 0-255.

    PIL's ``convert("L"/"RGB")`` clips these at 255 (a 16-bit photo turns almost white), so scale
    here: I;16* (0-65535) and I (a 16-bit PNG in older Pillow) by 1/257 (65535 -> 255); F: values in
    [0, 1] times 255, values in [0, 255] as they are, anything else by the image's own range."""
    a = a.astype(np.float64)
    if mode == "F":
        finite = a[np.isfinite(a)]
        lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 0.0)
        a = np.nan_to_num(a, nan=lo, posinf=hi, neginf=lo)
        if lo >= 0 and hi <= 1:
            a = a * 255.0
        elif lo < 0 or hi > 255:
            a = (a - lo) * (255.0 / (hi - lo)) if hi > lo else np.zeros_like(a)
    else:
        a = a / 257.0
    return np.clip(np.rint(a), 0, 255).astype(np.uint8)


def size_problem(width: int, height: int) -> str | None:
    """Why an image of this size is refused (over MAX_PIXELS or MAX_ASPECT), or None."""
    if width < 1 or height < 1:
        return "empty image"
    if width * height > MAX_PIXELS:
        return (f"{width}x{height} is {width * height / 1e6:.0f} Mpx, over onnxsym's cap of "
                f"{MAX_PIXELS / 1e6:.0f} Mpx; not decoded")
    if max(width, height) > MAX_ASPECT * min(width, height):
        return (f"{width}x{height} has an aspect ratio over {MAX_ASPECT}:1; not decoded (its shorter "
                "side resized to the model's input would make an enormous image)")
    return None


def _open_image(path):
    """A PIL image opened lazily from ``path``, a regular file (FIFOs and devices are refused),
    without PIL's DecompressionBombWarning (onnxsym applies its own, lower, cap)."""
    import warnings

    from PIL import Image

    from .files import open_regular

    fd, _st = open_regular(path, "image", UnreadableImage)
    fh = os.fdopen(fd, "rb")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            im = Image.open(fh)
    except Image.DecompressionBombError:
        fh.close()
        raise UnreadableImage(f"over onnxsym's cap of {MAX_PIXELS / 1e6:.0f} Mpx; not decoded") from None
    except BaseException:
        fh.close()
        raise
    return im, fh


def _decode(path, min_side: int | None = None) -> np.ndarray:
    import warnings

    from PIL import Image

    im, fh = _open_image(path)
    with fh, im, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        why = size_problem(*im.size)
        if why:
            raise UnreadableImage(why)
        if min_side and im.format == "JPEG" and im.mode in ("RGB", "L", "YCbCr", "CMYK"):
            w, h = im.size
            k = min_side / min(w, h)
            im.draft(im.mode, (max(1, int(np.ceil(w * k))), max(1, int(np.ceil(h * k)))))
        im.load()
        return _rgb_array(im)


def _rgb_array(im) -> np.ndarray:
    """A decoded PIL image as uint8 RGB [H, W, 3]: 16-bit and float greys scaled (not clipped),
    transparency composited over white."""
    from PIL import Image

    if im.mode.startswith("I") or im.mode == "F":
        im = Image.fromarray(_to_8bit(np.asarray(im), im.mode), mode="L")
    if im.mode != "RGB":
        if im.mode in ("RGBA", "LA", "P") or "transparency" in im.info:
            im = im.convert("RGBA")
            bg = Image.new("RGBA", im.size, (255, 255, 255, 255))
            im = Image.alpha_composite(bg, im)
        im = im.convert("RGB")
    return np.asarray(im, dtype=np.uint8)


def _from_files(files, root, source) -> ImageSet:
    """List readable-looking files (header check only: cheap); the pixels are decoded later."""
    from PIL import Image

    names, sources, skipped = [], [], []
    for f in files:
        name = str(Path(f).relative_to(root)) if root is not None else Path(f).name
        try:
            im, fh = _open_image(f)
            with fh, im:
                w, h = im.size
            why = size_problem(w, h)
            if why:
                raise UnreadableImage(why)
        except Exception as err:  # not an image, truncated header, permission denied, too large ...
            skipped.append((name, " ".join(str(err).split())[:200] or type(err).__name__))
            continue
        names.append(name)
        sources.append(Path(f))
    return ImageSet(names=names, sources=sources, source=source, skipped=skipped)


def _array_to_images(arr: np.ndarray, label: str) -> tuple[list, list[str]]:
    """Per-image uint8 arrays [H, W, C] (C = 1 or 3; grey is repeated to RGB when loaded).

    uint8 arrays stay views (of a memory map for a .npy: nothing is read until an image is
    used); other dtypes are checked and converted to uint8 a chunk at a time, the result capped
    at MAX_ARRAY_BYTES."""
    notes = []
    if arr.ndim == 3:
        arr = arr[None]
    if arr.ndim != 4:
        raise InputError(f"{label}: expected images [N, H, W, 3] or [N, 3, H, W], got shape {list(arr.shape)}")
    if arr.shape[-1] in (1, 3):
        pass
    elif arr.shape[1] in (1, 3):
        arr = arr.transpose(0, 2, 3, 1)
    else:
        raise InputError(f"{label}: no channel axis of size 1 or 3 in shape {list(arr.shape)}")
    h, w = int(arr.shape[1]), int(arr.shape[2])
    why = size_problem(w, h)
    if why and arr.shape[0]:
        raise InputError(f"{label}: images of {why}")
    if arr.dtype != np.uint8:
        if not np.issubdtype(arr.dtype, np.number) or arr.dtype.kind == "c":
            raise InputError(f"{label}: unsupported array dtype {arr.dtype}")
        if arr.size > MAX_ARRAY_BYTES:
            raise InputError(f"{label}: {arr.size:,} pixel values; onnxsym converts at most "
                             f"{MAX_ARRAY_BYTES:,} (give uint8 images, which are read as they are used)")
        step = max(1, (1 << 24) // max(1, h * w * int(arr.shape[3])))
        lo, hi = np.inf, -np.inf
        for k in range(0, arr.shape[0], step):
            a = np.asarray(arr[k:k + step], np.float64)
            if not np.isfinite(a).all():
                raise InputError(f"{label}: array holds NaN or infinite values")
            if a.size:
                lo, hi = min(lo, float(a.min())), max(hi, float(a.max()))
        unit = arr.size and lo >= 0 and hi <= 1.0
        if unit:
            notes.append(f"{label}: float values in [0, 1] scaled to 0-255")
        elif arr.size and (lo < 0 or hi > 255):
            raise InputError(f"{label}: values in [{lo:g}, {hi:g}]; expected 0-255 or 0-1 pixels")
        out = np.empty(arr.shape, np.uint8)
        for k in range(0, arr.shape[0], step):
            a = np.asarray(arr[k:k + step], np.float64)
            out[k:k + step] = np.clip(np.rint(a * 255.0 if unit else a), 0, 255)
        arr = out
    return [arr[i] for i in range(arr.shape[0])], notes


def _read_arrays(path: Path) -> list:
    """(label, array) of a .npy (memory-mapped, so a large file is not read whole) or of each member
    of a .npz (read into memory: their total is capped at MAX_ARRAY_BYTES, checked from the archive's
    directory before anything is decompressed)."""
    import zipfile

    from .files import check_regular

    check_regular(path, "--images")

    def fail(err):
        return InputError(f"cannot read {path}: {' '.join(str(err).split())[:200]}")

    if path.suffix.lower() == ".npy":
        try:
            arr = np.load(path, mmap_mode="r", allow_pickle=False)
        except Exception as err:  # not a .npy, pickled objects, truncated ...
            raise fail(err) from None
        if not isinstance(arr, np.ndarray):
            raise InputError(f"{path}: not a single .npy array")
        return [(path.name, arr)]
    try:
        with zipfile.ZipFile(path) as zf:
            total = sum(i.file_size for i in zf.infolist())
    except (zipfile.BadZipFile, OSError, ValueError) as err:
        raise fail(err) from None
    if total > MAX_ARRAY_BYTES:
        raise InputError(f"{path}: its arrays hold {total / (1 << 30):.1f} GiB uncompressed; onnxsym reads at "
                         f"most {MAX_ARRAY_BYTES >> 30} GiB of .npz images (use a .npy, which is "
                         "memory-mapped, or a folder of images)")
    try:
        data = np.load(path, allow_pickle=False)
        # an .npz reads its members lazily: a pickled member fails here
        return [(f"{path.name}:{k}", data[k]) for k in sorted(data.files)]
    except Exception as err:
        raise fail(err) from None


def load_images(source=None) -> ImageSet:
    """Images from a folder, an image file, a .npy/.npz file, or (None) the shipped samples; an
    ImageSet is returned as it is."""
    if isinstance(source, ImageSet):
        return source
    if source is None:
        root = _samples_dir()
        files = sorted((p for p in root.iterdir() if p.name.lower().endswith(IMAGE_SUFFIXES)),
                       key=lambda p: p.name)
        result = _from_files(files, None, "onnxsym/samples (shipped photos)")
        if not files:
            raise InputError("no images given and the shipped samples (onnxsym/samples) are missing")
    else:
        path = Path(source)
        if not path.exists():
            raise InputError(f"images not found: {path}")
        if path.is_dir():
            files = sorted((p for p in path.rglob("*")
                            if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES),
                           key=lambda p: str(p.relative_to(path)))
            if not files:
                raise InputError(f"no images found in {path} (looked for "
                                 f"{', '.join(IMAGE_SUFFIXES)} recursively)")
            result = _from_files(files, path, str(path))
        elif path.suffix.lower() in (".npy", ".npz"):
            images, names, notes = [], [], []
            arrays = _read_arrays(path)
            for label, arr in arrays:
                imgs, n = _array_to_images(arr, label)
                images += imgs
                notes += n
                names += [f"{label}[{i}]" for i in range(len(imgs))]
            result = ImageSet(names=names, sources=images, source=str(path), notes=notes)
            if not images:
                raise InputError(f"no images found in {path}")
        elif path.suffix.lower() in IMAGE_SUFFIXES:
            from .files import check_regular

            check_regular(path, "--images")
            result = _from_files([path], None, str(path))
        else:
            raise InputError(f"--images {path}: expected a folder, an image (.jpg/.png) or .npy/.npz")
    if not len(result):
        shown = "; ".join(f"{n}: {r}" for n, r in result.skipped[:3])
        raise InputError(f"none of the {len(result.skipped)} image file(s) in {result.source} could be "
                         f"read ({shown}{' ...' if len(result.skipped) > 3 else ''})")
    return result


def needs_upscale(shape, side: tuple[int, int]) -> bool:
    """True when :func:`resize_center_square` enlarges an image of ``shape`` [H, W, ...] to ``side``
    (its shorter side is below max(side))."""
    return min(int(shape[0]), int(shape[1])) < max(side)


def resize_center_square(img: np.ndarray, side: tuple[int, int]) -> np.ndarray:
    """Resize so the shorter side is max(side) (bilinear, antialiased) and centre-crop to ``side``.

    ``side`` = (height, width). Used for the base image of the shift protocol: (S + max_shift) per
    axis, 256x256 for a 224x224 input (see :mod:`onnxsym.consistency`).
    """
    from PIL import Image

    th, tw = side
    h, w = img.shape[:2]
    target = max(th, tw)
    scale = target / min(h, w)
    # torchvision's Resize(int): the longer side is truncated, not rounded.
    nh, nw = max(th, int(h * scale)), max(tw, int(w * scale))
    if h <= w:
        nh = target
    else:
        nw = target
    if (nh, nw) != (h, w):
        img = np.asarray(Image.fromarray(img).resize((nw, nh), Image.BILINEAR), dtype=np.uint8)
    y0, x0 = int(round((nh - th) / 2.0)), int(round((nw - tw) / 2.0))  # torchvision CenterCrop
    return np.ascontiguousarray(img[y0:y0 + th, x0:x0 + tw])
