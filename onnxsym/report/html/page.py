"""The page: header, summary cards, the panels in order, the deltas and gates, the footer."""
from __future__ import annotations

import os

from .common import (BADGES, _at_chance, _badge, _card, _chance_of, _ci_text, _dims, _e, _flat, _is_share, _isnum,
                     _metric, _num, _pct, _verdict_class)
from .consistency import _consistency_panel
from .depth import _depth_chart
from .kernels import _kernel_grid, _pad_by_id
from .padding import _padding_panel
from .style import _CSS


# ---------------------------------------------------------------------------------- sections
def _model_name(audit, weights) -> str:
    prov = audit.get("provenance") if isinstance(audit.get("provenance"), dict) else {}
    model = prov.get("model") or prov.get("model_path") or prov.get("path")
    if isinstance(model, dict):
        model = model.get("path") or model.get("name")
    if not model and isinstance(weights.get("model"), dict):
        model = weights["model"].get("path")
    return os.path.basename(str(model).rstrip("/\\")) if model else "model"


def _command(v) -> str:
    """The command line as a shell would take it back."""
    import shlex

    return " ".join(shlex.quote(str(a)) for a in v) if isinstance(v, list) else _flat(v)


def _header(audit, weights) -> str:
    """The ``summary`` header: name, verdict badge, summary line, the cards, the provenance."""
    prov = audit.get("provenance") if isinstance(audit.get("provenance"), dict) else {}
    name = _model_name(audit, weights)
    verdict = audit.get("verdict")
    badge = _badge(_verdict_class(verdict), verdict or "NO VERDICT")
    gates = _gate_list(audit)
    failed = [str(g.get("name")) for g in gates if g.get("passed") is False]
    if failed:
        badge += f'<span class="failed">failed: {_e(", ".join(failed))}</span>'
    elif str(verdict).upper() == "INFO":
        badge += '<span class="muted">no gates set: nothing was checked</span>'
    line = audit.get("summary_line")
    out = ['<header id="summary">', f'<div class="title"><h1>{_e(name)}</h1>{badge}</div>',
           '<div class="sub">onnxsym audit — symmetry of mean kernels, uneven padding, '
           'shift/flip consistency</div>']
    if line:
        out.append(f'<pre class="summary-line">{_e(line)}</pre>')
    out.append(_cards(audit, weights, gates))
    if prov:
        rows = "".join(f'<tr><th>{_e(k)}</th><td>{_e(_command(v) if k == "command" else _flat(v))}</td></tr>'
                       for k, v in prov.items())
        out.append(f'<details class="prov" open><summary>Provenance</summary>'
                   f'<div class="scroll"><table class="kv">{rows}</table></div></details>')
    out.append('</header>')
    return "".join(out)


# The summary card each gate speaks about (drop gates included); the key names a card of _cards.
_GATE_CARD = {"min_symmetry": "internal", "max_symmetry_drop": "internal", "max_asymmetric_layers": "internal",
              "min_shift_consistency": "shift", "max_shift_consistency_drop": "shift",
              "min_flip_consistency": "flip", "max_flip_consistency_drop": "flip",
              "fail_on_uneven_padding": "padding"}


def _gate_list(audit) -> list:
    gates = audit.get("gates")
    return [g for g in gates if isinstance(g, dict)] if isinstance(gates, list) else []


def _gate_key(g) -> str:
    return str(g.get("name")).replace("-", "_")


def _gate_marks(gates, card):
    """(extra class, margin lines) of the card ``card`` from the gates about it: ``gate-failed``
    when one failed, ``gate-passed`` when all passed; each gate's message says by how much."""
    mine = [g for g in gates if _GATE_CARD.get(_gate_key(g)) == card and isinstance(g.get("passed"), bool)]
    if not mine:
        return "", ""
    lines = "".join(f'<div class="gmargin {"pass" if g["passed"] else "fail"}">'
                    f'{"✓" if g["passed"] else "✗"} {_e(g.get("name"))}: {_e(g.get("message") or g.get("short") or "")}'
                    f'</div>' for g in mine)
    return ("gate-failed" if any(g["passed"] is False for g in mine) else "gate-passed"), lines


def _gcard(gates, card, label, value, sub="", cls="") -> str:
    gcls, lines = _gate_marks(gates, card)
    attrs = f' data-card="{card}"'
    return _card(label, value, sub, " ".join(c for c in (cls, gcls) if c), lines, attrs)


