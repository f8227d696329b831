"""onnxsym.padding.summary: the counts of a padding diagnosis and its one greppable summary line."""
from __future__ import annotations

from graphs import RESNET_STEM, stack_model
from onnxsym import analyze_padding
from onnxsym.padding import PaddingLayer
from onnxsym.padding.summary import at_text, summarize


def test_lean_summary_counts_toward_away_neither():
    m = stack_model([1, 3, 224, 224], RESNET_STEM)
    skews = {"conv0": (-0.4, -0.2), "conv2": (0.3, 0.3), "conv3": (0.05, -0.02), "conv4": (0.2, -0.5)}
    rep = analyze_padding(m, skews=skews, suggest=False)
    assert [r.lean for r in rep.layers if r.kind == "conv"] == ["toward", "away", "neither", "toward"]
    assert ("4 of 4 stride-2 convs pad unevenly at 224×224 (all top-left); their mean kernels lean toward the "
            "padded side in 2, away from it in 1, neither in 1 (|skew| ≥ 0.1 counts)") in rep.summary_line
    s = rep.summary
    assert (s["lean_toward_padding"], s["lean_away_from_padding"], s["lean_neither"]) == (2, 1, 1)
    rep = analyze_padding(m, skews={"conv0": (-0.4, -0.2)}, suggest=False)
    assert "of the 1 with a skew, its mean kernel leans toward the padded side" in rep.summary_line


def test_at_text_for_one_and_several_inputs():
    assert at_text([{"name": "x", "spatial": [224, 224]}]) == ("224×224", [])
    assert at_text([{"name": "x", "spatial": None, "shape": [1, 3, None, None]}]) == ("the analysed size", ["x"])
    assert at_text([{"name": "x", "spatial": None, "shape": [1, 100]}]) == ("1x100", [])  # full shape known
    two = [{"name": "a", "spatial": [64, 64]}, {"name": "b", "spatial": [32, 32]}]
    assert at_text(two) == ("a 64×64, b 32×32", [])
    same = [{"name": f"i{k}", "spatial": [8, 8]} for k in range(5)]
    assert at_text(same) == ("8×8 (5 image inputs)", [])
    mixed = [{"name": f"i{k}", "spatial": [8 + k, 8]} for k in range(4)] + [{"name": "u", "spatial": None}]
    assert at_text(mixed) == ("i0 8×8, i1 9×8, i2 10×8 and 2 more image inputs", ["u"])


def _layer(lid, kind="conv", strides=(2, 2), uneven=True, direction="top-left", status="ok", lean=None):
    return PaddingLayer(id=lid, path="main", op_type="Conv" if kind == "conv" else "MaxPool", kind=kind,
                        status=status, strides=list(strides), uneven=uneven, direction=direction if uneven else "",
                        size_dependent=max(strides) > 1 and kind != "conv_transpose", lean=lean)


def test_summarize_counts_and_words_each_part():
    layers = [_layer("a"), _layer("b", direction="top"), _layer("c", strides=(3, 3), uneven=False),
              _layer("p", kind="pool"), _layer("t", kind="conv_transpose", strides=(1, 1), direction="bottom-right"),
              _layer("u", status="unknown", uneven=None)]
    summary, line = summarize(layers, [{"name": "x", "spatial": [64, 64]}], False)
    assert (summary["layers"], summary["known"], summary["unknown"], summary["invalid"]) == (6, 5, 1, 0)
    assert (summary["strided_convs"], summary["strided_convs_uneven"]) == (3, 2)
    assert summary["conv_directions"] == {"top-left": 1, "top": 1}
    assert (summary["strided_pools"], summary["strided_pools_uneven"]) == (1, 1)
    assert summary["uneven_at_every_size"] == ["t"] and summary["conv_transposes"] == 1
    # strides 2 and 3: "strided convs"; two directions counted; one pool; the ConvTranspose
    assert line == ("2 of 3 strided convs pad unevenly at 64×64 (1 top-left, 1 top); skew not checked (no "
                    "weights report); 1 of 1 stride-2 pools pad unevenly (all top-left); 1 more uneven at "
                    "every size; 1 of 6 layers of unknown size")


def test_summarize_without_strided_layers_or_layers():
    flat = [_layer("a", strides=(1, 1), uneven=False)]
    assert summarize(flat, [{"name": "x", "spatial": [32, 32]}], False)[1] == "no strided convs at 32×32"
    assert summarize(flat, [{"name": "x", "spatial": None}], False)[1] == "input size unknown (give input_shape)"
    assert summarize([], [{"name": "x", "spatial": [32, 32]}], False)[1] == "no convolutions or pools"
    unknown = [_layer("a", status="unknown", uneven=None)]
    assert summarize(unknown, [{"name": "x", "spatial": [32, 32]}], False)[1] == "1 of 1 layers of unknown size"
