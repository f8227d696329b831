"""Regression tests for the reliability rules (README "Safety"): one test per finding of the
hostile-input campaign, named for what it guards. Nothing lost, nothing escapes, nothing hangs."""
import json
import os
import stat
import struct
import subprocess
import sys
import threading
import time
import zlib

import numpy as np
import onnx
import pytest
from onnx import helper as h, numpy_helper as nh

from cli_run import run
from graphs import conv_model, init, save, weight

W = weight()
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX file types")


def one_line(err):
    return err.count("\n") == 1 and "Traceback" not in err and "internal error" not in err


_MEASURE = r"""
import resource, sys, time
t0 = time.perf_counter()
from onnxsym.cli import main
try:
    main(sys.argv[1:], prog_name="onnxsym")
except SystemExit as e:
    code = e.code if isinstance(e.code, int) else 0
else:
    code = 0
def peak_mb():
    # VmHWM belongs to this process's own address space; ru_maxrss would carry over the
    # high-water mark of the (forked) parent across exec
    try:
        for line in open("/proc/self/status"):
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
sys.stderr.write(f"\nMEASURED rss_mb={peak_mb():.0f} s={time.perf_counter() - t0:.2f}\n")
sys.exit(code)
"""


def measured(*args, timeout=120, cwd=None):
    """Run the CLI in a fresh process; (exit code, stderr without the measurement, peak RSS MiB, s)."""
    p = subprocess.run([sys.executable, "-c", _MEASURE, *map(str, args)], capture_output=True, text=True,
                       timeout=timeout, cwd=cwd)
    err, _, tail = p.stderr.rpartition("\nMEASURED ")
    rss = float(tail.split("rss_mb=")[1].split()[0])
    secs = float(tail.split("s=")[1])
    return p.returncode, err + "\n" if err else "", rss, secs


@pytest.fixture
def model(tmp_path):
    return save(conv_model("w", inits=[init("w", W)]), tmp_path / "m.onnx")


def _bytes(path):
    return open(path, "rb").read()


# --------------------------------------------------------------------------------- data loss
@pytest.mark.parametrize("spelling", ["same", "dotdot", "hardlink", "symlink"])
def test_output_that_is_the_model_is_refused(tmp_path, model, spelling):
    before = _bytes(model)
    if spelling == "same":
        out = model
    elif spelling == "dotdot":
        (tmp_path / "sub").mkdir()
        out = tmp_path / "sub" / ".." / "m.onnx"
    elif spelling == "hardlink":
        out = tmp_path / "link.onnx"
        os.link(model, out)
    else:
        out = tmp_path / "sym.onnx"
        os.symlink(model, out)
    for cmd in (["weights", model, "-o", out], ["padding", model, "-o", out],
                ["audit", model, "--no-run", "--json", out], ["audit", model, "--no-run", "--html", out]):
        code, _, err = run(*cmd)
        assert code == 2 and one_line(err) and "never writes its inputs" in err, (cmd, err)
    assert _bytes(model) == before


def test_compare_output_onto_a_report_is_refused(tmp_path, model):
    a = tmp_path / "a.json"
    assert run("weights", model, "--format", "json", "-o", a)[0] == 0
    before = _bytes(a)
    code, _, err = run("compare", a, model, "-o", a)
    assert code == 2 and "report A" in err and _bytes(a) == before


def test_output_onto_baseline_config_or_image_is_refused(tmp_path, model):
    base = tmp_path / "base.json"
    assert run("audit", model, "--no-run", "--json", base)[0] == 0
    cfg = tmp_path / "onnxsym.toml"
    cfg.write_text("min_symmetry = 0.1\n")
    imgs = tmp_path / "imgs"
    imgs.mkdir()
    from PIL import Image

    Image.new("RGB", (40, 40), (120, 30, 200)).save(imgs / "a.png")
    for flag, target, extra in (("--json", base, ["--baseline", base]), ("--html", cfg, ["--config", cfg]),
                                ("--json", imgs / "a.png", ["--images", imgs])):
        before = _bytes(target)
        code, _, err = run("audit", model, "--provider", "cpu", flag, target, *extra)
        assert code == 2 and "never writes its inputs" in err, err
        assert _bytes(target) == before


def test_output_onto_external_data_is_refused(tmp_path):
    m = conv_model("w", inits=[init("w", np.ones((8, 3, 5, 5), np.float32))])
    onnx.save(m, str(tmp_path / "e.onnx"), save_as_external_data=True, location="e.data", size_threshold=0)
    before = _bytes(tmp_path / "e.data")
    code, _, err = run("weights", tmp_path / "e.onnx", "-o", tmp_path / "e.data")
    assert code == 2 and "external data file" in err and _bytes(tmp_path / "e.data") == before


