"""Execution engines for the study: where the per-model tasks run (beside L3; they know nothing
of what a task computes).

An engine maps a picklable task function over items keyed by model id and returns the results
keyed by the same ids, in sorted id order, never in order of arrival — so the study's rows do not
depend on how many workers ran or which finished first. A worker that dies gives a :class:`TaskFailure`
for its item. ``on_result(id, result)`` is called in the caller's process as each result arrives (the study writes its cache entry then, so an interrupted
study keeps what was finished).

* :class:`~onnxsym.engines.local.LocalEngine` — ``jobs == 1`` in this process, ``jobs > 1`` a
  process pool (``spawn``).
* :class:`~onnxsym.engines.ray.RayEngine` — Ray Core tasks for the models, a Ray Data actor pool
  for the parts of a consistency run; a local Ray instance on 127.0.0.1, or a cluster
  (``address``). Ray is an optional extra: ``pip install -e ".[ray]"``.

Besides models, an engine may run the parts of one consistency measurement:
``map_image_parts(task, indices, on_part)`` (what :func:`onnxsym.measure_consistency` calls with
``engine=``) returns the :class:`~onnxsym.consistency.analysis.PartResult` of every part, in image
order. :func:`create` makes an engine by name, :func:`running` also closes it.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Callable, Mapping, Protocol, runtime_checkable

from ..errors import InputError
from ..wording import param

#: the engines :func:`create` knows
ENGINES = ("local", "ray")


@runtime_checkable
class Engine(Protocol):
    """What the study needs from an engine."""

    #: a short name for reports ("local", "ray")
    name: str
    #: how many tasks run at once
    workers: int
    #: onnxruntime threads each task should use (None: all cores)
    threads: int | None

    def map_models(self, task: Callable, items: Mapping[str, object],
                   on_result: Callable[[str, object], None] | None = None) -> dict:
        """``{id: task(item)}`` for every ``{id: item}``, sorted by id."""
        ...

    def describe(self) -> dict:
        """JSON-ready facts about the engine (name, workers, how they run)."""
        ...


class TaskFailure:
    """The result an engine gives for an item whose worker died (a crash, the memory killer):
    ``message`` says so. A task's own exceptions are not caught: tasks catch what they expect."""

    def __init__(self, message: str):
        self.message = message

    def __repr__(self):
        return f"TaskFailure({self.message!r})"

    def __eq__(self, other):
        return isinstance(other, TaskFailure) and other.message == self.message


def local(jobs: int = 1):
    """The local engine with ``jobs`` workers."""
    from .local import LocalEngine

    return LocalEngine(jobs)


def create(name: str = "local", *, jobs: int = 1, address: str | None = None) -> Engine:
    """The engine called ``name``.

    Parameters
    ----------
    name : {"local", "ray"}
    jobs : int
        Workers of the local engine. With ``ray`` it must be 1: Ray runs a task per CPU of the
        instance or cluster (an actor per GPU for images), not a number of processes chosen here.
    address : str, optional
        The Ray cluster (``auto``, ``HOST:PORT``, ``ray://HOST:10001``); default a local Ray
        instance on 127.0.0.1. Only with ``ray``.

    Raises
    ------
    InputError
        An unknown name, ``jobs`` or ``address`` where they do not apply, Ray not installed, a
        cluster that cannot be reached or that wants a token not found here.
    """
    if name not in ENGINES:
        raise InputError(f"{param('engine', name)}: use one of {', '.join(ENGINES)}")
    if name == "local":
        if address is not None:
            raise InputError(f"{param('address')} is for {param('engine', 'ray')}")
        return local(jobs)
    if jobs != 1:
        raise InputError(f"{param('jobs')} is for {param('engine', 'local')}: with {param('engine', 'ray')}, Ray runs "
                         "one task per CPU of the instance or cluster")
    from .ray import RayEngine

    return RayEngine(address)


@contextmanager
def running(name: str = "local", *, jobs: int = 1, address: str | None = None):
    """:func:`create`, and close the engine (a Ray instance started for it) when the block ends."""
    engine = create(name, jobs=jobs, address=address)
    try:
        yield engine
    finally:
        close = getattr(engine, "close", None)
        if close is not None:
            close()


__all__ = ["ENGINES", "Engine", "TaskFailure", "create", "local", "running"]
