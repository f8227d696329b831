"""onnxsym.consistency.runtime: provider choice, honest CUDA fallback, IR lowering, one-line failures."""
from __future__ import annotations

import onnx
import pytest

import consistency_models as cm
from onnxsym.errors import InputError, ModelError, RuntimeFailure
from onnxsym.consistency.runtime import create_session, providers_for


ort = pytest.importorskip("onnxruntime")


HAS_CUDA_EP = "CUDAExecutionProvider" in ort.get_available_providers()


def _cuda_works():
    if not HAS_CUDA_EP:
        return False
    try:
        return create_session(cm.gap_linear(), "cuda").provider == "cuda"
    except RuntimeFailure:
        return False


CUDA_WORKS = _cuda_works()


def test_cpu_session_from_path_bytes_and_proto(tmp_path):
    m = cm.gap_linear()
    p = cm.save(m, tmp_path / "m.onnx")
    for src in (p, m, m.SerializeToString()):
        rs = create_session(src, "cpu")
        assert rs.provider == "cpu" and rs.providers == ["CPUExecutionProvider"]
        assert rs.fallback is None and rs.requested == "cpu"


def test_unknown_provider_and_missing_file(tmp_path):
    with pytest.raises(InputError):
        providers_for("tpu")
    with pytest.raises(ModelError):
        create_session(tmp_path / "nope.onnx", "cpu")


@pytest.mark.skipif(not HAS_CUDA_EP or CUDA_WORKS, reason="needs onnxruntime-gpu without a usable GPU")
def test_auto_reports_the_fallback_in_one_line_without_spilling_the_log(capfd, monkeypatch):
    monkeypatch.setenv("ONNXSYM_ASSUME_GPU", "1")  # a GPU is there, CUDA does not work
    rs = create_session(cm.gap_linear(), "auto")
    out, err = capfd.readouterr()
    assert rs.provider == "cpu" and rs.providers_requested[0] == "CUDAExecutionProvider"
    assert rs.fallback and "\n" not in rs.fallback and "CUDA" in rs.fallback
    assert "onnxruntime" not in err and "onnxruntime" not in out  # nothing spilled on fd 1/2


def test_auto_without_an_nvidia_gpu_is_the_cpu_without_a_word(capfd, monkeypatch):
    monkeypatch.setenv("ONNXSYM_ASSUME_GPU", "0")
    rs = create_session(cm.gap_linear(), "auto")
    assert rs.provider == "cpu" and rs.providers_requested == ["CPUExecutionProvider"] and not rs.fallback
    out, err = capfd.readouterr()
    assert "CUDA" not in out + err


@pytest.mark.skipif(not HAS_CUDA_EP or CUDA_WORKS, reason="needs onnxruntime-gpu without a usable GPU")
def test_cuda_demanded_but_unusable_is_a_runtime_failure(capfd):
    with pytest.raises(RuntimeFailure) as exc:
        create_session(cm.gap_linear(), "cuda")
    assert exc.value.exit_code == 3 and "\n" not in str(exc.value)
    assert "CUDA" in str(exc.value)
    assert "onnxruntime" not in capfd.readouterr().err


@pytest.mark.skipif(HAS_CUDA_EP, reason="CPU-only onnxruntime")
def test_cuda_demanded_on_cpu_only_build():
    with pytest.raises(RuntimeFailure):
        create_session(cm.gap_linear(), "cuda")


def test_unsupported_op_is_one_line_runtime_failure():
    with pytest.raises(RuntimeFailure) as exc:
        create_session(cm.unsupported_op(), "cpu")
    assert exc.value.exit_code == 3 and "\n" not in str(exc.value)
    assert "/onnxruntime_src/" not in str(exc.value)


def test_ir_too_new_is_lowered_in_memory_with_a_note(tmp_path):
    m = cm.gap_linear()
    m.ir_version = 99
    p = cm.save(m, tmp_path / "new.onnx")
    rs = create_session(p, "cpu")
    assert any("in memory" in n for n in rs.notes)
    assert onnx.load(p).ir_version == 99  # the file is untouched


def test_loaded_model_is_accepted(tmp_path):
    p = cm.save(cm.gap_linear(), tmp_path / "m.onnx")
    loading = pytest.importorskip("onnxsym.model.loading")
    rs = create_session(loading.load_model(p), "cpu")
    assert rs.provider == "cpu"
