"""Summarise the shipped models (numpy + onnx only): opset, IR, op counts, conv kernels, where the
weights live, and the mean-kernel symmetry score S of docs/metric.md per conv layer.

    python models/describe_models.py [FILE.onnx ...]      (default: every .onnx under models/)

S here is a plain reference implementation for the README numbers, not onnxsym's: mean kernel
over axes 0,1 in float64, normalised by its Frobenius norm; square kernels use the 7 non-identity
D4 transforms, non-square ones {flip_lr, flip_ud, rot180} less those that are the identity or
repeat another on the grid (1×k: flip_lr only); 1x1 kernels are n/a.
"""
from __future__ import annotations

import glob
import hashlib
import os
import sys
from collections import Counter

import numpy as np
import onnx
from onnx import numpy_helper

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def transforms(k: np.ndarray) -> dict[str, np.ndarray]:
    # distinct non-identity transforms only (as onnxsym): on a 1×k grid flip_ud is the identity and
    # rot180 equals flip_lr, so only the reversal remains (likewise k×1)
    if k.shape[0] == 1:
        return {"flip_lr": k[:, ::-1]}
    if k.shape[1] == 1:
        return {"flip_ud": k[::-1, :]}
    t = {"flip_lr": k[:, ::-1], "flip_ud": k[::-1, :], "rot180": k[::-1, ::-1]}
    if k.shape[0] == k.shape[1]:
        t.update(rot90=np.rot90(k, 1), rot270=np.rot90(k, 3), transpose=k.T,
                 anti_transpose=k[::-1, ::-1].T)
    return t


def score(w: np.ndarray) -> tuple[float | None, dict[str, float]]:
    if w.ndim != 4 or w.shape[2] * w.shape[3] == 1:
        return None, {}
    k = w.astype(np.float64).mean(axis=(0, 1))
    n = np.linalg.norm(k)
    if not np.isfinite(n) or n == 0:
        return None, {}
    k = k / n
    d = {name: float(np.linalg.norm(t - k) / 2) for name, t in transforms(k).items()}
    return 1.0 - float(np.mean(list(d.values()))), d


def weights_of(m: onnx.ModelProto):
    inits = {i.name: ("initializer", i) for i in m.graph.initializer}
    for n in m.graph.node:
        if n.op_type == "Constant":
            for a in n.attribute:
                if a.name == "value":
                    inits[n.output[0]] = ("Constant", a.t)
    return inits


def describe(path: str) -> dict:
    m = onnx.load(path)
    ext = any(i.data_location == onnx.TensorProto.EXTERNAL for i in m.graph.initializer)
    src = weights_of(m)
    ops = Counter(n.op_type for n in m.graph.node)
    opset = {o.domain or "ai.onnx": o.version for o in m.opset_import}
    convs = [n for n in m.graph.node if n.op_type in ("Conv", "ConvTranspose")]
    rows = []
    where = Counter()
    for n in convs:
        kind, t = src.get(n.input[1], ("computed", None))
        where[kind] += 1
        w = numpy_helper.to_array(t) if t is not None else None
        attrs = {a.name: onnx.helper.get_attribute_value(a) for a in n.attribute}
        s, d = score(w) if w is not None else (None, {})
        rows.append(dict(name=n.name, op=n.op_type, shape=None if w is None else list(w.shape),
                         dtype=None if w is None else str(w.dtype),
                         group=attrs.get("group", 1), strides=attrs.get("strides"),
                         pads=attrs.get("pads"), auto_pad=attrs.get("auto_pad", b"").decode()
                         if isinstance(attrs.get("auto_pad"), bytes) else attrs.get("auto_pad"),
                         dil=attrs.get("dilations"), S=s, d=d))
    return dict(path=path, size=os.path.getsize(path),
                sha256=hashlib.sha256(open(path, "rb").read()).hexdigest(),
                ir=m.ir_version, opset=opset, producer=f"{m.producer_name} {m.producer_version}",
                ops=ops, rows=rows, where=where, external=ext,
                inputs=[(i.name, [d.dim_param or d.dim_value for d in i.type.tensor_type.shape.dim])
                        for i in m.graph.input if i.name not in src],
                outputs=[(o.name, [d.dim_param or d.dim_value for d in o.type.tensor_type.shape.dim])
                         for o in m.graph.output])


def main() -> None:
    paths = sys.argv[1:] or sorted(glob.glob(os.path.join(ROOT, "models", "**", "*.onnx"),
                                             recursive=True))
    for p in paths:
        r = describe(p)
        print(f"== {os.path.relpath(p, ROOT)}  {r['size']} bytes  sha256 {r['sha256']}")
        print(f"   IR {r['ir']}, opset {r['opset']}, producer {r['producer']}, "
              f"external data: {r['external']}")
        print(f"   inputs {r['inputs']}  outputs {r['outputs']}")
        print(f"   ops {dict(sorted(r['ops'].items()))}")
        rows = r["rows"]
        kshapes = Counter(tuple(x["shape"][2:]) for x in rows if x["shape"])
        print(f"   Conv {r['ops'].get('Conv', 0)}, ConvTranspose {r['ops'].get('ConvTranspose', 0)};"
              f" weights from {dict(r['where'])}; kernel shapes {dict(kshapes)}")
        dtypes = Counter(x["dtype"] for x in rows)
        print(f"   weight dtypes {dict(dtypes)}; groups>1: {sum(1 for x in rows if x['group'] > 1)};"
              f" auto_pad {dict(Counter(x['auto_pad'] for x in rows))}")
        sc = [x for x in rows if x["S"] is not None]
        if sc:
            s = [x["S"] for x in sc]
            print(f"   S defined for {len(sc)} layers: first {s[0]:.4f} ({sc[0]['name']}, "
                  f"{sc[0]['shape']}), median of the rest "
                  f"{np.median(s[1:]) if len(s) > 1 else float('nan'):.4f}, "
                  f"median all {np.median(s):.4f}, min {min(s):.4f}, max {max(s):.4f}")
        if "-v" in os.environ.get("DESCRIBE", ""):
            for x in rows:
                print(f"     {x['op']:13s} {str(x['shape']):20s} g={x['group']:<4} s={x['strides']} "
                      f"p={x['pads']} ap={x['auto_pad']} S={x['S'] if x['S'] is None else round(x['S'], 4)}")


if __name__ == "__main__":
    main()
