"""``audit``: weights + padding + consistency → gates → one AuditReport (``onnxsym.audit/1``)."""
from __future__ import annotations

import base64
import difflib
import io
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from . import __version__
from .errors import InputError, OnnxsymError
from .gates import Gates, evaluate

SCHEMA = "onnxsym.audit/1"


@dataclass
class AuditReport:
    """The audit's data (a JSON-ready dict), its gate results and verdict.

    ``error`` holds the one-line message (and ``error_code`` the exit code) when the consistency
    part failed; the weight part of the report is complete either way.
    """

    data: dict
    gates: list
    verdict: str
    summary_line: str
    error: str | None = None
    error_code: int = 0
    weights_report: object = field(default=None, repr=False)

    @property
    def exit_code(self) -> int:
        if self.error_code:
            return self.error_code
        return 0 if self.verdict == "PASSED" else 1

    def to_dict(self) -> dict:
        return self.data


def _consistency_facts(cons: dict | None):
    if not cons or "error" in cons:
        return None, None
    shift = (cons.get("shift") or {}).get("consistency")
    flip = (cons.get("flip") or {}).get("consistency")
    return shift, flip


def _uneven_strided(padding: dict | None):
    """Number of strided convs and pools that pad unevenly, or None when not diagnosed."""
    if not padding or padding.get("error") or not (padding.get("input") or {}).get("spatial"):
        return None
    summary = padding.get("summary") or {}
    return int(summary.get("strided_convs_uneven", 0)) + int(summary.get("strided_pools_uneven", 0))


def baseline_facts(doc: dict, current_weights: dict) -> dict:
    """Numbers of an earlier audit (or weights) report, after checking it is comparable."""
    from .schemas import check_report

    check_report(doc, "--baseline")
    schema = doc["schema"]
    weights = doc.get("weights", doc) if schema == SCHEMA else doc
    ratio = structure_match(weights.get("layers", []), current_weights.get("layers", []))
    if ratio < 0.5:
        raise InputError(f"--baseline looks like another model family: only {100 * ratio:.0f} % of "
                         "its conv layers match this model's by weight shape and order")
    cons = doc.get("consistency") if schema == SCHEMA else None
    shift, flip = _consistency_facts(cons)
    return {"median_symmetry": (weights.get("summary") or {}).get("internal", {}).get("median_symmetry"),
            "shift_consistency": shift, "flip_consistency": flip,
            "sha256": (doc.get("provenance") or {}).get("sha256"),
            "protocol": protocol_of(cons)}


def protocol_of(cons: dict | None) -> dict | None:
    """What a consistency number depends on besides the model: images, seed, pairs, preprocessing."""
    if not cons or "error" in cons:
        return None
    inp = cons.get("input") or {}
    return {"images": cons.get("images"), "image_source": cons.get("image_source"), "seed": cons.get("seed"),
            "pairs_per_image": cons.get("pairs_per_image"), "preprocessing": cons.get("preprocessing"),
            "input_size": [inp.get("height"), inp.get("width")] if inp else None,
            "max_shift": cons.get("max_shift")}


def protocol_differences(before: dict | None, now: dict | None) -> list:
    """Human-readable differences between two consistency protocols (empty when comparable)."""
    if not before or not now:
        return []
    out = []
    for key, label in (("image_source", "images from"), ("images", "image count"), ("seed", "seed"),
                       ("pairs_per_image", "pairs per image"), ("preprocessing", "preprocessing"),
                       ("input_size", "input size"), ("max_shift", "max shift")):
        if before.get(key) != now.get(key):
            out.append(f"{label} {before.get(key)!r} → {now.get(key)!r}")
    return out


def _shape_key(row):
    return (tuple(row.get("weight_shape") or ()), row.get("op_type"))


#: above this many (rows of A) x (rows of B), layers are matched by shape occurrence only
MATCH_PAIRWISE_MAX = 4_000_000


