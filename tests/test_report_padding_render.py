"""onnxsym.report.padding_render: the padding table (full and strided-only) and its wording."""
from __future__ import annotations

import os

import pytest

from graphs import RESNET_STEM, stack_model
from onnxsym import analyze_padding

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MOBILENET = os.path.join(ROOT, "models", "mobilenet_v2.onnx")


def test_chosen_input_size_is_said_once():
    from onnxsym.report.padding_render import to_table

    m = stack_model(["N", 3, "H", "W"], RESNET_STEM)
    rep = analyze_padding(m)
    text = to_table(rep)
    assert text.startswith("Padding at 224×224")
    assert text.count("symbolic spatial size") == 1 and "give input_size to choose another" in text
    assert "e.g. input_shape='1x3x225x225'" in text        # the suggestion, as the parameter it is
    assert all(len(ln) <= 110 for ln in text.splitlines())
    assert all(r.status == "ok" for r in rep.layers)


@pytest.mark.skipif(not os.path.exists(MOBILENET), reason="models/mobilenet_v2.onnx not built")
def test_mobilenet_strided_table_is_the_compact_table():
    from onnxsym.report.padding_render import strided_table, to_table

    rep = analyze_padding(MOBILENET, suggest=False)
    compact = strided_table(rep)
    rows = [ln for ln in compact.splitlines() if ln[:3].strip().isdigit()]
    assert len(rows) == 5 and all("top-left" in ln for ln in rows)
    assert compact.splitlines()[0].startswith("Padding of strided and uneven layers at 224×224")
    assert to_table(rep, strided_only=True) == compact
    assert len(to_table(rep).splitlines()) > len(compact.splitlines())
