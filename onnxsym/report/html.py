"""The audit report as one self-contained HTML page: inline CSS and inline SVG, no script, no network.

``render_html(audit)`` formats an ``onnxsym.audit/1`` dict. It never computes a statistic: every
number on the page is read from the dict; the renderer only maps values to colours, positions and
text. Sections:

1. header: model name, verdict badge, summary line, key numbers, provenance;
2. the grid of mean kernels as heatmaps (the figure style of arXiv 2503.19215): diverging
   blue-white-red scale centred at 0 with limits +-max|K| per kernel, S and the random-init
   baseline under each, stride badges and a small arrow for the skew direction;
3. S against depth with the random-init band (baseline mean +- sd per layer), strided layers marked
   and labelled with the side their padding leans to;
4. the padding panel (strided layers, effective pads per side, skew, suggestions);
5. the consistency panel (shift/flip bars with 95 % intervals and the chance level - the same
   metric between unrelated images -, sample sizes, provider, thumbnails); its wording, column
   headers and thumbnails follow ``consistency["metric"]``: top-1 agreement (the images whose
   prediction changed), pixel top-1 agreement or cosine similarity (the images with the lowest
   per-image value);
6. gate verdicts; 7. a short "what the numbers mean" footer.

Keys read (all optional unless said): ``verdict``, ``summary_line``, ``provenance`` (any flat or
nested dict), ``gates`` [{name, passed, value, threshold, message}], ``weights`` (the
``onnxsym.weights/1`` document), ``padding`` (``onnxsym.padding/1``), ``consistency``
(``onnxsym.consistency/1`` or ``{"error": str}``), ``thumbnails`` [{name, data_uri, why, detail,
rank?}] (top level, or inside ``consistency``; ``why`` shift | flip | lowest). Intervals are shown as
[low, high], never as ±.
"""
from __future__ import annotations

from ..wording import param

import html as _html
import math
import os

from .labels import layer_label

__all__ = ["render_html", "diverging_color", "BLUE_END", "RED_END", "WHITE"]

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


# ---------------------------------------------------------------------------------- kernels
def _as_2d(kernel):
    """(2-D list of rows, note) for a 1-D, 2-D or 3-D nested list; (None, reason) otherwise."""
    def depth(x):
        d = 0
        while isinstance(x, (list, tuple)):
            if not x:
                return -1
            d += 1
            x = x[0]
        return d

    d = depth(kernel)
    if d == 1:
        return [list(kernel)], "1-D kernel shown as a strip"
    if d == 2:
        return [list(r) for r in kernel], ""
    if d == 3:
        mid = len(kernel) // 2
        return [list(r) for r in kernel[mid]], f"3-D: middle slice {mid + 1} of {len(kernel)}"
    return None, "no mean kernel to draw" if d <= 0 else f"{d}-D kernel not drawn"


def _abs_max(kernel) -> float:
    if isinstance(kernel, (list, tuple)):
        vals = [_abs_max(v) for v in kernel]
        return max(vals) if vals else 0.0
    return abs(kernel) if _isnum(kernel) else 0.0


def _vtext(v) -> str:
    return f"{v:.6g}" if _isnum(v) else str(v)


def _heatmap_svg(kernel, index, title, box=TILE_PX) -> tuple[str, str]:
    """(svg, note) for one mean kernel; limits are +-max|K| over the whole kernel."""
    rows, note = _as_2d(kernel)
    if rows is None:
        return "", note
    limit = _abs_max(kernel)
    h, w = len(rows), max(len(r) for r in rows)
    cell = min(box / max(h, w), box / 3)
    W, H = w * cell, h * cell
    cs = f"{cell + 0.02:.5g}"       # a hair wider: no seams between cells when scaled
    out = [f'<svg class="kernel" data-layer="{index}" width="{W:.0f}" height="{H:.0f}" '
           f'viewBox="0 0 {W:.2f} {H:.2f}" role="img"><title>{_e(title)}</title>']
    for y, r in enumerate(rows):
        for x, v in enumerate(r):
            out.append(f'<rect x="{x * cell:.5g}" y="{y * cell:.5g}" width="{cs}" height="{cs}" '
                       f'fill="{diverging_color(v, limit)}" data-v="{_e(_vtext(v))}"/>')
    out.append(f'<rect x="0" y="0" width="{W:.2f}" height="{H:.2f}" fill="none" '
               f'stroke="#9ca3af" stroke-width="1"/></svg>')
    return "".join(out), note


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


def _legend_svg() -> str:
    stops = "".join(
        f'<stop offset="{o}%" stop-color="{diverging_color(v, 1.0)}"/>'
        for o, v in ((0, -1), (12.5, -0.75), (25, -0.5), (37.5, -0.25), (50, 0), (62.5, 0.25),
                     (75, 0.5), (87.5, 0.75), (100, 1)))
    return ('<svg class="legend" width="260" height="34" viewBox="0 0 260 34" role="img">'
            '<title>diverging colour scale, limits ±max|K| of each kernel</title>'
            f'<defs><linearGradient id="rdbu">{stops}</linearGradient></defs>'
            '<rect x="10" y="2" width="240" height="12" fill="url(#rdbu)" stroke="#9ca3af"/>'
            '<text x="10" y="28" font-size="11" text-anchor="start">−max|K|</text>'
            '<text x="130" y="28" font-size="11" text-anchor="middle">0</text>'
            '<text x="250" y="28" font-size="11" text-anchor="end">+max|K|</text></svg>')


# ---------------------------------------------------------------------------------- padding rows
_SIDE_KEYS = ("top", "left", "bottom", "right")


def _pad_sides(row):
    """Effective pads per side as a dict top/left/bottom/right (front/back for 3-D; missing absent)."""
    for key in ("sides", "effective", "effective_pads", "pads_effective", "effective_padding"):
        v = row.get(key)
        if isinstance(v, dict):
            return dict(v)
        if isinstance(v, (list, tuple)) and len(v) == 4:
            return dict(zip(("top", "left", "bottom", "right"), v))   # begin(h, w), end(h, w)
        if isinstance(v, (list, tuple)) and len(v) == 2:
            return {"left": v[0], "right": v[1]}
    b, a = row.get("before"), row.get("after")
    if isinstance(b, list) and isinstance(a, list) and len(b) == len(a) and 1 <= len(b) <= 3:
        names = (("left", "right"),) if len(b) == 1 else \
            (("top", "bottom"), ("left", "right")) if len(b) == 2 else \
            (("front", "back"), ("top", "bottom"), ("left", "right"))
        out = {}
        for (nb, ne), vb, va in zip(names, b, a):
            out[nb], out[ne] = vb, va
        return out
    out = {}
    for side in _SIDE_KEYS:
        for key in (side, f"pad_{side}", f"effective_{side}"):
            if key in row:
                out[side] = row[key]
                break
    return out


def _pad_direction(row) -> str:
    for key in ("direction", "uneven_direction", "uneven_side", "side", "leans"):
        v = row.get(key)
        if isinstance(v, str) and v:
            return v
    return ""


def _pad_uneven(row):
    for key in ("uneven", "is_uneven"):
        if key in row:
            return row[key]
    if "even" in row and isinstance(row["even"], bool):
        return not row["even"]
    return None


def _pad_leans(row):
    for key in ("leans_toward_padding", "leans_toward_padded_side", "skew_toward_padding"):
        if key in row:
            v = row[key]
            return v if isinstance(v, bool) else None
    return None


def _is_strided(row) -> bool:
    if isinstance(row.get("strided"), bool):
        return row["strided"]
    return (_stride_of(row) or 1) > 1


