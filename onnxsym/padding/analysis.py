"""``analyze`` (the public ``onnxsym.analyze_padding``): the padding diagnosis of a model at one
input size — which conv and pool pads unevenly, which way, whether its mean kernel leans toward
the padded side, and the input sizes near the nominal one that pad every strided layer evenly.

The steps, in order: find the image inputs and the dims to analyse (:func:`_image_inputs`);
name what is unknown (:func:`_unknown_sizes`); run shape inference once at those dims
(:func:`_infer`); one row per layer (:func:`_rows`); the lean from the skews given; the size
search (:mod:`.search`) per group of image inputs.
"""
from __future__ import annotations

from collections.abc import Mapping

from ..errors import InputError
from ..model.graph import Graph, is_layer
from ..model.inputs import apply_layout, describe_inputs, find_image_inputs, trace_layout
from ..model.shapes import ShapeOracle
from ..model.sizes import choose_input_size
from ..model.source import open_model
from ..parsing import parse_input_shapes, parse_range, parse_size
from ..wording import param
from .arithmetic import absorb_explicit_pad, layer_row, resolve_static, spec_of
from .lean import attach_skews
from .results import PaddingReport, PaddingSummary
from .search import suggest as search_sizes
from .summary import at_text, summarize


def analyze(model, input_shape=None, *, input_size=None, skews=None, suggest: bool = True, size_range=None,
            layout: str | None = None, progress=None) -> PaddingReport:
    """Effective padding of every conv and pool of ``model`` at one input size.

    Parameters
    ----------
    model : path, bytes, onnx.ModelProto or LoadedModel
    input_shape : str, sequence of int or mapping, optional
        The image input's shape as the model declares it (``"1x3x224x224"``; NHWC models
        ``"1x224x224x3"``), or its spatial sizes only (``"224x224"``) when the layout is known.
        Models with several image inputs: this is the first one's shape (others whose declared
        dims share its symbolic names follow it), or per input ``{"a": "1x3x64x64", ...}`` /
        ``"a=1x3x64x64;b=1x3x32x32"``.
        Default: the declared shape, with a symbolic batch dim taken as 1; a symbolic spatial size
        is chosen (:func:`onnxsym.model.sizes.choose_input_size`, said in a note).
    input_size : int, "HxW" or (H, W), optional
        The spatial size of the image input(s), when ``input_shape`` is not given.
    skews : mapping, optional
        ``{layer id: (down, right)}``, each conv's mean-kernel skew (``WeightsReport.skews()``):
        with it, each unevenly padded conv says whether it leans toward its padded side.
    suggest : bool
        Search input sizes that pad every strided layer evenly. Image inputs of equal size are
        varied together; each other input is searched on its own, the rest at their size.
        Candidates at which strict ONNX shape inference finds shapes that do not fit together
        (an upsampled branch added to a skip connection of another size, …) are rejected.
    size_range : (lo, hi) or "lo:hi", optional
        Sizes to search (inclusive) for the first image input; default nominal ± 32.
    layout : str, optional
        ``"NCHW"``/``"NHWC"``… when the graph does not show it.
    progress : callable(done, total), optional
        Called as the size search goes.

    Raises
    ------
    InputError
        Unparsable or non-positive shape, rank mismatch, channel mismatch, no image input.
    """
    if skews is not None and not isinstance(skews, Mapping):
        raise InputError(f"{param('skews')} must be a mapping {{layer id: (down, right)}} "
                         f"(WeightsReport.skews()), not {type(skews).__name__}")
    loaded = open_model(model)
    proto = loaded.model
    rng = parse_range(size_range)
    given_as = "input_shape" if input_shape is not None else "input_size"
    if input_shape is None and input_size is not None:
        input_shape = parse_size(input_size)  # (H, W): the spatial dims of the image input
    given = parse_input_shapes(input_shape)
    model_info = {"path": str(loaded.path) if loaded.path is not None else None,
                  "producer": f"{proto.producer_name} {proto.producer_version}".strip() or None}
    graph = Graph(proto)
    refs = [r for r in graph.nodes if is_layer(r.node)]
    if not refs:
        return PaddingReport(model=model_info, input={}, layers=[], summary=PaddingSummary(),
                             summary_line="no convolutions or pools", notes=["the model has no conv or pool"])
    notes: list[str] = []
    size_from = given_as if given.given else "model"
    if not given.given and layout is None:
        choice = choose_input_size(proto, graph=graph)
        if choice is not None and choice.source == "chosen":
            given = parse_input_shapes(choice.size)
            notes.append(choice.note)
            size_from = "chosen"
    images, all_dims, infos = _image_inputs(proto, graph, given, layout, notes)
    for info in infos:
        info["size_from"] = size_from
    oracle = ShapeOracle(proto)
    any_unknown = _unknown_sizes(images, all_dims, infos, oracle, proto, notes)
    shapes, accepted = _infer(oracle, images, all_dims, infos, any_unknown, notes)
    specs, rows, statics = _rows(proto, graph, refs, images, shapes, any_unknown, oracle.values)
    _fixed_size_notes(images, all_dims, notes)
    attach_skews(rows, skews)
    summary, line = summarize(rows, infos, bool(skews))
    report = PaddingReport(model=model_info, input=infos[0], layers=rows, summary=summary, summary_line=line,
                           notes=notes, inputs=infos)
    if suggest:
        report.suggestions = _suggestions(oracle, images, all_dims, infos, specs, statics, rows, rng,
                                          any_unknown, accepted, notes, progress)
    return report


