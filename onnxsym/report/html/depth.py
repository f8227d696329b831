"""The symmetry-against-depth chart: S per layer with the random-init band and the strided layers.

Every text of the chart is placed so that its estimated box (``common._text_box``) overlaps no
other: the median label and the padding-side labels of the strided layers try a few positions
each; a side label that finds no room is listed under the chart instead.
"""
from __future__ import annotations

import math

from ..labels import layer_label
from .common import ORANGE, _dims, _e, _isnum, _num, _place_label, _stride_of, _stride_text, _svg_text, _text_box
from .padding import _pad_direction, _pad_uneven

TICK, AXIS, LABEL = 12, 13, 11     # font sizes in the chart's units (it never shrinks below 900 px)


class _Frame:
    """The chart's geometry: n nodes along x, S in [0, 1] along y."""

    W, H = 1120, 360
    ML, MR, MT, MB = 58, 20, 46, 50

    def __init__(self, n):
        self.n = n
        self.pw, self.ph = self.W - self.ML - self.MR, self.H - self.MT - self.MB
        # where labels may go: inside the plot, up to just under the legend row
        self.bounds = (self.ML + 1, self.MT - 18, self.W - self.MR, self.MT + self.ph - 1)

    def x(self, i):
        return self.ML + (self.pw * (i + 0.5) / self.n)

    def y(self, v):
        return self.MT + self.ph * (1 - max(0.0, min(1.0, v)))


def _depth_chart(weights, pads) -> str:
    """The ``depth`` section: the chart (scrolls sideways on narrow screens) and its notes."""
    layers = [L for L in (weights.get("layers") or []) if isinstance(L, dict)]
    pts = [(i, L) for i, L in enumerate(layers) if L.get("status") == "ok" and _isnum(L.get("symmetry"))]
    if not pts:
        return ""
    f = _Frame(len(layers))
    o = [f'<svg class="chart depth" width="100%" viewBox="0 0 {f.W} {f.H}" role="img" '
         f'preserveAspectRatio="xMidYMid meet"><title>symmetry S per layer against depth</title>']
    taken: list = []                  # boxes of the texts drawn so far
    median = (weights.get("summary") or {}).get("internal") or {}
    _axes(o, f, taken)
    _legend(o, f, taken, _isnum(median.get("median_symmetry")))
    _random_band(o, f, pts)
    _median_line(o, f, median)
    labels, marks = _points(o, f, pts, pads)
    _median_label(o, f, median, taken, marks)
    left_out = _labels(o, f, labels, taken, marks)
    o.append('</svg>')
    return ('<section id="depth"><h2>Symmetry against depth</h2>'
            '<p class="lead">S of each analysed layer in graph order. Trained networks usually sit '
            'well above the grey random-init band; strided (downsampling) layers are where uneven '
            'padding can pull a kernel off-centre. Hover a point for its layer.</p>'
            '<div class="scroll chartbox">' + "".join(o) + '</div>' + _left_out_note(left_out) + '</section>')


def _axes(o, f, taken) -> None:
    ml, mt, ph, pw, W, H, n = f.ML, f.MT, f.ph, f.pw, f.W, f.H, f.n

    def text(x, y, t, size, anchor):
        o.append(_svg_text(x, y, t, size, anchor))
        taken.append(_text_box(x, y, t, size, anchor))

    for k in range(6):  # grid + y axis
        v = k / 5
        y = f.y(v)
        o.append(f'<line x1="{ml}" y1="{y:.1f}" x2="{W - f.MR}" y2="{y:.1f}" stroke="#e5e7eb"/>')
        text(ml - 8, y + 4, f"{v:.1f}", TICK, "end")
    step = max(1, int(math.ceil(n / 12 / 5.0)) * 5) if n > 12 else 1  # x ticks: about 10
    for i in range(0, n, step):
        x = f.x(i)
        o.append(f'<line x1="{x:.1f}" y1="{mt + ph}" x2="{x:.1f}" y2="{mt + ph + 5}" stroke="#6b7280"/>')
        text(x, mt + ph + 18, str(i), TICK, "middle")
    o.append(f'<line x1="{ml}" y1="{mt}" x2="{ml}" y2="{mt + ph}" stroke="#6b7280"/>'
             f'<line x1="{ml}" y1="{mt + ph}" x2="{W - f.MR}" y2="{mt + ph}" stroke="#6b7280"/>')
    o.append(_svg_text(ml + pw / 2, H - 10, f"conv node index (input → output), {n} nodes", AXIS,
                       "middle", "axis"))
    o.append(f'<text transform="translate(16 {mt + ph / 2:.1f}) rotate(-90)" class="axis" '
             f'style="font-size:{AXIS}px" text-anchor="middle">symmetry S of the mean kernel</text>')