@pytest.mark.skipif(os.geteuid() != 0, reason="mknod needs root")
def test_a_character_device_output_stays_a_device(tmp_path, model):
    dev = tmp_path / "null"
    os.mknod(dev, stat.S_IFCHR | 0o666, os.makedev(1, 3))  # a /dev/null of our own
    for cmd in (["weights", model, "-o", dev], ["audit", model, "--no-run", "--json", dev, "--html", dev]):
        code, _, err = run(*cmd)
        assert code == 0, err
        assert stat.S_ISCHR(os.lstat(dev).st_mode)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".null")] == []


def test_dev_null_output_keeps_dev_null_a_device(model):
    code, _, err = run("weights", model, "--format", "json", "-o", os.devnull)
    assert code == 0, err
    assert stat.S_ISCHR(os.lstat(os.devnull).st_mode)


def test_a_fifo_output_is_written_in_place_and_one_without_reader_is_refused(tmp_path, model):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    t0 = time.perf_counter()
    code, _, err = run("weights", model, "--format", "json", "-o", fifo)
    assert code == 2 and "FIFO with no reader" in err and time.perf_counter() - t0 < 10
    got = []
    reader = threading.Thread(target=lambda: got.append(open(fifo, "rb").read()))
    reader.start()
    time.sleep(0.2)
    code, _, err = run("weights", model, "--format", "json", "-o", fifo)
    reader.join(30)
    assert code == 0, err
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert json.loads(got[0])["schema"] == "onnxsym.weights/1"


def test_a_replaced_output_keeps_its_permission_bits(tmp_path, model):
    out = tmp_path / "r.json"
    out.write_text("old")
    os.chmod(out, 0o640)
    assert run("weights", model, "--format", "json", "-o", out)[0] == 0
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o640 and out.read_text().startswith("{")


def test_a_symlink_output_is_written_through_and_a_dangling_one_refused(tmp_path, model):
    target = tmp_path / "real.json"
    target.write_text("old")
    link = tmp_path / "link.json"
    os.symlink(target, link)
    assert run("weights", model, "--format", "json", "-o", link)[0] == 0
    assert os.path.islink(link) and target.read_text().startswith("{")
    os.symlink(tmp_path / "missing.json", tmp_path / "dangling.json")
    code, _, err = run("weights", model, "--format", "json", "-o", tmp_path / "dangling.json")
    assert code == 2 and "does not exist" in err and not (tmp_path / "missing.json").exists()


def test_dash_is_stdout_and_the_same_path_twice_is_refused(tmp_path, model):
    code, out, _ = run("weights", model, "--format", "json", "-o", "-")
    assert code == 0 and json.loads(out)["schema"] == "onnxsym.weights/1"
    code, _, err = run("audit", model, "--no-run", "--json", tmp_path / "x", "--html", tmp_path / "x")
    assert code == 2 and "same file" in err and not (tmp_path / "x").exists()


# ------------------------------------------------------------------- hangs and memory blow-ups
def _specials(tmp_path):
    fifo = tmp_path / "fifo.json"
    os.mkfifo(fifo)
    return [fifo, "/dev/zero"]


@pytest.mark.parametrize("which", [0, 1])
def test_fifo_or_device_inputs_are_refused_not_read(tmp_path, model, which):
    special = _specials(tmp_path)[which]
    cases = [["audit", model, "--no-run", "--baseline", special],
             ["compare", special, model],
             ["audit", model, "--no-run", "--config", special],
             ["weights", special],
             ["consistency", model, "--provider", "cpu", "--images", special],
             ["consistency", model, "--provider", "cpu", "--feed", f"z={special}"]]
    for cmd in cases:
        t0 = time.perf_counter()
        code, _, err = run(*cmd)
        assert code == 2 and one_line(err), (cmd, err)
        assert "regular file" in err or "image" in err, (cmd, err)
        assert time.perf_counter() - t0 < 20


def test_a_fifo_among_images_is_skipped(tmp_path, model):
    from PIL import Image

    d = tmp_path / "imgs"
    d.mkdir()
    for k in range(2):
        Image.new("RGB", (40, 40), (k * 90, 30, 200)).save(d / f"{k}.png")
    os.mkfifo(d / "x.png")
    code, _, err = run("consistency", model, "--provider", "cpu", "--images", d, "--pairs-per-image", "1")
    assert code == 0, err


