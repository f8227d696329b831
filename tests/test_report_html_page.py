"""onnxsym.report.html, the page as a whole: readable down to 420 px, hover text on every point of
the depth chart, labels that never collide, a legend for every badge, the INFO verdict and failed
gates, skew shown (down, right), thumbnails with the two compared views; and, where Debian's
chromium exists, the page laid out at 420 and 1400 px."""
from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from onnxsym.report.html import render_html
from onnxsym.report.html.common import BADGES
from onnxsym.report.html.style import _CSS
from onnxsym.report.labels import layer_label

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ["models/mobilenet_v2.onnx", "models/keras_digits.onnx",
           "models/ppocr/ch_ppocr_mobile_v2.0_cls_infer.onnx", "models/ppocr/ch_PP-OCRv4_det_infer.onnx",
           "models/ppocr/ch_PP-OCRv4_rec_infer.onnx"]
URI = "data:image/jpeg;base64,/9j/AAAA"
K3 = [[-2.0, 0.0, 1.0], [0.5, 2.0, -1.0], [0.0, 0.0, 0.0]]


# ---------------------------------------------------------------------------------- a DOM, roughly
class _Node:
    def __init__(self, tag, attrs, parent):
        self.tag, self.attrs, self.parent = tag, dict(attrs), parent
        self.children: list = []
        self.text: list[str] = []

    @property
    def classes(self) -> list[str]:
        return (self.attrs.get("class") or "").split()

    def ancestors(self):
        n = self.parent
        while n is not None:
            yield n
            n = n.parent

    def iter(self):
        yield self
        for c in self.children:
            yield from c.iter()

    def all_text(self) -> str:
        return "".join(self.text) + "".join(c.all_text() for c in self.children)


VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class _Tree(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = _Node("#root", {}, None)
        self.cur = self.root

    def handle_starttag(self, tag, attrs):
        node = _Node(tag, attrs, self.cur)
        self.cur.children.append(node)
        if tag not in VOID:
            self.cur = node

    def handle_startendtag(self, tag, attrs):
        self.cur.children.append(_Node(tag, attrs, self.cur))

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        n = self.cur
        while n is not None and n.tag != tag:
            n = n.parent
        assert n is not None, f"</{tag}> closes nothing"
        self.cur = n.parent

    def handle_data(self, data):
        self.cur.text.append(data)


def tree(page: str) -> _Node:
    t = _Tree()
    t.feed(page)
    t.close()
    assert t.cur is t.root, "unclosed elements"
    return t.root


def find(root, tag=None, cls=None, **attrs):
    return [n for n in root.iter() if (tag is None or n.tag == tag) and (cls is None or cls in n.classes)
            and all(n.attrs.get(k.replace("_", "-")) == v for k, v in attrs.items())]


# ---------------------------------------------------------------------------------- audits
def _layer(i, kernel=K3, *, status="ok", lid=None, strides=(1, 1), sym=None, skew=(0.1, -0.2), **extra):
    ks = [len(kernel), len(kernel[0])] if status == "ok" else [1, 1]
    L = {"id": lid or f"/features/features.{i}/conv/conv.1/Conv", "op_type": "Conv", "kernel_shape": ks,
         "strides": list(strides), "status": status, "reason": "" if status == "ok" else "1×1 kernel",
         "symmetry": (0.5 + 0.01 * i if sym is None else sym) if status == "ok" else None,
         "mean_kernel": kernel, "skew": list(skew) if status == "ok" else None,
         "baseline": {"mean": 0.41, "sd": 0.1} if status == "ok" else {},
         "z_vs_baseline": 0.9 if status == "ok" else None, "depthwise": i % 2 == 1}
    L.update(extra)
    return L


def _weights(layers, median=0.7):
    return {"schema": "onnxsym.weights/1", "model": {"path": "/x/model.onnx"},
            "summary": {"conv_nodes": len(layers), "analysed": sum(L["status"] == "ok" for L in layers),
                        "one_by_one": sum(L["status"] == "n/a" for L in layers),
                        "internal": {"n": 3, "median_symmetry": median, "ci95": [0.5, 0.8]},
                        "baseline": {"median_mean": 0.41, "median_sd": 0.1},
                        "first_layer": {"symmetry": 0.5, "kernel_shape": [3, 3],
                                        "baseline": {"mean": 0.41, "sd": 0.1}}},
            "layers": layers}


def _pad_row(L, *, uneven=True, direction="top-left", lean="away", status="ok"):
    return {"id": L["id"], "op_type": "Conv", "status": status, "reason": "" if status == "ok" else "size unknown",
            "strides": L["strides"], "kernel": L["kernel_shape"], "input_size": [224, 224], "strided": True,
            "sides": {"top": 1, "bottom": 0 if uneven else 1, "left": 1, "right": 0 if uneven else 1},
            "uneven": uneven, "direction": direction if uneven else "", "skew": L["skew"], "lean": lean}


def _views(a, b):
    return [{"caption": a, "data_uri": URI}, {"caption": b, "data_uri": URI}]


def full_audit(**over) -> dict:
    """Every panel and as many kinds of badge as one audit can hold."""
    layers = [_layer(0, strides=(2, 2), skew=(0.3, -0.1)), _layer(1, [[0.1]], status="n/a"),
              _layer(2, strides=(2, 2), transposed=True), _layer(3), _layer(4, strides=(2, 2)),
              _layer(5, status="unresolved", lid="/weird/Conv"), _layer(6, strides=(2, 2)),
              _layer(7, status="n/a", kernel_shape=[0, 3])]
    pads = [_pad_row(layers[0]), _pad_row(layers[2], lean="toward", direction="bottom-right"),
            _pad_row(layers[4], uneven=False, lean=None), _pad_row(layers[6], status="unknown")]
    pads[3]["uneven"] = None
    audit = {
        "schema": "onnxsym.audit/1", "verdict": "FAILED",
        "summary_line": "FAILED | symmetry 0.70 (random init 0.41: above it) | shift 84.1 % [70.0, 92.0]",
        "provenance": {"model": "/x/model.onnx", "sha256": "ab" * 32, "command": ["onnxsym", "audit"] + ["x"] * 30},
        "gates": [{"name": "min_symmetry", "passed": False, "value": 0.7, "threshold": 0.9,
                   "message": "median internal S 0.700 < 0.900 (short by 0.200)", "short": "min_symmetry 0.700 < 0.900"},
                  {"name": "min_shift_consistency", "passed": True, "value": 0.841, "threshold": 0.5,
                   "message": "shift consistency 84.1 % >= 50.0 %"},
                  {"name": "max_flip_consistency_drop", "passed": None, "value": None, "threshold": 0.05,
                   "message": "needs flip consistency"}],
        "weights": _weights(layers),
        "padding": {"schema": "onnxsym.padding/1", "summary_line": "2 of 4 strided convs pad unevenly",
                    "summary": {"strided_convs": 4, "strided_convs_uneven": 2, "conv_directions": {"top-left": 2}},
                    "input": {"name": "input", "shape": [1, 3, 224, 224], "layout": "NCHW"}, "layers": pads,
                    "suggestions": {"note": "225×225 pads evenly", "input_shapes": ["1x3x225x225"]}},
        "consistency": {"schema": "onnxsym.consistency/1", "provider": "cpu", "images": 10, "seed": 0,
                        "metric": "top1_agreement", "max_shift": [32, 32], "base_size": [256, 256],
                        "shift": {"consistency": 0.841, "pairs": 50, "images": 10, "ci95": [0.7, 0.92]},
                        "flip": {"consistency": 0.91, "images": 10, "ci95": [0.6, 0.98]},
                        "chance": {"value": 0.022, "pairs": 45, "images": 10},
                        "per_image": [{"name": "a_long_image_file_name_for_the_table.jpg", "shift_agree": 4,
                                       "shift_pairs": 5, "flip": 0.0, "top1": 3}]},
        "thumbnails": [
            {"name": "a.jpg", "why": "shift", "detail": "shift: 4/5 pairs agree", "data_uri": URI,
             "views": _views("crop at (5, 26): gas pump (571)", "crop at (20, 29): bobsleigh (450)")},
            {"name": "a.jpg", "why": "flip", "detail": "flip: top-1 changed", "data_uri": URI,
             "views": _views("centre crop: bobsleigh (450)", "mirrored: T-shirt (610)")},
            {"name": "b.jpg", "why": "lowest", "rank": 1, "detail": "shift cosine 0.913", "data_uri": URI,
             "views": _views("crop at (1, 2)", "crop at (3, 4)")},
            {"name": "old.jpg", "why": "flip", "detail": "flip: top-1 changed", "data_uri": URI},
            {"name": "odd.jpg", "why": "changed", "detail": "", "data_uri": URI}],
        "deltas": {"summary": {"median_symmetry": [0.8, 0.7, -0.1], "matched_layers": 5, "layers_a": 7,
                               "layers_b": 7}},
    }
    audit.update(over)
    return audit


@pytest.fixture(scope="module")
def shipped():
    """``audit --no-run`` of every shipped model (weights and padding: no images, fast)."""
    from onnxsym import audit

    return {m: audit(str(ROOT / m), run=False).to_dict() for m in SHIPPED}


def many_layers(n=240, every=3) -> dict:
    """A synthetic deep network: a strided layer every ``every`` layers, S hugging the median, labels
    of two lengths: the worst case for the label placement."""
    layers, pads = [], []
    for i in range(n):
        stride = (2, 2) if i % every == 0 else (1, 1)
        L = _layer(i, strides=stride, sym=0.68 + 0.04 * ((i * 7) % 5 - 2) / 2)
        layers.append(L)
        if i % every == 0:
            pads.append(_pad_row(L, uneven=i % 2 == 0, direction="bottom-right" if i % 4 else "top-left"))
    return full_audit(weights=_weights(layers, median=0.68), padding={"layers": pads}, thumbnails=[])


# ---------------------------------------------------------------------------------- 1. narrow screens
def test_tables_scroll_inside_their_panel_and_charts_scale():
    page = render_html(full_audit())
    root = tree(page)
    tables = find(root, "table")
    assert len(tables) >= 6
    for t in tables:
        assert any("scroll" in a.classes for a in t.ancestors()), t.attrs
    charts = [s for s in find(root, "svg") if {"chart", "bars"} & set(s.classes)]
    assert len(charts) == 2
    for svg in charts:
        assert svg.attrs.get("width") == "100%" and re.fullmatch(r"0 0 \d+ \d+", svg.attrs.get("viewbox", ""))
        assert any({"scroll", "chartbox"} <= set(a.classes) for a in svg.ancestors())
    css = re.sub(r"\s+", "", _CSS)
    assert ".scroll{overflow-x:auto" in css
    narrow = re.search(r"@media\(max-width:(\d+)px\)\{(.*?)\}@media", css)
    assert narrow and 420 < int(narrow.group(1)) <= 800
    assert "footerdl{grid-template-columns:1fr" in narrow.group(2)      # the glossary stacks
    assert "table.kv" in narrow.group(2) and ".lgrid{grid-template-columns:1fr" in narrow.group(2)


# ---------------------------------------------------------------------------------- 2. hover text
def _depth_svg(root):
    (svg,) = [s for s in find(root, "svg") if "depth" in s.classes]
    return svg


def _check_points(audit):
    svg = _depth_svg(tree(render_html(audit)))
    layers = audit["weights"]["layers"]
    ok = [i for i, L in enumerate(layers) if L["status"] == "ok" and L.get("symmetry") is not None]
    points = [n for n in svg.iter() if "pt" in n.classes]
    assert sorted(int(p.attrs["data-layer"]) for p in points) == ok
    for p in points:
        L = layers[int(p.attrs["data-layer"])]
        (title,) = [c for c in p.children if c.tag == "title"]
        tip = title.all_text()
        stride = L["strides"][0] if len(set(L["strides"])) == 1 else "×".join(map(str, L["strides"]))
        assert layer_label(L["id"], L["op_type"]) in tip
        assert f"S {L['symmetry']:.3f}" in tip and f"kernel {'×'.join(map(str, L['kernel_shape']))}" in tip
        assert f"stride {stride}" in tip
    return points


def test_every_depth_point_has_hover_text():
    pts = _check_points(full_audit())
    assert {p.tag for p in pts} == {"circle", "polygon"}
    evil = '<script>alert(1)</script>/features/x.1/Conv'
    audit = full_audit(weights=_weights([_layer(0, lid=evil, strides=(2, 2))]))
    page = render_html(audit)
    assert "<script>" not in page
    _check_points(audit)


def test_every_depth_point_has_hover_text_on_the_shipped_models(shipped):
    for doc in shipped.values():
        _check_points(doc)


# ---------------------------------------------------------------------------------- 3. labels
def _font_size(node):
    m = re.search(r"font-size:\s*([\d.]+)px", node.attrs.get("style", ""))
    assert m, f"text without an inline font size: {node.all_text()!r}"
    return float(m.group(1))


def _boxes(svg):
    """(text, box) of every <text> of ``svg``: width 0.6 × font size × characters."""
    out = []
    for t in (n for n in svg.iter() if n.tag == "text"):
        text, size = t.all_text(), _font_size(t)
        w, anchor = 0.6 * size * len(text), t.attrs.get("text-anchor", "start")
        m = re.fullmatch(r"translate\(([\d.]+) ([\d.]+)\) rotate\(-90\)", t.attrs.get("transform", ""))
        if m:   # the y-axis title: rotated, centred on its anchor
            x, y = float(m.group(1)), float(m.group(2))
            out.append((text, (x - 0.8 * size, y - w / 2, x + 0.2 * size, y + w / 2)))
            continue
        x, y = float(t.attrs["x"]), float(t.attrs["y"])
        x0 = x - w / 2 if anchor == "middle" else (x - w if anchor == "end" else x)
        out.append((text, (x0, y - 0.8 * size, x0 + w, y + 0.2 * size)))
    return out


def _assert_no_overlap(audit):
    root = tree(render_html(audit))
    svg = _depth_svg(root)
    boxes = _boxes(svg)
    for j, (ta, a) in enumerate(boxes):
        for tb, b in boxes[j + 1:]:
            assert not (a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]), (ta, a, tb, b)
    # nothing is lost: each strided point is labelled in the chart or listed under it
    strided = [n for n in svg.iter() if "pt" in n.classes and "strided" in n.classes]
    labelled = [n for n in svg.iter() if n.tag == "text" and "plabel" in n.classes]
    note = find(root, "p", "labels-left-out")
    listed = len(re.findall(r"#\d+", note[0].all_text())) if note else 0
    assert len(labelled) + listed == len(strided)
    return boxes, len(labelled), listed


