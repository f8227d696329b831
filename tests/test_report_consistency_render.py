"""onnxsym.report.consistency_render: the consistency table and summary line."""
from __future__ import annotations

import pytest

import consistency_models as cm
from onnxsym import measure_consistency

pytest.importorskip("onnxruntime")


def test_table_explains_mean_delta_p(smooth_npy):
    from onnxsym.report.consistency_render import to_table

    text = to_table(measure_consistency(cm.gap_linear(), smooth_npy, provider="cpu"))
    assert "mean |Δp top-1|: how much the probability of the top-1 class moves" in text
    cos = to_table(measure_consistency(cm.embedding(), smooth_npy, provider="cpu"))
    assert "Δp" not in cos  # no probabilities: column and explanation left out
