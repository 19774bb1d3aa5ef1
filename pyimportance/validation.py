"""Argument checks and normalisation at the public boundary.

Every check raises ``TypeError`` or ``ValueError`` with a message that names the argument,
says what was expected and shows what was given. Nothing here modifies the caller's data.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from . import terms

_FINITE_CHECK_ROWS = 4096  # rows checked at once, so a huge memory map is never copied whole


@dataclass(frozen=True)
class InputData:
    """The evaluation data seen as ``(n_samples, n_timesteps, n_features)``.

    ``values`` is a view of the caller's array whenever possible (never written to);
    ``is_sequence`` is False for 2D input, which is then viewed with one time step.
    """

    values: np.ndarray
    feature_names: tuple[str, ...]
    is_sequence: bool

    @property
    def n_samples(self) -> int:
        return self.values.shape[0]

    @property
    def n_timesteps(self) -> int:
        return self.values.shape[1]

    @property
    def n_features(self) -> int:
        return self.values.shape[2]


def _describe(value) -> str:
    if isinstance(value, np.ndarray):
        return f"array of shape {value.shape} and dtype {value.dtype}"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def check_positive_int(value, name: str, *, allow_none: bool = False) -> int | None:
    """Return ``value`` as an int >= 1 (an integral float such as R's ``5`` is accepted)."""
    if value is None and allow_none:
        return None
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be a positive integer, got {value!r}")
    if isinstance(value, numbers.Real) and not isinstance(value, numbers.Integral):
        if not float(value).is_integer():
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
        value = int(value)
    if not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be a positive integer, got {type(value).__name__}: {_describe(value)}")
    if value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value}")
    return int(value)


