"""``analyze_weights``: model file → conv layers → symmetry statistics → a WeightsReport."""
from __future__ import annotations

import os
import time
from dataclasses import asdict, dataclass, field

import numpy as np

from . import __version__
from .layers import ConvLayer, iter_conv_layers
from .symmetry import TERMS_2D, gaussian_baseline, kernel_stats

SCHEMA = "onnxsym.weights/1"


@dataclass
class LayerResult:
    """One conv node's row in the report (``status``: ok, n/a or unresolved)."""

    id: str
    path: str
    op_type: str
    node_name: str
    weight_name: str
    weight_shape: list | None
    kernel_shape: list | None
    strides: list | None
    pads: list | None
    auto_pad: str
    dilations: list | None
    group: int
    depthwise: bool | None
    transposed: bool
    shared_with: list
    shared_count: int
    weight_source: str
    weight_dtype: str
    overridable: bool
    followed_by: str
    status: str
    reason: str
    symmetry: float | None = None
    terms: dict = field(default_factory=dict)
    mean_kernel: list | None = None
    norm: float | None = None
    skew: list | None = None
    coherence: float | None = None
    coherence_random: float | None = None
    per_kernel: dict = field(default_factory=dict)
    baseline: dict = field(default_factory=dict)
    z_vs_baseline: float | None = None


@dataclass
class WeightsSummary:
    """Model-level numbers; medians leave out the first analysed layer and n/a layers."""

    conv_nodes: int
    analysed: int
    not_applicable: int
    one_by_one: int
    unresolved: int
    first_layer: dict | None
    internal: dict
    least_symmetric: list
    baseline: dict
    followed_by_batchnorm: int


@dataclass
class WeightsReport:
    """Everything ``onnxsym weights`` prints; ``to_dict`` gives the ``onnxsym.weights/1`` JSON."""

    model: dict
    summary: WeightsSummary
    layers: list
    timings: dict
    padding: object = None
    schema: str = SCHEMA
    onnxsym_version: str = __version__

    def to_dict(self) -> dict:
        d = {"schema": self.schema, "onnxsym_version": self.onnxsym_version, "model": self.model,
             "summary": asdict(self.summary), "layers": [asdict(r) for r in self.layers],
             "timings": self.timings}
        if self.padding is not None:
            d["padding"] = self.padding.to_dict() if hasattr(self.padding, "to_dict") else self.padding
        return d


def _listify(x):
    return None if x is None else [int(v) for v in x]


def _r(x, nd=6):
    return None if x is None or not np.isfinite(x) else round(float(x), nd)


def layer_result(layer: ConvLayer, per_kernel: bool = True) -> LayerResult:
    """Statistics of one resolved layer (the layer's weight is read here, once)."""
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
    base = gaussian_baseline(tuple(st.kernel_shape))
    row.baseline = {k: (_r(v) if isinstance(v, float) else v) for k, v in base.items()}
    if base.get("sd"):
        row.z_vs_baseline = _r((st.symmetry - base["mean"]) / base["sd"], 3)
    return row


def median_ci(values, level=0.95):
    """Median with a distribution-free CI from order statistics (binomial); None when n < 6."""
    x = np.sort(np.asarray(values, dtype=float))
    n = x.size
    if n == 0:
        return None, None
    med = float(np.median(x))
    if n < 6:
        return med, None
    from math import comb

    alpha = 1 - level
    # largest j with P(Bin(n, 1/2) <= j-1) <= alpha/2 gives the interval [x_(j), x_(n-j+1)]
    cdf, j = 0.0, 0
    for k in range(n):
        p = comb(n, k) / 2 ** n
        if cdf + p > alpha / 2:
            break
        cdf += p
        j = k + 1
    if j == 0:
        return med, None
    return med, [float(x[j - 1]), float(x[n - j])]


