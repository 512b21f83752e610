"""The local scoring server's model: a real scikit-learn regressor of taxi fares, trained at start-up on
seeded synthetic trips with the ML UDF docs' columns (vendorid, weekday, pickuphour, passenger, distance)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

FEATURES: tuple[tuple[str, str], ...] = (
    ("vendorid", "integer"), ("weekday", "string"), ("pickuphour", "integer"), ("passenger", "integer"),
    ("distance", "number"),
)
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


class SchemaMismatch(ValueError):
    """A request row does not fit the model's input schema (the server answers 400 with this message)."""


def _training_data(seed: int, n: int = 4000) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    vendor = rng.integers(1, 3, size=n)
    weekday = rng.integers(0, 7, size=n)
    hour = rng.integers(0, 24, size=n)
    passenger = rng.integers(1, 7, size=n)
    distance = np.round(rng.lognormal(0.7, 0.8, size=n), 2)
    rush = ((hour >= 7) & (hour <= 9)) | ((hour >= 16) & (hour <= 19))
    fare = 2.5 + 2.5 * distance + 0.5 * (passenger - 1) + 1.5 * rush + 0.3 * (weekday >= 5) + rng.normal(0, 1, n)
    return _design(vendor, weekday, hour, passenger, distance), fare


def _design(vendor: np.ndarray, weekday: np.ndarray, hour: np.ndarray, passenger: np.ndarray,
            distance: np.ndarray) -> np.ndarray:
    rush = ((hour >= 7) & (hour <= 9)) | ((hour >= 16) & (hour <= 19))
    weekday_onehot = np.eye(7)[weekday]
    return np.column_stack([vendor == 2, rush, passenger, distance, weekday_onehot]).astype(np.float64)


@dataclass
class TaxiFareModel:
    """Ridge regression predicting the fare; deterministic for a seed."""

    seed: int = 0

    def __post_init__(self) -> None:
        from sklearn.linear_model import Ridge

        features, target = _training_data(self.seed)
        self.estimator = Ridge(alpha=1.0).fit(features, target)

    feature_names = tuple(name for name, _ in FEATURES)
    feature_types = dict(FEATURES)

    def predict_rows(self, rows: Sequence[Any]) -> list[float]:
        """Predict one fare per row; rows are positional lists or records, values may be strings."""
        if len(rows) == 0:
            return []
        columns = self._columns(rows)
        design = _design(*columns)
        return [round(float(v), 4) for v in self.estimator.predict(design)]

    def _columns(self, rows: Sequence[Any]) -> list[np.ndarray]:
        table: list[list[Any]] = []
        names = self.feature_names
        for index, row in enumerate(rows):
            if isinstance(row, dict):
                folded = {str(k).lower(): v for k, v in row.items()}
                missing = [n for n in names if n not in folded]
                if missing:
                    raise SchemaMismatch(f"row {index}: missing field '{missing[0]}'; expected {', '.join(names)}")
                table.append([folded[n] for n in names])
            elif isinstance(row, list | tuple):
                if len(row) != len(names):
                    raise SchemaMismatch(f"row {index}: expected {len(names)} values ({', '.join(names)}), "
                                         f"got {len(row)}")
                table.append(list(row))
            else:
                raise SchemaMismatch(f"row {index}: expected an array or an object, got {type(row).__name__}")
        return [self._convert(names[i], [r[i] for r in table]) for i in range(len(names))]

    def _convert(self, name: str, values: list[Any]) -> np.ndarray:
        if name == "weekday":
            lookup = {day.lower(): i for i, day in enumerate(WEEKDAYS)}
            out = []
            for index, value in enumerate(values):
                code = lookup.get(str(value).strip().lower()[:3]) if value is not None else None
                if code is None:
                    raise SchemaMismatch(f"row {index}: field 'weekday' must be one of {', '.join(WEEKDAYS)}, "
                                         f"got {value!r}")
                out.append(code)
            return np.asarray(out)
        if any(v is None for v in values):
            index = next(i for i, v in enumerate(values) if v is None)
            raise SchemaMismatch(f"row {index}: field '{name}' is null")
        try:
            array = np.asarray([float(v) for v in values])
        except (TypeError, ValueError):
            bad = next((i, v) for i, v in enumerate(values) if not _is_number(v))
            raise SchemaMismatch(f"row {bad[0]}: field '{name}' must be a number, got {bad[1]!r}") from None
        if np.isnan(array).any():
            index = int(np.flatnonzero(np.isnan(array))[0])
            raise SchemaMismatch(f"row {index}: field '{name}' is null")
        return array


def _is_number(value: Any) -> bool:
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return True
