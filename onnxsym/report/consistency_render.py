"""ConsistencyReport -> dict / JSON (schema ``onnxsym.consistency/1``) and a text table.

JSON schema ``onnxsym.consistency/1`` (keys always present; numbers are fractions in [0, 1]):

* ``schema``, ``model``, ``seed``, ``pairs_per_image``, ``batch_size``, ``images`` (images measured)
* ``provider`` - the provider that actually ran ("cpu", "cuda"); ``providers`` (onnxruntime's
  ``get_providers()``); ``provider_requested`` (auto|cuda|cpu); ``providers_requested``;
  ``provider_fallback`` - null, or one line when CUDA was wanted but not obtained (with the reason)
* ``input`` {name, layout, height, width, channels, dtype, batch, shape, size_from},
  ``preprocessing`` {preset, description, channel_order}
* ``output`` {name, kind: classifier|spatial|vector, shape, softmax_applied, stride, comparison}
* ``shift`` {consistency, pairs, images, ci95: [lo, hi] | null, ci95_method, metric,
  mean_abs_delta_top1_prob, design_effect, offsets}
* ``flip`` {axis, consistency, images, ci95, ci95_method, metric, mean_abs_delta_top1_prob};
  ``flip_vertical`` the same or null
* ``repeat`` {inputs, identical, max_abs_diff, agreement, ok}
* ``image_source``, ``skipped`` [{name, reason}], ``per_image`` [{name, shift_agree, shift_pairs,
  shift_mean, flip, flip_vertical, top1}]
* ``timing`` {seconds, inputs_run, inputs_per_second}
* ``notes`` [str], ``warnings`` [str]
"""
from __future__ import annotations

import json
import math
from dataclasses import asdict

from .text import table


def _clean(x):
    if isinstance(x, float):
        return None if not math.isfinite(x) else round(x, 6)
    if isinstance(x, dict):
        return {k: _clean(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_clean(v) for v in x]
    return x


def report_to_dict(r) -> dict:
    d = {
        "schema": r.schema,
        "model": r.model,
        "provider": r.provider,
        "providers": list(r.providers),
        "provider_requested": r.provider_requested,
        "providers_requested": list(r.providers_requested),
        "provider_fallback": r.provider_fallback,
        "seed": r.seed,
        "pairs_per_image": r.pairs_per_image,
        "batch_size": r.batch_size,
        "images": r.images,
        "image_source": r.image_source,
        "input": {k: v for k, v in asdict(r.input).items() if k != "notes"},
        "preprocessing": {"preset": r.preset, "description": r.preset_description,
                          "channel_order": r.channel_order},
        "output": asdict(r.output),
        "shift": asdict(r.shift),
        "flip": asdict(r.flip),
        "flip_vertical": asdict(r.flip_vertical) if r.flip_vertical else None,
        "repeat": asdict(r.repeat) if r.repeat else None,
        "skipped": [{"name": n, "reason": why} for n, why in r.skipped],
        "per_image": [asdict(p) for p in r.per_image],
        "timing": {"seconds": r.seconds, "inputs_run": r.inputs_run,
                   "inputs_per_second": r.inputs_per_second},
        "notes": list(r.notes),
        "warnings": list(r.warnings),
    }
    return _clean(d)


def to_json(r) -> str:
    return json.dumps(report_to_dict(r), indent=1, ensure_ascii=False)


def _pct(x):
    return "—" if x is None else f"{100 * x:.1f} %"


def _ci(ci):
    return "—" if not ci else f"[{100 * ci[0]:.1f}, {100 * ci[1]:.1f}] %"


def summary_line(r) -> str:
    """One greppable line."""
    s = f"onnxsym consistency: shift {_pct(r.shift.consistency)} {_ci(r.shift.ci95)}"
    s += f", flip {_pct(r.flip.consistency)} {_ci(r.flip.ci95)}"
    if r.flip_vertical:
        s += f", vflip {_pct(r.flip_vertical.consistency)} {_ci(r.flip_vertical.ci95)}"
    s += f" ({r.images} images, {r.shift.pairs} pairs, seed {r.seed}, provider {r.provider})"
    return s


def to_table(r) -> str:
    head = [
        f"model     {r.model}",
        f"runtime   onnxruntime on {r.provider} (requested {r.provider_requested}"
        + ("; CUDA not obtained, see the warning" if r.provider_fallback else "") + ")",
        f"input     {r.input.name} {r.input.shape} {r.input.layout} {r.input.dtype}, "
        f"{r.input.height}x{r.input.width} (from {r.input.size_from}), "
        f"batch {'dynamic' if r.input.batch is None else r.input.batch} -> {r.batch_size} per run",
        f"preproc   {r.preset}: {r.preset_description}; {r.channel_order.upper()}",
        f"output    {r.output.name} {r.output.shape}: {r.output.kind}, {r.output.comparison}",
        f"images    {r.images} from {r.image_source}"
        + (f" ({len(r.skipped)} skipped)" if r.skipped else ""),
        "",
    ]
    rows = [["shift", _pct(r.shift.consistency), _ci(r.shift.ci95), f"{r.shift.pairs} pairs",
             "—" if r.shift.mean_abs_delta_top1_prob is None else f"{r.shift.mean_abs_delta_top1_prob:.3f}"]]
    for f in (r.flip, r.flip_vertical):
        if f is not None:
            rows.append([f"flip ({f.axis})", _pct(f.consistency), _ci(f.ci95), f"{f.images} images",
                         "—" if f.mean_abs_delta_top1_prob is None else f"{f.mean_abs_delta_top1_prob:.3f}"])
    body = table(["test", "consistency", "95 % interval", "n", "mean |Δp top-1|"], rows, "lrrrr")
    tail = ["",
            f"shift: {r.shift.metric}; offsets {r.shift.offsets}.",
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
        tail.append(f"note: {n}")
    for w in r.warnings:
        tail.append(f"WARNING: {w}")
    tail.append(f"time: {r.seconds:.2f} s, {r.inputs_run} model inputs, {r.inputs_per_second:.1f} inputs/s")
    tail += ["", summary_line(r)]
    return "\n".join(head) + "\n" + body + "\n" + "\n".join(tail)
