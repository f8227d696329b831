"""An input size for a model whose spatial size is symbolic, chosen the same way for the padding
diagnosis and the consistency run.

The static dims the model declares are kept. Each symbolic spatial dim becomes the smallest size
of at least :data:`MIN_SIDE` (224) that is a multiple of the network's total stride and at which
strict ONNX shape inference finds no new mismatch (an upsampled branch against its skip
connection). The total stride is read off one inference at a large probe size: the largest factor
by which some layer's input is smaller than the image. The choice is said in one note.
"""
from __future__ import annotations

from dataclasses import dataclass

import onnx

from ..wording import param
from .graph import Graph, is_layer
from .inputs import find_image_inputs, trace_layout
from .shapes import ShapeOracle

MIN_SIDE = 224
_PROBES = (1024, 768, 640, 512)
_MAX_CANDIDATES = 12


@dataclass(frozen=True)
class SizeChoice:
    """The spatial size (H, W) to analyse a model at.

    ``source``: ``"model"`` (static dims) or ``"chosen"`` (some dim was symbolic); ``stride``: the
    network's total stride per axis, when estimated; ``note``: one sentence for a report (empty when
    the model fixes the size)."""

    size: tuple
    source: str
    stride: tuple | None = None
    note: str = ""


def _static(d):
    return d if isinstance(d, int) and d > 0 else None


def choose_input_size(model: onnx.ModelProto, image_name: str | None = None,
                      graph: Graph | None = None) -> SizeChoice | None:
    """The size to analyse the rank-4 image input of ``model`` at (``image_name``: that input;
    default the first one found), or None when the model has no such input."""
    graph = graph if graph is not None else Graph(model)
    images = [im for im in find_image_inputs(model, given_rank=4, graph=graph) if im.rank == 4]
    if image_name is not None:
        images = [im for im in images if im.name == image_name]
    if not images:
        return None
    image = trace_layout(graph, images[0], 4)
    if not image.spatial_axes or image.batch_axis is None:
        return None
    declared = list(image.declared)
    spatial = [_static(declared[a]) for a in image.spatial_axes]
    if all(v is not None for v in spatial):
        return SizeChoice(tuple(spatial), "model")
    oracle = ShapeOracle(model)

    def dims_at(size):
        dims = [_static(d) for d in declared]
        dims[image.batch_axis] = 1
        if dims[image.channel_axis] is None:
            dims[image.channel_axis] = 3
        for ax, v in zip(image.spatial_axes, size):
            dims[ax] = v
        return {image.name: dims}

    stride = _total_stride(oracle, graph, spatial, dims_at)
    axes_stride = [stride[j] if spatial[j] is None else 1 for j in range(2)]
    tried = []  # (size, on the stride grid, problem keys)
    for size, on_grid in _candidates(spatial, axes_stride):
        try:
            _shapes, problems = oracle.infer_checked(dims_at(size), need_shapes=False)
        except Exception:  # noqa: BLE001 - a size inference cannot handle is just skipped
            continue
        keys = frozenset(p.key for p in problems)
        if not keys:
            return SizeChoice(size, "chosen", tuple(stride), _note(image.name, declared, size, stride, on_grid))
        tried.append((size, on_grid, keys))
    if tried:
        # problems found at every size tried are the model's own, not the size's fault
        common = frozenset.intersection(*(k for _, _, k in tried))
        for size, on_grid, keys in tried:
            if keys <= common:
                return SizeChoice(size, "chosen", tuple(stride),
                                  _note(image.name, declared, size, stride, None, problems=sorted(common)))
    size = tuple(v if v is not None else -(-MIN_SIDE // s) * s for v, s in zip(spatial, axes_stride))
    return SizeChoice(size, "chosen", tuple(stride), _note(image.name, declared, size, stride, None))


def _candidates(spatial, axes_stride):
    """Sizes to try, nearest first: multiples of the total stride from :data:`MIN_SIDE` on, then
    the sizes off that grid (a network whose branches only meet at odd sizes)."""
    def at(j, v):
        return spatial[j] if spatial[j] is not None else v

    starts = [-(-MIN_SIDE // s) * s for s in axes_stride]
    for k in range(_MAX_CANDIDATES):
        yield tuple(at(j, starts[j] + k * axes_stride[j]) for j in range(2)), True
    if max(axes_stride) > 1:
        for k in range(1, _MAX_CANDIDATES + 1):
            size = tuple(at(j, MIN_SIDE + k) for j in range(2))
            if any((size[j] - MIN_SIDE) % axes_stride[j] for j in range(2) if spatial[j] is None):
                yield size, False


def _total_stride(oracle, graph, spatial, dims_at) -> list:
    """Per spatial axis, the largest factor by which a strided conv or pool's output is smaller
    than the image (1 where it cannot be told). Outputs under 2 px (a global pool's) say nothing."""
    from .ops import conv_attrs

    layers = [r for r in graph.main_nodes() if is_layer(r.node) and r.node.output
              and any(s > 1 for s in (conv_attrs(r.node).strides or ()))]
    for probe in _PROBES:
        size = tuple(v if v is not None else probe for v in spatial)
        try:
            shapes = oracle.infer(dims_at(size))
        except Exception:  # noqa: BLE001 - try a smaller probe
            continue
        best, seen = [1, 1], False
        for ref in layers:
            dims = shapes.get(ref.node.output[0])
            if not dims or len(dims) != 4 or None in dims[2:]:
                continue
            seen = True
            for j in range(2):
                if spatial[j] is None and dims[2 + j] and dims[2 + j] >= 2:
                    best[j] = max(best[j], int(round(size[j] / dims[2 + j])))
        if seen or not layers:
            return [_power_of_two(b) for b in best]
    return [1, 1]


def _power_of_two(v: int) -> int:
    """Downsampling factors are powers of two in practice; a rounding of 31.7 is 32."""
    p = 1
    while p * 2 <= v * 1.25:
        p *= 2
    return p


def _note(name, declared, size, stride, on_grid, problems=()) -> str:
    """``on_grid``: True (a multiple of the total stride that fits), False (off the grid: no multiple
    tried fits), None (nothing tried fits; ``problems``: the keys of the problems found at every
    size tried)."""
    shown = "×".join(str(d) if _static(d) else "?" for d in declared)
    total = "×".join(map(str, stride))
    if on_grid:
        why = (f"the smallest size ≥ {MIN_SIDE} that is a multiple of the network's total stride ({total}) "
               "at which its shapes fit together")
    elif on_grid is False:
        why = (f"the smallest size ≥ {MIN_SIDE} at which its shapes fit together (no multiple of the "
               f"network's total stride, {total}, does)")
    else:
        why = (f"a multiple of the network's total stride ({total}); no size tried passed strict shape "
               "inference")
        if problems:
            where = ", ".join(f"{op} node {node!r}" if node else f"a {op} node" for op, node, _ in problems[:3])
            why += f" (every size failed at {where})"
    return (f"input {name!r} is {shown} (symbolic spatial size): analysed at {size[0]}×{size[1]}, {why}; "
            f"give {param('input_size')} to choose another")
