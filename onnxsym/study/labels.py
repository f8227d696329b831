"""Class labels of the study's images, for top-1 accuracy: a CSV of ``image,label`` rows (a
header row is allowed) or a JSON object ``{image name: class index}``.

Images are named as onnxsym names them: the path relative to the folder for a folder of photos
(``cats/01.jpg``), ``file.npy[i]`` for the i-th image of an array (``file.npz:key[i]`` in an
archive), the file name for a single image. Accuracy is the share of labelled images whose
centre-crop top-1 is the label (the consistency run's ``per_image[].top1``).
"""
from __future__ import annotations

import csv
import io
import os

from ..errors import InputError
from ..files import load_json, read_capped
from ..wording import param


def load_labels(path) -> dict:
    """{image name: class index} from a CSV or JSON file (regular file, size-capped)."""
    what = param("labels")
    if str(path).lower().endswith(".json"):
        doc = load_json(path, what)
        if not isinstance(doc, dict):
            raise InputError(f"{what} {path}: expected a JSON object {{image name: class index}}, "
                             f"not a {type(doc).__name__}")
        return {str(k): _label(v, k, what, path) for k, v in doc.items()}
    data = read_capped(path, what)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise InputError(f"{what} {path}: not UTF-8 text (byte {err.start})") from None
    out = {}
    for n, rec in enumerate(csv.reader(io.StringIO(text)), start=1):
        if not rec or all(not c.strip() for c in rec):
            continue
        if len(rec) != 2:
            raise InputError(f"{what} {path}: line {n} has {len(rec)} fields; expected image,label")
        name, value = rec[0].strip(), rec[1].strip()
        if n == 1 and not _is_int(value):
            continue  # a header row
        if name in out:
            raise InputError(f"{what} {path}: image {name!r} is labelled twice (line {n})")
        out[name] = _label(value, name, what, path)
    if not out:
        raise InputError(f"{what} {path}: no labels in it")
    return out


def _is_int(text: str) -> bool:
    try:
        int(text)
        return True
    except ValueError:
        return False


def _label(value, name, what, path) -> int:
    if isinstance(value, bool) or not (isinstance(value, int) or isinstance(value, str) and _is_int(value)):
        raise InputError(f"{what} {path}: the label of {str(name)!r} is {value!r}, not a class index")
    v = int(value)
    if v < 0:
        raise InputError(f"{what} {path}: the label of {str(name)!r} is negative ({v})")
    return v


def check_labels(labels: dict, names: list, path) -> list:
    """Notes on how the labels cover the images; InputError when no label names an image."""
    known = set(names)
    hit = [k for k in labels if k in known]
    if not hit:
        example = names[0] if names else "?"
        raise InputError(f"none of the {len(labels)} labels in {param('labels')} {os.fspath(path)} names one of the "
                         f"{len(names)} images (they are named like {example!r})")
    notes = []
    if len(hit) < len(names):
        notes.append(f"{len(names) - len(hit)} of {len(names)} images have no label: accuracy is over the "
                     f"{len(hit)} labelled ones")
    if len(hit) < len(labels):
        notes.append(f"{len(labels) - len(hit)} labels name no image of the set")
    return notes


def accuracy(top1: dict, labels: dict) -> dict | None:
    """{top1, correct, labelled} over the images that have both a label and a top-1; None when
    none has (the output is not a classifier, or no labelled image was measured)."""
    both = [k for k in top1 if k in labels]
    if not both:
        return None
    correct = sum(1 for k in both if int(top1[k]) == labels[k])
    return {"top1": correct / len(both), "correct": correct, "labelled": len(both)}
