"""onnxsym.engines.ray: the same results as the local engine (models keyed and sorted, a study's
rows and statistics, a consistency report), a local Ray instance listening on 127.0.0.1 only, and
``--engine ray`` without Ray installed as one line, exit 2.

One Ray instance for the module (starting and stopping it costs ~5-10 s, the first Ray Data run
~7 s), under a temporary HOME so that nothing lands in ~/.ray."""
import json
import operator
import os
import subprocess
import sys

import pytest
from click.testing import CliRunner

from onnxsym.cli import main
from onnxsym.consistency import measure
from onnxsym.consistency.analysis import PartRunner, measure_part
from onnxsym.engines import Engine, TaskFailure
from onnxsym.engines.local import LocalEngine
from onnxsym.study import study
from study_helpers import ROOT, small_digits, strip_timing, zoo

DIGITS = os.path.join(ROOT, "models", "zoo", "digits_test.npy")
CONSISTENCY = dict(provider="cpu", preset="unit", pairs_per_image=2, vertical=True)


def _report(rep) -> dict:
    d = rep.to_dict()
    d.pop("timing")
    return d


@pytest.fixture(scope="module")
def ray_engine(tmp_path_factory):
    if os.environ.get("ONNXSYM_REQUIRE_RAY"):  # CI (.ci/run): the Ray tests must run, not be skipped
        import ray  # noqa: F401
    pytest.importorskip("ray")
    from onnxsym.engines.ray import RayEngine

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HOME", str(tmp_path_factory.mktemp("home")))
        for name in ("RAY_ADDRESS", "RAY_AUTH_MODE", "RAY_AUTH_TOKEN", "RAY_AUTH_TOKEN_PATH"):
            mp.delenv(name, raising=False)
        with RayEngine() as engine:
            yield engine
        assert not os.path.exists(os.path.join(os.environ["HOME"], ".ray"))  # the token stayed in the environment


def test_map_models_is_keyed_and_sorted_like_the_local_engine(ray_engine):
    assert isinstance(ray_engine, Engine)
    d = ray_engine.describe()
    assert d["name"] == "ray" and d["where"] == "local instance on 127.0.0.1" and d["workers"] >= 1
    items = {f"m{i:02d}": i for i in (5, 3, 0, 7, 1)}
    seen = []
    out = ray_engine.map_models(operator.neg, items, lambda k, v: seen.append((k, v)))
    assert out == LocalEngine(1).map_models(operator.neg, items)
    assert list(out) == sorted(items) and sorted(seen) == sorted(out.items())


def test_study_rows_identical_on_ray(tmp_path, ray_engine):
    npy, labels = small_digits(tmp_path, 8)
    models = [zoo(n) for n in ("digits_s2_zero_noflip", "digits_s2_zero_flip", "digits_pool_zero_noflip")]
    kw = dict(images=npy, labels=labels, preset="unit", provider="cpu", pairs_per_image=1, resamples=199)
    local, ray = study(models, jobs=1, **kw), study(models, engine=ray_engine, **kw)
    assert ray.settings["engine"]["name"] == "ray"
    assert strip_timing(ray.rows) == strip_timing(local.rows)
    d1, d2 = local.to_dict(), ray.to_dict()
    assert d1["families"] == d2["families"] and d1["correlations"] == d2["correlations"]
    assert d1["findings"] == d2["findings"]


def test_consistency_identical_on_ray(ray_engine):
    model = zoo("digits_s2_zero_flip")
    alone = _report(measure(model, DIGITS, **CONSISTENCY))
    seen = []
    on_ray = measure(model, DIGITS, engine=ray_engine, progress=lambda done, total: seen.append((done, total)),
                     **CONSISTENCY)
    assert _report(on_ray) == alone
    assert seen[-1][0] == seen[-1][1]  # the progress reached the end


class _TwoParts:
    """An engine measuring the images in two parts with one PartRunner, checked against
    measure_part for each part."""

    def map_image_parts(self, task, indices, on_part=None):
        indices = list(indices)
        runner, halves = PartRunner(task), (indices[::2], indices[1::2])  # not contiguous, on purpose
        parts = [runner.measure(h) for h in halves]
        for part, half in zip(parts, halves):
            again = measure_part(task, half)
            assert [o.index for o in part.outcomes] == [o.index for o in again.outcomes] == half
            assert part.inputs_run == again.inputs_run
            assert [o.result for o in part.outcomes] == [o.result for o in again.outcomes]
        return parts


