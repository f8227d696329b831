"""onnxsym.files: only regular files read, within caps; outputs written atomically (or in place for
devices and FIFOs), never over an input."""
from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from onnxsym.errors import InputError, ModelError
from onnxsym.files import (MAX_DOCUMENT_DEPTH, Inputs, check_distinct_outputs, check_regular, check_writable, kind_of,
                           load_json, load_toml, nesting_depth, open_regular, read_capped, write_atomic, write_output)


def test_kind_of():
    assert kind_of(stat.S_IFREG | 0o644) == "regular file" and kind_of(stat.S_IFIFO) == "FIFO"
    assert kind_of(stat.S_IFCHR) == "character device" and kind_of(stat.S_IFDIR) == "directory"
    assert kind_of(stat.S_IFSOCK) == "socket" and kind_of(stat.S_IFBLK) == "block device"


def test_open_regular_refuses_anything_but_a_regular_file(tmp_path):
    (tmp_path / "f.txt").write_text("hello")
    fd, st = open_regular(tmp_path / "f.txt", "report")
    try:
        assert os.read(fd, 10) == b"hello" and st.st_size == 5
    finally:
        os.close(fd)
    assert check_regular(tmp_path / "f.txt", "report").st_size == 5
    with pytest.raises(InputError, match="^report not found: "):
        open_regular(tmp_path / "nope", "report")
    with pytest.raises(ModelError, match="is a directory, not a file"):
        open_regular(tmp_path, "model file", ModelError)
    os.mkfifo(tmp_path / "fifo")
    with pytest.raises(InputError, match="is a FIFO, not a regular file; onnxsym reads only regular files"):
        open_regular(tmp_path / "fifo", "config")           # returns at once: no writer is waited for
    with pytest.raises(InputError, match="is a character device"):
        check_regular("/dev/null", "baseline")


def test_read_capped(tmp_path):
    (tmp_path / "doc").write_bytes(b"0123456789")
    assert read_capped(tmp_path / "doc", "doc", limit=10) == b"0123456789"
    with pytest.raises(InputError, match="doc .* is 10 bytes; onnxsym reads documents of at most 9 bytes"):
        read_capped(tmp_path / "doc", "doc", limit=9)


def test_nesting_depth():
    assert nesting_depth(3) == 1 and nesting_depth([]) == 1 and nesting_depth([[1]]) == 3
    assert nesting_depth({"a": [1, {"b": 2}]}) == 4
    deep = 0
    for _ in range(200):
        deep = [deep]
    assert nesting_depth(deep) == MAX_DOCUMENT_DEPTH + 1        # counted up to the cap + 1 only
    assert nesting_depth(deep, cap=300) == 201


def test_load_json_and_toml(tmp_path):
    (tmp_path / "a.json").write_text(json.dumps({"schema": "x", "layers": [1, 2]}))
    assert load_json(tmp_path / "a.json") == {"schema": "x", "layers": [1, 2]}
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(InputError, match="^baseline .*bad.json: not valid JSON"):
        load_json(tmp_path / "bad.json", "baseline")
    (tmp_path / "latin.json").write_bytes(b'{"a": "\xe9"}')
    with pytest.raises(InputError, match=r"not UTF-8 text \(byte 7\)"):
        load_json(tmp_path / "latin.json")
    (tmp_path / "deep.json").write_text("[" * (MAX_DOCUMENT_DEPTH + 1) + "]" * (MAX_DOCUMENT_DEPTH + 1))
    with pytest.raises(InputError, match=f"nested more than {MAX_DOCUMENT_DEPTH} levels deep"):
        load_json(tmp_path / "deep.json")
    (tmp_path / "c.toml").write_text("min_symmetry = 0.5\n[tool]\nx = [1, 2]\n")
    assert load_toml(tmp_path / "c.toml") == {"min_symmetry": 0.5, "tool": {"x": [1, 2]}}
    (tmp_path / "bad.toml").write_text("= 3\n")
    with pytest.raises(InputError, match="^cannot read config .*bad.toml: "):
        load_toml(tmp_path / "bad.toml")


