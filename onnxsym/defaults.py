"""Every run default, once: the library's keyword defaults and the command line's help both read
them from here."""
from __future__ import annotations

# ---- consistency --------------------------------------------------------------------------
PROVIDER = "auto"          # auto | cuda | cpu
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
