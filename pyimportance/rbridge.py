"""The rpy2 layer: call pyimportance with R objects from Python and get an R data frame back.

For Python code that holds R objects (through rpy2, ``pip install pyimportance[r]``): R arrays,
matrices, data frames, vectors and factors become NumPy/pandas objects with the same index order
and names; an R function becomes a model callable; the result is an R ``data.frame`` with the
columns of the R package (``feature``, [``timestep``,] ``importance``, ``std``, ``ci_low``,
``ci_high``), sorted by decreasing importance. As everywhere in R, time steps in that data frame
are 1-based (Python's :class:`~pyimportance.ImportanceResult` counts from 0).

R stores arrays column-major: element ``[i, j, k]`` (1-based) sits at offset
``(i-1) + (j-1)*n + (k-1)*n*T``. Values are therefore read flat and reshaped with ``order="F"``
from the ``dim`` attribute, which gives ``numpy_array[i-1, j-1, k-1] == r_array[i, j, k]``.

This module imports rpy2 (and starts an embedded R) and is imported only when used;
``import pyimportance`` never needs rpy2.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

try:
    import rpy2.rinterface as rinterface
    import rpy2.robjects as ro
except ImportError as error:  # pragma: no cover - exercised only without rpy2
    raise ImportError("pyimportance.rbridge needs rpy2 (and R): pip install 'pyimportance[r]'") from error

from .api import perturbation_importance as _perturbation_importance
from .result import ImportanceResult

_R_NA_INTEGER = np.iinfo(np.int32).min  # how R stores NA in integer and logical vectors


def is_r_object(value) -> bool:
    """True for any rpy2 R object (vector, array, data frame, function, NULL)."""
    return isinstance(value, rinterface.Sexp)


def _names(vector) -> list[str] | None:
    names = vector.names
    if names is ro.NULL or names is rinterface.NULL or names is None:
        return None
    return [str(name) for name in names]


def _dims(vector) -> tuple[int, ...] | None:
    dim = ro.baseenv["dim"](vector)
    if dim is ro.NULL or dim is rinterface.NULL:
        return None
    return tuple(int(d) for d in dim)


def _dimnames(vector) -> list[list[str] | None] | None:
    dimnames = ro.baseenv["dimnames"](vector)
    if dimnames is ro.NULL or dimnames is rinterface.NULL:
        return None
    return [None if part is rinterface.NULL or part is ro.NULL else [str(n) for n in part] for part in dimnames]


def _flat_values(vector) -> np.ndarray:
    """The values of an R atomic vector in R's storage order, as a NumPy copy (NA -> NaN)."""
    if isinstance(vector, (ro.vectors.StrVector, rinterface.StrSexpVector)):
        return np.array([None if v is ro.NA_Character else str(v) for v in vector], dtype=object)
    if isinstance(vector, (ro.vectors.IntVector, ro.vectors.BoolVector)):
        values = np.array(vector, dtype=np.int32).reshape(-1, order="F")
        missing = values == _R_NA_INTEGER
        if missing.any():
            values = values.astype(np.float64)
            values[missing] = np.nan
        elif isinstance(vector, ro.vectors.BoolVector):
            values = values.astype(bool)
        return values
    if isinstance(vector, ro.vectors.FloatVector):
        return np.array(vector, dtype=np.float64).reshape(-1, order="F")
    raise TypeError(f"cannot convert an R object of class {_r_class(vector)} to a NumPy array")


def _r_class(value) -> str:
    return "/".join(str(c) for c in ro.baseenv["class"](value))


def r_to_numpy(vector) -> np.ndarray:
    """An R vector, matrix or array as a NumPy array with the same index order."""
    values = _flat_values(vector)
    dims = _dims(vector)
    return values if dims is None else values.reshape(dims, order="F")


