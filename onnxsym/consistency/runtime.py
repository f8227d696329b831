"""onnxruntime sessions: provider choice, honest fallback detection, IR lowering in memory.

``create_session(model, provider="auto")`` returns a :class:`RuntimeSession`:

* ``provider="cpu"``  - CPUExecutionProvider only.
* ``provider="cuda"`` - CUDAExecutionProvider; if onnxruntime cannot use it (libraries missing, no
  device, ...) this raises :class:`RuntimeFailure` (exit 3) - it never runs on the CPU instead.
* ``provider="auto"`` - CUDA then CPU. When CUDA was wanted (the installed onnxruntime has a CUDA
  provider) but the session came up on the CPU, ``RuntimeSession.fallback`` holds ONE line saying so,
  with onnxruntime's own reason (e.g. ``libcublasLt.so.13: cannot open shared object file``).

onnxruntime writes its multi-line log straight to file descriptor 2; while a session is created we
point that descriptor at a temporary file, read the reason from it, and show nothing else.  After
creation the session's log severity is ERROR so nothing spills onto the terminal during runs.

A model whose IR version is newer than onnxruntime reads is retried with ``ir_version`` lowered in
memory (never on disk) when onnxruntime accepted its opsets; ``RuntimeSession.notes`` says so.
"""
from __future__ import annotations

import contextlib
import io
import os
import re
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import InputError, ModelError, RuntimeFailure
from ..wording import param

PROVIDERS = ("auto", "cuda", "cpu")
_SHORT = {"CUDAExecutionProvider": "cuda", "CPUExecutionProvider": "cpu",
          "TensorrtExecutionProvider": "tensorrt"}
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_IR_TOO_NEW = re.compile(r"Unsupported model IR version:\s*(\d+),\s*max supported IR version:\s*(\d+)")


@dataclass
class RuntimeSession:
    """An onnxruntime session and the truth about where it runs."""

    session: object                      # onnxruntime.InferenceSession
    requested: str                       # "auto" | "cuda" | "cpu"
    providers_requested: list[str]       # what we asked onnxruntime for
    providers: list[str]                 # session.get_providers(): what we obtained
    fallback: str | None = None          # one line when CUDA was wanted but not obtained
    notes: list[str] = field(default_factory=list)
    provider_note: str = ""              # why it runs where it runs, when nothing went wrong (info)

    @property
    def provider(self) -> str:
        """The provider that actually runs the model: 'cuda', 'cpu', ..."""
        first = self.providers[0] if self.providers else "CPUExecutionProvider"
        return _SHORT.get(first, first)

    def run(self, feeds: dict, output_names=None):
        try:
            return self.session.run(output_names, feeds, _quiet_run_options())
        except Exception as err:  # onnxruntime raises its own (multi-line) exception types
            raise RuntimeFailure(f"onnxruntime failed to run the model: {_one_line(err)}") from None

    def run_with_iobinding(self, binding) -> None:
        """Run with an IO binding (:mod:`onnxsym.consistency.device`); errors as :meth:`run`'s."""
        try:
            self.session.run_with_iobinding(binding, _quiet_run_options())
        except Exception as err:  # noqa: BLE001 - onnxruntime's exception types vary
            raise RuntimeFailure(f"onnxruntime failed to run the model: {_one_line(err)}") from None


def _quiet_run_options():
    """RunOptions that keep onnxruntime's own (coloured, multi-line) error log off stderr: a
    failing run is reported once, as a RuntimeFailure line."""
    import onnxruntime as ort

    opts = ort.RunOptions()
    opts.log_severity_level = 4  # fatal only
    return opts


def _one_line(err) -> str:
    text = _ANSI.sub("", str(err))
    # Drop onnxruntime's source locations (".../model.cc:256 onnxruntime::Model::Model(...)").
    text = re.sub(r"/onnxruntime_src/\S+:\d+ [^ ]*\([^)]*\)(\s*const)?", "", text)
    text = re.sub(r"\[ONNXRuntimeError\] : \d+ : ", "", text)
    return " ".join(text.split())


@contextlib.contextmanager
def _capture_fd2():
    """Point file descriptor 2 (where onnxruntime's C++ logger writes) at a temporary file.

    Yields a list that receives the captured text when the block ends. Python-level ``print``
    to stdout (onnxruntime.preload_dlls prints its failures) is captured as well.
    """
    captured: list[str] = []
    sys.stderr.flush()
    try:
        saved = os.dup(2)
    except OSError:  # no fd 2 (embedded interpreter): nothing to capture
        yield captured
        return
    with tempfile.TemporaryFile(mode="w+b") as tmp, contextlib.redirect_stdout(io.StringIO()) as out:
        os.dup2(tmp.fileno(), 2)
        try:
            yield captured
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            tmp.seek(0)
            captured.append(tmp.read().decode("utf-8", "replace") + out.getvalue())


