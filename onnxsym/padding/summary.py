"""The wording of a padding diagnosis: its counts and its one greppable summary line."""
from __future__ import annotations

from collections import Counter

from ..wording import param
from .lean import LEAN_THRESHOLD, lean_axes
from .results import PaddingSummary


def _input_size_text(inp: dict) -> str | None:
    """``224×224`` (spatial), else the full shape where every dim is known, else None."""
    if inp.get("spatial"):
        return "×".join(map(str, inp["spatial"]))
    shape = inp.get("shape")
    if shape and all(isinstance(d, int) for d in shape):
        return "x".join(map(str, shape))
    return None


def at_text(inputs: list) -> tuple[str, list]:
    """(``224×224`` or ``a 64×64, b 32×32``, names of inputs of unknown size)."""
    texts = [(inp.get("name"), _input_size_text(inp)) for inp in inputs]
    unknown = [n for n, t in texts if t is None]
    if len(texts) <= 1:
        return (texts[0][1] if texts and texts[0][1] else "the analysed size"), unknown
    if len(texts) > 4:  # a line, not a list: many inputs are counted
        sizes = Counter(t or "?" for _, t in texts)
        if len(sizes) == 1:
            return f"{next(iter(sizes))} ({len(texts)} image inputs)", unknown
        shown = ", ".join(f"{n} {t or '?'}" for n, t in texts[:3])
        return f"{shown} and {len(texts) - 3} more image inputs", unknown
    return ", ".join(f"{n} {t or '?'}" for n, t in texts), unknown


def _dir_text(counter: Counter) -> str:
    if not counter:
        return ""
    if len(counter) == 1:
        (d, _), = counter.items()
        return f"all {d}"
    return ", ".join(f"{c} {d}" for d, c in counter.most_common())


def _stride_label(rows, noun) -> str:
    strides = {s for r in rows for s in (r.strides or []) if s > 1}
    if len(strides) == 1:
        return f"stride-{strides.pop()} {noun}"
    return f"strided {noun}"


def _lean_text(n_uneven, n_checked, toward, away, neither) -> str:
    """``their mean kernels lean toward the padded side in 0, away from it in 3, neither in 2
    (|skew| ≥ 0.1 counts)``."""
    counts = f"(|skew| ≥ {LEAN_THRESHOLD:g} counts)"
    if n_checked == 1:
        verdict = ("leans toward the padded side" if toward else "leans away from it" if away
                   else "leans neither way")
        return f"{'its' if n_uneven == 1 else 'of the 1 with a skew, its'} mean kernel {verdict} {counts}"
    who = "their mean kernels" if n_checked == n_uneven else f"of the {n_checked} with a skew, mean kernels"
    return f"{who} lean toward the padded side in {toward}, away from it in {away}, neither in {neither} {counts}"


def summarize(layers, inputs, skews_given) -> tuple[PaddingSummary, str]:
    known = [r for r in layers if r.status == "ok"]
    sconv = [r for r in known if r.kind == "conv" and r.size_dependent]
    spool = [r for r in known if r.kind == "pool" and r.size_dependent]
    uconv = [r for r in sconv if r.uneven]
    upool = [r for r in spool if r.uneven]
    checked = [r for r in uconv if r.lean is not None]
    leaning = [r for r in checked if r.lean == "toward"]
    away = [r for r in checked if r.lean == "away"]
    neither = [r for r in checked if r.lean == "neither"]
    fixed = [r for r in known if r.uneven and not r.size_dependent]
    summary = PaddingSummary(
        layers=len(layers),
        known=len(known),
        unknown=sum(1 for r in layers if r.status == "unknown"),
        invalid=sum(1 for r in layers if r.status == "invalid"),
        uneven=sum(1 for r in known if r.uneven),
        strided_convs=len(sconv),
        strided_convs_uneven=len(uconv),
        conv_directions=dict(Counter(r.direction for r in uconv)),
        skew_checked=len(checked),
        lean_toward_padding=len(leaning),
        lean_away_from_padding=len(away),
        lean_neither=len(neither),
        lean_threshold=LEAN_THRESHOLD,
        lean_axes=[sum(lean_axes(r)[0] for r in uconv), sum(lean_axes(r)[1] for r in uconv)],
        strided_pools=len(spool),
        strided_pools_uneven=len(upool),
        pool_directions=dict(Counter(r.direction for r in upool)),
        uneven_at_every_size=[r.id for r in fixed],
        conv_transposes=sum(1 for r in layers if r.kind == "conv_transpose"),
    )
    at, unknown_inputs = at_text(inputs)
    size_known = not unknown_inputs
    if not layers:
        return summary, "no convolutions or pools"
    parts = []
    if unknown_inputs:
        parts.append(f"input size unknown (give {param('input_shape')})" if len(inputs) <= 1 else
                     f"size of input(s) {', '.join(map(repr, unknown_inputs))} unknown (give {param('input_shape')})")
    if sconv:
        part = (f"{len(uconv)} of {len(sconv)} {_stride_label(sconv, 'convs')} pad unevenly at {at}")
        if uconv:
            part += f" ({_dir_text(Counter(r.direction for r in uconv))})"
        parts.append(part)
        if uconv:
            if checked:
                parts.append(_lean_text(len(uconv), len(checked), len(leaning), len(away), len(neither)))
            elif not skews_given:
                parts.append("skew not checked (no weights report)")
    elif known and size_known:
        parts.append(f"no strided convs at {at}")
    if spool:
        part = f"{len(upool)} of {len(spool)} {_stride_label(spool, 'pools')} pad unevenly"
        if upool:
            part += f" ({_dir_text(Counter(r.direction for r in upool))})"
        parts.append(part)
    if fixed:
        parts.append(f"{len(fixed)} more uneven at every size")
    unknown = summary.unknown + summary.invalid
    if unknown:
        parts.append(f"{unknown} of {len(layers)} layers of unknown size")
    return summary, "; ".join(parts) if parts else "no layer size known"
