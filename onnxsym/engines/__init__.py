"""Execution engines for the study: where the per-model tasks run (beside L3; they know nothing
of what a task computes).

An engine maps a picklable task function over items keyed by model id and returns the results
keyed by the same ids, in sorted id order, never in order of arrival — so the study's rows do not
depend on how many workers ran or which finished first. A worker that dies gives a :class:`TaskFailure`
for its item. ``on_result(id, result)`` is called in the caller's process as each result arrives (the study writes its cache entry then, so an interrupted
study keeps what was finished).

* :class:`~onnxsym.engines.local.LocalEngine` — ``jobs == 1`` in this process, ``jobs > 1`` a
  process pool (``spawn``).
* The Ray engine (next issue) implements the same :class:`Engine` protocol.

The seam is per model. A per-image-batch step (a model's consistency batches spread over
workers) needs a hook in :func:`onnxsym.measure_consistency`, whose batches are run inside the
consistency package; it is not part of this protocol yet.
"""
from __future__ import annotations

from typing import Callable, Mapping, Protocol, runtime_checkable


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


__all__ = ["Engine", "TaskFailure", "local"]
