"""onnxsym.study.families: re-encodings of MobileNetV2 (fp16 and external data built here, the
zoo's int8 QDQ build) form one family; every digits checkpoint and variant is its own."""
import os

import numpy as np
import onnx
import pytest

import onnxsym
from onnxsym.study import families as fam
from onnxsym.study.results import ModelRow
from onnxsym.study.task import encoding_of, fingerprint_layer
from study_helpers import DIGITS, ROOT, zoo

MOBILENET = os.path.join(ROOT, "models", "mobilenet_v2.onnx")


def _row(model_id, path):
    """A row with what the families need: the fingerprint and encoding from the weights."""
    w = onnxsym.analyze_weights(path, per_kernel=False).to_dict()
    ok = [L for L in w["layers"] if L["status"] == "ok"]
    fp = [f for f in (fingerprint_layer(L) for L in ok) if f is not None]
    return ModelRow(id=model_id, path=path, fingerprint=fp, encoding=encoding_of(w["layers"]),
                    internal={"median_symmetry": w["summary"]["internal"]["median_symmetry"]})


@pytest.fixture(scope="module")
def mobilenet_builds(tmp_path_factory):
    from onnxruntime.transformers.float16 import convert_float_to_float16

    d = tmp_path_factory.mktemp("mnv2")
    model = onnx.load(MOBILENET)
    fp16 = convert_float_to_float16(model, keep_io_types=False)
    onnx.save(fp16, str(d / "fp16.onnx"))
    ext = d / "ext"
    ext.mkdir()
    onnx.save(onnx.load(MOBILENET), str(ext / "external.onnx"), save_as_external_data=True, location="weights.bin",
              size_threshold=0)
    return {"fp32": MOBILENET, "fp16": str(d / "fp16.onnx"), "external": str(ext / "external.onnx"),
            "int8": zoo("mobilenet_v2_int8_qdq")}


def test_reencodings_of_mobilenet_are_one_family(mobilenet_builds):
    rows = [_row(k, p) for k, p in mobilenet_builds.items()]
    assert {r.id: r.encoding for r in rows} == {"fp32": "float32", "fp16": "float16", "external": "float32",
                                                "int8": "quantized"}
    families = fam.group(rows)
    assert len(families) == 1
    f = families[0]
    assert sorted(f.members) == ["external", "fp16", "fp32", "int8"]
    assert f.representative == "external"  # float32 before float16 and quantized; then the first id
    assert 0 < f.max_distance < fam.MAX_DISTANCE / 5 and f.min_coverage == 1.0
    assert {r.id: (r.family, r.representative) for r in rows}["int8"] == ("F1", False)


def test_the_distance_is_half_the_norm_of_the_normalised_kernel_difference(mobilenet_builds):
    a, b = _row("a", mobilenet_builds["fp32"]), _row("b", mobilenet_builds["int8"])
    coverage, dmax = fam.distance(a.fingerprint, b.fingerprint)
    wa = onnxsym.analyze_weights(mobilenet_builds["fp32"], per_kernel=False).to_dict()["layers"]
    wb = onnxsym.analyze_weights(mobilenet_builds["int8"], per_kernel=False).to_dict()["layers"]
    by_hand = []
    for La, Lb in zip(wa, wb):  # the same graph: layers in the same order
        if La["status"] != "ok":
            continue
        ka, kb = np.asarray(La["mean_kernel"], float).ravel(), np.asarray(Lb["mean_kernel"], float).ravel()
        by_hand.append(np.linalg.norm(ka / np.linalg.norm(ka) - kb / np.linalg.norm(kb)) / 2)
    assert coverage == 1.0
    assert dmax == pytest.approx(max(by_hand), abs=1e-6)


def test_every_digits_checkpoint_and_variant_is_its_own_family():
    rows = [_row(n, zoo(n)) for n in DIGITS]
    families = fam.group(rows)
    assert len(families) == len(DIGITS)
    assert all(r.representative for r in rows)
    closest = min(fam.distance(a.fingerprint, b.fingerprint)[1] for i, a in enumerate(rows) for b in rows[i + 1:])
    assert closest > 2 * fam.MAX_DISTANCE  # the margin the threshold was chosen with


def test_rows_without_fingerprint_and_failed_rows():
    a = ModelRow(id="a", path="a", status="partial", internal={"median_symmetry": None})
    b = ModelRow(id="b", path="b", status="failed", error="not an ONNX model")
    families = fam.group([b, a])
    assert [f.members for f in families] == [["a"]]
    assert a.family == "F1" and a.representative and b.family is None


def test_representative_prefers_rows_without_error():
    ok = ModelRow(id="z", path="z", encoding="quantized")
    broken = ModelRow(id="a", path="a", encoding="float32", status="partial", error="consistency failed")
    assert fam.representative([broken, ok]).id == "z"
