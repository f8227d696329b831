"""The consistency panel: shift and flip bars against the chance level, thumbnails, per-image table."""
from __future__ import annotations

import math

from ...wording import param
from .common import INK, _at_chance, _badge, _chance_of, _ci_text, _dims, _e, _flat, _is_share, _isnum, _metric, _num, _pct


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
    o = [f'<div class="scroll chartbox"><svg class="bars" width="100%" viewBox="0 0 {W} {H}" role="img">'
         f'<title>{_e(title)}</title>']
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
    o.append('</svg></div>')
    return "".join(o)


_WHY = {"shift": "badge why shift", "flip": "badge why flip", "lowest": "badge why lowest"}


def _image_uri(uri) -> str:
    """``uri`` when it is an inline image (``data:image/…``), else "" (nothing else is ever linked)."""
    uri = str(uri or "")
    return uri if uri.startswith("data:image/") else ""


def _views(views) -> str:
    """The two compared views of one reason, side by side, each with its caption."""
    if not isinstance(views, list):
        return ""
    cells = []
    for v in views[:2]:
        if not isinstance(v, dict):
            continue
        uri, cap = _image_uri(v.get("data_uri")), str(v.get("caption") or "")
        img = f'<img src="{_e(uri)}" alt="{_e(cap)}">' if uri else '<div class="noimg small">no image</div>'
        cells.append(f'<div class="view">{img}<div class="vcap">{_e(cap)}</div></div>')
    return f'<div class="views">{"".join(cells)}</div>' if cells else ""


def _reason(t) -> str:
    """One reason an image is shown: its badge, the detail and (newer reports) the compared views."""
    why = str(t.get("why") or "changed")
    badge = f"#{t['rank']} lowest" if why == "lowest" and _isnum(t.get("rank")) else why
    detail = "<br>".join(_e(x) for x in str(t.get("detail") or "").split(" · "))
    sep = "<br>" if why == "lowest" else " "
    return (f'<div class="reason"><div class="why">{_badge(_WHY.get(why, "badge why other"), badge)}{sep}'
            f'<span class="muted">{detail}</span></div>{_views(t.get("views"))}</div>')


def _thumbs(items) -> str:
    """One figure per image (entries of the same name are merged: shift and flip together), the whole
    image on top and, under it, each reason with the two views that were compared."""
    groups: dict = {}
    for t in items:
        if isinstance(t, dict):
            groups.setdefault(str(t.get("name")), []).append(t)
    figs = []
    for name, ts in groups.items():
        uri = next((u for u in (_image_uri(t.get("data_uri")) for t in ts) if u), "")
        img = (f'<img class="whole" src="{_e(uri)}" alt="{_e(name)}">' if uri
               else '<div class="noimg">no image</div>')
        wide = " wide" if any(isinstance(t.get("views"), list) and t["views"] for t in ts) else ""
        figs.append(f'<figure class="thumb{wide}"><div class="tname">{_e(name)}</div>{img}<figcaption>'
                    f'{"".join(_reason(t) for t in ts)}</figcaption></figure>')
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
    return (f'<details{open_}><summary>Per image ({len(trs)})</summary><div class="scroll">'
            f'<table class="data compact"><tr><th>image</th>{head}</tr>' + "".join(trs) + '</table></div>'
            + note + '</details>')


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
    chance = _chance_of(c)
    out = [head, f'<p class="lead">{_e(_lead(metric, _apart(c.get("max_shift"))))}'
           + (" Dashed red line: the same metric between <i>unrelated</i> images (centre crops of "
              "different photos) — a number means something only well above it." if _isnum(chance) else "")
           + '</p>', _bars_svg(c)]
    out.append('<div class="scroll"><table class="kv">' + "".join(f'<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>'
                                                                for k, v in _facts(c)) + '</table></div>')
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


def _apart(ms) -> str:
    if isinstance(ms, (list, tuple)) and len(ms) == 2 and all(_isnum(v) for v in ms):
        return (f"0–{ms[0] - 1} px apart" if ms[0] == ms[1] else
                f"0–{ms[0] - 1} px apart vertically, 0–{ms[1] - 1} px horizontally")
    return "a few pixels apart"


def _lead(metric, apart) -> str:
    if metric == "cosine_similarity":
        return (f"How similar are the model’s outputs for two random crops {apart} of the same "
                "photo, or for a photo and its mirror? Dots: mean cosine similarity of the outputs "
                "(1 = identical direction; not an agreement rate); whiskers: 95 % interval.")
    if metric == "pixel_top1_agreement":
        return (f"Does the per-pixel top-1 of the output map survive a shift of the crop ({apart}, "
                "compared on the overlap after undoing the shift) or a horizontal mirror? Bars: mean "
                "share of agreeing output pixels; whiskers: 95 % interval.")
    return (f"Does the top-1 prediction survive a small shift of the crop (two random crops "
            f"{apart}) or a horizontal mirror? Bars: measured share; whiskers: 95 % interval.")


def _facts(c) -> list:
    """(label, value) rows of how the consistency was measured."""
    facts = []
    prov = c.get("provider")
    if prov:
        facts.append(("provider used", f"{prov} ({', '.join(map(str, c.get('providers') or []))})"
                      if c.get("providers") else prov))
    if c.get("provider_fallback"):
        facts.append(("fallback", c["provider_fallback"]))
    pipe = c.get("pipeline") if isinstance(c.get("pipeline"), dict) else {}
    if pipe.get("used"):
        where = "inside the onnxruntime session" if pipe["used"] == "device" else "in numpy on the host"
        facts.append(("variants made", f"{where} ({pipe.get('reason') or pipe.get('requested') or '?'})"))
    facts.append(("images", f"{_num(c.get('images'))} from {c.get('image_source') or '?'}"))
    sh = c.get("shift") if isinstance(c.get("shift"), dict) else {}
    if sh:
        facts += _shift_facts(c, sh)
    fl = c.get("flip") if isinstance(c.get("flip"), dict) else {}
    if fl.get("ci95_method"):
        facts.append(("flip interval", fl["ci95_method"]))
    out_info = c.get("output") if isinstance(c.get("output"), dict) else {}
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
    return facts


def _shift_facts(c, sh) -> list:
    facts = [("shift pairs", f"{_num(sh.get('pairs'))} ({_num(c.get('pairs_per_image'))} per image); "
              f"offsets {sh.get('offsets') or '?'}")]
    ms, base = c.get("max_shift"), c.get("base_size")
    if isinstance(ms, (list, tuple)) and len(ms) == 2:
        how = ("scaled with the input, round(32·S/224) per axis (Zhang: 32 at 224)"
               if c.get("max_shift_from") == "auto" else f"set by {param('max_shift')}")
        size = (f"{ms[0]} px per axis" if ms[0] == ms[1] else
                f"{ms[0]} px vertically, {ms[1]} px horizontally")
        facts.append(("max shift", f"{size} ({how})"
                      + (f"; crops of the {_dims(base)} base" if isinstance(base, (list, tuple)) else "")))
    if sh.get("ci95_method"):
        facts.append(("shift interval", sh["ci95_method"]))
    return facts
