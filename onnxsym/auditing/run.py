"""``audit``: weights, padding and consistency of one model, checked against gates.

The steps: check that the gates can be evaluated with these settings; the weights and their
padding section (:mod:`.compose`); the baseline's numbers (:mod:`.baseline`); the consistency run
(its failure is recorded, not raised, so the weight part is still reported); the gates
(:mod:`.gates`) on the facts gathered; the ``onnxsym.audit/1`` document (:mod:`.results`).
"""
from __future__ import annotations

import time
from dataclasses import asdict

from .. import __version__
from ..defaults import CHANNEL_ORDER, PAIRS_PER_IMAGE, PIPELINE, PRESET, PROVIDER, SEED, VERTICAL
from ..errors import InputError, OnnxsymError
from ..model.source import open_model
from ..parsing import parse_size
from ..wording import param
from .baseline import baseline_facts
from .compare import compare_docs
from .compose import analyze_weights, stage
from .facts import (consistency_facts, measurement_of, padding_size, protocol_differences, protocol_of,
                    uneven_strided)
from .gates import as_gates, evaluate
from .reports import read_report
from .results import SCHEMA, AuditReport, summary_line
from .thumbnails import thumbnails as make_thumbnails


def check_gates_apply(gates, run: bool, baseline) -> None:
    """Refuse (exit 2) gates that cannot be evaluated with these settings: a configuration
    mistake must not read as a model regression (exit 1)."""
    for name in ("min_shift_consistency", "min_flip_consistency", "max_consistency_drop"):
        if getattr(gates, name) is not None and not run:
            raise InputError(f"{param(name)} needs the consistency run: {param('run', True)}")
    for name in ("max_symmetry_drop", "max_consistency_drop"):
        if getattr(gates, name) is not None and baseline is None:
            raise InputError(f"{param(name)} needs {param('baseline')} (an earlier audit JSON)")


def audit(model, *, images=None, input_shape=None, run: bool = True, provider: str = PROVIDER,
          pairs_per_image: int = PAIRS_PER_IMAGE, seed: int = SEED, preset: str = PRESET, input_size=None,
          channel_order: str = CHANNEL_ORDER, vertical: bool = VERTICAL, batch_size: int | None = None,
          feeds: dict | None = None, max_shift=None, output=None, output_kind="auto", gates=None, baseline=None,
          progress=None, thumbnails: bool = True, started: float | None = None,
          invocation: list | None = None, pipeline: str = PIPELINE, engine=None) -> AuditReport:
    """Weights, padding and (unless ``run`` is False) consistency of ``model``, checked against ``gates``.

    Parameters
    ----------
    model : path, bytes, onnx.ModelProto or LoadedModel
    images : folder, file, ImageSet or None (the shipped sample photos)
    input_shape : str or sequence of int, optional
        For the padding diagnosis when the model's input size is symbolic (``input_size``, the
        consistency run's spatial size, is used for it when no shape is given).
    pairs_per_image, seed, preset, channel_order, vertical, batch_size, feeds, max_shift, provider, output,
    output_kind, pipeline :
        Passed to :func:`onnxsym.measure_consistency`.
    gates : Gates or mapping, optional
        The thresholds (:class:`onnxsym.Gates`, or ``{"min_symmetry": 0.6, …}``).
    baseline : dict or path, optional
        An earlier ``onnxsym.audit/1`` report, for the drop gates and the deltas.
    progress : object with ``stage(name)`` (weights, padding, consistency), or callable(done, total)
        for the consistency part only.
    started : float, optional
        ``time.time()`` when the caller started (the command line: when its process started), so
        the summary's time is the whole run's; default: when this call started.
    invocation : list of str, optional
        The command line, recorded in the provenance.
    engine : onnxsym.engines engine, optional
        Where the consistency run's images are measured (e.g. a
        :class:`~onnxsym.engines.ray.RayEngine`); passed to :func:`onnxsym.measure_consistency`,
        same numbers.

    Returns
    -------
    AuditReport
        ``exit_code`` is 0 (all gates pass), 1 (a gate failed) or the code of the error that
        stopped the consistency part (2 input, 3 runtime).

    Raises
    ------
    InputError
        Unreadable model or baseline, impossible gate values, gates that cannot be evaluated
        with these settings (e.g. a consistency gate with ``run=False``).
    """
    gates = as_gates(gates)
    check_gates_apply(gates, run, baseline)
    t0 = time.perf_counter()
    origin = t0 - (time.time() - started) if started is not None else t0
    loaded = open_model(model)
    if baseline is not None and not isinstance(baseline, dict):
        baseline = read_report(baseline, param("baseline"))
    if input_shape is None and input_size is not None:
        input_shape = parse_size(input_size)  # (H, W): the padding diagnosis takes it too
    wrep = analyze_weights(loaded, input_shape=input_shape, padding=True, progress=progress)
    weights = wrep.to_dict()
    padding = weights.pop("padding", None)
    t1 = time.perf_counter()
    base = baseline_facts(baseline, weights) if baseline is not None else None
    if gates.max_consistency_drop is not None and base["shift_consistency"] is None:
        raise InputError(f"{param('max_consistency_drop')}: the {param('baseline')} report has no consistency numbers")
    if gates.fail_on_uneven_padding and uneven_strided(padding) is None:
        raise InputError(f"{param('fail_on_uneven_padding')}: the model's input size is not known; "
                         f"give {param('input_size')}")
    cons, error, error_code, thumbs = None, None, 0, []
    if run:
        cons, error, error_code, thumbs = _consistency_part(
            loaded, images, thumbnails, provider=provider, pairs_per_image=pairs_per_image, seed=seed,
            preset=preset, input_size=input_size, channel_order=channel_order, vertical=vertical,
            batch_size=batch_size, feeds=feeds, max_shift=max_shift, output=output, output_kind=output_kind,
            pipeline=pipeline, progress=stage(progress, "consistency"), engine=engine)
    t2 = time.perf_counter()
    differences = protocol_differences((base or {}).get("protocol"), protocol_of(cons))
    warnings = _warnings(gates, cons, differences)
    results = evaluate(gates, _facts(wrep, gates, cons, error, padding, base, differences))
    verdict = ("ERROR" if error_code else "INFO" if not results
               else "PASSED" if all(g.passed for g in results) else "FAILED")
    line = summary_line(verdict, wrep.summary, cons, results, time.perf_counter() - origin, base)
    data = {
        "schema": SCHEMA,
        "onnxsym_version": __version__,
        "provenance": _provenance(loaded, weights, cons, run, seed, pairs_per_image,
                                  {"weights_s": round(t1 - t0, 3), "consistency_s": round(t2 - t1, 3),
                                   "total_s": round(time.perf_counter() - origin, 3)}, invocation),
        "weights": weights, "padding": padding, "consistency": cons, "thumbnails": thumbs,
        "gates": [asdict(g) for g in results], "gate_settings": asdict(gates), "baseline": base,
        "warnings": warnings, "verdict": verdict, "summary_line": line,
    }
    if base is not None and baseline is not None:
        data["deltas"] = compare_docs(baseline, data)
    return AuditReport(data, results, verdict, line, error, error_code, wrep)


