"""The weights report: one row per conv node, the model summary, and the ``onnxsym.weights/1``
document they make (:meth:`WeightsReport.to_dict`, :data:`JSON_SCHEMA`)."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

from .. import __version__
from ..record import Record

SCHEMA = "onnxsym.weights/1"


@dataclass
class LayerResult(Record):
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
    random_init: dict = field(default_factory=dict)   # the random-init band of this kernel shape
    z_vs_random_init: float | None = None


@dataclass
class InternalSummary(Record):
    """The layers after the first: their median S, its distribution-free 95 % interval, and how it
    reads against the random-init band."""

    n: int
    median_symmetry: float | None
    ci95: list | None
    ci_method: str
    above_baseline: int            # layers with z > 2 against their random-init band
    z_vs_random_init: float | None = None   # (median S − the band's median mean) / its median sd
    reading: str = ""              # that z in words ("at the random-init band — ...", ...)


@dataclass
class RandomInitBand(Record):
    """Medians over the internal layers of their random-init band (mean and sd of S)."""

    median_mean: float | None
    median_sd: float | None
    what: str


@dataclass
class FirstLayer(Record):
    id: str
    symmetry: float | None
    kernel_shape: list | None
    random_init: dict


@dataclass
class LayerBrief(Record):
    id: str
    symmetry: float | None
    kernel_shape: list | None
    strides: list | None


@dataclass
class WeightsSummary(Record):
    """Model-level numbers; medians leave out the first analysed layer and n/a layers."""

    conv_nodes: int
    analysed: int
    not_applicable: int
    one_by_one: int
    unresolved: int
    first_layer: FirstLayer | None
    internal: InternalSummary
    least_symmetric: list
    random_init: RandomInitBand
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
             "summary": _v1_names(asdict(self.summary)), "layers": [_v1_names(asdict(r)) for r in self.layers],
             "timings": self.timings}
        if self.padding is not None:  # a PaddingReport, or {"error": ...} when it could not run
            d["padding"] = self.padding if isinstance(self.padding, dict) else self.padding.to_dict()
        return d

    def to_dataframe(self):
        """One row per conv node (``pandas.DataFrame`` indexed by ``id``): the layer's fields, the
        seven terms as ``terms_<name>``, ``per_kernel_median``/``_q1``/``_q3``, ``random_init_mean``/
        ``_sd``, skew as ``skew_down``/``skew_right`` (2-D); the mean kernel itself left out.
        Needs pandas (``pip install 'onnxsym[pandas]'``)."""
        from ..frames import flatten, to_frame

        rows = []
        for layer in self.layers:
            row = flatten(asdict(layer), skip=("mean_kernel", "skew"))
            skew = layer.skew if layer.skew and len(layer.skew) == 2 else (None, None)
            row["skew_down"], row["skew_right"] = skew
            rows.append(row)
        return to_frame(rows, index="id")

    def skews(self) -> dict:
        """``{layer id: skew}`` of every layer whose mean kernel is defined (for the padding lean)."""
        return {r.id: tuple(r.skew) for r in self.layers if r.skew is not None}


#: the keys the random-init band has in an ``onnxsym.weights/1`` document (kept for its readers)
_V1_KEYS = {"random_init": "baseline", "z_vs_random_init": "z_vs_baseline"}


def _v1_names(d):
    if isinstance(d, dict):
        return {_V1_KEYS.get(k, k): _v1_names(v) for k, v in d.items()}
    if isinstance(d, list):
        return [_v1_names(v) for v in d]
    return d


_NUM = {"type": ["number", "null"]}
_INT = {"type": ["integer", "null"]}
_INTS = {"type": ["array", "null"], "items": {"type": "integer"}, "maxItems": 16}
_CI = {"anyOf": [{"type": "null"}, {"type": "array", "items": _NUM, "minItems": 2, "maxItems": 2}]}

#: JSON Schema of the fields of an ``onnxsym.weights/1`` document that onnxsym reads back (a
#: ``--baseline``, a report given to ``compare``), with their types; other fields may be present.
JSON_SCHEMA = {
    "type": "object",
    "required": ["schema", "summary", "layers"],
    "properties": {
        "schema": {"const": SCHEMA},
        "summary": {"type": "object", "required": ["internal"], "properties": {
            "internal": {"type": "object", "properties": {"n": _INT, "median_symmetry": _NUM, "ci95": _CI}}}},
        "layers": {"type": "array", "items": {
            "type": "object",
            "required": ["id", "op_type"],
            "properties": {"id": {"type": "string"}, "op_type": {"type": "string"}, "status": {"type": "string"},
                           "weight_shape": _INTS, "kernel_shape": _INTS, "symmetry": _NUM}}},
    },
}
