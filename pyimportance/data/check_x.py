"""Argument checks and normalisation at the public boundary.

Every check raises ``TypeError`` or ``ValueError`` with a message that names the argument,
says what was expected and shows what was given, in the caller's terms (:mod:`.terms`).
Nothing here modifies the caller's data.
"""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np

from . import terms
from .inputs import Inputs, ModelInput

_FINITE_CHECK_ROWS = 4096  # rows checked at once, so a huge memory map is never copied whole


def _describe(value) -> str:
    if isinstance(value, np.ndarray):
        return f"array of {terms.shape(value.shape)} and {terms.type_word(value.dtype)}"
    text = terms.literal(value) if isinstance(value, (bool, np.bool_, type(None), str)) else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def check_positive_int(value, name: str, *, allow_none: bool = False) -> int | None:
    """Return ``value`` as an int >= 1 (an integral float such as R's ``5`` is accepted)."""
    if value is None and allow_none:
        return None
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be a positive integer, got {terms.literal(value)}")
    if isinstance(value, numbers.Real) and not isinstance(value, numbers.Integral):
        if not np.isfinite(value) or not float(value).is_integer():
            raise ValueError(f"{name} must be a positive integer, got {terms.number(value)}")
        value = int(value)
    if not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be a positive integer, got {type(value).__name__}: {_describe(value)}")
    if value < 1:
        raise ValueError(f"{name} must be a positive integer, got {terms.number(value)}")
    return int(value)


