"""L2, the weights analysis: every conv weight resolved, its mean kernel's symmetry S with all its
transform terms, the per-kernel S, skew and coherence, against the random-init band. See
:func:`analyze`."""
from .analysis import analyze, layer_skews
from .random_init import random_init
from .results import SCHEMA, LayerResult, WeightsReport, WeightsSummary
from .symmetry import TERMS_1D, TERMS_2D, TERMS_3D, kernel_stats, symmetry_terms, transforms_for

__all__ = ["analyze", "layer_skews", "random_init", "SCHEMA", "LayerResult", "WeightsReport", "WeightsSummary",
           "TERMS_1D", "TERMS_2D", "TERMS_3D", "kernel_stats", "symmetry_terms", "transforms_for"]
