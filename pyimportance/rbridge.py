"""The rpy2 layer: call pyimportance with R objects from Python and get the R data frame back.

For Python code that holds R objects (through rpy2, ``pip install "pyimportance[r]"``): R
arrays, matrices, data frames, vectors, factors and R functions go in under the R package's
argument names (``x``, ``seed``, ...); the result is the R package's data frame (class
``pyimportance_result``, time steps 1-based), identical to what the R package returns for the
same call.

This module only mirrors R objects: each becomes a :class:`~pyimportance.rlayer.RValue`
(values through rpy2's own NumPy converter, ``numpy2ri``, in R's index order; NA positions
from R's ``is.na``), and the :class:`~pyimportance.rlayer.RValue` that comes back becomes R
again. Every R convention (argument checks, NA, factors, 1-based positions, R functions as
model/method/loss, the frame and its attributes, R-worded errors) is in
:mod:`pyimportance.rlayer`, which the R package uses too.

Errors are raised as :class:`~pyimportance.rlayer.RError`: the R package's message, and in
``classes`` its R condition classes (``pyimportance_model_error``, ...).

This module imports rpy2 (and starts an embedded R) and is imported only when used;
``import pyimportance`` never needs rpy2.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np

try:
    import rpy2.rinterface as rinterface
    import rpy2.robjects as ro
    from rpy2.robjects import numpy2ri
    from rpy2.robjects.conversion import localconverter
except ImportError as error:  # pragma: no cover - exercised only without rpy2
    raise ImportError("pyimportance.rbridge needs rpy2 (and R): pip install 'pyimportance[r]'") from error

from . import rlayer
from .rlayer import RCondition, RError, RValue

__all__ = ["RError", "as_r_value", "from_r_value", "perturbation_importance", "sensitivity_importance",
           "shapley_importance"]

_NUMPY = ro.default_converter + numpy2ri.converter
_ATOMIC = ("double", "integer", "logical", "character")
_FUNCTIONS = ("closure", "builtin", "special")


@cache
def _helpers():
    """Small R functions for what must happen in R: NA positions, data frames, guarded calls."""
    return ro.r(
        """list(
        na_positions = function(x) {
          if (!anyNA(x)) return(NULL)
          na <- is.na(x)
          if (is.double(x)) na <- na & !is.nan(x)
          storage.mode(na) <- "integer"
          na
        },
        as_integer_storage = function(x) { storage.mode(x) <- "integer"; x },
        codes = function(x) { x <- unclass(x); attributes(x) <- NULL; x },
        vector = function(x) if (length(dim(x)) <= 1L) as.vector(x) else x,
        set_na = function(x, na) { x[na] <- NA; x },
        frame = function(columns) structure(columns, class = "data.frame",
            row.names = c(NA_integer_, -(if (length(columns)) length(columns[[1]]) else 0L))),
        guard = function(fun) function(...) tryCatch(list(value = fun(...)),
            error = function(error) list(error = conditionMessage(error)),
            interrupt = function(condition) list(interrupted = TRUE))
        )"""
    )


def _helper(name: str):
    return _helpers().rx2(name)


def is_r_object(value) -> bool:
    """True for any rpy2 R object (vector, array, data frame, function, NULL)."""
    return isinstance(value, rinterface.Sexp)


def _is_null(value) -> bool:
    return value is rinterface.NULL or value is ro.NULL or isinstance(value, type(rinterface.NULL))


def _r_bool(function: str, value) -> bool:
    return bool(ro.baseenv[function](value)[0])


def _strings(value) -> tuple[str, ...] | None:
    return None if _is_null(value) else tuple(str(item) for item in value)


def _to_numpy(value) -> np.ndarray:
    """An atomic R vector or array as a NumPy array in R's index order (rpy2's numpy2ri)."""
    with localconverter(_NUMPY):
        return np.asarray(ro.conversion.get_conversion().rpy2py(value))


def _na(value) -> np.ndarray | None:
    positions = _helper("na_positions")(value)
    return None if _is_null(positions) else _to_numpy(positions).astype(bool)


def _dimnames(value) -> tuple | None:
    dimnames = ro.baseenv["dimnames"](value)
    if _is_null(dimnames):
        return None
    return tuple(_strings(part) for part in dimnames)


def as_r_value(value, name: str | None = None):
    """An R object as an :class:`RValue` (R NULL as None); a Python object as it is."""
    if not is_r_object(value):
        return value
    if _is_null(value):
        return None
    r_type = str(ro.baseenv["typeof"](value)[0])
    if r_type in _FUNCTIONS:
        return RValue("function", function=_caller(value), name=name or getattr(value, "__rname__", None))
    if _r_bool("is.factor", value):
        codes = _helper("codes")(value)
        return RValue("factor", values=_to_numpy(codes), levels=_strings(ro.baseenv["levels"](value)),
                      na=_na(codes))
    if r_type == "list":
        kind = "data.frame" if _r_bool("is.data.frame", value) else "list"
        return RValue(kind, names=_strings(ro.baseenv["names"](value)), items=tuple(as_r_value(item) for item in value))
    if r_type in _ATOMIC:
        stored = _helper("as_integer_storage")(value) if r_type == "logical" else value
        return RValue(r_type, values=_to_numpy(stored), dimnames=_dimnames(value), na=_na(value))
    return RValue(r_type)


def from_r_value(value):
    """An :class:`RValue` as the R object it mirrors (None as R NULL)."""
    if value is None or (isinstance(value, RValue) and value.type == "NULL"):
        return rinterface.NULL
    if not isinstance(value, RValue):
        return value
    if value.type in ("list", "data.frame"):
        out = ro.baseenv["list"](*(from_r_value(item) for item in value.items))
        if value.names is not None:
            out = ro.baseenv["names<-"](out, ro.StrVector(value.names))
        if value.type == "data.frame":
            out = _helper("frame")(out)
    else:
        with localconverter(_NUMPY):
            out = ro.conversion.get_conversion().py2rpy(value.values)
        out = _helper("vector")(out)
        if value.na is not None:
            out = _helper("set_na")(out, ro.BoolVector(value.na.reshape(-1, order="F").tolist()))
        if value.names is not None:
            out = ro.baseenv["names<-"](out, ro.StrVector(value.names))
        if value.dimnames is not None and value.values.ndim >= 2:
            parts = [rinterface.NULL if part is None else ro.StrVector(part) for part in value.dimnames]
            out = ro.baseenv["dimnames<-"](out, ro.baseenv["list"](*parts))
    for name, attribute in value.attributes.items():
        out = ro.baseenv["attr<-"](out, name, value=from_r_value(attribute))
    return out


def _caller(function) -> Any:
    """An R function as rlayer calls it: RValues in, an RValue (or an RCondition) out."""
    guarded = _helper("guard")(function)

    def call(*arguments):
        with localconverter(ro.default_converter):
            outcome = guarded(*(from_r_value(argument) for argument in arguments))
            kind = str(outcome.names[0])
            if kind == "error":
                return RCondition("error", str(outcome[0][0]))
            if kind == "interrupted":
                return RCondition("interrupt")
            return as_r_value(outcome[0])

    return call


def perturbation_importance(model, x, y=None, **arguments):
    """The R package's ``perturbation_importance()`` for R objects held in Python (rpy2).

    Parameters
    ----------
    model : rpy2 R function, Keras model or Python callable
        An R function gets each chunk of rows as an R array with the index order of ``x``
        (feature names on its last dimension; a data frame when ``x`` is one) and returns an
        R vector, matrix or data frame of predictions.
    x : R array/matrix/data.frame (or a list of them), or a NumPy array
    y : R numeric vector, factor (codes 0..K-1), matrix or data frame (or a list of them), optional
    **arguments
        The other arguments of the R package under their R names (``method``, ``scale``,
        ``relative_scale``, ``loss``, ``n_repeats``, ``by``, ``groups``, ``max_samples``,
        ``batch_size``, ``seed``, ``progress``, ``feature_names``, ``executor``), as R or
        Python values. ``method`` may be an R ``function(values, seed)``, ``loss`` an R
        ``function(y_true, y_pred)``; ``groups`` an R named list.

    Returns
    -------
    rpy2.robjects.vectors.DataFrame
        Class ``pyimportance_result``; time steps are 1-based, as in R.

    Raises
    ------
    RError
        With the R package's message and R condition classes.

    Examples
    --------
    >>> import rpy2.robjects as ro
    >>> x = ro.r("array(rnorm(600), c(100, 2, 3), dimnames = list(NULL, NULL, c('a', 'b', 'c')))")
    >>> model = ro.r("function(x) 2 * x[, 2, 'a']")
    >>> frame = perturbation_importance(model, x, n_repeats=2, seed=0)
    >>> list(frame.rx2("feature"))[0]
    'a'
    """
    return _call_r_layer("perturbation", model, x, y, arguments)


def shapley_importance(model, x, y=None, **arguments):
    """The R package's ``shapley_importance()`` for R objects held in Python (rpy2).

    Arguments and result as :func:`perturbation_importance`'s, with those of Shapley importance
    (``n_repeats``: unit orders per row, ``n_draws``; no ``method``); the data frame also has the
    attributes ``total``, ``total_ci_low`` and ``total_ci_high`` (v(all units)).

    Examples
    --------
    >>> import rpy2.robjects as ro
    >>> x = ro.r("matrix(rnorm(800), 400, 2, dimnames = list(NULL, c('a', 'b')))")
    >>> model = ro.r("function(x) x[, 'a'] * x[, 'b']")
    >>> frame = shapley_importance(model, x, model(x), seed=0)
    >>> sorted(frame.rx2("feature"))
    ['a', 'b']
    """
    return _call_r_layer("shapley", model, x, y, arguments)


def sensitivity_importance(model, x, y=None, **arguments):
    """The R package's ``sensitivity_importance()`` for R objects held in Python (rpy2).

    Arguments and result as :func:`perturbation_importance`'s, with those of sensitivity importance
    (``method``: ``"integrated_gradients"`` or ``"derivative"``, ``n_steps``, ``baselines``,
    ``attribution_rows``: 1-based rows of ``x``; no ``n_repeats``). ``model`` must be a Keras model (an R
    function has no gradients). The data frame also has the attributes ``attributions`` (the per-row maps:
    an R array rows x time steps x features, or a named list of them per input), ``attribution_rows`` (their
    1-based rows) and ``convergence_delta`` (per row), or ``attributions_note`` (why no maps were kept).

    Examples
    --------
    >>> import keras, numpy as np, rpy2.robjects as ro
    >>> x = ro.r("matrix(rnorm(200), 100, 2, dimnames = list(NULL, c('a', 'b')))")
    >>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1, use_bias=False)])
    >>> model.set_weights([np.array([[2.0], [0.0]])])
    >>> frame = sensitivity_importance(model, x, baselines="zeros", seed=0)
    >>> list(frame.rx2("feature"))
    ['a', 'b']
    """
    return _call_r_layer("sensitivity", model, x, y, arguments)


def _call_r_layer(estimator: str, model, x, y, arguments):
    """:func:`pyimportance.rlayer.run_estimator` for the estimator named ``estimator`` in
    :mod:`pyimportance.registry`, with the R objects mirrored, its frame made R again."""
    converted = {name: as_r_value(value) for name, value in arguments.items()}
    frame = rlayer.run_estimator(estimator, as_r_value(model), as_r_value(x), as_r_value(y), **converted)
    with localconverter(ro.default_converter):
        return from_r_value(frame)