def summarize(rows: list) -> WeightsSummary:
    """Model-level summary of the layer rows."""
    ok = [r for r in rows if r.status == "ok"]
    na = [r for r in rows if r.status == "n/a"]
    one = [r for r in na if r.kernel_shape and all(k == 1 for k in r.kernel_shape)]
    unresolved = [r for r in rows if r.status == "unresolved"]
    first = ok[0] if ok else None
    rest = ok[1:]
    med, ci = median_ci([r.symmetry for r in rest])
    base_means = [r.baseline.get("mean") for r in rest if r.baseline.get("mean") is not None]
    base_sds = [r.baseline.get("sd") for r in rest if r.baseline.get("sd") is not None]
    internal = {"n": len(rest), "median_symmetry": _r(med) if med is not None else None,
                "ci95": [_r(v) for v in ci] if ci else None,
                "ci_method": "distribution-free CI of the median (binomial order statistics)",
                "above_baseline": sum(1 for r in rest if r.z_vs_baseline is not None and r.z_vs_baseline > 2)}
    baseline = {"median_mean": _r(float(np.median(base_means))) if base_means else None,
                "median_sd": _r(float(np.median(base_sds))) if base_sds else None,
                "what": "S of i.i.d. Gaussian kernels of each layer's shape (untrained init)"}
    least = sorted(ok, key=lambda r: r.symmetry)[:5]
    return WeightsSummary(
        conv_nodes=len(rows), analysed=len(ok), not_applicable=len(na), one_by_one=len(one),
        unresolved=len(unresolved),
        first_layer={"id": first.id, "symmetry": first.symmetry, "kernel_shape": first.kernel_shape,
                     "baseline": first.baseline} if first else None,
        internal=internal,
        least_symmetric=[{"id": r.id, "symmetry": r.symmetry, "kernel_shape": r.kernel_shape,
                          "strides": r.strides} for r in least],
        baseline=baseline,
        followed_by_batchnorm=sum(1 for r in rows if "BatchNormalization" in r.followed_by.split(",")),
    )


def analyze_weights(model, *, per_kernel: bool = True, input_shape=None, padding: bool = False):
    """Symmetry statistics of every conv weight of ``model``.

    Parameters
    ----------
    model : str, os.PathLike or LoadedModel
        An ONNX file (external data is memory-mapped, never copied) or an already loaded model.
    per_kernel : bool
        Also score every individual kernel W[n, c] (median and quartiles per layer).
    input_shape : str, sequence of int or {input name: shape}, optional
        Input shape(s) for the padding diagnosis, as :func:`onnxsym.padding.analyze_padding` takes
        them (implies ``padding=True``).
    padding : bool
        Attach the padding diagnosis when an input size is known (static or given).

    Returns
    -------
    WeightsReport
    """
    from .loading import LoadedModel, load_model

    t0 = time.perf_counter()
    loaded = model if isinstance(model, LoadedModel) else load_model(model)
    t1 = time.perf_counter()
    rows = []
    for layer in iter_conv_layers(loaded):
        rows.append(layer_result(layer, per_kernel=per_kernel))
        layer.weight = None  # statistics never need the weight again: let it go
        loaded.release_pages()
    t3 = time.perf_counter()
    m = loaded.model
    info = {
        "path": str(loaded.path), "size_bytes": int(loaded.size_bytes),
        "external_bytes": int(getattr(loaded, "external_bytes", 0)),
        "ir_version": int(m.ir_version), "producer": f"{m.producer_name} {m.producer_version}".strip(),
        "opsets": {(o.domain or "ai.onnx"): int(o.version) for o in m.opset_import},
        "notes": list(getattr(loaded, "notes", [])),
    }
    report = WeightsReport(model=info, summary=summarize(rows), layers=rows,
                           timings={"load_s": round(t1 - t0, 4), "layers_s": round(t3 - t1, 4)})
    if padding or input_shape is not None:
        report.padding = _padding_section(loaded, input_shape, rows)
    return report


def layer_skews(model) -> dict:
    """``{layer id: skew}`` of every conv whose mean kernel is defined (no per-kernel pass)."""
    report = analyze_weights(model, per_kernel=False)
    return {r.id: tuple(r.skew) for r in report.layers if r.skew is not None}


def _padding_section(loaded, input_shape, rows):
    """The padding diagnosis with each layer's skew, or None where no input size is known."""
    from .errors import InputError
    from .padding import analyze_padding

    skews = {r.id: tuple(r.skew) for r in rows if r.skew is not None}
    try:
        report = analyze_padding(loaded, input_shape, skews=skews)
    except InputError:
        if input_shape is not None:
            raise
        return None
    except Exception as err:  # a model the padding analysis does not understand: say so, keep the weights
        if os.environ.get("ONNXSYM_DEBUG"):
            raise
        return {"schema": "onnxsym.padding/1",
                "error": f"padding not diagnosed: {type(err).__name__}: {' '.join(str(err).split())[:200]}"}
    if input_shape is None and not (report.input or {}).get("spatial"):
        return None  # symbolic spatial size and none given: nothing to diagnose
    return report
