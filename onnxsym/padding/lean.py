"""Whether an unevenly padded conv's mean kernel leans toward its padded side.

Skew (from the weights report, ``(down, right)``, negative = top/left): for a conv whose padding
is uneven, the skew component toward the padded side is the skew projected on the unit vector
that points to the more-padded side(s) of its uneven axes with a kernel longer than 1 (top-left:
``(−1, −1)/√2``; top only: ``(−1, 0)``). Its mean kernel leans "toward" the padded side when that
component is at least ``LEAN_THRESHOLD`` (0.1), "away" from it when it is at most −0.1, and
"neither" in between: skews of a few hundredths are noise, not a lean.
"""
from __future__ import annotations

from .results import PaddingLayer

LEAN_THRESHOLD = 0.1      # |skew component toward the padded side| that counts as a lean


def skew_component(skew, j, n):
    if skew is None:
        return None
    if len(skew) == n:
        return skew[j]
    if n == 1 and len(skew) == 2:
        return skew[1]
    return None


def lean_axes(row: PaddingLayer) -> tuple[int, int]:
    """(axis components pointing to the more-padded side, uneven axes with k > 1 and a skew)."""
    if not row.uneven or row.kind != "conv" or row.skew is None:
        return 0, 0
    n = len(row.before)
    agree = total = 0
    for j in range(n):
        if row.before[j] == row.after[j] or row.kernel[j] <= 1:
            continue
        c = skew_component(row.skew, j, n)
        if c is None:
            continue
        total += 1
        agree += c * (-1 if row.before[j] > row.after[j] else 1) > 0
    return agree, total


def toward(row: PaddingLayer):
    """The skew component toward the more-padded side(s): the skew projected on the unit vector
    pointing there, over the uneven axes with k > 1; None when not applicable."""
    if not row.uneven or row.kind != "conv" or row.skew is None:
        return None
    n = len(row.before)
    comps = []
    for j in range(n):
        if row.before[j] == row.after[j] or row.kernel[j] <= 1:
            continue
        c = skew_component(row.skew, j, n)
        if c is None:
            return None
        comps.append(c * (-1 if row.before[j] > row.after[j] else 1))
    if not comps:
        return None
    return round(sum(comps) / len(comps) ** 0.5, 4)


def attach_skews(layers: list, skews) -> None:
    """Set each conv row's ``skew`` from ``{layer id: (down, right)}`` and its lean."""
    skews = dict(skews or {})
    for row in layers:
        sk = skews.get(row.id) if row.kind == "conv" else None
        row.skew = [float(v) for v in sk] if sk is not None else None
        row.skew_toward_padding = toward(row) if sk is not None else None
        t = row.skew_toward_padding
        row.lean = None if t is None else ("toward" if t >= LEAN_THRESHOLD else
                                           "away" if t <= -LEAN_THRESHOLD else "neither")
        row.leans_toward_padding = None if t is None else row.lean == "toward"