def factor_codes(factor) -> tuple[np.ndarray, list[str]]:
    """An R factor as integer codes ``0..K-1`` (R's codes minus one) and its levels."""
    codes = np.array(factor, dtype=np.int64)
    if (codes == _R_NA_INTEGER).any():
        raise ValueError("y must not contain NA values; remove or impute them first")
    return codes - 1, [str(level) for level in ro.baseenv["levels"](factor)]


def r_to_pandas(frame):
    """An R data frame as a pandas DataFrame: numeric columns as numbers, factors as categoricals."""
    import pandas as pd

    columns: dict[str, Any] = {}
    for name, column in zip(frame.names, frame):
        if isinstance(column, ro.vectors.FactorVector):
            codes, levels = factor_codes(column)
            columns[str(name)] = pd.Categorical.from_codes(codes, levels)
        else:
            columns[str(name)] = _flat_values(column)
    return pd.DataFrame(columns)


def as_python(value, *, role: str = "x"):
    """Convert an R object (or leave a Python one) for the engine.

    Arrays and matrices become NumPy arrays (``role="x"``: feature names from the last
    ``dimnames``, returned as ``(values, names)``); data frames become pandas DataFrames;
    factors become 0-based integer codes; other vectors 1D arrays.
    """
    names = None
    if isinstance(value, ro.vectors.DataFrame):
        converted = r_to_pandas(value)
        return (converted, None) if role == "x" else (converted.to_numpy(dtype=np.float64), None)
    if isinstance(value, ro.vectors.FactorVector):
        codes, levels = factor_codes(value)
        return codes, levels if role == "y" else None
    if is_r_object(value) and not isinstance(value, ro.functions.Function):
        if value is ro.NULL or value is rinterface.NULL:
            return None, None
        converted = r_to_numpy(value)
        if role == "x":
            dimnames = _dimnames(value)
            if dimnames is not None and converted.ndim >= 2:
                names = dimnames[converted.ndim - 1]
        return converted, names
    return value, None


def numpy_to_r(values: np.ndarray, feature_names: Sequence[str] | None = None):
    """A NumPy array as an R array of the same index order (names on its last dimension)."""
    values = np.asarray(values)
    flat = values.reshape(-1, order="F")
    if values.dtype.kind == "b":
        vector = ro.vectors.BoolVector(flat.tolist())
    elif values.dtype.kind in "iu":
        vector = ro.vectors.IntVector(flat.astype(np.int32).tolist())
    else:
        vector = ro.vectors.FloatVector(flat.astype(np.float64))
    if values.ndim >= 2:
        vector = ro.baseenv["array"](vector, dim=ro.vectors.IntVector(values.shape))
        if feature_names is not None and len(feature_names) == values.shape[-1]:
            dimnames = [ro.NULL] * (values.ndim - 1) + [ro.vectors.StrVector(list(feature_names))]
            vector = ro.baseenv["dimnames<-"](vector, ro.baseenv["list"](*dimnames))
    return vector


def _chunk_as_data_frame(values: np.ndarray, column_names: Sequence[str]):
    matrix = values.reshape(values.shape[0], -1)
    columns = {name: ro.vectors.FloatVector(matrix[:, j].astype(np.float64)) for j, name in enumerate(column_names)}
    return ro.vectors.DataFrame(columns)


def wrap_r_function(
    function, *, feature_names: Sequence[str] | None = None, as_data_frame: bool = False
) -> Callable[[np.ndarray], np.ndarray]:
    """An R function ``function(x) predictions`` as a model callable on NumPy chunks.

    Each chunk goes to R as an array of the same index order (with the feature names on its
    last dimension, or as a data frame when ``as_data_frame``); the R result (vector, matrix,
    array or data frame) comes back as a float64 NumPy array.
    """

    def model(chunk: np.ndarray) -> np.ndarray:
        if as_data_frame and feature_names is not None:
            argument = _chunk_as_data_frame(chunk, feature_names)
        else:
            argument = numpy_to_r(chunk, feature_names)
        output = function(argument)
        converted, _ = as_python(output, role="y")
        return np.asarray(converted, dtype=np.float64)

    model.__name__ = "r_function"
    return model