def _padding_rows(padding) -> list[dict]:
    if not isinstance(padding, dict):
        return []
    for key in ("layers", "rows", "strided", "strided_layers"):
        v = padding.get(key)
        if isinstance(v, list):
            return [r for r in v if isinstance(r, dict)]
    return []


# ---------------------------------------------------------------------------------- sections
def _model_name(audit, weights) -> str:
    prov = audit.get("provenance") if isinstance(audit.get("provenance"), dict) else {}
    model = prov.get("model") or prov.get("model_path") or prov.get("path")
    if isinstance(model, dict):
        model = model.get("path") or model.get("name")
    if not model and isinstance(weights.get("model"), dict):
        model = weights["model"].get("path")
    return os.path.basename(str(model).rstrip("/\\")) if model else "model"


def _header(audit, weights) -> str:
    prov = audit.get("provenance") if isinstance(audit.get("provenance"), dict) else {}
    name = _model_name(audit, weights)
    verdict = audit.get("verdict")
    cls = {"PASSED": "pass", "FAILED": "fail", "ERROR": "error"}.get(str(verdict).upper(), "unknown")
    badge = f'<span class="verdict {cls}">{_e(verdict or "NO VERDICT")}</span>'
    gates = audit.get("gates") if isinstance(audit.get("gates"), list) else []
    failed = [str(g.get("name")) for g in gates if isinstance(g, dict) and g.get("passed") is False]
    if failed:
        badge += f'<span class="failed">failed: {_e(", ".join(failed))}</span>'
    line = audit.get("summary_line")
    out = ['<header>', f'<div class="title"><h1>{_e(name)}</h1>{badge}</div>',
           '<div class="sub">onnxsym audit — symmetry of mean kernels, uneven padding, '
           'shift/flip consistency</div>']
    if line:
        out.append(f'<pre class="summary-line">{_e(line)}</pre>')
    out.append(_cards(audit, weights))
    if prov:
        rows = "".join(f'<tr><th>{_e(k)}</th><td>{_e(_flat(v))}</td></tr>' for k, v in prov.items())
        out.append(f'<details class="prov" open><summary>Provenance</summary>'
                   f'<table class="kv">{rows}</table></details>')
    out.append('</header>')
    return "".join(out)


def _card(label, value, sub="", cls="") -> str:
    return (f'<div class="card {cls}"><div class="label">{_e(label)}</div>'
            f'<div class="value">{_e(value)}</div><div class="csub">{_e(sub)}</div></div>')


def _cards(audit, weights) -> str:
    s = weights.get("summary") if isinstance(weights.get("summary"), dict) else {}
    cards = []
    internal = s.get("internal") or {}
    base = s.get("baseline") or {}
    if internal.get("n"):
        ci = internal.get("ci95")
        ci_t = f"95% CI [{_num(ci[0], 2)}, {_num(ci[1], 2)}] · " if isinstance(ci, list) and len(ci) == 2 else ""
        cards.append(_card("internal median S", _num(internal.get("median_symmetry")),
                           f"{ci_t}{internal.get('n')} layers · random "
                           f"{_num(base.get('median_mean'), 2)}±{_num(base.get('median_sd'), 2)}"))
    first = s.get("first_layer") or {}
    if first:
        fb = first.get("baseline") or {}
        cards.append(_card("first layer S", _num(first.get("symmetry")),
                           f"{_dims(first.get('kernel_shape'))} · random "
                           f"{_num(fb.get('mean'), 2)}±{_num(fb.get('sd'), 2)}"))
    if s:
        cards.append(_card("conv nodes", _num(s.get("conv_nodes")),
                           f"{_num(s.get('analysed'))} analysed · {_num(s.get('one_by_one'))} 1×1"))
    padding = audit.get("padding")
    psum = padding.get("summary") if isinstance(padding, dict) else None
    if isinstance(psum, dict) and _isnum(psum.get("strided_convs")):
        u, t = psum.get("strided_convs_uneven"), psum.get("strided_convs")
        dirs = psum.get("conv_directions") or {}
        sub = ", ".join(f"{v} {k}" for k, v in dirs.items()) if u else "all pad evenly"
        if _isnum(psum.get("lean_toward_padding")) and psum.get("skew_checked"):
            sub += f" · {psum['lean_toward_padding']} lean to the pad"
        cards.append(_card("uneven strided convs", f"{_num(u)} / {_num(t)}", sub, "warn" if u else ""))
    c = audit.get("consistency")
    if isinstance(c, dict) and not c.get("error"):
        pct = _is_share(c)
        chance = _chance_of(c)
        word = "cosine" if _metric(c) == "cosine_similarity" else "consistency"
        for key, label in (("shift", f"shift {word}"), ("flip", f"flip {word}")):
            r = c.get(key)
            if isinstance(r, dict):
                n = r.get("pairs") if key == "shift" else r.get("images")
                sub = f"{_ci_text(r.get('ci95'), pct)} · n={_num(n)}"
                if _isnum(chance):
                    sub += f" · unrelated images {_pct(chance) if pct else _num(chance)}"
                warn = _at_chance(r, chance)
                cards.append(_card(label, _pct(r.get("consistency")) if pct else _num(r.get("consistency")),
                                   sub, "warn" if warn else ""))
    return f'<div class="cards">{"".join(cards)}</div>' if cards else ""


def _ci_text(ci, pct=True) -> str:
    """A 95 % interval as [low, high] (Wilson intervals are not symmetric: no ±)."""
    if isinstance(ci, (list, tuple)) and len(ci) == 2 and all(_isnum(v) for v in ci):
        if pct:
            return f"95% CI [{100 * ci[0]:.1f}, {100 * ci[1]:.1f}] %"
        return f"95% CI [{_num(ci[0])}, {_num(ci[1])}]"
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


def _pad_by_id(padding) -> dict:
    return {str(r.get("id")): r for r in _padding_rows(padding) if r.get("id") is not None}


