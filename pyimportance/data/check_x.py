"""``X`` checked into :class:`~.inputs.Inputs`: one array or DataFrame, or a list/dict of them.

Numeric, 2D or 3D, not empty, finite (the first NaN named by position); several inputs matched
to the model's input names; feature names from ``feature_names``, DataFrame columns or
``x1, x2, ...``, made unique across inputs. The caller's arrays are viewed, never copied when
they are already float, and never written to. Nested lists (and ``list(X)`` of an array) are one
input, ``np.asarray(X)``, refused when ragged; a long DataFrame (one row per sample and time step)
is refused with its reshape once ``y`` shows it (:func:`check_not_long_frame`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np

from .. import terms
from .arguments import describe
from .finite import first_non_finite, non_finite_message
from .inputs import Inputs, ModelInput


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
        raise TypeError(f"{name} must be a sequence of strings, got {describe(feature_names)}") from None
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
    integer_data: tuple[bool, ...]  # per feature: an integer or bool dtype before the float conversion


def _check_array(X, name: str) -> _Array:
    """Validate one input (2D/3D array or DataFrame) without copying it when it is already float."""
    shown = terms.arg("X") if name == "X" else name
    original = X
    frame_names = None
    index = None
    if hasattr(X, "columns") and hasattr(X, "to_numpy") and getattr(X, "ndim", None) == 2:
        # dtype.kind also covers pandas extension dtypes (nullable Int64/Float64: "i"/"f";
        # the pandas 3 default string dtype: "O"), which np.dtype() cannot interpret.
        numeric_kinds = ("b", "i", "u", "f")
        non_numeric = [str(c) for c, dtype in X.dtypes.items() if getattr(dtype, "kind", None) not in numeric_kinds]
        if non_numeric:
            categories = [str(c) for c, dtype in X.dtypes.items() if str(dtype) == "category"]
            hint = "" if not categories else (
                f" ({terms.vector(categories)} {'is a category' if len(categories) == 1 else 'are categories'}: pass "
                f"the codes, e.g. X.assign({categories[0]}=X[{categories[0]!r}].cat.codes), and perturb them with "
                f"{terms.setting('method', 'permute')})")
            raise TypeError(
                f"{shown} must contain only numeric columns, got non-numeric columns {terms.vector(non_numeric)}"
                + hint
            )
        frame_names = [str(c) for c in X.columns]
        integer_data = tuple(getattr(dtype, "kind", None) in ("b", "i", "u") for dtype in X.dtypes)
        index = X.index
        X = X.to_numpy(dtype=np.float64, na_value=np.nan)
    if not isinstance(X, np.ndarray):
        try:
            X = np.asarray(X)
        except (TypeError, ValueError) as error:
            if isinstance(X, (list, tuple)):
                check_rectangular(X, shown)  # the usual reason: rows of different lengths
            raise TypeError(f"{shown} must be a numeric array or DataFrame, got {type(X).__name__} ({error})") from None
    if X.dtype.kind == "O" and isinstance(original, (list, tuple)):
        check_rectangular(original, shown)
    if X.dtype.kind not in "biuf":
        raise TypeError(f"{shown} must be numeric, got an array of {terms.type_word(X.dtype)}")
    if X.ndim not in (2, 3):
        raise ValueError(
            f"{shown} must be 2D (n_samples, n_features) or 3D (n_samples, n_timesteps, n_features), "
            f"got an array of {terms.shape(X.shape)}"
        )
    if 0 in X.shape:
        raise ValueError(f"{shown} must not be empty, got an array of {terms.shape(X.shape)}")
    if frame_names is None:
        integer_data = (X.dtype.kind in "biu",) * X.shape[-1]
    if X.dtype.kind != "f":
        X = X.astype(np.float64)
    bad = first_non_finite(X)
    if bad is not None:
        raise ValueError(non_finite_message(name, X, bad) + "; remove or impute them first")
    return _Array(X, frame_names, index, integer_data)


_NESTED = (list, tuple, np.ndarray)  # what holds rows or values in nested lists (list(X) gives arrays)


def check_rectangular(nested: list | tuple, shown: str) -> None:
    """Refuse nested lists whose rows (or time steps) have different lengths, naming the first that differs."""
    level: list[tuple[tuple[int, ...], object]] = [((i,), row) for i, row in enumerate(nested)]
    depth = 1
    while level and all(isinstance(item, _NESTED) for _, item in level):
        lengths = [len(item) for _, item in level]
        if len(set(lengths)) > 1:
            odd = next(k for k, length in enumerate(lengths) if length != lengths[0])
            where = "".join(f"[{terms.index(i)}]" for i in level[odd][0])
            first = "".join(f"[{terms.index(i)}]" for i in level[0][0])
            raise ValueError(
                f"{shown} must be rectangular (every row with the same number of values), got nested lists of "
                f"different lengths: {shown}{first} has {lengths[0]}, {shown}{where} has {lengths[odd]}; pad the "
                f"sequences to one length first (e.g. keras.utils.pad_sequences, then pass {terms.arg('mask_value')})"
            )
        level = [(position + (j,), part) for position, item in level for j, part in enumerate(item)]
        depth += 1
    if any(isinstance(item, _NESTED) for _, item in level):
        position = next(position for position, item in level if not isinstance(item, _NESTED))
        raise ValueError(
            f"{shown} must be rectangular, got nested lists mixing numbers and lists at depth {depth} "
            f"({shown}{''.join(f'[{terms.index(i)}]' for i in position)} is not a list)"
        )


def frame_index(X):
    """The row labels of a pandas DataFrame ``X`` (its index), else None (arrays, lists, several inputs)."""
    if hasattr(X, "columns") and hasattr(X, "to_numpy") and getattr(X, "ndim", None) == 2:
        return X.index
    return None


def check_not_long_frame(X, y) -> None:
    """Refuse a long DataFrame (one row per sample and time step, a ``(sample, time)`` MultiIndex) whose
    first index level has one label per row of ``y``, with the reshape to a 3D array.

    A frame with a MultiIndex may be plain tabular data (a panel of stores and dates, one sample per
    row), so only the disagreement with ``y`` tells that its rows are time steps; guessing the
    reshape silently could pair the wrong rows, so the caller reshapes it, with the code shown.
    """
    index = frame_index(X)
    if index is None or getattr(index, "nlevels", 1) < 2 or y is None or isinstance(y, Mapping) \
            or is_several_arrays(y) or not hasattr(y, "__len__"):
        return
    n_targets, n_rows = len(y), len(index)
    samples = index.get_level_values(0)
    n_samples = samples.nunique()
    if n_targets == n_rows or n_samples != n_targets or n_rows % n_samples:
        return
    n_times, n_features = n_rows // n_samples, X.shape[1]
    name = terms.arg("X")
    raise ValueError(
        f"{name} looks like a long DataFrame: {n_rows} rows indexed by ({', '.join(map(str, index.names))}), "
        f"{n_samples} samples of {n_times} time steps, where {terms.arg('y')} has one row per sample ({n_targets}); "
        f"pass it as a 3D array (n_samples, n_timesteps, n_features), in {terms.arg('y')}'s sample order, e.g. "
        f"X = X.sort_index(); X3 = X.to_numpy().reshape({n_samples}, {n_times}, {n_features}) "
        f"with feature_names=list(X.columns) (every sample needs all {n_times} time steps; else pad it: "
        f"X.unstack() shows the gaps)"
    )


def is_several_arrays(X) -> bool:
    """A list/tuple/dict of arrays (several model inputs), as opposed to one array-like."""
    if isinstance(X, Mapping):
        return True
    if isinstance(X, (list, tuple)) and X:
        return all(hasattr(part, "shape") and getattr(part, "ndim", 0) >= 1 for part in X)
    return False


def _is_list_of_rows(X) -> bool:
    """A list/tuple of 1D arrays (``list(X)`` of a 2D array): rows, since a model input is never 1D."""
    return isinstance(X, (list, tuple)) and all(getattr(part, "ndim", None) == 1 for part in X)


def check_X(X, feature_names=None, input_names: Sequence[str] | None = None) -> Inputs:
    """Validate ``X`` (one array/DataFrame, or a list/dict of them) into :class:`Inputs`.

    ``input_names`` are the model's own input names (Keras), used to match a dict and to
    name the inputs of a list; without them a list's inputs are named ``input1, input2, ...``.
    """
    if not is_several_arrays(X) or _is_list_of_rows(X):
        array = _check_array(X, "X")
        n_features = array.values.shape[-1]
        if feature_names is not None:
            names = check_feature_names(feature_names, n_features)
        elif array.frame_names is not None:
            names = check_feature_names(array.frame_names, n_features)
        else:
            names = default_feature_names(n_features)
        name = input_names[0] if input_names else "input"
        return Inputs((_model_input(name, array, names),), "array")
    return _check_several(X, feature_names, input_names)


def _model_input(name: str, array: _Array, feature_names: tuple[str, ...]) -> ModelInput:
    values = array.values
    is_sequence = values.ndim == 3
    return ModelInput(name, values if is_sequence else values[:, np.newaxis, :], feature_names, is_sequence,
                      integer_data=array.integer_data)


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
            same_shape = len({getattr(part, "shape", None) for part in X}) == 1
            raise ValueError(
                f"{x_name} must have one array per model input ({len(input_names)}: {terms.vector(input_names)}), "
                f"got {len(X)} arrays" + (f"; if they are samples (list({x_name}) of an array), pass "
                                          f"np.stack({x_name})" if same_shape else "")
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
        tuple(_model_input(name, array, label) for (name, array), label in zip(arrays, own_names)), form
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
                f"or a dict {{input name: names}}, got {describe(feature_names)}"
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