def _image_inputs(proto, graph, given, layout, notes):
    """The image inputs analysed, with their layout, the dims analysed for each and their infos."""
    named, one = given.named, given.single
    images = find_image_inputs(proto, given_rank=len(one) if one else None, graph=graph)
    if named:
        for im in find_image_inputs(proto, given_rank=max(len(v) for v in named.values()), graph=graph):
            if im.name not in {i.name for i in images}:
                images.append(im)
        unknown = [k for k in named if k not in {i.name for i in images}]
        if unknown:
            raise InputError(f"{param('input_shape')} names {', '.join(map(repr, unknown))}, which is not an image "
                             f"input of the model (image inputs: {', '.join(i.name for i in images) or 'none'})")
    if not images:
        raise InputError("model has no image input: no 3-D, 4-D or 5-D float input feeds a convolution "
                         f"or pool (inputs: {describe_inputs(proto)})")
    all_dims: dict = {}
    infos = []
    for j, image in enumerate(images):
        g = named.get(image.name) if named else (one if j == 0 else None)
        rank = image.rank if image.rank is not None else len(g) if g is not None else None
        if rank is None:
            continue
        trace_layout(graph, image, rank)
        if layout and (j == 0 or len(layout.strip()) == rank):
            traced = image.layout
            apply_layout(image, layout)
            if traced and traced != image.layout:
                notes.append(f"layout {image.layout} given for {image.name!r}; the graph suggests {traced}")
        dims = _resolve_dims(image, g, rank)
        if j > 0 and g is None and images[0].declared is not None:
            # dims named like the first input's symbolic dims take its values
            first = dict(zip(images[0].declared, all_dims[images[0].name]))
            dims = [first.get(d, d) if isinstance(d, str) and isinstance(first.get(d), int) else d
                    for d in dims]
        all_dims[image.name] = dims
        info = _input_info(image, dims)
        info["unknown_dims"] = [str(image.declared[a]) if image.declared and image.declared[a] is not None else "?"
                                for a, d in enumerate(dims) if not isinstance(d, int)]
        infos.append(info)
    return [im for im in images if im.name in all_dims], all_dims, infos


