"""Bind function definitions (MLFunction, JavaScript, PythonFunction) to the engine's batch-function protocol."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from asanb.config import JobConfig
from asanb.errors import ConfigError, EventError, PlanError, Span
from asanb.plan.catalog import ArgumentCheck

__all__ = ["BoundFunction", "PythonFunction", "bind_function"]


@dataclass(frozen=True, slots=True)
class PythonFunction:
    """A Python UDF for notebook prototyping — an asanb extension: ASA cannot run it, and the exporter warns.

    ``function`` receives one pandas Series (or DataFrame for a whole-row argument) per SQL argument and
    returns one value per row (vectorized), or is called per row when ``vectorized=False``.
    """

    alias: str
    function: Callable[..., Any]
    vectorized: bool = True
    output_type: str = "any"

    asa_compatible: ClassVar[bool] = False
    """An asanb extension: an exporter to an ASA project must warn that ASA cannot run it (issue #8)."""


class BoundFunction:
    """A function ready for one job run: planner facts plus an async batch call, metrics and counters."""

    alias: str
    namespace: str = "udf"
    output_type: str = "any"
    check_arguments: ArgumentCheck | None = None
    rows_per_round: int = 0
    """Rows one round of concurrent requests carries (ML UDFs: max batch count x parallel x partitions)."""

    async def __call__(self, arguments: Sequence[pd.Series | pd.DataFrame], rows: int) -> Any:
        raise NotImplementedError

    async def aclose(self) -> None:
        return None

    def metrics_frame(self) -> pd.DataFrame:
        return pd.DataFrame()

    def counters(self) -> dict[str, int]:
        return {}

    def in_flight(self) -> int:
        """Requests under way now (live samples)."""
        return 0


@dataclass
class _PythonBinding(BoundFunction):
    definition: PythonFunction
    calls: int = field(default=0)

    def __post_init__(self) -> None:
        self.alias = self.definition.alias
        self.output_type = self.definition.output_type
        parameters = inspect.signature(self.definition.function).parameters.values()
        variadic = any(p.kind is p.VAR_POSITIONAL for p in parameters)
        count = sum(p.default is p.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
                    for p in parameters)
        self.check_arguments = None if variadic else _arity_check(self.alias, count)

    async def __call__(self, arguments: Sequence[pd.Series | pd.DataFrame], rows: int) -> Any:
        self.calls += 1
        try:
            if self.definition.vectorized:
                values = self.definition.function(*arguments)
            else:
                columns = [a.to_dict("records") if isinstance(a, pd.DataFrame) else a.tolist() for a in arguments]
                values = [self.definition.function(*row) for row in zip(*columns, strict=True)]
        except Exception as error:  # the user's code: report it as the event failure it is
            raise EventError(f"udf.{self.alias} raised {type(error).__name__}: {error}") from error
        values = np.asarray(values, dtype=object) if not isinstance(values, pd.Series | np.ndarray) else values
        if len(values) != rows:
            raise EventError(f"udf.{self.alias} returned {len(values)} values for {rows} rows")
        return values

    def counters(self) -> dict[str, int]:
        return {"python_udf_calls": self.calls}


def _arity_check(alias: str, count: int) -> ArgumentCheck:
    def check(kinds: Sequence[str], span: Span) -> None:
        if len(kinds) != count:
            raise PlanError(f"udf.{alias} takes {count} argument(s), got {len(kinds)}", span)

    return check


def bind_function(definition: Any, config: JobConfig) -> BoundFunction:
    """The binding for one function definition; raises ConfigError for an unknown kind."""
    from asanb.udf.ml import MLFunction  # the ML stack (httpx) loads only when asked for

    if isinstance(definition, MLFunction):
        from asanb.udf.ml_binding import bind_ml_function

        return bind_ml_function(definition, config)
    if isinstance(definition, PythonFunction):
        return _PythonBinding(definition)
    from asanb.udf.javascript import JavaScriptAggregate, JavaScriptFunction

    if isinstance(definition, JavaScriptFunction | JavaScriptAggregate):
        from asanb.udf.js_binding import bind_javascript  # V8 loads only when a job uses JavaScript

        return bind_javascript(definition, config)
    raise ConfigError(
        "functions=[...] takes MLFunction, JavaScriptFunction, JavaScriptAggregate or PythonFunction objects, "
        f"got {type(definition).__name__}"
    )
