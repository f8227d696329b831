"""Extra model inputs besides the image (a sequence length, a scale, a mask), given by the caller
as arrays or numbers, checked against the model and converted to each input's dtype."""
from __future__ import annotations

import numpy as np

from ..errors import InputError
from ..wording import param_item
from .preprocess import InputSpec

_ORT_NUMPY = {"tensor(float)": np.float32, "tensor(float16)": np.float16, "tensor(double)": np.float64,
              "tensor(int64)": np.int64, "tensor(int32)": np.int32, "tensor(int16)": np.int16,
              "tensor(int8)": np.int8, "tensor(uint8)": np.uint8, "tensor(uint16)": np.uint16,
              "tensor(uint32)": np.uint32, "tensor(uint64)": np.uint64, "tensor(bool)": np.bool_}


def prepare_feeds(feeds: dict, inputs, spec: InputSpec) -> tuple[dict, set, list]:
    """Check the caller's extra inputs against the model; convert to the input's dtype.

    Returns (arrays by name, names to broadcast over the batch, notes). A number becomes an array
    of the input's shape (symbolic dims 1). An array whose first dimension is 1 is repeated over
    the batch when that input has a batch dimension (the image input's symbolic batch dim, or its
    fixed batch size)."""
    by_name = {i.name: i for i in inputs}
    out, broadcast, notes = {}, set(), []
    img = by_name[spec.name]
    img_batch = img.shape[0] if img.shape else None
    for name, value in feeds.items():
        if name == spec.name:
            raise InputError(f"{param_item('feeds', name)}: that is the image input; it cannot be fed")
        if name not in by_name:
            raise InputError(f"{param_item('feeds', name)}: the model has no input {name!r} (inputs: "
                             f"{', '.join(by_name)})")
        arg = by_name[name]
        dtype = _ORT_NUMPY.get(arg.type)
        if dtype is None:
            raise InputError(f"{param_item('feeds', name)}: input type {arg.type} is not supported")
        shape = list(arg.shape) if arg.shape is not None else None
        try:
            if np.isscalar(value) or (isinstance(value, np.ndarray) and value.ndim == 0 and shape):
                full = [d if isinstance(d, int) and d > 0 else 1 for d in (shape or [])]
                arr = np.full(full, value, dtype=dtype)
            else:
                arr = np.asarray(value)
                if arr.dtype.kind not in "biuf":
                    raise InputError(f"{param_item('feeds', name)}: array dtype {arr.dtype} is not numeric")
                arr = arr.astype(dtype)
        except (TypeError, ValueError, OverflowError) as err:
            raise InputError(f"{param_item('feeds', name)}: cannot convert to {np.dtype(dtype).name}: {err}") from None
        if shape is not None:
            if arr.ndim != len(shape):
                raise InputError(f"{param_item('feeds', name)}: shape {list(arr.shape)} does not match the model's "
                                 f"input {name!r} {shape} (rank {len(shape)})")
            batched = bool(shape) and img_batch is not None and (
                shape[0] == img_batch if not (isinstance(img_batch, int) and img_batch > 0)
                else shape[0] == img_batch and img_batch > 1)
            for k, (got, want) in enumerate(zip(arr.shape, shape)):
                if k == 0 and batched and got == 1:
                    continue  # one row, repeated over the batch
                if isinstance(want, int) and want > 0 and got != want:
                    raise InputError(f"{param_item('feeds', name)}: shape {list(arr.shape)} does not match the "
                                     f"model's input {name!r} {shape}")
            if batched and arr.shape[0] == 1 and arr.shape[0] != shape[0]:
                broadcast.add(name)
                notes.append(f"{param_item('feeds', name)}: one row, repeated over the batch")
            elif batched and not (isinstance(img_batch, int) and img_batch > 0):
                raise InputError(f"{param_item('feeds', name)}: shape {list(arr.shape)}: the input has the batch "
                                 f"dimension {shape[0]!r}; give one row ([1, ...]) to repeat over the batch")
        # not np.ascontiguousarray: it makes a rank-0 input's value 1-D
        out[name] = arr if arr.flags.c_contiguous else arr.copy(order="C")
    return out, broadcast, notes
