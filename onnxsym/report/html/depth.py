"""The symmetry-against-depth chart: S per layer with the random-init band and the strided layers."""
from __future__ import annotations

import math

from .common import ORANGE, _dims, _e, _isnum, _num, _stride_of, _stride_text
from .padding import _pad_direction, _pad_uneven


class _Frame:
    """The chart's geometry: n nodes along x, S in [0, 1] along y."""

    W, H = 1120, 360
    ML, MR, MT, MB = 58, 20, 46, 50

    def __init__(self, n):
        self.n = n
        self.pw, self.ph = self.W - self.ML - self.MR, self.H - self.MT - self.MB

    def x(self, i):
        return self.ML + (self.pw * (i + 0.5) / self.n)

    def y(self, v):
        return self.MT + self.ph * (1 - max(0.0, min(1.0, v)))


def _depth_chart(weights, pads) -> str:
    layers = [L for L in (weights.get("layers") or []) if isinstance(L, dict)]
    pts = [(i, L) for i, L in enumerate(layers) if L.get("status") == "ok" and _isnum(L.get("symmetry"))]
    if not pts:
        return ""
    f = _Frame(len(layers))
    o = [f'<svg class="chart" width="100%" viewBox="0 0 {f.W} {f.H}" role="img" '
         f'preserveAspectRatio="xMidYMid meet"><title>symmetry S per layer against depth</title>']
    _axes(o, f)
    _random_band(o, f, pts)
    _median_line(o, f, (weights.get("summary") or {}).get("internal") or {})
    labels = _points(o, f, pts, pads)
    _labels(o, f, labels)
    _legend(o, f)
    o.append('</svg>')
    return ('<section id="depth"><h2>Symmetry against depth</h2>'
            '<p class="lead">S of each analysed layer in graph order. Trained networks usually sit '
            'well above the grey random-init band; strided (downsampling) layers are where uneven '
            'padding can pull a kernel off-centre.</p>' + "".join(o) + '</section>')


def _axes(o, f) -> None:
    ml, mt, ph, pw, W, H, n = f.ML, f.MT, f.ph, f.pw, f.W, f.H, f.n
    for k in range(6):  # grid + y axis
        v = k / 5
        y = f.y(v)
        o.append(f'<line x1="{ml}" y1="{y:.1f}" x2="{W - f.MR}" y2="{y:.1f}" stroke="#e5e7eb"/>'
                 f'<text x="{ml - 8}" y="{y + 4:.1f}" class="tick" text-anchor="end">{v:.1f}</text>')
    step = max(1, int(math.ceil(n / 12 / 5.0)) * 5) if n > 12 else 1  # x ticks: about 10
    for i in range(0, n, step):
        x = f.x(i)
        o.append(f'<line x1="{x:.1f}" y1="{mt + ph}" x2="{x:.1f}" y2="{mt + ph + 5}" stroke="#6b7280"/>'
                 f'<text x="{x:.1f}" y="{mt + ph + 18}" class="tick" text-anchor="middle">{i}</text>')
    o.append(f'<line x1="{ml}" y1="{mt}" x2="{ml}" y2="{mt + ph}" stroke="#6b7280"/>'
             f'<line x1="{ml}" y1="{mt + ph}" x2="{W - f.MR}" y2="{mt + ph}" stroke="#6b7280"/>')
    o.append(f'<text x="{ml + pw / 2:.1f}" y="{H - 10}" class="axis" text-anchor="middle">'
             f'conv node index (input → output), {n} nodes</text>'
             f'<text transform="translate(16 {mt + ph / 2:.1f}) rotate(-90)" class="axis" '
             f'text-anchor="middle">symmetry S of the mean kernel</text>')


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
        o.append(f'<line x1="{f.ML}" y1="{y:.1f}" x2="{f.W - f.MR}" y2="{y:.1f}" stroke="#0f766e" '
                 f'stroke-width="1.2" stroke-dasharray="2 3"/><text x="{f.ML + 6}" y="{y - 5:.1f}" '
                 f'class="tick halo" style="fill:#0f766e" text-anchor="start">median internal S '
                 f'{med:.3f}</text>')


def _points(o, f, pts, pads) -> list:
    """The S line and one mark per layer (diamond for strided ones); returns their labels."""
    o.append('<polyline points="' + " ".join(f"{f.x(i):.1f},{f.y(L['symmetry']):.1f}" for i, L in pts) +
             f'" fill="none" stroke="#374151" stroke-width="1.2" '
             f'stroke-opacity="{0.55 if len(pts) <= 120 else 0.25}"/>')
    r = 4.2 if len(pts) <= 120 else 3.0
    labels = []
    for i, L in pts:
        x, y = f.x(i), f.y(L["symmetry"])
        stride = _stride_of(L)
        lid = str(L.get("id"))
        prow = pads.get(lid)
        direction = _pad_direction(prow) if prow is not None and _pad_uneven(prow) else ""
        tip = _e(f"#{i} {lid}\nS {_num(L['symmetry'])} · {_dims(L.get('kernel_shape'))} "
                 f"stride {_stride_text(L) or 1}" + (f"\npadding leans {direction}" if direction else ""))
        if stride and stride > 1:
            d = r + 1.6
            o.append(f'<polygon points="{x:.1f},{y - d:.1f} {x + d:.1f},{y:.1f} {x:.1f},{y + d:.1f} '
                     f'{x - d:.1f},{y:.1f}" fill="{ORANGE}" stroke="#7c2d12" stroke-width="0.8">'
                     f'<title>{tip}</title></polygon>')
            labels.append((x, y, direction or ("s" + str(stride))))
        else:
            o.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r}" fill="#1e3a8a" fill-opacity="0.85">'
                     f'<title>{tip}</title></circle>')
    return labels


def _labels(o, f, labels) -> None:
    """Labels of strided layers: above the point, alternate heights where neighbours are close."""
    last_x, level = -1e9, 0
    for x, y, text in labels:
        level = (level + 1) % 3 if x - last_x < 70 else 0
        ly = y - 10 - 12 * level
        if ly < f.MT - 30:
            ly = y + 18 + 12 * level
        o.append(f'<text x="{x:.1f}" y="{ly:.1f}" class="plabel" text-anchor="middle">{_e(text)}</text>')
        last_x = x


def _legend(o, f) -> None:
    lx, ly = f.ML + 4, 18
    o.append(f'<circle cx="{lx + 5}" cy="{ly}" r="4" fill="#1e3a8a"/>'
             f'<text x="{lx + 14}" y="{ly + 4}" class="tick">stride 1</text>'
             f'<polygon points="{lx + 85},{ly - 6} {lx + 91},{ly} {lx + 85},{ly + 6} {lx + 79},{ly}" '
             f'fill="{ORANGE}" stroke="#7c2d12" stroke-width="0.8"/>'
             f'<text x="{lx + 97}" y="{ly + 4}" class="tick">strided (label: side the padding leans to)</text>'
             f'<rect x="{lx + 370}" y="{ly - 6}" width="22" height="12" fill="#9ca3af" fill-opacity="0.28"/>'
             f'<line x1="{lx + 370}" y1="{ly}" x2="{lx + 392}" y2="{ly}" stroke="#6b7280" stroke-dasharray="4 3"/>'
             f'<text x="{lx + 398}" y="{ly + 4}" class="tick">random-init S, mean ± sd</text>')
