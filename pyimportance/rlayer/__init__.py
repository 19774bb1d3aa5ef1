"""Every R convention of pyimportance, in one place, for both ways R reaches the engine.

R reaches the engine two ways: the R package (``r_wrapper/``, through reticulate) and the rpy2
layer (:mod:`pyimportance.rbridge`). Both must accept the same R objects and return the same
data frame for the same call, so neither knows any R convention itself. Each *binding* does
only what has to happen in its own language:

1. turn each R object into an :class:`RValue`, a neutral mirror of it (type, values as a NumPy
   array in R's index order, dimnames, names, factor levels, NA positions), and each R
   function into an :class:`RValue` of type ``"function"`` whose ``function`` calls the R
   function with :class:`RValue` arguments and returns an :class:`RValue` (or an
   :class:`RCondition` when R signalled an error or an interrupt);
2. call :func:`run_estimator` here with the estimator's name in :mod:`pyimportance.registry`
   (``"perturbation"``, ``"shapley"``, ``"sensitivity"``; :func:`perturbation_importance`,
   :func:`shapley_importance` and :func:`sensitivity_importance` are the same call), or
   :func:`call_from_r`, which returns errors;
3. turn the :class:`RValue` that comes back (a data frame with its attributes) into R.

Those thin wrappers aside, no code here names an estimator: each is its registry entry,
whose settings table says which arguments R offers (:func:`arguments_of`), and whose result
says what it reports beside the table (``extra_numbers()``, an attribute each).

Everything between is here: the R argument names (``x``, ``seed``) and their types, checked
one by one from the table :data:`ARGUMENTS` (a new argument is one line); 1-based group
members and time steps; factor codes and levels; feature names from ``dimnames`` and data
frame columns; R's ``NA`` (which NumPy cannot hold in integer and logical arrays: reticulate
reads ``NA_integer_`` as -2147483648 and logical ``NA`` as ``TRUE``, so the bindings report
NA positions separately and they become NaN here, as double ``NA`` already is, and the
engine's own check then names their 1-based position); R functions as model, method and loss
(what they receive, what they must return, their errors and interrupts); the result frame
(built generically from :meth:`ImportanceResult.to_frame`, time steps 1-based), its
attributes (those of :meth:`ImportanceResult.extra_numbers` among them) and the settings
list; and the translation of engine errors into R condition classes and R messages, the
engine being called with :func:`terms.speaking` ``(terms.R)``.

The pieces, one job each: :mod:`.values` (the mirror, and how R describes a value),
:mod:`.conditions` (condition classes and messages), :mod:`.data` (``x`` and ``y``, NA),
:mod:`.functions` (R functions as model, method and loss), :mod:`.r_arguments` (the table of the
other arguments), :mod:`.frame` (the result as R's data frame), :mod:`.embedding` (what an R
process embedding this Python needs of it); this module calls the engine.

Why by hand: reticulate and rpy2 each convert R objects to Python, but differently (lists
vs arrays, ``NA`` lost or kept, factors as strings), and neither knows what an argument
means; the neutral :class:`RValue` is the smallest common ground on which one piece of code
can apply the conventions for both.

A custom ``method`` is ``function(values, seed)`` in R: ``values`` is an array
``c(n, n_unit_timesteps, n_unit_features)``; ``seed`` a whole number drawn from the job's
own random generator, so results are reproducible and R code can call ``set.seed(seed)``.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np

from .. import registry, terms
from .conditions import (
    CONDITION_CLASSES,
    RArgumentError,
    RError,
    RFunctionError,
    as_r_error,
    condition_classes,
    r_message,
)
from .data import as_inputs, as_targets, dress_with_names
from .frame import as_r_setting, result_frame, unit_label
from .functions import r_loss, r_method, r_model
from .r_arguments import ARGUMENTS, Argument, arguments_of, engine_options
from .values import RCondition, RValue, describe, is_null, is_r_function

# The public classes are known by this module's name (R checks a result's Python class by it).
for _public in (RValue, RCondition, RError, RArgumentError, RFunctionError):
    _public.__module__ = __name__

__all__ = [
    "ARGUMENTS", "CONDITION_CLASSES", "Argument", "RArgumentError", "RCondition", "RError", "RFunctionError",
    "RValue", "as_inputs", "as_r_error", "as_r_setting", "as_targets", "call_from_r", "condition_classes",
    "arguments_of", "describe", "engine_options", "perturbation_importance", "r_loss", "r_message",
    "r_method", "r_model", "result_frame", "run_estimator", "sensitivity_importance", "shapley_importance",
    "unit_label",
]


def _check_executor(model, arguments: Mapping[str, Any]) -> None:
    """R functions run in this R process only: refuse them with an executor."""
    if is_null(arguments.get("executor")):
        return
    if any(is_r_function(item) for item in (model, arguments.get("method"), arguments.get("loss"))):
        raise RArgumentError(
            "executor needs a Python model and built-in method and loss: R functions cannot run in "
            "other processes or threads"
        )


def perturbation_importance(model, x, y=None, **arguments) -> RValue:
    """:func:`pyimportance.perturbation_importance` called with R's values, returning R's frame: the
    ``"perturbation"`` estimator of :func:`run_estimator`."""
    return run_estimator("perturbation", model, x, y, **arguments)


def shapley_importance(model, x, y=None, **arguments) -> RValue:
    """:func:`pyimportance.shapley_importance` called with R's values, returning R's frame: the ``"shapley"``
    estimator of :func:`run_estimator` (the frame also has the attributes ``total``, ``total_ci_low`` and
    ``total_ci_high``: v(all units), one per output)."""
    return run_estimator("shapley", model, x, y, **arguments)


def sensitivity_importance(model, x, y=None, **arguments) -> RValue:
    """:func:`pyimportance.sensitivity_importance` called with R's values, returning R's frame: the ``"sensitivity"``
    estimator of :func:`run_estimator` (the frame also has the per-row maps: ``attributions``, ``attribution_rows``,
    ``convergence_delta``, see :mod:`.row_frame`)."""
    return run_estimator("sensitivity", model, x, y, **arguments)


def run_estimator(estimator: str, model, x, y=None, /, **arguments) -> RValue:
    """The estimator named ``estimator`` in :mod:`pyimportance.registry` called with R's values, returning R's frame.

    Parameters
    ----------
    estimator : str
        Its name in the registry (``"perturbation"``, ``"shapley"``).
    model : RValue of type "function", or a Python model
    x : RValue (array, matrix, data frame, or a list of them), or a Python array
    y : RValue (vector, factor, matrix, data frame, or a list of them), Python array or None
    **arguments
        The settings the estimator offers R (:func:`arguments_of`), under their R names, as RValues or
        Python values.

    Returns
    -------
    RValue
        The result data frame (see :func:`result_frame`), with one attribute per number the result
        reports beside the table (``result.extra_numbers()``).

    Raises
    ------
    RError
        Any error, in R's terms (an unknown ``estimator`` too, naming those there are); ``KeyboardInterrupt``
        passes as it is.
    """
    with terms.speaking(terms.R):
        try:
            entry = registry.estimator(estimator)
            _check_executor(model, arguments)
            options = engine_options(arguments, arguments_of(entry))
            inputs = as_inputs(x)
            targets, classes = as_targets(y)
            if is_r_function(model):
                model = r_model(model, dress_with_names(inputs, options.get("feature_names")))
            elif isinstance(model, RValue):
                raise RArgumentError(
                    "model must be a Keras model (a Python object) or an R function(x) returning "
                    f"predictions, got {describe(model)}"
                )
            if options.get("feature_names") is None and inputs.feature_names is not None:
                options["feature_names"] = inputs.feature_names
            return result_frame(entry.function(model, inputs.values, targets, **options), classes)
        except Exception as error:  # KeyboardInterrupt (BaseException) stays an interrupt
            if interrupted_in_r(error):
                raise KeyboardInterrupt("interrupted in R") from error
            raise as_r_error(error) from error


#: The message of the RuntimeError that reticulate (1.28) raises in Python when R's own interrupt
#: (Rcpp's InterruptedException, a C++ exception it cannot name) unwinds through a call it made: a
#: Ctrl-C that R saw first while Python was running, e.g. in reticulate's poll for R interrupts.
RETICULATE_INTERRUPT = "(Unknown exception occurred)"


def interrupted_in_r(error: BaseException) -> bool:
    """Whether ``error`` (or an exception it was raised from) is R's interrupt as reticulate passes it on."""
    seen = set()
    while error is not None and id(error) not in seen:
        if isinstance(error, RuntimeError) and str(error) == RETICULATE_INTERRUPT:
            return True
        seen.add(id(error))
        error = error.__cause__ or error.__context__
    return False


#: The attribute under which :func:`call_from_r` hands the run's warnings to R, which raises them as R warnings.
ENGINE_WARNINGS = "engine_warnings"


def call_from_r(model, x, y=None, arguments: Mapping[str, Any] | None = None,
                estimator: str = "perturbation") -> RValue | RCondition:
    """:func:`run_estimator` (the estimator named ``estimator`` in :mod:`pyimportance.registry`) for a binding
    that cannot catch Python exceptions by type (reticulate): an error (an unknown ``estimator`` among them)
    comes back as an :class:`RCondition` with its classes, the run's warnings as the attribute
    :data:`ENGINE_WARNINGS`."""
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            frame = run_estimator(estimator, model, x, y, **dict(arguments or {}))
    except RError as error:
        return RCondition("error", error.message, error.classes, error.python_type)
    messages = list(dict.fromkeys(str(warning.message) for warning in caught))
    if messages:  # R raises them as R warnings (reticulate would only print Python's to stderr)
        frame.attributes[ENGINE_WARNINGS] = RValue("character", values=np.array(messages))
    return frame
