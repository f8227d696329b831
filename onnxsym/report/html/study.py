"""The study as one self-contained HTML page (inline CSS and SVG, no script, no network):
``render_study_html(doc)`` formats an ``onnxsym.study/1`` dict and computes nothing.

Sections: the header (summary line, cards); per metric kind, S against shift and against flip
(scatter plots: every model a labelled point, families coloured, representatives filled and
re-encodings hollow, 95 % intervals as bars, the median chance level dashed) with the
correlations under them; S against relative depth of every model overlaid on the random-init
band; the pooled findings; the ranking table linking to each model's details; the families.
Charts are drawn in a viewBox and scale to the page; tables scroll inside their panel, so the
page reads at 420 px.
"""
from __future__ import annotations

from ...wording import is_cosine, metric_interval, metric_value
from ..study_render import FINDING_WORDS, METRIC_WORDS, STAT_WORDS, short_names, summary_line
from .common import INK, _card, _e, _isnum, _num
from .style import _CSS

PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2", "#7f7f7f",
           "#bcbd22", "#393b79", "#637939", "#8c6d31", "#843c39", "#7b4173"]

_STUDY_CSS = """
.scroll{overflow-x:auto;max-width:100%}
.scroll table.data{min-width:760px}
.scroll td.num{white-space:nowrap}
.charts{display:flex;flex-wrap:wrap;gap:14px}
.charts figure{margin:0;flex:1 1 380px;min-width:0;max-width:600px}
.charts figcaption{color:var(--muted);font-size:12.5px}
.chip{display:inline-block;width:10px;height:10px;border-radius:50%;margin-right:5px;vertical-align:middle}
.chip.hollow{background:#fff!important;border:2px solid}
.warnbox{border-left:3px solid var(--warn);background:#fff8f0;padding:6px 12px;border-radius:0 6px 6px 0;
margin:8px 0;color:#7c2d12}
details.model{border:1px solid var(--line);border-radius:8px;padding:6px 12px;margin:6px 0;background:#fff}
details.model summary{color:var(--ink);font-weight:600}
details.model:target{border-color:var(--accent);box-shadow:0 0 0 2px #99f6e4}
td.err{color:var(--fail)}
"""


def _slugs(rows) -> dict:
    return {r["id"]: f"m-{k}" for k, r in enumerate(sorted(rows, key=lambda r: r["id"]))}


def _colors(doc) -> dict:
    fams = [f["id"] for f in doc.get("families") or []]
    return {f: PALETTE[k % len(PALETTE)] for k, f in enumerate(fams)}


def _color(colors, row) -> str:
    return colors.get(row.get("family"), "#9ca3af")


# ------------------------------------------------------------------------------------- header
def _header(doc) -> str:
    rows = doc.get("rows") or []
    s = doc.get("settings") or {}
    cards = [_card("models", _num(doc.get("models")), f"{_num(doc.get('failed'))} with an error",
                   "warn" if doc.get("failed") else ""),
             _card("families", _num(len(doc.get("families") or [])), "re-encodings of one set of weights grouped")]
    for c in doc.get("correlations") or []:
        for measure, stats in (c.get("correlations") or {}).items():
            rho = next((x for x in stats if x.get("name") == "spearman"), {})
            if rho.get("value") is None:
                continue
            ci = rho.get("ci95")
            cards.append(_card(f"S vs {measure} ρ", f"{rho['value']:+.2f}",
                               (f"95% CI [{ci[0]:+.2f}, {ci[1]:+.2f}] · " if ci else "")
                               + f"p {_num(rho.get('p_value'))} · n={rho.get('n')}"))
    imgs = f"{_num(s.get('image_count'))} images from {s.get('images')}"
    sub = (f"{imgs} · seed {s.get('seed')} · {s.get('pairs_per_image')} pairs per image · preset {s.get('preset')} · "
           f"provider {s.get('provider')} · engine {(s.get('engine') or {}).get('name')} × "
           f"{(s.get('engine') or {}).get('workers')}")
    return ('<header><div class="title"><h1>onnxsym study</h1></div>'
            f'<div class="sub">symmetry of mean kernels against shift/flip consistency across {len(rows)} models</div>'
            f'<pre class="summary-line">{_e(summary_line(doc))}</pre><div class="cards">{"".join(cards)}</div>'
            f'<p class="muted">{_e(sub)}</p></header>')


