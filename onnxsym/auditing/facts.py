"""What the audit reads off the documents it composes: the consistency numbers, the protocol they
were measured with (and how two protocols differ), the count of unevenly padded strided layers."""
from __future__ import annotations


def consistency_facts(cons: dict | None):
    if not cons or "error" in cons:
        return None, None
    shift = (cons.get("shift") or {}).get("consistency")
    flip = (cons.get("flip") or {}).get("consistency")
    return shift, flip


def padding_size(padding: dict | None) -> str | None:
    """``HxW`` the padding was diagnosed at, with ``(chosen: ...)`` when the model's size is
    symbolic and none was given."""
    inp = (padding or {}).get("input") or {}
    if not inp.get("spatial"):
        return None
    text = "x".join(str(v) for v in inp["spatial"])
    return text + (" (chosen: the model's input size is symbolic)" if inp.get("size_from") == "chosen" else "")


def uneven_strided(padding: dict | None):
    """Number of strided convs and pools that pad unevenly, or None when not diagnosed."""
    if not padding or padding.get("error") or not (padding.get("input") or {}).get("spatial"):
        return None
    summary = padding.get("summary") or {}
    return int(summary.get("strided_convs_uneven", 0)) + int(summary.get("strided_pools_uneven", 0))


def protocol_of(cons: dict | None) -> dict | None:
    """What a consistency number depends on besides the model: images, seed, pairs, preprocessing."""
    if not cons or "error" in cons:
        return None
    inp = cons.get("input") or {}
    return {"images": cons.get("images"), "image_source": cons.get("image_source"), "seed": cons.get("seed"),
            "pairs_per_image": cons.get("pairs_per_image"), "preprocessing": cons.get("preprocessing"),
            "input_size": [inp.get("height"), inp.get("width")] if inp else None,
            "max_shift": cons.get("max_shift")}


def protocol_differences(before: dict | None, now: dict | None) -> list:
    """Human-readable differences between two consistency protocols (empty when comparable)."""
    if not before or not now:
        return []
    out = []
    for key, label in (("image_source", "images from"), ("images", "image count"), ("seed", "seed"),
                       ("pairs_per_image", "pairs per image"), ("preprocessing", "preprocessing"),
                       ("input_size", "input size"), ("max_shift", "max shift")):
        if before.get(key) != now.get(key):
            out.append(f"{label} {before.get(key)!r} → {now.get(key)!r}")
    return out


def measurement_of(cons: dict | None) -> dict | None:
    """What a drop test needs of a consistency measurement: the metric, the intervals and the
    per-image results (name, shift agreement or mean, flip)."""
    if not cons or "error" in cons:
        return None
    rows = [{k: r.get(k) for k in ("name", "shift_agree", "shift_pairs", "shift_mean", "flip")}
            for r in cons.get("per_image") or [] if isinstance(r, dict)]
    return {"metric": cons.get("metric"),
            "ci95": {k: (cons.get(k) or {}).get("ci95") for k in ("shift", "flip")},
            "per_image": rows}
