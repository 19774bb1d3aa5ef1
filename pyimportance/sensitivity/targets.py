"""What is differentiated: the prediction's columns (without ``y``) or each output's per-row loss (with ``y``).

Without ``y`` each scored prediction column is attributed on its own, and an output's value for a row
combines them as perturbation importance combines its prediction change: the mean over the output's
columns (summed over its heads). With ``y`` each output's per-row loss (its heads' row-wise losses,
as :mod:`pyimportance.scoring` computes them) is attributed; its derivative in the predictions is taken
by central differences on that per-row loss (float64, step ``1e-6 (1 + |prediction|)``: exact for
squared error to rounding, within about 1e-9 relative for the other smooth losses), then pulled back
through the model by its gradient, so any row-wise loss works, Keras' own and the caller's included.

A :class:`Targets` holds ``combine`` (K outputs x m targets): an output's value is ``combine @`` its
targets' values.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import terms

#: Relative step of the central differences of the per-row loss in each prediction.
LOSS_STEP = 1e-6


@dataclass(frozen=True)
class Targets:
    """The m differentiated quantities of a run, and how the K outputs combine them."""

    with_loss: bool
    columns: np.ndarray  # (m,) prediction columns (without y); the scored columns (with y)
    combine: np.ndarray  # (K, m)

    @property
    def n_targets(self) -> int:
        return self.combine.shape[1]

    def cotangents(self, scoring, predictions: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """(m, n, columns): what each target's gradient pulls back, at these predictions of ``rows``."""
        n, n_columns = predictions.shape
        if not self.with_loss:
            cotangents = np.zeros((len(self.columns), n, n_columns))
            cotangents[np.arange(len(self.columns)), :, self.columns] = 1.0
            return cotangents
        cotangents = np.zeros((self.n_targets, n, n_columns))
        for column in self.columns:
            step = LOSS_STEP * (1.0 + np.abs(predictions[:, column]))
            up, down = predictions.copy(), predictions.copy()
            up[:, column] += step
            down[:, column] -= step
            change = self.values(scoring, up, rows) - self.values(scoring, down, rows)  # (n, K)
            cotangents[:, :, column] = (change / (2.0 * step[:, None])).T
        return cotangents

    def values(self, scoring, predictions: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """(n, m): each target's value at these predictions of ``rows`` (columns, or per-row losses)."""
        if not self.with_loss:
            return predictions[:, self.columns]
        return scoring.by_output(scoring.part_values(predictions, rows, None))


def targets_of(scoring) -> Targets:
    """The run's targets: its scored prediction columns (no ``y``) or its outputs' per-row losses."""
    with_loss = any(head.target is not None for head in scoring.heads)
    n_outputs = len(scoring.outputs)
    scored = np.unique(np.concatenate([head.columns for head in scoring.heads]))
    if with_loss:
        return Targets(True, scored, np.eye(n_outputs))
    position = {int(column): j for j, column in enumerate(scored)}
    combine = np.zeros((n_outputs, len(scored)))
    for k, output in enumerate(scoring.outputs):
        for part in output.parts:
            head = scoring.heads[part.head]
            columns = head.columns if part.columns is None else head.columns[part.columns]
            for column in columns:
                combine[k, position[int(column)]] += 1.0 / len(columns)
    return Targets(False, scored, combine)


def check_differentiable(scoring) -> None:
    """Refuse a scoring without a per-row loss to differentiate: a score (accuracy), rmse, a loss of all rows."""
    for k in range(len(scoring.outputs)):
        aggregate = scoring.output_aggregate(k)
        if aggregate != "mean":
            raise ValueError(
                f"sensitivity_importance differentiates each row's loss, got {terms.arg('loss')} "
                f"({scoring.loss_name}), which has no per-row value; use {terms.setting('loss', 'mse')} for rmse, "
                "or a loss function that returns one value per row"
            )
    scores = sorted({head.loss.name for head in scoring.heads if head.target is not None and head.loss.sign < 0})
    if scores:
        raise ValueError(f"sensitivity_importance needs a differentiable loss, got {terms.arg('loss')} "
                         f"({', '.join(scores)}), which is piecewise constant (its gradient is 0); use a loss such as "
                         f"{terms.setting('loss', 'log_loss')}")