def _random_band(o, f, pts) -> None:
    """The random-init band: per layer mean ± sd, drawn as a step band around each point."""
    band = [(i, L["baseline"]) for i, L in pts
            if isinstance(L.get("baseline"), dict) and _isnum(L["baseline"].get("mean"))
            and _isnum(L["baseline"].get("sd"))]
    if not band:
        return
    hw = max(f.pw / f.n / 2, min(6.0, f.pw / max(len(band), 1) / 2))
    up, lo, mean = [], [], []
    for j, (i, b) in enumerate(band):
        x0, x1 = f.x(i) - hw, f.x(i) + hw
        if j + 1 < len(band):
            x1 = max(x1, (f.x(i) + f.x(band[j + 1][0])) / 2)
        if j > 0:
            x0 = min(x0, (f.x(i) + f.x(band[j - 1][0])) / 2)
        hi_, lo_, m_ = f.y(b["mean"] + b["sd"]), f.y(b["mean"] - b["sd"]), f.y(b["mean"])
        up += [(x0, hi_), (x1, hi_)]
        lo += [(x0, lo_), (x1, lo_)]
        mean += [(x0, m_), (x1, m_)]
    poly = " ".join(f"{x:.1f},{y:.1f}" for x, y in up + lo[::-1])
    o.append(f'<polygon points="{poly}" fill="#9ca3af" fill-opacity="0.28" stroke="none">'
             f'<title>random-init S, mean ± sd per layer shape</title></polygon>')
    o.append('<polyline points="' + " ".join(f"{x:.1f},{y:.1f}" for x, y in mean) +
             '" fill="none" stroke="#6b7280" stroke-width="1" stroke-dasharray="4 3"/>')


def _median_line(o, f, internal) -> None:
    med = internal.get("median_symmetry")
    if _isnum(med):
        y = f.y(med)
        o.append(f'<line class="median" x1="{f.ML}" y1="{y:.1f}" x2="{f.W - f.MR}" y2="{y:.1f}" '
                 f'stroke="#0f766e" stroke-width="1.2" stroke-dasharray="2 3"/>')


def _median_label(o, f, internal, taken, marks) -> None:
    """The median's label, above or below its line at the left or right end, clear of the other texts."""
    med = internal.get("median_symmetry")
    if not _isnum(med):
        return
    y = f.y(med)
    text = f"median internal S {med:.3f}"
    left, right = f.ML + 6, f.W - f.MR - 6
    cands = [(left, y - 5, "start"), (right, y - 5, "end"), (left, y + 14, "start"), (right, y + 14, "end"),
             (f.ML + f.pw / 2, y - 5, "middle"), (f.ML + f.pw / 2, y + 14, "middle")]
    spot = _place_label(cands, text, TICK, taken, f.bounds, marks)
    if spot is None:    # no room near the line: the legend row and the cards still name it
        return
    o.append(_svg_text(*spot[:2], text, TICK, spot[2], "tick halo median-label", "fill:#0f766e"))


