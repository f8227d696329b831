"""Render the HTML audit report of models/mobilenet_v2.onnx and screenshot it with headless Chromium.

    python bench/screenshot_html.py [--model models/mobilenet_v2.onnx | --json audit.json]
                                    [--out /tmp/onnxsym_report.html] [--png /tmp/report.png]
                                    [--widths 1400,420] [--height 0]

Builds the audit dict with ``onnxsym.audit`` (CPU provider) or, with ``--standalone`` or
where that module is missing, here (weights; padding at 1x3x224x224 when onnxsym.padding exists;
consistency on the shipped sample photos when onnxsym.consistency exists; two example gates);
``--json`` reads one that ``onnxsym audit --json`` wrote instead. Renders it with
``onnxsym.report.html.render_html`` and, when /usr/bin/chromium (Debian ``chromium``) is there,
writes one full-page screenshot per width (``report_1400.png``, ``report_420.png``) and prints
the page's width against the viewport's. Look at the PNGs before calling a change done.
"""
from __future__ import annotations

import argparse
import base64
import hashlib
import html
import io
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from onnxsym.report.html import render_html  # noqa: E402
from onnxsym import analyze_weights  # noqa: E402


def thumbnail(path: Path, size: int = 160) -> str | None:
    """A small base64 JPEG data URI of an image file (centre square), or None."""
    try:
        from PIL import Image
    except ImportError:
        return None
    try:
        with Image.open(path) as im:
            im = im.convert("RGB")
            w, h = im.size
            s = min(w, h)
            im = im.crop(((w - s) // 2, (h - s) // 2, (w - s) // 2 + s, (h - s) // 2 + s))
            im = im.resize((size, size))
            buf = io.BytesIO()
            im.save(buf, "JPEG", quality=80)
    except OSError:
        return None
    return "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _thumbs(consistency: dict) -> list:
    """Old-style thumbnail entries (no compared views) of the shipped photos whose top-1 changed."""
    samples, thumbs = ROOT / "onnxsym" / "samples", []
    for p in (consistency.get("per_image") or []):
        why = []
        if p.get("shift_agree") is not None and p["shift_agree"] < p.get("shift_pairs", 0):
            why.append(("shift", f"{p['shift_pairs'] - p['shift_agree']} of {p['shift_pairs']} "
                                 "crop pairs disagree"))
        if p.get("flip") == 0:
            why.append(("flip", "top-1 changes when mirrored"))
        for w, detail in why:
            uri = thumbnail(samples / p["name"])
            if uri:
                thumbs.append({"name": p["name"], "data_uri": uri, "why": w, "detail": detail})
    return thumbs


def build_audit(model: str, input_shape: str = "1x3x224x224") -> dict:
    timings = {}
    t = time.perf_counter()
    weights = analyze_weights(model).to_dict()
    timings["weights_s"] = round(time.perf_counter() - t, 3)

    padding = None
    try:
        from onnxsym import analyze_padding
    except ImportError:
        analyze_padding = None
    if analyze_padding is not None:
        t = time.perf_counter()
        skews = {L["id"]: L["skew"] for L in weights["layers"] if L.get("skew") is not None}
        rep = analyze_padding(model, input_shape)
        if hasattr(rep, "attach_skews"):
            rep.attach_skews(skews)
        padding = rep.to_dict()
        timings["padding_s"] = round(time.perf_counter() - t, 3)

    consistency, thumbs = None, []
    try:
        from onnxsym import measure_consistency
    except ImportError:
        measure_consistency = None
    if measure_consistency is not None:
        t = time.perf_counter()
        try:
            consistency = measure_consistency(model, provider="cpu", seed=0).to_dict()
        except Exception as exc:  # the report shows what failed
            consistency = {"error": f"{type(exc).__name__}: {exc}"}
        timings["consistency_s"] = round(time.perf_counter() - t, 3)
        thumbs = _thumbs(consistency)

    internal = weights["summary"]["internal"]
    base = weights["summary"]["baseline"]
    gates = [
        {"name": "min-symmetry", "value": internal["median_symmetry"], "threshold": 0.6,
         "passed": internal["median_symmetry"] >= 0.6,
         "message": "median internal S of the mean kernels"},
        {"name": "fail-on-uneven-padding", "value": (padding or {}).get("summary", {}).get("uneven"),
         "threshold": 0, "passed": not (padding or {}).get("summary", {}).get("uneven"),
         "message": "strided layers that pad unevenly at the analysed size"},
    ]
    if consistency and not consistency.get("error"):
        sh = consistency["shift"]["consistency"]
        gates.append({"name": "min-shift-consistency", "value": sh, "threshold": 0.8,
                      "passed": sh >= 0.8, "message": "share of crop pairs with the same top-1"})
    verdict = "PASSED" if all(g["passed"] for g in gates) else "FAILED"
    parts = [verdict, f"symmetry {internal['median_symmetry']:.2f} (baseline {base['median_mean']:.2f})"]
    if consistency and not consistency.get("error"):
        for k in ("shift", "flip"):
            r = consistency[k]
            ci = r.get("ci95") or [r["consistency"], r["consistency"]]
            parts.append(f"{k} {100 * r['consistency']:.1f} % ±{100 * (ci[1] - ci[0]) / 2:.1f}")
    parts.append(f"{sum(timings.values()):.1f} s")
    data = Path(model).read_bytes()
    import onnxsym
    return {
        "schema": "onnxsym.audit/1",
        "verdict": verdict,
        "summary_line": " | ".join(parts),
        "provenance": {
            "onnxsym_version": getattr(onnxsym, "__version__", weights.get("onnxsym_version")),
            "model": str(model), "sha256": hashlib.sha256(data).hexdigest(), "size_bytes": len(data),
            "producer": weights["model"].get("producer"), "opsets": weights["model"].get("opsets"),
            "providers": (consistency or {}).get("providers"), "seeds": {"consistency": 0},
            "images": (consistency or {}).get("images"), "timings": timings,
        },
        "gates": gates,
        "weights": weights,
        "padding": padding,
        "consistency": consistency,
        "thumbnails": thumbs,
    }


def _chromium() -> str | None:
    return shutil.which("chromium") or ("/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None)


# Chromium's headless --dump-dom clamps the window to 500 px wide, so the page is measured in an
# iframe of the exact width; a srcdoc iframe shares the outer page's origin, so its script may
# write the numbers into the outer DOM that --dump-dom prints.
_MEASURE = """<script>window.addEventListener('load',function(){var d=document.documentElement;
var p=parent.document.createElement('pre');p.id='onnxsym-measure';p.textContent=JSON.stringify(
{scrollWidth:d.scrollWidth,scrollHeight:d.scrollHeight,innerWidth:window.innerWidth});
parent.document.body.appendChild(p);});</script>"""


def measure(page: str, width: int, exe: str, tmp: str) -> dict | None:
    """scrollWidth, scrollHeight and innerWidth of ``page`` laid out ``width`` px wide."""
    inner = page.replace("</body>", _MEASURE + "</body>")
    outer = (f'<!DOCTYPE html><html><body style="margin:0;overflow:hidden"><iframe style="border:0;'
             f'display:block;width:{width}px;height:2000px" srcdoc="{html.escape(inner, quote=True)}">'
             '</iframe></body></html>')
    Path(tmp).write_text(outer, encoding="utf-8")
    r = subprocess.run([exe, "--headless", "--no-sandbox", "--disable-gpu", f"--window-size={width},2000",
                        "--dump-dom", "file://" + os.path.abspath(tmp)], capture_output=True, text=True, timeout=120)
    m = re.search(r'<pre id="onnxsym-measure">(.*?)</pre>', r.stdout, re.S)
    return json.loads(html.unescape(m.group(1))) if m else None


def screenshot(html_path: str, png: str, width: int, height: int) -> bool:
    """A screenshot ``width`` px wide; ``height`` 0: the page's full height at that width."""
    exe = _chromium()
    if exe is None:
        print("chromium not found (apt-get install -y chromium); HTML written, no screenshot")
        return False
    dims = measure(Path(html_path).read_text(encoding="utf-8"), width, exe, png + ".measure.html")
    if dims:
        fits = "fits" if dims["scrollWidth"] <= dims["innerWidth"] else "WIDER THAN THE VIEWPORT"
        print(f"{width} px: page {dims['scrollWidth']} px wide, viewport {dims['innerWidth']} px ({fits})")
        height = height or min(20000, dims["scrollHeight"] + 20)
    height = height or 3000
    cmd = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
           f"--screenshot={png}", f"--window-size={width},{height}", "file://" + os.path.abspath(html_path)]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    ok = r.returncode == 0 and os.path.exists(png)
    print(("screenshot " + png) if ok else f"chromium failed ({r.returncode}): {r.stderr[-500:]}")
    return ok


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default=str(ROOT / "models" / "mobilenet_v2.onnx"))
    ap.add_argument("--json", help="render this onnxsym.audit/1 JSON instead of auditing --model")
    ap.add_argument("--input-shape", default="1x3x224x224")
    ap.add_argument("--out", default="/tmp/onnxsym_report.html")
    ap.add_argument("--png", default="/tmp/report.png", help="report.png -> report_1400.png, report_420.png")
    ap.add_argument("--widths", default="1400,420", help="comma-separated viewport widths")
    ap.add_argument("--height", type=int, default=0, help="screenshot height; 0: the full page")
    ap.add_argument("--standalone", action="store_true",
                    help="build the audit dict here (with example gates) instead of onnxsym.audit")
    a = ap.parse_args(argv)
    try:
        from onnxsym import audit as run_audit     # the real `onnxsym audit` pipeline
    except ImportError:
        run_audit = None
    if a.json:
        audit = json.loads(Path(a.json).read_text(encoding="utf-8"))
    elif run_audit is not None and not a.standalone:
        shape = [int(x) for x in a.input_shape.lower().split("x")]
        audit = run_audit(a.model, input_shape=shape, provider="cpu").to_dict()
    else:
        audit = build_audit(a.model, a.input_shape)
    t = time.perf_counter()
    page = render_html(audit)
    dt = time.perf_counter() - t
    Path(a.out).write_text(page, encoding="utf-8")
    print(f"wrote {a.out}: {len(page.encode()) / 1024:.0f} KiB, rendered in {dt * 1000:.0f} ms")
    stem, ext = os.path.splitext(a.png)
    for w in (int(x) for x in a.widths.split(",") if x.strip()):
        screenshot(a.out, f"{stem}_{w}{ext or '.png'}", w, a.height)
    return 0


if __name__ == "__main__":
    sys.exit(main())