def match_layers(a_rows: list, b_rows: list) -> list:
    """Pairs (i, j) of conv rows matched by weight shape and order, not by name (converters
    rename nodes and reorder branches): first the longest in-order runs of equal shapes, then
    the layers left over, by shape, in order of appearance. Sorted by i.

    The run search (difflib) is quadratic in the worst case; for reports whose row counts
    multiply to more than MATCH_PAIRWISE_MAX (2 000 x 2 000) the k-th layer of each shape in A is
    paired with the k-th of that shape in B, which is linear."""
    ka, kb = [_shape_key(r) for r in a_rows], [_shape_key(r) for r in b_rows]
    if len(ka) * len(kb) > MATCH_PAIRWISE_MAX:
        return _match_by_occurrence(ka, kb)
    sm = difflib.SequenceMatcher(a=ka, b=kb, autojunk=False)
    pairs = []
    for block in sm.get_matching_blocks():
        for k in range(block.size):
            pairs.append((block.a + k, block.b + k))
    used_a, used_b = {i for i, _ in pairs}, {j for _, j in pairs}
    left_b = {}
    for j, key in enumerate(kb):
        if j not in used_b:
            left_b.setdefault(key, []).append(j)
    for i, key in enumerate(ka):
        if i not in used_a and left_b.get(key):
            pairs.append((i, left_b[key].pop(0)))
    return sorted(pairs)


def _match_by_occurrence(ka: list, kb: list) -> list:
    left_b: dict = {}
    for j, key in enumerate(kb):
        left_b.setdefault(key, []).append(j)
    taken = {key: 0 for key in left_b}
    pairs = []
    for i, key in enumerate(ka):
        js = left_b.get(key)
        if js and taken[key] < len(js):
            pairs.append((i, js[taken[key]]))
            taken[key] += 1
    return pairs


def structure_match(a_rows, b_rows) -> float:
    if not a_rows or not b_rows:
        return 0.0
    return len(match_layers(a_rows, b_rows)) / max(len(a_rows), len(b_rows))


def _thumbnails(imageset, per_image, limit=12, metric=None, lowest=4):
    """Small JPEG data URIs for the consistency panel; the HTML renderer merges entries of the same
    image into one tile.

    ``metric`` (the consistency report's ``metric``; inferred from ``per_image`` when None):
    ``top1_agreement`` - the images whose prediction changed, one entry per reason (``why`` shift
    or flip; at most ``limit`` images). ``cosine_similarity`` / ``pixel_top1_agreement`` - nothing
    "changes" there, so the ``lowest`` images with the lowest per-image value (the lower of the
    shift mean and the flip value) get one entry each, ``why`` "lowest", with ``shift``/``flip``
    values and ``rank`` (1 = lowest)."""
    from PIL import Image

    if metric is None:
        if any(r.get("shift_agree") is not None for r in per_image):
            metric = "top1_agreement"
        elif any(r.get("flat") is not None for r in per_image):   # set for cosine metrics only
            metric = "cosine_similarity"
        else:
            metric = "pixel_top1_agreement"
    picked = []                         # (name, entry without data_uri)
    if metric == "top1_agreement":
        for res in per_image:
            if res.get("shift_agree") is not None and res["shift_agree"] < res.get("shift_pairs", 0):
                picked.append((res["name"], {"why": "shift", "detail":
                               f"shift: {res['shift_agree']}/{res['shift_pairs']} pairs agree"}))
            if res.get("flip") is not None and res["flip"] < 1:
                picked.append((res["name"], {"why": "flip", "detail": "flip: top-1 changed"}))
            if res.get("flip_vertical") is not None and res["flip_vertical"] < 1:
                picked.append((res["name"], {"why": "flip", "detail": "vertical flip: top-1 changed"}))
    else:
        cosine = metric == "cosine_similarity"

        def fmt(v):
            return f"{v:.3f}" if cosine else f"{100 * v:.1f} %"

        scored = []
        for res in per_image:
            vals = [v for v in (res.get("shift_mean"), res.get("flip")) if v is not None]
            if vals:
                scored.append((min(vals), res))
        scored.sort(key=lambda t: t[0])
        for rank, (_, res) in enumerate(scored[:lowest], 1):
            sm, fl = res.get("shift_mean"), res.get("flip")
            what = "cosine" if cosine else "pixel agreement"
            detail = " · ".join(x for x in (
                f"shift {what} {fmt(sm)}" if sm is not None else "",
                f"flip {what} {fmt(fl)}" if fl is not None else "") if x)
            picked.append((res["name"], {"why": "lowest", "detail": detail, "rank": rank,
                                         "shift": sm, "flip": fl, "metric": metric}))
    if not picked or imageset is None:
        return []
    index = {n: i for i, n in enumerate(imageset.names)}
    uris, out = {}, []
    for name, entry in picked:
        if name not in uris:
            if len(uris) >= limit or name not in index:
                continue
            try:
                img = imageset.load(index[name])
            except Exception:  # unreadable now: the measurement listed it as skipped
                continue
            pil = Image.fromarray(img)
            pil.thumbnail((128, 128))
            buf = io.BytesIO()
            pil.convert("RGB").save(buf, format="JPEG", quality=80)
            uris[name] = "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode()
        out.append({"name": name, **entry, "data_uri": uris[name]})
    return out