def test_a_document_over_the_size_cap_is_refused_without_reading_it(tmp_path, model):
    big = tmp_path / "big.json"
    with open(big, "wb") as fh:
        fh.truncate(200 << 20)  # sparse: 200 MB of zeros, not on disk
    code, err, rss, secs = measured("audit", model, "--no-run", "--baseline", big)
    assert code == 2 and "at most 64.0 MiB" in err and rss < 600 and secs < 30, (err, rss, secs)


def test_compare_of_reports_with_20000_layers_is_fast(tmp_path):
    def report(shift):
        rows = [{"id": f"c{i}", "op_type": "Conv", "weight_shape": [8 + (i + shift) % 7, 8, 3, 3],
                 "kernel_shape": [3, 3], "symmetry": 0.5} for i in range(20000)]
        return {"schema": "onnxsym.weights/1", "summary": {"internal": {"median_symmetry": 0.5}}, "layers": rows}

    (tmp_path / "a.json").write_text(json.dumps(report(0)))
    (tmp_path / "b.json").write_text(json.dumps(report(1)))
    code, err, rss, secs = measured("compare", tmp_path / "a.json", tmp_path / "b.json", "--format", "json",
                                    "-o", tmp_path / "d.json")
    assert code == 0 and secs < 30, (err, secs)
    assert json.loads((tmp_path / "d.json").read_text())["summary"]["matched_layers"] > 19000