def _unknown_sizes(images, all_dims, infos, oracle, proto, notes) -> bool:
    """Note each input whose size is unknown, with an example shape to give; True if any."""
    for im, info in zip(images, infos):
        if info["unknown_dims"]:
            info["example_shape"] = _example_shape(im, all_dims[im.name], oracle, proto, all_dims)
            notes.append(f"input {im.name!r} (declared {_declared_short(im)}) has no known "
                         f"{'spatial size' if info['spatial'] is None else 'size'}: give e.g. "
                         f"{param('input_shape', info['example_shape'])}")
    return any([info.pop("unknown_dims") for info in infos])


def _infer(oracle, images, all_dims, infos, any_unknown, notes):
    """Shapes at the analysed dims, and the keys of the strict-inference problems accepted there."""
    if oracle.upgraded_from is not None:
        notes.append(f"sizes inferred on an opset-{oracle.upgraded_to} copy: at opset {oracle.upgraded_from} ONNX "
                     "cannot size a Reshape to a shape computed at run time")
    problems = []
    try:
        shapes, problems = oracle.infer_checked(all_dims)
    except Exception as e:  # noqa: BLE001 - inference failures are reported per layer
        shapes = {}
        notes.append(f"ONNX shape inference failed: {' '.join(str(e).split())[:300]}")
    # Problems that do not disqualify a candidate size: at the model's own declared shape, all of
    # them (the model is analysed as shipped); at a size the user gave, only those that are not
    # shape mismatches (type complaints of ONNX's checker that onnxruntime may not share).
    as_declared = all(im.declared is not None and list(im.declared) == all_dims[im.name] for im in images)
    accepted = frozenset(p.key for p in problems if as_declared or p.kind != "ShapeInferenceError")
    at, _unk = at_text(infos)
    if problems and not any_unknown:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        notes.append(f"the network's shapes do not fit together at {at} (strict ONNX shape inference: "
                     f"{problems[0].text()}{more}); layers after that point are of unknown size")
    elif problems:
        notes.append(f"strict ONNX shape inference: {problems[0].text()}")
    notes.extend(oracle.loop_notes)
    return shapes, accepted


def _rows(proto, graph, refs, images, shapes, any_unknown, values=None):
    """(specs, rows, static geometries) of every conv and pool."""
    from ..model.constants import default_opset

    reached = {im.name: graph.reach(im.name) for im in images}
    specs = [spec_of(r) for r in refs]
    opset = default_opset(proto)
    for spec in specs:
        producer = graph.scope(spec.ref.graph).producers.get(spec.data)
        absorb_explicit_pad(spec, producer, values or {}, opset)
    rows, statics = [], []
    for spec in specs:
        row = layer_row(spec, shapes, spec.ref.in_function)
        row.inputs = [im.name for im in images if spec.data in reached[im.name]]
        if row.status == "unknown" and any_unknown and "function" not in row.reason:
            row.reason = (f"input size unknown: an image input has unknown dims; give {param('input_shape')}"
                          if len(images) > 1 else
                          f"input size unknown: model input {images[0].name!r} has unknown dims; "
                          f"give {param('input_shape')}")
        elif row.status == "unknown" and shapes and "function" not in row.reason:
            why = _blocker(graph, spec.data, shapes)
            if why:
                row.reason += f": {why}"
        rows.append(row)
        statics.append(resolve_static(spec, shapes))
    return specs, rows, statics


def _fixed_size_notes(images, all_dims, notes) -> None:
    for im in images:
        fixed = _fixed_spatial(im)
        given_sp = [all_dims[im.name][a] for a in im.spatial_axes] if im.spatial_axes else None
        if fixed and given_sp and given_sp != fixed:
            notes.append(f"input {im.name!r} is fixed at {'×'.join(map(str, fixed))} in the model; analysed at "
                         f"{'×'.join(map(str, given_sp))} as given: onnxruntime refuses that size until the model "
                         "is re-exported with it (or with a dynamic input)")


