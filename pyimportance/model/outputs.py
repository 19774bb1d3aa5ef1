"""A model's output as predictions: one finite float64 array per output head, one row per input row.

Models return arrays, tensors, pandas objects, or lists and dicts of them (several heads);
everything becomes float64 here, checked for shape and finiteness with the model named as the
culprit (:class:`~pyimportance.errors.ModelOutputError`).
"""

from __future__ import annotations

import numpy as np

from .. import terms
from ..data.finite import as_float64, check_finite
from ..errors import ModelOutputError


def as_prediction_heads(output, n_rows: int) -> list[np.ndarray]:
    """Model output (array, tensor, Series, list/dict of them) as finite float64 arrays, one per head."""
    if isinstance(output, dict):
        output = [output[key] for key in sorted(output)]
    if isinstance(output, (list, tuple)) and output and all(hasattr(part, "shape") for part in output):
        return [as_prediction_heads(part, n_rows)[0] for part in output]
    if hasattr(output, "index") and hasattr(output, "to_numpy"):  # a pandas Series or DataFrame
        index = output.index
        if len(index) == n_rows and not np.array_equal(np.asarray(index), np.arange(n_rows)):
            raise ModelOutputError(
                "model returned a pandas object whose index is not 0..n-1 in order, so its rows cannot be matched "
                "to the rows it was given; return an array (e.g. .to_numpy()) in the input's row order"
            )
        output = output.to_numpy()
    if hasattr(output, "numpy") and not isinstance(output, np.ndarray):
        output = output.numpy()
    matrix = as_float64(output, ModelOutputError, _not_numeric)
    if matrix.ndim == 0 or matrix.shape[0] != n_rows:
        got = f"output of {terms.shape(matrix.shape)}" if matrix.ndim else f"a single value {terms.literal(output)}"
        raise ModelOutputError(f"model must return one prediction row per input row ({n_rows}), got {got}")
    check_finite(matrix, ModelOutputError, lambda bad, size: (
        f"model returned NaN or infinite predictions ({bad} of {size} values); the model must return finite numbers"))
    return [matrix]


def _not_numeric(output) -> str:
    dtype = np.asarray(output).dtype if isinstance(output, (list, tuple, np.ndarray)) else None
    kind = f" of {terms.type_word(dtype)}" if dtype is not None else ""
    return f"model must return numeric predictions, got {type(output).__name__}{kind}"


def as_prediction_matrix(output, n_rows: int) -> np.ndarray:
    """Model output as one ``(n_rows, n_columns)`` matrix: every head's values side by side."""
    heads = as_prediction_heads(output, n_rows)
    return np.concatenate([head.reshape(n_rows, -1) for head in heads], axis=1)


def first_rows(output, rows: int):
    """The first ``rows`` rows of a model's output (an array, or a list or dict of them): what a padded call
    returned for its real rows."""
    if isinstance(output, dict):
        return {key: np.asarray(value)[:rows] for key, value in output.items()}
    if isinstance(output, (list, tuple)):
        return [np.asarray(part)[:rows] for part in output]
    return np.asarray(output)[:rows]
