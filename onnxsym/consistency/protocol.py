"""The shift and flip protocol: how far crops may move, where each image's crops are, and what
each image's variants are (Zhang 2019, scaled with the input; see docs/metric.md).

* **Shift range, scaled with the input.** Zhang evaluates 224x224 models on a 256x256 base with
  crop offsets uniform in [0, 32). onnxsym keeps exactly that at 224 and scales it with the input:
  per axis, ``max_shift = round(32 * S / 224)`` (half up, at least 1) with S the input's side on that
  axis, and the base is ``S + max_shift`` on that axis: 224 -> 32 (base 256), 32 -> 5 (base 37),
  48 -> 7, 320 -> 46. A non-square input (48x320) is scaled per axis.
* **Offsets** are drawn per image from ``numpy.random.default_rng([seed, image_index])`` (Zhang
  draws one offset pair per batch, unseeded), so the numbers do not depend on the batch size.
* **Flip**: the centre crop (offset (my//2, mx//2): 16 at 224, i.e. Resize(256) + CenterCrop(224))
  against its horizontal mirror (vertical on request).
"""
from __future__ import annotations

import math

import numpy as np

from ..parsing import parse_max_shift

MAX_SHIFT = 32          # Zhang's offset range [0, 32) at his input size, 224 (base 256)
ZHANG_SIZE = 224


def auto_max_shift(height: int, width: int) -> tuple[int, int]:
    """Zhang's offset range scaled with the input, per axis: round(32 * S / 224), at least 1.

    224 -> 32 (Zhang exactly), 32 -> 5, 48 -> 7, 320 -> 46; rounding is half up."""
    return tuple(max(1, int(math.floor(MAX_SHIFT * s / ZHANG_SIZE + 0.5))) for s in (height, width))


def resolve_max_shift(max_shift, height: int, width: int) -> tuple[tuple[int, int], str]:
    """``max_shift`` (None: auto, an int for both axes, or (rows, columns)) -> ((my, mx), source)."""
    if max_shift is None:
        return auto_max_shift(height, width), "auto"
    return parse_max_shift(max_shift), "max_shift"


def offsets_text(max_shift: tuple[int, int]) -> str:
    my, mx = max_shift
    rng = (f"uniform in [0, {my}) per axis" if my == mx else
           f"uniform in [0, {my}) rows and [0, {mx}) columns")
    return f"per image, {rng}, numpy default_rng([seed, image_index])"


class Plan:
    """Variants of every image, in order: pairs (a, b) ..., centre, h-mirror, [v-mirror]."""

    def __init__(self, n_images, pairs, seed, vertical, max_shift=(MAX_SHIFT, MAX_SHIFT)):
        self.pairs = pairs
        self.per_image = 2 * pairs + 2 + (1 if vertical else 0)
        self.vertical = vertical
        self.seed = seed
        self.n_images = n_images
        self.max_shift = (int(max_shift[0]), int(max_shift[1]))

    def offsets(self, i) -> np.ndarray:
        rng = np.random.default_rng([int(self.seed), int(i)])
        my, mx = self.max_shift
        high = my if my == mx else np.array([my, mx])
        return rng.integers(0, high, size=(self.pairs, 2, 2))  # pair, crop a/b, (y, x)

    def variants(self, i):
        """[(y, x, flip)] for image i; flip 0 none, 1 horizontal, 2 vertical."""
        offs = self.offsets(i)
        out = []
        for p in range(self.pairs):
            out.append((int(offs[p, 0, 0]), int(offs[p, 0, 1]), 0))
            out.append((int(offs[p, 1, 0]), int(offs[p, 1, 1]), 0))
        cy, cx = self.max_shift[0] // 2, self.max_shift[1] // 2
        out += [(cy, cx, 0), (cy, cx, 1)]
        if self.vertical:
            out.append((cy, cx, 2))
        return out
