"""R functions as the engine's model, method and loss: what they receive (R arrays shaped like
``x``, a whole-number seed, plain vectors for one-column targets), what they must return, and
their errors and interrupts (an :class:`RCondition` from the binding).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from ..errors import MethodFailedError, ModelOutputError
from .conditions import RFunctionError
from .values import INT32_MAX, NUMERIC_TYPES, RCondition, RValue, describe, dim_text


def _call(function: RValue, role: str, *arguments: RValue) -> Any:
    """Call an R function through its binding; R's errors and interrupts become Python's."""
    outcome = function.function(*arguments)
    if isinstance(outcome, RCondition):
        if outcome.kind == "interrupt":
            raise KeyboardInterrupt(f"interrupted in R (the {role} function)")
        raise RFunctionError(role, outcome.message, signalled=True)
    return outcome


def na_count(value: RValue) -> int:
    return 0 if value.na is None else int(value.na.sum())


def _model_output(value, n_rows: int) -> Any:
    """What an R model returned, as predictions: a vector, matrix, data frame, or a list of them (heads; a named
    list's heads are known by its names, as a Keras model's named outputs are)."""
    if not isinstance(value, RValue):
        return value
    if value.type == "list":
        if value.names is not None and all(value.names) and len(set(value.names)) == len(value.names):
            return {name: _model_output(item, n_rows) for name, item in zip(value.names, value.items)}
        return [_model_output(item, n_rows) for item in value.items]
    if value.type == "data.frame":
        bad = [item for item in value.items if not (isinstance(item, RValue) and item.type in NUMERIC_TYPES)]
        if bad or not value.items:
            got = f"a {bad[0].type if isinstance(bad[0], RValue) else 'non-numeric'} column" if bad else "no column"
            raise ModelOutputError(f"model must return numeric predictions, got a data frame with {got}")
        value = RValue("double", values=np.column_stack([item.values.astype(np.float64) for item in value.items]),
                       na=np.column_stack([np.zeros(item.length, bool) if item.na is None else item.na
                                           for item in value.items]))
    if value.type not in NUMERIC_TYPES:
        hint = "; return class probabilities, not labels" if value.type in ("factor", "character") else ""
        raise ModelOutputError(f"model must return numeric predictions, got {describe(value)}{hint}")
    if value.values.shape[0] != n_rows:
        raise ModelOutputError(f"model must return one prediction per row of its input ({n_rows}), got "
                               f"{describe(value)}")
    if value.na is not None:
        raise ModelOutputError(f"model must return numbers, got NA in {na_count(value)} of {value.length} values")
    return value.values.astype(np.float64)


def r_model(function: RValue, dress) -> Callable:
    """An R ``function(x)`` as the engine's model: chunks go to R dressed like ``x``."""

    def model(chunk):
        if isinstance(dress, Mapping):
            argument = RValue("list", names=tuple(chunk), items=tuple(dress[key](chunk[key]) for key in chunk))
        elif isinstance(dress, (list, tuple)):
            argument = RValue("list", items=tuple(part(piece) for part, piece in zip(dress, chunk)))
        else:
            argument = dress(chunk)
        first = next(iter(chunk.values())) if isinstance(chunk, Mapping) else (
            chunk[0] if isinstance(chunk, (list, tuple)) else chunk)
        return _model_output(_call(function, "model", argument), len(first))

    model.__name__ = function.name or "custom"
    return model


def _method_block(output, given: np.ndarray) -> np.ndarray:
    """One block an R method returned: numbers without NA, with the ``dim`` it was given."""
    expected = f"a numeric array with dim {dim_text(given.shape)} (as it was given)"
    if not isinstance(output, RValue) or output.type not in NUMERIC_TYPES:
        raise MethodFailedError(f"method must return {expected}, got {describe(output)}")
    if output.values.shape != given.shape:
        got = describe(output) + (" (no dim)" if output.values.ndim == 1 else "")
        raise MethodFailedError(f"method must return {expected}, got {got}")
    if output.na is not None:
        raise MethodFailedError(f"method must return numbers, got NA in {na_count(output)} of {output.length} values")
    return output.values.astype(np.float64)


