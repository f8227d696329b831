"""Gates: thresholds a model must meet, from flags or a config file, and their verdicts."""
from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path

from .errors import InputError


@dataclass
class Gates:
    """Thresholds; None switches a gate off. Consistency values are fractions in [0, 1]."""

    min_symmetry: float | None = None            # median S over the internal layers
    max_asymmetric_layers: int | None = None     # at most N analysed layers with S < asymmetry_below
    asymmetry_below: float = 0.5
    min_shift_consistency: float | None = None
    min_flip_consistency: float | None = None
    fail_on_uneven_padding: bool = False
    max_symmetry_drop: float | None = None       # vs --baseline: median S may drop at most this
    max_consistency_drop: float | None = None    # vs --baseline: shift/flip may drop at most this

    def validate(self, source: str | None = None):
        """Refuse impossible values (exit 2), named as the flag or, with ``source``, as the
        config key in that file."""
        def label(name, v):
            return f"{source}: {name} = {v}" if source else f"--{name.replace('_', '-')} {v}"

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



_GATE_KEYS = {f.name for f in fields(Gates)}


def load_config(path=None, cwd=".") -> tuple[dict, str | None]:
    """Settings from ``path`` (an onnxsym.toml with top-level keys or a ``[tool.onnxsym]``
    table), or else from ``[tool.onnxsym]`` in ``cwd``/pyproject.toml.

    Returns ``(settings, source)``: source names the file (and table) the settings came from,
    or is None when there were none. Keys may use dashes or underscores.
    """
    from .files import load_toml

    explicit = path is not None
    path = Path(path) if explicit else Path(cwd) / "pyproject.toml"
    if not explicit and not path.exists():
        return {}, None
    if explicit and not path.exists() and not path.is_symlink():
        raise InputError(f"config file {path} does not exist")
    doc = load_toml(path, "config")
    tool = doc.get("tool", {})
    if not isinstance(tool, dict):
        raise InputError(f"config {path}: 'tool' is a {type(tool).__name__}, not a table")
    table = tool.get("onnxsym")
    source = f"{path} [tool.onnxsym]"
    if table is None:
        if not explicit or path.name == "pyproject.toml":
            return {}, None
        table, source = doc, str(path)
    if not isinstance(table, dict):
        raise InputError(f"config {path}: [tool.onnxsym] is a {type(table).__name__}, not a table")
    return {str(key).replace("-", "_"): value for key, value in table.items() if key != "tool"}, source


#: run settings a config file may hold besides the gates, with their types
RUN_KEYS = {"images": str, "input_shape": str, "input_size": (str, int), "provider": str,
            "pairs_per_image": int, "seed": int, "no_run": bool, "preset": str, "bgr": bool,
            "vertical": bool, "batch_size": int, "max_shift": int}
_BOOL_GATES = {"fail_on_uneven_padding"}
_INT_GATES = {"max_asymmetric_layers"}


def _typed(key, value, kind):
    """``value`` if it has type ``kind`` (ints are floats too; bools are never numbers)."""
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if isinstance(value, bool) and bool not in kinds:
        ok = False
    elif float in kinds and isinstance(value, int):
        ok = True
    else:
        ok = isinstance(value, kinds)
    if not ok:
        names = {bool: "true or false", int: "an integer", float: "a number", str: "a string"}
        raise InputError(f"config: {key} = {value!r} must be {' or '.join(names[k] for k in kinds)}")
    return value


def check_config(config: dict) -> dict:
    """Refuse unknown keys and values of the wrong type (a typo must not pass a gate)."""
    unknown = sorted(set(config) - _GATE_KEYS - set(RUN_KEYS))
    if unknown:
        raise InputError(f"unknown onnxsym config key(s): {', '.join(unknown)}")
    for key, value in config.items():
        if key in RUN_KEYS:
            _typed(key, value, RUN_KEYS[key])
        elif key in _BOOL_GATES:
            _typed(key, value, bool)
        elif key in _INT_GATES:
            _typed(key, value, int)
        else:
            _typed(key, value, float)
    return config


