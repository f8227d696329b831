"""onnxsym.padding.lean: whether an unevenly padded conv's mean kernel leans toward its padded
side: the skew component toward it, the threshold, and the per-axis counts."""
from __future__ import annotations

import pytest

from graphs import layer_model
from onnxsym import analyze_padding
from onnxsym.padding import LEAN_THRESHOLD, PaddingLayer
from onnxsym.padding.lean import attach_skews, lean_axes, skew_component, toward


def _row(report, lid="L0"):
    return next(r for r in report.layers if r.id == lid)


@pytest.mark.parametrize("skew,lean,text", [
    # top-left padded side: component toward it = (-down - right)/sqrt(2)
    ((-0.3, -0.3), "toward", "its mean kernel leans toward the padded side (|skew| ≥ 0.1 counts)"),
    ((0.2, 0.1), "away", "its mean kernel leans away from it (|skew| ≥ 0.1 counts)"),
    ((-0.06, -0.06), "neither", "its mean kernel leans neither way (|skew| ≥ 0.1 counts)"),  # 0.085 < 0.1
    ((-0.06, 0.0), "neither", "leans neither way"),  # a small skew is not a lean
])
def test_lean_needs_the_threshold(skew, lean, text):
    m = layer_model([1, 3, 224, 224], [3, 3], [2, 2], pads=[1, 1, 1, 1])
    rep = analyze_padding(m, skews={"L0": skew}, suggest=False)
    r = _row(rep)
    assert r.lean == lean and r.leans_toward_padding is (lean == "toward")
    assert r.skew_toward_padding == pytest.approx(-(skew[0] + skew[1]) / 2 ** 0.5, abs=1e-4)
    assert text in rep.summary_line
    d = rep.to_dict()
    assert d["summary"]["lean_threshold"] == 0.1
    assert d["layers"][0]["lean"] == lean


def _uneven(before, after, kernel, skew=None, kind="conv"):
    return PaddingLayer(id="c", path="main", op_type="Conv", kind=kind, before=before, after=after,
                        kernel=kernel, uneven=before != after, skew=skew)


def test_skew_component_per_axis():
    assert skew_component((0.1, -0.2), 0, 2) == 0.1 and skew_component((0.1, -0.2), 1, 2) == -0.2
    assert skew_component((0.1, -0.2), 0, 1) == -0.2      # 1-D conv with a 2-D skew: the width
    assert skew_component((0.1, -0.2, 0.3), 0, 2) is None
    assert skew_component(None, 0, 2) is None


def test_toward_projects_on_the_padded_sides():
    # top-left padded (before > after on both axes): unit vector (-1, -1)/sqrt(2)
    row = _uneven([1, 1], [0, 0], [3, 3], [-0.3, 0.1])
    assert toward(row) == pytest.approx((0.3 - 0.1) / 2 ** 0.5, abs=1e-4)
    assert lean_axes(row) == (1, 2)               # the height points there, the width does not
    # only the height uneven and the width's kernel 1: one component, no sqrt(2)
    row = _uneven([0, 1], [1, 1], [3, 1], [0.25, -0.9])
    assert toward(row) == 0.25 and lean_axes(row) == (1, 1)
    # nothing to project on: even, a pool, no skew, only 1-wide kernels on the uneven axes
    assert toward(_uneven([1, 1], [1, 1], [3, 3], [0.5, 0.5])) is None
    assert toward(_uneven([1, 1], [0, 0], [3, 3], [0.5, 0.5], kind="pool")) is None
    assert toward(_uneven([1, 1], [0, 0], [3, 3])) is None
    assert toward(_uneven([1, 0], [0, 0], [1, 3], [0.5, 0.5])) is None
    assert lean_axes(_uneven([1, 1], [0, 0], [3, 3])) == (0, 0)


def test_attach_skews_sets_the_lean_with_the_threshold():
    rows = [_uneven([1, 1], [0, 0], [3, 3]), _uneven([1, 1], [0, 0], [3, 3]), _uneven([1, 1], [0, 0], [3, 3]),
            _uneven([1, 1], [1, 1], [3, 3]), _uneven([1, 1], [0, 0], [3, 3], kind="pool")]
    for k, r in enumerate(rows):
        r.id = f"r{k}"
    d = LEAN_THRESHOLD * 2 ** 0.5
    attach_skews(rows, {"r0": (-d, 0.0), "r1": (d / 2, d / 2), "r2": (0.01, 0.0), "r3": (0.5, 0.5),
                        "r4": (0.5, 0.5)})
    # r0: exactly the threshold toward; r1: -(d/2 + d/2)/sqrt(2) = -0.1, away; r2: neither
    assert [r.lean for r in rows] == ["toward", "away", "neither", None, None]
    assert [r.leans_toward_padding for r in rows] == [True, False, False, None, None]
    assert rows[3].skew == [0.5, 0.5] and rows[3].skew_toward_padding is None  # even: no lean
    assert rows[4].skew is None                                                # pools have no skew
    attach_skews(rows, None)
    assert all(r.skew is None and r.lean is None for r in rows)