def _png(path, width, height, color_type=3):
    """A PNG with the given header and a tiny (truncated) image stream: never decodable whole."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, color_type, 0, 0, 0)
    body = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
    if color_type == 3:
        body += chunk(b"PLTE", bytes(range(48)))
    body += chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b"")
    path.write_bytes(body)
    return path


def test_huge_and_extreme_aspect_images_are_skipped_undecoded(tmp_path, model):
    from PIL import Image

    d = tmp_path / "imgs"
    d.mkdir()
    _png(d / "huge.png", 13000, 13000)
    Image.new("RGB", (1, 5000), (10, 200, 30)).save(d / "strip.png")
    Image.new("RGB", (48, 40), (200, 30, 10)).save(d / "ok.png")
    code, err, rss, secs = measured("consistency", model, "--provider", "cpu", "--images", d, "--format", "json",
                                    "-o", tmp_path / "c.json")
    assert code == 0, err
    assert "Warning" not in err and "DecompressionBomb" not in err
    assert rss < 1000, rss
    doc = json.loads((tmp_path / "c.json").read_text())
    reasons = {s["name"]: s["reason"] for s in doc["skipped"]}
    assert "64 Mpx" in reasons["huge.png"] and "aspect ratio" in reasons["strip.png"]
    assert doc["images"] == 1


def test_a_large_jpeg_is_decoded_at_reduced_scale(tmp_path):
    from PIL import Image

    from onnxsym.consistency.images import load_images

    arr = (np.indices((1600, 2400)).sum(axis=0) % 251).astype(np.uint8)
    Image.fromarray(np.stack([arr] * 3, -1)).save(tmp_path / "big.jpg", quality=90)
    img = load_images(tmp_path / "big.jpg").load(0, min_side=256)
    assert 256 <= min(img.shape[:2]) < 512 and img.shape[2] == 3


# ----------------------------------------------------------------------------- model bombs
def test_sparse_constant_with_a_huge_dense_shape_is_an_unresolved_layer(tmp_path):
    sp = h.make_sparse_tensor(nh.from_array(np.array([1.0], np.float32), "v"),
                              nh.from_array(np.array([0], np.int64), "i"), [100000, 100000, 3, 3])
    const = h.make_node("Constant", [], ["w"], sparse_value=sp)
    path = save(conv_model("w", nodes=[const]), tmp_path / "sp.onnx")
    code, err, rss, _ = measured("weights", path, "--format", "json", "-o", tmp_path / "w.json")
    assert code == 0 and rss < 1500, (err, rss)
    row = json.loads((tmp_path / "w.json").read_text())["layers"][0]
    assert row["status"] == "unresolved" and "dense shape" in row["reason"]


def test_constant_of_shape_folded_into_a_weight_is_refused_before_allocating(tmp_path):
    shape = h.make_node("Constant", [], ["s"], value=nh.from_array(np.array([64, 3, 1000, 1000], np.int64)))
    fill = h.make_node("ConstantOfShape", ["s"], ["w"], value=nh.from_array(np.array([1.0], np.float32)))
    path = save(conv_model("w", nodes=[shape, fill]), tmp_path / "cos.onnx")
    code, err, rss, _ = measured("weights", path, "--format", "json", "-o", tmp_path / "w.json")
    assert code == 0 and rss < 800, (err, rss)
    row = json.loads((tmp_path / "w.json").read_text())["layers"][0]
    assert row["status"] == "unresolved" and "folding ConstantOfShape would create" in row["reason"]


def _function_chain(levels, cycle=False):
    fns = []
    for k in range(levels):
        if k == 0:
            nodes = [h.make_node("Relu", ["a"], ["b"])]
        else:
            nodes = [h.make_node(f"f{k - 1}", ["a"], ["t"], domain="local"),
                     h.make_node(f"f{k - 1}", ["t"], ["b"], domain="local")]
        if cycle and k == 0:
            nodes = [h.make_node(f"f{levels - 1}", ["a"], ["b"], domain="local")]
        fns.append(h.make_function("local", f"f{k}", ["a"], ["b"], nodes, [h.make_opsetid("", 21)]))
    call = h.make_node(f"f{levels - 1}", ["x"], ["x2"], domain="local")
    conv = conv_model("w", inits=[init("w", W)], conv_inputs=["x2", "w"])
    conv.graph.node.insert(0, call)
    conv.functions.extend(fns)
    conv.opset_import.append(h.make_opsetid("local", 1))
    return conv


@pytest.mark.parametrize("cycle", [False, True])
def test_functions_whose_inlining_explodes_are_refused(tmp_path, cycle):
    path = save(_function_chain(30, cycle), tmp_path / "chain.onnx")
    code, err, rss, secs = measured("weights", path)
    assert code == 2 and secs < 30 and rss < 800, (err, secs, rss)
    assert ("cycle" in err) if cycle else ("more than 200,000 nodes" in err)


def test_short_function_chains_still_inline(tmp_path):
    path = save(_function_chain(4), tmp_path / "chain.onnx")
    code, out, err = run("weights", path, "--format", "json")
    assert code == 0, err
    assert "8 call(s)" in " ".join(json.loads(out)["model"]["notes"]) or json.loads(out)["layers"]


# ----------------------------------------------------------------- wrong-typed JSON and TOML
@pytest.mark.parametrize("mutate, field", [
    (lambda d: d["weights"].__setitem__("layers", {"a": 1}), "weights/layers"),
    (lambda d: d["weights"].__setitem__("summary", [1, 2]), "weights/summary"),
    (lambda d: d["weights"]["layers"][0].__setitem__("weight_shape", "4x3x3x3"), "weights/layers/0/weight_shape"),
    (lambda d: d["weights"]["summary"]["internal"].__setitem__("median_symmetry", "high"), "median_symmetry"),
    (lambda d: d.__setitem__("consistency", {"shift": 3, "flip": {}, "metric": "x"}), "consistency"),
])
def test_baseline_and_compare_reports_of_the_wrong_shape_name_the_field(tmp_path, model, mutate, field):
    base = tmp_path / "base.json"
    assert run("audit", model, "--no-run", "--json", base)[0] == 0
    doc = json.loads(base.read_text())
    mutate(doc)
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(doc))
    for cmd in (["audit", model, "--no-run", "--baseline", bad], ["compare", bad, model]):
        code, _, err = run(*cmd)
        assert code == 2 and one_line(err) and field in err, (cmd, err)


@pytest.mark.parametrize("text", ["tool = 3\n", "[tool]\nonnxsym = 5\n", "[tool]\nonnxsym = [1, 2]\n",
                                  "[tool.onnxsym]\nmin_symmetry = [0.5]\n",
                                  "[tool.onnxsym]\nmin_symmetry = {a = 1}\n",
                                  "[tool.onnxsym]\nx = " + "[" * 10000 + "]" * 10000 + "\n"])
def test_config_of_the_wrong_shape_is_bad_input(tmp_path, model, text):
    (tmp_path / "pyproject.toml").write_text(text)
    code, _, err = run("audit", model, "--no-run", cwd=tmp_path)
    assert code == 2 and err.count("onnxsym: error:") == 1 and "Traceback" not in err, err
    assert "internal error" not in err


def test_deeply_nested_json_is_refused(tmp_path, model):
    (tmp_path / "deep.json").write_text('{"schema": "onnxsym.weights/1", "x": ' + "[" * 100 + "]" * 100 + "}")
    code, _, err = run("compare", tmp_path / "deep.json", model)
    assert code == 2 and "nested" in err


# ------------------------------------------------------------------------ terminal escapes
def test_escape_sequences_in_names_are_shown_escaped_on_the_terminal_and_exact_in_json(tmp_path):
    evil = "pwn\x1b]0;owned\x07\x1b[2J\u202e"
    m = conv_model("w", inits=[init("w", W)])
    m.graph.node[-1].name = evil
    path = save(m, tmp_path / "evil.onnx")
    for cmd in (["weights", path], ["padding", path], ["audit", path, "--no-run"], ["compare", path, path]):
        code, out, err = run(*cmd)
        assert code in (0, 1), (cmd, err)
        assert "\x1b" not in out + err and "\x07" not in out + err and "\u202e" not in out + err, cmd
        assert "pwn\\x1b]0;owned\\x07" in out, cmd
    code, out, _ = run("weights", path, "--format", "json")
    assert json.loads(out)["layers"][0]["id"] == evil
    code, out, _ = run("weights", path, "--format", "csv")  # machine format to a pipe: exact
    assert evil in out
    code, _, err = run("padding", path, "--input-shape", "1x3x\x1b[31m")
    assert code == 2 and "\x1b" not in err and "\\x1b" in err


# --------------------------------------------------------------------------------- smaller
def test_input_shape_beyond_int64_is_refused(model):
    code, _, err = run("padding", model, "--input-shape", "1x3x99999999999999999999x8")
    assert code == 2 and "int64" in err


def test_external_data_keys_onnxruntime_refuses_are_refused_up_front(tmp_path):
    m = conv_model("w", inits=[init("w", np.ones((8, 3, 5, 5), np.float32))])
    onnx.save(m, str(tmp_path / "k.onnx"), save_as_external_data=True, location="k.data", size_threshold=0)
    m = onnx.load(str(tmp_path / "k.onnx"), load_external_data=False)
    e = m.graph.initializer[0].external_data.add()
    e.key, e.value = "basepath", "/etc"
    onnx.save(m, str(tmp_path / "k.onnx"))
    for cmd in ("weights", "padding"):
        code, _, err = run(cmd, tmp_path / "k.onnx")
        assert code == 2 and "basepath" in err and "onnxruntime refuses" in err, err
        assert "Warning" not in err


# ------------------------------------------------------------------ found by the fuzzer
@pytest.mark.parametrize("field", [b"the_conv", b"Conv", b"w"])
def test_names_that_are_not_utf8_are_refused_naming_the_field(tmp_path, field):
    data = conv_model("w", inits=[init("w", W)]).SerializeToString()
    tag = bytes([len(field)]) + field  # a length-delimited string field holding exactly this text
    assert tag in data
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(data.replace(tag, bytes([len(field)]) + b"\xff" + field[1:], 1))
    for cmd in (["weights", bad, "--format", "json"], ["padding", bad], ["audit", bad, "--no-run"]):
        code, _, err = run(*cmd)
        assert code == 2 and one_line(err) and "not UTF-8" in err, (cmd, err)


def test_an_element_type_onnx_does_not_know_is_named(tmp_path):
    m = conv_model("w", inits=[init("w", W)])
    m.graph.input[0].type.tensor_type.elem_type = 255
    path = save(m, tmp_path / "dt.onnx")
    code, _, err = run("padding", path)
    assert code == 2 and one_line(err) and "data type 255" in err


def test_a_kernel_far_larger_than_its_kernel_shape_is_unresolved_and_fast(tmp_path):
    w = np.ones((1, 3, 1, 150000), np.float32)
    path = save(conv_model("w", inits=[init("w", w)], attrs={"kernel_shape": [3, 3]}), tmp_path / "k.onnx")
    code, err, rss, secs = measured("weights", path, "--format", "json", "-o", tmp_path / "w.json")
    assert code == 0 and secs < 30, (err, secs)
    row = json.loads((tmp_path / "w.json").read_text())["layers"][0]
    assert row["status"] == "unresolved" and "does not match the weight" in row["reason"]


def test_the_random_init_baseline_of_a_huge_kernel_is_budgeted():
    from onnxsym.weights.random_init import RANDOM_INIT_MIN_DRAWS as BASELINE_MIN_DRAWS, random_init as gaussian_baseline

    t0 = time.perf_counter()
    base = gaussian_baseline((1, 150000))
    assert time.perf_counter() - t0 < 10 and base["draws"] == BASELINE_MIN_DRAWS
    assert 0 < base["mean"] < 1


def test_a_tensor_of_more_dimensions_than_numpy_holds_is_refused(tmp_path):
    m = conv_model("w", inits=[init("w", W)])
    t = m.graph.initializer[0]
    t.ClearField("dims")
    t.dims.extend([1] * 100 + [4, 3, 3, 3])
    path = save(m, tmp_path / "r.onnx")
    code, _, err = run("weights", path)
    assert code == 2 and one_line(err) and "104 dimensions" in err