def check_positive_float(value, name: str) -> float:
    """Return ``value`` as a finite float > 0."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a positive number, got {type(value).__name__}: {_describe(value)}")
    if not np.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a positive finite number, got {terms.number(value)}")
    return float(value)


def check_flag(value, name: str, *, allow_none: bool = False) -> bool | None:
    """Return ``value`` as a bool (True/False, or None when allowed)."""
    if value is None and allow_none:
        return None
    if not isinstance(value, (bool, np.bool_)):
        allowed = [True, False, None] if allow_none else [True, False]
        raise TypeError(f"{name} must be {terms.choices(allowed)}, got {_describe(value)}")
    return bool(value)


def check_choice(value, name: str, choices: Sequence[str]) -> str:
    """Return ``value`` if it is one of ``choices``."""
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{name} must be one of {terms.choices(list(choices))}, got {_describe(value)}")
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
    in_r = terms.current().language == "R"
    shown = terms.number(values[index])
    return (
        f"{terms.arg(name) if name in ('X', 'y') else name} must not contain {'NA, NaN' if in_r else 'NaN'} "
        f"or infinite values, got {shown} at {terms.position(name, index)}"
    )


def default_feature_names(count: int) -> tuple[str, ...]:
    """The names features get when nothing names them: ``x1, x2, ...``."""
    return tuple(f"x{i + 1}" for i in range(count))


def check_feature_names(feature_names, n_features: int, name: str = "feature_names") -> tuple[str, ...]:
    """Validate ``feature_names``: ``n_features`` distinct strings."""
    if isinstance(feature_names, str):
        feature_names = [feature_names]
    try:
        names = tuple(str(name) for name in feature_names)
    except TypeError:
        raise TypeError(f"{name} must be a sequence of strings, got {_describe(feature_names)}") from None
    if len(names) != n_features:
        raise ValueError(f"{name} must have one name per feature ({n_features}), got {len(names)} names")
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        raise ValueError(f"{name} must be unique, got duplicates {terms.vector(duplicated)}")
    return names


@dataclass(frozen=True)
class _Array:
    """One checked input array and where its names came from."""

    values: np.ndarray  # 2D or 3D float array (a view of the caller's data where possible)
    frame_names: list[str] | None
    index: object | None  # the pandas index of a DataFrame, else None


def _check_array(X, name: str) -> _Array:
    """Validate one input (2D/3D array or DataFrame) without copying it when it is already float."""
    shown = terms.arg("X") if name == "X" else name
    frame_names = None
    index = None
    if hasattr(X, "columns") and hasattr(X, "to_numpy") and getattr(X, "ndim", None) == 2:
        # dtype.kind also covers pandas extension dtypes (nullable Int64/Float64: "i"/"f";
        # the pandas 3 default string dtype: "O"), which np.dtype() cannot interpret.
        numeric_kinds = ("b", "i", "u", "f")
        non_numeric = [str(c) for c, dtype in X.dtypes.items() if getattr(dtype, "kind", None) not in numeric_kinds]
        if non_numeric:
            raise TypeError(
                f"{shown} must contain only numeric columns, got non-numeric columns {terms.vector(non_numeric)}"
            )
        frame_names = [str(c) for c in X.columns]
        index = X.index
        X = X.to_numpy(dtype=np.float64, na_value=np.nan)
    if not isinstance(X, np.ndarray):
        try:
            X = np.asarray(X)
        except (TypeError, ValueError) as error:
            raise TypeError(f"{shown} must be a numeric array or DataFrame, got {type(X).__name__} ({error})") from None
    if X.dtype.kind not in "biuf":
        raise TypeError(f"{shown} must be numeric, got an array of {terms.type_word(X.dtype)}")
    if X.ndim not in (2, 3):
        raise ValueError(
            f"{shown} must be 2D (n_samples, n_features) or 3D (n_samples, n_timesteps, n_features), "
            f"got an array of {terms.shape(X.shape)}"
        )
    if 0 in X.shape:
        raise ValueError(f"{shown} must not be empty, got an array of {terms.shape(X.shape)}")
    if X.dtype.kind != "f":
        X = X.astype(np.float64)
    bad = _first_non_finite(X)
    if bad is not None:
        raise ValueError(_non_finite_message(name, X, bad) + "; remove or impute them first")
    return _Array(X, frame_names, index)


def _is_several_inputs(X) -> bool:
    """A list/tuple/dict of arrays (several model inputs), as opposed to one array-like."""
    if isinstance(X, Mapping):
        return True
    if isinstance(X, (list, tuple)) and X:
        return all(hasattr(part, "shape") and getattr(part, "ndim", 0) >= 1 for part in X)
    return False


def check_X(X, feature_names=None, input_names: Sequence[str] | None = None) -> Inputs:
    """Validate ``X`` (one array/DataFrame, or a list/dict of them) into :class:`Inputs`.

    ``input_names`` are the model's own input names (Keras), used to match a dict and to
    name the inputs of a list; without them a list's inputs are named ``input1, input2, ...``.
    """
    if not _is_several_inputs(X):
        array = _check_array(X, "X")
        n_features = array.values.shape[-1]
        if feature_names is not None:
            names = check_feature_names(feature_names, n_features)
        elif array.frame_names is not None:
            names = check_feature_names(array.frame_names, n_features)
        else:
            names = default_feature_names(n_features)
        name = input_names[0] if input_names else "input"
        return Inputs((_model_input(name, array.values, names),), "array")
    return _check_several(X, feature_names, input_names)


def _model_input(name: str, values: np.ndarray, feature_names: tuple[str, ...]) -> ModelInput:
    is_sequence = values.ndim == 3
    return ModelInput(name, values if is_sequence else values[:, np.newaxis, :], feature_names, is_sequence)


def _check_several(X, feature_names, input_names: Sequence[str] | None) -> Inputs:
    """Several inputs: a dict matched to the model's input names, or a list in the model's order."""
    x_name = terms.arg("X")
    if isinstance(X, Mapping):
        given = [str(key) for key in X]
        if len(set(given)) != len(given):
            raise ValueError(f"{x_name} must name each input once, got names {terms.vector(given)}")
        if input_names:
            missing = [name for name in input_names if name not in given]
            unknown = [name for name in given if name not in input_names]
            if missing or unknown:
                raise ValueError(
                    f"{x_name} must have one array per model input {terms.vector(input_names)}, "
                    f"got {terms.vector(given)}" + (f" (missing {terms.vector(missing)})" if missing else "")
                    + (f" (unknown {terms.vector(unknown)})" if unknown else "")
                )
            order = list(input_names)
        else:
            order = given
        by_name = {str(key): value for key, value in X.items()}
        parts = [(name, by_name[name]) for name in order]
        form = "dict"
    else:
        if input_names and len(input_names) != len(X):
            raise ValueError(
                f"{x_name} must have one array per model input ({len(input_names)}: {terms.vector(input_names)}), "
                f"got {len(X)} arrays"
            )
        names = list(input_names) if input_names else [f"input{i + 1}" for i in range(len(X))]
        parts = list(zip(names, X))
        form = "list"
    arrays = [(name, _check_array(value, terms.element(x_name, name))) for name, value in parts]
    n_samples = {name: array.values.shape[0] for name, array in arrays}
    if len(set(n_samples.values())) > 1:
        counts = ", ".join(f"{terms.literal(name)}: {count}" for name, count in n_samples.items())
        raise ValueError(f"every input in {x_name} must have the same number of samples, got {{{counts}}}")
    own_names = _several_feature_names(feature_names, arrays)
    inputs = Inputs(
        tuple(_model_input(name, array.values, label) for (name, array), label in zip(arrays, own_names)), form
    )
    return qualify_clashing_names(inputs)


def _several_feature_names(feature_names, arrays) -> list[tuple[str, ...]]:
    """Each input's own feature names: from ``feature_names`` (list per input or dict), columns or x1..xF."""
    names_of = {}
    if feature_names is not None:
        if isinstance(feature_names, Mapping):
            names_of = {str(key): value for key, value in feature_names.items()}
            unknown = [key for key in names_of if key not in dict(arrays)]
            if unknown:
                raise ValueError(f"feature_names names unknown inputs {terms.vector(unknown)}; inputs: "
                                 f"{terms.vector([n for n, _ in arrays])}")
        elif isinstance(feature_names, (list, tuple)) and len(feature_names) == len(arrays) and all(
            not isinstance(part, str) for part in feature_names
        ):
            names_of = {name: part for (name, _), part in zip(arrays, feature_names)}
        else:
            raise TypeError(
                "feature_names for several inputs must be a list with one list of names per input "
                f"or a dict {{input name: names}}, got {_describe(feature_names)}"
            )
    result = []
    for name, array in arrays:
        n_features = array.values.shape[-1]
        label = terms.element("feature_names", name)
        if name in names_of and names_of[name] is not None:
            result.append(check_feature_names(names_of[name], n_features, label))
        elif array.frame_names is not None:
            result.append(check_feature_names(array.frame_names, n_features, label))
        else:
            result.append(default_feature_names(n_features))
    return result