def _consistency_part(loaded, images, thumbnails, **options):
    """(consistency document or {error, exit_code}, error, exit code, thumbnails)."""
    from ..consistency import load_images, measure

    try:
        imageset = load_images(images)
        cons = measure(loaded, imageset, **options).to_dict()
        thumbs = (make_thumbnails(imageset, cons)
                  if thumbnails else [])
        return cons, None, 0, thumbs
    except OnnxsymError as err:
        return {"error": str(err), "exit_code": err.exit_code}, str(err), err.exit_code, []


def _warnings(gates, cons, differences) -> list:
    warnings = []
    if differences:
        warnings.append("the baseline's consistency was measured differently (" + "; ".join(differences)
                        + "): drops compare different protocols")
    if gates.max_consistency_drop is not None and cons and "error" not in cons:
        for kind in ("shift", "flip"):
            ci = (cons.get(kind) or {}).get("ci95")
            if ci and None not in ci and (ci[1] - ci[0]) / 2 > gates.max_consistency_drop:
                warnings.append(f"{param('max_consistency_drop', f'{gates.max_consistency_drop:g}')} is tighter "
                                f"than the {kind} measurement's precision (95 % CI half-width "
                                f"{(ci[1] - ci[0]) / 2:.3f}): use more images ({param('images')}) for a "
                                "meaningful drop gate")
    return warnings


def _facts(wrep, gates, cons, error, padding, base, differences) -> dict:
    """The numbers the gates are evaluated on."""
    s = wrep.summary
    shift, flip = consistency_facts(cons)
    low = [r.id for r in wrep.layers if r.symmetry is not None and r.symmetry < gates.asymmetry_below]
    return {"median_symmetry": s.internal.get("median_symmetry"), "asymmetric_layers": low,
            "shift_consistency": shift, "flip_consistency": flip, "consistency_error": error,
            "consistency_metric": cons.get("metric") if cons else None,
            "uneven_strided": uneven_strided(padding), "padding_at": padding_size(padding), "baseline": base,
            "baseline_protocol_note": (" — baseline measured differently: " + "; ".join(differences)
                                       if differences else ""),
            "measurement": measurement_of(cons), "baseline_paired": bool(base) and not differences}


def versions() -> dict:
    """The versions of what the numbers depend on."""
    import platform
    from importlib import metadata

    out = {"onnxsym": __version__, "python": platform.python_version()}
    for name in ("onnx", "onnxruntime", "numpy", "numba", "scipy"):
        dist = {"onnxruntime": ("onnxruntime-gpu", "onnxruntime")}.get(name, (name,))
        for d in dist:
            try:
                out[name] = metadata.version(d)
                break
            except metadata.PackageNotFoundError:
                continue
    return out


def _provenance(loaded, weights, cons, run, seed, pairs_per_image, timings, invocation=None) -> dict:
    providers = cons.get("providers") if cons and "error" not in cons else None
    return {
        "onnxsym_version": __version__, "versions": versions(),
        "command": list(invocation) if invocation is not None else None,
        "model": loaded.label, "sha256": loaded.sha256(),
        "size_bytes": int(loaded.size_bytes), "external_bytes": int(loaded.external_bytes),
        "producer": weights["model"]["producer"], "ir_version": weights["model"]["ir_version"],
        "opsets": weights["model"]["opsets"], "providers": providers,
        "seed": seed if run else None, "pairs_per_image": pairs_per_image if run else None,
        "images": (cons or {}).get("images") if run else None,
        "timings": timings,
    }
