"""Absent units integrated out: the model's inputs for a coalition, one copy per draw, and the loss of
the prediction averaged over the draws, without the bias of a finite number of draws.

*Marginal imputation* (SAGE's marginal imputer): an absent unit takes the values of another row
of the same row block, the known units keep the row's own, so the prediction averaged over the
draws estimates ``E[f(x_S, X_absent)]`` with ``X_absent`` from the population's marginal
distribution (it ignores the dependence between the known and the absent units: what the model
does with the absent inputs' typical values, not what it would predict knowing only S). Each
draw's donor row is shared by all coalitions of a row and order, so adding a unit the model
ignores changes no input the model reads: its contribution is exactly 0. Cells of no unit (the
features a ``groups`` run leaves out) are always known. Padded steps stay the row's own, and a
real step whose donor is padded there takes another row's real values
(:func:`~pyimportance.methods.padding.keep_padding`).

*The bias of K draws.* The loss of an average of K draws is not the loss of the expectation: for
squared error, ``E[(y - mean_k f_k)^2] = (y - E f)^2 + Var(f) / K``, so v(S) estimated with the
same K draws for every coalition is ``(1 + 1/K)`` times the value (for ``y = x1 * x2``, one draw
gives 1 per feature instead of 0.5). :func:`debiased_losses` removes it with the jackknife:
``K L(mean) - (K - 1) mean_k L(mean without draw k)``. For squared error this is exactly the
unbiased ``(y - mean)^2 - s^2 / K`` (``s^2`` the draws' variance), so the value is unbiased for
any K >= 2; for other smooth losses (log loss, absolute error) the 1/K term goes and what is
left shrinks as 1/K^2.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..data.inputs import Inputs
from ..data.units import Unit
from ..methods.padding import keep_padding
from ..scoring.scoring import Scoring
from .draws import PieceDraws


def unit_cells(inputs: Inputs, units: Sequence[Unit]) -> list[np.ndarray]:
    """Per input, a (n_units, T * F) bool matrix: which cells (``t * F + f``) each unit holds."""
    cells = []
    for i, part in enumerate(inputs.parts):
        member = np.zeros((len(units), part.n_timesteps * part.n_features), dtype=bool)
        for u, unit in enumerate(units):
            for block in unit.blocks:
                if block.input == i:
                    member[u, block.flat_columns(part.n_timesteps, part.n_features, 0)] = True
        cells.append(member)
    return cells


class Imputation:
    """The inputs of one piece's coalitions: the rows' own values where known, each draw's donor's elsewhere.

    Parameters
    ----------
    inputs
        The evaluated data; ``rows`` its rows of the piece's block.
    cells
        :func:`unit_cells` of the run.
    draws
        The piece's donors (and the generator for padding fill-ins).
    dtype
        The dtype of the model's input buffers.
    """

    def __init__(self, inputs: Inputs, cells: Sequence[np.ndarray], rows: np.ndarray, draws: PieceDraws, dtype):
        self._inputs = inputs
        self._cells = [member.astype(np.float32) for member in cells]
        self._free = [~member.any(axis=0) for member in cells]  # cells of no unit: always known
        self.own, self.drawn = [], []
        for part in inputs.parts:
            own = np.asarray(part.values[rows], dtype=dtype)
            real = None if part.mask is None else part.mask[rows]
            drawn = []
            for donors in draws.donors:
                values = own[donors] if real is None else keep_padding([own[donors]], [own], [real], donors,
                                                                      draws.rng)[0].astype(dtype)
                drawn.append(values)
            self.own.append(own)
            self.drawn.append(np.stack(drawn))  # (K, n, T, F)

    @property
    def n_draws(self) -> int:
        return self.drawn[0].shape[0]

    def arrays(self, known: np.ndarray) -> list[np.ndarray]:
        """Per input, the (K * n, T, F) inputs for coalition ``known`` ((n, n_units) bool), draw by draw."""
        arrays = []
        for i, part in enumerate(self._inputs.parts):
            shown = (known.astype(np.float32) @ self._cells[i] > 0) | self._free[i]
            shown = shown.reshape(1, known.shape[0], part.n_timesteps, part.n_features)
            values = np.where(shown, self.own[i][None], self.drawn[i])
            arrays.append(values.reshape((-1,) + values.shape[2:]))
        return arrays


def signed_losses(scoring: Scoring, predictions: np.ndarray, rows: np.ndarray,
                  baseline: np.ndarray) -> np.ndarray:
    """(m, n_outputs) per-row loss of each output unit (a score with its sign: larger is worse)."""
    return scoring.row_increase(scoring.part_values(predictions, rows, baseline), 0.0)


def debiased_losses(scoring: Scoring, draws: np.ndarray, rows: np.ndarray, baseline: np.ndarray) -> np.ndarray:
    """(n, n_outputs) loss of the prediction averaged over the K draws ((K, n, columns)), jackknifed.

    ``K L(mean) - (K - 1) mean_k L(leave-k-out mean)``, written as ``L(mean) - (K - 1) mean_k (L(leave-k-out
    mean) - L(mean))``: see the module docstring.
    """
    n_draws, n_rows = draws.shape[:2]
    # Written as deviations, so K equal draws give exactly the loss of that prediction (a unit the
    # model ignores then contributes exactly 0, not rounding noise).
    mean = draws[0] + (draws - draws[0]).mean(axis=0)
    left_out = mean[None] + (mean[None] - draws) / (n_draws - 1)
    stacked = np.concatenate([mean[None], left_out])
    losses = signed_losses(scoring, stacked.reshape(-1, draws.shape[2]), np.tile(rows, n_draws + 1), baseline)
    losses = losses.reshape(n_draws + 1, n_rows, -1)
    return losses[0] - (n_draws - 1) * (losses[1:] - losses[0]).mean(axis=0)
