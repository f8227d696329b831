"""The audit report as one self-contained HTML page: inline CSS and inline SVG, no script, no network.

``render_html(audit)`` formats an ``onnxsym.audit/1`` dict. It never computes a statistic: every
number on the page is read from the dict; the renderer only maps values to colours, positions and
text. Sections (their ids in brackets):

1. header [summary]: model name, verdict badge (``INFO`` when no gate was set: neutral, not
   green), summary line, key numbers as cards - a card a gate speaks about carries that gate's
   verdict and margin, outlined (``gate-failed``) when it failed -, provenance;
2. [kernels] the grid of mean kernels as heatmaps (the figure style of arXiv 2503.19215): diverging
   blue-white-red scale centred at 0 with limits +-max|K| per kernel, S and the random-init
   baseline under each, stride badges and a small arrow for the skew direction;
3. [depth] S against depth with the random-init band (baseline mean +- sd per layer), strided
   layers marked and labelled with the side their padding leans to; every point has hover text
   (layer, S, kernel, stride) and no two labels overlap (those without room are listed below);
4. [padding] the padding panel (strided layers, effective pads per side, skew, suggestions);
5. [consistency] the consistency panel (shift/flip bars with 95 % intervals and the chance level -
   the same metric between unrelated images -, sample sizes, provider, thumbnails); its wording,
   column headers and thumbnails follow ``consistency["metric"]``: top-1 agreement (the images whose
   prediction changed), pixel top-1 agreement or cosine similarity (the images with the lowest
   per-image value); under each image, per reason, the two views that were compared;
6. [baseline] deltas against a baseline report; [gates] one card per gate; [legend] every badge
   the page can show (``common.BADGES``); [notes] a short "what the numbers mean" footer.

Skew is always given (down, right), labelled ``skew (↓, →)``: the order of the command line and
of the JSON ``skew``. Below 700 px the cards and grids stack, tables and charts scroll inside their
panel, so no page is wider than its viewport (checked at 420 px).

Keys read (all optional unless said): ``verdict``, ``summary_line``, ``provenance`` (any flat or
nested dict), ``gates`` [{name, passed, value, threshold, message, test?, p_value?}], ``weights``
(the ``onnxsym.weights/1`` document), ``padding`` (``onnxsym.padding/1``), ``consistency``
(``onnxsym.consistency/1`` or ``{"error": str}``), ``deltas``, ``thumbnails`` [{name, data_uri,
why, detail, rank?, views?: [{caption, data_uri}] * 2}] (top level, or inside ``consistency``;
``why`` shift | flip | lowest). Intervals are shown as [low, high], never as ±."""
from .common import BLUE_END, RED_END, WHITE, diverging_color
from .page import render_html

__all__ = ["render_html", "diverging_color", "BLUE_END", "RED_END", "WHITE"]
