"""onnxsym.report.html: the HTML audit report — well-formed, self-contained, escaped, one heatmap per
analysed layer, and colours that are the mapping of the values. Fast: synthetic audit dicts, no
model, no browser (the screenshot test runs only where /usr/bin/chromium exists)."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from html.parser import HTMLParser

import pytest

from consistency_models import PER_IMAGE_COSINE as PER_COSINE, FakeImages
from onnxsym.auditing.thumbnails import thumbnails
from onnxsym.report.html import BLUE_END, RED_END, diverging_color, render_html


VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr"}


def _hex(rgb):
    return "#{:02x}{:02x}{:02x}".format(*rgb)


class _Checker(HTMLParser):
    """Collects tags, checks nesting, keeps each svg.kernel's rects."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.tags: list[tuple[str, dict]] = []
        self.kernels: list[dict] = []      # {"attrs":…, "rects": [attrs…]}
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append((tag, a))
        if tag == "svg" and "kernel" in (a.get("class") or "").split():
            self.kernels.append({"attrs": a, "rects": []})
        if tag == "rect" and self.kernels and "svg" in self.stack and self._in_kernel():
            self.kernels[-1]["rects"].append(a)
        if tag not in VOID:
            self.stack.append(tag)

    def _in_kernel(self):
        # the innermost open svg is the last kernel svg opened
        return self.stack and self.stack[-1] == "svg" and self.kernels and not self.kernels[-1].get("closed")

    def handle_startendtag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append((tag, a))
        if tag == "rect" and self.kernels and self._in_kernel():
            self.kernels[-1]["rects"].append(a)

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1] if self.stack else 'nothing'}")
            if tag in self.stack:
                while self.stack and self.stack.pop() != tag:
                    pass
            return
        self.stack.pop()
        if tag == "svg" and self.kernels and not self.kernels[-1].get("closed") and "svg" not in self.stack:
            self.kernels[-1]["closed"] = True

    def handle_data(self, data):
        self.text.append(data)


def parse(page: str) -> _Checker:
    p = _Checker()
    p.feed(page)
    p.close()
    assert not p.errors, p.errors[:5]
    assert p.stack == [], f"unclosed: {p.stack}"
    return p


# ---------------------------------------------------------------------------------- fixtures


def _layer(i, kernel, *, status="ok", lid=None, strides=(1, 1), ks=None, skew=(0.1, -0.2)):
    ks = ks or _shape(kernel)
    return {
        "id": lid or f"/features/features.{i}/conv/Conv", "op_type": "Conv", "kernel_shape": list(ks),
        "strides": list(strides), "pads": [1, 1, 1, 1], "group": 1, "depthwise": i % 2 == 1,
        "status": status, "reason": "" if status == "ok" else "1×1 kernel: S is not defined",
        "symmetry": 0.5 + 0.01 * i if status == "ok" else None, "terms": {}, "mean_kernel": kernel,
        "skew": list(skew) if status == "ok" else None, "baseline": {"mean": 0.41, "sd": 0.1} if status == "ok" else {},
        "per_kernel": {}, "z_vs_baseline": 0.9 if status == "ok" else None, "followed_by": "Relu",
    }


def _shape(k):
    out = []
    while isinstance(k, list):
        out.append(len(k))
        k = k[0]
    return out


K3 = [[-2.0, 0.0, 1.0], [0.5, 2.0, -1.0], [0.0, 0.0, 0.0]]


def _weights(layers):
    return {"schema": "onnxsym.weights/1", "model": {"path": "/x/model.onnx"},
            "summary": {"conv_nodes": len(layers), "analysed": sum(L["status"] == "ok" for L in layers),
                        "one_by_one": sum(L["status"] == "n/a" for L in layers),
                        "internal": {"n": 3, "median_symmetry": 0.7, "ci95": [0.5, 0.8]},
                        "baseline": {"median_mean": 0.41, "median_sd": 0.1},
                        "first_layer": {"symmetry": 0.5, "kernel_shape": [3, 3],
                                        "baseline": {"mean": 0.41, "sd": 0.1}}},
            "layers": layers}


