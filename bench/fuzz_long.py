"""Long fuzzing run of onnxsym's model reader and data-free commands.

The mutation engine and the property are those of ``tests/test_fuzz.py`` (imported from there):
case ``i`` of seed ``s`` mutates ``models/keras_digits.onnx`` by a recipe drawn from
``random.Random(f"{s}:{i}")`` and runs one of ``weights --format json -o OUT``, ``padding --format
json`` or ``audit --no-run --json OUT`` in-process, in a worker process that runs many cases.

Run::

    python bench/fuzz_long.py --cases 100000 --jobs 2 --seed 0
    python bench/fuzz_long.py --seed 0 --case 1234        # replay one case, print recipe and outcome

Speed on the 2-core dev machine: 43-54 cases/s with ``--jobs 1``, 73 cases/s with ``--jobs 2``
(2000 cases), so 10^5 cases take about 25 min; a case is ~20 ms median (numba compiling a new
kernel shape or dtype makes a few take seconds).

Each worker is a fresh (spawned) process. A case gets ``--timeout`` seconds (an alarm inside the
worker reports where it hung; the parent kills a worker that does not answer ``--grace`` seconds
later and starts another); a worker whose RSS passes ``--kill-rss-gib`` is killed (a memory
failure), one whose peak RSS passed the ``--mem-cap-gib`` cap is replaced after reporting it.

Per case (``--log``, JSON lines): id, command, exit code, seconds, RSS after, peak RSS, failure
class. At the end: cases, rate, exit codes, crashes (exit not in {0, 2}, a traceback or internal
error, an uncaught exception, a bad error line or report, the input modified), hangs, memory
failures, worker deaths, max RSS, max case time, and per failure class one example: the recipe
(reduced by dropping mutations while the class stays the same), the command and the first line of
the error. Up to ``--save-per-class`` mutants per class are saved as
``<out>/<class>_<n>.onnx`` with a ``.json`` beside each (recipe, command, error).
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import multiprocessing as mp
import os
import random
import sys
import time
from collections import Counter
from multiprocessing.connection import wait
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def engine():
    """tests/test_fuzz.py as a module (one copy of the mutation engine and the property)."""
    if "onnxsym_test_fuzz" in sys.modules:
        return sys.modules["onnxsym_test_fuzz"]
    spec = importlib.util.spec_from_file_location("onnxsym_test_fuzz", ROOT / "tests" / "test_fuzz.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules["onnxsym_test_fuzz"] = mod
    spec.loader.exec_module(mod)
    return mod


def case_of(seed: int, i: int) -> tuple[list, str]:
    F = engine()
    rng = random.Random(f"{seed}:{i}")
    recipe = F.draw_recipe(rng.randint)
    return recipe, F.COMMAND_NAMES[rng.randint(0, len(F.COMMAND_NAMES) - 1)]


# ----------------------------------------------------------------------------------------------
# worker
# ----------------------------------------------------------------------------------------------
def worker_main(conn, workdir: str, timeout: float, mem_cap: int, log_path: str):
    # C-level output of the libraries goes to a log, not the terminal
    fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)
    F = engine()
    wd = Path(workdir)
    wd.mkdir(parents=True, exist_ok=True)
    os.chdir(wd)  # audit reads ./pyproject.toml
    seed = F.seed_bytes()
    for command in F.COMMAND_NAMES:  # warm-up: imports and numba compilation
        o = F.check_case(seed, command, wd / "warm", timeout=120)
        if o.problem:
            conn.send(("fatal", f"the seed model fails {command}: {o.detail}"))
            return
    conn.send(("ready", os.getpid()))
    while True:
        try:
            task = conn.recv()
        except EOFError:
            return
        if task is None:
            return
        case_id, recipe, command = task[:3]
        debug = len(task) > 3 and task[3]
        t0 = time.perf_counter()
        try:
            data = F.apply_recipe(seed, recipe)
        except Exception as e:  # a bug of the engine, not of onnxsym
            conn.send(("engine", case_id, f"{type(e).__name__}: {e}"))
            continue
        gen = time.perf_counter() - t0
        o = F.check_case(data, command, wd / "case", timeout=timeout, memory_cap=mem_cap, debug=debug)
        res = {"id": case_id, "command": command, "exit": o.exit_code, "seconds": round(o.seconds, 4),
               "gen_seconds": round(gen, 4), "rss": o.rss_after, "maxrss": o.maxrss, "problem": o.problem,
               "class": F.failure_class(o) if o.problem else None, "detail": o.detail[:300]}
        conn.send(("done", res))
        if o.problem in ("hang", "memory") or o.rss_after > (1 << 30):
            return  # a fresh worker for what follows


class Worker:
    def __init__(self, ctx, n: int, args):
        self.n = n
        self.parent, child = ctx.Pipe()
        wd = Path(args.workdir) / f"w{n}"
        wd.mkdir(parents=True, exist_ok=True)
        self.proc = ctx.Process(target=worker_main, args=(child, str(wd), args.timeout,
                                                          int(args.mem_cap_gib * (1 << 30)),
                                                          str(Path(args.workdir) / f"w{n}.log")),
                                daemon=True)
        self.proc.start()
        child.close()
        self.task = None
        self.started = 0.0
        self.ready = False
        self.maxrss = 0

    def kill(self):
        try:
            self.proc.kill()
        except Exception:
            pass
        self.proc.join(5)
        self.parent.close()


# ----------------------------------------------------------------------------------------------
# parent
# ----------------------------------------------------------------------------------------------
def run_tasks(tasks, args, on_result, progress=None):
    """Run the (case_id, recipe, command) ``tasks`` on ``args.jobs`` workers; call
    ``on_result(task, res)`` for each, with res a dict (see worker_main) or, for a hang, a memory
    kill or a worker death seen from the parent, a dict made here."""
    import psutil

    ctx = mp.get_context("spawn")
    tasks = iter(tasks)
    workers = [Worker(ctx, n, args) for n in range(args.jobs)]
    spawned = args.jobs
    exhausted = False
    kill_rss = int(args.kill_rss_gib * (1 << 30))
    last_poll = 0.0

    def replace(w):
        nonlocal spawned
        w.kill()
        workers[workers.index(w)] = Worker(ctx, w.n, args)
        spawned += 1

    def feed(w):
        nonlocal exhausted
        if exhausted:
            return
        try:
            w.task = next(tasks)
        except StopIteration:
            exhausted = True
            w.task = None
            return
        w.started = time.monotonic()
        w.parent.send(w.task)

    while True:
        busy = [w for w in workers if w.task is not None or not w.ready]
        if exhausted and not busy:
            break
        ready = wait([w.parent for w in workers if not w.parent.closed], timeout=0.5)
        for conn in ready:
            w = next(w for w in workers if w.parent is conn)
            try:
                msg = conn.recv()
            except (EOFError, OSError):
                task = w.task
                w.proc.join(5)
                if task is not None:
                    code = w.proc.exitcode
                    on_result(task, {"id": task[0], "command": task[2], "exit": None,
                                     "seconds": round(time.monotonic() - w.started, 3), "rss": 0, "maxrss": 0,
                                     "problem": "died", "class": f"died_{code}",
                                     "detail": f"the worker process died (exit code {code})"})
                replace(w)
                continue
            if msg[0] == "fatal":
                for x in workers:
                    x.kill()
                raise SystemExit(f"fuzz_long: {msg[1]}")
            if msg[0] == "ready":
                w.ready = True
                feed(w)
            elif msg[0] == "engine":
                print(f"fuzz_long: engine error on case {msg[1]}: {msg[2]}", file=sys.stderr)
                w.task = None
                feed(w)
            elif msg[0] == "done":
                res = msg[1]
                w.maxrss = max(w.maxrss, res["maxrss"])
                task, w.task = w.task, None
                on_result(task, res)
                if res["problem"] in ("hang", "memory") or res["rss"] > (1 << 30):
                    w.proc.join(10)
                    replace(w)
                else:
                    feed(w)
        now = time.monotonic()
        for w in list(workers):
            if w.task is not None and now - w.started > args.timeout + args.grace:
                task = w.task
                on_result(task, {"id": task[0], "command": task[2], "exit": None,
                                 "seconds": round(now - w.started, 3), "rss": 0, "maxrss": 0, "problem": "hang",
                                 "class": "hang_killed", "detail": "no answer: killed by the parent"})
                replace(w)
        if now - last_poll > 0.25:
            last_poll = now
            for w in list(workers):
                if w.task is None:
                    continue
                try:
                    rss = psutil.Process(w.proc.pid).memory_info().rss
                except psutil.Error:
                    continue
                if rss > kill_rss:
                    task = w.task
                    on_result(task, {"id": task[0], "command": task[2], "exit": None,
                                     "seconds": round(now - w.started, 3), "rss": rss, "maxrss": rss,
                                     "problem": "memory", "class": "memory_killed",
                                     "detail": f"RSS {rss / 2**30:.2f} GiB: killed by the parent"})
                    replace(w)
        if progress:
            progress()
    for w in workers:
        try:
            w.parent.send(None)
        except OSError:
            pass
        w.proc.join(5)
        if w.proc.is_alive():
            w.kill()
    return spawned


def reduce_recipes(items, args) -> dict:
    """{class: recipe} for ``items`` [(class, recipe, command)]: mutations are dropped one at a
    time while the failure class stays the same (one worker, tasks drawn as results come in)."""
    reduced, last = {}, []

    def tasks():
        for cls, recipe, command in items:
            current, i = list(recipe), 0
            while len(current) > 1 and i < len(current):
                trial = current[:i] + current[i + 1:]
                last.clear()
                yield (-1, trial, command)
                if last and last[0]["class"] == cls:
                    current = trial
                else:
                    i += 1
            reduced[cls] = current

    if items:
        run_tasks(tasks(), argparse.Namespace(**{**vars(args), "jobs": 1}), lambda t, r: last.append(r))
    return reduced


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--cases", type=int, default=2000)
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--start", type=int, default=0, help="First case id (to continue a run).")
    p.add_argument("--case", type=int, help="Replay this one case of --seed and print it.")
    p.add_argument("--timeout", type=float, default=20.0, help="Seconds per case.")
    p.add_argument("--grace", type=float, default=10.0, help="Seconds after --timeout before a kill.")
    p.add_argument("--mem-cap-gib", type=float, default=1.5, help="Peak RSS of a case: over it fails.")
    p.add_argument("--kill-rss-gib", type=float, default=4.0, help="RSS at which a worker is killed.")
    p.add_argument("--slow", type=float, default=5.0, help="Report cases slower than this.")
    p.add_argument("--out", default="/tmp/fuzz_crashes", help="Where failing mutants are saved.")
    p.add_argument("--save-per-class", type=int, default=3)
    p.add_argument("--workdir", default="/tmp/fuzz_long")
    p.add_argument("--log", default=None, help="JSON lines per case [default: WORKDIR/cases.jsonl].")
    p.add_argument("--no-reduce", action="store_true", help="Do not reduce the example recipes.")
    args = p.parse_args(argv)
    F = engine()
    Path(args.workdir).mkdir(parents=True, exist_ok=True)

    if args.case is not None:
        recipe, command = case_of(args.seed, args.case)
        print(f"case {args.case}: {command} {recipe!r}")
        got = []
        run_tasks([(args.case, recipe, command), (args.case, recipe, command, True)],
                  argparse.Namespace(**{**vars(args), "jobs": 1}), lambda t, r: got.append(r))
        print(json.dumps(got[0], indent=1))
        if got[0]["problem"] and len(got) > 1:
            print(f"with ONNXSYM_DEBUG=1: {got[1]['detail']}")
        return 0

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    log = open(args.log or Path(args.workdir) / "cases.jsonl", "w")
    codes, classes, examples = Counter(), Counter(), {}
    commands: dict = {}
    stats = {"n": 0, "max_s": 0.0, "max_s_case": None, "max_rss": 0, "slow": []}
    t0 = time.monotonic()
    last = [t0]

    def on_result(task, res):
        stats["n"] += 1
        codes[res["exit"]] += 1
        if res["seconds"] > stats["max_s"]:
            stats["max_s"], stats["max_s_case"] = res["seconds"], (task[0], task[2])
        stats["max_rss"] = max(stats["max_rss"], res["maxrss"] or 0, res["rss"] or 0)
        if res["seconds"] > args.slow:
            stats["slow"].append((task[0], task[2], res["seconds"]))
        log.write(json.dumps(res) + "\n")
        cls = res["class"]
        if cls:
            classes[cls] += 1
            commands.setdefault(cls, Counter())[task[2]] += 1
            k = classes[cls]
            if cls not in examples:
                examples[cls] = (task, res)
            if k <= args.save_per_class:
                path = out / f"{cls}_{k}.onnx"
                path.write_bytes(F.apply_recipe(F.seed_bytes(), task[1]))
                path.with_suffix(".json").write_text(json.dumps(
                    {"seed": args.seed, "case": task[0], "command": task[2], "recipe": repr(task[1]),
                     "args": F.command_args(task[2], Path("m.onnx"), Path("OUT")), "result": res}, indent=1))

    def progress():
        now = time.monotonic()
        if now - last[0] > 30:
            last[0] = now
            print(f"  {stats['n']}/{args.cases} cases, {stats['n'] / (now - t0):.1f}/s, "
                  f"{sum(classes.values())} failures in {len(classes)} classes", file=sys.stderr, flush=True)

    tasks = ((i, *case_of(args.seed, i)) for i in range(args.start, args.start + args.cases))
    spawned = run_tasks(tasks, args, on_result, progress)
    wall = time.monotonic() - t0
    log.close()

    n = stats["n"]
    rate = n / wall if wall else 0.0
    kinds = Counter()
    for cls, k in classes.items():
        kind = examples[cls][1]["problem"]
        kinds["hangs" if kind == "hang" else "memory" if kind == "memory" else "crashes"] += k
    print(f"cases {n} (seed {args.seed}, ids {args.start}..{args.start + args.cases - 1}), jobs {args.jobs}, "
          f"wall {wall:.0f} s, rate {rate:.1f} cases/s "
          f"(10^5 cases: {1e5 / rate / 3600 if rate else float('inf'):.2f} h), workers started {spawned}")
    print(f"exit codes: {dict(sorted(codes.items(), key=lambda kv: str(kv[0])))}")
    print(f"crashes {kinds['crashes']}, hangs {kinds['hangs']}, memory {kinds['memory']}, "
          f"classes {len(classes)}")
    print(f"max RSS {stats['max_rss'] / 2**20:.0f} MiB, max case time {stats['max_s']:.2f} s "
          f"(case {stats['max_s_case']}), slow (> {args.slow:g} s) {len(stats['slow'])}: "
          f"{stats['slow'][:10]}")
    todo = [(cls, task[1], task[2]) for cls, (task, res) in examples.items()
            if not args.no_reduce and res["problem"] not in ("hang", "died", "memory") and len(task[1]) > 1]
    reduced = reduce_recipes(todo, args)
    # where each class fails: the reduced recipe once more with ONNXSYM_DEBUG=1 (its traceback)
    located = {}
    debug_tasks = [(cls, (reduced.get(cls, task[1]), task[2])) for cls, (task, res) in examples.items()
                   if res["problem"] in ("internal_error", "exit")]
    if debug_tasks:
        order = [cls for cls, _ in debug_tasks]
        run_tasks([(-2, r, c, True) for _, (r, c) in debug_tasks],
                  argparse.Namespace(**{**vars(args), "jobs": 1}),
                  lambda t, r: located.setdefault(order[len(located)], r["detail"]))
    summary = []
    for cls, k in classes.most_common():
        (case_id, recipe, command), res = examples[cls]
        recipe = reduced.get(cls, recipe)
        print(f"- {cls}: {k} case(s) ({', '.join(f'{c} {n}' for c, n in sorted(commands[cls].items()))}); "
              f"e.g. case {case_id}: {command} {recipe!r}")
        print(f"    {res['detail'][:240]}")
        if cls in located:
            print(f"    debug: {located[cls][:240]}")
        print(f"    saved: {out / (cls + '_1.onnx')}")
        summary.append({"class": cls, "count": k, "commands": dict(commands[cls]), "case": case_id,
                        "command": command, "recipe": repr(recipe), "detail": res["detail"],
                        "debug": located.get(cls), "saved": str(out / (cls + "_1.onnx"))})
    (out / "summary.json").write_text(json.dumps(
        {"seed": args.seed, "cases": n, "wall_s": round(wall, 1), "rate": round(rate, 2), "jobs": args.jobs,
         "exit_codes": {str(k): v for k, v in codes.items()}, **kinds, "max_rss": stats["max_rss"],
         "max_case_s": stats["max_s"], "slow": stats["slow"], "classes": summary}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
