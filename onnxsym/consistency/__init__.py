"""L2, the consistency measurement: shift and flip consistency of the model's predictions under
onnxruntime, with intervals and the chance level. See :func:`measure` and docs/metric.md."""
from .analysis import measure
from .images import ImageSet, load_images
from .preprocess import PRESETS, InputSpec
from .protocol import auto_max_shift
from .results import SCHEMA, ConsistencyReport
from .runtime import RuntimeSession, create_session

__all__ = ["measure", "ImageSet", "load_images", "PRESETS", "InputSpec", "auto_max_shift", "SCHEMA",
           "ConsistencyReport", "RuntimeSession", "create_session"]
