"""The per-model task: a pure function of (model path, settings) → :class:`~.results.ModelRow`.

It uses the public analyses only: :func:`onnxsym.analyze_weights` (the mean kernels, S, the
fingerprint), :func:`onnxsym.analyze_padding` at the analysed input size (which strided layers pad
unevenly) and :func:`onnxsym.measure_consistency` (shift, flip, chance level, per-image top-1).
A model whose spatial size is symbolic is analysed at
:func:`onnxsym.model.sizes.choose_input_size` (or the ``input_size`` the caller gave), for the
padding and the consistency run alike, and its row says so.

An :class:`~onnxsym.errors.OnnxsymError` never escapes: it becomes the row's ``error`` (status
``failed`` when nothing could be measured, ``partial`` when the weights were and a later part
failed), so one bad model never ends a study. Everything here is picklable (the task runs in
worker processes): :class:`ModelTask` holds only plain values.
"""
from __future__ import annotations

import hashlib
import os
import time
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from ..defaults import CHANNEL_ORDER, PAIRS_PER_IMAGE, PRESET, PROVIDER, SEED, VERTICAL
from ..errors import OnnxsymError
from .results import ModelRow

#: encodings of conv weights, widest first (the family's representative is its widest member)
ENCODING_RANK = {"float64": 5, "float32": 4, "bfloat16": 3, "float16": 3, "mixed": 2, "quantized": 1}


@dataclass(frozen=True)
class StudySettings:
    """What every model of a study is measured with (plain values only: it travels to workers).

    ``threads`` (onnxruntime intra-op threads) and ``batch_size`` do not change the numbers; the
    rest does and is part of the cache key (:meth:`numbers`)."""

    images: str | None = None          # folder / file / .npy, or None: the shipped photos
    images_digest: str = ""
    provider: str = PROVIDER
    pairs_per_image: int = PAIRS_PER_IMAGE
    seed: int = SEED
    preset: str = PRESET
    channel_order: str = CHANNEL_ORDER
    vertical: bool = VERTICAL
    input_size: tuple | None = None    # for models with a symbolic spatial size
    max_shift: object = None
    batch_size: int | None = None
    feeds: tuple = ()                  # ((name, array or number), …)
    threads: int | None = None

    def numbers(self) -> dict:
        """The settings that change a row's numbers, JSON-ready (the cache key holds them)."""
        ms = self.max_shift
        return {"images_digest": self.images_digest, "provider": self.provider,
                "pairs_per_image": int(self.pairs_per_image), "seed": int(self.seed), "preset": self.preset,
                "channel_order": self.channel_order, "vertical": bool(self.vertical),
                "input_size": list(self.input_size) if self.input_size else None,
                "max_shift": list(ms) if isinstance(ms, (tuple, list)) else ms,
                "feeds": feeds_digest(self.feeds)}


@dataclass(frozen=True)
class ModelTask:
    """One model to measure: its id in the study, its path, the study's settings."""

    id: str
    path: str
    settings: StudySettings = field(default_factory=StudySettings)


def feeds_digest(feeds) -> str | None:
    """sha256 of the extra model inputs (names, dtypes, shapes, bytes); None without any."""
    if not feeds:
        return None
    h = hashlib.sha256()
    for name, value in sorted(feeds, key=lambda kv: kv[0]):
        a = np.asarray(value)
        h.update(f"{name}|{a.dtype.str}|{a.shape}|".encode())
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()


