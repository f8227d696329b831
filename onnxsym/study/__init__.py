"""L3, the study: symmetry against consistency across many models — one row per model (the
per-model task, :mod:`.task`), families of re-encodings (:mod:`.families`), correlations and the
paper's pooled per-layer findings over one representative per family (:mod:`.statistics`), a
cache of per-model results (:mod:`.cache`), accuracy from labels (:mod:`.labels`). The models run
on an engine (:mod:`onnxsym.engines`). See :func:`study`."""
from .results import ENTRY_SCHEMA, JSON_SCHEMA, SCHEMA, ModelRow, StudyReport
from .run import list_models, study

__all__ = ["study", "list_models", "StudyReport", "ModelRow", "SCHEMA", "ENTRY_SCHEMA", "JSON_SCHEMA"]
