"""The padding panel: effective padding per side of the strided and uneven layers, and the size suggestions."""
from __future__ import annotations

from ...wording import param
from ..labels import layer_label
from .common import (_arrow_svg, _badge, _dims, _e, _flat, _num, _skew_label, _skew_values, _skew_words,
                     _status_badge, _stride_of, _stride_text)


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


def _pad_lean(row):
    """``toward`` / ``away`` / ``neither`` from the row's ``lean`` (or its older boolean), else None."""
    lean = row.get("lean")
    if lean in ("toward", "away", "neither"):
        return lean
    leans = _pad_leans(row)
    return None if leans is None else ("toward" if leans else "away")


def _padding_cell(r) -> str:
    uneven = _pad_uneven(r)
    status = r.get("status")
    if status not in (None, "ok"):
        return f'{_status_badge(status)} {_e(r.get("reason") or "")}'
    if uneven:
        side = _pad_direction(r)
        return _badge("badge pad uneven", "uneven") + (f" {_e(side)}" if side else "")
    return _badge("badge pad even", "even") if uneven is False else "—"


def _padding_row(r, by_id, index) -> str:
    """One strided layer: effective pads per side, its padding badge, skew (↓, →) and lean."""
    rid = str(r.get("id", ""))
    sides = _pad_sides(r)
    wl = by_id.get(rid, {})
    skew = r.get("skew") if r.get("skew") is not None else wl.get("skew")
    lean = _pad_lean(r)
    cls = ' class="uneven"' if _pad_uneven(r) else ""
    side_cells = "".join(f'<td class="num">{_e(_num(sides.get(sd), 0)) if sd in sides else "—"}</td>'
                         for sd in _SIDE_KEYS)
    kern = r.get("kernel", r.get("kernel_shape", wl.get("kernel_shape")))
    skew_t = (f'{_arrow_svg(skew, 16)} <span class="num">{_e(_skew_values(skew))}</span> '
              f'<span class="muted">{_e(_skew_words(skew))}</span>' if skew is not None else "—")
    return (f'<tr{cls}><td>{_e("#" + str(index[rid]) if rid in index else "")}</td>'
            f'<td class="mono" title="{_e(rid)}">{_e(layer_label(rid, r.get("op_type", ""), 34))}</td>'
            f'<td>{_e(r.get("op_type", ""))}</td><td>{_e(_dims(r.get("input_size")))}</td>'
            f'<td>{_e(_dims(kern))}</td><td>{_e(_stride_text(r))}</td>{side_cells}'
            f'<td class="padc">{_padding_cell(r)}</td><td class="skewc">{skew_t}</td>'
            f'<td>{_badge("badge lean " + lean, lean) if lean else "—"}</td></tr>')


def _padding_head(padding) -> list:
    out = []
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
    return out


def _padding_panel(padding, weights) -> str:
    """The ``padding`` section: one row per strided layer, the size suggestions, the notes."""
    head = '<section id="padding"><h2>Padding at strided layers</h2>'
    if padding is None:
        return head + '<p class="empty">Padding diagnosis not included in this report.</p></section>'
    if not isinstance(padding, dict):
        return head + f'<p class="empty">{_e(padding)}</p></section>'
    if padding.get("error"):
        return head + f'<div class="error">Padding diagnosis failed: {_e(padding["error"])}</div></section>'
    out = [head] + _padding_head(padding)
    layers = [L for L in (weights.get("layers") or []) if isinstance(L, dict)]
    by_id = {str(L.get("id")): L for L in layers}
    index = {str(L.get("id")): i for i, L in enumerate(layers)}
    strided = [r for r in _padding_rows(padding) if _is_strided(r)]
    if strided:
        trs = "".join(_padding_row(r, by_id, index) for r in strided)
        out.append('<div class="scroll"><table class="data padding"><tr><th>#</th><th>layer</th><th>op</th>'
                   '<th>input</th><th>kernel</th><th>stride</th><th class="num">top</th><th class="num">left</th>'
                   '<th class="num">bottom</th><th class="num">right</th><th>padding</th>'
                   f'<th>mean-kernel {_e(_skew_label())}</th><th>leans to pad</th></tr>{trs}</table></div>'
                   '<p class="muted">Effective padding per side: the padding the kernel actually reads; '
                   'rows/columns a stride never reaches are subtracted (negative: real pixels dropped). '
                   'Skew: where the mean kernel’s weight sits, down then right (as in the command line '
                   'and the JSON). “Leans to pad”: whether that skew points to the more-padded side.</p>')
    else:
        out.append('<p class="empty">No strided layer found.</p>')
    out.append(_suggestions_html(padding.get("suggestions")))
    notes = padding.get("notes")
    if isinstance(notes, list) and notes:
        out.append('<ul class="muted">' + "".join(f"<li>{_e(n)}</li>" for n in notes) + '</ul>')
    out.append('</section>')
    return "".join(out)
