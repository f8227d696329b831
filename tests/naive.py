"""Slow, obvious reference implementations the numba kernels are compared against.

Nothing here is shared with onnxsym: transforms are written with np.rot90/np.flip on the
kernel itself, loops are plain Python.
"""
import math

import numpy as np


def mean_kernel(w):
    """Mean over the first two axes, by explicit summation in Python floats."""
    w = np.asarray(w, dtype=np.float64)
    a, b = w.shape[:2]
    total = np.zeros(w.shape[2:])
    for i in range(a):
        for j in range(b):
            total = total + w[i, j]
    return total / (a * b)


def transforms_2d(k):
    """The seven non-identity D4 images of a square kernel, by name."""
    return {
        "rot90": np.rot90(k, 1), "rot180": np.rot90(k, 2), "rot270": np.rot90(k, 3),
        "flip_lr": np.fliplr(k), "flip_ud": np.flipud(k), "transpose": k.T,
        "antitranspose": np.rot90(k, 2).T,
    }


def distinct_nonidentity(k, images):
    """Images that differ from the identity as cell permutations, without repeats.

    Uses a kernel of distinct cell labels to tell permutations apart.
    """
    labels = np.arange(k.size, dtype=float).reshape(k.shape)
    seen, keep = [], []
    for name, f in images:
        img = f(labels)
        if np.array_equal(img, labels) or any(np.array_equal(img, s) for s in seen):
            continue
        seen.append(img)
        keep.append(name)
    return keep


def symmetry(k):
    """S and d_T per transform name, straight from the definition in metric.md."""
    k = np.asarray(k, dtype=np.float64)
    norm = math.sqrt(float((k ** 2).sum()))
    if norm == 0 or not np.isfinite(norm):
        return None, {}
    kh = k / norm
    if k.ndim == 2 and k.shape[0] == k.shape[1]:
        funcs = [("rot90", lambda x: np.rot90(x, 1)), ("rot180", lambda x: np.rot90(x, 2)),
                 ("rot270", lambda x: np.rot90(x, 3)), ("flip_lr", np.fliplr), ("flip_ud", np.flipud),
                 ("transpose", lambda x: x.T), ("antitranspose", lambda x: np.rot90(x, 2).T)]
    elif k.ndim == 2:
        funcs = [("flip_lr", np.fliplr), ("flip_ud", np.flipud), ("rot180", lambda x: np.rot90(x, 2))]
    elif k.ndim == 1:
        funcs = [("reverse", lambda x: x[::-1])]
    else:
        axes = [(0,), (1,), (2,), (0, 1), (0, 2), (1, 2), (0, 1, 2)]
        names = ["flip_d", "flip_h", "flip_w", "flip_dh", "flip_dw", "flip_hw", "flip_dhw"]
        funcs = [(n, (lambda a: lambda x: np.flip(x, axis=a))(a)) for n, a in zip(names, axes)]
    terms = {n: float(np.sqrt(((f(kh) - kh) ** 2).sum()) / 2) for n, f in funcs}
    keep = distinct_nonidentity(k, funcs)
    if not keep:
        return None, terms
    return 1.0 - float(np.mean([terms[n] for n in keep])), terms


def per_kernel_scores(w):
    w = np.asarray(w, dtype=np.float64)
    out = []
    for i in range(w.shape[0]):
        for j in range(w.shape[1]):
            s, _ = symmetry(w[i, j])
            out.append(np.nan if s is None else s)
    return np.array(out)


def skew(k):
    """sign(sum K) * sum K*x / sum |K| per axis with x = (index - centre)/centre."""
    k = np.asarray(k, dtype=np.float64)
    total = np.abs(k).sum()
    sign = -1.0 if k.sum() < 0 else 1.0
    out = []
    for axis in range(k.ndim):
        n = k.shape[axis]
        if n == 1:
            out.append(0.0)
            continue
        acc = 0.0
        for idx in np.ndindex(k.shape):
            acc += k[idx] * (idx[axis] - (n - 1) / 2) / ((n - 1) / 2)
        out.append(sign * acc / total)
    return tuple(out)


def crop(base, y, x, h, w, flip, channels):
    """base[y:y+h, x:x+w] mirrored (flip 1 horizontal, 2 vertical), output channel c read from base
    channel ``channels[c]``, as float64 [h, w, C], one pixel at a time."""
    out = np.empty((h, w, len(channels)))
    for i in range(h):
        for j in range(w):
            yy = y + (h - 1 - i if flip == 2 else i)
            xx = x + (w - 1 - j if flip == 1 else j)
            for c, src in enumerate(channels):
                out[i, j, c] = float(base[yy, xx, src])
    return out
