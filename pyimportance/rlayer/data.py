"""``x`` and ``y`` from R: arrays, matrices, data frames, factors, and lists of them (several
model inputs or output heads); R's NA becomes NaN, as double NA already is, so the engine's
own check names its 1-based position before any model call.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .conditions import RArgumentError
from .values import NUMERIC_TYPES, RValue, describe, is_null, named_items

# R's double NA: a NaN whose low word is 1954. Integer and logical NA become this NaN, so
# they are what a double NA from R already is (the engine can tell NA from NaN by it).
R_NA_REAL = np.array([0x7FF00000000007A2], dtype=np.uint64).view(np.float64)[0]


def _numbers(value: RValue, name: str) -> np.ndarray:
    """A numeric/logical RValue as float64 (NA as R's NA, so the engine names its position)."""
    values = value.values
    if value.na is None:
        return values
    values = values.astype(np.float64)
    values[value.na] = R_NA_REAL
    return values


def _last_dimnames(value: RValue) -> tuple[str, ...] | None:
    if value.dimnames is None or value.values.ndim < 2:
        return None
    return value.dimnames[-1]


@dataclass(frozen=True)
class _Dress:
    """How a chunk of rows goes to an R function: like ``x`` (feature names, a data frame)."""

    feature_names: tuple[str, ...] | None = None
    as_data_frame: bool = False

    def __call__(self, chunk) -> RValue:
        chunk = np.asarray(chunk, dtype=np.float64)
        names = self.feature_names if self.feature_names and len(self.feature_names) == chunk.shape[-1] else None
        if self.as_data_frame and chunk.ndim == 2:
            names = names or tuple(f"x{j + 1}" for j in range(chunk.shape[1]))
            return RValue("data.frame", names=names,
                          items=tuple(RValue("double", values=chunk[:, j]) for j in range(chunk.shape[1])))
        dimnames = None if names is None or chunk.ndim < 2 else (None,) * (chunk.ndim - 1) + (names,)
        return RValue("double", values=chunk, dimnames=dimnames)


@dataclass(frozen=True)
class _Inputs:
    """``x`` for the engine, how its chunks are dressed for an R model, its feature names."""

    values: Any
    dress: Any  # a _Dress, or a list / dict of them for several inputs
    feature_names: Any = None


def _data_frame_matrix(value: RValue, name: str) -> np.ndarray:
    """A data frame of numeric columns as a float64 matrix (NA as NaN)."""
    bad = [(column, item) for column, item in zip(value.names or (), value.items)
           if not (isinstance(item, RValue) and item.type in NUMERIC_TYPES)]
    if bad:
        column, item = bad[0]
        kind = item.type if isinstance(item, RValue) else describe(item)
        raise RArgumentError(
            f'{name} must have only numeric (or logical) columns, got column "{column}" of type {kind}'
        )
    if not value.items:
        raise RArgumentError(f"{name} must have at least one column, got a data frame with none")
    return np.column_stack([_numbers(item, name).astype(np.float64) for item in value.items])


def _one_input(value, name: str) -> _Inputs:
    """One model input (array, matrix, data frame or vector) from R."""
    if not isinstance(value, RValue):
        return _Inputs(value, _Dress())
    if value.type == "data.frame":
        return _Inputs(_data_frame_matrix(value, name), _Dress(value.names, as_data_frame=True), value.names)
    if value.type in NUMERIC_TYPES and value.values.ndim >= 2:
        names = _last_dimnames(value)
        return _Inputs(_numbers(value, name), _Dress(names), names)
    expected = "a numeric array, matrix or data frame"
    raise RArgumentError(f"{name} must be {expected}{' (several inputs: a list of them)' if name == 'x' else ''}, "
                         f"got {describe(value)}")


def _element(name: str, key: str | None, position: int) -> str:
    """A list element as R writes it: ``x[["seq"]]``, or ``x[[2]]`` (1-based) when unnamed."""
    return f'{name}[["{key}"]]' if key is not None else f"{name}[[{position + 1}]]"


def as_inputs(value, name: str = "x") -> _Inputs:
    """``x`` from R: one input, or a (named) list of inputs for a model with several."""
    if not (isinstance(value, RValue) and value.type == "list"):
        return _one_input(value, name)
    items = named_items(value, name)
    parts = [_one_input(item, _element(name, key, i)) for i, (key, item) in enumerate(items)]
    has_names = any(part.feature_names is not None for part in parts)
    if items and items[0][0] is not None:
        keys = [key for key, _ in items]
        return _Inputs(
            {key: part.values for key, part in zip(keys, parts)},
            {key: part.dress for key, part in zip(keys, parts)},
            {key: part.feature_names for key, part in zip(keys, parts)} if has_names else None,
        )
    return _Inputs(
        [part.values for part in parts],
        [part.dress for part in parts],
        [part.feature_names for part in parts] if has_names else None,
    )


def _one_target(value, name: str) -> tuple[Any, tuple[str, ...] | None]:
    """One target from R and its class labels: a factor gives codes 0..K-1 and its levels."""
    if not isinstance(value, RValue):
        return value, None
    if value.type == "factor":
        codes = value.values.astype(np.int64) - 1
        if value.na is not None:
            codes = codes.astype(np.float64)
            codes[value.na] = R_NA_REAL
        return codes, value.levels
    if value.type == "data.frame":
        return _data_frame_matrix(value, name), None
    if value.type in NUMERIC_TYPES:
        return _numbers(value, name), None
    raise RArgumentError(f"{name} must be a numeric vector, a factor, a matrix or a data frame, got {describe(value)}")


def as_targets(value, name: str = "y") -> tuple[Any, Any]:
    """``y`` from R and its class labels: one target, or a (named) list of them (one per output head)."""
    if is_null(value):
        return None, None
    if not (isinstance(value, RValue) and value.type == "list"):
        return _one_target(value, name)
    items = named_items(value, name)
    converted = [_one_target(item, _element(name, key, i)) for i, (key, item) in enumerate(items)]
    classes = [levels for _, levels in converted]
    if items and items[0][0] is not None:
        keys = [key for key, _ in items]
        targets = {key: target for key, (target, _) in zip(keys, converted)}
        classes_of = dict(zip(keys, classes))
    else:
        targets = [target for target, _ in converted]
        classes_of = classes
    return targets, (classes_of if any(levels is not None for levels in classes) else None)


def dress_with_names(inputs: _Inputs, feature_names) -> Any:
    """Chunks of one input carry ``feature_names`` when given, else the names of ``x``."""
    if isinstance(inputs.dress, _Dress) and isinstance(feature_names, list):
        return _Dress(tuple(feature_names), inputs.dress.as_data_frame)
    return inputs.dress
