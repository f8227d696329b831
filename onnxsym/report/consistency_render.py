"""Renderers of a ConsistencyReport: JSON (``onnxsym.consistency/1``, the report's own
:meth:`~onnxsym.consistency.results.ConsistencyReport.to_dict`) and a text table."""
from __future__ import annotations

import textwrap

from ..wording import is_cosine, metric_interval, metric_value, param

COSINE, SHARE = "cosine_similarity", "top1_agreement"  # how a value is shown: plain or as %

import json

from .text import dims, table, wrap_lines


def to_json(r) -> str:
    return json.dumps(r.to_dict(), indent=1, ensure_ascii=False)


def _cosine_metric(r) -> bool:
    return is_cosine(r.output.metric)


def _pct(x, cosine=False):
    """A value with its unit: ``88.0 %`` or ``cosine 0.412``."""
    if x is None:
        return "—"
    return f"cosine {metric_value(x, COSINE)}" if cosine else metric_value(x, SHARE)


def _ci(ci, cosine=False):
    """An interval: ``[71.2, 95.6] %`` or ``[0.301, 0.522]``."""
    text = metric_interval(ci, COSINE if cosine else SHARE)
    return "—" if not text else text if cosine else f"{text} %"


def _chance_value(r):
    ch = r.chance
    return ch.value if ch is not None else None


def _chance_text(r, cosine):
    return metric_value(_chance_value(r), COSINE if cosine else SHARE)


def _part(name, res, cosine, chance=None):
    if res.consistency is None:
        return f"{name} n/a" + (" (all outputs flat)" if cosine else "")
    ci = metric_interval(res.ci95, COSINE if cosine else SHARE)
    ci_t = f" {ci}" if ci else ""
    s = f"{name} {_pct(res.consistency, cosine)}{ci_t}"
    if chance is not None:
        s += f" (unrelated images: {chance:.3f})" if cosine else f" (unrelated images: {100 * chance:.1f} %)"
    return s


def summary_line(r) -> str:
    """One greppable line: ``shift cosine 0.964 [0.948, 0.979] (unrelated images: 0.961), ...``.

    Agreement rates are shown as %, cosine similarities as "cosine 0.14"; the chance level (the
    metric between different images) follows each number."""
    cos = _cosine_metric(r)
    ch = _chance_value(r)
    s = "onnxsym consistency: " + _part("shift", r.shift, cos, ch) + ", " + _part("flip", r.flip, cos, ch)
    if r.flip_vertical:
        s += ", " + _part("vflip", r.flip_vertical, cos, ch)
    pairs = f"{r.shift.pairs} pairs"
    if r.shift.excluded_pairs:
        pairs += f" + {r.shift.excluded_pairs} flat left out"
    s += f" ({r.images} images, {pairs}, seed {r.seed}, provider {r.provider})"
    return s