def _suggestions(oracle, images, all_dims, infos, specs, statics, rows, rng, any_unknown, accepted, notes,
                 progress=None):
    """The size search for each group of image inputs (the first group's result holds the others)."""
    spatial = infos[0]["spatial"]
    if spatial is None:
        if not images[0].spatial_axes:
            notes.append("no size suggestions: cannot tell which input axes are spatial from the graph; "
                         f"give {param('layout', 'NCHW|NHWC')}")
        elif not any_unknown:
            notes.append("no size suggestions: the input size is not known")
        return None
    main = None
    for k, grp in enumerate(_groups(images, infos)):
        sug = search_sizes(oracle, grp["images"], all_dims, specs, statics, rows, rng if k == 0 else None,
                           list(grp["spatial"]), accepted, progress=progress)
        _fixed_caveat(sug, grp["images"])
        if main is None:
            main = sug
        else:
            main.others.append(sug)
    return main


def _resolve_dims(image, given, rank) -> list:
    """The dims analysed for ``image``: ``given`` (full or spatial only) checked against the
    declaration, else the declared dims with a symbolic batch taken as 1."""
    declared = image.declared if image.declared is not None else (None,) * rank
    if given is not None:
        if len(given) == rank:
            dims = list(given)
        elif len(given) == rank - 2:
            if not image.spatial_axes:
                raise InputError(f"cannot tell which axes of input {image.name!r} ({image.declared_text()}) are "
                                 "spatial from the graph: give the full shape as the model declares it "
                                 f"(e.g. 1x3x224x224 or 1x224x224x3) or the layout ({param('layout', 'NCHW|NHWC')})")
            dims = [d if isinstance(d, int) and d > 0 else None for d in declared]  # Paddle writes -1
            dims[image.batch_axis] = dims[image.batch_axis] or 1
            if dims[image.channel_axis] is None:
                raise InputError(f"input {image.name!r} ({image.declared_text()}) has no static channel count: "
                                 "give the full shape")
            for ax, v in zip(image.spatial_axes, given):
                dims[ax] = v
        else:
            raise InputError(f"input shape {'x'.join(map(str, given))} has {len(given)} dims; model input "
                             f"{image.name!r} has {rank} ({image.declared_text()})")
        if image.channel_axis is not None:
            c = declared[image.channel_axis]
            if isinstance(c, int) and c > 0 and c != dims[image.channel_axis]:
                raise InputError(f"input shape {'x'.join(map(str, dims))} does not match input {image.name!r} "
                                 f"({image.declared_text()}, layout {image.layout}): it has {c} channels, "
                                 f"not {dims[image.channel_axis]}")
        return dims
    dims = []
    batch_axis = image.batch_axis if image.batch_axis is not None else 0
    for ax, d in enumerate(declared):
        if isinstance(d, int) and d > 0:
            dims.append(d)
        elif ax == batch_axis:
            dims.append(1)
        else:
            dims.append(d if isinstance(d, str) else None)
    return dims


def _input_info(image, dims) -> dict:
    spatial = None
    if image.spatial_axes and all(isinstance(dims[a], int) for a in image.spatial_axes):
        spatial = [dims[a] for a in image.spatial_axes]
    return {"name": image.name, "elem_type": image.elem_type,
            "declared": list(image.declared) if image.declared is not None else None,
            "shape": [d if isinstance(d, int) else None for d in dims],
            "layout": image.layout, "layout_source": image.layout_source,
            "spatial": spatial}


def _groups(images, infos) -> list:
    """Image inputs whose sizes are varied together: the same nominal spatial size (or the same
    symbolic spatial dims), first group holding the first input."""
    groups: list = []
    for im, info in zip(images, infos):
        if info["spatial"] is None:
            continue
        sym = tuple(im.declared[a] for a in im.spatial_axes) if im.declared is not None else ()
        key = (tuple(info["spatial"]), sym if all(isinstance(d, str) for d in sym) else None)
        for g in groups:
            if g["spatial"] == key[0] and (key[1] is None or g["sym"] in (None, key[1])):
                g["images"].append(im)
                break
        else:
            groups.append({"spatial": key[0], "sym": key[1], "images": [im]})
    return groups


