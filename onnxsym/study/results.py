"""The study's results: one row per model, the families of re-encodings, the correlations and the
pooled per-layer findings, and the two documents they make: ``onnxsym.study/1`` (the study,
:meth:`StudyReport.to_dict`) and ``onnxsym.study-entry/1`` (one model's row in the cache,
:meth:`ModelRow.to_entry`), with the JSON Schemas of what onnxsym reads back.

A row's numbers depend only on the model file and the settings that change numbers (the cache key,
:mod:`.cache`); its ``timing`` (seconds taken, whether it came from the cache) is the only part that
differs between two runs of the same study, so rows are compared without it.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields

import numpy as np

from .. import __version__

SCHEMA = "onnxsym.study/1"
ENTRY_SCHEMA = "onnxsym.study-entry/1"

#: a row's ``status``: every part measured / the weights measured, a later part failed / nothing measured
STATUSES = ("ok", "partial", "failed")


@dataclass
class ModelRow:
    """One model of the study (``status`` ok, partial or failed; ``error`` says why when not ok).

    ``first_layer`` {id, symmetry, kernel_shape, random_init {mean, sd}}; ``internal`` {n,
    median_symmetry, ci95, random_init_median, z_median}; ``by_kernel`` {"3×3": {n, median_symmetry,
    random_init_mean}}; ``shift`` {consistency, ci95, pairs}; ``flip`` {consistency, ci95, images};
    ``accuracy`` {top1, correct, labelled}; ``layers``: per analysed conv, {id, index (conv node
    index), depth (index / (conv nodes − 1)), symmetry, kernel_shape, stride, uneven (strided and
    unevenly padded at the input size; null: not known), random_mean, random_sd}.
    ``fingerprint`` (per analysed layer: op_type, weight_shape and the normalised mean kernel) and
    ``top1`` ({image name: centre-crop class}) live in the cache entry, not in the study document.
    """

    id: str
    path: str
    status: str = "ok"
    error: str | None = None
    error_stage: str | None = None      # model | weights | consistency | internal
    error_code: int | None = None
    sha256: str | None = None
    size_bytes: int | None = None
    external_bytes: int | None = None
    producer: str | None = None
    encoding: str | None = None         # float32 | float16 | bfloat16 | float64 | quantized | mixed
    conv_nodes: int | None = None
    analysed: int | None = None
    first_layer: dict | None = None
    internal: dict | None = None
    by_kernel: dict = field(default_factory=dict)
    input_size: list | None = None
    input_size_source: str | None = None  # model | chosen | input_size
    strided_layers: int | None = None
    uneven_strided: int | None = None   # null: the padding at the input size is not known
    metric: str | None = None           # top1_agreement | pixel_top1_agreement | cosine_similarity
    output_kind: str | None = None      # classifier | spatial | vector
    shift: dict | None = None
    flip: dict | None = None
    chance: float | None = None
    images: int | None = None
    accuracy: dict | None = None
    provider: str | None = None
    layers: list = field(default_factory=list)
    family: str | None = None
    representative: bool = False
    notes: list = field(default_factory=list)
    seconds: float | None = None
    cached: bool = False
    fingerprint: list = field(default_factory=list, repr=False)
    top1: dict = field(default_factory=dict, repr=False)
    external: list = field(default_factory=list, repr=False)   # [{file, sha256}] external data

    #: fields kept in the cache entry only, and the run-dependent ones
    ENTRY_ONLY = ("fingerprint", "top1", "external")
    TIMING = ("seconds", "cached")

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def median_symmetry(self):
        return (self.internal or {}).get("median_symmetry")

    def consistency(self, measure: str):
        """The shift or flip consistency (None when not measured)."""
        part = self.shift if measure == "shift" else self.flip
        return (part or {}).get("consistency")

    def to_dict(self) -> dict:
        """The row in the ``onnxsym.study/1`` document; ``timing`` {seconds, cached} is the only
        part that differs between two runs of the same study."""
        d = {f.name: getattr(self, f.name) for f in fields(self)
             if f.name not in self.ENTRY_ONLY and f.name not in self.TIMING}
        d["timing"] = {"seconds": self.seconds, "cached": self.cached}
        return clean(d)

    def to_entry(self, key: dict) -> dict:
        """The ``onnxsym.study-entry/1`` cache document: the row as measured (no family, no
        accuracy: those depend on the other models and the labels), its fingerprint and per-image
        top-1, the cache key and the external data files' digests."""
        row = {f.name: getattr(self, f.name) for f in fields(self)
               if f.name not in self.ENTRY_ONLY and f.name not in ("family", "representative", "accuracy",
                                                                    "cached")}
        return clean({"schema": ENTRY_SCHEMA, "onnxsym_version": __version__, "key": key,
                      "external": self.external, "row": row, "fingerprint": self.fingerprint, "top1": self.top1})

    @classmethod
    def from_entry(cls, entry: dict) -> "ModelRow":
        """The row of a cache entry (already validated against :data:`ENTRY_JSON_SCHEMA`)."""
        names = {f.name for f in fields(cls)}
        row = cls(**{k: v for k, v in entry["row"].items() if k in names})
        row.fingerprint = list(entry.get("fingerprint") or [])
        row.top1 = dict(entry.get("top1") or {})
        row.external = list(entry.get("external") or [])
        row.cached = True
        return row


