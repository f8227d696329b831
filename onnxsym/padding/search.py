"""Input sizes near the nominal one at which every strided layer pads evenly.

Size suggestions keep only sizes at which the network still fits together: each candidate is
checked by strict ONNX shape inference (which agrees with onnxruntime on PP-OCR det and a
UNet at every size tried), and sizes where, e.g., an upsampled decoder branch no longer matches
its skip connection are skipped and counted. With several image inputs, inputs of the same size
(or the same symbolic dims) are varied together and every other input is searched on its own;
a layer only joins the searches of the inputs that reach it.

Size suggestions are kept plausible: unless a range is given, sizes below half the nominal one,
and sizes at which some layer's output would shrink below 2 px (where it has at least 2 at the
nominal size), are not suggested. A suggestion comes with caveats when the model declares a fixed
input size (it must be re-exported to take another) and when it moves an axis more than 10 % from
the nominal size (a change that may cost accuracy).
"""
from __future__ import annotations

import itertools
import time

from ..defaults import SIZE_MARGIN
from ..wording import param
from .arithmetic import geometry, input_size
from .results import Suggestions

MIN_OUTPUT = 2            # suggested sizes keep every layer's output at least this large (px)
LARGE_CHANGE = 0.10       # relative change of an axis beyond which a suggestion gets a caveat
AXIS_NAMES = {1: ("width",), 2: ("height", "width"), 3: ("depth", "height", "width")}


def _even_axes(spec, static, shapes) -> list | str | None:
    """Per conv axis: True (even) / False (uneven); None when the size is unknown, "too small"
    when the input is too small for the layer."""
    if isinstance(static, str):
        return None
    sizes, _ = input_size(spec, shapes, static[0])
    if sizes is None:
        return None
    geo = geometry(spec, static, sizes)
    if geo is None:
        return "too small"
    return [g.before == g.after for g in geo]


def _shrinks(keep_big, shapes) -> bool:
    """Whether some layer's output falls below its floor (``MIN_OUTPUT`` px per axis where it had
    that much at the nominal size) at the sizes in ``shapes``."""
    for spec, static, need in keep_big:
        if isinstance(static, str):
            continue
        sizes, _ = input_size(spec, shapes, static[0])
        if sizes is None:
            continue
        geo = geometry(spec, static, sizes)
        if geo is None:
            return True
        if any(g.output < m for g, m in zip(geo, need)):
            return True
    return False


def _names(names) -> str:
    return ", ".join(repr(x) for x in names)


def _sizes_text(sizes) -> str:
    return "×".join(map(str, sizes))


def suggest(oracle, group, all_dims, specs, statics, rows, size_range, spatial,
            accepted_problems=frozenset(), progress=None) -> Suggestions:
    """Search sizes for the image inputs of ``group`` (varied together; every other input stays
    at its size in ``all_dims``) over the strided layers those inputs reach.

    ``accepted_problems``: keys of strict-inference problems that do not disqualify a size (those
    the model already has at the analysed size)."""
    search = _Search(oracle, group, all_dims, specs, statics, rows, size_range, spatial, accepted_problems)
    search.progress = progress
    if search.active:
        search.run()
        search.describe()
    else:
        search.describe_idle()
    search.sug.seconds = round(time.perf_counter() - search.t0, 4)
    return search.sug


