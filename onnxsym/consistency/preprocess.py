"""The model's image input and how photos become its tensor.

* :func:`input_spec` finds the image among the session's inputs — the one input that reaches a conv
  (:mod:`onnxsym.model.inputs`, the detector the padding diagnosis uses too), its layout traced
  through the graph (a tf2onnx export's Transpose in front of the convs makes it NHWC), falling back
  to the dims (the axis of size 1 or 3 in position 1 or last) where the graph does not show it —
  and its spatial size (static, or ``input_size``; never silently 1), dtype and batch.
* :data:`PRESETS` — normalisation of 0-255 RGB pixels: ``imagenet`` (mean/std, the default),
  ``unit`` [0, 1], ``symmetric`` (x-127.5)/127.5, ``symmetric-tf`` (x-127)/128, ``raw`` 0-255.
* :func:`resize_center_square` makes the base image the shift protocol crops from.
* :class:`Normalizer` turns uint8 RGB crops into the model's tensor; ``crop_into`` does crop,
  mirror, normalisation and layout in one numba pass.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numba import njit

from ..errors import InputError
from ..parsing import MIN_IMAGE_SIDE, parse_size
from ..wording import param, param_item

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
    size_from: str             # "model" | "input_size" (given by the caller) | "chosen" (symbolic: see notes)
    notes: list[str] = field(default_factory=list)

    @property
    def size(self) -> tuple[int, int]:
        return self.height, self.width


def _dim(d):
    return d if isinstance(d, int) and d > 0 else None


def input_spec(inputs, input_size=None, feeds=None, model=None) -> InputSpec:
    """Find the image input among ``inputs`` (onnxruntime NodeArgs: .name, .shape, .type).

    ``model``: the ModelProto, for the graph-based detector (:mod:`onnxsym.model.inputs`); without
    it the image is the one rank-4 input and its layout is read from its dims. ``feeds``: names of
    inputs the caller provides itself; every other non-image input is an error.
    """
    feeds = set(feeds or ())
    size = parse_size(input_size)
    candidates = [i for i in inputs if i.name not in feeds]
    if not candidates:
        raise InputError("the model has no input left for the images (all inputs are fed)")
    rank4 = [i for i in candidates if i.shape is not None and len(i.shape) == 4]
    if not rank4:
        desc = ", ".join(f"{i.name} {list(i.shape or [])} {i.type}" for i in candidates)
        raise InputError(f"the model's input is not an image (expected rank 4, NCHW or NHWC): {desc}")
    traced = _traced_layouts(model, {i.name for i in rank4}) if model is not None else {}
    images = [i for i in rank4 if i.name in traced] or rank4
    if len(images) > 1:
        names = ", ".join(i.name for i in images)
        raise InputError(f"the model has several rank-4 inputs ({names}); cannot tell which is the image")
    img = images[0]
    others = [i.name for i in candidates if i is not img]
    if others:
        raise InputError(f"the model has inputs besides the image {img.name!r} that nobody feeds: "
                         f"{', '.join(others)} (give each with {param_item('feeds', 'NAME')}=FILE.npy or NUMBER)")
    if img.type not in _DTYPES:
        raise InputError(f"the model's input {img.name!r} has type {img.type}; an image input must "
                         "be float32, float16, float64 or uint8")
    shape = list(img.shape)
    shown = [d if _dim(d) else str(d) for d in shape]
    layout, note = _layout(traced.get(img.name), shape)
    if layout is None:
        raise InputError(f"the model's input {img.name!r} {shown} is not an image: no dimension of "
                         "size 1 or 3 for the channels in position 1 (NCHW) or 3 (NHWC)")
    notes = [f"input {img.name!r} {shown}: {note}"] if note else []
    channels = _dim(shape[1] if layout == "NCHW" else shape[3]) or 3
    if channels not in (1, 3):
        raise InputError(f"the model's input {img.name!r} {shown} ({layout}) has {channels} channels; "
                         "onnxsym feeds RGB (3) or grey (1) images")
    hdim, wdim = (shape[2], shape[3]) if layout == "NCHW" else (shape[1], shape[2])
    if size is None and (_dim(hdim) is None or _dim(wdim) is None):
        from ..model.sizes import MIN_SIDE, choose_input_size

        choice = choose_input_size(model, image_name=img.name) if model is not None else None
        if choice is not None and choice.source == "chosen":
            chosen, note = choice.size, choice.note
        else:  # no strided layer to size it by (or no graph): the smallest size of the rule
            chosen = (_dim(hdim) or MIN_SIDE, _dim(wdim) or MIN_SIDE)
            note = (f"input {img.name!r} {shown} has a symbolic spatial size and no strided layer to size it "
                    f"by: analysed at {chosen[0]}×{chosen[1]}; give {param('input_size')} to choose another")
        notes.append(note)
        return InputSpec(name=img.name, layout=layout, height=chosen[0], width=chosen[1],
                         channels=channels, dtype=np.dtype(_DTYPES[img.type]).name, batch=_dim(shape[0]),
                         shape=shown, size_from="chosen", notes=notes)
    h, w, size_from = _spatial(img, shown, _dim(hdim), _dim(wdim), size)
    return InputSpec(name=img.name, layout=layout, height=h, width=w, channels=channels,
                     dtype=np.dtype(_DTYPES[img.type]).name, batch=_dim(shape[0]), shape=shown,
                     size_from=size_from, notes=notes)


def _traced_layouts(model, names) -> dict:
    """{input name: layout traced through the graph} of the rank-4 inputs that reach a conv."""
    from ..model.graph import Graph
    from ..model.inputs import find_image_inputs, trace_layout

    graph = Graph(model)
    out = {}
    for im in find_image_inputs(model, given_rank=4, graph=graph):
        if im.name in names:
            out[im.name] = trace_layout(graph, im, 4).layout
    return out


def _layout(traced, shape) -> tuple:
    """(layout, note): the traced layout when it is NCHW or NHWC, else read from the dims."""
    from ..model.inputs import layout_from_dims

    if traced in ("NCHW", "NHWC"):
        return traced, ""
    return layout_from_dims(shape)


def _spatial(img, shown, h, w, size):
    """(H, W, where the size came from): static dims, or ``input_size`` for symbolic ones."""
    if h is not None and w is not None:
        if h < MIN_IMAGE_SIDE or w < MIN_IMAGE_SIDE:
            raise InputError(f"the model's input {img.name!r} {shown} has spatial size {h}x{w}; "
                             "that is not an image")
        if size is not None and size != (h, w):
            raise InputError(f"{param('input_size', f'{size[0]}x{size[1]}')} does not match the model's fixed "
                             f"input size {h}x{w} ({img.name!r} {shown})")
        return h, w, "model"
    if size is None:
        raise InputError(f"the model's input {img.name!r} {shown} has a symbolic spatial size; "
                         f"give {param('input_size', 224)}")
    if (h is not None and h != size[0]) or (w is not None and w != size[1]):
        raise InputError(f"{param('input_size', f'{size[0]}x{size[1]}')} does not match the model's input "
                         f"{img.name!r} {shown}")
    return size[0], size[1], "input_size"


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
        self.fused = spec.dtype == "float32" and spec.channels == 3
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


@njit(cache=True, nogil=True)
def _crop_nchw(base, y, x, flip, perm, scale, offset, out):
    c_, h, w = out.shape
    for c in range(c_):
        sc, of, src = scale[c], offset[c], perm[c]
        for i in range(h):
            yy = y + (h - 1 - i if flip == 2 else i)
            for j in range(w):
                xx = x + (w - 1 - j if flip == 1 else j)
                out[c, i, j] = base[yy, xx, src] * sc + of


@njit(cache=True, nogil=True)
def _crop_nhwc(base, y, x, flip, perm, scale, offset, out):
    h, w, c_ = out.shape
    for i in range(h):
        yy = y + (h - 1 - i if flip == 2 else i)
        for j in range(w):
            xx = x + (w - 1 - j if flip == 1 else j)
            for c in range(c_):
                out[i, j, c] = base[yy, xx, perm[c]] * scale[c] + offset[c]


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
