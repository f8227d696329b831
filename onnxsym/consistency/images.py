"""Image sources: a folder of JPEG/PNG (recursive, sorted; unreadable files listed and skipped), a
single image file, ``.npy``/``.npz`` arrays, or (default) the photos shipped in ``onnxsym/samples``.

:meth:`ImageSet.load` decodes lazily to a uint8 RGB array [H, W, 3]. Every file is a regular file
(:func:`onnxsym.files.open_regular`); images over ``MAX_PIXELS`` or ``MAX_ASPECT`` are skipped from
their header, never decoded; a JPEG larger than needed is decoded at reduced scale (PIL's draft
mode); a ``.npy`` is memory-mapped and read an image at a time.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..wording import param

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")
#: images are refused (listed as skipped) from their header, never decoded, beyond these caps: a
#: 13 000 x 13 000 palette PNG is 169 Mpx (500 MB as RGB); a 1 x 5000 strip resized to a 256 base
#: would be 256 x 1 280 000 pixels
MAX_PIXELS = 64_000_000
MAX_ASPECT = 20
#: .npy/.npz image arrays: at most this many bytes of pixels (a .npy is memory-mapped)
MAX_ARRAY_BYTES = 1 << 30


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

    from ..files import open_regular

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

    from ..files import check_regular

    check_regular(path, param("images"))

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
            from ..files import check_regular

            check_regular(path, param("images"))
            result = _from_files([path], None, str(path))
        else:
            raise InputError(f"{param('images', str(path))}: expected a folder, an image (.jpg/.png) or .npy/.npz")
    if not len(result):
        shown = "; ".join(f"{n}: {r}" for n, r in result.skipped[:3])
        raise InputError(f"none of the {len(result.skipped)} image file(s) in {result.source} could be "
                         f"read ({shown}{' ...' if len(result.skipped) > 3 else ''})")
    return result