def test_the_local_seam_and_a_runner_measuring_several_parts():
    # no Ray: the engine seam of measure gives the numbers of one run
    model = zoo("digits_s2_zero_flip")
    alone = _report(measure(model, DIGITS, **CONSISTENCY))
    assert _report(measure(model, DIGITS, engine=LocalEngine(1), **CONSISTENCY)) == alone
    assert _report(measure(model, DIGITS, engine=_TwoParts(), **CONSISTENCY)) == alone


def test_ray_listens_on_loopback_only(ray_engine):
    psutil = pytest.importorskip("psutil")
    me = psutil.Process()
    procs = {p.pid: p for p in me.children(recursive=True)}
    for p in psutil.process_iter(["cmdline"]):
        if p.pid != me.pid and any("ray" in part for part in (p.info["cmdline"] or [])):
            procs.setdefault(p.pid, p)
    procs[me.pid] = me  # the driver's own core worker listens too
    listening = []
    for p in procs.values():
        try:
            listening += [(p.pid, c.laddr.ip, c.laddr.port) for c in p.net_connections(kind="inet")
                          if c.status == psutil.CONN_LISTEN]
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    assert len(listening) >= 3, listening  # gcs, raylet, the core workers: the check saw them
    outside = [x for x in listening if x[1] not in ("127.0.0.1", "::ffff:127.0.0.1")]
    assert not outside, outside


def test_cli_ray_in_process_json_on_stdout(tmp_path, ray_engine):
    # the CLI uses the instance this process runs already (and leaves it running)
    npy, _labels = small_digits(tmp_path, 8)
    r = CliRunner().invoke(main, ["study", zoo("digits_s2_zero_noflip"), zoo("digits_pool_zero_noflip"), "--images",
                                  npy, "--preset", "unit", "--provider", "cpu", "--pairs-per-image", "1", "--engine",
                                  "ray", "--json", "-"])
    assert r.exit_code == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["settings"]["engine"]["name"] == "ray" and [row["status"] for row in doc["rows"]] == ["ok", "ok"]
    assert "engine ray: the Ray instance already running in this process" in r.stderr
    import ray

    assert ray.is_initialized()


def test_cli_engine_ray_without_ray_is_one_line_exit_2():
    code = ("import sys; sys.modules['ray'] = None\n"
            "from onnxsym.cli import main\n"
            f"main(['consistency', {zoo('digits_s2_zero_flip')!r}, '--engine', 'ray', '--provider', 'cpu'])")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 2, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "--engine ray needs Ray" in lines[0] and 'pip install -e ".[ray]"' in lines[0]
    assert "Traceback" not in r.stderr and r.stdout == ""


def test_cli_jobs_and_address_where_they_do_not_apply():
    r = CliRunner().invoke(main, ["study", zoo("digits_s2_zero_flip"), "--engine", "ray", "--jobs", "2"])
    assert r.exit_code == 2 and "--jobs is for --engine local" in r.stderr
    r = CliRunner().invoke(main, ["consistency", zoo("digits_s2_zero_flip"), "--address", "auto"])
    assert r.exit_code == 2 and "--address is for --engine ray" in r.stderr


def test_a_dying_worker_gives_a_task_failure_and_the_others_finish(ray_engine):
    import engine_tasks
    from ray import cloudpickle

    cloudpickle.register_pickle_by_value(engine_tasks)  # the workers do not see tests/ on their path
    try:
        out = ray_engine.map_models(engine_tasks.exit_on_negative, {"a": 1, "b": -1, "c": 3})
    finally:
        cloudpickle.unregister_pickle_by_value(engine_tasks)
    assert (out["a"], out["c"]) == (1, 3)
    assert isinstance(out["b"], TaskFailure) and "twice" in out["b"].message


def test_a_task_the_workers_cannot_load_is_one_runtime_failure(ray_engine):
    import engine_tasks  # not importable by the workers (tests/ is not on their path)
    from onnxsym.errors import RuntimeFailure

    with pytest.raises(RuntimeFailure, match="No module named 'engine_tasks'.*installed on every node"):
        ray_engine.map_models(engine_tasks.exit_on_negative, {"a": 1})
