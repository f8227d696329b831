"""Thumbnails for the consistency panel of an audit: small JPEG data URIs of what changed.

For each image whose prediction changed (classifiers) or whose outputs agreed least (other
metrics) an entry carries the whole image and the two views that were compared: the two crops
of its least consistent shift pair, or the centre crop and its mirror, each with its top-1 class
(ImageNet names when the output has 1000 or 1001 classes, else the index).
"""
from __future__ import annotations

import base64
import io
import json
from functools import lru_cache
from importlib import resources

SIDE = 128          # the whole image's thumbnail fits SIDE×SIDE
VIEW_SIDE = 96      # each compared view fits VIEW_SIDE×VIEW_SIDE


@lru_cache(maxsize=1)
def imagenet_names() -> tuple:
    """The 1000 ImageNet-1k class names in index order (``onnxsym/data/imagenet_classes.json``)."""
    doc = json.loads(resources.files("onnxsym").joinpath("data/imagenet_classes.json").read_text("utf-8"))
    return tuple(doc["names"])


def class_name(index, n_classes) -> str:
    """``tabby cat (281)`` for a 1000-class (or 1001 with background first) output, else ``class 281``."""
    if index is None:
        return "?"
    index = int(index)
    names = imagenet_names()
    offset = {1000: 0, 1001: 1}.get(n_classes)
    if offset is not None and 0 <= index - offset < len(names):
        return f"{names[index - offset]} ({index})"
    return f"class {index}"


def _pick(per_image, metric, limit, lowest):
    """(name, entry, result) of the images to show, in the order of ``per_image``."""
    picked = []
    if metric == "top1_agreement":
        for res in per_image:
            if res.get("shift_agree") is not None and res["shift_agree"] < res.get("shift_pairs", 0):
                picked.append((res["name"], {"why": "shift", "detail":
                               f"shift: {res['shift_agree']}/{res['shift_pairs']} pairs agree"}, res))
            if res.get("flip") is not None and res["flip"] < 1:
                picked.append((res["name"], {"why": "flip", "detail": "flip: top-1 changed"}, res))
            if res.get("flip_vertical") is not None and res["flip_vertical"] < 1:
                picked.append((res["name"], {"why": "flip", "detail": "vertical flip: top-1 changed",
                                             "vertical": True}, res))
        return picked
    cosine = metric == "cosine_similarity"
    what = "cosine" if cosine else "pixel agreement"

    def fmt(v):
        return f"{v:.3f}" if cosine else f"{100 * v:.1f} %"

    scored = sorted(((min(v for v in (r.get("shift_mean"), r.get("flip")) if v is not None), k, r)
                     for k, r in enumerate(per_image)
                     if r.get("shift_mean") is not None or r.get("flip") is not None), key=lambda t: t[:2])
    for rank, (_, _, res) in enumerate(scored[:lowest], 1):
        sm, fl = res.get("shift_mean"), res.get("flip")
        detail = " · ".join(x for x in (f"shift {what} {fmt(sm)}" if sm is not None else "",
                                        f"flip {what} {fmt(fl)}" if fl is not None else "") if x)
        # the view shown is the weaker of the two comparisons
        why_view = "flip" if sm is None or (fl is not None and fl < sm) else "shift"
        picked.append((res["name"], {"why": "lowest", "detail": detail, "rank": rank, "shift": sm,
                                     "flip": fl, "metric": metric, "view": why_view}, res))
    return picked


def _metric_of(per_image):
    if any(r.get("shift_agree") is not None for r in per_image):
        return "top1_agreement"
    if any(r.get("flat") is not None for r in per_image):   # set for cosine metrics only
        return "cosine_similarity"
    return "pixel_top1_agreement"


def _uri(array, side) -> str:
    from PIL import Image

    pil = Image.fromarray(array)
    pil.thumbnail((side, side))
    buf = io.BytesIO()
    pil.convert("RGB").save(buf, format="JPEG", quality=80)
    return "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode()


def _views(base, res, entry, size, n_classes, classifier):
    """The two compared views: [{caption, data_uri}, {caption, data_uri}]."""
    h, w = size
    kind = entry.get("view") or entry["why"]
    if kind == "shift" and res.get("worst_pair"):
        (ya, xa), (yb, xb) = res["worst_pair"]
        tops = res.get("worst_pair_top1") or [None, None]
        crops = [base[ya:ya + h, xa:xa + w], base[yb:yb + h, xb:xb + w]]
        captions = [f"crop at ({y}, {x})" for y, x in ((ya, xa), (yb, xb))]
    else:
        ms = (base.shape[0] - h, base.shape[1] - w)
        cy, cx = ms[0] // 2, ms[1] // 2
        centre = base[cy:cy + h, cx:cx + w]
        mirror = centre[::-1] if entry.get("vertical") else centre[:, ::-1]
        crops = [centre, mirror]
        captions = ["centre crop", "upside down" if entry.get("vertical") else "mirrored"]
        tops = [res.get("top1"), res.get("mirror_top1")] if not entry.get("vertical") else [res.get("top1"), None]
    if classifier:
        captions = [f"{c}: {class_name(t, n_classes)}" if t is not None else c for c, t in zip(captions, tops)]
    return [{"caption": c, "data_uri": _uri(v, VIEW_SIDE)} for c, v in zip(captions, crops)]


def thumbnails(imageset, consistency: dict, limit: int = 12, lowest: int = 4) -> list:
    """Thumbnail entries for the consistency panel (the HTML renderer merges entries of one image).

    Parameters
    ----------
    imageset : the image set that was measured (``None``: no thumbnails).
    consistency : dict
        The ``onnxsym.consistency/1`` document of that measurement.
    limit : int
        At most this many images (classifiers: the images whose top-1 changed).
    lowest : int
        Other metrics: the ``lowest`` images with the lowest per-image value.

    Returns
    -------
    list of dict
        ``{name, why ("shift" | "flip" | "lowest"), detail, data_uri, views: [{caption, data_uri}] * 2}``
        and, for ``lowest``, ``rank``, ``shift``, ``flip``, ``metric``.
    """
    from ..consistency.preprocess import resize_center_square

    per_image = consistency.get("per_image") or []
    metric = consistency.get("metric") or _metric_of(per_image)
    picked = _pick(per_image, metric, limit, lowest)
    if not picked or imageset is None:
        return []
    inp = consistency.get("input") or {}
    size = (inp.get("height"), inp.get("width"))
    base_size = consistency.get("base_size")
    out_shape = (consistency.get("output") or {}).get("shape") or []
    n_classes = out_shape[-1] if out_shape and isinstance(out_shape[-1], int) else None
    classifier = metric == "top1_agreement"
    index = {n: i for i, n in enumerate(imageset.names)}
    cache, out = {}, []
    for name, entry, res in picked:
        if name not in cache:
            if len(cache) >= limit or name not in index:
                continue
            try:
                img = imageset.load(index[name])
            except Exception:  # noqa: BLE001 - unreadable now: the measurement listed it as skipped
                continue
            base = (resize_center_square(img, tuple(base_size))
                    if base_size and None not in size else None)
            cache[name] = (_uri(img, SIDE), base)
        uri, base = cache[name]
        views = _views(base, res, entry, size, n_classes, classifier) if base is not None else []
        out.append({"name": name, **entry, "data_uri": uri, "views": views})
    return out