def _audit(**over):
    layers = [
        _layer(0, K3, strides=(2, 2)),
        _layer(1, [[0.1]], status="n/a"),
        _layer(2, [[1.0, -1.0, 0.5, 0.2, 0.0, 0.3, -0.4]]),             # 1×7
        _layer(3, [0.3, -0.1, 0.2]),                                     # 1-D
        _layer(4, [[[1.0, 0.0], [0.0, 1.0]], [[0.5, -0.5], [0.2, 0.1]], [[0, 0], [0, 0]]]),  # 3-D
        _layer(5, [[0.0] * 5 for _ in range(5)]),
    ]
    audit = {
        "schema": "onnxsym.audit/1", "verdict": "FAILED",
        "summary_line": "FAILED | symmetry 0.79 (random init 0.38) | shift 84.1 % [70.0, 92.0] | flip 91.0 % [60.0, 98.0] | 1.0 s",
        "provenance": {"onnxsym_version": "0.1.0", "model": "/x/model.onnx", "sha256": "ab" * 32,
                       "size_bytes": 123, "opsets": {"ai.onnx": 17}, "timings": {"weights_s": 0.5}},
        "gates": [{"name": "min-symmetry", "passed": True, "value": 0.79, "threshold": 0.5, "message": "ok"},
                  {"name": "min-shift-consistency", "passed": False, "value": 0.841, "threshold": 0.9,
                   "message": "shift 84.1 % < 90 %"}],
        "weights": _weights(layers),
        "padding": {"schema": "onnxsym.padding/1", "summary_line": "1 of 1 stride-2 convs pad unevenly",
                    "summary": {"strided_convs": 1, "strided_convs_uneven": 1, "conv_directions": {"top-left": 1}},
                    "input": {"name": "input", "shape": [1, 3, 224, 224], "layout": "NCHW"},
                    "layers": [{"id": layers[0]["id"], "op_type": "Conv", "status": "ok", "strides": [2, 2],
                                "kernel": [3, 3], "input_size": [224, 224], "strided": True,
                                "sides": {"top": 1, "bottom": 0, "left": 1, "right": 0}, "uneven": True,
                                "direction": "top-left", "skew": [0.1, -0.2], "leans_toward_padding": False}],
                    "suggestions": {"note": "225×225 pads evenly", "input_shapes": ["1x3x225x225"]}},
        "consistency": {"schema": "onnxsym.consistency/1", "provider": "cpu",
                        "providers": ["CPUExecutionProvider"], "images": 10, "seed": 0,
                        "metric": "top1_agreement", "max_shift": [32, 32], "max_shift_from": "auto",
                        "base_size": [256, 256],
                        "shift": {"consistency": 0.841, "pairs": 50, "images": 10, "ci95": [0.7, 0.92]},
                        "flip": {"consistency": 0.91, "images": 10, "ci95": [0.6, 0.98]},
                        "chance": {"value": 0.022, "metric": "top1_agreement", "pairs": 45, "images": 10,
                                   "what": "share of pairs of different images whose top-1 agrees"},
                        "per_image": [{"name": "a.jpg", "shift_agree": 4, "shift_pairs": 5, "flip": 0.0, "top1": 3}],
                        "notes": ["only 10 images"]},
        "thumbnails": [{"name": "a.jpg", "data_uri": "data:image/jpeg;base64,/9j/AAAA", "why": "shift",
                        "detail": "1 of 5 pairs disagree"}],
    }
    audit.update(over)
    return audit


# ---------------------------------------------------------------------------------- tests


def test_wellformed_and_sections():
    page = render_html(_audit())
    p = parse(page)
    assert page.lstrip().startswith("<!DOCTYPE html>")
    text = " ".join(p.text)
    for needle in ("Mean kernels", "Symmetry against depth", "Padding at strided layers",
                   "Shift and flip consistency", "Gates", "What the numbers mean", "FAILED",
                   "1 1×1 layer not shown", "3-D: middle slice", "min-shift-consistency"):
        assert needle in text, needle
    assert not any(t == "script" for t, _ in p.tags)


def test_one_heatmap_per_analysed_layer():
    audit = _audit()
    p = parse(render_html(audit))
    layers = audit["weights"]["layers"]
    ok = [i for i, L in enumerate(layers) if L["status"] == "ok"]
    assert [int(k["attrs"]["data-layer"]) for k in p.kernels] == ok
    # cells: 3×3, 1×7, 1-D strip of 3, 3-D middle slice 2×2, 5×5
    assert [len(k["rects"]) - 1 for k in p.kernels] == [9, 7, 3, 4, 25]   # -1: the frame rect


def test_no_external_references():
    page = render_html(_audit())
    refs = re.findall(r"https?://[^\s\"'<>)]*", page)
    assert all(r.startswith("http://www.w3.org/2000/svg") for r in refs), refs
    assert "<script" not in page.lower()
    assert "@import" not in page and "url(http" not in page


