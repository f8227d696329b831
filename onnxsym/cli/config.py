"""Settings from a config file (``--config onnxsym.toml`` or ``[tool.onnxsym]`` in ./pyproject.toml)
and how they merge with flags: a flag given wins, then the config file, then the default."""
from __future__ import annotations

from pathlib import Path

from ..auditing.gates import GATE_NAMES, Gates
from ..errors import InputError

_GATE_KEYS = set(GATE_NAMES)


def load_config(path=None, cwd=".") -> tuple[dict, str | None]:
    """Settings from ``path`` (an onnxsym.toml with top-level keys or a ``[tool.onnxsym]``
    table), or else from ``[tool.onnxsym]`` in ``cwd``/pyproject.toml.

    Returns ``(settings, source)``: source names the file (and table) the settings came from,
    or is None when there were none. Keys may use dashes or underscores.
    """
    from ..files import load_toml

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
            "vertical": bool, "batch_size": int, "max_shift": int, "pipeline": str}
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


def pick(flags: dict, config: dict, defaults: dict) -> dict:
    """Each run setting: the flag when given (not None), else the config's value, else the default."""
    return {k: flags[k] if flags.get(k) is not None else config.get(k, d) for k, d in defaults.items()}
