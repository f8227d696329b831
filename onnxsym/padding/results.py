"""The padding report: one row per conv and pool at the analysed input size, the size
suggestions, and the ``onnxsym.padding/1`` document they make (:meth:`PaddingReport.to_dict`)."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

from .. import __version__
from ..record import Record

SCHEMA = "onnxsym.padding/1"


@dataclass
class PaddingLayer:
    """One conv or pool and its padding at the analysed input size.

    Per-axis lists are in the layer's spatial order (H, W for 2-D; D, H, W for 3-D).

    Attributes
    ----------
    id, path, op_type : str
        ``id`` is the :func:`onnxsym.graphwalk.walk_nodes` id (joins with the weights report).
    status : str
        ``ok``; ``unknown`` (input size not inferred, see ``reason``); ``invalid`` (the input
        is smaller than the kernel's reach or the attributes are inconsistent).
    reason : str
    kind : str
        ``conv``, ``conv_transpose`` or ``pool``.
    input_size, output_size : list of int or None
        Spatial sizes (output: onnxruntime's arithmetic).
    kernel, dilations, strides : list of int
    auto_pad : str
        NOTSET, SAME_UPPER, SAME_LOWER or VALID.
    pads : list of int or None
        As declared (ONNX order: all begins, then all ends), plus those of an explicit Pad right
        before the layer (``explicit_pad``); None when absent.
    explicit_pad : dict or None
        A Pad node feeding the layer whose padding counts as the layer's: ``node``, ``mode``
        (constant, reflect, edge, wrap) and its spatial ``pads`` (begins, then ends).
    ceil_mode : bool or None
        Pools only.
    output_padding : list of int or None
        ConvTranspose only.
    pads_begin, pads_end : list of int or None
        What onnxruntime pads (``auto_pad`` resolved).
    unread : list of int or None
        Trailing rows/columns (padding included) never read; negative when a ceil_mode pool
        reads past the end padding. Always 0 for ConvTranspose.
    before, after : list of int or None
        Effective padding per axis; ``after`` < 0 means real pixels are dropped.
    sides : dict or None
        The same per side: ``top``/``bottom``/``left``/``right`` (1-D: left/right; 3-D also
        front/back).
    uneven : bool or None
    direction : str
        The side(s) with more padding, e.g. ``top-left``, ``bottom-right``, ``top``; "" when even.
    strided : bool
        Some stride > 1.
    size_dependent : bool
        Whether the input size can change the evenness (strided, not ConvTranspose).
    skew : list of float or None
        The mean kernel's skew from the weights report (convs only).
    leans_toward_padding : bool or None
        For uneven convs with a skew: whether ``lean`` is ``toward``.
    skew_toward_padding : float or None
        The skew component toward the more-padded side(s) (see the module docstring).
    lean : str or None
        ``toward``, ``away`` or ``neither`` (``|skew_toward_padding| < LEAN_THRESHOLD``); None
        when not checked.
    inputs : list of str
        The image inputs whose size reaches this layer.
    notes : list of str
    """

    id: str
    path: str
    op_type: str
    kind: str
    status: str = "ok"
    reason: str = ""
    input_size: list | None = None
    output_size: list | None = None
    kernel: list | None = None
    dilations: list | None = None
    strides: list | None = None
    auto_pad: str = "NOTSET"
    pads: list | None = None
    explicit_pad: dict | None = None
    ceil_mode: bool | None = None
    output_padding: list | None = None
    pads_begin: list | None = None
    pads_end: list | None = None
    unread: list | None = None
    before: list | None = None
    after: list | None = None
    sides: dict | None = None
    uneven: bool | None = None
    direction: str = ""
    strided: bool = False
    size_dependent: bool = False
    skew: list | None = None
    leans_toward_padding: bool | None = None
    skew_toward_padding: float | None = None
    lean: str | None = None
    inputs: list = field(default_factory=list)
    notes: list = field(default_factory=list)


@dataclass
class Suggestions:
    """Input sizes near the nominal one at which every strided layer pads evenly.

    Attributes
    ----------
    nominal : list of int
        The spatial size analysed (H, W).
    axes : list of str
        Names of the spatial axes (``height``, ``width``…), in the order of ``nominal``.
    range : list of int
        ``[lo, hi]`` searched (inclusive), per axis.
    mode : str
        ``square`` (all spatial sizes equal, varied together) or ``per-axis``.
    sizes : list of list of int
        Spatial sizes that pad every strided layer evenly, nearest first (per-axis mode: the
        nearest combinations, each checked by a full run).
    per_axis : dict or None
        Per-axis mode: ``{axis name: [good sizes, nearest first]}``.
    input_shapes : list of str
        ``sizes`` written as full input shapes in the model's layout (for ``input_shape``).
    checked : int
        Shape-inference runs made.
    best : dict or None
        When nothing is fully even: the nearest size with the fewest uneven strided layers.
    never_even : list of str
        Strided layers that pad unevenly at every size tried (ids).
    fixed_uneven : list of str
        Layers uneven at every size (stride 1 with asymmetric pads, ConvTranspose).
    inputs : list of str
        The image inputs varied together (their spatial sizes set to each candidate).
    not_varied : list of str
        Strided layers no varied input reaches (fed by other inputs only): left out of the search.
    mismatched : int
        Candidate sizes rejected because strict ONNX shape inference finds the network's shapes
        do not fit together there (e.g. an Add of an upsampled branch and a skip connection).
    mismatch_example : str
        One such size and where it breaks.
    others : list of Suggestions
        The same search for each other group of image inputs (the rest at their nominal size).
    note : str
    floor : list of int or None
        Per axis, the smallest size searched when no range was given (half the nominal size);
        None when the range was given.
    below_floor : int
        Sizes left out because some layer's output would be under ``MIN_OUTPUT`` px there
        (where it is at least that at the nominal size); 0 when a range was given.
    fixed_input : list of int or None
        The spatial size the model declares as fixed (static dims), when it does: other sizes
        need a re-export.
    relative_change : list of float or None
        Per axis, ``(suggested − nominal) / nominal`` of the first suggestion.
    caveats : list of str
        Plain warnings about the first suggestion (fixed input, large change).
    """

    nominal: list
    axes: list
    range: list
    mode: str
    sizes: list = field(default_factory=list)
    per_axis: dict | None = None
    input_shapes: list = field(default_factory=list)
    checked: int = 0
    best: dict | None = None
    never_even: list = field(default_factory=list)
    fixed_uneven: list = field(default_factory=list)
    inputs: list = field(default_factory=list)
    not_varied: list = field(default_factory=list)
    mismatched: int = 0
    mismatch_example: str = ""
    others: list = field(default_factory=list)
    note: str = ""
    seconds: float = 0.0
    floor: list | None = None
    below_floor: int = 0
    fixed_input: list | None = None
    relative_change: list | None = None
    caveats: list = field(default_factory=list)


@dataclass
class PaddingSummary(Record):
    """The counts behind a padding report's summary line (``summary`` in the JSON).

    ``known`` layers of known size (of ``layers``; ``unknown`` and ``invalid`` the others);
    ``strided_convs``/``strided_pools`` the size-dependent strided ones and how many of them pad
    unevenly (``*_uneven``, by direction in ``*_directions``); ``skew_checked`` uneven convs with a
    skew, of which ``lean_toward_padding``, ``lean_away_from_padding``, ``lean_neither`` (|skew| ≥
    ``lean_threshold`` counts; ``lean_axes`` [rows, columns] leaning toward the padding);
    ``uneven_at_every_size`` the ids of layers uneven whatever the input size.
    """

    layers: int = 0
    known: int = 0
    unknown: int = 0
    invalid: int = 0
    uneven: int = 0
    strided_convs: int = 0
    strided_convs_uneven: int = 0
    conv_directions: dict = field(default_factory=dict)
    skew_checked: int = 0
    lean_toward_padding: int = 0
    lean_away_from_padding: int = 0
    lean_neither: int = 0
    lean_threshold: float = 0.0
    lean_axes: list = field(default_factory=lambda: [0, 0])
    strided_pools: int = 0
    strided_pools_uneven: int = 0
    pool_directions: dict = field(default_factory=dict)
    uneven_at_every_size: list = field(default_factory=list)
    conv_transposes: int = 0


@dataclass
class PaddingReport:
    """The padding diagnosis of a model at one input size.

    Attributes
    ----------
    model : dict
        ``path`` and ``producer`` where known.
    input : dict
        ``name``, ``declared`` (dims as the model declares them), ``shape`` (dims analysed,
        None for unknown), ``layout`` and ``layout_source``, ``spatial`` (spatial sizes or None),
        ``size_from``: ``model`` (declared), ``input_shape`` or ``input_size`` (the parameter the caller gave it with) or ``chosen`` (a
        symbolic size, chosen by :func:`onnxsym.model.sizes.choose_input_size`; said in a note).
    layers : list of PaddingLayer
        Every conv-like node and pool, in graph-walk order.
    summary : PaddingSummary
        Counts behind ``summary_line``.
    summary_line : str
        One greppable line, e.g. ``5 of 5 stride-2 convs pad unevenly at 224×224 (all top-left); …``.
    suggestions : Suggestions or None
    notes : list of str
    inputs : list of dict
        Every image input (the first is ``input``), same keys as ``input``.
    """

    model: dict
    input: dict
    layers: list
    summary: PaddingSummary
    summary_line: str
    suggestions: Suggestions | None = None
    notes: list = field(default_factory=list)
    inputs: list = field(default_factory=list)
    schema: str = SCHEMA

    def to_dataframe(self):
        """One row per conv and pool (``pandas.DataFrame`` indexed by ``id``), the fields of
        :class:`PaddingLayer`. Needs pandas (``pip install 'onnxsym[pandas]'``)."""
        from ..frames import to_frame

        return to_frame([asdict(layer) for layer in self.layers], index="id")

    def to_dict(self) -> dict:
        return {
            "schema": self.schema,
            "onnxsym_version": __version__,
            "model": self.model,
            "input": self.input,
            "inputs": list(self.inputs),
            "summary": asdict(self.summary) if isinstance(self.summary, PaddingSummary) else dict(self.summary),
            "summary_line": self.summary_line,
            "layers": [asdict(layer) for layer in self.layers],
            "suggestions": asdict(self.suggestions) if self.suggestions is not None else None,
            "notes": list(self.notes),
        }