def _kernel_grid(weights, pads) -> str:
    layers = weights.get("layers") if isinstance(weights.get("layers"), list) else []
    tiles, skipped_1x1, other = [], 0, []
    n_ok = sum(1 for L in layers if isinstance(L, dict) and L.get("status") == "ok")
    compact = n_ok > COMPACT_AFTER
    box = 54 if compact else TILE_PX
    for i, L in enumerate(layers):
        if not isinstance(L, dict):
            continue
        status = L.get("status")
        ks = L.get("kernel_shape") or []
        if status != "ok":
            if status == "n/a" and ks and all(k == 1 for k in ks):
                skipped_1x1 += 1
            else:
                other.append((i, L))
            continue
        lid = str(L.get("id", f"layer {i}"))
        op = L.get("op_type", "")
        sym, base = L.get("symmetry"), L.get("baseline") or {}
        title = (f"#{i} {lid}\n{op} {_dims(ks)} stride {_stride_text(L) or 1}"
                 f"{' depthwise' if L.get('depthwise') else ''}\nS {_num(sym)} "
                 f"(random {_num(base.get('mean'))}±{_num(base.get('sd'))}, z {_num(L.get('z_vs_baseline'), 1)})")
        svg, note = _heatmap_svg(L.get("mean_kernel"), i, title, box)
        if not svg:
            svg = f'<div class="nodraw">{_e(note)}</div>'
            note = ""
        stride = _stride_of(L)
        badges = []
        if stride and stride > 1:
            badges.append(f'<span class="badge s">s{stride}</span>')
        if L.get("depthwise"):
            badges.append('<span class="badge dw">dw</span>')
        if L.get("transposed"):
            badges.append('<span class="badge tr">T</span>')
        prow = pads.get(lid)
        pad_note = ""
        if prow is not None and _pad_uneven(prow):
            pad_note = f'<div class="padnote">pad {_e(_pad_direction(prow) or "uneven")}</div>'
        z = L.get("z_vs_baseline")
        scls = "hi" if _isnum(z) and z >= 1 else ("lo" if _isnum(z) and z <= -1 else "")
        cls = "tile strided" if stride and stride > 1 else "tile"
        tiles.append(
            f'<figure class="{cls}"><div class="thead"><span class="idx">#{i}</span>'
            f'{"".join(badges)}</div><div class="hm">{svg}</div>'
            f'<figcaption><div class="srow"><span class="S {scls}">S {_num(sym)}</span>'
            f'{_arrow_svg(L.get("skew"))}</div>'
            f'<div class="base">rand {_num(base.get("mean"), 2)}±{_num(base.get("sd"), 2)}</div>'
            f'<div class="lid" title="{_e(lid)}">{_e(layer_label(lid, op, 26)).replace("/", "/<wbr>")}</div>'
            f'<div class="shape">{_e(op)} {_e(_dims(ks))}</div>'
            f'{f"<div class=note>{_e(note)}</div>" if note else ""}{pad_note}</figcaption></figure>')
    head = ('<section id="kernels"><h2>Mean kernels</h2>'
            '<p class="lead">Each square is the mean kernel K of one conv layer (the average over '
            'all its output and input channels), coloured blue (negative) – white (0) – red '
            '(positive) with limits ±max|K| of that kernel. S is its symmetry score '
            '(1 = invariant under every rotation and flip); “rand” is S of random Gaussian kernels '
            'of the same shape (mean±sd). The arrow points to where the kernel’s weight sits.</p>'
            f'<div class="legendrow">{_legend_svg()}<span class="badge s">s2</span> strided '
            '<span class="badge dw">dw</span> depthwise '
            '<span class="S hi">S</span> ≥ 1 sd above random <span class="S lo">S</span> ≥ 1 sd below'
            '</div>')
    notes = []
    if skipped_1x1:
        notes.append(f"{skipped_1x1} 1×1 layer{'s' if skipped_1x1 != 1 else ''} not shown "
                     "(S is not defined for a 1×1 kernel).")
    if compact:
        notes.append(f"{n_ok} layers: compact tiles (hover a kernel for its id, shape and baseline).")
    body = f'<div class="grid{" compact" if compact else ""}">{"".join(tiles)}</div>' if tiles else \
        '<p class="empty">No layer with a kernel larger than 1×1 was analysed.</p>'
    extra = ""
    if other:
        rows = "".join(f'<tr><td>#{i}</td><td class="mono">{_e(L.get("id"))}</td>'
                       f'<td>{_e(L.get("status"))}</td><td>{_e(L.get("reason"))}</td></tr>'
                       for i, L in other)
        extra = (f'<details><summary>{len(other)} other layer{"s" if len(other) != 1 else ""} '
                 f'not analysed</summary><table class="data"><tr><th>#</th><th>layer</th>'
                 f'<th>status</th><th>reason</th></tr>{rows}</table></details>')
    note_html = f'<p class="muted">{" ".join(_e(n) for n in notes)}</p>' if notes else ""
    return head + note_html + body + extra + "</section>"


def _depth_chart(weights, pads) -> str:
    layers = [L for L in (weights.get("layers") or []) if isinstance(L, dict)]
    pts = [(i, L) for i, L in enumerate(layers) if L.get("status") == "ok" and _isnum(L.get("symmetry"))]
    if not pts:
        return ""
    n = len(layers)
    W, H = 1120, 360
    ml, mr, mt, mb = 58, 20, 46, 50
    pw, ph = W - ml - mr, H - mt - mb

    def X(i):
        return ml + (pw * (i + 0.5) / n)

    def Y(v):
        return mt + ph * (1 - max(0.0, min(1.0, v)))

    o = [f'<svg class="chart" width="100%" viewBox="0 0 {W} {H}" role="img" '
         f'preserveAspectRatio="xMidYMid meet"><title>symmetry S per layer against depth</title>']
    # grid + y axis
    for k in range(6):
        v = k / 5
        y = Y(v)
        o.append(f'<line x1="{ml}" y1="{y:.1f}" x2="{W - mr}" y2="{y:.1f}" stroke="#e5e7eb"/>'
                 f'<text x="{ml - 8}" y="{y + 4:.1f}" class="tick" text-anchor="end">{v:.1f}</text>')
    # x ticks: about 10
    step = max(1, int(math.ceil(n / 12 / 5.0)) * 5) if n > 12 else 1
    for i in range(0, n, step):
        x = X(i)
        o.append(f'<line x1="{x:.1f}" y1="{mt + ph}" x2="{x:.1f}" y2="{mt + ph + 5}" stroke="#6b7280"/>'
                 f'<text x="{x:.1f}" y="{mt + ph + 18}" class="tick" text-anchor="middle">{i}</text>')
    o.append(f'<line x1="{ml}" y1="{mt}" x2="{ml}" y2="{mt + ph}" stroke="#6b7280"/>'
             f'<line x1="{ml}" y1="{mt + ph}" x2="{W - mr}" y2="{mt + ph}" stroke="#6b7280"/>')
    o.append(f'<text x="{ml + pw / 2:.1f}" y="{H - 10}" class="axis" text-anchor="middle">'
             f'conv node index (input → output), {n} nodes</text>'
             f'<text transform="translate(16 {mt + ph / 2:.1f}) rotate(-90)" class="axis" '
             f'text-anchor="middle">symmetry S of the mean kernel</text>')
    # random-init band: per layer mean ± sd, drawn as a step band around each point
    band = [(i, L["baseline"]) for i, L in pts
            if isinstance(L.get("baseline"), dict) and _isnum(L["baseline"].get("mean"))
            and _isnum(L["baseline"].get("sd"))]
    half = pw / n / 2
    if band:
        hw = max(half, min(6.0, pw / max(len(band), 1) / 2))
        up, lo, mean = [], [], []
        for j, (i, b) in enumerate(band):
            x0, x1 = X(i) - hw, X(i) + hw
            if j + 1 < len(band):
                x1 = max(x1, (X(i) + X(band[j + 1][0])) / 2)
            if j > 0:
                x0 = min(x0, (X(i) + X(band[j - 1][0])) / 2)
            hi_, lo_, m_ = Y(b["mean"] + b["sd"]), Y(b["mean"] - b["sd"]), Y(b["mean"])
            up += [(x0, hi_), (x1, hi_)]
            lo += [(x0, lo_), (x1, lo_)]
            mean += [(x0, m_), (x1, m_)]
        poly = " ".join(f"{x:.1f},{y:.1f}" for x, y in up + lo[::-1])
        o.append(f'<polygon points="{poly}" fill="#9ca3af" fill-opacity="0.28" stroke="none">'
                 f'<title>random-init S, mean ± sd per layer shape</title></polygon>')
        o.append('<polyline points="' + " ".join(f"{x:.1f},{y:.1f}" for x, y in mean) +
                 '" fill="none" stroke="#6b7280" stroke-width="1" stroke-dasharray="4 3"/>')
    # internal median
    internal = (weights.get("summary") or {}).get("internal") or {}
    med = internal.get("median_symmetry")
    if _isnum(med):
        o.append(f'<line x1="{ml}" y1="{Y(med):.1f}" x2="{W - mr}" y2="{Y(med):.1f}" stroke="#0f766e" '
                 f'stroke-width="1.2" stroke-dasharray="2 3"/><text x="{ml + 6}" y="{Y(med) - 5:.1f}" '
                 f'class="tick halo" style="fill:#0f766e" text-anchor="start">median internal S '
                 f'{med:.3f}</text>')
    # the S line
    o.append('<polyline points="' + " ".join(f"{X(i):.1f},{Y(L['symmetry']):.1f}" for i, L in pts) +
             f'" fill="none" stroke="#374151" stroke-width="1.2" '
             f'stroke-opacity="{0.55 if len(pts) <= 120 else 0.25}"/>')
    r = 4.2 if len(pts) <= 120 else 3.0
    labels = []
    for i, L in pts:
        x, y = X(i), Y(L["symmetry"])
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
            text = direction or ("s" + str(stride))
            labels.append((x, y, text))
        else:
            o.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r}" fill="#1e3a8a" fill-opacity="0.85">'
                     f'<title>{tip}</title></circle>')
    # labels of strided layers: above the point, alternate heights where neighbours are close
    last_x, level = -1e9, 0
    for x, y, text in labels:
        level = (level + 1) % 3 if x - last_x < 70 else 0
        ly = y - 10 - 12 * level
        if ly < mt - 30:
            ly = y + 18 + 12 * level
        o.append(f'<text x="{x:.1f}" y="{ly:.1f}" class="plabel" text-anchor="middle">{_e(text)}</text>')
        last_x = x
    # legend
    lx, ly = ml + 4, 18
    o.append(f'<circle cx="{lx + 5}" cy="{ly}" r="4" fill="#1e3a8a"/>'
             f'<text x="{lx + 14}" y="{ly + 4}" class="tick">stride 1</text>'
             f'<polygon points="{lx + 85},{ly - 6} {lx + 91},{ly} {lx + 85},{ly + 6} {lx + 79},{ly}" '
             f'fill="{ORANGE}" stroke="#7c2d12" stroke-width="0.8"/>'
             f'<text x="{lx + 97}" y="{ly + 4}" class="tick">strided (label: side the padding leans to)</text>'
             f'<rect x="{lx + 370}" y="{ly - 6}" width="22" height="12" fill="#9ca3af" fill-opacity="0.28"/>'
             f'<line x1="{lx + 370}" y1="{ly}" x2="{lx + 392}" y2="{ly}" stroke="#6b7280" stroke-dasharray="4 3"/>'
             f'<text x="{lx + 398}" y="{ly + 4}" class="tick">random-init S, mean ± sd</text>')
    o.append('</svg>')
    return ('<section id="depth"><h2>Symmetry against depth</h2>'
            '<p class="lead">S of each analysed layer in graph order. Trained networks usually sit '
            'well above the grey random-init band; strided (downsampling) layers are where uneven '
            'padding can pull a kernel off-centre.</p>' + "".join(o) + '</section>')