def test_an_output_is_never_an_input_however_spelt(tmp_path):
    model = tmp_path / "m.onnx"
    model.write_bytes(b"model")
    (tmp_path / "sub").mkdir()
    (tmp_path / "link.onnx").symlink_to(model)
    os.link(model, tmp_path / "hard.onnx")
    inputs = Inputs()
    inputs.add(model, "model file")
    inputs.add(tmp_path / "missing.onnx", "baseline")             # skipped: reading it fails on its own
    assert len(inputs) == 1
    for spelt in (model, tmp_path / "sub" / ".." / "m.onnx", tmp_path / "link.onnx", tmp_path / "hard.onnx"):
        with pytest.raises(InputError, match=f"--json {spelt} is the model file {model}: onnxsym never writes"):
            inputs.check_output(spelt, "--json")
    for fine in (tmp_path / "new.json", "-", None):
        inputs.check_output(fine, "--json")


def test_two_outputs_naming_one_file_are_refused(tmp_path):
    (tmp_path / "a.json").write_text("{}")
    (tmp_path / "sub").mkdir()
    with pytest.raises(InputError, match="--json and --html name the same file"):
        check_distinct_outputs({"--json": tmp_path / "a.json", "--html": tmp_path / "sub" / ".." / "a.json"})
    with pytest.raises(InputError, match="--json and -o name the same file"):
        check_distinct_outputs({"--json": tmp_path / "new", "-o": str(tmp_path / "new")})
    check_distinct_outputs({"--json": "/dev/null", "--html": "/dev/null", "-o": "-", "--x": None})


def test_check_writable(tmp_path):
    check_writable(tmp_path / "new.json")
    check_writable("-")
    with pytest.raises(InputError, match="folder .* does not exist"):
        check_writable(tmp_path / "no" / "a.json")
    with pytest.raises(InputError, match="it is a directory"):
        check_writable(tmp_path)
    (tmp_path / "dangling").symlink_to(tmp_path / "gone")
    with pytest.raises(InputError, match="it is a symlink to .*gone, which does not exist"):
        check_writable(tmp_path / "dangling")


def test_write_output_replaces_atomically_and_keeps_links_and_modes(tmp_path, capsys):
    old = os.umask(0o022)
    try:
        assert write_output(tmp_path / "new.txt", "héllo") == str(tmp_path / "new.txt")
    finally:
        os.umask(old)
    assert (tmp_path / "new.txt").read_text() == "héllo"
    assert stat.S_IMODE((tmp_path / "new.txt").stat().st_mode) == 0o644
    (tmp_path / "private.txt").write_text("old")
    os.chmod(tmp_path / "private.txt", 0o600)
    write_output(tmp_path / "private.txt", b"\x00new")
    assert (tmp_path / "private.txt").read_bytes() == b"\x00new"
    assert stat.S_IMODE((tmp_path / "private.txt").stat().st_mode) == 0o600
    (tmp_path / "alias.txt").symlink_to(tmp_path / "private.txt")
    write_output(tmp_path / "alias.txt", "via link")
    assert (tmp_path / "alias.txt").is_symlink() and (tmp_path / "private.txt").read_text() == "via link"
    assert write_atomic(tmp_path / "w.txt", "w") == Path(tmp_path / "w.txt")
    assert not [p for p in os.listdir(tmp_path) if p.endswith(".tmp")]
    assert write_output("-", "to stdout\n") == "stdout" and capsys.readouterr().out == "to stdout\n"
    with pytest.raises(InputError, match="it is a directory"):
        write_output(tmp_path, "x")


def test_devices_are_written_in_place_and_a_fifo_without_reader_is_refused(tmp_path):
    write_output("/dev/null", "discarded")
    assert Path("/dev/null").is_char_device()                    # still the device, not a file
    os.mkfifo(tmp_path / "fifo")
    with pytest.raises(InputError, match="it is a FIFO with no reader"):
        write_output(tmp_path / "fifo", "x")
    assert stat.S_ISFIFO(os.stat(tmp_path / "fifo").st_mode)