def test_labels_never_collide_on_the_shipped_models(shipped):
    for model, doc in shipped.items():
        boxes, labelled, _ = _assert_no_overlap(doc)
        assert any(t.startswith("median internal S ") for t, _ in boxes), model
        assert labelled >= 1, model


def test_labels_never_collide_with_many_layers():
    boxes, labelled, listed = _assert_no_overlap(many_layers())
    assert labelled >= 10 and listed >= 1            # crowded: some placed, the rest listed below
    assert any(t.startswith("median internal S ") for t, _ in boxes)
    for median in (0.02, 0.5, 0.98):                 # the median label at the bottom, middle, top
        audit = many_layers(60, 2)
        audit["weights"]["summary"]["internal"]["median_symmetry"] = median
        _assert_no_overlap(audit)


# ---------------------------------------------------------------------------------- 4. legend
def _badge_kinds(root):
    """Class strings of the badges (``badge …``) and verdict marks (``verdict …``) under ``root``."""
    return {" ".join(n.classes) for n in root.iter() if {"badge", "verdict"} & set(n.classes)}


def _legend_and_rest(page):
    root = tree(page)
    (legend,) = find(root, "section", id="legend")
    legend.parent.children.remove(legend)
    return _badge_kinds(legend), _badge_kinds(root)


