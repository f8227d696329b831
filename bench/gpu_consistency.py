"""GPU check: shift/flip variants made on the device vs raw IO-binding inference (one prepared run).

What it measures (all in one process, same session options, same card):

1. raw      - the model alone, IO binding, a float32 batch of ``--inputs-per-run`` (default 256)
              already on the device, output left on the device: model inputs per second.
2. device   - a prefix graph merged in front of the model with ``onnx.compose.merge_models``:
              uint8 base images [B, S+32, S+32, 3] (a quarter of the bytes of float32) are uploaded,
              then on the device: Slice at offset A, Slice at offset B (Zhang's pair, one offset
              pair per run, drawn from a seeded generator), the centre crop and its horizontal
              mirror (Slice with step -1), Concat -> [4B, S, S, 3], Cast, x*scale+offset
              (ImageNet mean/std), Transpose to NCHW, the model, ArgMax -> int64 top-1 [4B].
              B = inputs-per-run / 4, so both paths run the same number of model inputs per run.
              Throughput counts model inputs (4 per base image) and includes the upload.
3. check    - the same offsets cropped and normalised on the host (onnxsym.consistency.preprocess.Normalizer,
              the CPU path of `onnxsym consistency`), run through the plain model: the top-1 of
              every variant must be identical to the device path's. Also prints the shift and
              flip agreement over the shipped photos from the device path.

Prints the ratio device / raw (target >= 0.9 on MobileNetV2 and ResNet-50, H100) and ends with
one greppable line ``gpu_consistency: ...``.

How to run it on a machine with a GPU (Linux x86_64, CUDA 13 driver):
  * onnxruntime-gpu 1.31.1 is needed there. If that machine cannot download, stage the wheel here
    with ``shared/tools/stage-ort-gpu.sh`` (it splits the cp312 wheel into .ortw/a .. .ortw/e), carry
    those folders, and on the GPU machine:
        cat .ortw/*/part0* > onnxruntime_gpu-1.31.1-cp312-cp312-manylinux_2_28_x86_64.whl
        python3 -m pip install -q --no-index --no-deps --target /tmp/site onnxruntime_gpu-*.whl
        export PYTHONPATH=/tmp/site:$PWD
    (the CUDA 13 / cuDNN 9 libraries must be on the loader path, or installed from pip's nvidia-*
    packages: onnxsym preloads those with onnxruntime.preload_dlls()).
  * then:  python3 bench/gpu_consistency.py --provider cuda [--model models/mobilenet_v2.onnx]
           [--inputs-per-run 256] [--seconds 10]
    and for the second model: python3 bench/build_resnet50.py  (a runnable ResNet-50, random
    weights, 102 MB, onnx + numpy only), then --model bench/_work/resnet50_runnable.onnx
    Needs numpy, onnx, pillow, numba (onnxsym's own dependencies); no torch.
  * correctness only, on any machine:  python3 bench/gpu_consistency.py --provider cpu --seconds 2
    (uses CPUExecutionProvider; the ratio is then meaningless, the top-1 check is not).
"""
from __future__ import annotations

import argparse
import importlib
import os
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import onnx  # noqa: E402
from onnx import TensorProto as T  # noqa: E402
from onnx import helper as h  # noqa: E402
from onnx import numpy_helper as nh  # noqa: E402

from onnxsym.consistency.images import load_images
from onnxsym.consistency.preprocess import Normalizer, input_spec, resize_center_square  # noqa: E402
from onnxsym.consistency.runtime import create_session  # noqa: E402

SHIFT = 32
MEAN = np.array([0.485, 0.456, 0.406], np.float32) * 255
STD = np.array([0.229, 0.224, 0.225], np.float32) * 255