def _suggestions_html(sugg) -> str:
    if isinstance(sugg, str) and sugg:
        return f'<div class="suggest"><h3>Suggestions</h3><p>{_e(sugg)}</p></div>'
    if isinstance(sugg, list) and sugg:
        items = "".join(f"<li>{_e(x if isinstance(x, str) else _flat(x))}</li>" for x in sugg)
        return f'<div class="suggest"><h3>Suggestions</h3><ul>{items}</ul></div>'
    if not isinstance(sugg, dict) or not sugg:
        return ""
    items = []
    if sugg.get("note"):
        items.append(f"<li>{_e(sugg['note'])}</li>")
    shapes = sugg.get("input_shapes") or []
    sizes = sugg.get("sizes") or []
    if shapes:
        items.append("<li>even at every strided layer: " + ", ".join(
            f"<code>{_e(param('input_shape', x))}</code>" for x in shapes[:6]) + "</li>")
    elif sizes:
        items.append("<li>even at every strided layer: " + _e(", ".join(_dims(x) for x in sizes[:6])) + "</li>")
    if isinstance(sugg.get("per_axis"), dict) and sugg["per_axis"]:
        items.append("<li>per axis: " + _e("; ".join(f"{k}: {', '.join(map(str, v[:6]))}"
                                                      for k, v in sugg["per_axis"].items())) + "</li>")
    best = sugg.get("best")
    if isinstance(best, dict) and best:
        items.append(f"<li>nothing fully even; fewest uneven strided layers "
                     f"({_e(_num(best.get('uneven_strided_layers')))}) at {_e(_dims(best.get('size')))}</li>")
    for key, label in (("never_even", "uneven at every size tried"),
                       ("fixed_uneven", "uneven regardless of size")):
        v = sugg.get(key)
        if isinstance(v, list) and v:
            items.append(f'<li>{label}: <span class="mono">{_e(", ".join(map(str, v[:12])))}'
                         f'{" …" if len(v) > 12 else ""}</span></li>')
    rng = sugg.get("range")
    if isinstance(rng, list) and len(rng) == 2:
        items.append(f'<li class="muted">searched sizes {_e(rng[0])}–{_e(rng[1])} ({_e(sugg.get("mode") or "")}, '
                     f'{_e(_num(sugg.get("checked")))} checks)</li>')
    items.append('<li class="muted">Other remedies (Mind the Pad, arXiv 2010.02178; arXiv 2503.19215): '
                 'reflection padding, partial convolution, anti-aliased downsampling.</li>')
    return f'<div class="suggest"><h3>Suggestions</h3><ul>{"".join(items)}</ul></div>'


def _padding_panel(padding, weights) -> str:
    head = '<section id="padding"><h2>Padding at strided layers</h2>'
    if padding is None:
        return head + '<p class="empty">Padding diagnosis not included in this report.</p></section>'
    if not isinstance(padding, dict):
        return head + f'<p class="empty">{_e(padding)}</p></section>'
    if padding.get("error"):
        return head + f'<div class="error">Padding diagnosis failed: {_e(padding["error"])}</div></section>'
    out = [head]
    line = padding.get("summary_line")
    summ = padding.get("summary")
    if isinstance(line, str) and line:
        out.append(f'<p class="lead"><b>{_e(line)}</b></p>')
    elif isinstance(summ, str) and summ:
        out.append(f'<p class="lead"><b>{_e(summ)}</b></p>')
    inp = padding.get("input")
    if isinstance(inp, dict) and (inp.get("shape") or inp.get("spatial")):
        extra = ", ".join(x for x in (str(inp.get("layout") or ""),
                                      f"input “{inp['name']}”" if inp.get("name") else "") if x)
        out.append(f'<p class="muted">analysed at {_e(_dims(inp.get("shape") or inp.get("spatial")))}'
                   f'{(" (" + _e(extra) + ")") if extra else ""}</p>')
    layers = [L for L in (weights.get("layers") or []) if isinstance(L, dict)]
    by_id = {str(L.get("id")): L for L in layers}
    index = {str(L.get("id")): i for i, L in enumerate(layers)}
    strided = [r for r in _padding_rows(padding) if _is_strided(r)]
    if strided:
        trs = []
        for r in strided:
            rid = str(r.get("id", ""))
            sides = _pad_sides(r)
            uneven = _pad_uneven(r)
            wl = by_id.get(rid, {})
            skew = r.get("skew") if r.get("skew") is not None else wl.get("skew")
            leans = _pad_leans(r)
            cls = ' class="uneven"' if uneven else ""
            status = r.get("status")
            if status not in (None, "ok"):
                pad_t = f'{_e(status)}: {_e(r.get("reason") or "")}'
            else:
                pad_t = (f'<b>uneven</b> · {_e(_pad_direction(r))}' if uneven and _pad_direction(r)
                         else "<b>uneven</b>" if uneven else "even" if uneven is False else "—")
            side_cells = "".join(
                f'<td class="num">{_e(_num(sides.get(sd), 0)) if sd in sides else "—"}</td>'
                for sd in _SIDE_KEYS)
            kern = r.get("kernel", r.get("kernel_shape", wl.get("kernel_shape")))
            trs.append(
                f'<tr{cls}><td>{_e("#" + str(index[rid]) if rid in index else "")}</td>'
                f'<td class="mono" title="{_e(rid)}">{_e(layer_label(rid, r.get("op_type", ""), 34))}</td>'
                f'<td>{_e(r.get("op_type", ""))}</td><td>{_e(_dims(r.get("input_size")))}</td>'
                f'<td>{_e(_dims(kern))}</td><td>{_e(_stride_text(r))}</td>{side_cells}'
                f'<td>{pad_t}</td><td class="skewc">{_arrow_svg(skew, 16)} {_e(_skew_words(skew))}</td>'
                f'<td>{"<b>yes</b>" if leans is True else ("no" if leans is False else "—")}</td></tr>')
        out.append('<table class="data"><tr><th>#</th><th>layer</th><th>op</th><th>input</th>'
                   '<th>kernel</th><th>stride</th><th class="num">top</th><th class="num">left</th>'
                   '<th class="num">bottom</th><th class="num">right</th><th>padding</th>'
                   '<th>mean-kernel skew</th><th>leans to pad</th></tr>' + "".join(trs) + '</table>'
                   '<p class="muted">Effective padding per side: the padding the kernel actually reads; '
                   'rows/columns a stride never reaches are subtracted (negative: real pixels dropped). '
                   '“Leans to pad”: the mean kernel’s skew points to the more-padded side.</p>')
    else:
        out.append('<p class="empty">No strided layer found.</p>')
    out.append(_suggestions_html(padding.get("suggestions")))
    notes = padding.get("notes")
    if isinstance(notes, list) and notes:
        out.append('<ul class="muted">' + "".join(f"<li>{_e(n)}</li>" for n in notes) + '</ul>')
    out.append('</section>')
    return "".join(out)


