"""Results as pandas DataFrames, for users who have pandas (an optional extra, never required).

Each report's ``to_dataframe()`` builds its rows (one dict per layer or image, nested values
flattened to ``parent_key`` columns) and hands them here.
"""
from __future__ import annotations


def flatten(row: dict, skip=()) -> dict:
    """``{"terms": {"rot90": .1}}`` → ``{"terms_rot90": .1}``, one level deep; keys in ``skip`` dropped."""
    out = {}
    for k, v in row.items():
        if k in skip:
            continue
        if isinstance(v, dict):
            for kk, vv in v.items():
                out[f"{k}_{kk}"] = vv
        else:
            out[k] = v
    return out


def to_frame(rows: list, index: str | None = None):
    """A ``pandas.DataFrame`` of ``rows`` (dicts), indexed by the column ``index`` when given.

    Raises
    ------
    ImportError
        pandas is not installed (``pip install 'onnxsym[pandas]'``).
    """
    try:
        import pandas as pd
    except ImportError:
        raise ImportError("to_dataframe() needs pandas: pip install 'onnxsym[pandas]'") from None
    frame = pd.DataFrame.from_records(list(rows))
    if index is not None and index in frame.columns:
        frame = frame.set_index(index)
    return frame