def test_legend_explains_every_badge(shipped):
    audits = [full_audit(), full_audit(verdict="PASSED", gates=[]), full_audit(verdict="INFO", gates=[]),
              full_audit(verdict="ERROR", consistency={"error": "no images"}), full_audit(verdict=None),
              many_layers(30)] + list(shipped.values())
    seen = set()
    for a in audits:
        explained, used = _legend_and_rest(render_html(a))
        assert used <= explained, used - explained
        seen |= used
    table = {cls for _, rows in BADGES for cls, _, _ in rows}
    assert explained == table
    # the audits above show most kinds, so the check is not vacuous
    for kind in ("verdict fail", "verdict pass", "verdict info", "verdict error", "badge gate pass",
                 "badge gate fail", "badge why shift", "badge why flip", "badge why lowest", "badge s",
                 "badge tr", "badge pad uneven", "badge pad even", "badge lean toward", "badge lean away",
                 "badge status na", "badge status unresolved", "badge status unknown"):
        assert kind in seen, kind
    root = tree(render_html(full_audit()))
    (legend,) = find(root, "section", id="legend")
    for dt in find(legend, "dt"):
        dd = dt.parent.children[dt.parent.children.index(dt) + 1]
        assert dd.tag == "dd" and len(dd.all_text()) > 10


