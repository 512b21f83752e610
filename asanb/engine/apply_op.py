"""CROSS / OUTER APPLY: one row per array element (GetArrayElements) or record property (GetRecordProperties).

Arrays and records are Python lists and dicts in object columns, so reading their lengths is per-row Python;
repeating the rows and building the new columns is vectorized. CROSS APPLY drops rows whose value is NULL or
empty; OUTER APPLY keeps them once with NULL columns. A value of the wrong type fails the event, handled by
the output error policy (../shared/spec/saql.md, "Types").
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from asanb.engine.expressions import compile_expression
from asanb.engine.operator import Operator
from asanb.engine.operators import ErrorPolicy
from asanb.engine.vector_ops import normalize
from asanb.errors import EventError
from asanb.plan import logical
from asanb.types import asa_type_of_value

_NAMES = {"getarrayelements": "GetArrayElements", "getrecordproperties": "GetRecordProperties"}


class ApplyOp(Operator):
    """Expand each row by the elements / properties of one array or record value."""

    def __init__(self, node: logical.Apply, policy: ErrorPolicy) -> None:
        self.step = node.step
        self.node = node
        self.argument = compile_expression(node.argument, node.scope)
        self.policy = policy
        self.arrays = node.function == "getarrayelements"

    def on_batch(self, frame: pd.DataFrame, port: int = 0) -> list[pd.DataFrame]:
        if frame.empty:
            return []
        out = self.policy.apply(frame, self._expand, self.step)
        return [out] if len(out) else []

    def _expand(self, frame: pd.DataFrame) -> pd.DataFrame:
        values = self.argument(frame).array
        expected = "array" if self.arrays else "record"
        lengths = np.fromiter((_length(value, expected, self._where) for value in values), dtype=np.int64,
                              count=len(values))
        keep = lengths if not self.node.outer else np.maximum(lengths, 1)
        rows = np.repeat(np.arange(len(frame)), keep)
        names: list[Any] = []
        items: list[Any] = []
        for value, length in zip(values, lengths, strict=True):
            if length == 0:
                if self.node.outer:
                    names.append(None)
                    items.append(None)
                continue
            if self.arrays:
                names.extend(range(length))
                items.extend(value)
            else:
                names.extend(value.keys())
                items.extend(value.values())
        out = frame.take(rows).reset_index(drop=True)
        first, second = self.node.columns
        out[first] = pd.array(names, dtype="Int64") if self.arrays else pd.Series(names, dtype=object)
        out[second] = normalize(pd.Series(items, dtype=object))
        return out

    @property
    def _where(self) -> str:
        return f"{_NAMES[self.node.function]} of APPLY {self.node.alias} ({self.node.span})"


def _length(value: Any, expected: str, where: str) -> int:
    if value is None:
        return 0
    kind = asa_type_of_value(value)
    if kind is None:
        return 0
    if kind != expected:
        raise EventError(f"{where} needs {'an' if expected == 'array' else 'a'} {expected}, got {kind}: "
                         f"{str(value)[:60]}", field=where)
    return len(value)
