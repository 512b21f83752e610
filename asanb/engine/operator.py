"""The physical operator protocol: frames in, frames out, driven by batches, watermarks and end of input.

Every frame crossing an operator boundary is a pandas DataFrame with a RangeIndex and an event-time column
``__ts`` (datetime64[ns, UTC]); columns starting with ``__`` are engine bookkeeping.
"""

from __future__ import annotations

import pandas as pd


class Operator:
    """Base of physical operators (names end in ``Op``). Stateless operators override ``on_batch`` only.

    ``on_batch`` gets a frame arriving on input ``port`` (0 unless the operator has several inputs) and
    returns the frames it emits now. ``on_watermark(t)`` tells it that every event with a time <= t
    (nanoseconds since the epoch, UTC) has arrived, so a window ending at or before t is final; stateful
    operators emit what became final and release state.
    ``on_end`` is called once when every input is exhausted: emit everything still held.
    """

    step: str = ""

    def on_batch(self, frame: pd.DataFrame, port: int = 0) -> list[pd.DataFrame]:
        raise NotImplementedError

    def on_watermark(self, watermark_ns: int) -> list[pd.DataFrame]:
        return []

    def on_end(self) -> list[pd.DataFrame]:
        return []

    def state_size(self) -> int:
        """Rows (or entries) held in state; zero for stateless operators. Tests use it to check release."""
        return 0
