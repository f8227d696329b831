"""Gates: thresholds a model must meet, and their verdicts (:class:`GateResult`).

A gate is set by a value and off when None. Consistency thresholds and drops are fractions in
[0, 1] for agreement metrics and cosine units for cosine metrics.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields

from ..defaults import ASYMMETRY_BELOW
from ..errors import InputError
from ..wording import is_cosine, metric_delta, metric_value, param
from .drops import ALPHA, drop_test

@dataclass
class Gates:
    """Thresholds; None switches a gate off. Consistency values are fractions in [0, 1]."""

    min_symmetry: float | None = None            # median S over the internal layers
    max_asymmetric_layers: int | None = None     # at most N analysed layers with S < asymmetry_below
    asymmetry_below: float = ASYMMETRY_BELOW
    min_shift_consistency: float | None = None
    min_flip_consistency: float | None = None
    fail_on_uneven_padding: bool = False
    max_symmetry_drop: float | None = None       # vs --baseline: median S may drop at most this
    max_consistency_drop: float | None = None    # vs --baseline: shift/flip may drop at most this

    def validate(self, source: str | None = None):
        """Refuse impossible values (exit 2), named as the flag or, with ``source``, as the
        config key in that file."""
        def label(name, v):
            return f"{source}: {name} = {v}" if source else param(name, v)

        def frac(name, v, upper=1.0):
            if v is not None and not (0.0 <= v <= upper):
                hint = " (give a fraction, e.g. 0.85 for 85 %)" if 1 < v <= 100 else ""
                raise InputError(f"{label(name, v)}: must be between 0 and {upper:g}{hint}")

        for name in ("min_symmetry", "asymmetry_below", "min_shift_consistency", "min_flip_consistency",
                     "max_symmetry_drop", "max_consistency_drop"):
            frac(name, getattr(self, name))
        if self.max_asymmetric_layers is not None and self.max_asymmetric_layers < 0:
            raise InputError(f"{label('max_asymmetric_layers', self.max_asymmetric_layers)}: must be 0 or more")
        return self


GATE_NAMES = tuple(f.name for f in fields(Gates))


def as_gates(gates) -> "Gates":
    """``gates`` as a checked :class:`Gates`: a Gates, a mapping of gate names to values, or None."""
    if gates is None:
        return Gates()
    if isinstance(gates, Gates):
        return gates.validate()
    if isinstance(gates, Mapping):
        unknown = sorted(set(gates) - set(GATE_NAMES))
        if unknown:
            raise InputError(f"unknown gate(s) {', '.join(unknown)}; gates are {', '.join(GATE_NAMES)}")
        g = Gates(**{k: v for k, v in gates.items() if v is not None})
        for name in ("min_symmetry", "asymmetry_below", "min_shift_consistency", "min_flip_consistency",
                     "max_symmetry_drop", "max_consistency_drop"):
            v = getattr(g, name)
            if v is not None:
                if isinstance(v, bool) or not isinstance(v, (int, float)):
                    raise InputError(f"{param(name, v)}: must be a number")
                setattr(g, name, float(v))
        return g.validate()
    raise InputError(f"gates must be a Gates or a mapping, not {type(gates).__name__}")


@dataclass
class GateResult:
    """One gate's verdict; ``short`` is what the summary line shows, e.g. "min_symmetry 0.786 < 0.900".
    Drop gates also say which test judged the drop and its one-sided p-value."""

    name: str
    passed: bool
    value: object
    threshold: object
    message: str
    short: str = ""
    test: str = ""
    p_value: float | None = None


def evaluate(gates: Gates, facts: dict) -> list:
    """Check each active gate against ``facts`` (numbers the audit computed)."""
    out = []

    def add(name, passed, value, threshold, message, short=""):
        out.append(GateResult(name, bool(passed), value, threshold, message, short or name))

    s = facts.get("median_symmetry")
    if gates.min_symmetry is not None:
        if s is None:
            add("min_symmetry", False, None, gates.min_symmetry, "no internal layer has a defined S")
        else:
            add("min_symmetry", s >= gates.min_symmetry, s, gates.min_symmetry,
                f"median internal S {s:.3f} {'>=' if s >= gates.min_symmetry else '<'} {gates.min_symmetry:.3f}"
                + ("" if s >= gates.min_symmetry else f" (short by {gates.min_symmetry - s:.3f})"),
                f"min_symmetry {s:.3f} < {gates.min_symmetry:.3f}")
    if gates.max_asymmetric_layers is not None:
        low = facts.get("asymmetric_layers", [])
        n = len(low)
        add("max_asymmetric_layers", n <= gates.max_asymmetric_layers, n, gates.max_asymmetric_layers,
            f"{n} layer(s) with S < {gates.asymmetry_below:.2f} (allowed {gates.max_asymmetric_layers})"
            + (f": {', '.join(low[:5])}" if n > gates.max_asymmetric_layers else ""),
            f"max_asymmetric_layers {n} > {gates.max_asymmetric_layers}")
    metric = facts.get("consistency_metric")
    what = "mean cosine" if is_cosine(metric) else "consistency"
    unit = "cosine " if is_cosine(metric) else ""
    for kind in ("shift", "flip"):
        thr = getattr(gates, f"min_{kind}_consistency")
        if thr is None:
            continue
        v = facts.get(f"{kind}_consistency")
        if v is None:
            add(f"min_{kind}_consistency", False, None, thr,
                f"{kind} consistency was not measured ({facts.get('consistency_error') or 'run skipped'})")
            continue
        ok = v >= thr
        vt, tt = metric_value(v, metric), metric_value(thr, metric)
        add(f"min_{kind}_consistency", ok, v, thr,
            f"{kind} {what} {vt} {'>=' if ok else '<'} {tt}"
            + ("" if ok else f" (short by {metric_delta(thr - v, metric).lstrip('+')})"),
            f"min_{kind}_consistency {unit}{vt} < {tt}")
    if gates.fail_on_uneven_padding:
        n = facts.get("uneven_strided")
        if n is None:
            add("fail_on_uneven_padding", False, None, 0,
                f"padding could not be diagnosed (no input size known: give {param('input_size')})")
        else:
            at = facts.get("padding_at")
            add("fail_on_uneven_padding", n == 0, n, 0,
                f"{n} strided layer(s) pad unevenly" + (f" at {at}" if at else ""),
                f"fail_on_uneven_padding: {n} uneven")
    base = facts.get("baseline")
    if gates.max_symmetry_drop is not None:
        if not base or base.get("median_symmetry") is None or s is None:
            add("max_symmetry_drop", False, None, gates.max_symmetry_drop,
                f"needs {param('baseline')} with a symmetry value")
        else:
            drop = base["median_symmetry"] - s
            add("max_symmetry_drop", drop <= gates.max_symmetry_drop, round(drop, 6), gates.max_symmetry_drop,
                f"median S {base['median_symmetry']:.3f} → {s:.3f} (drop {drop:+.3f}, allowed {gates.max_symmetry_drop:.3f})",
                f"max_symmetry_drop {drop:.3f} > {gates.max_symmetry_drop:.3f}")
    if gates.max_consistency_drop is not None:
        for kind in ("shift", "flip"):
            now = facts.get(f"{kind}_consistency")
            before = (base or {}).get(f"{kind}_consistency")
            if now is None or before is None:
                add(f"max_{kind}_consistency_drop", False, None, gates.max_consistency_drop,
                    f"needs {kind} consistency in this run and in {param('baseline')}")
                continue
            drop, allowed = before - now, gates.max_consistency_drop
            test, p = drop_test(kind, (base or {}).get("measurement"), facts.get("measurement"),
                                facts.get("baseline_paired", False), (before, now))
            noise = p is not None and p >= ALPHA
            passed = drop <= allowed or noise
            dt, at = metric_delta(drop, metric), metric_delta(allowed, metric).lstrip("+")
            verdict = ("" if drop <= allowed else
                       f"; {test}: p = {p:.3g}, " + ("not distinguishable from noise" if noise else "a real drop")
                       if p is not None else f"; {test}: no test possible")
            text = (f"{kind} {'mean cosine ' if unit else ''}{metric_value(before, metric)} → "
                    f"{metric_value(now, metric)} (drop {dt}, allowed {at}{verdict})",
                    f"max_{kind}_consistency_drop {dt.lstrip('+')} > {at}")
            out.append(GateResult(f"max_{kind}_consistency_drop", bool(passed), round(drop, 6), allowed,
                                  text[0] + facts.get("baseline_protocol_note", ""), text[1], test=test,
                                  p_value=None if p is None else round(p, 6)))
    return out
