"""onnxsym.engines.local: results keyed by id in sorted order, a pool gives what the process gives,
a dying worker gives a TaskFailure, and a study's rows do not depend on the number of jobs."""
import operator

import pytest

from engine_tasks import exit_on_negative
from onnxsym.engines import Engine, TaskFailure
from onnxsym.engines.local import LocalEngine
from onnxsym.errors import InputError
from onnxsym.study import study
from study_helpers import small_digits, strip_timing, zoo


def test_in_process_sorted_by_id_with_a_callback():
    seen = []
    out = LocalEngine(1).map_models(operator.neg, {"b": 2, "a": 1, "c": 3}, lambda k, v: seen.append((k, v)))
    assert list(out.items()) == [("a", -1), ("b", -2), ("c", -3)]
    assert sorted(seen) == [("a", -1), ("b", -2), ("c", -3)]


def test_pool_equals_in_process_and_is_an_engine():
    items = {f"m{i:02d}": i for i in range(7)}
    engine = LocalEngine(2)
    assert isinstance(engine, Engine)
    assert engine.describe()["how"] == "process pool (spawn)" and engine.threads >= 1
    seen = []
    pooled = engine.map_models(operator.neg, items, lambda k, v: seen.append(k))
    assert pooled == LocalEngine(1).map_models(operator.neg, items)
    assert list(pooled) == sorted(items) and sorted(seen) == sorted(items)


def test_a_dying_worker_gives_a_task_failure_and_the_others_finish():
    # os._exit(code) ends the worker process without a word: only the items it ran are affected
    out = LocalEngine(2).map_models(exit_on_negative, {"a": 1, "b": -1, "c": 3, "d": 4})
    assert (out["a"], out["c"], out["d"]) == (1, 3, 4)
    assert isinstance(out["b"], TaskFailure) and "twice" in out["b"].message


def test_jobs_must_be_positive():
    with pytest.raises(InputError, match="jobs"):
        LocalEngine(0)


def test_study_rows_identical_with_two_jobs(tmp_path):
    npy, labels = small_digits(tmp_path, 8)
    models = [zoo(n) for n in ("digits_s2_zero_noflip", "digits_s2_zero_flip", "digits_pool_zero_noflip")]
    kw = dict(images=npy, labels=labels, preset="unit", provider="cpu", pairs_per_image=1, resamples=199)
    one, two = study(models, jobs=1, **kw), study(models, jobs=2, **kw)
    assert two.settings["engine"]["workers"] == 2
    assert strip_timing(two.rows) == strip_timing(one.rows)
    d1, d2 = one.to_dict(), two.to_dict()
    assert d1["families"] == d2["families"] and d1["correlations"] == d2["correlations"]
    assert d1["findings"] == d2["findings"]