def _check_gates_apply(gates: Gates, run: bool, baseline) -> None:
    """Refuse (exit 2) gates that cannot be evaluated with these settings: a configuration
    mistake must not read as a model regression (exit 1)."""
    for name in ("min_shift_consistency", "min_flip_consistency", "max_consistency_drop"):
        if getattr(gates, name) is not None and not run:
            raise InputError(f"--{name.replace('_', '-')} needs the consistency run: drop --no-run")
    for name in ("max_symmetry_drop", "max_consistency_drop"):
        if getattr(gates, name) is not None and baseline is None:
            raise InputError(f"--{name.replace('_', '-')} needs --baseline (an earlier audit JSON)")


def audit(model, *, images=None, input_shape=None, run: bool = True, provider: str = "auto",
          pairs_per_image: int = 5, seed: int = 0, preset: str = "imagenet", input_size=None,
          channel_order: str = "rgb", vertical: bool = False, batch_size: int | None = None,
          feeds: dict | None = None, max_shift=None, gates: Gates | None = None, baseline=None, progress=None,
          thumbnails: bool = True) -> AuditReport:
    """Weights, padding and (unless ``run`` is False) consistency of ``model``, checked against ``gates``.

    Parameters
    ----------
    model : path or LoadedModel
    images : folder, file, ImageSet or None (the shipped sample photos)
    input_shape : sequence of int, optional
        For the padding diagnosis when the model's input size is symbolic (``input_size``, the
        consistency run's spatial size, is used for it when no shape is given).
    pairs_per_image, seed, preset, channel_order, vertical, batch_size, feeds, max_shift, provider :
        Passed to :func:`onnxsym.consistency.measure_consistency`.
    baseline : dict or path, optional
        An earlier ``onnxsym.audit/1`` report, for the drop gates and the deltas.

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
    from .loading import LoadedModel, load_model
    from .weights import analyze_weights

    gates = (gates or Gates()).validate()
    _check_gates_apply(gates, run, baseline)
    t0 = time.perf_counter()
    loaded = model if isinstance(model, LoadedModel) else load_model(model)
    if baseline is not None and not isinstance(baseline, dict):
        baseline = _read_json(baseline, "--baseline")
    if input_shape is None and input_size is not None:
        from .images import parse_input_size

        input_shape = parse_input_size(input_size)  # (H, W): the padding diagnosis takes it too
    wrep = analyze_weights(loaded, input_shape=input_shape, padding=True)
    weights = wrep.to_dict()
    padding = weights.pop("padding", None)
    t1 = time.perf_counter()
    base = baseline_facts(baseline, weights) if baseline is not None else None
    if gates.max_consistency_drop is not None and base["shift_consistency"] is None:
        raise InputError("--max-consistency-drop: the --baseline report has no consistency numbers")
    if gates.fail_on_uneven_padding and _uneven_strided(padding) is None:
        raise InputError("--fail-on-uneven-padding: the model's input size is not known; give --input-shape")

    cons_dict, error, error_code, imageset, thumbs = None, None, 0, None, []
    if run:
        from .consistency import measure_consistency
        from .images import load_images

        try:
            imageset = load_images(images)
            crep = measure_consistency(loaded, imageset, provider=provider, pairs_per_image=pairs_per_image,
                                       seed=seed, preset=preset, input_size=input_size,
                                       channel_order=channel_order, vertical=vertical,
                                       batch_size=batch_size, feeds=feeds, max_shift=max_shift,
                                       progress=progress)
            cons_dict = crep.to_dict()
            if thumbnails:
                thumbs = _thumbnails(imageset, cons_dict.get("per_image", []), metric=cons_dict.get("metric"))
        except OnnxsymError as err:
            error, error_code = str(err), err.exit_code
            cons_dict = {"error": error, "exit_code": error_code}
    t2 = time.perf_counter()

    warnings = []
    differences = protocol_differences((base or {}).get("protocol"), protocol_of(cons_dict))
    if differences:
        warnings.append("the baseline's consistency was measured differently (" + "; ".join(differences)
                        + "): drops compare different protocols")
    if gates.max_consistency_drop is not None and cons_dict and "error" not in cons_dict:
        for kind in ("shift", "flip"):
            ci = (cons_dict.get(kind) or {}).get("ci95")
            if ci and None not in ci and (ci[1] - ci[0]) / 2 > gates.max_consistency_drop:
                warnings.append(f"--max-consistency-drop {gates.max_consistency_drop:g} is tighter than the {kind} "
                                f"measurement's precision (95 % CI half-width {(ci[1] - ci[0]) / 2:.3f}): "
                                "use more images (--images) for a meaningful drop gate")
    s = wrep.summary
    shift, flip = _consistency_facts(cons_dict)
    low = [r.id for r in wrep.layers if r.symmetry is not None and r.symmetry < gates.asymmetry_below]
    facts = {"median_symmetry": s.internal.get("median_symmetry"), "asymmetric_layers": low,
             "shift_consistency": shift, "flip_consistency": flip, "consistency_error": error,
             "consistency_is_cosine": is_cosine(cons_dict),
             "uneven_strided": _uneven_strided(padding), "baseline": base,
             "baseline_protocol_note": " — baseline measured differently: " + "; ".join(differences) if differences else ""}
    results = evaluate(gates, facts)
    verdict = "PASSED" if all(g.passed for g in results) else "FAILED"
    if error_code:
        verdict = "ERROR"
    line = summary_line(verdict, s, cons_dict, results, time.perf_counter() - t0, base)

    providers = cons_dict.get("providers") if cons_dict and "error" not in cons_dict else None
    data = {
        "schema": SCHEMA,
        "onnxsym_version": __version__,
        "provenance": {
            "onnxsym_version": __version__, "model": str(loaded.path), "sha256": loaded.sha256(),
            "size_bytes": int(loaded.size_bytes),
            "external_bytes": int(getattr(loaded, "external_bytes", 0)),
            "producer": weights["model"]["producer"], "ir_version": weights["model"]["ir_version"],
            "opsets": weights["model"]["opsets"], "providers": providers,
            "seed": seed if run else None, "pairs_per_image": pairs_per_image if run else None,
            "images": (cons_dict or {}).get("images") if run else None,
            "timings": {"weights_s": round(t1 - t0, 3), "consistency_s": round(t2 - t1, 3),
                        "total_s": round(time.perf_counter() - t0, 3)},
        },
        "weights": weights,
        "padding": padding,
        "consistency": cons_dict,
        "thumbnails": thumbs,
        "gates": [asdict(g) for g in results],
        "gate_settings": asdict(gates),
        "baseline": base,
        "warnings": warnings,
        "verdict": verdict,
        "summary_line": line,
    }
    if base is not None and baseline is not None:
        data["deltas"] = compare_docs(baseline, data)
    return AuditReport(data, results, verdict, line, error, error_code, wrep)


def is_cosine(cons: dict | None) -> bool:
    """True when the consistency numbers are mean cosine similarities, not shares of agreement."""
    return bool(cons) and cons.get("metric") == "cosine_similarity"


def summary_line(verdict, s, cons, results, seconds, base=None) -> str:
    """``PASSED | symmetry 0.79 (random init 0.41) | shift 84.1 % [81.8, 86.2] | flip 91.0 % [87.9, 93.4] | 12.3 s``.

    Intervals are 95 % and printed as [low, high] (they are not symmetric); cosine metrics print
    ``shift cosine 0.41 [0.30, 0.52]``; with a baseline report its median S follows the random one.
    """
    parts = [verdict]
    med = s.internal.get("median_symmetry")
    if med is None:
        parts.append("symmetry n/a")
    else:
        ref = f"random init {s.baseline['median_mean']:.2f}"
        if base and base.get("median_symmetry") is not None:
            ref += f"; baseline report {base['median_symmetry']:.2f}"
        parts.append(f"symmetry {med:.2f} ({ref})")
    if cons and "error" not in cons:
        cosine = is_cosine(cons)
        for kind in ("shift", "flip"):
            part = cons.get(kind) or {}
            v, ci = part.get("consistency"), part.get("ci95")
            have_ci = v is not None and ci and None not in ci
            if v is None:
                parts.append(f"{kind} n/a")
            elif cosine:
                chance = (cons.get("chance") or {}).get("value")
                parts.append(f"{kind} cosine {v:.2f}" + (f" [{ci[0]:.2f}, {ci[1]:.2f}]" if have_ci else "")
                             + (f" (unrelated images {chance:.2f})" if chance is not None else ""))
            else:
                parts.append(f"{kind} {100 * v:.1f} %" + (f" [{100 * ci[0]:.1f}, {100 * ci[1]:.1f}]" if have_ci else ""))
    elif cons:
        parts.append("consistency failed")
    else:
        parts.append("consistency not run")
    failed = [g.short or g.name for g in results if not g.passed]
    if failed:
        parts.append("failed: " + ", ".join(failed))
    parts.append(f"{seconds:.1f} s")
    return " | ".join(parts)


def _read_json(path, what):
    from .files import load_json

    return load_json(path, what)


def load_report(source) -> dict:
    """A report for ``compare``: a JSON file (audit/1 or weights/1) or an .onnx model (analysed now)."""
    from .schemas import check_report

    p = Path(source)
    if p.suffix.lower() == ".json":
        return check_report(_read_json(p, "report"), f"report {p}")
    from .weights import analyze_weights

    return analyze_weights(p).to_dict()


def compare_docs(a: dict, b: dict) -> dict:
    """Per-layer and summary deltas between two reports (b − a), layers matched by shape and order."""
    wa = a.get("weights", a) if a.get("schema") == SCHEMA else a
    wb = b.get("weights", b) if b.get("schema") == SCHEMA else b
    la, lb = wa.get("layers", []), wb.get("layers", [])
    rows = []
    for i, j in match_layers(la, lb):
        ra, rb = la[i], lb[j]
        sa, sb = ra.get("symmetry"), rb.get("symmetry")
        rows.append({"a": ra.get("id"), "b": rb.get("id"), "kernel_shape": rb.get("kernel_shape"),
                     "symmetry_a": sa, "symmetry_b": sb,
                     "delta": None if sa is None or sb is None else round(sb - sa, 6)})
    ma = (wa.get("summary") or {}).get("internal", {}).get("median_symmetry")
    mb = (wb.get("summary") or {}).get("internal", {}).get("median_symmetry")
    summary = {"median_symmetry": [ma, mb, None if ma is None or mb is None else round(mb - ma, 6)],
               "matched_layers": len(rows), "layers_a": len(la), "layers_b": len(lb)}
    if len(rows) < 0.5 * max(len(la), len(lb), 1):
        summary["warning"] = (f"only {len(rows)} of {max(len(la), len(lb))} conv layers match by weight shape: "
                              "these look like different model families, the deltas mean little")
    cons_a = a.get("consistency") if a.get("schema") == SCHEMA else None
    cons_b = b.get("consistency") if b.get("schema") == SCHEMA else None
    for k, kind in enumerate(("shift", "flip")):
        ca, cb = _consistency_facts(cons_a)[k], _consistency_facts(cons_b)[k]
        summary[f"{kind}_consistency"] = [ca, cb, None if ca is None or cb is None else round(cb - ca, 6)]
        summary[f"{kind}_ci95"] = [((c or {}).get(kind) or {}).get("ci95") if c and "error" not in c else None
                                   for c in (cons_a, cons_b)]
    summary["consistency_metric"] = [(c or {}).get("metric") if c and "error" not in c else None
                                     for c in (cons_a, cons_b)]
    diffs = protocol_differences(protocol_of(cons_a), protocol_of(cons_b))
    if diffs:
        summary["protocol_differences"] = diffs
    return {"summary": summary, "layers": rows}
