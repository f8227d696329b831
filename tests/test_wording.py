"""onnxsym.wording: parameters named as the caller spells them (Python, or the command line's flags
while it runs), and consistency values as percentages or cosines."""
from __future__ import annotations

from onnxsym.wording import flags, is_cosine, metric_delta, metric_interval, metric_value, param, param_item


def test_param_in_python_and_under_flags():
    assert param("input_shape") == "input_shape" and param("input_shape", "1x3x8x8") == "input_shape='1x3x8x8'"
    assert param("seed", 3) == "seed=3" and param_item("feeds", "z") == "feeds['z']"
    with flags({"input_shape": "--input-shape", "run": ("--no-run", "drop"), "feeds": "--feed"}):
        assert param("input_shape") == "--input-shape"
        assert param("input_shape", "1x3x8x8") == "--input-shape 1x3x8x8"
        assert param("input_shape", "a=1x3;b=2") == "--input-shape 'a=1x3;b=2'"    # quoted for the shell
        assert param("run") == "drop --no-run" and param("seed", 3) == "seed=3"   # unregistered: as in Python
        assert param_item("feeds", "z") == "--feed z" and param_item("run", "z") == "run['z']"
        with flags({"seed": "--seed"}):                                         # nested: the inner set only
            assert param("seed", 3) == "--seed 3" and param("input_shape") == "input_shape"
        assert param("input_shape") == "--input-shape"
    assert param("input_shape") == "input_shape"                                # restored


def test_flags_are_restored_after_an_error():
    try:
        with flags({"seed": "--seed"}):
            raise RuntimeError
    except RuntimeError:
        pass
    assert param("seed") == "seed"


def test_metric_values():
    assert is_cosine("cosine_similarity") and not is_cosine("top1_agreement") and not is_cosine(None)
    assert metric_value(0.8812, "top1_agreement") == "88.1 %"
    assert metric_value(0.8812, "pixel_top1_agreement", 2) == "88.12 %"
    assert metric_value(0.41234, "cosine_similarity") == "0.412"
    assert metric_value(0.41234, "cosine_similarity", 1) == "0.4"
    assert metric_value(None, "top1_agreement") == "—" and metric_value(None, "x", none="n/a") == "n/a"
    assert metric_interval((0.712, 0.956), "top1_agreement") == "[71.2, 95.6]"
    assert metric_interval((0.3012, 0.5222), "cosine_similarity") == "[0.301, 0.522]"
    assert metric_interval(None, "top1_agreement") == "" and metric_interval((0.1, None), "top1_agreement") == ""
    assert metric_delta(0.015, "top1_agreement") == "+1.5 points"
    assert metric_delta(-0.0123, "cosine_similarity") == "-0.012"
    assert metric_delta(None, "top1_agreement") == "—"