def prefix_model(size: int, opset: int, ir: int, out_name: str) -> onnx.ModelProto:
    """uint8 bases [B, S+32, S+32, 3] + offsets -> normalised NCHW float32 [4B, 3, S, S]."""
    S, C = size, SHIFT // 2
    i64 = lambda name, v: nh.from_array(np.asarray(v, np.int64), name)  # noqa: E731
    inits = [
        i64("osym_size", [S, S]), i64("osym_axes", [1, 2]),
        i64("osym_c0", [C, C]), i64("osym_c1", [C + S, C + S]),
        i64("osym_m_start", [-1]), i64("osym_m_end", [-(2 ** 62)]), i64("osym_m_axis", [2]),
        i64("osym_m_step", [-1]),
        nh.from_array((1.0 / STD).astype(np.float32), "osym_scale"),
        nh.from_array((-MEAN / STD).astype(np.float32), "osym_offset"),
    ]
    nodes = [
        h.make_node("Add", ["osym_off_a", "osym_size"], ["osym_end_a"]),
        h.make_node("Add", ["osym_off_b", "osym_size"], ["osym_end_b"]),
        h.make_node("Slice", ["osym_base", "osym_off_a", "osym_end_a", "osym_axes"], ["osym_crop_a"]),
        h.make_node("Slice", ["osym_base", "osym_off_b", "osym_end_b", "osym_axes"], ["osym_crop_b"]),
        h.make_node("Slice", ["osym_base", "osym_c0", "osym_c1", "osym_axes"], ["osym_centre"]),
        h.make_node("Slice", ["osym_centre", "osym_m_start", "osym_m_end", "osym_m_axis", "osym_m_step"],
                    ["osym_mirror"]),
        h.make_node("Concat", ["osym_crop_a", "osym_crop_b", "osym_centre", "osym_mirror"],
                    ["osym_all"], axis=0),
        h.make_node("Cast", ["osym_all"], ["osym_f"], to=T.FLOAT),
        h.make_node("Mul", ["osym_f", "osym_scale"], ["osym_s"]),
        h.make_node("Add", ["osym_s", "osym_offset"], ["osym_n"]),
        h.make_node("Transpose", ["osym_n"], [out_name], perm=[0, 3, 1, 2]),
    ]
    g = h.make_graph(nodes, "osym_prefix", [
        h.make_tensor_value_info("osym_base", T.UINT8, ["B", S + SHIFT, S + SHIFT, 3]),
        h.make_tensor_value_info("osym_off_a", T.INT64, [2]),
        h.make_tensor_value_info("osym_off_b", T.INT64, [2]),
    ], [h.make_tensor_value_info(out_name, T.FLOAT, ["B4", 3, S, S])], inits)
    m = h.make_model(g, opset_imports=[h.make_opsetid("", opset)])
    m.ir_version = ir
    return m