def _points(o, f, pts, pads):
    """The S line and one mark per layer (diamond for strided ones), each with its hover text.
    Returns the padding-side labels wanted ``(index, x, y, text)`` and the marks' boxes."""
    o.append('<polyline points="' + " ".join(f"{f.x(i):.1f},{f.y(L['symmetry']):.1f}" for i, L in pts) +
             f'" fill="none" stroke="#374151" stroke-width="1.2" '
             f'stroke-opacity="{0.55 if len(pts) <= 120 else 0.25}"/>')
    r = 4.2 if len(pts) <= 120 else 3.0
    labels, marks = [], []
    for i, L in pts:
        x, y = f.x(i), f.y(L["symmetry"])
        stride = _stride_of(L)
        lid = str(L.get("id"))
        prow = pads.get(lid)
        direction = _pad_direction(prow) if prow is not None and _pad_uneven(prow) else ""
        tip = _e(f"#{i} {layer_label(lid, L.get('op_type', ''))}\nS {_num(L['symmetry'])} · kernel "
                 f"{_dims(L.get('kernel_shape')) or '—'} · stride {_stride_text(L) or 1}"
                 + (f"\npadding leans {direction}" if direction else ""))
        d = r + 1.6 if stride and stride > 1 else r
        marks.append((x - d, y - d, x + d, y + d))
        if stride and stride > 1:
            o.append(f'<polygon class="pt strided" data-layer="{i}" points="{x:.1f},{y - d:.1f} '
                     f'{x + d:.1f},{y:.1f} {x:.1f},{y + d:.1f} {x - d:.1f},{y:.1f}" fill="{ORANGE}" '
                     f'stroke="#7c2d12" stroke-width="0.8"><title>{tip}</title></polygon>')
            labels.append((i, x, y, direction or ("s" + str(stride))))
        else:
            o.append(f'<circle class="pt" data-layer="{i}" cx="{x:.1f}" cy="{y:.1f}" r="{r}" fill="#1e3a8a" '
                     f'fill-opacity="0.85"><title>{tip}</title></circle>')
    return labels, marks


def _spots(x, y):
    """A label at height ``y`` over the point at ``x``: centred, else hanging right or left of it
    (which is what fits near the chart's edges)."""
    return [(x, y, "middle"), (x - 4, y, "start"), (x + 4, y, "end")]


def _labels(o, f, labels, taken, marks) -> list:
    """The strided layers' labels: above the point, a line higher or below it when that spot is
    taken; returns ``(index, text)`` of those that found no room."""
    left_out = []
    for i, x, y, text in labels:
        # two heights above, one below: any farther and a label no longer reads as its point's
        ups = [c for k in range(2) for c in _spots(x, y - 11 - 12 * k)]
        downs = _spots(x, y + 18)
        cands = ups + downs if y - 11 > f.MT + 12 else downs + ups
        spot = _place_label(cands, text, LABEL, taken, f.bounds, marks)
        if spot is None:
            left_out.append((i, text))
            continue
        o.append(_svg_text(spot[0], spot[1], text, LABEL, spot[2], "plabel"))
    return left_out


def _left_out_note(left_out) -> str:
    if not left_out:
        return ""
    groups: dict = {}
    for i, text in left_out:
        groups.setdefault(text, []).append(f"#{i}")
    body = "; ".join(f"{t}: {', '.join(ids)}" for t, ids in groups.items())
    return (f'<p class="muted labels-left-out">Strided layers not labelled in the chart for lack of room '
            f'(hover their diamonds): {_e(body)}</p>')


def _legend(o, f, taken, median) -> None:
    """One row above the plot; each item's x follows the previous item's text width."""
    x, ly = f.ML + 4, 18
    items = (("dot", "stride 1"), ("diamond", "strided (label: side the padding leans to)"),
             ("band", "random-init S, mean ± sd"), ("median", "median internal S"))
    for kind, text in items[:None if median else 3]:
        if kind == "dot":
            o.append(f'<circle cx="{x + 5}" cy="{ly}" r="4" fill="#1e3a8a"/>')
        elif kind == "diamond":
            o.append(f'<polygon points="{x + 5},{ly - 6} {x + 11},{ly} {x + 5},{ly + 6} {x - 1},{ly}" '
                     f'fill="{ORANGE}" stroke="#7c2d12" stroke-width="0.8"/>')
        elif kind == "band":
            o.append(f'<rect x="{x}" y="{ly - 6}" width="22" height="12" fill="#9ca3af" fill-opacity="0.28"/>'
                     f'<line x1="{x}" y1="{ly}" x2="{x + 22}" y2="{ly}" stroke="#6b7280" stroke-dasharray="4 3"/>')
        else:
            o.append(f'<line x1="{x}" y1="{ly}" x2="{x + 22}" y2="{ly}" stroke="#0f766e" stroke-width="1.2" '
                     f'stroke-dasharray="2 3"/>')
        tx = x + (28 if kind in ("band", "median") else 16)
        o.append(_svg_text(tx, ly + 4, text, TICK))
        taken.append(_text_box(tx, ly + 4, text, TICK))
        x = taken[-1][2] + 24
