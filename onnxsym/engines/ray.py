"""The Ray engine: the per-model tasks as Ray Core tasks, the parts of a consistency run on a Ray
Data actor pool — on a local Ray instance that listens on 127.0.0.1 only, or on the cluster at
``address``. Ray is an optional extra (``pip install -e ".[ray]"``); without it, creating this
engine is an :class:`~onnxsym.errors.InputError` (exit 2).

* **Models** (:meth:`RayEngine.map_models`): one Ray task per item (``num_cpus = threads``),
  all submitted at once; Ray schedules them on the cluster's CPUs. Each result is handed to
  ``on_result`` as it arrives and the results are returned keyed by id, sorted. A worker that
  dies (a crash in a native library, the memory killer) is retried once; dying again gives a
  :class:`~onnxsym.engines.TaskFailure`. A task's own exception is raised here, as itself.
* **Images** (:meth:`RayEngine.map_image_parts`): a Ray Data dataset of image *indices*, one block
  per part (contiguous indices; a block is the batch a worker gets, ``batch_size=None``), mapped
  with ``map_batches`` over a pool of actors. Each actor opens the run once in ``__init__`` (model,
  onnxruntime session with ``threads`` intra-op threads, images: :class:`~onnxsym.consistency.
  analysis.PartRunner`) and measures one part per call; on a cluster with GPUs each actor takes one
  (``num_gpus=1``). The images are never put in the dataset (``ray.data.read_images`` with actors
  taking every CPU hangs, ray-project/ray#44687): the task — model path or bytes, and the image set
  (file paths, or the arrays of a .npy) — is an argument of the actors' constructor (Ray Data puts
  it in the object store once) and each actor reads the images of its indices itself. The parts are returned in image order, whatever order they
  finished in. An actor that dies is not restarted (``max_restarts=0``; Ray Data's default, endless
  restarts, would loop on an image that crashes the runtime): the measurement fails, exit 3.

A local instance (no ``address``) is started with ``RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0``
(without it, the node address 127.0.0.1 is rewritten to the machine's interface address and the
servers listen on every interface), no dashboard, and — unless ``RAY_AUTH_MODE``,
``RAY_AUTH_TOKEN`` or ``RAY_AUTH_TOKEN_PATH`` is set — token authentication with a fresh token
kept in this process's environment (Ray's default would write ``~/.ray/auth_token``). With an
``address``, the token is the cluster's: ``RAY_AUTH_TOKEN``, the file named by
``RAY_AUTH_TOKEN_PATH``, or ``~/.ray/auth_token`` (copied from the head node: ``ray get-auth-token``);
when one is found token authentication is switched on for the connection (Ray does so by itself
only for a cluster it finds); with none found and ``RAY_AUTH_MODE`` unset, an InputError says so at
once (Ray would retry for ~20 s and report a connection error); ``RAY_AUTH_MODE=disabled`` is for a
cluster without authentication. Tasks and actors work in the caller's folder where the node has it. Ray's own log lines stay in its session
logs (``log_to_driver=False``, warnings only, no progress bars); errors are raised here.
"""
from __future__ import annotations

import logging
import os
import pickle
import secrets
import time
import warnings

from ..errors import InputError, OnnxsymError, RuntimeFailure
from ..parsing import integer
from ..wording import param
from . import TaskFailure

#: Ray's switch that keeps a local node on the loopback address (read when ray is imported)
LOOPBACK_ENV = "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"
_AUTH_ENV = ("RAY_AUTH_MODE", "RAY_AUTH_TOKEN", "RAY_AUTH_TOKEN_PATH")
#: at most this many images per part (a Ray Data block); fewer, so that each actor gets several
MAX_PART = 512
PARTS_PER_WORKER = 4


def import_ray():
    """The ``ray`` module, or an InputError (exit 2) saying how to install it."""
    try:
        import ray
        import ray.data  # noqa: F401  (the [data] extra)
    except ImportError as err:
        missing = getattr(err, "name", None) or "ray"
        raise InputError(f"{param('engine', 'ray')} needs Ray ({missing} is not installed): "
                         'pip install "onnxsym[ray]", or pip install -e ".[ray]" in a checkout') from None
    return ray


