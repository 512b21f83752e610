"""Partition keys as dense integer codes, so per-key work is numpy arithmetic on sorted codes, not groupby."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

__all__ = ["group_ends", "partition_codes"]


def partition_codes(keys: Sequence[pd.Series], rows: int) -> np.ndarray:
    """One int64 code per row, equal exactly when every key is equal; NULL is a key value of its own
    (ASA groups NULL keys together). No keys: every row is in partition 0."""
    if not keys:
        return np.zeros(rows, dtype=np.int64)
    codes, _ = pd.factorize(keys[0], use_na_sentinel=False)
    codes = codes.astype(np.int64, copy=False)
    for key in keys[1:]:
        more, uniques = pd.factorize(key, use_na_sentinel=False)
        combined = codes * max(len(uniques), 1) + more
        codes, _ = pd.factorize(combined)
        codes = codes.astype(np.int64, copy=False)
    result: np.ndarray = codes
    return result


def group_ends(sorted_codes: np.ndarray) -> np.ndarray:
    """For codes sorted ascending: the position one past the last row of each row's group."""
    if not len(sorted_codes):
        return np.empty(0, dtype=np.int64)
    change = np.flatnonzero(np.diff(sorted_codes)) + 1
    ends = np.append(change, len(sorted_codes))
    sizes = np.diff(np.concatenate(([0], ends)))
    return np.repeat(ends, sizes)