def _fixed_spatial(image) -> list | None:
    """The spatial size the model declares, when every spatial dim is static."""
    if image.declared is None or not image.spatial_axes:
        return None
    dims = [image.declared[a] for a in image.spatial_axes]
    return dims if all(isinstance(d, int) and d > 0 for d in dims) else None


def _fixed_caveat(sug, images):
    fixed = [f for f in (_fixed_spatial(im) for im in images) if f]
    if not fixed:
        return
    sug.fixed_input = fixed[0]
    if sug.sizes and sug.sizes[0] != fixed[0]:
        want = "×".join(map(str, sug.sizes[0]))
        sug.caveats.insert(0, f"the model's input is fixed at {'×'.join(map(str, fixed[0]))}: re-export it with "
                              f"a {want} (or dynamic) input to use this size")


def _declared_short(image) -> str:
    """Declared dims with long symbolic names shown as ``?`` (``?×3×?×?``)."""
    if image.declared is None:
        return "?"
    return "×".join(str(d) if isinstance(d, int) and d > 0 else (d if isinstance(d, str) and 0 < len(d) <= 6
                                                                 else "?") for d in image.declared)


_TYPICAL = (224, 256, 320, 512, 640)


def _example_shape(image, dims, oracle=None, proto=None, all_dims=None) -> str:
    """An ``input_shape`` for ``image`` built from its declared dims: known dims kept, batch 1,
    channels 3, and unknown spatial dims set to a size that fits the network: 640 for models
    that upsample (detection, segmentation), 224 otherwise, or the first of 224, 256, 320, 512,
    640 at which strict shape inference finds no mismatch."""
    spatial = set(image.spatial_axes or ())
    known_sp = [d for ax, d in enumerate(dims) if ax in spatial and isinstance(d, int)]
    upsamples = proto is not None and any(n.op_type in ("ConvTranspose", "Resize", "Upsample")
                                          for n in proto.graph.node)
    first = known_sp[0] if known_sp else (640 if upsamples else 224)
    candidates = [first] + [c for c in _TYPICAL if c != first]

    def shape(c):
        ex = []
        for ax, d in enumerate(dims):
            if isinstance(d, int):
                ex.append(d)
            elif ax == image.channel_axis:
                ex.append(3)
            elif ax == image.batch_axis:
                ex.append(1)
            else:
                ex.append(c)
        return ex

    if oracle is not None and all_dims is not None and spatial:
        for c in candidates:
            trial = {k: list(v) for k, v in all_dims.items()}
            trial[image.name] = shape(c)
            try:
                _, problems = oracle.infer_checked(trial, need_shapes=False)
            except Exception:  # noqa: BLE001 - keep the first candidate
                break
            if not problems:
                return "x".join(map(str, shape(c)))
    return "x".join(map(str, shape(first)))


def _blocker(graph, tensor, shapes) -> str:
    """Why ``tensor`` has no inferred size: the first node upstream whose inputs all have
    shapes but whose output has none (e.g. a Reshape to a shape computed at run time)."""
    producer = graph.scope(graph.model.graph).producers
    seen, todo = set(), [tensor]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        node = producer.get(name)
        if node is None:
            continue
        ins = [i for i in node.input if i]
        unknown = [i for i in ins if shapes.get(i) is None or None in shapes.get(i)]
        if not unknown:
            label = f"{node.op_type} {node.name!r}" if node.name else node.op_type
            if node.op_type == "Reshape" and len(ins) > 1:
                return (f"shape inference loses the size at {label}, whose target shape is computed at run "
                        "time")
            return f"shape inference loses the size at {label}"
        todo.extend(unknown)
    return ""


def with_skews(report, skews):
    """``report`` (a PaddingReport) with the skews attached and its summary recomputed."""
    attach_skews(report.layers, skews)
    if report.layers:
        report.summary, report.summary_line = summarize(report.layers, report.inputs or [report.input or {}],
                                                        bool(skews))
    return report