def _cards(audit, weights, gates) -> str:
    """The key numbers; a card a gate speaks about carries that gate's verdict and margin."""
    s = weights.get("summary") if isinstance(weights.get("summary"), dict) else {}
    cards = []
    internal = s.get("internal") or {}
    base = s.get("baseline") or {}
    if internal.get("n"):
        ci = internal.get("ci95")
        ci_t = f"95% CI [{_num(ci[0], 2)}, {_num(ci[1], 2)}] · " if isinstance(ci, list) and len(ci) == 2 else ""
        cards.append(_gcard(gates, "internal", "internal median S", _num(internal.get("median_symmetry")),
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
    cards += _padding_card(audit.get("padding"), gates)
    cards += _consistency_cards(audit.get("consistency"), gates)
    return f'<div class="cards">{"".join(cards)}</div>' if cards else ""


def _padding_card(padding, gates) -> list:
    psum = padding.get("summary") if isinstance(padding, dict) else None
    if not (isinstance(psum, dict) and _isnum(psum.get("strided_convs"))):
        return []
    u, t = psum.get("strided_convs_uneven"), psum.get("strided_convs")
    dirs = psum.get("conv_directions") or {}
    sub = ", ".join(f"{v} {k}" for k, v in dirs.items()) if u else "all pad evenly"
    if _isnum(psum.get("lean_toward_padding")) and psum.get("skew_checked"):
        sub += f" · {psum['lean_toward_padding']} lean to the pad"
    return [_gcard(gates, "padding", "uneven strided convs", f"{_num(u)} / {_num(t)}", sub, "warn" if u else "")]


def _consistency_cards(c, gates) -> list:
    if not isinstance(c, dict) or c.get("error"):
        return []
    pct = _is_share(c)
    chance = _chance_of(c)
    word = "cosine" if _metric(c) == "cosine_similarity" else "consistency"
    cards = []
    for key, label in (("shift", f"shift {word}"), ("flip", f"flip {word}")):
        r = c.get(key)
        if isinstance(r, dict):
            n = r.get("pairs") if key == "shift" else r.get("images")
            sub = f"{_ci_text(r.get('ci95'), pct)} · n={_num(n)}"
            if _isnum(chance):
                sub += f" · unrelated images {_pct(chance) if pct else _num(chance)}"
            warn = _at_chance(r, chance)
            cards.append(_gcard(gates, key, label, _pct(r.get("consistency")) if pct else _num(r.get("consistency")),
                                sub, "warn" if warn else ""))
    return cards


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
    return ('<section id="baseline"><h2>Against the baseline</h2><div class="scroll"><table class="data compact">'
            '<tr><th></th><th class="num">baseline</th><th class="num">now</th><th class="num">change</th></tr>'
            + "".join(trs) + '</table></div>' + matched + '</section>')


def _gate_card(g) -> str:
    """One gate as a card: its pass/fail badge, value and threshold, and the message (the margin)."""
    ok = g.get("passed")
    kind = "pass" if ok is True else ("fail" if ok is False else "unknown")
    cls = {"pass": "gate-passed", "fail": "gate-failed"}.get(kind, "")
    extra = ""
    if g.get("test"):
        extra = f' · {_e(g["test"])}' + (f', p = {_e(_flat(g.get("p_value")))}' if g.get("p_value") is not None else "")
    return (f'<div class="card gate {cls}" data-gate="{_e(g.get("name"))}"><div class="gname">'
            f'{_badge("badge gate " + kind, {"unknown": "—"}.get(kind, kind))} '
            f'<span class="mono">{_e(g.get("name"))}</span></div>'
            f'<div class="gvals">value <b>{_e(_flat(g.get("value")))}</b> · threshold '
            f'<b>{_e(_flat(g.get("threshold")))}</b>{extra}</div>'
            f'<div class="gmargin {kind}">{_e(g.get("message") or g.get("short") or "")}</div></div>')


def _gates_panel(gates) -> str:
    """The ``gates`` section: one card per gate, failed ones outlined."""
    head = '<section id="gates"><h2>Gates</h2>'
    if not gates:
        return head + '<p class="empty">No gates were set; the verdict is informational.</p></section>'
    return head + f'<div class="gatecards">{"".join(_gate_card(g) for g in gates)}</div></section>'


def _legend_panel() -> str:
    """The ``legend`` section: every badge of ``common.BADGES`` with what it means."""
    groups = []
    for title, rows in BADGES:
        items = "".join(f'<dt>{_badge(cls, text)}</dt><dd>{_e(meaning)}</dd>' for cls, text, meaning in rows)
        groups.append(f'<div class="lgroup"><h3>{_e(title)}</h3><dl>{items}</dl></div>')
    return ('<section id="legend"><h2>Legend</h2><p class="muted">Every badge this report can show. '
            'Cards outlined in red: a gate about that number failed.</p>'
            f'<div class="lgrid">{"".join(groups)}</div></section>')


_FOOTER = """<footer id="notes"><h2>What the numbers mean</h2><dl>
<dt>Mean kernel K</dt><dd>The signed average of all 2-D kernels of a conv layer (over output and
input channels). Individual kernels detect oriented edges; their average shows what the layer does
on the whole.</dd>
<dt>Symmetry S</dt><dd>1 − the mean distance between the normalised K and its rotations and flips
(dihedral group D4 for square kernels; flips and 180° rotation for non-square ones; reversal for
1-D; axis flips for 3-D). S = 1: perfectly symmetric. Random Gaussian kernels score about
0.41 (3×3), 0.35 (5×5), 0.33 (7×7); trained networks usually score far higher in their internal
layers (arXiv 2503.19215). 1×1 kernels have no S.</dd>
<dt>Skew (↓, →)</dt><dd>The normalised first moment of K about its centre: where the weight sits,
given down then right (the order of the command line and of the JSON <code>skew</code>); the arrow
draws it. A consistent lean toward the top-left at stride-2 layers is the mark of uneven padding.</dd>
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


# ---------------------------------------------------------------------------------- entry point
def render_html(audit: dict) -> str:
    """Render an ``onnxsym.audit/1`` dict as one self-contained HTML page.

    Parameters
    ----------
    audit : dict
        The audit document (``AuditReport.to_dict()``); every key is optional, anything else is
        rendered as an empty page.

    Returns
    -------
    str
        The page: inline CSS and SVG, no script, nothing fetched; every text from the model escaped.
    """
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
    parts.append(_gates_panel(_gate_list(audit)))
    parts.append(_legend_panel())
    parts.append(_FOOTER)
    parts.append("</main></body></html>\n")
    return "\n".join(parts)