def _is_share(c) -> bool:
    """True when consistency values are shares of agreeing top-1 (shown as %), not cosines."""
    metric = c.get("metric")
    if metric:
        return metric in ("top1_agreement", "pixel_top1_agreement")
    out = c.get("output") if isinstance(c.get("output"), dict) else {}
    return out.get("kind") in (None, "classifier")


def _bars_svg(c) -> str:
    """Shares (top-1 / pixel agreement): bars on 0-100 %. Cosines: a dot on an axis zoomed to the
    values (a bar from 0 would hide differences in the third decimal). Whiskers: 95 % intervals;
    a dashed line: the chance level (the same metric between unrelated images)."""
    pct = _is_share(c)
    chance = _chance_of(c)
    rows = []
    for key, label in (("shift", "shift"), ("flip", "flip (horizontal)"), ("flip_vertical", "flip (vertical)")):
        r = c.get(key)
        if isinstance(r, dict):
            n = (f"{_num(r.get('pairs'))} pairs, {_num(r.get('images'))} images" if key == "shift"
                 else f"{_num(r.get('images'))} images")
            rows.append((label, r.get("consistency"), r.get("ci95"), n, _at_chance(r, chance)))
    if not rows:
        return ""
    vals = [v for _, v, ci, _n, _w in rows for v in ([v] + (list(ci) if isinstance(ci, (list, tuple)) else []))
            if _isnum(v)] + ([chance] if _isnum(chance) else [])
    if pct:
        lo_dom = 0.0
    else:
        lo_dom = max(-1.0, math.floor((min(vals, default=0.0) - 0.02) * 20) / 20) if vals else 0.0
        lo_dom = min(lo_dom, 0.9)
    top = 26 if _isnum(chance) else 8
    W, rh, ml, mr = 860, 46, 130, 300
    H = top + 22 + rh * len(rows)
    pw = W - ml - mr

    def X(v):
        return ml + pw * (max(lo_dom, min(1.0, v)) - lo_dom) / (1.0 - lo_dom)

    title = "consistency with 95% intervals" + (" and the level of unrelated images" if _isnum(chance) else "")
    o = [f'<svg class="bars" width="100%" viewBox="0 0 {W} {H}" role="img"><title>{_e(title)}</title>']
    for k in range(5):
        v = lo_dom + (1 - lo_dom) * k / 4
        x = X(v)
        o.append(f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{H - 20}" stroke="#e5e7eb"/>'
                 f'<text x="{x:.1f}" y="{H - 6}" class="tick" text-anchor="middle">'
                 f'{f"{100 * v:.0f}%" if pct else f"{v:.3g}"}</text>')
    for j, (label, v, ci, n, warn) in enumerate(rows):
        y = top + 4 + rh * j
        colour = "#b45309" if warn else "#0f766e"
        o.append(f'<text x="{ml - 10}" y="{y + 17}" class="blabel" text-anchor="end">{_e(label)}</text>')
        if _isnum(v) and pct:
            o.append(f'<rect x="{X(lo_dom):.1f}" y="{y + 4}" width="{X(v) - X(lo_dom):.1f}" height="20" '
                     f'rx="3" fill="{colour}" fill-opacity="0.8"/>')
        if isinstance(ci, (list, tuple)) and len(ci) == 2 and all(_isnum(t) for t in ci):
            a, b = X(ci[0]), X(ci[1])
            yc = y + 14
            o.append(f'<line x1="{a:.1f}" y1="{yc}" x2="{b:.1f}" y2="{yc}" stroke="{INK}" stroke-width="1.6"/>'
                     f'<line x1="{a:.1f}" y1="{yc - 7}" x2="{a:.1f}" y2="{yc + 7}" stroke="{INK}" stroke-width="1.6"/>'
                     f'<line x1="{b:.1f}" y1="{yc - 7}" x2="{b:.1f}" y2="{yc + 7}" stroke="{INK}" stroke-width="1.6"/>')
        if _isnum(v) and not pct:
            o.append(f'<circle class="dot" cx="{X(v):.1f}" cy="{y + 14}" r="6" fill="{colour}" '
                     f'stroke="#fff" stroke-width="1.5"/>')
        val = _pct(v) if pct else _num(v)
        o.append(f'<text x="{W - mr + 12}" y="{y + 13}" class="bval">{_e(val)}</text>'
                 f'<text x="{W - mr + 12}" y="{y + 29}" class="tick">{_e(_ci_text(ci, pct))} · {_e(n)}</text>')
    if _isnum(chance):
        x = X(chance)
        text = f"unrelated images {_pct(chance) if pct else _num(chance)}"
        anchor = "start" if x < ml + 60 else ("end" if x > W - mr - 60 else "middle")
        o.append(f'<line class="chance" x1="{x:.1f}" y1="{top - 4}" x2="{x:.1f}" y2="{H - 20}" '
                 f'stroke="#b91c1c" stroke-width="1.6" stroke-dasharray="5 3">'
                 f'<title>{_e(text)}: the same metric between different images (chance level)</title></line>'
                 f'<text x="{x:.1f}" y="{top - 9}" class="tick halo" style="fill:#b91c1c" '
                 f'text-anchor="{anchor}">{_e(text)}</text>')
    o.append('</svg>')
    return "".join(o)


def _thumbs(items) -> str:
    """One figure per image (entries of the same name are merged: shift and flip badges together)."""
    groups: dict = {}
    for t in items:
        if isinstance(t, dict):
            groups.setdefault(str(t.get("name")), []).append(t)
    figs = []
    for name, ts in groups.items():
        uri = next((str(t.get("data_uri")) for t in ts
                    if str(t.get("data_uri") or "").startswith("data:image/")), "")
        img = (f'<img src="{_e(uri)}" alt="{_e(name)}">' if uri else '<div class="noimg">no image</div>')
        lines = []
        for t in ts:
            why = str(t.get("why") or "changed")
            badge = f"#{t['rank']} lowest" if why == "lowest" and _isnum(t.get("rank")) else why
            detail = "<br>".join(_e(x) for x in str(t.get("detail") or "").split(" · "))
            sep = "<br>" if why == "lowest" else " "
            lines.append(f'<div class="why"><span class="badge why {_e(why)}">{_e(badge)}</span>{sep}'
                         f'<span class="muted">{detail}</span></div>')
        figs.append(f'<figure class="thumb">{img}<figcaption><div class="tname">{_e(name)}</div>'
                    f'{"".join(lines)}</figcaption></figure>')
    return f'<div class="thumbs">{"".join(figs)}</div>' if figs else ""