@dataclass
class Family:
    """Models whose matched, normalised mean kernels agree within the threshold (:mod:`.families`)."""

    id: str                      # F1, F2 … in the order of their first member's id
    members: list
    representative: str | None   # the member the statistics use
    encodings: dict              # {member id: encoding}
    max_distance: float | None   # the largest per-layer distance between two grouped members
    min_coverage: float | None   # the smallest share of layers matched between two grouped members

    def to_dict(self) -> dict:
        return clean(asdict(self))


@dataclass
class Statistic:
    """One estimate with its 95 % interval and p-value (``value`` None when not computed)."""

    name: str                    # spearman | kendall | partial_spearman | mean_difference | …
    n: int
    value: float | None = None
    ci95: list | None = None
    p_value: float | None = None
    ci_method: str = ""
    p_method: str = ""
    note: str = ""

    def to_dict(self) -> dict:
        return clean(asdict(self))


@dataclass
class CorrelationSet:
    """Internal median S against shift and flip consistency over the families' representatives of
    one metric kind (kinds are never mixed)."""

    metric: str
    families: int                # representatives with numbers of this kind
    representatives: list
    meaningful: bool
    reason: str                  # why not meaningful ("" when it is)
    correlations: dict           # {"shift": [Statistic…], "flip": [Statistic…]}

    def to_dict(self) -> dict:
        return clean({"metric": self.metric, "families": self.families, "representatives": self.representatives,
                      "meaningful": self.meaningful, "reason": self.reason,
                      "correlations": {k: [s.to_dict() for s in v] for k, v in self.correlations.items()}})


@dataclass
class Finding:
    """A pooled per-layer finding of the paper: one value per representative model (``per_model``),
    their mean with an interval and a sign-flip permutation p-value."""

    name: str                    # internal_vs_first | trained_vs_random | uneven_vs_other | depth
    question: str                # one sentence: what is compared
    per_model: dict              # {model id: the model's value}
    statistic: Statistic
    meaningful: bool
    reason: str = ""
    extra: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return clean({"name": self.name, "question": self.question, "per_model": self.per_model,
                      "statistic": self.statistic.to_dict(), "meaningful": self.meaningful,
                      "reason": self.reason, **self.extra})


@dataclass
class StudyReport:
    """Everything ``onnxsym study`` prints; ``to_dict`` gives the ``onnxsym.study/1`` JSON.

    ``exit_code``: 0 when every row is ok, 2 when some model failed (its row says why)."""

    settings: dict
    rows: list
    families: list
    correlations: list
    findings: list
    skipped: list                # [{path, reason}] files in a folder that are not .onnx
    notes: list
    computed: list               # ids measured in this run
    from_cache: list             # ids read from the cache
    seconds: float
    schema: str = SCHEMA
    onnxsym_version: str = __version__

    @property
    def failed(self) -> list:
        return [r for r in self.rows if not r.ok]

    @property
    def exit_code(self) -> int:
        return 2 if self.failed else 0

    def row(self, model_id: str) -> ModelRow:
        return next(r for r in self.rows if r.id == model_id)

    def to_dict(self) -> dict:
        return clean({
            "schema": self.schema, "onnxsym_version": self.onnxsym_version, "settings": self.settings,
            "models": len(self.rows), "failed": len(self.failed),
            "rows": [r.to_dict() for r in self.rows],
            "families": [f.to_dict() for f in self.families],
            "correlations": [c.to_dict() for c in self.correlations],
            "findings": [f.to_dict() for f in self.findings],
            "skipped": self.skipped, "notes": self.notes,
            "timing": {"seconds": self.seconds, "computed": self.computed, "from_cache": self.from_cache},
        })


