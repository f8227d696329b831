"""The local engine: the per-model tasks in this process (``jobs == 1``) or in a pool of
``jobs`` worker processes started with ``spawn`` (no state inherited by fork: each worker imports
onnxsym afresh; numba's compiled kernels come from its on-disk cache).

With a pool, at most ``jobs`` items are in flight, so when a worker dies (a crash in a native
library, the memory killer) only those items are suspects: each is run again alone in a fresh
worker, and one whose worker dies again gets a :class:`~onnxsym.engines.TaskFailure`; the other
items go on in a fresh pool. Each worker
uses ``cpu_count // jobs`` onnxruntime (and numba) threads, so ``jobs`` workers do not
oversubscribe the cores; the numbers do not depend on the thread count. Workers word messages
with the flags of the caller (:func:`onnxsym.wording.flags`) and keep its choice of showing or
hiding the libraries' Python warnings.
"""
from __future__ import annotations

import os
import warnings
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool

from ..parsing import integer
from . import TaskFailure

class LocalEngine:
    """``jobs`` workers on this machine (1: in this process)."""

    name = "local"

    def __init__(self, jobs: int = 1):
        self.workers = integer(jobs, "jobs", 1)
        cores = os.cpu_count() or 1
        self.threads = None if self.workers == 1 else max(1, cores // self.workers)

    def describe(self) -> dict:
        return {"name": self.name, "workers": self.workers,
                "how": "in process" if self.workers == 1 else "process pool (spawn)",
                "threads_per_worker": self.threads}

    def map_models(self, task, items, on_result=None) -> dict:
        """``{id: task(item)}`` sorted by id; ``on_result(id, result)`` as each arrives."""
        results: dict = {}

        def done(key, value):
            results[key] = value
            if on_result is not None:
                on_result(key, value)

        keys = sorted(items)
        if self.workers == 1 or len(keys) <= 1:
            for key in keys:
                done(key, task(items[key]))
        else:
            self._pool(task, items, keys, done)
        return {k: results[k] for k in sorted(results)}

    def map_image_parts(self, task, indices, on_part=None) -> list:
        """The :class:`~onnxsym.consistency.analysis.PartResult` of every part of ``indices``
        (contiguous chunks, two per worker), in image order; ``on_part(part)`` as each arrives. A
        part whose worker died twice raises RuntimeFailure: a measurement is not a row of a study."""
        from dataclasses import replace

        from ..errors import RuntimeFailure

        indices = list(indices)
        parts = max(1, min(len(indices), 2 * self.workers if self.workers > 1 else 1))
        size = -(-len(indices) // parts)
        chunks = {f"{k:06d}": (replace(task, settings={**task.settings, "threads": self.threads or
                                                        task.settings.get("threads")}), indices[k * size:(k + 1) * size])
                  for k in range(parts) if indices[k * size:(k + 1) * size]}
        results = self.map_models(_image_part, chunks, (lambda _k, r: None if isinstance(r, TaskFailure) else on_part(r))
                                  if on_part else None)
        failed = [k for k, r in results.items() if isinstance(r, TaskFailure)]
        if failed:
            raise RuntimeFailure(results[failed[0]].message)
        return [results[k] for k in sorted(results)]

    def _pool(self, task, items, keys, done) -> None:
        import multiprocessing

        from .. import wording

        context = multiprocessing.get_context("spawn")
        first = warnings.filters[0] if warnings.filters else None
        quiet = first is not None and first[0] == "ignore" and first[1] is None and first[2] is Warning \
            and first[3] is None
        init = (wording.current_flags(), quiet, self.threads)  # the caller's wording of parameters

        def pool(n):
            return ProcessPoolExecutor(max_workers=n, mp_context=context, initializer=_init_worker, initargs=init)

        todo = list(keys)
        while todo:
            with pool(min(self.workers, len(todo))) as p:
                todo, suspects = self._run(p, task, items, todo, done)
            for key in suspects:  # each alone: an item whose worker dies again is given up
                with pool(1) as p:
                    _, again = self._run(p, task, items, [key], done)
                if again:
                    done(key, TaskFailure(f"the worker process died while measuring {key}, twice (a crash in a "
                                          "native library, or out of memory)"))

    def _run(self, pool, task, items, todo, done) -> tuple[list, list]:
        """Run ``todo`` on ``pool`` (at most ``workers`` in flight). Returns (items not started,
        items running when a worker died): both empty when all are done."""
        queue, running = list(todo), {}
        while queue or running:
            while queue and len(running) < self.workers:
                key = queue.pop(0)
                running[pool.submit(task, items[key])] = key
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for fut in finished:
                key = running.pop(fut)
                try:
                    value = fut.result()
                except BrokenProcessPool:
                    return queue, sorted([key] + list(running.values()))
                done(key, value)
        return [], []


def _image_part(item):
    """A part of a consistency measurement (module level: picklable for the pool)."""
    from ..consistency.analysis import measure_part

    task, indices = item
    return measure_part(task, indices)


def _init_worker(flag_map: dict, quiet: bool, threads) -> None:
    """A worker: the caller's wording and warnings; thread counts set before numba is imported."""
    if threads:
        os.environ.setdefault("NUMBA_NUM_THREADS", str(threads))
    if quiet:
        warnings.simplefilter("ignore")
    if flag_map:
        from .. import wording

        wording.flags(flag_map).__enter__()  # for the worker's lifetime