def _per_image_table(per, metric, chance) -> str:
    """Per-image results with headers that follow the metric."""
    if not (isinstance(per, list) and per):
        return ""
    top1 = metric == "top1_agreement"
    cosine = metric == "cosine_similarity"

    def val(v):
        return _num(v) if cosine else _pct(v)

    trs = []
    for p in per:
        if not isinstance(p, dict):
            continue
        f = p.get("flip")
        if top1:
            agree, pairs = p.get("shift_agree"), p.get("shift_pairs")
            shift_t = f"{agree}/{pairs}" if agree is not None else "—"
            bad_s = agree is not None and pairs is not None and agree < pairs
            flip_t = ("✓" if f == 1 else "✗") if f in (0, 1, 0.0, 1.0) else "—"
            bad_f = f == 0
            first = f'<td class="num">{_e(_num(p.get("top1")))}</td>'
        else:
            sm = p.get("shift_mean")
            shift_t = val(sm) + (f" ({_num(p.get('shift_pairs'))})" if _isnum(p.get("shift_pairs")) else "")
            if sm is None:
                shift_t = "left out (flat)" if p.get("flat") else "—"
            flip_t = val(f) if f is not None else ("left out (flat)" if p.get("flat") else "—")
            bad_s = _isnum(chance) and _isnum(sm) and sm <= chance
            bad_f = _isnum(chance) and _isnum(f) and f <= chance
            first = ""
        trs.append(f'<tr><td class="mono">{_e(p.get("name"))}</td>{first}'
                   f'<td class="num{" bad" if bad_s else ""}">{_e(shift_t)}</td>'
                   f'<td class="num{" bad" if bad_f else ""}">{_e(flip_t)}</td></tr>')
    if top1:
        head = ('<th class="num">top-1</th><th class="num">shift pairs agreeing</th>'
                '<th class="num">flip agrees</th>')
    elif cosine:
        head = '<th class="num">shift: mean cosine (pairs)</th><th class="num">flip: cosine</th>'
    else:
        head = ('<th class="num">shift: mean pixel agreement (pairs)</th>'
                '<th class="num">flip: pixel agreement</th>')
    note = ""
    if not top1 and _isnum(chance):
        note = (f'<p class="muted">In red: at or below the level of unrelated images '
                f'({_e(val(chance))}).</p>')
    open_ = " open" if len(trs) <= 12 else ""
    return (f'<details{open_}><summary>Per image ({len(trs)})</summary><table class="data compact">'
            f'<tr><th>image</th>{head}</tr>' + "".join(trs) + '</table>' + note + '</details>')


def _consistency_panel(c, thumbs) -> str:
    head = '<section id="consistency"><h2>Shift and flip consistency</h2>'
    if c is None:
        return head + ('<p class="empty">Not measured (data-free audit): '
                       f'<code>{_e(param("run", True))}</code> to classify shifted and mirrored images.</p></section>')
    if not isinstance(c, dict):
        return head + f'<div class="error">{_e(c)}</div></section>'
    if c.get("error"):
        return head + (f'<div class="error"><b>The consistency measurement failed.</b> '
                       f'{_e(c["error"])}<br>The weight and padding parts of this report are complete.'
                       '</div></section>')
    metric = _metric(c)
    ms = c.get("max_shift")
    if isinstance(ms, (list, tuple)) and len(ms) == 2 and all(_isnum(v) for v in ms):
        apart = (f"0–{ms[0] - 1} px apart" if ms[0] == ms[1] else
                 f"0–{ms[0] - 1} px apart vertically, 0–{ms[1] - 1} px horizontally")
    else:
        apart = "a few pixels apart"
    chance = _chance_of(c)
    mark = (" Dashed red line: the same metric between <i>unrelated</i> images (centre crops of "
            "different photos) — a number means something only well above it." if _isnum(chance) else "")
    if metric == "cosine_similarity":
        lead = (f"How similar are the model’s outputs for two random crops {apart} of the same "
                "photo, or for a photo and its mirror? Dots: mean cosine similarity of the outputs "
                "(1 = identical direction; not an agreement rate); whiskers: 95 % interval.")
    elif metric == "pixel_top1_agreement":
        lead = (f"Does the per-pixel top-1 of the output map survive a shift of the crop ({apart}, "
                "compared on the overlap after undoing the shift) or a horizontal mirror? Bars: mean "
                "share of agreeing output pixels; whiskers: 95 % interval.")
    else:
        lead = (f"Does the top-1 prediction survive a small shift of the crop (two random crops "
                f"{apart}) or a horizontal mirror? Bars: measured share; whiskers: 95 % interval.")
    out = [head, f'<p class="lead">{_e(lead)}{mark}</p>', _bars_svg(c)]
    out_info = c.get("output") if isinstance(c.get("output"), dict) else {}
    facts = []
    prov = c.get("provider")
    if prov:
        facts.append(("provider used", f"{prov} ({', '.join(map(str, c.get('providers') or []))})"
                      if c.get("providers") else prov))
    if c.get("provider_fallback"):
        facts.append(("fallback", c["provider_fallback"]))
    facts.append(("images", f"{_num(c.get('images'))} from {c.get('image_source') or '?'}"))
    sh = c.get("shift") if isinstance(c.get("shift"), dict) else {}
    if sh:
        facts.append(("shift pairs", f"{_num(sh.get('pairs'))} ({_num(c.get('pairs_per_image'))} per image); "
                      f"offsets {sh.get('offsets') or '?'}"))
        base = c.get("base_size")
        if isinstance(ms, (list, tuple)) and len(ms) == 2:
            how = ("scaled with the input, round(32·S/224) per axis (Zhang: 32 at 224)"
                   if c.get("max_shift_from") == "auto" else f"set by {param('max_shift')}")
            size = (f"{ms[0]} px per axis" if ms[0] == ms[1] else
                    f"{ms[0]} px vertically, {ms[1]} px horizontally")
            facts.append(("max shift", f"{size} ({how})"
                          + (f"; crops of the {_dims(base)} base" if isinstance(base, (list, tuple)) else "")))
        if sh.get("ci95_method"):
            facts.append(("shift interval", sh["ci95_method"]))
    fl = c.get("flip") if isinstance(c.get("flip"), dict) else {}
    if fl.get("ci95_method"):
        facts.append(("flip interval", fl["ci95_method"]))
    if out_info.get("comparison"):
        facts.append(("compared", out_info["comparison"]))
    ch = c.get("chance") if isinstance(c.get("chance"), dict) else None
    if ch:
        if _isnum(ch.get("value")):
            v = _pct(ch["value"]) if _is_share(c) else _num(ch["value"])
            facts.append(("unrelated images", f"{v}: {ch.get('what') or ''} ({_num(ch.get('pairs'))} pairs of "
                          f"{_num(ch.get('images'))} images{', a seeded sample' if ch.get('sampled') else ''})"))
        else:
            facts.append(("unrelated images", "not measured (fewer than two comparable images)"))
    if _isnum(c.get("upscaled_images")) and c["upscaled_images"]:
        facts.append(("upscaled", f"{c['upscaled_images']} of {_num(c.get('images'))} images were smaller "
                      "than the base and were upscaled"))
    if c.get("seed") is not None:
        facts.append(("seed", c.get("seed")))
    rep = c.get("repeat") if isinstance(c.get("repeat"), dict) else {}
    if rep:
        facts.append(("repeat check", f"{'identical' if rep.get('identical') else 'not identical'} "
                      f"over {_num(rep.get('inputs'))} inputs, max |Δ| {_num(rep.get('max_abs_diff'), 6)}"))
    out.append('<table class="kv">' + "".join(f'<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>'
                                            for k, v in facts) + '</table>')
    for key, cls in (("warnings", "warn"), ("notes", "muted")):
        items = c.get(key)
        if isinstance(items, list) and items:
            out.append(f'<ul class="{cls}">' + "".join(f"<li>{_e(s)}</li>" for s in items) + '</ul>')
    t = _thumbs(thumbs or [])
    if t:
        heading = {"cosine_similarity": "Images with the lowest cosine (least consistent outputs)",
                   "pixel_top1_agreement": "Images with the lowest pixel agreement"}.get(
                       metric, "Images whose prediction changed")
        out.append(f'<h3>{_e(heading)}</h3>' + t)
    out.append(_per_image_table(c.get("per_image"), metric, chance))
    skipped = c.get("skipped")
    if isinstance(skipped, list) and skipped:
        out.append('<p class="muted">skipped: ' + _e("; ".join(
            f"{s.get('name')}: {s.get('reason')}" if isinstance(s, dict) else _flat(s) for s in skipped)) + '</p>')
    out.append('</section>')
    return "".join(out)


