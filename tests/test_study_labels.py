"""onnxsym.study.labels: CSV and JSON labels, their checks, top-1 accuracy."""
import json

import pytest

from onnxsym.errors import InputError
from onnxsym.study.labels import accuracy, check_labels, load_labels


def test_csv_with_and_without_header(tmp_path):
    a = tmp_path / "a.csv"
    a.write_text("image,label\ncats/1.jpg,3\nd.npy[0], 7\n")
    b = tmp_path / "b.csv"
    b.write_text("cats/1.jpg,3\n\nd.npy[0],7\n")
    assert load_labels(a) == load_labels(b) == {"cats/1.jpg": 3, "d.npy[0]": 7}


def test_json_object(tmp_path):
    p = tmp_path / "l.json"
    p.write_text(json.dumps({"x.npy[0]": 1, "x.npy[1]": "2"}))
    assert load_labels(p) == {"x.npy[0]": 1, "x.npy[1]": 2}


@pytest.mark.parametrize("text, message", [
    ("a.jpg,cat\nb.jpg,dog\n", "not a class index"),
    ("a.jpg,1\na.jpg,2\n", "labelled twice"),
    ("a.jpg,-1\n", "negative"),
    ("a.jpg,1,2\n", "3 fields"),
    ("image,label\n", "no labels"),
])
def test_bad_csv(tmp_path, text, message):
    p = tmp_path / "l.csv"
    p.write_text(text)
    with pytest.raises(InputError, match=message):
        load_labels(p)


def test_bad_json(tmp_path):
    p = tmp_path / "l.json"
    p.write_text("[1, 2]")
    with pytest.raises(InputError, match="JSON object"):
        load_labels(p)
    p.write_text(json.dumps({"a": True}))
    with pytest.raises(InputError, match="not a class index"):
        load_labels(p)


def test_check_labels_names_the_image_naming():
    with pytest.raises(InputError, match=r"named like 'd\.npy\[0\]'"):
        check_labels({"cat.jpg": 1}, ["d.npy[0]", "d.npy[1]"], "l.json")
    notes = check_labels({"d.npy[0]": 1, "other": 2}, ["d.npy[0]", "d.npy[1]"], "l.json")
    assert notes == ["1 of 2 images have no label: accuracy is over the 1 labelled ones",
                     "1 labels name no image of the set"]


def test_accuracy_over_labelled_images():
    top1 = {"a": 1, "b": 2, "c": 3, "d": 4}
    assert accuracy(top1, {"a": 1, "b": 0, "c": 3, "x": 9}) == {"top1": 2 / 3, "correct": 2, "labelled": 3}
    assert accuracy({}, {"a": 1}) is None
