"""onnxsym.study.task: one model's row, checked against a numpy reference of S and the zoo's
documented facts; errors become rows; everything pickles."""
import pickle

import numpy as np
import onnx
import pytest
from onnx import numpy_helper

from onnxsym.study.task import ModelTask, StudySettings, analyse, encoding_of
from study_helpers import no_image_model, small_digits, symbolic_model, vector_model, zoo


def _symmetry(w):
    """S of the mean kernel (docs/metric.md), numpy: the 7 non-identity elements of D4."""
    k = w.astype(np.float64).mean(axis=(0, 1))
    k = k / np.linalg.norm(k)
    ts = [np.rot90(k, 1), np.rot90(k, 2), np.rot90(k, 3), k[:, ::-1], k[::-1, :], k.T, np.rot90(k, 2).T]
    return 1 - np.mean([np.linalg.norm(t - k) / 2 for t in ts])


@pytest.fixture(scope="module")
def settings(tmp_path_factory):
    npy, _ = small_digits(tmp_path_factory.mktemp("digits"), 16)
    return StudySettings(images=npy, preset="unit", provider="cpu", pairs_per_image=2)


def test_a_digits_row(settings):
    path = zoo("digits_s2_zero_noflip")
    row = analyse(ModelTask("m", path, settings))
    assert row.status == "ok" and row.error is None
    weights = [numpy_helper.to_array(t) for t in onnx.load(path).graph.initializer if t.name.endswith(".weight")
               and len(t.dims) == 4]
    s = [_symmetry(w) for w in weights]
    assert [L["symmetry"] for L in row.layers] == pytest.approx(s, abs=2e-6)
    assert row.first_layer["symmetry"] == pytest.approx(0.3317, abs=1e-4)      # models/zoo/PROVENANCE.md
    assert row.median_symmetry == pytest.approx(np.median(s[1:]), abs=2e-6)
    assert row.median_symmetry == pytest.approx(0.5053, abs=1e-4)
    assert [L["depth"] for L in row.layers] == pytest.approx([0, 0.2, 0.4, 0.6, 0.8, 1.0])
    assert [L["uneven"] for L in row.layers] == [False, True, False, True, False, False]  # c2, c4: stride 2
    assert (row.strided_layers, row.uneven_strided) == (2, 2)
    assert row.by_kernel == {"3×3": {"n": 6, "median_symmetry": pytest.approx(np.median(s), abs=2e-6),
                                     "random_init_mean": pytest.approx(0.4077, abs=1e-4)}}
    assert row.input_size == [32, 32] and row.input_size_source == "model"
    assert row.metric == "top1_agreement" and row.output_kind == "classifier" and row.provider == "cpu"
    assert row.images == 16 and row.shift["pairs"] == 32 and row.flip["images"] == 16
    assert sorted(row.top1) == sorted(f"small.npy[{i}]" for i in range(16))
    assert row.encoding == "float32" and row.producer == "pytorch 2.13.0"
    assert len(row.fingerprint) == 6 and all(abs(np.linalg.norm(f["kernel"]) - 1) < 1e-6 for f in row.fingerprint)


def test_pooled_variant_pads_evenly(settings):
    row = analyse(ModelTask("m", zoo("digits_pool_zero_noflip"), settings))
    assert (row.strided_layers, row.uneven_strided) == (2, 0)  # the two MaxPools


def test_not_an_onnx_file_is_a_failed_row(tmp_path, settings):
    p = tmp_path / "notes.onnx"
    p.write_text("these are notes, not a model\n")
    row = analyse(ModelTask("notes", str(p), settings))
    assert (row.status, row.error_stage, row.error_code) == ("failed", "model", 2)
    assert "not an ONNX model" in row.error


def test_a_model_without_image_input_is_a_partial_row(tmp_path, settings):
    row = analyse(ModelTask("mlp", no_image_model(tmp_path / "mlp.onnx"), settings))
    assert (row.status, row.error_stage, row.error_code) == ("partial", "consistency", 2)
    assert row.conv_nodes == 0 and row.median_symmetry is None
    assert "not an image" in row.error or "image" in row.error


def test_a_symbolic_size_is_chosen_and_said(tmp_path, settings):
    row = analyse(ModelTask("sym", symbolic_model(tmp_path / "sym.onnx"), settings))
    assert row.status == "ok", row.error
    assert row.input_size == [224, 224] and row.input_size_source == "chosen"
    assert any("symbolic spatial size" in n for n in row.notes)
    assert (row.strided_layers, row.uneven_strided) == (1, 1)   # stride 2, pads 1+1 on an even input
    given = analyse(ModelTask("sym", symbolic_model(tmp_path / "sym2.onnx"),
                              StudySettings(**{**settings.__dict__, "input_size": (65, 65)})))
    assert given.input_size == [65, 65] and given.input_size_source == "input_size"
    assert given.uneven_strided == 0  # (65 + 2 − 3) is even: every row is read


def test_a_one_channel_map_is_compared_by_cosine(tmp_path, settings):
    row = analyse(ModelTask("map", vector_model(tmp_path / "map.onnx"), settings))
    assert row.metric == "cosine_similarity" and row.output_kind == "spatial" and row.top1 == {}


def test_encoding():
    assert encoding_of([{"status": "ok", "weight_dtype": "float16"}]) == "float16"
    assert encoding_of([{"status": "ok", "weight_dtype": "float32", "weight_source": "DequantizeLinear(…)"}]) \
        == "quantized"
    assert encoding_of([{"status": "ok", "weight_dtype": "float16"}, {"status": "ok", "weight_dtype": "float32"}]) \
        == "mixed"
    assert encoding_of([]) is None


def test_task_and_row_pickle(settings):
    task = ModelTask("m", zoo("digits_s2_zero_noflip"), settings)
    assert pickle.loads(pickle.dumps(task)) == task
    row = analyse(task)
    back = pickle.loads(pickle.dumps(row))
    assert back.to_dict() == row.to_dict() and back.fingerprint == row.fingerprint
