"""The mean-kernel panel: one heatmap per analysed layer, its skew arrow and padding marks."""
from __future__ import annotations

from ..labels import layer_label
from .common import (COMPACT_AFTER, TILE_PX, _arrow_svg, _badge, _dims, _e, _isnum, _num, _skew_label, _skew_values,
                     _status_badge, _stride_of, _stride_text, diverging_color)
from .padding import _pad_direction, _pad_uneven, _padding_rows


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


def _pad_by_id(padding) -> dict:
    return {str(r.get("id")): r for r in _padding_rows(padding) if r.get("id") is not None}


def _tile(i, L, pads, box) -> str:
    """One analysed layer: its heatmap, badges, S against random, skew arrow and padding mark."""
    lid = str(L.get("id", f"layer {i}"))
    op = L.get("op_type", "")
    ks = L.get("kernel_shape") or []
    sym, base = L.get("symmetry"), L.get("baseline") or {}
    skew = L.get("skew")
    title = (f"#{i} {layer_label(lid, op)}\n{op} {_dims(ks)} stride {_stride_text(L) or 1}"
             f"{' depthwise' if L.get('depthwise') else ''}\nS {_num(sym)} "
             f"(random {_num(base.get('mean'))}±{_num(base.get('sd'))}, z {_num(L.get('z_vs_baseline'), 1)})"
             + (f"\n{_skew_label(skew)} {_skew_values(skew)}" if skew is not None else ""))
    svg, note = _heatmap_svg(L.get("mean_kernel"), i, title, box)
    if not svg:
        svg = f'<div class="nodraw">{_e(note)}</div>'
        note = ""
    stride = _stride_of(L)
    badges = []
    if stride and stride > 1:
        badges.append(_badge("badge s", f"s{stride}", f"stride {_stride_text(L)}"))
    if L.get("depthwise"):
        badges.append(_badge("badge dw", "dw", "depthwise"))
    if L.get("transposed"):
        badges.append(_badge("badge tr", "T", "transposed"))
    prow = pads.get(lid)
    pad_note = ""
    if prow is not None and _pad_uneven(prow):
        pad_note = f'<div class="padnote">pad {_e(_pad_direction(prow) or "uneven")}</div>'
    z = L.get("z_vs_baseline")
    scls = "hi" if _isnum(z) and z >= 1 else ("lo" if _isnum(z) and z <= -1 else "")
    cls = "tile strided" if stride and stride > 1 else "tile"
    return (f'<figure class="{cls}"><div class="thead"><span class="idx">#{i}</span>'
            f'{"".join(badges)}</div><div class="hm">{svg}</div>'
            f'<figcaption><div class="srow"><span class="S {scls}">S {_num(sym)}</span>'
            f'{_arrow_svg(skew)}</div>'
            f'<div class="base">rand {_num(base.get("mean"), 2)}±{_num(base.get("sd"), 2)}</div>'
            f'<div class="lid" title="{_e(lid)}">{_e(layer_label(lid, op, 26)).replace("/", "/<wbr>")}</div>'
            f'<div class="shape">{_e(op)} {_e(_dims(ks))}</div>'
            f'{f"<div class=note>{_e(note)}</div>" if note else ""}{pad_note}</figcaption></figure>')


_KERNELS_HEAD = (
    '<section id="kernels"><h2>Mean kernels</h2>'
    '<p class="lead">Each square is the mean kernel K of one conv layer (the average over '
    'all its output and input channels), coloured blue (negative) – white (0) – red '
    '(positive) with limits ±max|K| of that kernel. S is its symmetry score '
    '(1 = invariant under every rotation and flip); “rand” is S of random Gaussian kernels '
    'of the same shape (mean±sd). The arrow points to where the kernel’s weight sits (hover it for '
    'the skew, down then right).</p>'
    '<div class="legendrow">{legend}<span class="badge s">s2</span> strided '
    '<span class="badge dw">dw</span> depthwise '
    '<span class="S hi">S</span> ≥ 1 sd above random <span class="S lo">S</span> ≥ 1 sd below'
    '</div>')


def _other_layers(other) -> str:
    """The layers that were neither analysed nor 1×1, with their status badge and reason."""
    if not other:
        return ""
    rows = "".join(f'<tr><td>#{i}</td><td class="mono" title="{_e(L.get("id"))}">'
                   f'{_e(layer_label(L.get("id"), L.get("op_type", ""), 40))}</td>'
                   f'<td>{_status_badge(L.get("status"))}</td><td>{_e(L.get("reason"))}</td></tr>'
                   for i, L in other)
    return (f'<details><summary>{len(other)} other layer{"s" if len(other) != 1 else ""} '
            f'not analysed</summary><div class="scroll"><table class="data"><tr><th>#</th><th>layer</th>'
            f'<th>status</th><th>reason</th></tr>{rows}</table></div></details>')


def _kernel_grid(weights, pads) -> str:
    """The ``kernels`` section: one tile per analysed layer (compact tiles for large models)."""
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
        if status == "ok":
            tiles.append(_tile(i, L, pads, box))
        elif status == "n/a" and ks and all(k == 1 for k in ks):
            skipped_1x1 += 1
        else:
            other.append((i, L))
    notes = []
    if skipped_1x1:
        notes.append(f"{skipped_1x1} 1×1 layer{'s' if skipped_1x1 != 1 else ''} not shown "
                     "(S is not defined for a 1×1 kernel).")
    if compact:
        notes.append(f"{n_ok} layers: compact tiles (hover a kernel for its id, shape and baseline).")
    body = f'<div class="grid{" compact" if compact else ""}">{"".join(tiles)}</div>' if tiles else \
        '<p class="empty">No layer with a kernel larger than 1×1 was analysed.</p>'
    note_html = f'<p class="muted">{" ".join(_e(n) for n in notes)}</p>' if notes else ""
    return (_KERNELS_HEAD.replace("{legend}", _legend_svg()) + note_html + body + _other_layers(other)
            + "</section>")
