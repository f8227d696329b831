"""The study's renderers (onnxsym.report.study_render, onnxsym.report.html.study) on a study of
made-up rows: they format what the document holds."""
import csv
import io
import re

from onnxsym.report.html.study import render_study_html
from onnxsym.report.study_render import CSV_TEXT_COLUMNS, PANDAS_NA, short_names, summary_line, to_csv, to_table
from onnxsym.study import families, statistics
from onnxsym.study.results import ModelRow, StudyReport


def _rows():
    rows = []
    for i in range(6):
        s = 0.45 + 0.06 * i
        rows.append(ModelRow(
            id=f"zoo/net_{i}.onnx", path=f"zoo/net_{i}.onnx", producer="None" if i == 0 else "pytorch 2.13.0",
            encoding="float32", first_layer={"symmetry": 0.3}, internal={"n": 5, "median_symmetry": s, "ci95": None,
                                                                          "z_median": 1.0},
            shift={"consistency": 0.7 + 0.04 * i, "ci95": [0.6 + 0.04 * i, 0.8 + 0.03 * i], "pairs": 50},
            flip={"consistency": 0.9 - 0.03 * i, "ci95": [0.8, 0.95], "images": 10}, chance=0.1, metric="top1_agreement",
            output_kind="classifier", provider="cpu", images=10, strided_layers=2, uneven_strided=i % 3,
            layers=[{"id": f"c{k}", "index": k, "depth": k / 2, "symmetry": 0.3 + 0.1 * k + 0.02 * i, "first": k == 0,
                     "uneven": k == 1, "random_mean": 0.408, "random_sd": 0.099, "kernel_shape": [3, 3]}
                    for k in range(3)],
            fingerprint=[{"op_type": "Conv", "weight_shape": [4, 3, 3, 3], "kernel": [1.0 if j == i else 0.0
                                                                                        for j in range(9)]}],
            seconds=0.5))
    rows.append(ModelRow(id="zoo/<script>x.onnx", path="zoo/<script>x.onnx", status="failed", error="NA",
                         error_stage="model", error_code=2, seconds=0.0))
    return rows


def _doc():
    rows = _rows()
    fams = families.group(rows)
    reps = [r for r in rows if r.representative]
    return StudyReport(settings={"images": "imgs", "image_count": 10, "engine": {"name": "local", "workers": 1}},
                       rows=rows, families=fams, correlations=statistics.correlation_sets(reps, resamples=199),
                       findings=statistics.findings(reps, resamples=199), skipped=[], notes=["a note"],
                       computed=[r.id for r in rows], from_cache=[], seconds=2.0).to_dict()


def test_short_names():
    assert short_names(["m/zoo/digits_a.onnx", "m/zoo/digits_b.onnx"]) == {"m/zoo/digits_a.onnx": "a",
                                                                         "m/zoo/digits_b.onnx": "b"}
    assert short_names(["x/a.onnx", "y/a.onnx"]) == {"x/a.onnx": "x/a", "y/a.onnx": "y/a"}


def test_table_and_summary():
    doc = _doc()
    text = to_table(doc)
    assert text.splitlines()[0].startswith("model")
    assert "internal S against consistency, top-1 agreement, 6 families:" in text
    assert "shift: Spearman ρ +1.00" in text
    assert "error: <script>x: NA" in text and "note: a note" in text
    assert summary_line(doc).startswith("onnxsym study: 7 models, 6 families, 1 failed | S vs shift ρ +1.00")


def test_csv_has_no_pandas_missing_strings_but_empty_numbers():
    doc = _doc()
    rows = list(csv.DictReader(io.StringIO(to_csv(doc))))
    assert len(rows) == 7
    for r in rows:
        for k, v in r.items():
            if k in CSV_TEXT_COLUMNS:
                assert v not in PANDAS_NA, (k, v)
            elif k in ("representative", "cached"):
                assert v in ("true", "false")
            elif v != "":
                float(v)  # a number
    assert rows[0]["producer"] == "None (text)"
    assert rows[-1]["error"] == "NA (text)" and rows[-1]["internal_median_S"] == ""


def test_html_is_self_contained_titled_and_escaped():
    html = render_study_html(_doc())
    assert "<script>" not in html.replace("&lt;script&gt;", "") and "&lt;script&gt;x" in html
    for svg in re.findall(r"<svg class=\"chart\".*?</svg>", html, re.S):
        assert 'viewBox="' in svg
        for mark in re.findall(r"<(circle|polyline|rect x=\"[\d.]+\" y=\"[\d.]+\" width=\"7\")[^>]*>(.*?)</", svg, re.S):
            assert mark[1].startswith("<title>"), mark
    links = set(re.findall(r'href="#(m-\d+)"', html))
    assert links and links <= set(re.findall(r'id="(m-\d+)"', html))
    assert '<div class="scroll"><table class="data">' in html
    assert "not meaningful" not in html  # 6 families: the correlation is computed
