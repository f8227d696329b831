"""Shared pieces of the HTML report: escaping, number formats, the colour scale, cards."""
from __future__ import annotations

from ...wording import metric_interval

import html as _html
import math



# RdBu-like diverging scale: the two ends and the middle stop of each half.
BLUE_END = (33, 102, 172)      # #2166ac  value = -limit


BLUE_MID = (146, 197, 222)     # #92c5de  value = -limit/2


WHITE = (255, 255, 255)        # #ffffff  value = 0


RED_MID = (244, 165, 130)      # #f4a582  value = +limit/2


RED_END = (178, 24, 43)        # #b2182b  value = +limit


NAN_FILL = "#c8c8c8"


TILE_PX = 76                   # heatmap box in the grid (the longer side)


COMPACT_AFTER = 120            # more analysed layers than this: smaller tiles, fewer text lines


ORANGE = "#d9711c"             # strided layers


INK = "#1f2937"


# ---------------------------------------------------------------------------------- formatting
def _e(x) -> str:
    """Escape any value for HTML text and attributes."""
    return _html.escape("" if x is None else str(x), quote=True)


def _isnum(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def _num(x, nd=3, none="—") -> str:
    if not _isnum(x):
        return none
    if isinstance(x, int):
        return str(x)
    return f"{x:.{nd}f}"


def _pct(x, nd=1, none="—") -> str:
    return f"{100 * x:.{nd}f} %" if _isnum(x) else none


def _hex(rgb) -> str:
    return "#{:02x}{:02x}{:02x}".format(*(max(0, min(255, int(round(c)))) for c in rgb))


def _lerp(a, b, t):
    return tuple(x + (y - x) * t for x, y in zip(a, b))


def diverging_color(value, limit) -> str:
    """Fill colour of ``value`` on the blue-white-red scale with limits ``-limit``/``+limit``.

    0 maps to white, ``+limit`` to ``RED_END``, ``-limit`` to ``BLUE_END``; values beyond the
    limits are clipped; missing or non-finite values are grey.
    """
    if not _isnum(value):
        return NAN_FILL
    if not _isnum(limit) or limit <= 0:
        return _hex(WHITE)
    t = max(-1.0, min(1.0, value / limit))
    mid, end = (RED_MID, RED_END) if t > 0 else (BLUE_MID, BLUE_END)
    a = abs(t)
    rgb = _lerp(WHITE, mid, a * 2) if a <= 0.5 else _lerp(mid, end, (a - 0.5) * 2)
    return _hex(rgb)


def _dims(x) -> str:
    if isinstance(x, (list, tuple)) and x:
        return "×".join(str(v) for v in x)
    return "" if x is None else str(x)


def _stride_of(row) -> int | None:
    """The largest stride of a layer/pad row (``strides`` list or ``stride`` value)."""
    s = row.get("strides", row.get("stride"))
    if isinstance(s, (list, tuple)):
        vals = [v for v in s if _isnum(v)]
        return int(max(vals)) if vals else None
    return int(s) if _isnum(s) else None


def _stride_text(row) -> str:
    s = row.get("strides", row.get("stride"))
    if isinstance(s, (list, tuple)) and s:
        return str(s[0]) if len(set(s)) == 1 else "×".join(map(str, s))
    return "" if s is None else str(s)


def _flat(v) -> str:
    """A provenance value as one short line of text."""
    if isinstance(v, dict):
        return " · ".join(f"{k} {_flat(x)}" for k, x in v.items())
    if isinstance(v, (list, tuple)):
        return ", ".join(_flat(x) for x in v)
    if isinstance(v, float):
        return _num(v, 3)
    return "—" if v is None else str(v)


def _skew_xy(skew):
    """(dx, dy) from the weights doc's skew (per axis: [.., y, x]; 1-D: [x])."""
    if not isinstance(skew, (list, tuple)) or not skew:
        return None
    vals = [v if _isnum(v) else 0.0 for v in skew]
    if len(vals) == 1:
        return vals[0], 0.0
    return vals[-1], vals[-2]


def _skew_words(skew) -> str:
    xy = _skew_xy(skew)
    if xy is None:
        return "—"
    dx, dy = xy
    parts = []
    if abs(dy) >= 0.05:
        parts.append("bottom" if dy > 0 else "top")
    if abs(dx) >= 0.05:
        parts.append("right" if dx > 0 else "left")
    return "-".join(parts) if parts else "centred"


def _arrow_svg(skew, size=18) -> str:
    """A tiny arrow from the centre toward where the kernel's weight sits (length ~ |skew|)."""
    xy = _skew_xy(skew)
    if xy is None:
        return ""
    dx, dy = xy
    mag = math.hypot(dx, dy)
    c = size / 2
    tip = f"skew x {dx:+.2f}, y {dy:+.2f} ({_skew_words(skew)})"
    head = f'<svg class="skew" width="{size}" height="{size}" viewBox="0 0 {size} {size}">' \
           f'<title>{_e(tip)}</title><circle cx="{c}" cy="{c}" r="{c - 0.5}" fill="#f3f4f6" ' \
           f'stroke="#d1d5db"/>'
    if mag < 1e-3:
        return head + f'<circle cx="{c}" cy="{c}" r="1.6" fill="{INK}"/></svg>'
    length = (c - 2) * min(1.0, mag / 0.4)
    length = max(length, 3.0)
    ux, uy = dx / mag, dy / mag
    tx, ty = c + ux * length, c + uy * length
    bx, by = tx - ux * 3.2, ty - uy * 3.2            # arrowhead base
    px, py = -uy * 2.4, ux * 2.4                     # perpendicular
    return head + (f'<line x1="{c:.2f}" y1="{c:.2f}" x2="{bx:.2f}" y2="{by:.2f}" stroke="{INK}" '
                   f'stroke-width="1.4" stroke-linecap="round"/>'
                   f'<polygon points="{tx:.2f},{ty:.2f} {bx + px:.2f},{by + py:.2f} '
                   f'{bx - px:.2f},{by - py:.2f}" fill="{INK}"/></svg>')


def _card(label, value, sub="", cls="") -> str:
    return (f'<div class="card {cls}"><div class="label">{_e(label)}</div>'
            f'<div class="value">{_e(value)}</div><div class="csub">{_e(sub)}</div></div>')


def _ci_text(ci, pct=True) -> str:
    """A 95 % interval as [low, high] (Wilson intervals are not symmetric: no ±)."""
    if isinstance(ci, (list, tuple)) and len(ci) == 2 and all(_isnum(v) for v in ci):
        text = metric_interval(ci, "top1_agreement" if pct else "cosine_similarity")
        return f"95% CI {text} %" if pct else f"95% CI {text}"
    return "no interval"


def _metric(c) -> str:
    """The consistency report's metric (top1_agreement | pixel_top1_agreement | cosine_similarity)."""
    m = c.get("metric") if isinstance(c, dict) else None
    if m:
        return str(m)
    out = c.get("output") if isinstance(c, dict) and isinstance(c.get("output"), dict) else {}
    if out.get("metric"):
        return str(out["metric"])
    return "top1_agreement" if out.get("kind") in (None, "classifier") else "cosine_similarity"


def _chance_of(c):
    ch = c.get("chance") if isinstance(c, dict) else None
    return ch.get("value") if isinstance(ch, dict) and _isnum(ch.get("value")) else None


def _at_chance(r, chance) -> bool:
    """The interval (or the value, without one) reaches down to the chance level."""
    if not (isinstance(r, dict) and _isnum(chance) and _isnum(r.get("consistency"))):
        return False
    ci = r.get("ci95")
    lo = ci[0] if isinstance(ci, (list, tuple)) and len(ci) == 2 and _isnum(ci[0]) else r["consistency"]
    return lo <= chance


def _is_share(c) -> bool:
    """True when consistency values are shares of agreeing top-1 (shown as %), not cosines."""
    metric = c.get("metric")
    if metric:
        return metric in ("top1_agreement", "pixel_top1_agreement")
    out = c.get("output") if isinstance(c.get("output"), dict) else {}
    return out.get("kind") in (None, "classifier")
