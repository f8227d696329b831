"""``analyze`` (the weights part of the public ``onnxsym.analyze_weights``): model → conv layers →
symmetry statistics → a :class:`~onnxsym.weights.results.WeightsReport`."""
from __future__ import annotations

import time

import numpy as np

from ..model.source import open_model
from ..stats import median_ci
from .layers import ConvLayer, iter_conv_layers
from .random_init import random_init
from .results import (FirstLayer, InternalSummary, LayerBrief, LayerResult, RandomInitBand, WeightsReport,
                      WeightsSummary)
from .symmetry import TERMS_2D, kernel_stats


def _listify(x):
    return None if x is None else [int(v) for v in x]


def _r(x, nd=6):
    return None if x is None or not np.isfinite(x) else round(float(x), nd)


def layer_result(layer: ConvLayer, per_kernel: bool = True, with_random_init: bool = True) -> LayerResult:
    """Statistics of one resolved layer (the layer's weight is read here, once);
    ``with_random_init=False`` leaves out the random-init band (and z)."""
    row = LayerResult(
        id=layer.id, path=layer.path, op_type=layer.op_type, node_name=layer.node_name,
        weight_name=layer.weight_name, weight_shape=_listify(layer.weight_shape),
        kernel_shape=_listify(layer.kernel_shape), strides=_listify(layer.strides),
        pads=_listify(layer.pads), auto_pad=layer.auto_pad, dilations=_listify(layer.dilations),
        group=layer.group, depthwise=layer.depthwise, transposed=layer.transposed,
        shared_with=list(layer.shared_with), shared_count=layer.shared_count, weight_source=layer.weight_source,
        weight_dtype=layer.weight_dtype, overridable=layer.overridable,
        followed_by=layer.followed_by, status=layer.status, reason=layer.reason,
    )
    if layer.status != "ok" or layer.weight is None:
        return row
    st = kernel_stats(layer.weight, per_kernel=per_kernel)
    mk = np.round(st.mean_kernel, 9).astype(object)
    mk[~np.isfinite(st.mean_kernel)] = None  # JSON has no NaN: a non-finite cell is null
    row.mean_kernel = mk.tolist()
    row.norm = _r(st.norm, 9)
    row.coherence_random = _r(st.coherence_random)
    if st.symmetry is None:
        row.status, row.reason = "n/a", st.reason
        return row
    row.symmetry = _r(st.symmetry)
    # the seven 2-D names are always present (null where they do not apply), then any 1-D/3-D terms
    row.terms = {name: None for name in TERMS_2D}
    row.terms.update({k: _r(v) for k, v in st.terms.items()})
    row.skew = [_r(v) for v in st.skew] if st.skew is not None else None
    row.coherence = _r(st.coherence)
    row.per_kernel = {k: (_r(v) if isinstance(v, float) else v) for k, v in st.per_kernel.items()}
    if not with_random_init:
        return row
    base = random_init(tuple(st.kernel_shape))
    row.random_init = {k: (_r(v) if isinstance(v, float) else v) for k, v in base.items()}
    if base.get("sd"):
        row.z_vs_random_init = _r((st.symmetry - base["mean"]) / base["sd"], 3)
    return row