def r_method(function: RValue) -> Callable:
    """An R ``function(values, seed)`` as the engine's perturbation ``(values, rng)``.

    ``values`` is the unit's block, an array ``c(n, n_unit_timesteps, n_unit_features)`` (a
    list of them, one per input, for a unit that spans several inputs); ``seed`` a whole
    number from the job's own generator.
    """

    def method(values, rng: np.random.Generator):
        seed = int(rng.integers(0, INT32_MAX))
        several = isinstance(values, (list, tuple))
        blocks = [np.asarray(block, dtype=np.float64) for block in (values if several else [values])]
        given = [RValue("double", values=block) for block in blocks]
        argument = RValue("list", items=given) if several else given[0]
        output = _call(function, "method", argument, RValue("integer", values=np.array([seed], dtype=np.int32)))
        if not several:
            return _method_block(output, blocks[0])
        if not (isinstance(output, RValue) and output.type == "list" and len(output.items) == len(blocks)):
            raise MethodFailedError(
                f"method must return a list of {len(blocks)} arrays for a unit that spans {len(blocks)} inputs, "
                f"got {describe(output)}"
            )
        return [_method_block(item, block) for item, block in zip(output.items, blocks)]

    method.__name__ = function.name or "custom"
    return method


def _loss_argument(values: np.ndarray) -> RValue:
    """Targets/predictions for an R loss: one column arrives as a plain numeric vector."""
    values = np.asarray(values, dtype=np.float64)
    if values.ndim == 2 and values.shape[1] == 1:
        values = values[:, 0]
    return RValue("double", values=values)


def r_loss(function: RValue) -> Callable:
    """An R ``function(y_true, y_pred)`` as the engine's loss: one number (larger is worse), or one per row."""

    def loss(y_true: np.ndarray, y_pred: np.ndarray):
        output = _call(function, "loss", _loss_argument(y_true), _loss_argument(y_pred))
        n_rows = len(y_true)
        if (not isinstance(output, RValue) or output.type not in ("double", "integer")
                or output.length not in (1, n_rows) or output.na is not None):
            raise RFunctionError("loss", f"loss must return a single number (or one per row: {n_rows}), "
                                         f"got {describe(output)}")
        values = output.values.astype(np.float64).reshape(-1)
        return float(values[0]) if values.size == 1 else values

    loss.__name__ = function.name or "custom"
    return loss


def _learner_output(value, n_rows: int) -> np.ndarray:
    """What an R learner's predict function returned: one number per row, without NA."""
    if (not isinstance(value, RValue) or value.type not in NUMERIC_TYPES or value.values.size != n_rows
            or value.na is not None):
        raise RFunctionError("learner", f"learner's predict function must return {n_rows} numbers (one per row), "
                                        f"got {describe(value)}")
    return value.values.astype(np.float64).reshape(-1)


def r_learner(function: RValue) -> Callable:
    """An R ``function(x, y)`` returning a ``function(x)`` of predictions, as the conditional model's fit function.

    ``x`` is a numeric matrix (the rows, every column outside the unit), ``y`` a numeric vector;
    both functions are called while the sampler is made, before the run, in the calling thread
    (:mod:`pyimportance.methods.learners`), never from the pipeline's thread or an executor.
    """

    def fit(x: np.ndarray, y: np.ndarray):
        predict = _call(function, "learner", RValue("double", values=np.asarray(x, dtype=np.float64)),
                        RValue("double", values=np.asarray(y, dtype=np.float64)))
        if not (isinstance(predict, RValue) and predict.type == "function"):
            raise RFunctionError("learner", f"learner must return a predict function(x) from fit(x, y), "
                                            f"got {describe(predict)}")

        def predict_rows(rows: np.ndarray) -> np.ndarray:
            output = _call(predict, "learner", RValue("double", values=np.asarray(rows, dtype=np.float64)))
            return _learner_output(output, len(rows))

        return predict_rows

    fit.__name__ = function.name or "custom"
    return fit