# ------------------------------------------------------------------------------------ scatter
class _Axes:
    W, H, ML, MR, MT, MB = 540, 400, 58, 18, 20, 48

    def __init__(self, xs, ys):
        self.x0, self.x1 = _span(xs, 0.02)
        self.y0, self.y1 = _span(ys, 0.02)

    def x(self, v):
        return self.ML + (self.W - self.ML - self.MR) * (v - self.x0) / (self.x1 - self.x0)

    def y(self, v):
        return self.MT + (self.H - self.MT - self.MB) * (1 - (v - self.y0) / (self.y1 - self.y0))


def _span(vals, pad):
    vals = [v for v in vals if _isnum(v)]
    lo, hi = (min(vals), max(vals)) if vals else (0.0, 1.0)
    if hi - lo < 0.05:
        lo, hi = lo - 0.025, hi + 0.025
    d = (hi - lo) * 0.08 + pad
    return lo - d, hi + d


def _ticks(lo, hi, n=5):
    import math

    step = (hi - lo) / n
    mag = 10 ** math.floor(math.log10(step))
    step = min((m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= step), default=step)
    t = math.ceil(lo / step) * step
    out = []
    while t <= hi + 1e-12:
        out.append(round(t, 10))
        t += step
    return out


def _scatter(doc, rows, metric, measure, names, colors, slugs) -> str:
    pts = [r for r in rows if (r.get("internal") or {}).get("median_symmetry") is not None
           and ((r.get(measure) or {}).get("consistency")) is not None]
    if not pts:
        return ""
    xs = [r["internal"]["median_symmetry"] for r in pts]
    ys = [r[measure]["consistency"] for r in pts]
    for r in pts:
        ci = r[measure].get("ci95")
        if ci and None not in ci:
            ys += list(ci)
    chance = sorted(r.get("chance") for r in pts if _isnum(r.get("chance")))
    ax = _Axes(xs, ys)
    pct = not is_cosine(metric)
    o = [f'<svg class="chart" viewBox="0 0 {ax.W} {ax.H}" width="100%" role="img" preserveAspectRatio="xMidYMid meet">'
         f'<title>internal median S against {measure} {METRIC_WORDS.get(metric, metric)}</title>']
    _frame(o, ax, pct, f"{measure} {'consistency' if pct else 'cosine'}")
    if chance:
        mid = chance[len(chance) // 2]
        if ax.y0 <= mid <= ax.y1:
            y = ax.y(mid)
            o.append(f'<line x1="{ax.ML}" y1="{y:.1f}" x2="{ax.W - ax.MR}" y2="{y:.1f}" stroke="#b45309" '
                     f'stroke-dasharray="5 4"><title>unrelated images (median over models): '
                     f'{_e(metric_value(mid, metric))}</title></line>'
                     f'<text x="{ax.W - ax.MR - 4}" y="{y - 5:.1f}" class="tick halo" text-anchor="end" '
                     f'style="fill:#b45309">unrelated images</text>')
    boxes = [(ax.x(r["internal"]["median_symmetry"]) - 6, ax.y(r[measure]["consistency"]) - 6,
              ax.x(r["internal"]["median_symmetry"]) + 6, ax.y(r[measure]["consistency"]) + 6) for r in pts]
    for r in sorted(pts, key=lambda r: (bool(r.get("representative")), r["id"])):  # representatives on top
        x, y = ax.x(r["internal"]["median_symmetry"]), ax.y(r[measure]["consistency"])
        col = _color(colors, r)
        ci, sci = r[measure].get("ci95"), r["internal"].get("ci95")
        if ci and None not in ci:
            o.append(f'<line x1="{x:.1f}" y1="{ax.y(ci[0]):.1f}" x2="{x:.1f}" y2="{ax.y(ci[1]):.1f}" stroke="{col}" '
                     f'stroke-opacity="0.55" stroke-width="1.4"/>')
        if sci and None not in sci:
            left, right = max(ax.ML, ax.x(sci[0])), min(ax.W - ax.MR, ax.x(sci[1]))  # clipped to the frame
            o.append(f'<line x1="{left:.1f}" y1="{y:.1f}" x2="{right:.1f}" y2="{y:.1f}" '
                     f'stroke="{col}" stroke-opacity="0.35" stroke-width="1.2"/>')
        tip = (f"{names[r['id']]} · family {r.get('family')}{' (representative)' if r.get('representative') else ''}\n"
               f"internal S {_num(r['internal']['median_symmetry'])} · {measure} "
               f"{metric_value(r[measure]['consistency'], metric)} {metric_interval(ci, metric)}")
        fill = col if r.get("representative") else "#fff"
        o.append(f'<a href="#{slugs[r["id"]]}"><circle cx="{x:.1f}" cy="{y:.1f}" r="5" fill="{fill}" stroke="{col}" '
                 f'stroke-width="2"><title>{_e(tip)}</title></circle></a>')
        o.append(_label(ax, x, y, names[r["id"]], col, boxes))
    o.append("</svg>")
    level = (f"; unrelated images (median over models) {metric_value(chance[len(chance) // 2], metric)}"
             if chance else "")
    return (f'<figure>{"".join(o)}<figcaption>{_e(measure)} against internal median S; bars: 95 % intervals; '
            f'filled: the family\'s representative, hollow: a re-encoding{_e(level)}</figcaption></figure>')


def _frame(o, ax, pct, ylabel) -> None:
    for t in _ticks(ax.x0, ax.x1):
        x = ax.x(t)
        o.append(f'<line x1="{x:.1f}" y1="{ax.MT}" x2="{x:.1f}" y2="{ax.H - ax.MB}" stroke="#eef0f3"/>'
                 f'<text x="{x:.1f}" y="{ax.H - ax.MB + 16}" class="tick" text-anchor="middle">{t:g}</text>')
    for t in _ticks(ax.y0, ax.y1):
        y = ax.y(t)
        text = f"{100 * t:g} %" if pct else f"{t:g}"
        o.append(f'<line x1="{ax.ML}" y1="{y:.1f}" x2="{ax.W - ax.MR}" y2="{y:.1f}" stroke="#eef0f3"/>'
                 f'<text x="{ax.ML - 6}" y="{y + 4:.1f}" class="tick" text-anchor="end">{text}</text>')
    o.append(f'<rect x="{ax.ML}" y="{ax.MT}" width="{ax.W - ax.ML - ax.MR}" height="{ax.H - ax.MT - ax.MB}" '
             f'fill="none" stroke="#9ca3af"/>'
             f'<text x="{(ax.ML + ax.W - ax.MR) / 2:.1f}" y="{ax.H - 10}" class="axis" text-anchor="middle">'
             f'internal median S of the mean kernels</text>'
             f'<text transform="translate(15 {(ax.MT + ax.H - ax.MB) / 2:.1f}) rotate(-90)" class="axis" '
             f'text-anchor="middle">{_e(ylabel)}</text>')


#: where a point's label may go (dx, dy of the text's anchor, anchor), nearest first
_PLACES = ((8, 4, "start"), (-8, 4, "end"), (8, -8, "start"), (-8, -8, "end"), (8, 16, "start"), (-8, 16, "end"),
           (0, -10, "middle"), (0, 19, "middle"), (10, -20, "start"), (-10, -20, "end"), (10, 28, "start"),
           (-10, 28, "end"), (0, -24, "middle"), (0, 33, "middle"), (14, -32, "start"), (-14, -32, "end"),
           (14, 40, "start"), (-14, 40, "end"))


def _label(ax, x, y, text, col, boxes) -> str:
    """A point's label beside it, at the nearest of :data:`_PLACES` that overlaps no point and no
    label drawn yet (none left: the point's title still names it)."""
    w, h = 6.1 * len(text) + 4, 13
    for dx, dy, anchor in _PLACES:
        left = x + dx - (w if anchor == "end" else w / 2 if anchor == "middle" else 0)
        box = (left, y + dy - 10, left + w, y + dy - 10 + h)
        inside = ax.ML <= box[0] and box[2] <= ax.W - ax.MR and ax.MT <= box[1] and box[3] <= ax.H - ax.MB
        if inside and not any(b[0] < box[2] and box[0] < b[2] and b[1] < box[3] and box[1] < b[3] for b in boxes):
            boxes.append(box)
            return (f'<text x="{x + dx:.1f}" y="{y + dy:.1f}" class="tick halo" text-anchor="{anchor}" '
                    f'style="fill:{col};font-size:10.5px">{_e(text)}</text>')
    return ""  # no free place: the point's title still names it


def _consistency_section(doc, rows, names, colors, slugs) -> str:
    out = ['<section id="scatter"><h2>Symmetry against consistency</h2>'
           '<p class="lead">Each point is a model: its internal median S (the mean kernels\' symmetry, all analysed '
           'layers but the first) against its shift or flip consistency. The correlations use one representative '
           'per family and never mix metric kinds.</p>']
    kinds = [c["metric"] for c in doc.get("correlations") or []]
    for c in doc.get("correlations") or []:
        metric = c["metric"]
        kind_rows = [r for r in rows if r.get("metric") == metric]
        out.append(f'<h3>{_e(METRIC_WORDS.get(metric, metric))} — {c.get("families")} '
                   f'famil{"y" if c.get("families") == 1 else "ies"}</h3>')
        if not c.get("meaningful"):
            out.append(f'<div class="warnbox">{_e(c.get("reason"))}. The plots and the table still show every '
                       'model.</div>')
        out.append('<div class="charts">' + "".join(_scatter(doc, kind_rows, metric, m, names, colors, slugs)
                                                    for m in ("shift", "flip")) + '</div>')
        out.append(_correlation_table(c))
    if not kinds:
        out.append('<p class="empty">No model has both an internal S and a consistency number.</p>')
    out.append(_legend(doc, names, colors))
    out.append('</section>')
    return "".join(out)


def _correlation_table(c) -> str:
    if not c.get("meaningful"):
        return ""
    trs = []
    for measure, stats in (c.get("correlations") or {}).items():
        for s in stats:
            ci = s.get("ci95")
            value = "—" if s.get("value") is None else f"{s['value']:+.3f}"
            trs.append(f'<tr><td>{_e(measure)}</td><td>{_e(STAT_WORDS.get(s["name"], s["name"]))}</td>'
                       f'<td class="num">{value}</td>'
                       f'<td class="num">{_e(f"[{ci[0]:+.3f}, {ci[1]:+.3f}]" if ci else "—")}</td>'
                       f'<td class="num">{_e(_num(s.get("p_value"), 4))}</td><td class="num">{s.get("n")}</td>'
                       f'<td class="muted">{_e(s.get("note") or (s.get("ci_method", "") + "; " + s.get("p_method", "")))}'
                       '</td></tr>')
    return ('<div class="scroll"><table class="data"><tr><th>against</th><th>statistic</th><th class="num">value</th>'
            '<th class="num">95 % CI</th><th class="num">p</th><th class="num">n</th><th>how</th></tr>'
            + "".join(trs) + '</table></div>')


def _legend(doc, names, colors) -> str:
    items = []
    for f in doc.get("families") or []:
        col = colors.get(f["id"], "#9ca3af")
        members = ", ".join(names.get(m, m) for m in f.get("members") or [])
        items.append(f'<span><span class="chip" style="background:{col}"></span>{_e(f["id"])}: {_e(members)}</span>')
    return f'<div class="legendrow">{"".join(items)}</div>' if items else ""


# -------------------------------------------------------------------------------------- depth
def _depth_section(rows, names, colors, slugs) -> str:
    profiles = [r for r in rows if len([L for L in r.get("layers") or [] if _isnum(L.get("symmetry"))]) >= 2]
    if not profiles:
        return ""
    W, H, ML, MR, MT, MB = 1000, 380, 58, 20, 20, 46
    pw, ph = W - ML - MR, H - MT - MB

    def px(d):
        return ML + pw * d

    def py(v):
        return MT + ph * (1 - max(0.0, min(1.0, v)))

    o = [f'<svg class="chart" viewBox="0 0 {W} {H}" width="100%" role="img" preserveAspectRatio="xMidYMid meet">'
         '<title>S of every analysed layer against relative depth, all models</title>']
    for k in range(6):
        y = py(k / 5)
        o.append(f'<line x1="{ML}" y1="{y:.1f}" x2="{W - MR}" y2="{y:.1f}" stroke="#eef0f3"/>'
                 f'<text x="{ML - 6}" y="{y + 4:.1f}" class="tick" text-anchor="end">{k / 5:.1f}</text>')
        x = px(k / 5)
        o.append(f'<text x="{x:.1f}" y="{H - MB + 16}" class="tick" text-anchor="middle">{k / 5:.1f}</text>')
    bands = sorted({(L["random_mean"], L["random_sd"]) for r in profiles for L in r["layers"]
                    if _isnum(L.get("random_mean")) and _isnum(L.get("random_sd"))})
    if bands:
        m, sd = bands[len(bands) // 2]
        what = "random init, mean ± sd" + ("" if len(bands) == 1 else " (the median band over layer shapes)")
        o.append(f'<rect x="{ML}" y="{py(m + sd):.1f}" width="{pw}" height="{py(m - sd) - py(m + sd):.1f}" '
                 f'fill="#9ca3af" fill-opacity="0.25"><title>{_e(what)}: {m:.3f} ± {sd:.3f}</title></rect>'
                 f'<line x1="{ML}" y1="{py(m):.1f}" x2="{W - MR}" y2="{py(m):.1f}" stroke="#6b7280" '
                 f'stroke-dasharray="4 3"/><text x="{W - MR - 4}" y="{py(m + sd) - 4:.1f}" class="tick halo" '
                 f'text-anchor="end">{_e(what)}</text>')
    for r in sorted(profiles, key=lambda r: (bool(r.get("representative")), r["id"])):
        col = _color(colors, r)
        pts = [L for L in r["layers"] if _isnum(L.get("symmetry"))]
        dash = "" if r.get("representative") else ' stroke-dasharray="3 2"'
        o.append(f'<a href="#{slugs[r["id"]]}"><polyline points="'
                 + " ".join(f"{px(L['depth']):.1f},{py(L['symmetry']):.1f}" for L in pts)
                 + f'" fill="none" stroke="{col}" stroke-width="1.6" stroke-opacity="0.85"{dash}>'
                 f'<title>{_e(names[r["id"]])} (family {_e(r.get("family"))})</title></polyline></a>')
        for L in pts:
            tip = f"{names[r['id']]} · {L['id']} · depth {L['depth']:.2f} · S {_num(L['symmetry'])}" + (
                " · strided, pads unevenly" if L.get("uneven") else "")
            shape = (f'<rect x="{px(L["depth"]) - 3.5:.1f}" y="{py(L["symmetry"]) - 3.5:.1f}" width="7" height="7" '
                     f'fill="{col}" stroke="{INK}" stroke-width="0.6"' if L.get("uneven") else
                     f'<circle cx="{px(L["depth"]):.1f}" cy="{py(L["symmetry"]):.1f}" r="2.8" fill="{col}"')
            o.append(f'{shape}><title>{_e(tip)}</title>{"</rect>" if L.get("uneven") else "</circle>"}')
    o.append(f'<rect x="{ML}" y="{MT}" width="{pw}" height="{ph}" fill="none" stroke="#9ca3af"/>'
             f'<text x="{ML + pw / 2:.1f}" y="{H - 10}" class="axis" text-anchor="middle">relative depth '
             '(conv node index / (conv nodes − 1))</text>'
             f'<text transform="translate(15 {MT + ph / 2:.1f}) rotate(-90)" class="axis" text-anchor="middle">'
             'symmetry S</text></svg>')
    return ('<section id="depth"><h2>Symmetry against depth</h2><p class="lead">S of every analysed layer of every '
            'model against its relative depth, coloured by family (dashed: re-encodings), over the random-init band. '
            'Squares: strided layers that pad unevenly at the input size.</p>' + "".join(o) + '</section>')


# ----------------------------------------------------------------------------------- findings
def _findings_section(doc) -> str:
    trs = []
    for f in doc.get("findings") or []:
        s = f.get("statistic") or {}
        ci = s.get("ci95")
        value = "—" if s.get("value") is None else f"{s['value']:+.3f}"
        extra = f"{f.get('positive')} of {s.get('n')} positive"
        if f["name"] == "trained_vs_random" and f.get("internal_layers"):
            extra += f"; {f.get('above_band')} of {f['internal_layers']} internal layers above mean + sd"
        trs.append(f'<tr><td>{_e(FINDING_WORDS.get(f["name"], f["name"]))}</td><td class="num">{value}</td>'
                   f'<td class="num">{_e(f"[{ci[0]:+.3f}, {ci[1]:+.3f}]" if ci else "—")}</td>'
                   f'<td class="num">{_e(_num(s.get("p_value"), 4))}</td><td class="num">{s.get("n")}</td>'
                   f'<td>{_e(extra)}</td><td class="muted">{_e(f.get("reason") or f.get("question"))}</td></tr>')
    return ('<section id="findings"><h2>The paper\'s findings, pooled</h2><p class="lead">One value per family '
            'representative; the mean with a bootstrap 95 % interval and a sign-flip permutation p-value.</p>'
            '<div class="scroll"><table class="data"><tr><th>finding</th><th class="num">mean</th>'
            '<th class="num">95 % CI</th><th class="num">p</th><th class="num">models</th><th></th><th>what</th></tr>'
            + "".join(trs) + '</table></div></section>')


# ------------------------------------------------------------------------------------ ranking
def _part_text(part, metric):
    if not part or part.get("consistency") is None:
        return "—"
    return f"{metric_value(part['consistency'], metric)} {metric_interval(part.get('ci95'), metric)}".strip()


def _ranking_section(rows, names, colors, slugs) -> str:
    ranked = sorted(rows, key=lambda r: (-((r.get("internal") or {}).get("median_symmetry") or -1), r["id"]))
    trs = []
    for k, r in enumerate(ranked, start=1):
        metric = r.get("metric")
        i = r.get("internal") or {}
        ci = i.get("ci95")
        acc = (r.get("accuracy") or {}).get("top1")
        hollow = "" if r.get("representative") else " hollow"
        col = _color(colors, r)
        unev = "—" if r.get("strided_layers") is None else (
            f"{'?' if r.get('uneven_strided') is None else r['uneven_strided']} / {r['strided_layers']}")
        status = "ok" if r.get("status") == "ok" else f"{r.get('status')}: {r.get('error_stage')}"
        trs.append(
            f'<tr><td class="num">{k}</td><td><a href="#{slugs[r["id"]]}">{_e(names[r["id"]])}</a></td>'
            f'<td><span class="chip{hollow}" style="background:{col};border-color:{col}"></span>'
            f'{_e(r.get("family") or "—")}</td><td>{_e(r.get("encoding") or "—")}</td>'
            f'<td class="num">{_num((r.get("first_layer") or {}).get("symmetry"))}</td>'
            f'<td class="num">{_num(i.get("median_symmetry"))}'
            + (f' <span class="muted">[{_num(ci[0], 2)}, {_num(ci[1], 2)}]</span>' if ci else "") + '</td>'
            f'<td class="num">{_e(_part_text(r.get("shift"), metric))}</td>'
            f'<td class="num">{_e(_part_text(r.get("flip"), metric))}</td>'
            f'<td class="num">{_e(metric_value(r.get("chance"), metric))}</td>'
            f'<td class="num">{_e("—" if acc is None else f"{100 * acc:.1f} %")}</td><td class="num">{_e(unev)}</td>'
            f'<td>{_e(r.get("provider") or "—")}</td><td class="num">{_num((r.get("timing") or {}).get("seconds"), 1)}</td>'
            f'<td class="{"" if r.get("status") == "ok" else "err"}">{_e(status)}</td></tr>')
    return ('<section id="ranking"><h2>Ranking</h2><p class="lead">Models by internal median S, highest first '
            '(chips: family colour; hollow: not the representative). Names link to each model\'s details.</p>'
            '<div class="scroll"><table class="data"><tr><th class="num">#</th><th>model</th><th>family</th>'
            '<th>weights</th><th class="num">S first</th><th class="num">S internal [95 % CI]</th>'
            '<th class="num">shift</th><th class="num">flip</th><th class="num">unrelated</th><th class="num">top-1</th>'
            '<th class="num">uneven</th><th>provider</th><th class="num">s</th><th>status</th></tr>'
            + "".join(trs) + '</table></div></section>')


def _details_section(rows, names, slugs) -> str:
    out = ['<section id="models"><h2>Models</h2>']
    for r in sorted(rows, key=lambda r: r["id"]):
        kv = [("path", r.get("path")), ("status", r.get("status")), ("error", r.get("error")),
              ("family", r.get("family")), ("representative", "yes" if r.get("representative") else "no"),
              ("producer", r.get("producer")), ("weights", r.get("encoding")), ("sha256", r.get("sha256")),
              ("size", f"{_num(r.get('size_bytes'))} bytes + {_num(r.get('external_bytes'))} external"),
              ("conv nodes", f"{_num(r.get('conv_nodes'))} ({_num(r.get('analysed'))} analysed)"),
              ("input size", "×".join(map(str, r.get("input_size") or [])) + f" ({r.get('input_size_source')})"
               if r.get("input_size") else None),
              ("metric", METRIC_WORDS.get(r.get("metric"), r.get("metric"))), ("output", r.get("output_kind")),
              ("images", r.get("images")), ("provider", r.get("provider"))]
        by = (r.get("by_kernel") or {})
        if by:
            kv.append(("S per kernel size", "; ".join(f"{k}: {_num(v.get('median_symmetry'))} over {v.get('n')} "
                                                       f"(random {_num(v.get('random_init_mean'))})"
                                                       for k, v in by.items())))
        acc = r.get("accuracy")
        if acc:
            kv.append(("top-1 accuracy", f"{100 * acc['top1']:.1f} % ({acc['correct']} of {acc['labelled']})"))
        rows_html = "".join(f'<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>' for k, v in kv if v not in (None, ""))
        notes = "".join(f"<li>{_e(n)}</li>" for n in r.get("notes") or [])
        out.append(f'<details class="model" id="{slugs[r["id"]]}"{" open" if len(rows) <= 30 else ""}><summary>{_e(names[r["id"]])}'
                   f'{"" if r.get("status") == "ok" else " — " + _e(r.get("status"))}</summary>'
                   f'<div class="scroll"><table class="kv">{rows_html}</table></div>'
                   + (f'<ul class="warn">{notes}</ul>' if notes else "") + '</details>')
    out.append('</section>')
    return "".join(out)


_FOOTER = """<footer><h2>What the numbers mean</h2><dl>
<dt>Internal median S</dt><dd>The median over a model's analysed conv layers, all but the first, of the
symmetry of the mean kernel (1 − the mean distance of the normalised kernel to its flips and rotations),
with a distribution-free 95 % interval (docs/metric.md).</dd>
<dt>Families</dt><dd>Models whose normalised mean kernels, layer by layer, agree within 0.05: exports
and re-encodings (fp16, int8, external data) of the same weights. Statistics use one representative
each (its widest encoding), so re-encodings are not counted as independent models.</dd>
<dt>Correlations</dt><dd>Spearman's ρ and Kendall's τ across the representatives of one metric kind,
bootstrap 95 % intervals and permutation p-values; the partial ρ controls for top-1 accuracy. Under 5
families of a kind the study computes none.</dd>
<dt>Consistency</dt><dd>Shift: top-1 agreement of two crops at random offsets; flip: of the centre crop
and its mirror; “unrelated” is the same metric between different images.</dd></dl>
<p class="muted">Generated by onnxsym. Self-contained: no script, no network.</p></footer>"""


def render_study_html(doc: dict) -> str:
    """Render an ``onnxsym.study/1`` dict as one self-contained HTML page (a string)."""
    doc = doc if isinstance(doc, dict) else {}
    rows = [r for r in doc.get("rows") or [] if isinstance(r, dict)]
    names = short_names([r["id"] for r in rows])
    colors, slugs = _colors(doc), _slugs(rows)
    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             '<meta name="viewport" content="width=device-width, initial-scale=1">',
             f"<title>onnxsym study — {len(rows)} models</title><style>{_CSS}{_STUDY_CSS}</style></head><body><main>",
             _header(doc), _consistency_section(doc, rows, names, colors, slugs),
             _depth_section(rows, names, colors, slugs), _findings_section(doc),
             _ranking_section(rows, names, colors, slugs), _details_section(rows, names, slugs), _FOOTER,
             "</main></body></html>\n"]
    return "\n".join(parts)