def clean(x):
    """JSON-ready: tuples as lists, numpy values as Python ones, non-finite floats as null, floats
    rounded to 6 decimals."""
    if isinstance(x, np.generic):
        x = x.item()
    elif isinstance(x, np.ndarray):
        x = x.tolist()
    if isinstance(x, float):
        return round(x, 6) if math.isfinite(x) else None
    if isinstance(x, dict):
        return {str(k): clean(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [clean(v) for v in x]
    return x


_NUM = {"type": ["number", "null"]}
_INT = {"type": ["integer", "null"]}
_STR = {"type": ["string", "null"]}
_CI = {"anyOf": [{"type": "null"}, {"type": "array", "items": _NUM, "minItems": 2, "maxItems": 2}]}
_OBJ = {"type": ["object", "null"]}
_PART = {"type": ["object", "null"], "properties": {"consistency": _NUM, "ci95": _CI}}
_LAYER = {"type": "object", "required": ["id", "symmetry", "depth"],
          "properties": {"id": {"type": "string"}, "index": _INT, "depth": _NUM, "symmetry": _NUM,
                         "stride": _INT, "uneven": {"type": ["boolean", "null"]}, "random_mean": _NUM,
                         "random_sd": _NUM, "kernel_shape": {"type": ["array", "null"], "items": {"type": "integer"}}}}
_ROW = {
    "type": "object",
    "required": ["id", "path", "status", "internal", "shift", "flip", "metric", "layers"],
    "properties": {
        "id": {"type": "string"}, "path": {"type": "string"}, "status": {"enum": list(STATUSES)},
        "error": _STR, "error_stage": _STR, "error_code": _INT, "sha256": _STR, "size_bytes": _INT,
        "external_bytes": _INT, "producer": _STR, "encoding": _STR, "conv_nodes": _INT, "analysed": _INT,
        "first_layer": {"type": ["object", "null"], "properties": {"symmetry": _NUM, "id": _STR}},
        "internal": {"type": ["object", "null"], "properties": {"n": _INT, "median_symmetry": _NUM, "ci95": _CI}},
        "by_kernel": {"type": "object", "additionalProperties": {"type": "object", "properties": {
            "n": _INT, "median_symmetry": _NUM}}},
        "input_size": {"type": ["array", "null"], "items": {"type": "integer"}, "maxItems": 3},
        "input_size_source": _STR, "strided_layers": _INT, "uneven_strided": _INT, "metric": _STR,
        "output_kind": _STR, "shift": _PART, "flip": _PART, "chance": _NUM, "images": _INT,
        "provider": _STR, "layers": {"type": "array", "items": _LAYER},
        "notes": {"type": "array", "items": {"type": "string"}}, "seconds": _NUM,
    },
}

#: JSON Schema of an ``onnxsym.study-entry/1`` cache document: every field the study reads back,
#: with its type (an entry that does not fit is recomputed).
ENTRY_JSON_SCHEMA = {
    "type": "object",
    "required": ["schema", "key", "external", "row", "fingerprint", "top1"],
    "properties": {
        "schema": {"const": ENTRY_SCHEMA},
        "key": {"type": "object"},
        "external": {"type": "array", "items": {"type": "object", "required": ["file", "sha256"], "properties": {
            "file": {"type": "string"}, "sha256": {"type": "string"}}}},
        "row": _ROW,
        "fingerprint": {"type": "array", "items": {"type": "object", "required": ["op_type", "weight_shape", "kernel"],
                                                   "properties": {"op_type": {"type": "string"},
                                                                  "weight_shape": {"type": "array"},
                                                                  "kernel": {"type": "array", "items": _NUM}}}},
        "top1": {"type": "object", "additionalProperties": _INT},
    },
}

_STAT = {"type": "object", "required": ["name", "n", "value", "ci95", "p_value"],
         "properties": {"name": {"type": "string"}, "n": {"type": "integer"}, "value": _NUM, "ci95": _CI,
                        "p_value": _NUM}}

#: JSON Schema of the fields of an ``onnxsym.study/1`` document, with their types.
JSON_SCHEMA = {
    "type": "object",
    "required": ["schema", "settings", "rows", "families", "correlations", "findings"],
    "properties": {
        "schema": {"const": SCHEMA},
        "settings": {"type": "object"},
        "rows": {"type": "array", "items": {**_ROW, "required": _ROW["required"] + ["family", "timing"],
                                            "properties": {**_ROW["properties"], "family": _STR,
                                                           "representative": {"type": "boolean"},
                                                           "accuracy": {"type": ["object", "null"], "properties": {
                                                               "top1": _NUM, "labelled": _INT}}}}},
        "families": {"type": "array", "items": {"type": "object", "required": ["id", "members", "representative"]}},
        "correlations": {"type": "array", "items": {"type": "object", "required": ["metric", "meaningful",
                                                                                   "correlations"],
                                                    "properties": {"metric": {"type": "string"},
                                                                   "families": {"type": "integer"},
                                                                   "meaningful": {"type": "boolean"},
                                                                   "correlations": {"type": "object",
                                                                                    "additionalProperties": {
                                                                                        "type": "array",
                                                                                        "items": _STAT}}}}},
        "findings": {"type": "array", "items": {"type": "object", "required": ["name", "statistic", "meaningful"],
                                                "properties": {"statistic": _STAT}}},
    },
}