def qualify_clashing_names(inputs: Inputs) -> Inputs:
    """Prefix feature names that several inputs share with ``input:``, so every label is unique."""
    counts: dict[str, int] = {}
    for part in inputs.parts:
        for name in part.feature_names:
            counts[name] = counts.get(name, 0) + 1
    if all(count == 1 for count in counts.values()):
        return inputs
    parts = tuple(
        replace(part, feature_names=tuple(f"{part.name}:{n}" if counts[n] > 1 else n for n in part.feature_names))
        for part in inputs.parts
    )
    return Inputs(parts, inputs.form)


def _as_target_array(y, name: str, n_samples: int, x_index=None) -> np.ndarray:
    """One target: numeric, 1D or 2D ((n, 1) flattened to (n,)), one row per sample, finite."""
    if hasattr(y, "to_numpy"):
        index = getattr(y, "index", None)
        if index is not None and x_index is not None and not index.equals(x_index):
            if len(index) == len(x_index) and set(index) == set(x_index):
                raise ValueError(
                    f"{name} is a pandas object whose index is in another order than {terms.arg('X')}'s; "
                    f"align it first, e.g. {name}.loc[X.index]"
                )
        elif index is not None and x_index is None and hasattr(index, "equals"):
            import pandas as pd

            if not index.equals(pd.RangeIndex(len(index))):
                warnings.warn(
                    f"{name} is a pandas object whose index is not 0..{len(index) - 1}; it is matched to the "
                    f"rows of {terms.arg('X')} by position",
                    UserWarning,
                    stacklevel=4,
                )
        y = y.to_numpy()
    y = np.asarray(y)
    if y.dtype.kind not in "biuf":
        raise TypeError(
            f"{name} must be numeric (encode class labels as integers {terms.index(0)}..K"
            f"{'' if terms.index(0) else '-1'}), got {terms.type_word(y.dtype)}"
        )
    if y.ndim == 0 or y.ndim > 3:
        raise ValueError(
            f"{name} must be 1D (n_samples,), 2D (n_samples, n_outputs) or 3D (n_samples, n_timesteps, n_outputs), "
            f"got {terms.shape(y.shape)}"
        )
    if y.shape[0] != n_samples:
        raise ValueError(
            f"{name} must have one row per sample of {terms.arg('X')} ({n_samples}), got {y.shape[0]} rows"
        )
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    y = np.ascontiguousarray(y, dtype=np.float64)  # C order: sums must not depend on the caller's layout
    bad = _first_non_finite(y)
    if bad is not None:
        raise ValueError(_non_finite_message(name, y, bad))
    return y