_preloaded = False


def _preload_cuda_libraries():
    """Let onnxruntime load CUDA/cuDNN from pip ``nvidia-*`` packages when they are installed.

    No ``import torch``: onnxruntime >= 1.21 has ``preload_dlls`` for exactly this. Its printed
    complaints are swallowed by the caller's capture; the session creation reports the real reason.
    """
    global _preloaded
    if _preloaded:
        return
    _preloaded = True
    import onnxruntime as ort

    preload = getattr(ort, "preload_dlls", None)
    if preload is None:
        return
    try:
        import importlib.util

        if importlib.util.find_spec("nvidia") is None:
            return  # nothing from pip to preload; the system loader path is used as is
    except (ImportError, ValueError):
        return
    with contextlib.redirect_stdout(io.StringIO()):
        try:
            preload()
        except Exception:
            pass


def _cuda_reason(log: str) -> str:
    """onnxruntime's reason for not creating the CUDA provider, in one line."""
    log = _ANSI.sub("", log)
    m = re.search(r"Failed to load library \S+ with error: ([^\n]+)", log)
    if m:
        return " ".join(m.group(1).split())
    m = re.search(r"CUDA failure \d+: ([^;\n]+)", log)
    if m:
        return "CUDA failure: " + " ".join(m.group(1).split())
    for line in log.splitlines():
        if "[E:" in line or "Failed to create CUDAExecutionProvider" in line:
            text = re.sub(r"^.*?\] ", "", line.strip())
            text = re.sub(r"/onnxruntime_src/\S+:\d+ ", "", text)
            return " ".join(text.split())[:300]
    return "onnxruntime did not say why (no CUDA device or driver?)"


def _model_source(model):
    """Return (what onnxruntime.InferenceSession takes, a label, an onnx.ModelProto loader)."""
    import onnx

    from ..model.loading import IN_MEMORY, LoadedModel

    if isinstance(model, LoadedModel):
        # Its proto is stripped (weights are external references into the file): give onnxruntime
        # the file itself, or the bytes the model was given as.
        if model.path is None:
            data = bytes(model.serialized)
            return data, IN_MEMORY, (lambda: onnx.load_from_string(data))
        model = model.path
    if isinstance(model, onnx.ModelProto):
        return model.SerializeToString(), IN_MEMORY, (lambda: model)
    if isinstance(model, (bytes, bytearray)):
        data = bytes(model)
        return data, IN_MEMORY, (lambda: onnx.load_from_string(data))
    path = Path(model)
    if not path.is_file():
        raise ModelError(f"model file not found: {path}")
    try:
        str(path).encode("utf-8")
    except UnicodeEncodeError:  # undecodable bytes in the name: onnxruntime takes only UTF-8 paths
        data = path.read_bytes()  # (a model with external data then cannot be found; ORT says so)
        return data, str(path), (lambda: onnx.load_from_string(data))
    return str(path), str(path), (lambda: onnx.load(str(path)))


def full_proto(model):
    """The whole ModelProto of ``model`` (a LoadedModel, path, bytes or proto), weights and external
    data in memory: what a graph built around the model (:mod:`.device`) starts from."""
    _source, _label, load = _model_source(model)
    try:
        return load()
    except Exception as err:  # noqa: BLE001 - onnx raises several types
        raise ModelError(f"cannot read the whole model: {_one_line(err)}") from None


def _lower_ir(load, max_ir: int):
    import onnx

    try:
        proto = load()
    except Exception as err:
        raise ModelError(f"cannot read the model to lower its IR version: {_one_line(err)}") from None
    old = proto.ir_version
    lowered = onnx.ModelProto()
    lowered.CopyFrom(proto)
    lowered.ir_version = max_ir
    return lowered.SerializeToString(), old


def providers_for(requested: str) -> list[str]:
    import onnxruntime as ort

    requested = (requested or "auto").lower()
    if requested not in PROVIDERS:
        raise InputError(f"unknown provider {requested!r}: use one of {', '.join(PROVIDERS)}")
    available = ort.get_available_providers()
    if requested == "cpu":
        return ["CPUExecutionProvider"]
    if requested == "cuda":
        if "CUDAExecutionProvider" not in available:
            raise RuntimeFailure(
                f"{param('provider', 'cuda')}: this onnxruntime ({ort.__version__}) has no CUDA provider "
                "(install onnxruntime-gpu)")
        return ["CUDAExecutionProvider"]
    if "CUDAExecutionProvider" in available and nvidia_gpu_present():
        return ["CUDAExecutionProvider", "CPUExecutionProvider"]
    return ["CPUExecutionProvider"]


