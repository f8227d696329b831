"""Thumbnails for the consistency panel of an audit: small JPEG data URIs of the images whose
prediction changed (classifiers) or whose outputs agreed least (other metrics)."""
from __future__ import annotations

import base64
import io

def thumbnails(imageset, per_image, limit=12, metric=None, lowest=4):
    """Small JPEG data URIs for the consistency panel; the HTML renderer merges entries of the same
    image into one tile.

    ``metric`` (the consistency report's ``metric``; inferred from ``per_image`` when None):
    ``top1_agreement`` - the images whose prediction changed, one entry per reason (``why`` shift
    or flip; at most ``limit`` images). ``cosine_similarity`` / ``pixel_top1_agreement`` - nothing
    "changes" there, so the ``lowest`` images with the lowest per-image value (the lower of the
    shift mean and the flip value) get one entry each, ``why`` "lowest", with ``shift``/``flip``
    values and ``rank`` (1 = lowest)."""
    from PIL import Image

    if metric is None:
        if any(r.get("shift_agree") is not None for r in per_image):
            metric = "top1_agreement"
        elif any(r.get("flat") is not None for r in per_image):   # set for cosine metrics only
            metric = "cosine_similarity"
        else:
            metric = "pixel_top1_agreement"
    picked = []                         # (name, entry without data_uri)
    if metric == "top1_agreement":
        for res in per_image:
            if res.get("shift_agree") is not None and res["shift_agree"] < res.get("shift_pairs", 0):
                picked.append((res["name"], {"why": "shift", "detail":
                               f"shift: {res['shift_agree']}/{res['shift_pairs']} pairs agree"}))
            if res.get("flip") is not None and res["flip"] < 1:
                picked.append((res["name"], {"why": "flip", "detail": "flip: top-1 changed"}))
            if res.get("flip_vertical") is not None and res["flip_vertical"] < 1:
                picked.append((res["name"], {"why": "flip", "detail": "vertical flip: top-1 changed"}))
    else:
        cosine = metric == "cosine_similarity"

        def fmt(v):
            return f"{v:.3f}" if cosine else f"{100 * v:.1f} %"

        scored = []
        for res in per_image:
            vals = [v for v in (res.get("shift_mean"), res.get("flip")) if v is not None]
            if vals:
                scored.append((min(vals), res))
        scored.sort(key=lambda t: t[0])
        for rank, (_, res) in enumerate(scored[:lowest], 1):
            sm, fl = res.get("shift_mean"), res.get("flip")
            what = "cosine" if cosine else "pixel agreement"
            detail = " · ".join(x for x in (
                f"shift {what} {fmt(sm)}" if sm is not None else "",
                f"flip {what} {fmt(fl)}" if fl is not None else "") if x)
            picked.append((res["name"], {"why": "lowest", "detail": detail, "rank": rank,
                                         "shift": sm, "flip": fl, "metric": metric}))
    if not picked or imageset is None:
        return []
    index = {n: i for i, n in enumerate(imageset.names)}
    uris, out = {}, []
    for name, entry in picked:
        if name not in uris:
            if len(uris) >= limit or name not in index:
                continue
            try:
                img = imageset.load(index[name])
            except Exception:  # unreadable now: the measurement listed it as skipped
                continue
            pil = Image.fromarray(img)
            pil.thumbnail((128, 128))
            buf = io.BytesIO()
            pil.convert("RGB").save(buf, format="JPEG", quality=80)
            uris[name] = "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode()
        out.append({"name": name, **entry, "data_uri": uris[name]})
    return out
