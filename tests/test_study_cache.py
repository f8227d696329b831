"""onnxsym.study.cache: a second run measures nothing, a new model is measured alone, a corrupt or
stale entry is measured again with a note, an interrupted study keeps what it finished."""
import json
import os
import shutil

import onnx
import pytest

from onnxsym.engines.local import LocalEngine
from onnxsym.study import study
from onnxsym.study.cache import Cache, images_digest, study_key
from onnxsym.study.task import StudySettings
from study_helpers import small_digits, strip_timing, zoo

R = 199


@pytest.fixture()
def setup(tmp_path):
    npy, labels = small_digits(tmp_path, 8)
    models = tmp_path / "models"
    models.mkdir()
    for n in ("digits_s2_zero_noflip", "digits_pool_zero_noflip"):
        shutil.copy(zoo(n), models / f"{n}.onnx")
    kw = dict(images=npy, labels=labels, preset="unit", provider="cpu", pairs_per_image=1, resamples=R,
              cache=str(tmp_path / "cache"))
    return models, kw


def test_second_run_measures_nothing_and_a_new_model_alone(setup):
    models, kw = setup
    first = study([str(models)], **kw)
    assert len(first.computed) == 2 and first.from_cache == []
    assert len(os.listdir(kw["cache"])) == 2
    again = study([str(models)], **kw)
    assert again.computed == [] and again.from_cache == first.computed
    assert strip_timing(again.rows) == strip_timing(first.rows)
    assert all(r.cached for r in again.rows)
    assert again.rows[0].accuracy == first.rows[0].accuracy is not None  # from the cached per-image top-1
    shutil.copy(zoo("digits_s2_zero_flip"), models / "digits_s2_zero_flip.onnx")
    third = study([str(models)], **kw)
    assert third.computed == [os.path.normpath(str(models / "digits_s2_zero_flip.onnx"))]
    assert len(third.from_cache) == 2


def test_a_corrupt_entry_is_measured_again_with_a_note(setup):
    models, kw = setup
    first = study([str(models)], **kw)
    entry = sorted(os.listdir(kw["cache"]))[0]
    with open(os.path.join(kw["cache"], entry), "w") as fh:
        fh.write('{"schema": "onnxsym.study-entry/1", "row": ')
    again = study([str(models)], **kw)
    assert len(again.computed) == 1 and len(again.from_cache) == 1
    assert any("cache entry unreadable" in n and "measured again" in n for n in again.notes)
    assert strip_timing(again.rows) == strip_timing(first.rows)
    json.load(open(os.path.join(kw["cache"], entry)))  # rewritten whole


def test_other_settings_do_not_reuse_entries(setup):
    models, kw = setup
    study([str(models)], **kw)
    other = study([str(models)], **{**kw, "seed": 1})
    assert len(other.computed) == 2


def test_changed_external_data_is_measured_again(tmp_path):
    npy, _ = small_digits(tmp_path, 8)
    folder = tmp_path / "ext"
    folder.mkdir()
    onnx.save(onnx.load(zoo("digits_s2_zero_noflip")), str(folder / "m.onnx"), save_as_external_data=True,
              location="m.bin", size_threshold=0)
    kw = dict(images=npy, preset="unit", provider="cpu", pairs_per_image=1, resamples=R, cache=str(tmp_path / "c"))
    first = study([str(folder / "m.onnx")], **kw)
    assert first.rows[0].external_bytes > 0 and first.rows[0].external[0]["file"] == "m.bin"
    data = bytearray((folder / "m.bin").read_bytes())
    data[100] ^= 0x01
    (folder / "m.bin").write_bytes(bytes(data))
    again = study([str(folder / "m.onnx")], **kw)
    assert again.computed == first.computed
    assert any("external data m.bin changed" in n for n in again.notes)


def test_failed_rows_are_not_cached(tmp_path):
    npy, _ = small_digits(tmp_path, 4)
    bad = tmp_path / "bad.onnx"
    bad.write_text("no model")
    kw = dict(images=npy, preset="unit", provider="cpu", pairs_per_image=1, resamples=R, cache=str(tmp_path / "c"))
    assert study([str(bad)], **kw).rows[0].status == "failed"
    assert os.listdir(tmp_path / "c") == []


class _Interrupted(LocalEngine):
    """Stops (like Ctrl-C) after the first model."""

    def map_models(self, task, items, on_result=None):
        key = sorted(items)[0]
        on_result(key, task(items[key]))
        raise KeyboardInterrupt


def test_an_interrupted_study_keeps_what_it_finished(setup):
    models, kw = setup
    with pytest.raises(KeyboardInterrupt):
        study([str(models)], engine=_Interrupted(1), **kw)
    assert len(os.listdir(kw["cache"])) == 1
    rest = study([str(models)], **kw)
    assert len(rest.computed) == 1 and len(rest.from_cache) == 1


def test_the_key_holds_what_changes_numbers(tmp_path):
    from onnxsym.consistency import load_images

    npy, _ = small_digits(tmp_path, 4)
    digest = images_digest(load_images(npy))
    key = study_key(StudySettings(images=npy, images_digest=digest, seed=3, preset="unit"))
    assert set(key["versions"]) == {"onnxsym", "onnxruntime", "onnx", "numpy", "numba"}
    assert key["settings"]["seed"] == 3 and key["settings"]["images_digest"] == digest
    assert "threads" not in key["settings"] and "batch_size" not in key["settings"]
    (tmp_path / "five").mkdir()
    npy2, _ = small_digits(tmp_path / "five", 5)
    assert images_digest(load_images(npy2)) != digest
    a, b = Cache(tmp_path / "c", key), Cache(tmp_path / "c", {**key, "providers_available": []})
    assert a.path_for("ff").name != b.path_for("ff").name