def test_escapes_malicious_ids():
    evil = '<script>alert("x")</script>/a&b"'
    layers = [_layer(0, K3, lid=evil, strides=(2, 2))]
    audit = _audit(weights=_weights(layers))
    audit["padding"]["layers"][0]["id"] = evil
    audit["gates"][0]["name"] = "<b>gate</b>"
    audit["thumbnails"][0]["name"] = "<img src=x onerror=alert(1)>"
    audit["thumbnails"][0]["data_uri"] = 'javascript:alert(1)"'
    audit["consistency"]["notes"] = ["<iframe>"]
    page = render_html(audit)
    p = parse(page)
    assert "<script" not in page
    assert "&lt;script&gt;" in page
    assert "<iframe" not in page and "<b>gate</b>" not in page
    assert "javascript:" not in page
    assert not any(t in ("script", "iframe") for t, _ in p.tags)
    assert not any(t == "img" and a.get("src", "").startswith("x") for t, a in p.tags)


def test_missing_consistency():
    audit = _audit()
    del audit["consistency"]
    del audit["thumbnails"]
    page = render_html(audit)
    parse(page)
    assert "Not measured" in page


def test_error_consistency():
    page = render_html(_audit(consistency={"error": "onnxruntime could not create a session: <boom>"}))
    parse(page)
    assert "consistency measurement failed" in page
    assert "&lt;boom&gt;" in page


def test_minimal_and_missing_sections():
    parse(render_html({}))
    parse(render_html({"weights": _weights([]), "padding": None, "gates": []}))
    parse(render_html(_audit(padding={"error": "shape inference failed"})))


def test_heatmap_colour_is_the_mapping_of_the_value():
    assert diverging_color(0.0, 2.0) == "#ffffff"
    assert diverging_color(2.0, 2.0) == _hex(RED_END)
    assert diverging_color(-2.0, 2.0) == _hex(BLUE_END)
    assert diverging_color(5.0, 2.0) == _hex(RED_END)            # clipped
    assert diverging_color(float("nan"), 1.0) != "#ffffff"
    p = parse(render_html(_audit()))
    rects = p.kernels[0]["rects"][:9]                             # K3, limit max|K| = 2
    fills = {float(r["data-v"]): r["fill"] for r in rects}
    assert fills[0.0] == "#ffffff"
    assert fills[2.0] == _hex(RED_END)
    assert fills[-2.0] == _hex(BLUE_END)
    assert fills[1.0] == diverging_color(1.0, 2.0)
    # row-major layout: the first row of K3 is at y = 0, left to right
    row0 = sorted((float(r["x"]), float(r["data-v"])) for r in rects if float(r["y"]) == 0)
    assert [v for _, v in row0] == K3[0]


def test_scales_to_many_layers():
    layers = []
    for i in range(320):
        k = 3 if i % 3 else 1
        kern = [[((i + y * 3 + x) % 7 - 3) / 3 for x in range(k)] for y in range(k)]
        layers.append(_layer(i, kern, status="ok" if k > 1 else "n/a", strides=(2, 2) if i % 40 == 2 else (1, 1)))
    page = render_html(_audit(weights=_weights(layers)))
    p = parse(page)
    assert len(p.kernels) == sum(L["status"] == "ok" for L in layers)
    assert len(page.encode()) < 2_000_000


@pytest.mark.skipif(not (shutil.which("chromium") or os.path.exists("/usr/bin/chromium")),
                    reason="needs Debian's chromium")