# ---------------------------------------------------------------------------------- 5. verdicts, gates
def test_info_verdict_has_a_neutral_badge():
    page = render_html(full_audit(verdict="INFO", gates=[], summary_line="INFO (no gates) | symmetry 0.70"))
    root = tree(page)
    (header,) = find(root, "header", id="summary")
    marks = [n for n in header.iter() if "verdict" in n.classes]
    assert [m.classes for m in marks] == [["verdict", "info"]] and marks[0].all_text() == "INFO"
    assert "no gates set" in header.all_text()
    css = re.sub(r"\s+", "", _CSS)
    info = re.search(r"\.verdict\.info\{([^}]*)\}", css).group(1)
    passed = re.search(r"\.verdict\.pass\{([^}]*)\}", css).group(1)
    assert "background" in info and info != passed and "--pass" not in info
    bg = re.search(r"background:#([0-9a-f]{6})", info).group(1)
    r, g, b = (int(bg[k:k + 2], 16) for k in (0, 2, 4))
    assert not (g > r + 20 and g > b + 20)                     # not green
    for kind in ("pass", "fail", "error", "info", "unknown"):   # no bare rule restyles a verdict badge
        assert not re.search(r"(^|[},])\." + kind + r"[{,]", css), kind
    assert not find(root, cls="gate-failed") and not find(root, cls="gate-passed")


def test_failed_gate_cards_are_highlighted_and_passing_ones_are_not():
    root = tree(render_html(full_audit()))
    (failed,) = find(root, "div", data_gate="min_symmetry")
    (passed,) = find(root, "div", data_gate="min_shift_consistency")
    (unknown,) = find(root, "div", data_gate="max_flip_consistency_drop")
    assert "gate-failed" in failed.classes and "(short by 0.200)" in failed.all_text()
    assert "gate-failed" not in passed.classes and "gate-passed" in passed.classes
    assert "gate-failed" not in unknown.classes
    (internal,) = find(root, "div", data_card="internal")
    (shift,) = find(root, "div", data_card="shift")
    assert "gate-failed" in internal.classes and "short by 0.200" in internal.all_text()
    assert "gate-failed" not in shift.classes and "min_shift_consistency" in shift.all_text()
    assert [n.attrs.get("data-card") for n in find(root, cls="gate-failed") if n.attrs.get("data-card")] == ["internal"]
    css = re.sub(r"\s+", "", _CSS)
    assert re.search(r"\.card\.gate-failed\{[^}]*border:2pxsolid", css)


# ---------------------------------------------------------------------------------- 6. skew (down, right)
def test_skew_is_shown_down_then_right():
    page = render_html(full_audit())          # layer 0: skew [down 0.3, right -0.1]
    assert "skew x" not in page and "skew (x" not in page and ", y " not in page
    root = tree(page)
    (table,) = find(root, "table", "padding")
    assert "skew (↓, →)" in table.all_text()
    row = [tr for tr in find(table, "tr") if "features.0" in tr.all_text()][0]
    assert "+0.30, -0.10" in row.all_text() and "bottom-left" in row.all_text()
    arrows = [s for s in find(root, "svg", "skew") if "+0.30, -0.10" in s.all_text()]
    assert arrows and all("skew (↓, →) +0.30, -0.10" in a.all_text() for a in arrows)
    line = [n for n in arrows[0].iter() if n.tag == "line"][0]
    c = float(line.attrs["x1"])
    assert float(line.attrs["x2"]) < c < float(line.attrs["y2"])   # drawn toward down-left