def check_y(y, n_samples: int, x_index=None) -> list[tuple[str | None, np.ndarray]] | None:
    """Validate ``y``: one target array, or a list/dict of them (one per output head).

    Returns a list of ``(head name or None, float64 array)``, or None without ``y``.
    """
    if y is None:
        return None
    if isinstance(y, Mapping):
        if not y:
            raise ValueError("y must not be an empty dict")
        return [(str(k), _as_target_array(v, terms.element("y", str(k)), n_samples)) for k, v in y.items()]
    if _is_several_inputs(y):
        return [(None, _as_target_array(v, terms.element("y", i), n_samples)) for i, v in enumerate(y)]
    return [(None, _as_target_array(y, "y", n_samples, x_index))]


def check_groups(groups, feature_names: Sequence[str]) -> dict[str, tuple[int, ...]]:
    """Validate ``groups`` ({name: [feature names or 0-based indices]}) into index tuples."""
    if not isinstance(groups, Mapping):
        raise TypeError(f"groups must be a dict of {{group name: [features]}}, got {type(groups).__name__}")
    if len(groups) == 0:
        raise ValueError("groups must contain at least one group, got an empty dict")
    labels = [str(name) for name in groups]
    clashing = sorted({label for label in labels if labels.count(label) > 1})
    if clashing:
        raise ValueError(
            f"groups must have distinct names, got keys that read the same as text: {clashing} "
            f"(from {terms.vector(list(groups))})"
        )
    positions = {name: index for index, name in enumerate(feature_names)}
    resolved: dict[str, tuple[int, ...]] = {}
    for group_name, members in groups.items():
        shown = terms.element("groups", str(group_name))
        if isinstance(members, (str, numbers.Integral)):
            members = [members]
        members = list(members)
        if not members:
            raise ValueError(f"{shown} must name at least one feature, got an empty list")
        indices = [_group_member(member, shown, positions, feature_names) for member in members]
        if len(set(indices)) != len(indices):
            raise ValueError(f"{shown} lists a feature more than once: {terms.vector(members)}")
        resolved[str(group_name)] = tuple(indices)
    return resolved


def _group_member(member, shown: str, positions: Mapping[str, int], feature_names: Sequence[str]) -> int:
    """One group member (a feature name or a position) as a 0-based feature index."""
    if isinstance(member, str):
        if member not in positions:
            raise ValueError(f"{shown} names unknown feature {terms.literal(member)}; known features: "
                             f"{terms.vector(feature_names)}")
        return positions[member]
    if isinstance(member, numbers.Integral) and not isinstance(member, (bool, np.bool_)):
        as_position = 0 <= int(member) < len(feature_names)
        as_name = str(int(member)) in positions
        if as_name and as_position and positions[str(int(member))] != int(member):
            raise ValueError(
                f"{shown} member {member} is ambiguous: feature names are numbers too; pass the name as "
                f"text ({terms.literal(str(int(member)))}) or the position of another feature"
            )
        if as_position:
            return int(member)
        if as_name:
            return positions[str(int(member))]
        raise ValueError(
            f"{shown} has feature {terms.either('index', 'number')} {terms.index(int(member))} out of range "
            f"{terms.index(0)}..{terms.index(len(feature_names) - 1)}"
        )
    raise TypeError(f"{shown} members must be feature names or integer indices, got {_describe(member)}")