def device_model(model: onnx.ModelProto, in_name: str, out_name: str, size: int) -> onnx.ModelProto:
    opset = next(o.version for o in model.opset_import if o.domain in ("", "ai.onnx"))
    pre = prefix_model(size, max(opset, 10), model.ir_version, "osym_x")
    merged = onnx.compose.merge_models(pre, model, io_map=[("osym_x", in_name)],
                                       outputs=[out_name])
    g = merged.graph
    g.node.append(h.make_node("ArgMax", [out_name], ["osym_top1"], axis=1, keepdims=0))
    del g.output[:]
    g.output.append(h.make_tensor_value_info("osym_top1", T.INT64, ["B4"]))
    return merged


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default=os.path.join(ROOT, "models", "mobilenet_v2.onnx"))
    ap.add_argument("--provider", choices=["cuda", "cpu", "auto"], default="cuda")
    ap.add_argument("--inputs-per-run", type=int, default=256)
    ap.add_argument("--seconds", type=float, default=10.0, help="timing budget per path")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    import onnxruntime as ort

    model = onnx.load(args.model)
    if model.ir_version > 13:
        model.ir_version = 13  # onnxruntime 1.31 reads IR <= 13; in memory only
    if args.provider == "cuda":
        # On the lent H100 the CUDA 13 / cuDNN libraries come with its torch: importing torch first
        # loads them into the process so onnxruntime-gpu finds them (a benchmark-only convenience;
        # onnxsym itself never imports torch).
        try:
            importlib.import_module("torch")
        except ImportError:
            pass
    raw = create_session(model, args.provider)
    if raw.fallback:
        print(f"note: {raw.fallback}")
    dev_name = "cuda" if raw.provider == "cuda" else "cpu"
    spec = input_spec(raw.session.get_inputs())
    if spec.layout != "NCHW" or spec.dtype != "float32":
        sys.exit("gpu_consistency: needs an NCHW float32 image input")
    S, in_name = spec.height, spec.name
    out_name = raw.session.get_outputs()[0].name
    dev = create_session(device_model(model, in_name, out_name, S), args.provider)

    # bases: the shipped photos, resized to (S+32)^2, tiled to B per run
    photos = load_images(None)
    bases = np.stack([resize_center_square(photos.load(i), (S + SHIFT, S + SHIFT))
                      for i in range(len(photos))])
    B = max(1, args.inputs_per_run // 4)
    tiled = np.ascontiguousarray(bases[np.arange(B) % len(bases)])
    n_in = 4 * B

    # ---- 1. raw IO binding: float32 already on the device
    x = np.random.default_rng(0).normal(size=(n_in, 3, S, S)).astype(np.float32)
    x_dev = ort.OrtValue.ortvalue_from_numpy(x, dev_name, 0)
    io = raw.session.io_binding()
    io.bind_ortvalue_input(in_name, x_dev)
    io.bind_output(out_name, dev_name)

    def timed(step, budget):
        step()
        step()  # warm-up (cuDNN algorithm search, allocations)
        io.synchronize_outputs() if hasattr(io, "synchronize_outputs") else None
        n, t0 = 0, time.perf_counter()
        while True:
            step()
            n += 1
            if time.perf_counter() - t0 >= budget and n >= 3:
                return n * n_in / (time.perf_counter() - t0)

    raw_ips = timed(lambda: raw.session.run_with_iobinding(io), args.seconds)

    # ---- 2. device-side variants: uint8 upload, crops/mirror/normalise on the device, top-1 out
    base_dev = ort.OrtValue.ortvalue_from_numpy(tiled, dev_name, 0)
    dio = dev.session.io_binding()
    rng = np.random.default_rng(args.seed)
    offs = rng.integers(0, SHIFT, size=(64, 2, 2)).astype(np.int64)
    k = [0]

    def device_step():
        o = offs[k[0] % len(offs)]
        k[0] += 1
        base_dev.update_inplace(tiled)  # the upload: uint8 bases, every run
        dio.bind_ortvalue_input("osym_base", base_dev)
        dio.bind_cpu_input("osym_off_a", o[0])
        dio.bind_cpu_input("osym_off_b", o[1])
        dio.bind_output("osym_top1", "cpu")
        dev.session.run_with_iobinding(dio)
        return dio.copy_outputs_to_cpu()[0]

    dev_ips = timed(device_step, args.seconds)

    # ---- 3. top-1 identical to host-made crops (the CPU path's Normalizer), on the shipped photos
    norm = Normalizer(spec, "imagenet", "rgb")
    nb = len(bases)
    mismatches, total = 0, 0
    shift_agree, flip_agree = [], []
    for p in range(5):
        o = rng.integers(0, SHIFT, size=(2, 2)).astype(np.int64)
        dio.bind_cpu_input("osym_base", bases)
        dio.bind_cpu_input("osym_off_a", o[0])
        dio.bind_cpu_input("osym_off_b", o[1])
        dio.bind_output("osym_top1", "cpu")
        dev.session.run_with_iobinding(dio)
        top_dev = dio.copy_outputs_to_cpu()[0]
        host = norm.new_batch(4 * nb)
        for i in range(nb):
            for j, (y, xx, flip) in enumerate([(o[0, 0], o[0, 1], 0), (o[1, 0], o[1, 1], 0),
                                               (16, 16, 0), (16, 16, 1)]):
                norm.crop_into(host[j * nb + i], bases[i], int(y), int(xx), flip)
        top_host = np.argmax(raw.session.run([out_name], {in_name: host})[0], axis=1)
        mismatches += int(np.sum(top_dev != top_host))
        total += top_dev.size
        shift_agree += list(top_dev[:nb] == top_dev[nb:2 * nb])
        if p == 0:
            flip_agree = list(top_dev[2 * nb:3 * nb] == top_dev[3 * nb:])

    card = raw.providers[0]
    try:
        import subprocess

        card = subprocess.run(["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"],
                              capture_output=True, text=True, timeout=10).stdout.strip() or card
    except Exception:
        pass
    print(f"model        {args.model}  input {S}x{S}, {n_in} model inputs per run ({B} base images)")
    print(f"runtime      onnxruntime {ort.__version__} on {raw.provider} ({card})")
    print(f"raw          {raw_ips:10.1f} inputs/s  (IO binding, float32 on the device)")
    print(f"device       {dev_ips:10.1f} inputs/s  (uint8 upload + device crops/mirror/normalise + ArgMax)")
    print(f"ratio        {dev_ips / raw_ips:10.3f}  (target >= 0.9)")
    print(f"top-1        {total - mismatches}/{total} identical to host-made crops")
    print(f"photos       shift {np.mean(shift_agree):.3f} over {len(shift_agree)} pairs "
          f"(offsets per run), flip {np.mean(flip_agree):.3f} over {len(flip_agree)} images")
    print(f"gpu_consistency: provider {raw.provider} raw {raw_ips:.0f}/s device {dev_ips:.0f}/s "
          f"ratio {dev_ips / raw_ips:.3f} top1_identical {total - mismatches}/{total}")
    sys.exit(0 if mismatches == 0 else 1)


if __name__ == "__main__":
    main()