class _Search:
    """One size search: the candidate ranges, what is checked at each size, and the findings."""

    def __init__(self, oracle, group, all_dims, specs, statics, rows, size_range, spatial, accepted):
        self.t0 = time.perf_counter()
        self.oracle, self.group, self.all_dims, self.accepted = oracle, group, all_dims, accepted
        self.spatial = list(spatial)
        n = self.n = len(spatial)
        self.names = [im.name for im in group]
        self.axes = list(AXIS_NAMES.get(n, tuple(f"axis{j}" for j in range(n))))
        floor = None
        if size_range is not None:
            ranges = [tuple(size_range)] * n
        else:  # no sizes below half the nominal one unless a range asks for them
            floor = [max(1, -(-v // 2)) for v in spatial]
            ranges = [(max(f, v - SIZE_MARGIN), v + SIZE_MARGIN) for v, f in zip(spatial, floor)]
        self.ranges = ranges
        self.square = len(set(spatial)) == 1 and len(set(ranges)) == 1
        self.sug = Suggestions(nominal=list(spatial), axes=self.axes,
                               range=list(ranges[0]) if len(set(ranges)) == 1 else [list(r) for r in ranges],
                               mode="square" if self.square else "per-axis", inputs=self.names, floor=floor)
        names = set(self.names)
        # layers whose output must stay >= MIN_OUTPUT px per axis (where it is at the nominal size)
        self.keep_big = [] if floor is None else [
            (sp, st, [MIN_OUTPUT if o >= MIN_OUTPUT else 0 for o in r.output_size])
            for sp, st, r in zip(specs, statics, rows)
            if r.status == "ok" and r.output_size and any(o >= MIN_OUTPUT for o in r.output_size)
            and set(r.inputs) & names]
        fed = [bool(set(r.inputs) & names) for r in rows]
        self.active = [(sp, st, r) for sp, st, r, f in zip(specs, statics, rows, fed) if r.size_dependent and f]
        self.sug.not_varied = [r.id for r, f in zip(rows, fed) if r.size_dependent and not f]
        self.sug.fixed_uneven = [r.id for r in rows if r.status == "ok" and r.uneven and not r.size_dependent]
        self.others = sorted({i for r, f in zip(rows, fed) if r.size_dependent and not f for i in r.inputs})
        self.mismatch: dict = {}
        self.too_small: set = set()
        self.unknown_at: set = set()
        self.tiny: set = set()
        self.score: dict = {}
        self.never: list = []
        self.progress = None
        longest = max(hi - lo + 1 for lo, hi in ranges)
        self.expected = longest if self.square else longest + 8  # per-axis: + the combinations confirmed

    # ---- wording shared by both outcomes ------------------------------------------------------
    @property
    def range_text(self) -> str:
        r = self.ranges
        return (f"{r[0][0]}–{r[0][1]}" if len(set(r)) == 1
                else ", ".join(f"{a} {lo}–{hi}" for a, (lo, hi) in zip(self.axes, r)))

    def _fixed_note(self) -> str:
        return (f"{len(self.sug.fixed_uneven)} layer(s) pad unevenly at every input size (stride 1 with "
                "asymmetric pads, e.g. TF SAME with an even kernel, or ConvTranspose): no size fixes them")

    def _not_varied_note(self) -> str:
        return (f"{len(self.sug.not_varied)} strided layer(s) not reached from {_names(self.names)} "
                f"(fed by {_names(self.others) if self.others else 'no image input'}): left out of this search")

    def describe_idle(self) -> None:
        sug = self.sug
        sug.note = "no strided layer: the input size does not change the padding"
        if sug.not_varied:
            sug.note = (f"no strided layer reached from {_names(self.names)}: its size does not change the padding; "
                        + self._not_varied_note())
        if sug.fixed_uneven:
            sug.note += "; " + self._fixed_note()

    # ---- one candidate ----------------------------------------------------------------------
    def shape_for(self, sizes, name=None):
        out = {k: list(v) for k, v in self.all_dims.items()}
        for im in self.group:
            for ax, v in zip(im.spatial_axes, sizes):
                out[im.name][ax] = v
        return out if name is None else out[name]

    def evaluate(self, sizes) -> list:
        """Per active layer: list of per-axis evenness, or None where its size is unknown, the
        input is too small for it or the network's shapes do not fit together at this size."""
        try:
            shapes, problems = self.oracle.infer_checked(self.shape_for(sizes), need_shapes=bool(self.accepted))
        except Exception:  # noqa: BLE001 - a size inference cannot handle is just not suggested
            shapes, problems = {}, []
        self.sug.checked += 1
        if self.progress is not None:
            self.progress(self.sug.checked, self.expected)
        new = [p for p in problems if p.key not in self.accepted]
        if new:
            self.mismatch[tuple(sizes)] = new[0]
            return [None] * len(self.active)
        if self.keep_big and _shrinks(self.keep_big, shapes or {}):
            self.tiny.add(tuple(sizes))
            return [None] * len(self.active)
        res = [_even_axes(sp, st, shapes or {}) for sp, st, _ in self.active]
        if any(ev == "too small" for ev in res):
            self.too_small.add(tuple(sizes))
        elif any(ev is None for ev in res):
            self.unknown_at.add(tuple(sizes))
        return [None if isinstance(ev, str) else ev for ev in res]

    # ---- the search ---------------------------------------------------------------------------
    def run(self) -> None:
        if self.square:
            self._run_square()
        else:
            self._run_per_axis()
        self.sug.never_even = [r.id for k, (_, _, r) in enumerate(self.active) if self.never[k]]

    def _run_square(self) -> None:
        lo, hi = self.ranges[0]
        n, k_active = self.n, len(self.active)
        known, ever_all_even, good = [False] * k_active, [False] * k_active, []
        for c in range(lo, hi + 1):
            res = self.evaluate([c] * n)
            for k, ev in enumerate(res):
                if ev is not None:
                    known[k] = True
                    ever_all_even[k] |= all(ev)
            if any(ev is None for ev in res):
                continue
            bad = sum(1 for ev in res if not all(ev))
            self.score[c] = bad
            if bad == 0:
                good.append(c)
        good.sort(key=lambda c: (abs(c - self.spatial[0]), c))
        self.sug.sizes = [[c] * n for c in good]
        self.never = [known[k] and not ever_all_even[k] for k in range(k_active)]

    def _run_per_axis(self) -> None:
        # Axes are independent in conv arithmetic: run t sets every axis to lo_j + t at once and
        # each axis is judged on its own column of results.
        n, k_active = self.n, len(self.active)
        known, ever_even = [False] * k_active, [[False] * n for _ in self.active]
        good_axis = [[] for _ in range(n)]
        longest = max(hi - lo + 1 for lo, hi in self.ranges)
        for t in range(longest):
            for axes_run, sizes_run, res_run in self._per_axis_runs(t):
                for k, ev in enumerate(res_run):
                    if ev is not None:
                        known[k] = True
                        for j in axes_run:
                            ever_even[k][j] |= ev[j]
                for j in axes_run:
                    col = [None if ev is None else ev[j] for ev in res_run]
                    if not any(c is None for c in col) and all(col):
                        good_axis[j].append(sizes_run[j])
        for j in range(n):
            good_axis[j].sort(key=lambda v: (abs(v - self.spatial[j]), v))
        self.sug.per_axis = {self.axes[j]: good_axis[j] for j in range(n)}
        if all(good_axis):
            combos = sorted(itertools.product(*[g[:6] for g in good_axis]),
                            key=lambda c: (sum(abs(v - s0) for v, s0 in zip(c, self.spatial)), c))
            for c in combos[:8]:  # confirm the combinations with a full run each
                res = self.evaluate(list(c))
                if all(ev is not None and all(ev) for ev in res):
                    self.sug.sizes.append(list(c))
                if len(self.sug.sizes) >= 5:
                    break
        self.never = [known[k] and not all(ever_even[k]) for k in range(k_active)]

    def _per_axis_runs(self, t):
        """The runs at step ``t``: all axes together, or each axis alone when a run fails."""
        sizes, which = [], []
        for j, (lo, hi) in enumerate(self.ranges):
            v = lo + t
            if v <= hi:
                sizes.append(v)
                which.append(j)
            else:
                sizes.append(self.spatial[j])
        res = self.evaluate(sizes)
        if any(ev is None for ev in res) and len(which) > 1:
            # one axis may be too small: judge each axis alone, the others at nominal
            runs = []
            for j in which:
                alone = list(self.spatial)
                alone[j] = sizes[j]
                runs.append(([j], alone, self.evaluate(alone)))
            return runs
        return [(which, sizes, res)]

    # ---- the findings, in words -----------------------------------------------------------------
    def describe(self) -> None:
        sug, names = self.sug, self.names
        if len(self.all_dims) == 1:
            sug.input_shapes = ["x".join(map(str, self.shape_for(sz, names[0]))) for sz in sug.sizes]
        else:  # name every image input (its size known), so that the others keep theirs
            shown = [k for k, v in self.all_dims.items() if k in names or all(isinstance(d, int) for d in v)]
            sug.input_shapes = [";".join(f"{k}={'x'.join(map(str, self.shape_for(sz, k)))}" for k in shown)
                                for sz in sug.sizes]
        notes = self._outcome_notes()
        notes += self._skipped_notes()
        if sug.sizes:
            self._caveats()
        if sug.not_varied:
            notes.append(self._not_varied_note())
        if sug.fixed_uneven:
            notes.append(self._fixed_note())
        sug.note = "; ".join(notes)

    def _outcome_notes(self) -> list:
        sug, rng, n = self.sug, self.range_text, self.n
        notes = []
        if sug.sizes:
            count = len(sug.sizes)
            notes.append(f"{_sizes_text(sug.sizes[0])} pads every strided layer evenly"
                         + (f" ({count} size{'s' if count != 1 else ''} in {rng} do{'es' if count == 1 else ''})"
                            if self.square else f" (sizes tried: {rng})"))
        else:
            notes.append(f"no input size in {rng} pads every strided layer evenly")
            if self.square and self.score:
                fewest = min(self.score.values())
                best = min((c for c, v in self.score.items() if v == fewest),
                           key=lambda c: (abs(c - self.spatial[0]), c))
                sug.best = {"size": [best] * n, "uneven_strided_layers": fewest}
                notes.append(f"fewest uneven strided layers: {fewest} at {_sizes_text([best] * n)}")
            elif not self.square:
                missing = [self.axes[j] for j in range(n) if not sug.per_axis[self.axes[j]]]
                if missing:
                    notes.append(f"no even {' or '.join(missing)} in range")
        if sug.never_even:
            head = ", ".join(sug.never_even[:3]) + (f" and {len(sug.never_even) - 3} more"
                                                     if len(sug.never_even) > 3 else "")
            notes.append(f"uneven at every size tried: {head}")
        return notes

    def _skipped_notes(self) -> list:
        sug, notes = self.sug, []
        if self.too_small:
            notes.append(f"{len(self.too_small)} size(s) too small for the network (some layer's output would be empty)")
        sug.below_floor = len(self.tiny)
        if self.tiny:
            notes.append(f"{len(self.tiny)} size(s) skipped: some layer's output would be under {MIN_OUTPUT} px "
                         f"(give {param('size_range')} to search them)")
        if self.mismatch:
            sug.mismatched = len(self.mismatch)
            at, prob = min(self.mismatch.items(),
                           key=lambda kv: (sum(abs(v - s0) for v, s0 in zip(kv[0], self.spatial)), kv[0]))
            sug.mismatch_example = f"{_sizes_text(at)}: {prob.text()}"
            notes.append(f"{len(self.mismatch)} size(s) skipped: the network's shapes do not fit together there "
                         f"(e.g. at {_sizes_text(at)}, {prob.where()}: {prob.message})")
        if self.unknown_at:
            notes.append(f"{len(self.unknown_at)} size(s) skipped: some strided layer's size could not be inferred there")
        return notes

    def _caveats(self) -> None:
        sug, spatial, axes, n = self.sug, self.spatial, self.axes, self.n
        first = sug.sizes[0]
        sug.relative_change = [round((v - s0) / s0, 4) for v, s0 in zip(first, spatial)]
        big = [(axes[j], spatial[j], first[j], sug.relative_change[j]) for j in range(n)
               if abs(sug.relative_change[j]) > LARGE_CHANGE]
        if not big:
            return
        if n > 1 and len(big) == n and len({b[3] for b in big}) == 1:
            what = (f"the size by {abs(big[0][3]) * 100:.0f} % ({_sizes_text(spatial)} → "
                    f"{_sizes_text(first)})")
        else:
            what = ", ".join(f"the {a} by {abs(c) * 100:.0f} % ({s0} → {v})" for a, s0, v, c in big)
        sug.caveats.append(f"{_sizes_text(first)} changes {what}: a change this large may cost "
                           "accuracy; check the model at that size before adopting it")
