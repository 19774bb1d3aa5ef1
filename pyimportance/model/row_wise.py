"""The checks that a model is row-wise and repeatable, before any perturbed row is scored.

The engine packs rows of many perturbed copies into each model call and compares their
predictions with the baseline's, from other calls. Two kinds of model would give numbers that
change with ``batch_size`` or from run to run, and are refused:

- one whose predictions vary between identical calls (dropout or noise at prediction time, as in
  MC dropout): :func:`check_repeatable` predicts the whole first row block again, in the same calls
  (batch shapes) as the baseline, and compares them. The same calls, because float32 kernels round
  differently at other batch shapes; the whole block, because a layer that drops 1% of its units
  may leave a few rows unchanged. Not bit for bit but to 1e-5 of the predictions' scale: a
  deterministic NumPy model's sums round differently with the memory alignment of its arrays
  (``np.tanh(x).sum(axis=(1, 2))`` differs by 2e-15 between two calls on the same values), and
  GPU kernels that add in any order do too, where dropout changes predictions by percents;
- one whose output for a row depends on the other rows of the call (statistics over the batch,
  batch normalisation in training mode): :func:`check_row_wise` compares a few rows predicted
  alone with the same rows among others, to float32 rounding.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .. import terms
from ..errors import NotRowWiseError
from .predict import PredictFunction, forget_compiled

# Rows predicted alone, and the tolerance (relative to the predictions' scale): float32 rounding
# differs by ~1e-7; a model that reads other rows of the call differs by far more.
_ROW_CHECK_ROWS = 3
_ROW_CHECK_TOLERANCE = 1e-4
# Two identical calls: rounding with the arrays' memory alignment (NumPy) or the order of a GPU's
# additions changes a prediction by ~1e-7 of the predictions' scale at most (float32); dropout by 1e-2.
_REPEAT_TOLERANCE = 1e-5


def check_repeatable(predict: PredictFunction, arguments_for: Callable[[np.ndarray], object],
                     baseline: np.ndarray) -> None:
    """Raise :class:`NotRowWiseError` unless the rows of ``baseline`` predicted again give the same predictions
    (to rounding: :data:`_REPEAT_TOLERANCE` of their scale).

    ``baseline`` holds the predictions of the block's rows from the baseline's calls, which take the
    rows in order, ``predict.batch_rows`` at a time; they are predicted again in the same calls.
    """
    n_rows, step = baseline.shape[0], max(int(predict.batch_rows), 1)
    again = np.concatenate([predict(arguments_for(np.arange(start, min(start + step, n_rows))))
                            for start in range(0, n_rows, step)])
    finite = np.isfinite(baseline)
    scale = float(np.max(np.abs(baseline[finite]))) if finite.any() else 0.0
    same = (np.abs(again - baseline) <= _REPEAT_TOLERANCE * scale) | (again == baseline) \
        | (np.isnan(again) & np.isnan(baseline))
    if same.all():
        return
    forget_compiled(predict.model)  # a fix on the same model object (a layer's rate set to 0) must be traced anew
    changed = int((~same).any(axis=1).sum())
    difference = float(np.nanmax(np.abs(again - baseline)))
    training = f"training = {terms.literal(True)}" if terms.current().language == "R" else "training=True"
    example = ("layer$rate <- 0 for each dropout layer" if terms.current().language == "R" else
               "for layer in model.layers: if isinstance(layer, keras.layers.Dropout): layer.rate = 0.0")
    raise NotRowWiseError(
        f"model is not deterministic: predicting the same {n_rows} rows twice, in the same calls, changed the "
        f"predictions of {changed} of them (by up to {difference:.4g}; predictions up to {scale:.4g}). pyimportance "
        f"compares predictions from separate model calls and promises the same numbers for the same "
        f"{terms.arg('random_state')}, so a model must predict the same values every time: no dropout or noise at "
        f"prediction time, as in MC dropout (a layer called with {training}). Build the model without {training} "
        "(Keras then turns dropout off at inference), or set the rate of its dropout/noise layers to 0 for the "
        f"importance run (e.g. {example})"
    )


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