def nvidia_gpu_present() -> bool:
    """Whether this machine has an NVIDIA GPU with its driver loaded (without loading CUDA).

    Linux: the driver's ``/proc/driver/nvidia/gpus/*`` or a ``/dev/nvidia<N>`` device node; Windows:
    the driver's ``nvcuda.dll``. ``ONNXSYM_ASSUME_GPU=1`` / ``=0`` overrides (containers that hide
    /proc, tests). ``--provider auto`` tries CUDA only when this is true, so a CPU-only machine is
    not told about CUDA libraries it never needed."""
    import glob

    forced = os.environ.get("ONNXSYM_ASSUME_GPU")
    if forced in ("0", "1"):
        return forced == "1"
    if sys.platform.startswith("linux"):
        return bool(glob.glob("/proc/driver/nvidia/gpus/*") or glob.glob("/dev/nvidia[0-9]*"))
    if sys.platform == "win32":
        root = os.environ.get("SystemRoot", r"C:\Windows")
        return os.path.exists(os.path.join(root, "System32", "nvcuda.dll"))
    return False


def create_session(model, provider: str = "auto", *, threads: int | None = None) -> RuntimeSession:
    """Create an onnxruntime session on the requested provider and check what was obtained.

    ``model``: a path, serialized bytes, an ``onnx.ModelProto`` or a ``LoadedModel``.
    ``threads``: intra-op threads (None = onnxruntime's default, all cores).
    Raises RuntimeFailure (exit 3) when onnxruntime cannot create the session or when
    ``provider="cuda"`` and CUDA is not obtained; ModelError (exit 2) when the file is missing.
    """
    import onnxruntime as ort

    requested = (provider or "auto").lower()
    wanted = providers_for(requested)
    source, label, load = _model_source(model)
    notes: list[str] = []

    def make_options():
        opts = ort.SessionOptions()
        opts.log_severity_level = 2  # warnings go to the captured fd; read for the CUDA reason
        if threads:
            opts.intra_op_num_threads = int(threads)
        return opts

    def attempt(src):
        with _capture_fd2() as captured:
            if "CUDAExecutionProvider" in wanted:
                _preload_cuda_libraries()
            try:
                sess = ort.InferenceSession(src, sess_options=make_options(), providers=wanted)
                err = None
            except Exception as exc:  # noqa: BLE001 - onnxruntime's exception types vary
                sess, err = None, exc
        return sess, err, (captured[0] if captured else "")

    sess, err, log = attempt(source)
    if err is not None:
        m = _IR_TOO_NEW.search(str(err))
        if m:
            new_ir, max_ir = int(m.group(1)), int(m.group(2))
            lowered, old = _lower_ir(load, max_ir)
            sess, err2, log = attempt(lowered)
            if err2 is not None:
                raise RuntimeFailure(
                    f"onnxruntime {ort.__version__} reads IR <= {max_ir}; the model has IR {new_ir} "
                    f"and lowering it in memory did not help: {_one_line(err2)}") from None
            notes.append(f"the model has IR version {old}, newer than onnxruntime {ort.__version__} "
                         f"reads (<= {max_ir}); its opsets are supported, so it was loaded with "
                         f"ir_version={max_ir} set in memory (the file is unchanged)")
        else:
            raise RuntimeFailure(f"onnxruntime cannot create a session for {label}: "
                                 f"{_one_line(err)}") from None

    obtained = list(sess.get_providers())
    fallback = None
    if "CUDAExecutionProvider" in wanted and "CUDAExecutionProvider" not in obtained:
        reason = _cuda_reason(log)
        if requested == "cuda":
            raise RuntimeFailure(f"{param('provider', 'cuda')}: onnxruntime could not use CUDA: {reason}")
        fallback = (f"CUDA was requested ({param('provider', 'auto')}) but onnxruntime runs on the CPU: {reason}")
    provider_note = ""
    if requested == "auto" and "CUDAExecutionProvider" not in wanted:
        provider_note = ("no NVIDIA GPU found: onnxruntime runs on the CPU"
                         if "CUDAExecutionProvider" in ort.get_available_providers() else
                         f"this onnxruntime ({ort.__version__}) has no CUDA provider: it runs on the CPU")
    return RuntimeSession(session=sess, requested=requested, providers_requested=wanted,
                          providers=obtained, fallback=fallback, notes=notes, provider_note=provider_note)
