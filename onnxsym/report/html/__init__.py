"""The audit report as one self-contained HTML page: inline CSS and inline SVG, no script, no network.

``render_html(audit)`` formats an ``onnxsym.audit/1`` dict. It never computes a statistic: every
number on the page is read from the dict; the renderer only maps values to colours, positions and
text. Sections:

1. header: model name, verdict badge, summary line, key numbers, provenance;
2. the grid of mean kernels as heatmaps (the figure style of arXiv 2503.19215): diverging
   blue-white-red scale centred at 0 with limits +-max|K| per kernel, S and the random-init
   baseline under each, stride badges and a small arrow for the skew direction;
3. S against depth with the random-init band (baseline mean +- sd per layer), strided layers marked
   and labelled with the side their padding leans to;
4. the padding panel (strided layers, effective pads per side, skew, suggestions);
5. the consistency panel (shift/flip bars with 95 % intervals and the chance level - the same
   metric between unrelated images -, sample sizes, provider, thumbnails); its wording, column
   headers and thumbnails follow ``consistency["metric"]``: top-1 agreement (the images whose
   prediction changed), pixel top-1 agreement or cosine similarity (the images with the lowest
   per-image value);
6. gate verdicts; 7. a short "what the numbers mean" footer.

Keys read (all optional unless said): ``verdict``, ``summary_line``, ``provenance`` (any flat or
nested dict), ``gates`` [{name, passed, value, threshold, message}], ``weights`` (the
``onnxsym.weights/1`` document), ``padding`` (``onnxsym.padding/1``), ``consistency``
(``onnxsym.consistency/1`` or ``{"error": str}``), ``thumbnails`` [{name, data_uri, why, detail,
rank?}] (top level, or inside ``consistency``; ``why`` shift | flip | lowest). Intervals are shown as
[low, high], never as ±."""
from .common import BLUE_END, RED_END, WHITE, diverging_color
from .page import render_html

__all__ = ["render_html", "diverging_color", "BLUE_END", "RED_END", "WHITE"]