def _wrap_r_method(function) -> Callable:
    """An R ``function(values, seed)`` as a perturbation: R gets the unit's values as an array
    and a seed drawn from the job's generator (NumPy generators do not cross into R)."""

    def method(values: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        seed = int(rng.integers(0, 2**31 - 1))
        output = function(numpy_to_r(values), ro.vectors.IntVector([seed]))
        converted, _ = as_python(output, role="y")
        return np.asarray(converted, dtype=np.float64).reshape(values.shape, order="C")

    method.__name__ = "r_function"
    return method


def _wrap_r_loss(function) -> Callable:
    """An R ``function(y_true, y_pred)`` as a loss; one-column values arrive as R vectors."""

    def loss(y_true: np.ndarray, y_pred: np.ndarray) -> float:
        def one(values: np.ndarray):
            if values.ndim == 2 and values.shape[1] == 1:
                values = values[:, 0]
            return numpy_to_r(values)

        output = function(one(y_true), one(y_pred))
        converted, _ = as_python(output, role="y")
        return float(np.asarray(converted).reshape(-1)[0]) if np.size(converted) == 1 else converted

    loss.__name__ = "r_function"
    return loss


def _groups(groups):
    """An R named list of feature names (or 1-based numbers) as a dict of lists."""
    if not isinstance(groups, ro.vectors.ListVector):
        return groups
    names = _names(groups) or []
    resolved: dict[str, list] = {}
    for name, members in zip(names, groups):
        values = _flat_values(members)
        if values.dtype.kind in "if":
            resolved[name] = [int(v) - 1 for v in values]  # R numbers are 1-based
        else:
            resolved[name] = [str(v) for v in values]
    return resolved


def result_to_r(result: ImportanceResult, classes: Sequence[str] | None = None):
    """An :class:`ImportanceResult` as the R package's data frame (class ``pyimportance_result``).

    Columns ``feature``, [``timestep`` (1-based),] ``importance``, ``std``, ``ci_low``,
    ``ci_high``, sorted by decreasing importance; attributes ``importances`` (units x repeats,
    rows in the data frame's order), ``settings`` and ``baseline_score``.
    """
    frame = result.to_frame()
    columns: dict[str, Any] = {"feature": ro.vectors.StrVector(frame["feature"].tolist())}
    if "timestep" in frame:
        columns["timestep"] = ro.vectors.IntVector((frame["timestep"].to_numpy() + 1).tolist())
    for name in ("importance", "std", "ci_low", "ci_high"):
        columns[name] = ro.vectors.FloatVector(frame[name].to_numpy(dtype=np.float64))
    r_frame = ro.vectors.DataFrame(columns)

    if "timestep" in frame:
        steps = (frame["timestep"].to_numpy() + 1).tolist()
        labels = (
            [f"t{s}" for s in steps]
            if result.by == "timestep"
            else [f"{feature}@t{s}" for feature, s in zip(frame["feature"], steps)]
        )
    else:
        labels = frame["feature"].tolist()
    importances = result.importances[result.ranking]
    matrix = numpy_to_r(importances)
    matrix = ro.baseenv["dimnames<-"](
        matrix,
        ro.baseenv["list"](
            ro.vectors.StrVector(labels),
            ro.vectors.StrVector([f"repeat{r + 1}" for r in range(importances.shape[1])]),
        ),
    )
    settings = dict(result.settings)
    if classes is not None:
        settings["classes"] = list(classes)
    r_frame = ro.baseenv["structure"](
        r_frame,
        **{
            "class": ro.vectors.StrVector(["pyimportance_result", "data.frame"]),
            "importances": matrix,
            "settings": _settings_to_r(settings),
            "baseline_score": ro.vectors.FloatVector([result.baseline_score]),
        },
    )
    return r_frame


def _settings_to_r(settings: dict) -> Any:
    def convert(value):
        if value is None:
            return ro.NULL
        if isinstance(value, dict):
            return ro.vectors.ListVector({str(k): convert(v) for k, v in value.items()})
        if isinstance(value, (bool, np.bool_)):
            return ro.vectors.BoolVector([bool(value)])
        if isinstance(value, (int, np.integer)):
            # Fresh entropy does not fit an R integer: keep it as a string.
            return ro.vectors.IntVector([int(value)]) if abs(int(value)) < 2**31 else ro.vectors.StrVector([str(value)])
        if isinstance(value, (float, np.floating)):
            return ro.vectors.FloatVector([float(value)])
        if isinstance(value, str):
            return ro.vectors.StrVector([value])
        if isinstance(value, (list, tuple)):
            return ro.vectors.StrVector([str(v) for v in value])
        return ro.vectors.StrVector([str(value)])

    return ro.vectors.ListVector({key: convert(value) for key, value in settings.items()})


def perturbation_importance(model, x, y=None, **kwargs):
    """:func:`pyimportance.perturbation_importance` for R objects; returns an R data frame.

    Parameters
    ----------
    model : rpy2 R function, Keras model or Python callable
        An R function gets each chunk of rows as an R array with the index order of ``x``
        (feature names on its last dimension; a data frame when ``x`` is one) and returns an
        R vector or matrix of predictions.
    x : R array/matrix/data.frame (rpy2) or NumPy array / pandas DataFrame
        Feature names come from the last ``dimnames`` or the data frame's columns.
    y : R numeric vector, factor (codes 0..K-1) or matrix, or NumPy array, optional
    **kwargs
        The keyword arguments of :func:`pyimportance.perturbation_importance`
        (``method``, ``loss`` may be R functions; ``groups`` an R named list; ``seed`` is
        accepted as an alias of ``random_state``, as in the R package).

    Returns
    -------
    rpy2.robjects.vectors.DataFrame
        Class ``pyimportance_result``; time steps are 1-based, as in R.

    Examples
    --------
    >>> import rpy2.robjects as ro
    >>> x = ro.r("array(rnorm(600), c(100, 2, 3), dimnames = list(NULL, NULL, c('a', 'b', 'c')))")
    >>> model = ro.r("function(x) 2 * x[, 2, 'a']")
    >>> frame = perturbation_importance(model, x, n_repeats=2, seed=0)
    >>> list(frame.rx2("feature"))[0]
    'a'
    """
    if "seed" in kwargs:
        if "random_state" in kwargs:
            raise TypeError("pass seed or random_state, not both")
        kwargs["random_state"] = kwargs.pop("seed")
    x_values, x_names = as_python(x, role="x")
    y_values, classes = as_python(y, role="y")
    feature_names = kwargs.get("feature_names")
    if isinstance(feature_names, ro.vectors.StrVector):
        kwargs["feature_names"] = feature_names = [str(n) for n in feature_names]
    if feature_names is None and x_names is not None:
        kwargs["feature_names"] = feature_names = x_names
    if feature_names is None and hasattr(x_values, "columns"):
        feature_names = [str(c) for c in x_values.columns]
    if isinstance(model, ro.functions.Function):
        model = wrap_r_function(model, feature_names=feature_names, as_data_frame=isinstance(x, ro.vectors.DataFrame))
    if isinstance(kwargs.get("method"), ro.functions.Function):
        kwargs["method"] = _wrap_r_method(kwargs["method"])
    if isinstance(kwargs.get("loss"), ro.functions.Function):
        kwargs["loss"] = _wrap_r_loss(kwargs["loss"])
    if "groups" in kwargs:
        kwargs["groups"] = _groups(kwargs["groups"])
    for name in ("n_repeats", "batch_size", "max_samples", "random_state", "scale"):
        value = kwargs.get(name)
        if is_r_object(value) and len(value) == 1:
            kwargs[name] = value[0]
    result = _perturbation_importance(model, x_values, y_values, **kwargs)
    return result_to_r(result, classes=classes)