def _deltas_panel(deltas) -> str:
    """Summary deltas against a --baseline report (as compare_docs wrote them: [before, after, delta])."""
    if not isinstance(deltas, dict) or not isinstance(deltas.get("summary"), dict):
        return ""
    s = deltas["summary"]
    trs = []
    for key, label in (("median_symmetry", "median internal S"), ("shift_consistency", "shift consistency"),
                       ("flip_consistency", "flip consistency")):
        v = s.get(key)
        if not (isinstance(v, (list, tuple)) and len(v) == 3):
            continue
        pct = key != "median_symmetry"
        f = (lambda x: _pct(x)) if pct else (lambda x: _num(x))
        d = v[2]
        dtxt = (f"{100 * d:+.1f} pp" if pct else f"{d:+.3f}") if _isnum(d) else "—"
        cls = "bad" if _isnum(d) and d < 0 else ""
        trs.append(f'<tr><td>{_e(label)}</td><td class="num">{_e(f(v[0]))}</td><td class="num">{_e(f(v[1]))}</td>'
                   f'<td class="num {cls}">{_e(dtxt)}</td></tr>')
    if not trs:
        return ""
    matched = (f'<p class="muted">{_e(_num(s.get("matched_layers")))} conv layers matched by weight shape and '
               f'order ({_e(_num(s.get("layers_a")))} before, {_e(_num(s.get("layers_b")))} now).</p>')
    return ('<section id="baseline"><h2>Against the baseline</h2><table class="data compact"><tr><th></th>'
            '<th class="num">baseline</th><th class="num">now</th><th class="num">change</th></tr>'
            + "".join(trs) + '</table>' + matched + '</section>')


def _gates_panel(gates, verdict) -> str:
    head = '<section id="gates"><h2>Gates</h2>'
    if not isinstance(gates, list) or not gates:
        return head + '<p class="empty">No gates were set; the verdict is informational.</p></section>'
    trs = []
    for g in gates:
        if not isinstance(g, dict):
            continue
        ok = g.get("passed")
        pill = ('<span class="pill pass">pass</span>' if ok is True else
                '<span class="pill fail">fail</span>' if ok is False else '<span class="pill">—</span>')
        cls = "gpass" if ok is True else ("gfail" if ok is False else "")
        trs.append(f'<tr class="{cls}"><td>{pill}</td><td class="mono">{_e(g.get("name"))}</td>'
                   f'<td class="num">{_e(_flat(g.get("value")))}</td>'
                   f'<td class="num">{_e(_flat(g.get("threshold")))}</td><td>{_e(g.get("message") or "")}</td></tr>')
    return head + ('<table class="data gates"><tr><th></th><th>gate</th><th class="num">value</th>'
                   '<th class="num">threshold</th>'
                   '<th>message</th></tr>' + "".join(trs) + '</table></section>')


_FOOTER = """<footer><h2>What the numbers mean</h2><dl>
<dt>Mean kernel K</dt><dd>The signed average of all 2-D kernels of a conv layer (over output and
input channels). Individual kernels detect oriented edges; their average shows what the layer does
on the whole.</dd>
<dt>Symmetry S</dt><dd>1 − the mean distance between the normalised K and its rotations and flips
(dihedral group D4 for square kernels; flips and 180° rotation for non-square ones; reversal for
1-D; axis flips for 3-D). S = 1: perfectly symmetric. Random Gaussian kernels score about
0.41 (3×3), 0.35 (5×5), 0.33 (7×7); trained networks usually score far higher in their internal
layers (arXiv 2503.19215). 1×1 kernels have no S.</dd>
<dt>Skew arrow</dt><dd>The normalised first moment of K about its centre: where the weight sits.
A consistent lean toward the top-left at stride-2 layers is the mark of uneven padding.</dd>
<dt>Uneven padding</dt><dd>With stride s, the last rows/columns of the padded input may never be
read, so only the top/left (PyTorch-style) or bottom/right (TF “SAME”) padding is used ("Mind the
Pad", ICLR 2021). Reflection padding, anti-aliasing or an input size that pads evenly remove it.</dd>
<dt>Shift consistency</dt><dd>Share of crop pairs whose top-1 agrees (Zhang, ICML 2019: offsets
0–31 px at 224×224, scaled with the input size here; torchvision MobileNet-v2 scores 86.5 % on
ImageNet val). Flip consistency: share of images whose top-1 survives a horizontal mirror. Models
that are not classifiers are compared by per-pixel top-1 agreement or by the cosine similarity of
their outputs instead. “Unrelated images” is the same metric between centre crops of different
images: the level a number must clear to mean anything. Intervals are 95 %, shown as
[low, high]; a handful of images gives wide intervals.</dd></dl><p class="muted">Generated by onnxsym. Self-contained: no script, no network.</p>
</footer>"""

