"""L1, the model core: safe loading (:mod:`.loading`), the one model coercion (:mod:`.source`),
one graph traversal (:mod:`.graph`), op tables and conv attributes (:mod:`.ops`), load-time
values (:mod:`.constants`), the image inputs and their layout (:mod:`.inputs`), and repeatable
shape inference (:mod:`.shapes`). Nothing here knows an analysis."""
from .loading import LoadedModel, load_model, load_model_bytes
from .source import open_model

__all__ = ["LoadedModel", "load_model", "load_model_bytes", "open_model"]