def test_chromium_screenshot(tmp_path):
    exe = shutil.which("chromium") or "/usr/bin/chromium"
    html = tmp_path / "r.html"
    png = tmp_path / "r.png"
    html.write_text(render_html(_audit()), encoding="utf-8")
    r = subprocess.run([exe, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                        f"--screenshot={png}", "--window-size=1200,1600", f"file://{html}"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-800:]
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000


def test_error_verdict_and_baseline_deltas():
    audit = _audit(verdict="ERROR", consistency={"error": "no images", "exit_code": 2})
    audit["deltas"] = {"summary": {"median_symmetry": [0.8, 0.75, -0.05], "matched_layers": 5,
                                   "layers_a": 6, "layers_b": 6,
                                   "shift_consistency": [0.9, None, None], "flip_consistency": [None, None, None]},
                       "layers": []}
    page = render_html(audit)
    parse(page)
    assert 'class="verdict error"' in page
    assert "Against the baseline" in page and "-0.050" in page


# ---------------------------------------------------------------------------------- metric-aware panel


def _cosine_audit():
    cons = {"schema": "onnxsym.consistency/1", "provider": "cpu", "images": 6, "seed": 0,
            "metric": "cosine_similarity", "max_shift": [7, 46], "max_shift_from": "auto",
            "base_size": [55, 366], "upscaled_images": 6,
            "output": {"kind": "vector", "metric": "cosine_similarity", "comparison": "cosine similarity"},
            "shift": {"consistency": 0.963, "pairs": 30, "images": 6, "ci95": [0.946, 0.979],
                      "offsets": "per image, uniform in [0, 7) rows and [0, 46) columns"},
            "flip": {"consistency": 0.954, "images": 6, "ci95": [0.941, 0.966]},
            "chance": {"value": 0.955, "metric": "cosine_similarity", "pairs": 15, "images": 6,
                       "what": "mean cosine similarity between the outputs of different images"},
            "per_image": PER_COSINE,
            "warnings": ["the cosine consistency does not clear the cosine between unrelated images"]}
    return _audit(consistency=cons, thumbnails=thumbnails(FakeImages(), {"per_image": PER_COSINE, "metric": "cosine_similarity"}))


def test_cosine_panel_speaks_of_cosines_not_predictions():
    page = render_html(_cosine_audit())
    p = parse(page)
    text = " ".join(p.text)
    panel = text[text.index("Shift and flip consistency"):text.index("Gates")]
    assert "top-1 prediction survive" not in panel and "prediction changed" not in panel
    assert "top-1 changed" not in panel and "shift pairs agreeing" not in panel and "flip agrees" not in panel
    assert "mean cosine similarity of the outputs" in panel and "0–6 px apart vertically, 0–45 px" in panel
    assert "shift: mean cosine (pairs)" in panel and "flip: cosine" in panel
    assert "Images with the lowest cosine" in panel
    # thumbnails: the 4 lowest images (by the lower of shift and flip), lowest first, with values
    assert re.findall(r"#(\d) lowest", panel) == ["1", "2", "3", "4"]
    order = [m.group(1) for m in re.finditer(r"(p\d)\.jpg #\d lowest", panel)]
    assert order == ["p3", "p1", "p4", "p0"]
    assert "#1 lowest shift cosine 0.913 flip cosine 0.952" in panel
    # the chance level: a dashed line in the chart, next to the numbers, and the cards
    assert 'class="chance"' in page and "unrelated images 0.955" in panel
    assert "95% CI [0.946, 0.979]" in text and "unrelated images 0.955" in text[:text.index("Mean kernels")]
    assert "max shift" in panel and "7 px vertically, 46 px horizontally" in panel


def test_classifier_panel_and_thumbnails_per_reason():
    per = [{"name": "a.jpg", "shift_agree": 4, "shift_pairs": 5, "shift_mean": 0.8, "flip": 0.0, "top1": 3},
           {"name": "b.jpg", "shift_agree": 5, "shift_pairs": 5, "shift_mean": 1.0, "flip": 1.0, "top1": 7}]
    thumbs = thumbnails(FakeImages(), {"per_image": per})
    assert [(t["name"], t["why"]) for t in thumbs] == [("a.jpg", "shift"), ("a.jpg", "flip")]
    assert thumbs[1]["detail"] == "flip: top-1 changed" and thumbs[0]["data_uri"].startswith("data:image/jpeg")
    audit = _audit(thumbnails=thumbs)
    audit["consistency"]["per_image"] = per
    text = " ".join(parse(render_html(audit)).text)
    panel = text[text.index("Shift and flip consistency"):text.index("Gates")]
    assert "top-1 prediction survive" in panel and "Images whose prediction changed" in panel
    assert "shift pairs agreeing" in panel and "flip agrees" in panel and "0–31 px apart" in panel
    assert "unrelated images 2.2 %" in panel


def test_pixel_agreement_panel():
    audit = _cosine_audit()
    c = audit["consistency"]
    c["metric"] = c["output"]["metric"] = "pixel_top1_agreement"
    c["chance"]["value"] = 0.5
    text = " ".join(parse(render_html(audit)).text)
    panel = text[text.index("Shift and flip consistency"):text.index("Gates")]
    assert "per-pixel top-1" in panel and "mean pixel agreement (pairs)" in panel
    assert "96.3 %" in panel and "unrelated images 50.0 %" in panel and "prediction changed" not in panel


def test_intervals_are_brackets_and_mind_the_pad_is_cited_right():
    page = render_html(_audit())
    text = " ".join(parse(page).text)
    assert "Mind the Pad, arXiv 2010.02178" in text and "Mind the Pad; arXiv 2503.19215" not in text
    assert "95% CI [70.0, 92.0] %" in text and "95% CI [0.50, 0.80]" in text
    header = text[:text.index("Mean kernels")]
    assert "±2" not in header and "–" not in header.split("Provenance")[0].replace("—", "")
