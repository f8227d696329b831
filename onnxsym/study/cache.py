"""The study's cache: one ``onnxsym.study-entry/1`` JSON file per measured model, so a study run
again after adding a model measures only that model, and an interrupted study loses nothing it
had finished (each entry is written, atomically, as soon as its model is done).

An entry is found by its name, ``<sha256 of the .onnx file>-<digest of the key>.json``. The key
(:func:`study_key`) holds every setting that changes a row's numbers: the images' digest (names
and bytes of every image file), seed, pairs per image, preset, channel order, vertical flips,
the input size and largest shift given, the extra inputs' digest, the provider asked for and the
providers onnxruntime offers, and the versions of onnxsym, onnxruntime, onnx, numpy and numba.
Not in it: the batch size and thread count (the numbers do not depend on them), the labels
(accuracy is computed from the entry's per-image top-1 each time) and the other models (the
families and statistics are recomputed each time).

An entry is used only when it reads as JSON, fits :data:`~.results.ENTRY_JSON_SCHEMA`, holds the
same key and model digest, and every external data file it lists still has the same sha256;
otherwise the model is measured again and a note says why. Rows with an error are not cached
(the cause — a missing CUDA library, a bad image folder — may be gone next time).
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from .. import __version__
from ..errors import InputError
from ..files import load_json, write_output
from ..schema import validate
from ..wording import param
from .results import ENTRY_JSON_SCHEMA, ModelRow
from .task import StudySettings, file_sha256


def versions() -> dict:
    """The versions whose change may change numbers."""
    import numba
    import numpy
    import onnx
    import onnxruntime

    return {"onnxsym": __version__, "onnxruntime": onnxruntime.__version__, "onnx": onnx.__version__,
            "numpy": numpy.__version__, "numba": numba.__version__}


def images_digest(imageset) -> str:
    """sha256 over the image names in order and the bytes of every file they come from (a folder's
    files, or the .npy/.npz array)."""
    h = hashlib.sha256()
    h.update(json.dumps([imageset.names, [n for n, _ in imageset.skipped]]).encode())
    files = []
    for src in imageset.sources:
        if isinstance(src, (str, os.PathLike)):
            files.append(os.fspath(src))
    if len(files) < len(imageset.sources) and imageset.source and os.path.isfile(imageset.source):
        files.append(imageset.source)  # images that are rows of an array file
    for f in files:
        h.update(file_sha256(f).encode())
    return h.hexdigest()


def study_key(settings: StudySettings) -> dict:
    """The cache key: the settings that change numbers, the providers on offer, the versions."""
    import onnxruntime

    return {"settings": settings.numbers(), "providers_available": sorted(onnxruntime.get_available_providers()),
            "versions": versions()}


def _digest(key: dict) -> str:
    return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()


class Cache:
    """The entries under ``folder`` for one key (the folder is created when missing)."""

    def __init__(self, folder, key: dict):
        self.folder = Path(folder)
        self.key = json.loads(json.dumps(key))  # as it reads back from JSON
        self.digest = _digest(self.key)[:16]
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise InputError(f"{param('cache')} {folder}: cannot create the folder ({err.strerror or err})") from None
        if not self.folder.is_dir():
            raise InputError(f"{param('cache')} {folder} is not a folder")

    def path_for(self, sha256: str) -> Path:
        return self.folder / f"{sha256}-{self.digest}.json"

    def get(self, model_id: str, path: str, sha256: str) -> tuple[ModelRow | None, str]:
        """(the cached row, "") or (None, why it is not used: "" when there is no entry)."""
        entry_path = self.path_for(sha256)
        if not entry_path.exists():
            return None, ""
        try:
            entry = load_json(entry_path, "cache entry")
            validate(entry, ENTRY_JSON_SCHEMA, f"cache entry {entry_path.name}")
        except InputError as err:
            return None, f"{model_id}: cache entry unreadable ({err}): measured again"
        if entry["key"] != self.key or entry["row"].get("sha256") != sha256:
            return None, f"{model_id}: cache entry {entry_path.name} is for other settings: measured again"
        folder = os.path.dirname(os.path.abspath(path))
        for ext in entry["external"]:
            try:
                same = file_sha256(os.path.join(folder, ext["file"])) == ext["sha256"]
            except InputError:
                same = False
            if not same:
                return None, f"{model_id}: external data {ext['file']} changed since it was cached: measured again"
        row = ModelRow.from_entry(entry)
        row.id, row.path = model_id, path
        return row, ""

    def put(self, row: ModelRow) -> str:
        """Write the row's entry (only rows without error); "" or a note when it could not be written."""
        if not row.ok or not row.sha256:
            return ""
        try:
            write_output(self.path_for(row.sha256), json.dumps(row.to_entry(self.key), sort_keys=True) + "\n")
        except InputError as err:
            return f"{row.id}: not cached ({err})"
        return ""