def check_positive_float(value, name: str) -> float:
    """Return ``value`` as a finite float > 0."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a positive number, got {type(value).__name__}: {_describe(value)}")
    if not np.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a positive finite number, got {value}")
    return float(value)


def check_choice(value, name: str, choices: Sequence[str]) -> str:
    """Return ``value`` if it is one of ``choices``."""
    if not isinstance(value, str) or value not in choices:
        allowed = ", ".join(repr(c) for c in choices)
        raise ValueError(f"{name} must be one of {allowed}, got {_describe(value)}")
    return value


def _first_non_finite(values: np.ndarray) -> tuple[int, ...] | None:
    """Index of the first NaN/inf in ``values`` (checked in row blocks), or None if all are finite."""
    for start in range(0, values.shape[0], _FINITE_CHECK_ROWS):
        bad = ~np.isfinite(values[start : start + _FINITE_CHECK_ROWS])
        if bad.any():
            index = np.unravel_index(int(np.argmax(bad)), bad.shape)
            return (start + int(index[0]),) + tuple(int(i) for i in index[1:])
    return None


def _non_finite_message(name: str, values: np.ndarray, index: tuple[int, ...]) -> str:
    value = values[index]
    shown = "NA" if terms.current().language == "R" and np.isnan(value) else value
    return (
        f"{terms.arg(name)} must not contain {'NA, NaN' if terms.current().language == 'R' else 'NaN'} "
        f"or infinite values, got {shown} at {terms.position(name, index)}"
    )


def _default_names(count: int) -> tuple[str, ...]:
    return tuple(f"x{i + 1}" for i in range(count))


def check_feature_names(feature_names, n_features: int) -> tuple[str, ...]:
    """Validate ``feature_names``: ``n_features`` distinct strings."""
    if isinstance(feature_names, str):
        feature_names = [feature_names]
    try:
        names = tuple(str(name) for name in feature_names)
    except TypeError:
        raise TypeError(f"feature_names must be a sequence of strings, got {_describe(feature_names)}") from None
    if len(names) != n_features:
        raise ValueError(f"feature_names must have one name per feature ({n_features}), got {len(names)} names")
    duplicated = sorted({name for name in names if names.count(name) > 1})
    if duplicated:
        raise ValueError(f"feature_names must be unique, got duplicates {duplicated}")
    return names


def check_X(X, feature_names=None) -> InputData:
    """Validate ``X`` (2D/3D array or DataFrame) and return it as :class:`InputData`."""
    frame_names = None
    if hasattr(X, "columns") and hasattr(X, "to_numpy") and getattr(X, "ndim", None) == 2:
        # dtype.kind also covers pandas extension dtypes (nullable Int64/Float64: "i"/"f";
        # the pandas 3 default string dtype: "O"), which np.dtype() cannot interpret.
        numeric_kinds = ("b", "i", "u", "f")
        non_numeric = [str(c) for c, dtype in X.dtypes.items() if getattr(dtype, "kind", None) not in numeric_kinds]
        if non_numeric:
            raise TypeError(
                f"{terms.arg('X')} must contain only numeric columns, got non-numeric columns {non_numeric}"
            )
        frame_names = [str(c) for c in X.columns]
        X = X.to_numpy(dtype=np.float64, na_value=np.nan)
    if not isinstance(X, np.ndarray):
        try:
            X = np.asarray(X)
        except (TypeError, ValueError) as error:
            raise TypeError(
                f"{terms.arg('X')} must be a numeric array or DataFrame, got {type(X).__name__} ({error})"
            ) from None
    if X.dtype.kind not in "biuf":
        raise TypeError(f"{terms.arg('X')} must be numeric, got an array of {terms.type_word(X.dtype)}")
    if X.ndim not in (2, 3):
        raise ValueError(
            f"{terms.arg('X')} must be 2D (n_samples, n_features) or 3D (n_samples, n_timesteps, n_features), "
            f"got an array of shape {X.shape}"
        )
    if 0 in X.shape:
        raise ValueError(f"{terms.arg('X')} must not be empty, got an array of shape {X.shape}")
    if X.dtype.kind != "f":
        X = X.astype(np.float64)
    bad = _first_non_finite(X)
    if bad is not None:
        raise ValueError(_non_finite_message("X", X, bad) + "; remove or impute them first")
    values = X if X.ndim == 3 else X[:, np.newaxis, :]
    n_features = values.shape[2]
    if feature_names is not None:
        names = check_feature_names(feature_names, n_features)
    elif frame_names is not None:
        names = check_feature_names(frame_names, n_features)
    else:
        names = _default_names(n_features)
    return InputData(values=values, feature_names=names, is_sequence=X.ndim == 3)


def check_y(y, n_samples: int) -> np.ndarray | None:
    """Validate ``y``: one row per sample, finite numbers; returned as a float64 array."""
    if y is None:
        return None
    if hasattr(y, "to_numpy"):
        y = y.to_numpy()
    y = np.asarray(y)
    if y.dtype.kind not in "biuf":
        raise TypeError(
            "y must be numeric (encode class labels as integers "
            f"{terms.index(0)}..K{'' if terms.index(0) else '-1'}), got {terms.type_word(y.dtype)}"
        )
    if y.ndim == 0 or y.ndim > 2:
        raise ValueError(f"y must be 1D (n_samples,) or 2D (n_samples, n_outputs), got shape {y.shape}")
    if y.shape[0] != n_samples:
        raise ValueError(f"y must have one row per sample of {terms.arg('X')} ({n_samples}), got {y.shape[0]} rows")
    y = y.astype(np.float64)
    bad = _first_non_finite(y)
    if bad is not None:
        raise ValueError(_non_finite_message("y", y, bad))
    return y


def check_groups(groups, feature_names: Sequence[str]) -> dict[str, tuple[int, ...]]:
    """Validate ``groups`` ({name: [feature names or 0-based indices]}) into index tuples."""
    if not isinstance(groups, Mapping):
        raise TypeError(f"groups must be a dict of {{group name: [features]}}, got {type(groups).__name__}")
    if len(groups) == 0:
        raise ValueError("groups must contain at least one group, got an empty dict")
    positions = {name: index for index, name in enumerate(feature_names)}
    resolved: dict[str, tuple[int, ...]] = {}
    for group_name, members in groups.items():
        if isinstance(members, (str, numbers.Integral)):
            members = [members]
        members = list(members)
        if not members:
            raise ValueError(f"groups[{group_name!r}] must name at least one feature, got an empty list")
        indices = []
        for member in members:
            if isinstance(member, str):
                if member not in positions:
                    raise ValueError(
                        f"groups[{group_name!r}] names unknown feature {member!r}; "
                        f"known features: {list(feature_names)}"
                    )
                indices.append(positions[member])
            elif isinstance(member, numbers.Integral) and not isinstance(member, (bool, np.bool_)):
                if not 0 <= int(member) < len(feature_names):
                    raise ValueError(
                        f"groups[{group_name!r}] has feature index {terms.index(member)} out of range "
                        f"{terms.index(0)}..{terms.index(len(feature_names) - 1)}"
                    )
                indices.append(int(member))
            else:
                raise TypeError(
                    f"groups[{group_name!r}] members must be feature names or integer indices, got {member!r}"
                )
        if len(set(indices)) != len(indices):
            raise ValueError(f"groups[{group_name!r}] lists a feature more than once: {members}")
        resolved[str(group_name)] = tuple(indices)
    return resolved
