"""One way into the library for a model: a path, the serialised bytes, an ``onnx.ModelProto`` or
an already :class:`~onnxsym.model.loading.LoadedModel` — every public entry point takes any of
them through :func:`open_model`."""
from __future__ import annotations

import os

import onnx

from ..errors import InputError, ModelError
from .loading import LoadedModel, load_model, load_model_bytes

#: what an entry point accepts as a model, for messages
ACCEPTED = "a path, bytes, an onnx.ModelProto or a LoadedModel"


def open_model(model) -> LoadedModel:
    """``model`` opened once (a LoadedModel is returned as it is).

    A ModelProto is serialised (it must be under protobuf's 2 GB; a larger model is given by its
    path); its external data, if any, cannot be found without a folder and is refused.
    """
    if isinstance(model, LoadedModel):
        return model
    if isinstance(model, onnx.ModelProto):
        try:
            data = model.SerializeToString()
        except (ValueError, RuntimeError) as err:  # protobuf refuses messages over 2 GB
            raise ModelError(f"cannot serialise the ModelProto ({err}); give the model's path") from None
        return load_model_bytes(data)
    if isinstance(model, (bytes, bytearray, memoryview)):
        return load_model_bytes(bytes(model))
    if isinstance(model, (str, os.PathLike)):
        return load_model(model)
    raise InputError(f"expected a model ({ACCEPTED}), got {type(model).__name__}")
