"""``study``: symmetry against consistency across many models.

The steps: list the models (files, and the ``.onnx`` files of folders, recursively); check the
settings, the images and the labels once, before any model is measured; look each model up in the
cache (:mod:`.cache`); hand the others to the engine (:mod:`onnxsym.engines`), which runs the
per-model task (:mod:`.task`) and gives the rows back keyed by id; write each row's cache entry as
it arrives; then, over all rows, the accuracy from the labels (:mod:`.labels`), the families
(:mod:`.families`), and the statistics over one representative per family (:mod:`.statistics`).
"""
from __future__ import annotations

import os
import time
from pathlib import Path

from .. import __version__
from ..defaults import CHANNEL_ORDER, JOBS, PAIRS_PER_IMAGE, PRESET, PROVIDER, SEED, VERTICAL
from ..errors import InputError
from ..parsing import integer, parse_max_shift, parse_size
from ..wording import param
from . import families as fam
from . import statistics as stats
from .cache import Cache, images_digest, study_key, versions
from .labels import accuracy, check_labels, load_labels
from .results import ModelRow, StudyReport
from .task import ModelTask, StudySettings, analyse, file_sha256, remember_images


def study(models, *, images=None, labels=None, jobs: int = JOBS, cache=None, engine=None, provider: str = PROVIDER,
          seed: int = SEED, pairs_per_image: int = PAIRS_PER_IMAGE, preset: str = PRESET,
          channel_order: str = CHANNEL_ORDER, vertical: bool = VERTICAL, input_size=None, max_shift=None,
          batch_size: int | None = None, feeds: dict | None = None, resamples: int = stats.RESAMPLES,
          progress=None) -> StudyReport:
    """Measure every model of ``models`` and relate symmetry to consistency across them.

    Parameters
    ----------
    models : path or sequence of paths
        ``.onnx`` files (any name, when given one by one) and folders (their ``.onnx`` files,
        recursively; other files are listed in ``skipped``).
    images : folder, image or .npy/.npz file, optional
        The images of every consistency run (default: the shipped photos).
    labels : path, optional
        CSV ``image,label`` or JSON ``{image name: class index}``: top-1 accuracy per model.
    jobs : int
        Workers of the default engine (:class:`onnxsym.engines.local.LocalEngine`).
    cache : folder, optional
        Per-model results are kept there and reused (:mod:`onnxsym.study.cache`).
    engine : onnxsym.engines.Engine, optional
        Where the per-model tasks run (instead of the local engine with ``jobs`` workers).
    provider, seed, pairs_per_image, preset, channel_order, vertical, input_size, max_shift, batch_size, feeds
        As :func:`onnxsym.measure_consistency` takes them; ``input_size`` applies to models whose
        spatial size is symbolic (others are measured at their own size).
    resamples : int
        Bootstrap resamples and random permutations of each statistic.
    progress : callable(done, total), optional
        Called as each model to measure is done.

    Returns
    -------
    StudyReport
        ``exit_code`` 0 when every model was measured, 2 when some row has an error.

    Raises
    ------
    InputError
        No model found, a path that does not exist, bad settings, images or labels that cannot
        be read (all checked before any model is measured).
    """
    t0 = time.perf_counter()
    found, skipped, notes = list_models(models)
    seed = integer(seed, "seed", 0)
    pairs_per_image = integer(pairs_per_image, "pairs_per_image", 1)
    resamples = integer(resamples, "resamples", 99)
    settings_check(provider, preset, channel_order)
    size = parse_size(input_size)
    parse_max_shift(max_shift)
    if batch_size is not None:
        batch_size = integer(batch_size, "batch_size", 1)
    if engine is None:
        from ..engines.local import LocalEngine

        engine = LocalEngine(jobs)
    elif jobs != 1:
        raise InputError(f"give {param('jobs')} or {param('engine')}, not both")
    from ..consistency import load_images

    imageset = load_images(images)
    label_map, label_notes = None, []
    if labels is not None:
        label_map = load_labels(labels)
        label_notes = check_labels(label_map, imageset.names, labels)
    settings = StudySettings(images=os.fspath(images) if images is not None else None,
                             images_digest=images_digest(imageset), provider=provider,
                             pairs_per_image=pairs_per_image, seed=seed, preset=preset, channel_order=channel_order,
                             vertical=bool(vertical), input_size=size, max_shift=max_shift, batch_size=batch_size,
                             feeds=tuple(sorted((feeds or {}).items())), threads=engine.threads)
    remember_images(settings.images, imageset)
    key = study_key(settings)
    store = Cache(cache, key) if cache is not None else None
    rows, todo, from_cache = _look_up(found, settings, store, notes)
    computed = sorted(todo)
    counter = {"done": 0}

    def on_result(model_id, row):
        row = _as_row(model_id, todo[model_id].path, row)
        if store is not None:
            note = store.put(row)
            if note:
                notes.append(note)
        counter["done"] += 1
        if progress is not None:
            progress(counter["done"], len(todo))

    results = engine.map_models(analyse, todo, on_result)
    rows.update({k: _as_row(k, todo[k].path, v) for k, v in results.items()})
    rows = [rows[k] for k in sorted(rows)]
    for r in rows:
        r.accuracy = accuracy(r.top1, label_map) if label_map is not None and r.top1 else None
    families = fam.group(rows)
    reps = [r for r in rows if r.representative]
    report = StudyReport(
        settings=_settings_doc(settings, imageset, labels, label_map, engine, store, key, resamples),
        rows=rows, families=families, correlations=stats.correlation_sets(reps, resamples=resamples, seed=seed),
        findings=stats.findings(reps, resamples=resamples, seed=seed), skipped=skipped,
        notes=notes + label_notes + _closing_notes(rows, families, skipped), computed=computed,
        from_cache=from_cache, seconds=round(time.perf_counter() - t0, 3))
    return report