_CSS = """
:root{--ink:#1f2937;--muted:#6b7280;--line:#e5e7eb;--bg:#f8fafc;--card:#fff;--pass:#15803d;
--fail:#b91c1c;--warn:#b45309;--accent:#0f766e;--orange:#d9711c}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--ink);font:14px/1.45 system-ui,-apple-system,
"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
main{max-width:1240px;margin:0 auto;padding:24px 28px 40px}
header,section,footer{background:var(--card);border:1px solid var(--line);border-radius:10px;
padding:18px 22px;margin-bottom:18px;box-shadow:0 1px 2px rgba(0,0,0,.04)}
h1{font-size:24px;margin:0;word-break:break-all}
h2{font-size:18px;margin:0 0 8px}
h3{font-size:14px;margin:14px 0 6px}
.title{display:flex;align-items:center;gap:14px;flex-wrap:wrap}
.sub{color:var(--muted);margin-top:2px}
.verdict{font-weight:700;letter-spacing:.06em;padding:4px 12px;border-radius:999px;color:#fff;
font-size:13px;background:#6b7280}
.failed{color:var(--fail);font-weight:600;font-size:13px}
.verdict.pass{background:var(--pass)}.verdict.error{background:var(--warn)}.verdict.fail{background:var(--fail)}
.summary-line{background:#f1f5f9;border:1px solid var(--line);border-radius:6px;padding:8px 10px;
white-space:pre-wrap;word-break:break-word;font:12.5px/1.4 ui-monospace,SFMono-Regular,Menlo,
Consolas,monospace;margin:12px 0}
.cards{display:flex;flex-wrap:wrap;gap:10px;margin:10px 0}
.card{flex:1 1 170px;border:1px solid var(--line);border-radius:8px;padding:8px 12px;background:#fcfcfd}
.card .label{color:var(--muted);font-size:12px;text-transform:uppercase;letter-spacing:.04em}
.card .value{font-size:22px;font-weight:650;font-variant-numeric:tabular-nums}
.card .csub{color:var(--muted);font-size:12px}
.card.warn{border-color:#f5c08a;background:#fff8f0}.card.warn .value{color:var(--warn)}
details summary{cursor:pointer;color:var(--muted);margin:6px 0}
table{border-collapse:collapse}
table.kv th{text-align:left;font-weight:500;color:var(--muted);padding:2px 14px 2px 0;
vertical-align:top;white-space:nowrap}
table.kv td{padding:2px 0;overflow-wrap:anywhere;font-size:13px}
table.data.compact{width:auto;min-width:420px}
table.data th.num{text-align:right}
table.data{width:100%;font-size:13px;margin:6px 0}
table.data th{text-align:left;font-weight:600;border-bottom:2px solid var(--line);padding:5px 8px;
white-space:nowrap}
table.data td{border-bottom:1px solid var(--line);padding:4px 8px;vertical-align:middle}
table.data td svg{vertical-align:middle}
td.num{text-align:right;font-variant-numeric:tabular-nums}
td.bad{color:var(--fail);font-weight:600}
tr.uneven td{background:#fff7ed}
.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12px;
word-break:break-all}
.lead{color:#374151;margin:2px 0 10px;max-width:980px}
.muted{color:var(--muted);font-size:12.5px}
ul.warn{color:var(--warn)}
.empty{color:var(--muted);font-style:italic}
.error{border:1px solid #fecaca;background:#fef2f2;color:#7f1d1d;border-radius:8px;padding:10px 14px;
white-space:pre-wrap;word-break:break-word}
.legendrow{display:flex;align-items:center;gap:10px;flex-wrap:wrap;color:var(--muted);font-size:12.5px;
margin-bottom:8px}
.legendrow text{fill:var(--muted)}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(112px,1fr));gap:8px}
.grid.compact{grid-template-columns:repeat(auto-fill,minmax(84px,1fr));gap:6px}
.grid.compact .hm{height:58px}.grid.compact .base,.grid.compact .shape,.grid.compact .lid{display:none}
.grid.compact .S{font-size:12px}
.tile{margin:0;border:1px solid var(--line);border-radius:8px;padding:6px 6px 7px;background:#fff;
min-width:0;text-align:center}
.tile.strided{border-color:#f0b27a;background:#fffaf5}
.thead{display:flex;align-items:center;gap:4px;min-height:18px;margin-bottom:3px}
.idx{font-weight:650;font-size:12px;margin-right:auto;font-variant-numeric:tabular-nums}
.hm{height:80px;display:flex;align-items:center;justify-content:center}
.hm svg{display:block}
.nodraw{font-size:11px;color:var(--muted)}
.srow{display:flex;align-items:center;justify-content:center;gap:5px;margin-top:4px}
.S{font-weight:650;font-variant-numeric:tabular-nums;font-size:13px}
.S.hi{color:#0f766e}.S.lo{color:#b91c1c}
.base,.shape,.note{color:var(--muted);font-size:11px;font-variant-numeric:tabular-nums}
.lid{font:10.5px/1.25 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;overflow:hidden;
overflow-wrap:anywhere;max-height:2.5em;margin-top:1px}
.padnote{font-size:11px;color:var(--warn);font-weight:600}
.badge{display:inline-block;font-size:10.5px;font-weight:650;padding:0 5px;border-radius:4px;
line-height:16px;background:#e5e7eb;color:#374151}
.badge.s{background:var(--orange);color:#fff}.badge.dw{background:#dbeafe;color:#1e3a8a}
.badge.why.shift{background:#ede9fe;color:#5b21b6}.badge.why.flip{background:#fce7f3;color:#9d174d}
.badge.why.lowest{background:#fef3c7;color:#92400e}
svg.chart{display:block;max-width:100%;height:auto}
svg text{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif}
svg .tick{font-size:11px;fill:#4b5563}
svg .axis{font-size:12.5px;fill:#374151}
svg .plabel{font-size:10.5px;fill:#9a3412;font-weight:600;stroke:#fff;stroke-width:3px;
paint-order:stroke;stroke-linejoin:round}
svg .halo{stroke:#fff;stroke-width:3px;paint-order:stroke;stroke-linejoin:round}
svg .blabel{font-size:13px;fill:#1f2937;font-weight:600}
svg .bval{font-size:14px;fill:#1f2937;font-weight:700}
svg.bars{display:block;max-width:860px;height:auto;margin-bottom:10px}
.suggest{border-left:3px solid var(--accent);background:#f0fdfa;padding:6px 14px;border-radius:0 6px 6px 0;
margin-top:10px}
.suggest ul{margin:4px 0;padding-left:18px}
.thumbs{display:flex;flex-wrap:wrap;gap:10px}
.thumb{margin:0;width:150px;border:1px solid var(--line);border-radius:8px;overflow:hidden;background:#fff}
.thumb img{display:block;width:150px;height:150px;object-fit:cover}
.thumb figcaption{padding:4px 6px;font-size:12px;overflow-wrap:anywhere}
.thumb .tname{font-weight:600;margin-bottom:2px}.thumb .why{line-height:1.3;margin-top:2px}
.thumb .why .muted{font-size:11.5px}
.noimg{height:150px;display:flex;align-items:center;justify-content:center;color:var(--muted)}
.pill{display:inline-block;padding:1px 10px;border-radius:999px;font-weight:700;font-size:12px;
background:#e5e7eb}
.pill.pass{background:#dcfce7;color:var(--pass)}.pill.fail{background:#fee2e2;color:var(--fail)}
tr.gfail td{background:#fff5f5}
footer dl{margin:0;display:grid;grid-template-columns:170px 1fr;gap:6px 16px}
footer dt{font-weight:650}footer dd{margin:0;color:#374151}
code{background:#f1f5f9;padding:0 4px;border-radius:4px}
@media print{body{background:#fff}header,section,footer{box-shadow:none;break-inside:avoid-page}}
"""


# ---------------------------------------------------------------------------------- entry point
def render_html(audit: dict) -> str:
    """Render an ``onnxsym.audit/1`` dict as one self-contained HTML page (a string)."""
    audit = audit if isinstance(audit, dict) else {}
    weights = audit.get("weights") if isinstance(audit.get("weights"), dict) else {}
    padding = audit.get("padding")
    pads = _pad_by_id(padding)
    consistency = audit.get("consistency")
    thumbs = audit.get("thumbnails")
    if thumbs is None and isinstance(consistency, dict):
        thumbs = consistency.get("thumbnails")
    title = f"onnxsym audit — {_model_name(audit, weights)}"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(title)}</title><style>{_CSS}</style></head><body><main>",
        _header(audit, weights),
    ]
    if weights:
        parts.append(_kernel_grid(weights, pads))
        parts.append(_depth_chart(weights, pads))
    elif audit.get("weights") is not None:
        parts.append(f'<section><h2>Weights</h2><div class="error">{_e(audit.get("weights"))}</div></section>')
    parts.append(_padding_panel(padding, weights))
    parts.append(_consistency_panel(consistency, thumbs))
    parts.append(_deltas_panel(audit.get("deltas")))
    parts.append(_gates_panel(audit.get("gates"), audit.get("verdict")))
    parts.append(_FOOTER)
    parts.append("</main></body></html>\n")
    return "\n".join(parts)
