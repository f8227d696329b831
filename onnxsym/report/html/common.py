"""Shared pieces of the HTML report: escaping, number formats, the colour scale, cards."""
from __future__ import annotations

import html as _html
import math

from ...wording import metric_interval

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
    """(right, down) from the weights doc's skew (per axis, outermost first: [.., down, right]; 1-D:
    [right]): only for drawing the arrow, the page shows the values in the JSON's order."""
    if not isinstance(skew, (list, tuple)) or not skew:
        return None
    vals = [v if _isnum(v) else 0.0 for v in skew]
    if len(vals) == 1:
        return vals[0], 0.0
    return vals[-1], vals[-2]
_SKEW_AXES = {1: "→", 2: "↓, →", 3: "depth, ↓, →"}


def _skew_label(skew=None) -> str:
    """``skew (↓, →)``: the axes in the order of the CLI and of the JSON ``skew`` (down, right)."""
    n = len(skew) if isinstance(skew, (list, tuple)) and skew else 2
    return f"skew ({_SKEW_AXES.get(n, '↓, →')})"


def _skew_values(skew) -> str:
    """The skew's components in the JSON's order (down, right), e.g. ``+0.08, +0.46``."""
    if not isinstance(skew, (list, tuple)) or not skew:
        return "—"
    return ", ".join(f"{v:+.2f}" if _isnum(v) else "—" for v in skew)


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
    tip = f"{_skew_label(skew)} {_skew_values(skew)} ({_skew_words(skew)})"
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


def _card(label, value, sub="", cls="", extra="", attrs="") -> str:
    """A summary card; ``extra`` is trusted HTML appended inside it (already escaped)."""
    return (f'<div class="card {cls}"{attrs}><div class="label">{_e(label)}</div>'
            f'<div class="value">{_e(value)}</div><div class="csub">{_e(sub)}</div>{extra}</div>')


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


# ---------------------------------------------------------------------------------- badges
# Every badge the page can show: (classes, sample text, meaning). The legend is drawn from this
# table and the renderers build their badges from its classes, so a new badge needs a row here.
VERDICTS = {"PASSED": "pass", "FAILED": "fail", "ERROR": "error", "INFO": "info"}

BADGES = (
    ("Verdict", (
        ("verdict pass", "PASSED", "every gate that was set passed"),
        ("verdict fail", "FAILED", "at least one gate failed (its card is outlined in red)"),
        ("verdict error", "ERROR", "the consistency measurement failed; weights and padding are complete"),
        ("verdict info", "INFO", "no gate was set: the report describes, nothing was checked"),
        ("verdict unknown", "NO VERDICT", "the report carries no verdict"),
    )),
    ("Gates", (
        ("badge gate pass", "pass", "the gate's value meets its threshold"),
        ("badge gate fail", "fail", "the gate's value misses its threshold; the text says by how much"),
        ("badge gate unknown", "—", "the gate could not be judged"),
    )),
    ("Mean kernels", (
        ("badge s", "s2", "strided layer (stride 2 here): downsamples, where uneven padding matters"),
        ("badge dw", "dw", "depthwise conv (one kernel per channel)"),
        ("badge tr", "T", "transposed conv (ConvTranspose)"),
    )),
    ("Padding table", (
        ("badge pad uneven", "uneven", "the kernel reads more padding on one side (the side follows)"),
        ("badge pad even", "even", "the padding read is the same on both sides of every axis"),
        ("badge lean toward", "toward", "the mean kernel's skew points to the more-padded side"),
        ("badge lean away", "away", "the mean kernel's skew points away from the more-padded side"),
        ("badge lean neither", "neither", "the skew is too small to lean either way"),
    )),
    ("Layer status", (
        ("badge status na", "n/a", "S is not defined for this layer (1×1 kernel, or no spatial extent)"),
        ("badge status unresolved", "unresolved", "the weight could not be read as a constant"),
        ("badge status unknown", "unknown", "the input size at this layer is not known"),
        ("badge status invalid", "invalid", "the layer's attributes do not fit its input"),
        ("badge status other", "other", "any other status (its text is shown)"),
    )),
    ("Thumbnails", (
        ("badge why shift", "shift", "the top-1 changed between two crops of this image"),
        ("badge why flip", "flip", "the top-1 changed when the image was mirrored"),
        ("badge why lowest", "#1 lowest", "one of the images with the lowest value (rank 1 = lowest)"),
        ("badge why other", "changed", "another reason (its text is shown)"),
    )),
)

_STATUS_CLASS = {"n/a": "na", "unresolved": "unresolved", "unknown": "unknown", "invalid": "invalid"}


def _badge(classes, text, title="") -> str:
    """A badge; ``classes`` must be a row of ``BADGES`` (never text from the model)."""
    tip = f' title="{_e(title)}"' if title else ""
    return f'<span class="{classes}"{tip}>{_e(text)}</span>'


def _status_badge(status) -> str:
    """A layer status (``n/a``, ``unresolved``, ``unknown``…) as a badge with its own text."""
    return _badge(f"badge status {_STATUS_CLASS.get(str(status), 'other')}", status)


def _verdict_class(verdict) -> str:
    return "verdict " + VERDICTS.get(str(verdict).upper(), "unknown")


# ---------------------------------------------------------------------------------- SVG labels
# Text boxes are estimated, as no font metrics are available: 0.6 × font size per character,
# ascent one font size above the baseline, descent 0.3 below it (a little larger than real fonts).
def _text_box(x, y, text, size, anchor="start"):
    """(x0, y0, x1, y1) of ``text`` drawn at baseline ``y`` with ``text-anchor`` ``anchor``."""
    w = 0.6 * size * len(str(text))
    x0 = x - w / 2 if anchor == "middle" else (x - w if anchor == "end" else x)
    return (x0, y - size, x0 + w, y + 0.3 * size)


def _overlap(a, b, gap=1.0) -> bool:
    return a[0] < b[2] + gap and b[0] < a[2] + gap and a[1] < b[3] + gap and b[1] < a[3] + gap


def _inside(box, bounds) -> bool:
    return bounds[0] <= box[0] and box[2] <= bounds[2] and bounds[1] <= box[1] and box[3] <= bounds[3]


def _place_label(candidates, text, size, taken, bounds, soft=()):
    """The first candidate ``(x, y, anchor)`` whose box stays in ``bounds`` and overlaps nothing in
    ``taken`` (preferring ones clear of ``soft`` boxes too, such as data marks); None if none fits.
    The chosen box is appended to ``taken``."""
    for avoid in ((*taken, *soft), taken) if soft else (taken,):
        for x, y, anchor in candidates:
            box = _text_box(x, y, text, size, anchor)
            if _inside(box, bounds) and not any(_overlap(box, t) for t in avoid):
                taken.append(box)
                return x, y, anchor
    return None


def _svg_text(x, y, text, size, anchor="start", cls="tick", style="") -> str:
    """A ``<text>`` with its font size inline (over the class's; the label boxes assume it)."""
    return (f'<text x="{x:.1f}" y="{y:.1f}" class="{cls}" style="font-size:{size:g}px{";" + style if style else ""}" '
            f'text-anchor="{anchor}">{_e(text)}</text>')
