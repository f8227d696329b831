"""The ops onnxsym analyses and their attributes, read once.

* :data:`CONV_OPS` — conv-like ops, ``(domain, op_type)`` → index of the weight input;
  :data:`POOL_OPS`; :data:`LAYER_OPS` (convs and pools whose padding is diagnosed: the conv table
  less :data:`CHANNELS_LAST_OPS`, whose input may be channels-last).
* :func:`conv_attrs` — the spatial attributes of a conv or pool node (kernel_shape, strides, pads,
  dilations, group, auto_pad, ceil_mode, output_padding), each checked for its type: the weights
  and the padding analyses read the same values the same way.
"""
from __future__ import annotations

from dataclasses import dataclass

import onnx

#: conv-like ops, (domain, op_type) → index of the weight input; "" is the default domain
CONV_OPS = {
    ("", "Conv"): 1,
    ("", "ConvTranspose"): 1,
    ("", "DeformConv"): 1,
    ("", "QLinearConv"): 3,
    ("", "ConvInteger"): 1,
    ("com.microsoft", "FusedConv"): 1,
    ("com.microsoft", "QLinearConv"): 3,
}
#: conv-like ops whose input may be channels-last: weights are analysed, padding is not diagnosed
CHANNELS_LAST_OPS = {("com.microsoft", "QLinearConv")}
POOL_OPS = {("", "MaxPool"), ("", "AveragePool"), ("", "LpPool")}
#: convs whose padding is diagnosed, and every layer (conv or pool) of the padding analysis
PADDED_CONV_OPS = {k: v for k, v in CONV_OPS.items() if k not in CHANNELS_LAST_OPS}
LAYER_OPS = set(PADDED_CONV_OPS) | POOL_OPS
AUTO_PADS = ("NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID")


def op_key(node: onnx.NodeProto) -> tuple:
    """``(domain, op_type)`` with the default domain as "" (also when written "ai.onnx")."""
    return (node.domain if node.domain != "ai.onnx" else "", node.op_type)


def op_name(key: tuple) -> str:
    """``op_type`` for the default domain, ``domain.op_type`` otherwise (as reports show it)."""
    return key[1] if not key[0] else f"{key[0]}.{key[1]}"


def conv_op_names() -> str:
    """The conv-like ops, as a message lists them: ``Conv, ConvTranspose, …``."""
    return ", ".join(dict.fromkeys(k[1] for k in CONV_OPS))


def node_attrs(node: onnx.NodeProto) -> dict:
    """Attribute values by name. An attribute that cannot be read (e.g. a reference to a function
    attribute outside a function) is left out: callers treat it as absent."""
    out = {}
    for a in node.attribute:
        try:
            out[a.name] = onnx.helper.get_attribute_value(a)
        except Exception:  # malformed attribute
            continue
    return out


def attr_text(value) -> str:
    """A string attribute as text (undecodable bytes replaced, never an exception)."""
    return value.decode("utf-8", errors="replace") if isinstance(value, bytes) else str(value)


def int_list(attrs: dict, name: str):
    """An ints attribute as a list, None when absent; ValueError when it has another type."""
    if name not in attrs:
        return None
    v = attrs[name]
    if not isinstance(v, (list, tuple)) or not all(isinstance(x, int) for x in v):
        raise ValueError(f"attribute {name} is not a list of integers ({v!r:.40})")
    return list(v)


@dataclass(frozen=True)
class ConvAttrs:
    """The spatial attributes of a conv or pool node as written (None where absent).

    ``errors`` maps an attribute that has the wrong type (or, for ``auto_pad``, an unknown value)
    to the reason; its value is then None. An analysis checks the attributes it reads
    (:meth:`error`): the weights do not need ``auto_pad`` or ``output_padding``, the padding does.
    """

    kernel_shape: tuple | None
    strides: tuple | None
    pads: tuple | None
    dilations: tuple | None
    output_padding: tuple | None
    group: int
    auto_pad: str
    ceil_mode: bool
    errors: dict

    GEOMETRY = ("kernel_shape", "strides", "pads", "dilations", "group")

    def error(self, names=None) -> str:
        """The first problem among ``names`` (all attributes when None), or ""."""
        for name, why in self.errors.items():
            if names is None or name in names:
                return why
        return ""


def conv_attrs(node: onnx.NodeProto) -> ConvAttrs:
    """Read the spatial attributes of ``node`` once, checking their types."""
    a = node_attrs(node)
    ints, errors = {}, {}
    for name in ("kernel_shape", "strides", "pads", "dilations", "output_padding"):
        try:
            v = int_list(a, name)
            ints[name] = None if v is None else tuple(v)
        except ValueError as err:
            ints[name], errors[name] = None, str(err)
    group = a.get("group", 1)
    if not isinstance(group, int) or isinstance(group, bool):
        errors["group"] = f"attribute group is not an integer ({group!r:.40})"
        group = 1
    auto = attr_text(a.get("auto_pad", "NOTSET")) or "NOTSET"
    if auto not in AUTO_PADS:
        errors["auto_pad"] = f"unknown auto_pad {auto!r}"
    ceil = a.get("ceil_mode", 0)
    return ConvAttrs(kernel_shape=ints["kernel_shape"], strides=ints["strides"], pads=ints["pads"],
                     dilations=ints["dilations"], output_padding=ints["output_padding"], group=group,
                     auto_pad=auto, ceil_mode=bool(ceil) if isinstance(ceil, int) else False, errors=errors)