def file_sha256(path) -> str:
    """Hex sha256 of a regular file's bytes (streamed)."""
    from ..files import open_regular

    fd, _st = open_regular(path, "file")
    h = hashlib.sha256()
    with os.fdopen(fd, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


_IMAGES: dict = {}


def remember_images(source, imageset) -> None:
    """Use ``imageset`` for ``source`` in this process (the study has loaded it already)."""
    _IMAGES.clear()
    _IMAGES[os.fspath(source) if source is not None else None] = imageset


def _imageset(source):
    """The image set, loaded once per process (listing a large folder is not free)."""
    from ..consistency import load_images

    key = os.fspath(source) if source is not None else None
    if key not in _IMAGES:
        _IMAGES.clear()
        _IMAGES[key] = load_images(source)
    return _IMAGES[key]


def analyse(task: ModelTask) -> ModelRow:
    """Measure one model; never raises an :class:`~onnxsym.errors.OnnxsymError` (it becomes the
    row's error). Other exceptions are bugs: they become an ``internal`` error too, unless
    ``ONNXSYM_DEBUG`` is set."""
    t0 = time.perf_counter()
    row = ModelRow(id=task.id, path=task.path)
    stage = ["model"]
    try:
        _measure(task, row, stage)
    except OnnxsymError as err:
        _fail(row, stage[0], str(err), err.exit_code)
    except Exception as err:  # noqa: BLE001 - a bug must not end the study
        if os.environ.get("ONNXSYM_DEBUG"):
            raise
        _fail(row, "internal", f"internal error ({stage[0]}): {type(err).__name__}: "
                               f"{' '.join(str(err).split())[:300]}", 3)
    row.seconds = round(time.perf_counter() - t0, 3)
    return row


def _fail(row: ModelRow, stage: str, message: str, code: int) -> None:
    row.error, row.error_code = message, int(code)
    row.error_stage = stage
    row.status = "partial" if row.internal is not None or row.analysed is not None else "failed"


def _measure(task: ModelTask, row: ModelRow, stage: list) -> None:
    """Fill ``row``; ``stage[0]`` names the part running (for the error of an exception)."""
    import onnxsym
    from ..model.source import open_model

    s = task.settings
    loaded = open_model(task.path)
    row.sha256 = loaded.sha256()
    row.size_bytes, row.external_bytes = int(loaded.size_bytes), int(loaded.external_bytes)
    folder = os.path.dirname(os.path.abspath(task.path))
    row.external = [{"file": os.path.relpath(os.fspath(f), folder), "sha256": file_sha256(f)}
                    for f in sorted(loaded.external_files, key=os.fspath)]
    stage[0] = "weights"
    weights = onnxsym.analyze_weights(loaded, per_kernel=False)
    _weights_part(row, weights.to_dict())
    stage[0] = "padding"
    size, source, note = _input_size(loaded, s.input_size)
    if note:
        row.notes.append(note)
    row.input_size = list(size) if size else None
    row.input_size_source = source
    _padding_part(row, loaded, size if source != "model" else None)
    _mark_first(row)
    stage[0] = "consistency"
    try:
        cons = onnxsym.measure_consistency(
            loaded, _imageset(s.images), provider=s.provider, pairs_per_image=s.pairs_per_image, seed=s.seed,
            input_size=size if source != "model" else None, preset=s.preset, channel_order=s.channel_order,
            batch_size=s.batch_size, vertical=s.vertical, feeds=dict(s.feeds) or None, threads=s.threads,
            max_shift=s.max_shift)
    except OnnxsymError as err:
        _fail(row, "consistency", str(err), err.exit_code)
        return
    _consistency_part(row, cons.to_dict())


# ------------------------------------------------------------------------------------- weights
def _weights_part(row: ModelRow, w: dict) -> None:
    s = w["summary"]
    row.producer = (w.get("model") or {}).get("producer")
    row.conv_nodes, row.analysed = int(s["conv_nodes"]), int(s["analysed"])
    layers = w["layers"]
    row.encoding = encoding_of(layers)
    first = s.get("first_layer")
    if first:
        row.first_layer = {"id": first.get("id"), "symmetry": first.get("symmetry"),
                           "kernel_shape": first.get("kernel_shape"),
                           "random_init": {k: (first.get("baseline") or {}).get(k) for k in ("mean", "sd")}}
    internal = s.get("internal") or {}
    ok = [(i, L) for i, L in enumerate(layers) if L.get("status") == "ok" and L.get("symmetry") is not None]
    zs = [L.get("z_vs_baseline") for _, L in ok[1:] if L.get("z_vs_baseline") is not None]
    row.internal = {"n": internal.get("n"), "median_symmetry": internal.get("median_symmetry"),
                    "ci95": internal.get("ci95"),
                    "random_init_median": (s.get("baseline") or {}).get("median_mean"),
                    "z_median": float(np.median(zs)) if zs else None}
    by: dict = {}
    for _, L in ok:
        by.setdefault("×".join(map(str, L.get("kernel_shape") or [])), []).append(L)
    row.by_kernel = {k: {"n": len(v), "median_symmetry": float(np.median([L["symmetry"] for L in v])),
                         "random_init_mean": (v[0].get("baseline") or {}).get("mean")} for k, v in sorted(by.items())}
    n = len(layers)
    row.layers = [{"id": L["id"], "index": i, "depth": i / (n - 1) if n > 1 else 0.0, "symmetry": L["symmetry"],
                   "kernel_shape": L.get("kernel_shape"), "stride": max(L.get("strides") or [1]),
                   "uneven": None, "first": False,
                   "random_mean": (L.get("baseline") or {}).get("mean"),
                   "random_sd": (L.get("baseline") or {}).get("sd")} for i, L in ok]
    row.fingerprint = [fingerprint_layer(L) for _, L in ok if L.get("mean_kernel") is not None]
    row.fingerprint = [f for f in row.fingerprint if f is not None]


def encoding_of(layers: list) -> str | None:
    """How the conv weights are stored: ``quantized`` when any comes through a quantizer
    (DequantizeLinear, QLinearConv, ConvInteger), else their (most common) float type."""
    convs = [L for L in layers if L.get("status") != "unresolved"]
    if not convs:
        return None
    if any(L.get("op_type") in ("QLinearConv", "ConvInteger") or "DequantizeLinear" in str(L.get("weight_source"))
           for L in convs):
        return "quantized"
    kinds = Counter(str(L.get("weight_dtype")) for L in convs if L.get("weight_dtype"))
    if not kinds:
        return None
    return kinds.most_common(1)[0][0] if len(kinds) == 1 else "mixed"


def fingerprint_layer(layer: dict) -> dict | None:
    """The layer's entry of the fingerprint: op type, weight shape and the mean kernel / ‖K‖,
    flattened (None when the kernel has no finite, non-zero norm)."""
    k = np.asarray(layer["mean_kernel"], dtype=object)
    if any(v is None for v in k.ravel()):
        return None
    k = k.astype(float).ravel()
    norm = float(np.linalg.norm(k))
    if not np.isfinite(norm) or norm == 0:
        return None
    return {"op_type": layer.get("op_type"), "weight_shape": layer.get("weight_shape"),
            "kernel": [round(float(v), 7) for v in k / norm]}


# ------------------------------------------------------------------------------------- padding
def _input_size(loaded, given):
    """(size (H, W) or None, source, note): the model's own, the caller's, or the chosen one."""
    from ..model.sizes import choose_input_size
    from ..wording import param

    try:
        choice = choose_input_size(loaded.model)
    except Exception as err:  # noqa: BLE001 - shape inference on an odd model: no size, say why
        if os.environ.get("ONNXSYM_DEBUG"):
            raise
        return None, None, f"no input size: {type(err).__name__}: {' '.join(str(err).split())[:200]}"
    if choice is None:
        return None, None, ""
    if choice.source == "model":
        note = (f"{param('input_size')} ignored: the model's input size is fixed at "
                f"{choice.size[0]}×{choice.size[1]}") if given and tuple(given) != tuple(choice.size) else ""
        return tuple(choice.size), "model", note
    if given:
        return tuple(given), "input_size", ""
    return tuple(choice.size), "chosen", choice.note


def _padding_part(row: ModelRow, loaded, size) -> None:
    """Which strided convs and pools pad unevenly at the input size (``uneven_strided`` null when
    some strided layer's padding could not be told)."""
    import onnxsym

    if row.input_size is None:
        row.notes.append("padding not diagnosed: no image input of known size")
        return
    try:
        pad = onnxsym.analyze_padding(loaded, size, lean=False, suggest=False).to_dict()
    except OnnxsymError as err:
        row.notes.append(f"padding not diagnosed: {err}")
        return
    except Exception as err:  # noqa: BLE001 - a model the padding analysis does not understand
        if os.environ.get("ONNXSYM_DEBUG"):
            raise
        row.notes.append(f"padding not diagnosed: {type(err).__name__}: {' '.join(str(err).split())[:200]}")
        return
    strided = [L for L in pad.get("layers") or [] if L.get("strided") and L.get("kind") in ("conv", "pool")]
    row.strided_layers = len(strided)
    unknown = [L for L in strided if L.get("uneven") is None]
    row.uneven_strided = None if unknown else sum(1 for L in strided if L.get("uneven"))
    if unknown:
        row.notes.append(f"padding: {len(unknown)} of {len(strided)} strided layers of unknown size "
                         f"({pad.get('summary_line')})")
    by_id = {L["id"]: L for L in pad.get("layers") or []}
    for L in row.layers:
        p = by_id.get(L["id"])
        if p is None:
            continue
        if not p.get("strided"):
            L["uneven"] = False
        elif p.get("uneven") is not None:
            L["uneven"] = bool(p["uneven"])


def _mark_first(row: ModelRow) -> None:
    if row.layers:
        row.layers[0]["first"] = True


# --------------------------------------------------------------------------------- consistency
def _consistency_part(row: ModelRow, c: dict) -> None:
    row.metric = c.get("metric")
    row.output_kind = (c.get("output") or {}).get("kind")
    sh, fl = c.get("shift") or {}, c.get("flip") or {}
    row.shift = {"consistency": sh.get("consistency"), "ci95": sh.get("ci95"), "pairs": sh.get("pairs")}
    row.flip = {"consistency": fl.get("consistency"), "ci95": fl.get("ci95"), "images": fl.get("images")}
    if c.get("flip_vertical"):
        fv = c["flip_vertical"]
        row.flip["vertical"] = {"consistency": fv.get("consistency"), "ci95": fv.get("ci95")}
    row.chance = (c.get("chance") or {}).get("value")
    row.images = c.get("images")
    row.provider = c.get("provider")
    if c.get("provider_fallback"):
        row.notes.append(c["provider_fallback"])
    row.notes += list(c.get("warnings") or [])
    row.top1 = {p["name"]: p["top1"] for p in c.get("per_image") or [] if p.get("top1") is not None}
