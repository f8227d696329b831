"""``onnxsym compare``: two models or reports, their layers matched by shape and order, through the
real CLI."""
import json

import pytest
from onnx import TensorProto, helper as h

from cli_run import run
from graphs import classifier_file, init, save, weight


def test_compare_matches_renamed_layers_by_shape_and_order(tmp_path):
    a = classifier_file(tmp_path, "a.onnx", seed=0)
    b = classifier_file(tmp_path, "b.onnx", seed=5, rename="renamed_")
    code, out, err = run("compare", a, b, "--format", "json")
    assert code == 0, err
    d = json.loads(out)
    assert d["summary"]["matched_layers"] == 2
    assert [r["b"] for r in d["layers"]] == ["renamed_c1", "renamed_c2"]
    for r in d["layers"]:
        assert r["delta"] == pytest.approx(r["symmetry_b"] - r["symmetry_a"], abs=1e-6)
    code, out, _ = run("compare", a, b)
    assert code == 0 and "matched 2 of 2" in out
    (tmp_path / "x.json").write_text('{"schema": "something/9"}')
    assert run("compare", a, tmp_path / "x.json")[0] == 2


def test_compare_matches_reordered_branches(tmp_path):
    def branchy(name, order):
        x = h.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 16, 16])
        outs = []
        convs = {"a": ("wa", weight((4, 3, 3, 3), 1)), "b": ("wb", weight((4, 3, 5, 5), 2))}
        nodes, inits = [], []
        for key in order:
            wname, w = convs[key]
            nodes.append(h.make_node("Conv", ["x", wname], [f"o{key}"], name=f"{name}_{key}", pads=[1, 1, 1, 1] if key == "a" else [2, 2, 2, 2]))
            inits.append(init(wname, w))
            outs.append(f"o{key}")
        nodes.append(h.make_node("Add", outs, ["y"]))
        y = h.make_tensor_value_info("y", TensorProto.FLOAT, None)
        m = h.make_model(h.make_graph(nodes, "g", [x], [y], initializer=inits), opset_imports=[h.make_opsetid("", 17)])
        m.ir_version = 8
        return save(m, tmp_path / f"{name}.onnx")

    code, out, err = run("compare", branchy("p", "ab"), branchy("q", "ba"), "--format", "json")
    d = json.loads(out)
    assert d["summary"]["matched_layers"] == 2
    assert {(r["a"], r["b"]) for r in d["layers"]} == {("p_a", "q_a"), ("p_b", "q_b")}
    assert all(r["delta"] == 0 for r in d["layers"])
