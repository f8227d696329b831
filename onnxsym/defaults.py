"""Every run default, once: the library's keyword defaults and the command line's help both read
them from here."""
from __future__ import annotations

# ---- consistency --------------------------------------------------------------------------
PROVIDER = "auto"          # auto | cuda | cpu
PIPELINE = "auto"          # auto | device | host: where the crops of the consistency run are made
PAIRS_PER_IMAGE = 5        # shift pairs per image (Zhang uses 5 passes, one pair per image each)
SEED = 0                   # seed of the crop offsets
PRESET = "imagenet"        # input normalisation
CHANNEL_ORDER = "rgb"
BATCH_SIZE = 32            # model inputs per onnxruntime run (lowered for very large inputs)
VERTICAL = False           # also measure vertical-flip consistency

# ---- weights ------------------------------------------------------------------------------
PER_KERNEL = True          # also score every individual kernel W[n, c]

# ---- padding ------------------------------------------------------------------------------
SIZE_MARGIN = 32           # size suggestions search nominal ± this many pixels
SUGGEST = True

# ---- audit --------------------------------------------------------------------------------
ASYMMETRY_BELOW = 0.5      # a layer counts as asymmetric below this S (max_asymmetric_layers)

# ---- study --------------------------------------------------------------------------------
JOBS = 1                   # models measured at once (worker processes)
RESAMPLES = 9999           # bootstrap and permutation resamples of the study's statistics
MIN_FAMILIES = 5           # fewer representatives of a metric kind: no correlation is estimated
FAMILY_MAX_DISTANCE = 0.05  # two models are one family when no matched layer's mean kernels differ more
FAMILY_MIN_COVERAGE = 0.9  # ... and the matched layers cover at least this share of each