def summarize(rows: list) -> WeightsSummary:
    """Model-level summary of the layer rows."""
    ok = [r for r in rows if r.status == "ok"]
    na = [r for r in rows if r.status == "n/a"]
    one = [r for r in na if r.kernel_shape and all(k == 1 for k in r.kernel_shape)]
    unresolved = [r for r in rows if r.status == "unresolved"]
    first = ok[0] if ok else None
    rest = ok[1:]
    med, ci = median_ci([r.symmetry for r in rest])
    base_means = [r.random_init.get("mean") for r in rest if r.random_init.get("mean") is not None]
    base_sds = [r.random_init.get("sd") for r in rest if r.random_init.get("sd") is not None]
    band = RandomInitBand(median_mean=_r(float(np.median(base_means))) if base_means else None,
                          median_sd=_r(float(np.median(base_sds))) if base_sds else None,
                          what="S of i.i.d. Gaussian kernels of each layer's shape (untrained init)")
    internal = InternalSummary(
        n=len(rest), median_symmetry=_r(med) if med is not None else None,
        ci95=[_r(v) for v in ci] if ci else None,
        ci_method="distribution-free CI of the median (binomial order statistics)",
        above_baseline=sum(1 for r in rest if r.z_vs_random_init is not None and r.z_vs_random_init > 2))
    internal.z_vs_random_init, internal.reading = random_init_reading(internal.median_symmetry, band)
    least = sorted(ok, key=lambda r: r.symmetry)[:5]
    return WeightsSummary(
        conv_nodes=len(rows), analysed=len(ok), not_applicable=len(na), one_by_one=len(one),
        unresolved=len(unresolved),
        first_layer=FirstLayer(first.id, first.symmetry, first.kernel_shape, first.random_init) if first else None,
        internal=internal,
        least_symmetric=[LayerBrief(r.id, r.symmetry, r.kernel_shape, r.strides) for r in least],
        random_init=band,
        followed_by_batchnorm=sum(1 for r in rows if "BatchNormalization" in r.followed_by.split(",")),
    )


def random_init_reading(median, band) -> tuple:
    """(z, words) for an internal median S against the random-init band: below z 1 it is at the
    random-init band (typical of untrained weights), below 2 barely above it, else above it; at
    z −2 or less it is below the band (more asymmetric than random kernels)."""
    if median is None or band.median_mean is None or not band.median_sd:
        return None, ""
    z = (median - band.median_mean) / band.median_sd
    if z <= -2:
        return round(z, 3), "below the random-init band — more asymmetric than random kernels"
    if z < 1:
        return round(z, 3), "at the random-init band — these weights look untrained"
    if z < 2:
        return round(z, 3), "barely above the random-init band"
    return round(z, 3), "above the random-init band"


def analyze(model, *, per_kernel: bool = True, progress=None) -> WeightsReport:
    """Symmetry statistics of every conv weight of ``model``.

    Parameters
    ----------
    model : path, bytes, onnx.ModelProto or LoadedModel
        External data is memory-mapped, never copied; a LoadedModel is used as it is.
    per_kernel : bool
        Also score every individual kernel W[n, c] (median and quartiles per layer).
    progress : callable(done, total), optional
        Called after each layer.

    Returns
    -------
    WeightsReport
    """
    t0 = time.perf_counter()
    loaded = open_model(model)
    t1 = time.perf_counter()
    rows = []
    layers = iter_conv_layers(loaded)
    for layer in layers:
        rows.append(layer_result(layer, per_kernel=per_kernel))
        layer.weight = None  # statistics never need the weight again: let it go
        loaded.release_pages()
        if progress is not None:
            progress(len(rows), layers.total)
    t3 = time.perf_counter()
    m = loaded.model
    info = {
        "path": loaded.label, "size_bytes": int(loaded.size_bytes), "external_bytes": int(loaded.external_bytes),
        "ir_version": int(m.ir_version), "producer": f"{m.producer_name} {m.producer_version}".strip(),
        "opsets": {(o.domain or "ai.onnx"): int(o.version) for o in m.opset_import},
        "notes": list(loaded.notes),
    }
    return WeightsReport(model=info, summary=summarize(rows), layers=rows,
                         timings={"load_s": round(t1 - t0, 4), "layers_s": round(t3 - t1, 4)})


def layer_skews(model) -> dict:
    """``{layer id: skew}`` of every conv whose mean kernel is defined: one pass over the weights
    without the per-kernel scores or the random-init band (what the padding lean needs)."""
    loaded = open_model(model)
    out = {}
    for layer in iter_conv_layers(loaded):
        row = layer_result(layer, per_kernel=False, with_random_init=False)
        layer.weight = None
        loaded.release_pages()
        if row.skew is not None:
            out[row.id] = tuple(row.skew)
    return out
