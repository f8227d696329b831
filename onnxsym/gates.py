"""Gates: thresholds a model must meet, from flags or a config file, and their verdicts."""
from __future__ import annotations

from dataclasses import asdict, dataclass, fields
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

    def validate(self):
        """Refuse impossible values (exit 2) with the flag's name."""
        def frac(name, v, upper=1.0):
            if v is not None and not (0.0 <= v <= upper):
                hint = " (give a fraction, e.g. 0.85 for 85 %)" if 1 < v <= 100 else ""
                raise InputError(f"--{name.replace('_', '-')} {v}: must be between 0 and {upper:g}{hint}")

        for name in ("min_symmetry", "asymmetry_below", "min_shift_consistency", "min_flip_consistency",
                     "max_symmetry_drop", "max_consistency_drop"):
            frac(name, getattr(self, name))
        if self.max_asymmetric_layers is not None and self.max_asymmetric_layers < 0:
            raise InputError(f"--max-asymmetric-layers {self.max_asymmetric_layers}: must be 0 or more")
        return self

    def active(self) -> dict:
        return {k: v for k, v in asdict(self).items() if v not in (None, False) and k != "asymmetry_below"}


_GATE_KEYS = {f.name for f in fields(Gates)}


def load_config(path=None, cwd=".") -> dict:
    """Gate settings from ``path`` (an onnxsym.toml with top-level keys or a ``[tool.onnxsym]``
    table), or else from ``[tool.onnxsym]`` in ``cwd``/pyproject.toml; {} when there is none.

    Keys may use dashes or underscores; unknown keys are an error (a typo must not pass a gate).
    """
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib

    explicit = path is not None
    path = Path(path) if explicit else Path(cwd) / "pyproject.toml"
    if not path.is_file():
        if explicit:
            raise InputError(f"config file {path} does not exist")
        return {}
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as err:
        raise InputError(f"cannot read config {path}: {err}") from None
    table = doc.get("tool", {}).get("onnxsym")
    if table is None:
        table = doc if explicit and path.name != "pyproject.toml" else {}
    out = {}
    for key, value in table.items():
        k = key.replace("-", "_")
        if k == "tool":
            continue
        out[k] = value
    return out


def gates_from(config: dict, **flags) -> Gates:
    """Config values overridden by the flags that were given (not None)."""
    merged = {k: v for k, v in config.items() if k in _GATE_KEYS}
    unknown = sorted(set(config) - _GATE_KEYS - {"images", "input_shape", "provider", "pairs_per_image",
                                                  "seed", "no_run", "preset", "input_size"})
    if unknown:
        raise InputError(f"unknown onnxsym config key(s): {', '.join(unknown)}")
    merged.update({k: v for k, v in flags.items() if v is not None and k in _GATE_KEYS})
    try:
        gates = Gates(**merged)
        for name in ("min_symmetry", "asymmetry_below", "min_shift_consistency", "min_flip_consistency",
                     "max_symmetry_drop", "max_consistency_drop"):
            v = getattr(gates, name)
            if v is not None:
                setattr(gates, name, float(v))
        if gates.max_asymmetric_layers is not None:
            gates.max_asymmetric_layers = int(gates.max_asymmetric_layers)
        gates.fail_on_uneven_padding = bool(gates.fail_on_uneven_padding)
    except (TypeError, ValueError) as err:
        raise InputError(f"bad gate value in config: {err}") from None
    return gates.validate()


@dataclass
class GateResult:
    name: str
    passed: bool
    value: object
    threshold: object
    message: str


def evaluate(gates: Gates, facts: dict) -> list:
    """Check each active gate against ``facts`` (numbers the audit computed)."""
    out = []

    def add(name, passed, value, threshold, message):
        out.append(GateResult(name, bool(passed), value, threshold, message))

    s = facts.get("median_symmetry")
    if gates.min_symmetry is not None:
        if s is None:
            add("min_symmetry", False, None, gates.min_symmetry, "no internal layer has a defined S")
        else:
            add("min_symmetry", s >= gates.min_symmetry, s, gates.min_symmetry,
                f"median internal S {s:.3f} {'>=' if s >= gates.min_symmetry else '<'} {gates.min_symmetry:.3f}"
                + ("" if s >= gates.min_symmetry else f" (short by {gates.min_symmetry - s:.3f})"))
    if gates.max_asymmetric_layers is not None:
        low = facts.get("asymmetric_layers", [])
        n = len(low)
        add("max_asymmetric_layers", n <= gates.max_asymmetric_layers, n, gates.max_asymmetric_layers,
            f"{n} layer(s) with S < {gates.asymmetry_below:.2f} (allowed {gates.max_asymmetric_layers})"
            + (f": {', '.join(low[:5])}" if n > gates.max_asymmetric_layers else ""))
    for kind in ("shift", "flip"):
        thr = getattr(gates, f"min_{kind}_consistency")
        if thr is None:
            continue
        v = facts.get(f"{kind}_consistency")
        if v is None:
            add(f"min_{kind}_consistency", False, None, thr,
                f"{kind} consistency was not measured ({facts.get('consistency_error') or 'run skipped'})")
        else:
            add(f"min_{kind}_consistency", v >= thr, v, thr,
                f"{kind} consistency {100 * v:.1f} % {'>=' if v >= thr else '<'} {100 * thr:.1f} %"
                + ("" if v >= thr else f" (short by {100 * (thr - v):.1f} points)"))
    if gates.fail_on_uneven_padding:
        n = facts.get("uneven_strided")
        if n is None:
            add("fail_on_uneven_padding", False, None, 0,
                "padding could not be diagnosed (no input size known: give --input-shape)")
        else:
            add("fail_on_uneven_padding", n == 0, n, 0, f"{n} strided layer(s) pad unevenly")
    base = facts.get("baseline")
    if gates.max_symmetry_drop is not None:
        if not base or base.get("median_symmetry") is None or s is None:
            add("max_symmetry_drop", False, None, gates.max_symmetry_drop, "needs --baseline with a symmetry value")
        else:
            drop = base["median_symmetry"] - s
            add("max_symmetry_drop", drop <= gates.max_symmetry_drop, round(drop, 6), gates.max_symmetry_drop,
                f"median S {base['median_symmetry']:.3f} → {s:.3f} (drop {drop:+.3f}, allowed {gates.max_symmetry_drop:.3f})")
    if gates.max_consistency_drop is not None:
        for kind in ("shift", "flip"):
            now = facts.get(f"{kind}_consistency")
            before = (base or {}).get(f"{kind}_consistency")
            if now is None or before is None:
                add(f"max_{kind}_consistency_drop", False, None, gates.max_consistency_drop,
                    f"needs {kind} consistency in this run and in --baseline")
                continue
            drop = before - now
            add(f"max_{kind}_consistency_drop", drop <= gates.max_consistency_drop, round(drop, 6),
                gates.max_consistency_drop,
                f"{kind} {100 * before:.1f} % → {100 * now:.1f} % (drop {100 * drop:+.1f} points, "
                f"allowed {100 * gates.max_consistency_drop:.1f})")
    return out