def settings_check(provider, preset, channel_order) -> None:
    from ..consistency.preprocess import check_preset
    from ..consistency.runtime import PROVIDERS

    if provider not in PROVIDERS:
        raise InputError(f"{param('provider', provider)}: use one of {', '.join(PROVIDERS)}")
    check_preset(preset)
    if channel_order not in ("rgb", "bgr"):
        raise InputError(f"{param('channel_order', channel_order)}: use rgb or bgr")


def list_models(models) -> tuple[list, list, list]:
    """([(id, path)] sorted by id, [{path, reason}] skipped files, notes). A folder gives its
    ``.onnx`` regular files, recursively; a file given by name is a model whatever its name."""
    if isinstance(models, (str, os.PathLike)):
        models = [models]
    found, skipped, notes, seen = {}, [], [], {}
    for arg in models:
        p = Path(arg)
        if not p.exists():
            raise InputError(f"model or folder not found: {arg}")
        if p.is_dir():
            files = sorted((f for f in p.rglob("*") if f.is_file()), key=lambda f: str(f.relative_to(p)))
            picked = [f for f in files if f.suffix.lower() == ".onnx"]
            skipped += [{"path": os.path.normpath(os.fspath(f)), "reason": "not an .onnx file"}
                        for f in files if f.suffix.lower() != ".onnx"]
            if not picked:
                notes.append(f"no .onnx files in {arg}")
        else:
            picked = [p]
        for f in picked:
            model_id = os.path.normpath(os.fspath(f))
            real = os.path.realpath(f)
            if real in seen:
                notes.append(f"{model_id} is {seen[real]} again: measured once")
                continue
            seen[real] = model_id
            found[model_id] = os.fspath(f)
    if not found:
        raise InputError("no models to study: " + (notes[0] if notes else "no paths given"))
    return sorted(found.items()), skipped, notes


def _look_up(found, settings, store, notes) -> tuple[dict, dict, list]:
    """(rows known already: from the cache or failed before any work, {id: task} to run, ids
    from the cache)."""
    rows, todo, from_cache = {}, {}, []
    for model_id, path in found:
        try:
            sha = file_sha256(path)
        except InputError as err:
            rows[model_id] = ModelRow(id=model_id, path=path, status="failed", error=str(err), error_stage="model",
                                      error_code=err.exit_code, seconds=0.0)
            continue
        if store is not None:
            row, note = store.get(model_id, path, sha)
            if note:
                notes.append(note)
            if row is not None:
                rows[model_id] = row
                from_cache.append(model_id)
                continue
        todo[model_id] = ModelTask(model_id, path, settings)
    return rows, todo, sorted(from_cache)


def _as_row(model_id, path, value) -> ModelRow:
    """The engine's result as a row (a worker that died: a failed row saying so)."""
    if isinstance(value, ModelRow):
        return value
    message = getattr(value, "message", None) or f"no result ({type(value).__name__})"
    return ModelRow(id=model_id, path=path, status="failed", error=message, error_stage="internal", error_code=3)


def _settings_doc(s: StudySettings, imageset, labels, label_map, engine, store, key, resamples) -> dict:
    return {
        "images": imageset.source, "image_count": len(imageset), "images_digest": s.images_digest,
        "labels": os.fspath(labels) if labels is not None else None,
        "labelled": len(label_map) if label_map is not None else None,
        "provider": s.provider, "seed": s.seed, "pairs_per_image": s.pairs_per_image, "preset": s.preset,
        "channel_order": s.channel_order, "vertical": s.vertical,
        "input_size": list(s.input_size) if s.input_size else None, "max_shift": s.numbers()["max_shift"],
        "batch_size": s.batch_size, "feeds": sorted(k for k, _ in s.feeds),
        "engine": engine.describe(), "cache": os.fspath(store.folder) if store is not None else None,
        "cache_key": store.digest if store is not None else None,
        "statistics": {"resamples": resamples, "min_families": stats.MIN_FAMILIES,
                       "family_max_distance": fam.MAX_DISTANCE, "family_min_coverage": fam.MIN_COVERAGE,
                       "confidence": 0.95, "seed": s.seed},
        "versions": versions(), "onnxsym_version": __version__,
        "providers_available": key["providers_available"],
    }


def _closing_notes(rows, families, skipped) -> list:
    notes = []
    failed = [r for r in rows if not r.ok]
    if failed:
        notes.append(f"{len(failed)} of {len(rows)} models have an error (see their rows): "
                     + ", ".join(r.id for r in failed[:5]) + (" …" if len(failed) > 5 else ""))
    grouped = [f for f in families if len(f.members) > 1]
    if grouped:
        notes.append(f"{sum(len(f.members) for f in grouped)} models are re-encodings of the same weights in "
                     f"{len(grouped)} famil{'y' if len(grouped) == 1 else 'ies'}: the statistics use one "
                     "representative per family")
    if skipped:
        notes.append(f"{len(skipped)} files in the folders given are not .onnx and were skipped")
    return notes
