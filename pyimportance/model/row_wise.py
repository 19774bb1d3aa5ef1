"""The row-wise check: a few rows predicted alone must match the same rows predicted among others.

The engine packs rows of many perturbed copies into each model call, so a model whose output
for a row depends on the other rows of the call (statistics over the batch, batch
normalisation in training mode) or varies between calls (dropout at prediction time) would
give numbers that change with ``batch_size``. It is refused before any perturbed row is scored.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..errors import NotRowWiseError
from .predict import PredictFunction

# Rows predicted alone, and the tolerance (relative to the predictions' scale): float32 rounding
# differs by ~1e-7; a model that reads other rows of the call differs by far more.
_ROW_CHECK_ROWS = 3
_ROW_CHECK_TOLERANCE = 1e-4


def check_row_wise(predict: PredictFunction, arguments_for: Callable[[np.ndarray], object],
                   baseline: np.ndarray) -> None:
    """Raise :class:`NotRowWiseError` unless a few rows predicted alone match their predictions among others.

    ``arguments_for(rows)`` builds the model's arguments for those rows of the evaluation data;
    ``baseline`` holds the predictions of all rows from the baseline's calls.
    """
    n_rows = baseline.shape[0]
    if n_rows <= 1:
        return
    rows = np.arange(min(_ROW_CHECK_ROWS, n_rows - 1))
    alone = predict(arguments_for(rows))
    scale = float(np.max(np.abs(baseline))) + 1e-12
    difference = float(np.max(np.abs(alone - baseline[rows])))
    if difference > _ROW_CHECK_TOLERANCE * scale:
        raise NotRowWiseError(
            f"model is not row-wise: the predictions for the same rows changed by up to {difference:.4g} "
            f"(predictions up to {scale:.4g}) when predicted with other rows of the data. pyimportance packs rows "
            "of many perturbed copies into each model call, so a row's prediction must depend on that row only "
            "(no statistics over the batch such as batch normalisation in training mode, no stateful layers) and "
            "be the same in every call (no dropout at prediction time)"
        )
