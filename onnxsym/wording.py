"""How the library words what it says: parameter names in messages, and metric values.

Parameters. A message that tells the user what to give names a *parameter* through
:func:`param` — ``input_shape='1x3x224x224'`` for a Python caller. The command line registers its
flag for each parameter (:func:`flags`) for the time it runs, and the same message then reads
``--input-shape 1x3x224x224``: the library never spells a flag, the CLI never rewrites a message.

Metrics. A consistency number is a share of agreeing pairs (``top1_agreement``,
``pixel_top1_agreement``: shown as a percentage) or a mean cosine similarity
(``cosine_similarity``: shown as a plain number, never as a percentage). :func:`metric_value` and
:func:`metric_interval` are the one place that decides which.
"""
from __future__ import annotations

import shlex
from contextlib import contextmanager

_FLAGS: dict = {}


@contextmanager
def flags(mapping: dict):
    """While the block runs, word parameters as these command-line flags
    (``{"input_shape": "--input-shape", …}``; a value ``("--no-run", "drop")`` words the parameter
    as an action). The command line wraps each invocation in it; outside, messages name parameters."""
    saved = dict(_FLAGS)
    _FLAGS.clear()
    _FLAGS.update(mapping)
    try:
        yield
    finally:
        _FLAGS.clear()
        _FLAGS.update(saved)


def current_flags() -> dict:
    """The wording in force (parameter -> flag), to hand to worker processes."""
    return dict(_FLAGS)


def param(name: str, example=None) -> str:
    """``name`` as the caller spells it: ``--input-shape 1x3x224x224`` on the command line (the
    example quoted for the shell where it needs it), ``input_shape='1x3x224x224'`` in Python."""
    flag = _FLAGS.get(name)
    if flag is None:
        return name if example is None else f"{name}={example!r}"
    if isinstance(flag, tuple):  # an action on a switch, e.g. ("--no-run", "drop")
        return f"{flag[1]} {flag[0]}"
    return flag if example is None else f"{flag} {shlex.quote(str(example))}"


def is_cosine(metric) -> bool:
    """True when values of ``metric`` are mean cosine similarities, not shares of agreement."""
    return metric == "cosine_similarity"


def metric_value(value, metric, nd: int | None = None, none: str = "—") -> str:
    """``88.0 %`` for agreement shares, ``0.412`` for cosine similarities."""
    if value is None:
        return none
    if is_cosine(metric):
        return f"{value:.{3 if nd is None else nd}f}"
    return f"{100 * value:.{1 if nd is None else nd}f} %"


def metric_interval(ci, metric, nd: int | None = None) -> str:
    """``[71.2, 95.6]`` (percentage points) or ``[0.301, 0.522]``; "" when there is none."""
    if not ci or None in ci:
        return ""
    if is_cosine(metric):
        d = 3 if nd is None else nd
        return f"[{ci[0]:.{d}f}, {ci[1]:.{d}f}]"
    d = 1 if nd is None else nd
    return f"[{100 * ci[0]:.{d}f}, {100 * ci[1]:.{d}f}]"


def metric_delta(delta, metric, nd: int | None = None) -> str:
    """A difference of two values: ``+1.5 points`` or ``+0.012``."""
    if delta is None:
        return "—"
    if is_cosine(metric):
        return f"{delta:+.{3 if nd is None else nd}f}"
    return f"{100 * delta:+.{1 if nd is None else nd}f} points"


def param_item(name: str, key) -> str:
    """One entry of a mapping parameter: ``--feed z`` on the command line, ``feeds['z']`` in Python."""
    flag = _FLAGS.get(name)
    if flag is None or isinstance(flag, tuple):
        return f"{name}[{key!r}]"
    return f"{flag} {key}"