# ---------------------------------------------------------------------------------- 7. thumbnails
def test_thumbnails_show_the_two_compared_views_per_reason():
    audit = full_audit()
    audit["thumbnails"][0]["views"][1]["caption"] = '<img src=x onerror=alert(1)> bobsleigh (450)'
    audit["thumbnails"][1]["views"][0]["data_uri"] = 'javascript:alert(1)"'
    page = render_html(audit)
    assert "javascript:" not in page and "<img src=x" not in page
    root = tree(page)
    figs = {f.children[0].all_text(): f for f in find(root, "figure", "thumb")}
    assert list(figs) == ["a.jpg", "b.jpg", "old.jpg", "odd.jpg"]
    reasons = find(figs["a.jpg"], "div", "reason")
    assert [find(r, "span", "badge")[0].all_text() for r in reasons] == ["shift", "flip"]
    caps = [[v.all_text() for v in find(r, "div", "vcap")] for r in reasons]
    assert caps == [["crop at (5, 26): gas pump (571)", "<img src=x onerror=alert(1)> bobsleigh (450)"],
                    ["centre crop: bobsleigh (450)", "mirrored: T-shirt (610)"]]
    (views,) = find(reasons[0], "div", "views")
    assert [len(find(v, "img")) for v in find(views, "div", "view")] == [1, 1]   # side by side, 2 columns
    assert len(find(reasons[1], "img")) == 1 and find(reasons[1], "div", "noimg")  # the bad URI dropped
    assert "grid-template-columns:1fr1fr" in re.sub(r"\s+", "", re.search(r"\.views\{[^}]*\}", _CSS).group(0))
    assert find(figs["b.jpg"], "div", "views") and not find(figs["old.jpg"], "div", "views")
    assert "wide" in figs["a.jpg"].classes and "wide" not in figs["old.jpg"].classes
    refs = re.findall(r"https?://[^\s\"'<>)]*", page)
    assert all(r.startswith("http://www.w3.org/2000/svg") for r in refs), refs


# ---------------------------------------------------------------------------------- 8. in a browser
CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None)

# Headless Chromium clamps --dump-dom windows to 500 px wide, so the page is laid out in an iframe
# of the exact width; a srcdoc iframe shares the outer page's origin, so the injected script can
# write what it measured into the outer DOM, the one --dump-dom prints.
_PROBE = """<script>window.addEventListener('load', function () {
  var ids = [].map.call(document.querySelectorAll('header[id], section[id], footer[id]'), function (e) { return e.id; });
  var out = parent.document.createElement('pre'); out.id = 'probe';
  out.textContent = JSON.stringify({scrollWidth: document.documentElement.scrollWidth,
                                    innerWidth: window.innerWidth, ids: ids});
  parent.document.body.appendChild(out);
});</script>"""


def _layout(page, width, tmp_path):
    probe = page.replace("</body>", _PROBE + "</body>")
    outer = tmp_path / f"probe_{width}.html"
    outer.write_text('<!DOCTYPE html><html><body style="margin:0;overflow:hidden"><iframe style="border:0;'
                     f'display:block;width:{width}px;height:2000px" srcdoc="{html.escape(probe, quote=True)}">'
                     '</iframe></body></html>', encoding="utf-8")
    r = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", f"--window-size={width},2000",
                        "--dump-dom", outer.as_uri()], capture_output=True, text=True, timeout=60)
    m = re.search(r'<pre id="probe">(.*?)</pre>', r.stdout, re.S)
    assert m, f"no measurement (rc {r.returncode}): {r.stderr[-800:]}"
    return json.loads(html.unescape(m.group(1)))


@pytest.mark.skipif(CHROMIUM is None, reason="needs a chromium binary (Debian: apt-get install chromium)")
def test_page_fits_420_and_1400_px_in_chromium(tmp_path):
    page = render_html(full_audit())
    expected = {"summary", "kernels", "depth", "padding", "consistency", "baseline", "gates", "legend", "notes"}
    for width in (420, 1400):
        got = _layout(page, width, tmp_path)
        assert got["innerWidth"] == width, got
        assert got["scrollWidth"] <= got["innerWidth"], f"{width} px: page {got['scrollWidth']} px wide"
        assert expected <= set(got["ids"]), expected - set(got["ids"])