class RayEngine:
    """Ray tasks and Ray Data actors: a local instance on 127.0.0.1, or the cluster at ``address``.

    Parameters
    ----------
    address : str, optional
        ``None``: start a local Ray instance, listening on 127.0.0.1 only (stopped by
        :meth:`close`). ``"auto"`` (the cluster this machine is a node of), ``"HOST:PORT"`` (its
        head's GCS) or ``"ray://HOST:10001"`` (Ray Client; not tested here): connect to that
        cluster (:meth:`close` disconnects). When Ray is
        already initialised in this process, that instance is used (and left running).
    threads : int
        onnxruntime (and numba) threads of each task and actor; each reserves that many CPUs.
    num_cpus : int, optional
        CPUs of a local instance (default: all of this machine's).

    The instance is started (or connected to) when the engine is made; use it as a context
    manager, or call :meth:`close`.
    """

    name = "ray"

    def __init__(self, address: str | None = None, *, threads: int = 1, num_cpus: int | None = None):
        self.address = address or None
        self.threads = integer(threads, "threads", 1)
        self._restore: dict = {}
        self._owned = False
        t0 = time.perf_counter()
        running = _running()
        if not running:  # before ray is imported: it reads these switches then
            self._local_env() if self.address is None else self._remote_env()
        try:
            self.ray = import_ray()
        except InputError:
            self._undo_env()
            raise
        if self._restore:  # ray may have been imported before: what it read is updated
            from ray._raylet import Config

            Config.initialize("")
        if running:
            self.where = "the Ray instance already running in this process"
        elif self.address is None:
            self._start_local(num_cpus)
            self.where = "local instance on 127.0.0.1"
        else:
            self._connect()
            self.where = f"cluster at {self.address}"
        self.start_seconds = time.perf_counter() - t0
        self._quiet_data()
        resources = self.ray.cluster_resources()
        self.cpus = int(resources.get("CPU", 0))
        self.gpus = int(resources.get("GPU", 0))
        self.workers = max(1, self.cpus // self.threads)

    # ---- the instance -------------------------------------------------------------------------
    def _set_env(self, name: str, value: str) -> None:
        self._restore.setdefault(name, os.environ.get(name))
        os.environ[name] = value

    def _local_env(self) -> None:
        """The switches of a local instance, in this process's environment (Ray's processes
        inherit them): loopback only, and token auth with a token kept in the environment (Ray's
        own default writes ~/.ray/auth_token) unless the caller chose otherwise."""
        self._set_env(LOOPBACK_ENV, "0")
        if not any(os.environ.get(k) for k in _AUTH_ENV):
            self._set_env("RAY_AUTH_MODE", "token")
            self._set_env("RAY_AUTH_TOKEN", _process_token())

    def _start_local(self, num_cpus) -> None:
        import ray._private.ray_constants as constants

        # read when ray was imported (perhaps before the switch was set)
        self._restore_constant = constants.ENABLE_RAY_CLUSTER
        constants.ENABLE_RAY_CLUSTER = False
        try:
            self.ray.init(address="local", _node_ip_address="127.0.0.1", include_dashboard=False,
                          num_cpus=num_cpus, log_to_driver=False, logging_level=logging.WARNING)
        except Exception as err:
            self._undo_env()
            raise RuntimeFailure(f"could not start a local Ray instance: {_one_line(err)}") from None
        self._owned = True
        node = self.ray._private.worker._global_node
        if node is None or node.node_ip_address != "127.0.0.1":
            self.close()
            raise RuntimeFailure("the local Ray instance did not bind to 127.0.0.1 only; not using it")

    def _remote_env(self) -> None:
        """The token of the cluster at ``address``: found here, or an InputError."""
        from pathlib import Path

        token = (os.environ.get("RAY_AUTH_TOKEN") or os.environ.get("RAY_AUTH_TOKEN_PATH")
                 or (Path.home() / ".ray" / "auth_token").is_file())
        if "RAY_AUTH_MODE" not in os.environ:
            if not token:
                # Ray clusters use token authentication by default; without a token Ray would
                # retry for ~20 s, one log line a second, then fail with a connection error
                raise InputError(f"{param('address', self.address)}: no Ray token found here (Ray clusters use "
                                 "token authentication by default): set RAY_AUTH_TOKEN, or RAY_AUTH_TOKEN_PATH to a "
                                 "file holding it, or copy the head node's ~/.ray/auth_token here (ray get-auth-token "
                                 "on the head prints it); RAY_AUTH_MODE=disabled for a cluster without authentication")
            # Ray switches token auth on by itself only for a cluster it finds, not for an
            # address given: the token found is used
            self._set_env("RAY_AUTH_MODE", "token")

    def _connect(self) -> None:
        try:
            self.ray.init(address=self.address, log_to_driver=False, logging_level=logging.WARNING)
        except self.ray.exceptions.AuthenticationError:
            self._undo_env()
            raise InputError(f"{param('address', self.address)}: the cluster uses token authentication and no token "
                             "was found here: set RAY_AUTH_TOKEN (or RAY_AUTH_TOKEN_PATH to a file holding it), or "
                             "copy the head node's ~/.ray/auth_token (ray get-auth-token) to this machine") from None
        except Exception as err:
            self._undo_env()
            text = _one_line(err)
            if "auth" in text.lower() or "unauthenticated" in text.lower():
                raise InputError(f"{param('address', self.address)}: the cluster refused the connection ({text}); "
                                 "it may want its token: set RAY_AUTH_TOKEN or RAY_AUTH_TOKEN_PATH, or copy the head "
                                 "node's ~/.ray/auth_token here") from None
            raise InputError(f"{param('address', self.address)}: cannot connect to a Ray cluster there ({text}): "
                             "unreachable, not a Ray head, or a token that is not the cluster's") from None
        self._owned = True  # this process's connection: ray.shutdown() disconnects, the cluster stays

    def _quiet_data(self) -> None:
        with warnings.catch_warnings():  # Ray Data's context warns of its own deprecated fields
            warnings.simplefilter("ignore")
            ctx = self.ray.data.DataContext.get_current()
        ctx.enable_progress_bars = False
        ctx.enable_auto_log_stats = False
        ctx.verbose_stats_logs = False
        for name in ("ray", "ray.data"):
            logging.getLogger(name).setLevel(logging.WARNING)
        # its one warning is that the progress bars are off
        logging.getLogger("ray.data._internal.progress").setLevel(logging.ERROR)

    def _undo_env(self) -> None:
        for name, value in self._restore.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        self._restore = {}
        if hasattr(self, "_restore_constant"):
            import ray._private.ray_constants as constants

            constants.ENABLE_RAY_CLUSTER = self._restore_constant
            del self._restore_constant

    def close(self) -> None:
        """Stop the local instance (or disconnect from the cluster) when this engine began it."""
        if self._owned:
            self._owned = False
            self.ray.shutdown()
            self._undo_env()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def describe(self) -> dict:
        return {"name": self.name, "workers": self.workers, "how": "Ray tasks (models), Ray Data actor pool (images)",
                "where": self.where, "cpus": self.cpus, "gpus": self.gpus, "threads_per_worker": self.threads,
                "ray_version": self.ray.__version__}

    def summary(self) -> str:
        """One line: what runs where (``engine ray: local instance on 127.0.0.1, 2 CPUs, no GPU``)."""
        gpus = f"{self.gpus} GPU{'s' if self.gpus != 1 else ''}" if self.gpus else "no GPU"
        return (f"engine ray: {self.where}, {self.cpus} CPUs, {gpus}; {self.workers} workers of {self.threads} "
                f"thread{'s' if self.threads != 1 else ''} (started in {self.start_seconds:.1f} s)")

    # ---- models: Ray Core tasks ---------------------------------------------------------------
    def map_models(self, task, items, on_result=None) -> dict:
        """``{id: task(item)}`` sorted by id; ``on_result(id, result)`` as each arrives."""
        ray = self.ray
        remote = ray.remote(num_cpus=self.threads, max_retries=1)(_call)
        cwd = os.getcwd()
        pending = {remote.remote(task, items[key], cwd, self.threads): key for key in sorted(items)}
        results: dict = {}
        while pending:
            ready, _ = ray.wait(list(pending), num_returns=1)
            for ref in ready:
                key = pending.pop(ref)
                try:
                    value = ray.get(ref)
                except _died(ray) as err:
                    value = TaskFailure(f"the Ray worker died while measuring {key}, twice (a crash in a native "
                                        f"library, or out of memory: {_one_line(err)[:160]})")
                except ray.exceptions.RayError as err:
                    for ref_left in pending:
                        ray.cancel(ref_left)
                    cause = _cause(err)
                    if not isinstance(cause, ray.exceptions.RayError):
                        raise cause from None  # the task's own exception, as itself
                    # the task could not be run there (e.g. its function could not be unpickled)
                    raise RuntimeFailure(f"a Ray worker could not run the task for {key} ({_last_line(cause)}): is "
                                         "onnxsym, the same version, installed on every node?") from None
                results[key] = value
                if on_result is not None:
                    on_result(key, value)
        return {k: results[k] for k in sorted(results)}

    # ---- images: Ray Data, an actor pool ------------------------------------------------------
    def map_image_parts(self, task, indices, on_part=None) -> list:
        """The :class:`~onnxsym.consistency.analysis.PartResult` of every part of ``indices``, in
        image order; ``on_part(part)`` as each arrives. An actor that dies ends the measurement
        (RuntimeFailure); a part that fails raises its own OnnxsymError."""
        import numpy as np

        ray = self.ray
        indices = [int(i) for i in indices]
        if not indices:
            return []
        gpu = self.gpus > 0
        actors = max(1, min(self.gpus if gpu else self.workers, len(indices)))
        size = max(1, min(MAX_PART, -(-len(indices) // (PARTS_PER_WORKER * actors))))
        blocks = [np.asarray(indices[k:k + size], np.int64) for k in range(0, len(indices), size)]
        ds = ray.data.from_numpy(blocks)  # one block per part: the batch an actor gets
        with warnings.catch_warnings():  # max_restarts goes through Ray Data's deprecated remote args
            warnings.simplefilter("ignore")
            # max_restarts=0: Ray Data's default (endless restarts) would loop on an image that
            # crashes the runtime, and logs an error line for every pool
            ds = ds.map_batches(_PartActor, batch_size=None, batch_format="numpy",
                                compute=ray.data.ActorPoolStrategy(size=actors),
                                fn_constructor_kwargs={"task": task, "threads": self.threads, "cwd": os.getcwd()},
                                num_cpus=self.threads, num_gpus=1 if gpu else None, max_restarts=0)
        parts: dict = {}
        try:
            for row in ds.iter_rows():
                part = pickle.loads(row["part"])
                parts[int(row["first"])] = part
                if on_part is not None:
                    on_part(part)
        except OnnxsymError:
            raise
        except _died(ray) as err:
            raise RuntimeFailure(f"a Ray worker died measuring images (a crash in a native library, or out of "
                                 f"memory): {_one_line(err)[:200]}") from None
        except Exception as err:
            cause = _cause(err)
            if isinstance(cause, OnnxsymError):
                raise cause from None
            raise RuntimeFailure(f"a Ray worker failed measuring images ({_last_line(cause)}): is onnxsym, the "
                                 "same version, installed on every node?") from None
        return [parts[k] for k in sorted(parts)]


def _call(task, item, cwd, threads):
    """A Ray task: ``task(item)`` (any picklable callable, builtins too), run in the caller's
    folder where the node has it (relative paths mean what they meant where the command ran)."""
    _enter(cwd, threads)
    return task(item)


def _enter(cwd, threads) -> None:
    """Work in ``cwd`` when this node has that folder (a worker of a cluster starts elsewhere), with
    ``threads`` numba threads (Ray sets OMP_NUM_THREADS to the CPUs reserved; numba reads its own
    variable when imported, a job-wide runtime_env would cost every worker a fresh start)."""
    if cwd and os.path.isdir(cwd) and os.getcwd() != cwd:
        os.chdir(cwd)
    import sys

    if "numba" not in sys.modules:
        os.environ["NUMBA_NUM_THREADS"] = str(threads)
    else:
        import numba

        numba.set_num_threads(max(1, min(threads, numba.config.NUMBA_NUM_THREADS)))


class _PartActor:
    """A Ray Data actor: the run opened once, one part measured per call."""

    def __init__(self, task, threads, cwd):
        from dataclasses import replace

        from ..consistency.analysis import PartRunner

        _enter(cwd, threads)
        self.runner = PartRunner(replace(task, settings={**task.settings, "threads": threads}))

    def __call__(self, batch: dict) -> dict:
        import numpy as np

        indices = [int(i) for i in np.sort(batch["data"])]
        part = self.runner.measure(indices)
        return {"first": np.asarray([indices[0]], np.int64),
                "part": np.asarray([pickle.dumps(part, protocol=pickle.HIGHEST_PROTOCOL)], dtype=object)}


_TOKEN: list = []


def _process_token() -> str:
    """The token of the local instances this process starts: one per process (Ray's token loader
    keeps the first it reads)."""
    if not _TOKEN:
        _TOKEN.append(secrets.token_hex(32))
    return _TOKEN[0]


def _running() -> bool:
    """Ray is imported and initialised in this process."""
    import sys

    ray = sys.modules.get("ray")
    return bool(ray is not None and getattr(ray, "is_initialized", lambda: False)())


def _died(ray) -> tuple:
    """Ray's exceptions for a worker (or its node) that died, not for a task that raised."""
    e = ray.exceptions
    return tuple(getattr(e, n) for n in ("WorkerCrashedError", "OutOfMemoryError", "NodeDiedError",
                                         "RayActorError", "LocalRayletDiedError") if hasattr(e, n))


def _cause(err):
    """The exception a Ray error wraps (a task's own), else ``err``."""
    seen = set()
    while id(err) not in seen:
        seen.add(id(err))
        if isinstance(err, OnnxsymError):
            return err
        inner = getattr(err, "cause", None) or err.__cause__
        if inner is None:
            break
        err = inner
    return err


def _last_line(err) -> str:
    """The last line of a Ray error (its cause, after the remote traceback), shortened."""
    lines = [ln.strip() for ln in str(err).splitlines() if ln.strip()]
    return (lines[-1] if lines else type(err).__name__)[:200]


def _one_line(err) -> str:
    text = " ".join(str(err).split())
    return f"{type(err).__name__}: {text}" if text else type(err).__name__