def to_table(r, columns: int = 100) -> str:
    head = [
        f"model     {r.model}",
        f"runtime   onnxruntime on {r.provider} (requested {r.provider_requested}"
        + ("; CUDA not obtained, see the warning" if r.provider_fallback else "") + ")",
        f"input     {r.input.name} {dims(r.input.shape)} {r.input.layout} {r.input.dtype}, "
        f"{r.input.height}x{r.input.width} (from {r.input.size_from}), "
        f"batch {'dynamic' if r.input.batch is None else r.input.batch} -> {r.batch_size} per run",
        f"preproc   {r.preset}: {r.preset_description}; {r.channel_order.upper()}; variants made "
        + ("inside the session" if r.pipeline.used == "device" else "on the host") + f" ({r.pipeline.reason})",
        f"output    {r.output.name} {dims(r.output.shape)}: {r.output.kind} ({r.output.kind_reason}), "
        f"{r.output.comparison}",
        f"images    {r.images} from {r.image_source}"
        + (f" ({len(r.skipped)} skipped)" if r.skipped else ""),
    ]
    head = [part for line in head for part in textwrap.wrap(line, max(40, columns), subsequent_indent=" " * 10,
                                                            break_long_words=False, break_on_hyphens=False)]
    head.append("")
    cos = _cosine_metric(r)
    n_shift = f"{r.shift.pairs} pairs" + (f" (+{r.shift.excluded_pairs} flat)" if r.shift.excluded_pairs else "")
    chance = _chance_text(r, cos)
    rows = [["shift", _pct(r.shift.consistency, cos), _ci(r.shift.ci95, cos), chance, n_shift,
             "—" if r.shift.mean_abs_delta_top1_prob is None else f"{r.shift.mean_abs_delta_top1_prob:.3f}"]]
    for f in (r.flip, r.flip_vertical):
        if f is not None:
            n = f"{f.images} images" + (f" (+{f.excluded_images} flat)" if f.excluded_images else "")
            rows.append([f"flip ({f.axis})", _pct(f.consistency, cos), _ci(f.ci95, cos), chance, n,
                         "—" if f.mean_abs_delta_top1_prob is None else f"{f.mean_abs_delta_top1_prob:.3f}"])
    dp = r.shift.mean_abs_delta_top1_prob is not None
    body = table(["test", "cosine similarity" if cos else "consistency", "95 % interval",
                  "unrelated images", "n"] + (["mean |Δp top-1|"] if dp else []),
                 [row if dp else row[:-1] for row in rows], "lrrrrr" if dp else "lrrrr")
    my, mx = r.max_shift
    rng = f"[0, {my}) per axis" if my == mx else f"[0, {my}) rows and [0, {mx}) columns"
    how = ("scaled with the input: round(32 · S / 224) per axis, Zhang's 32 at 224"
           if r.max_shift_from == "auto" else f"set by {param('max_shift')}")
    base = f"; crops of the {r.base_size[0]}x{r.base_size[1]} base" if r.base_size else ""
    tail = ["", f"shift: {r.shift.metric}; offsets uniform in {rng} ({how}{base}), drawn per image "
                "with numpy default_rng([seed, image_index])."]
    ch = r.chance
    if ch is not None:
        if ch.value is None:
            tail.append("unrelated images: not measured (fewer than two comparable images).")
        else:
            tail.append(f"unrelated images: {ch.what}; {ch.pairs} pairs of {ch.images} images"
                        + (" (a seeded sample)" if ch.sampled else "")
                        + (f", {ch.excluded_pairs} pairs of two flat outputs left out" if ch.excluded_pairs else "")
                        + ". A consistency number means something only well above it.")
    if dp:
        tail.append("mean |Δp top-1|: how much the probability of the top-1 class moves between the two "
                    "crops of a pair (flip: the centre crop and its mirror), averaged; symmetrised over "
                    "both crops' top-1 classes. 0 = identical confidence.")
    tail += [
            f"shift interval: {r.shift.ci95_method}"
            + (f" (deff {r.shift.design_effect:.2f})" if r.shift.design_effect else "") + ".",
            f"flip interval: {r.flip.ci95_method}."]
    if r.repeat:
        tail.append(f"repeat check: {r.repeat.inputs} inputs run twice: "
                    + ("bit-identical" if r.repeat.identical else
                       f"max |diff| {r.repeat.max_abs_diff:.3g}, agreement {100 * r.repeat.agreement:.1f} %")
                    + ("" if r.repeat.ok else " — NOT deterministic enough"))
    for name, why in r.skipped[:20]:
        tail.append(f"skipped   {name}: {why}")
    if len(r.skipped) > 20:
        tail.append(f"skipped   ... and {len(r.skipped) - 20} more")
    for n in r.notes:
        tail += wrap_lines("note: ", n, columns)
    for w in r.warnings:
        tail += wrap_lines("WARNING: ", w, columns)
    tail.append(f"time: {r.seconds:.2f} s, {r.inputs_run} model inputs, {r.inputs_per_second:.1f} inputs/s")
    tail += ["", summary_line(r)]
    return "\n".join(head) + "\n" + body + "\n" + "\n".join(tail)
