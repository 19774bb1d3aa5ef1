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
(:func:`~pyimportance.methods.kept_padding.keep_padding`).

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

from collections.abc import Iterator, Sequence

import numpy as np

from ..data.inputs import Inputs
from ..data.units import Unit
from ..methods.kept_padding import keep_padding
from ..scoring.scoring import Scoring
from .draws import PieceDraws

#: How absent units are integrated out (``imputer``): from other rows, or drawn given the known units
#: (:mod:`.gaussian_imputation`).
IMPUTERS = ("marginal", "conditional")


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
        self._cells = [member.reshape(member.shape[0], part.n_timesteps, part.n_features)
                       for member, part in zip(cells, inputs.parts)]
        self._free = [~member.any(axis=0) for member in self._cells]  # cells of no unit: always known
        # each unit's cells as flat positions, where every unit holds as many (features, time steps, cells)
        self._positions = [_equal_positions(member) for member in cells]
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

    def coalitions(self, orders: np.ndarray, sizes: Sequence[int]) -> Iterator[list[np.ndarray]]:
        """Per coalition size in ``sizes`` (increasing; each row's first ``size`` units of ``orders`` known),
        per input the (K * n, T, F) inputs of its K draws, draw by draw.

        The arrays are views of one buffer per input that the next step overwrites: copy what is
        kept. A step writes only the joining units' cells (each row's next unit), so its cost does
        not grow with the number of units.
        """
        n_rows = orders.shape[0]
        current = []
        for own, drawn, free in zip(self.own, self.drawn, self._free):
            buffer = drawn.copy()
            np.copyto(buffer, own[None], where=free[None, None])
            current.append(buffer)
        wanted = set(sizes)
        rows = np.arange(n_rows)[:, None]
        for size in range(max(sizes) + 1):
            if size:
                joining = orders[:, size - 1]
                for buffer, own, member, positions in zip(current, self.own, self._cells, self._positions):
                    if positions is None:
                        np.copyto(buffer, own[None], where=member[joining][None])
                        continue
                    flat = buffer.reshape(buffer.shape[0], n_rows, -1)
                    chosen = positions[joining]
                    flat[:, rows, chosen] = own.reshape(n_rows, -1)[rows, chosen]
            if size in wanted:
                yield [buffer.reshape((-1,) + buffer.shape[2:]) for buffer in current]


def _equal_positions(member: np.ndarray) -> np.ndarray | None:
    """(n_units, m) flat cell positions of each unit when every unit holds the same number m >= 1, else None."""
    counts = member.sum(axis=1)
    if counts.min() != counts.max() or counts[0] == 0:
        return None
    return np.nonzero(member)[1].reshape(member.shape[0], -1)


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