def gates_from(config: dict, source: str | None = None, **flags) -> Gates:
    """Config values (checked, errors naming ``source``) overridden by the flags given (not None)."""
    check_config(config)
    merged = {k: v for k, v in config.items() if k in _GATE_KEYS}
    Gates(**merged).validate(source or "config")
    merged.update({k: v for k, v in flags.items() if v is not None and k in _GATE_KEYS})
    gates = Gates(**merged)
    for name in ("min_symmetry", "asymmetry_below", "min_shift_consistency", "min_flip_consistency",
                 "max_symmetry_drop", "max_consistency_drop"):
        v = getattr(gates, name)
        if v is not None:
            setattr(gates, name, float(v))
    return gates.validate()


@dataclass
class GateResult:
    """One gate's verdict; ``short`` is what the summary line shows, e.g. "min_symmetry 0.786 < 0.900"."""

    name: str
    passed: bool
    value: object
    threshold: object
    message: str
    short: str = ""


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
    for kind in ("shift", "flip"):
        thr = getattr(gates, f"min_{kind}_consistency")
        if thr is None:
            continue
        v = facts.get(f"{kind}_consistency")
        if v is None:
            add(f"min_{kind}_consistency", False, None, thr,
                f"{kind} consistency was not measured ({facts.get('consistency_error') or 'run skipped'})")
        elif facts.get("consistency_is_cosine"):
            add(f"min_{kind}_consistency", v >= thr, v, thr,
                f"{kind} mean cosine {v:.3f} {'>=' if v >= thr else '<'} {thr:.3f}"
                + ("" if v >= thr else f" (short by {thr - v:.3f})"),
                f"min_{kind}_consistency cosine {v:.3f} < {thr:.3f}")
        else:
            add(f"min_{kind}_consistency", v >= thr, v, thr,
                f"{kind} consistency {100 * v:.1f} % {'>=' if v >= thr else '<'} {100 * thr:.1f} %"
                + ("" if v >= thr else f" (short by {100 * (thr - v):.1f} points)"),
                f"min_{kind}_consistency {100 * v:.1f} % < {100 * thr:.1f} %")
    if gates.fail_on_uneven_padding:
        n = facts.get("uneven_strided")
        if n is None:
            add("fail_on_uneven_padding", False, None, 0,
                "padding could not be diagnosed (no input size known: give --input-shape)")
        else:
            add("fail_on_uneven_padding", n == 0, n, 0, f"{n} strided layer(s) pad unevenly",
                f"fail_on_uneven_padding: {n} uneven")
    base = facts.get("baseline")
    if gates.max_symmetry_drop is not None:
        if not base or base.get("median_symmetry") is None or s is None:
            add("max_symmetry_drop", False, None, gates.max_symmetry_drop, "needs --baseline with a symmetry value")
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
                    f"needs {kind} consistency in this run and in --baseline")
                continue
            drop, allowed = before - now, gates.max_consistency_drop
            if facts.get("consistency_is_cosine"):
                text = (f"{kind} mean cosine {before:.3f} → {now:.3f} (drop {drop:+.3f}, allowed {allowed:.3f})",
                        f"max_{kind}_consistency_drop {drop:.3f} > {allowed:.3f}")
            else:
                text = (f"{kind} {100 * before:.1f} % → {100 * now:.1f} % (drop {100 * drop:+.1f} points, "
                        f"allowed {100 * allowed:.1f})",
                        f"max_{kind}_consistency_drop {100 * drop:.1f} > {100 * allowed:.1f} points")
            add(f"max_{kind}_consistency_drop", drop <= allowed, round(drop, 6), allowed,
                text[0] + facts.get("baseline_protocol_note", ""), text[1])
    return out
