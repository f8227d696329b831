"""onnxsym.study.run: listing models, rows with reasons, the engine seam, accuracy, the checks
made before any model is measured."""
import json
import os
import shutil

import numpy as np
import onnxruntime as ort
import pytest

from onnxsym.consistency.preprocess import resize_center_square
from onnxsym.engines.local import LocalEngine
from onnxsym.errors import InputError
from onnxsym.study import list_models, study
from study_helpers import no_image_model, small_digits, zoo

R = 199


@pytest.fixture()
def folder(tmp_path):
    d = tmp_path / "zoo"
    (d / "sub").mkdir(parents=True)
    shutil.copy(zoo("digits_s2_zero_noflip"), d / "a.onnx")
    shutil.copy(zoo("digits_pool_zero_noflip"), d / "sub" / "b.onnx")
    (d / "broken.onnx").write_text("not a model\n")
    no_image_model(d / "mlp.onnx")
    (d / "README.md").write_text("notes\n")
    return d


def test_list_models(folder):
    found, skipped, notes = list_models([str(folder), str(folder / "a.onnx")])
    ids = [i for i, _ in found]
    assert ids == sorted(os.path.normpath(str(folder / n)) for n in ("a.onnx", "broken.onnx", "mlp.onnx", "sub/b.onnx"))
    assert skipped == [{"path": os.path.normpath(str(folder / "README.md")), "reason": "not an .onnx file"}]
    assert any("measured once" in n for n in notes)
    with pytest.raises(InputError, match="not found"):
        list_models([str(folder / "nope")])
    (folder / "empty").mkdir()
    with pytest.raises(InputError, match="no .onnx files"):
        list_models([str(folder / "empty")])


def test_a_folder_with_unreadable_and_unsupported_models(tmp_path, folder):
    npy, labels = small_digits(tmp_path, 8)
    rep = study([str(folder)], images=npy, labels=labels, preset="unit", provider="cpu", pairs_per_image=1,
                resamples=R)
    rows = {os.path.basename(r.id): r for r in rep.rows}
    assert rows["a.onnx"].ok and rows["b.onnx"].ok
    assert (rows["broken.onnx"].status, rows["broken.onnx"].error_stage) == ("failed", "model")
    assert "not an ONNX model" in rows["broken.onnx"].error
    assert (rows["mlp.onnx"].status, rows["mlp.onnx"].error_stage) == ("partial", "consistency")
    assert rep.exit_code == 2 and len(rep.failed) == 2
    assert rep.skipped[0]["reason"] == "not an .onnx file"
    assert any("2 of 4 models have an error" in n for n in rep.notes)
    assert rows["broken.onnx"].family is None and rows["mlp.onnx"].family is not None


def test_accuracy_is_the_centre_crop_top1_against_the_labels(tmp_path):
    npy, labels = small_digits(tmp_path, 12)
    rep = study([zoo("digits_s2_zero_noflip")], images=npy, labels=labels, preset="unit", provider="cpu",
                pairs_per_image=1, resamples=R)
    # models/zoo/PROVENANCE.md's preprocessing, run here with onnxruntime directly
    images = np.load(npy)
    x = np.stack([resize_center_square(np.repeat(im, 3, axis=-1), (37, 37))[2:34, 2:34, 0] for im in images])
    x = (x.astype(np.float32) / 255)[:, None]
    pred = ort.InferenceSession(zoo("digits_s2_zero_noflip"), providers=["CPUExecutionProvider"]).run(
        None, {"input": x})[0].argmax(1)
    truth = json.load(open(labels))
    correct = sum(int(p) == truth[f"small.npy[{i}]"] for i, p in enumerate(pred))
    assert rep.rows[0].accuracy == {"top1": pytest.approx(correct / 12), "correct": correct, "labelled": 12}


class _Reversed:
    """An engine returning its results in reverse id order (and recording what it was given)."""

    name, workers, threads = "reversed", 1, None

    def __init__(self):
        self.items = None

    def describe(self):
        return {"name": self.name, "workers": 1}

    def map_models(self, task, items, on_result=None):
        self.items = dict(items)
        out = {}
        for key in sorted(items, reverse=True):
            out[key] = task(items[key])
            if on_result:
                on_result(key, out[key])
        return out


def test_the_engine_seam(tmp_path):
    npy, _ = small_digits(tmp_path, 6)
    models = [zoo("digits_s2_zero_flip"), zoo("digits_s2_zero_noflip")]
    engine = _Reversed()
    rep = study(models, engine=engine, images=npy, preset="unit", provider="cpu", pairs_per_image=1, resamples=R)
    assert sorted(engine.items) == sorted(os.path.normpath(m) for m in models)
    assert [r.id for r in rep.rows] == sorted(os.path.normpath(m) for m in models)
    assert rep.settings["engine"] == {"name": "reversed", "workers": 1}
    with pytest.raises(InputError, match="jobs"):
        study(models, engine=LocalEngine(1), jobs=2, images=npy)


def test_inputs_are_checked_before_any_model(tmp_path):
    npy, _ = small_digits(tmp_path, 4)
    bad_labels = tmp_path / "l.json"
    bad_labels.write_text(json.dumps({"cat.jpg": 1}))
    with pytest.raises(InputError, match="names one of the 4 images"):
        study([zoo("digits_s2_zero_noflip")], images=npy, labels=str(bad_labels))
    with pytest.raises(InputError, match="images not found"):
        study([zoo("digits_s2_zero_noflip")], images=str(tmp_path / "none"))
    with pytest.raises(InputError, match="provider"):
        study([zoo("digits_s2_zero_noflip")], images=npy, provider="tpu")
    with pytest.raises(InputError, match="seed"):
        study([zoo("digits_s2_zero_noflip")], images=npy, seed=-1)
