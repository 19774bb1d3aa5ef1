"""Conditional imputation: the absent units drawn given the known ones, from a Gaussian model of the inputs.

``imputer="conditional"`` integrates the absent units out over their distribution *given the
known units* (SAGE's "conditional" value function; xplainfi's ConditionalSAGE), rather than
over their marginal distribution: v(S) is then what knowing S tells the model, the inputs'
dependence included, so of two correlated inputs the one the model reads shares its value with
the other (for ``y = x1`` and ``corr(x1, x2) = rho``: ``1 - rho^2 / 2`` and ``rho^2 / 2``, where
marginal imputation gives 1 and 0). The conditional distribution is that of a multivariate normal
fitted to the evaluated rows (every input flattened side by side, a small ridge on the
covariance), exact for Gaussian inputs and a linear approximation otherwise.

How a coalition's draws are made, row by row: the columns are put in the row's order (the cells
of no unit first, then each unit's as it joins), the covariance is factorised in that order
(``Sigma = L L'``, one Cholesky per row and order), the row's own values are whitened once
(``z = L^-1 (x - mu)``), and a coalition knowing the first ``k`` columns draws
``x = mu + L [z_1..k, e_k+1..p]`` with ``e`` standard normal: the known columns come back as
they are, the others from their conditional distribution. The ``e`` of a row and draw are shared
by all its coalitions. Units must hold equally many cells (features, time steps, cells, or
groups of one size) and the inputs at most :data:`MAX_COLUMNS` columns in all; padding is not
supported.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np

from .. import terms
from ..data.inputs import Inputs
from .draws import PieceDraws

#: The most flattened input columns (time steps x features, all inputs) conditional imputation takes.
MAX_COLUMNS = 256
# A ridge on the covariance (times its mean variance) keeps it positive definite.
_RIDGE = 1e-6
# Rows factorised at once (each holds a p x p matrix).
_ROWS_PER_BATCH = 256


class GaussianInputs:
    """The evaluated rows' mean and covariance, flattened (``t * F + f`` within each input, inputs side by side)."""

    def __init__(self, inputs: Inputs):
        flat = inputs.flat_rows(slice(None))
        self.mean = flat.mean(axis=0)
        covariance = np.atleast_2d(np.cov(flat, rowvar=False))
        scale = float(np.mean(np.diag(covariance))) or 1.0
        self.covariance = covariance + _RIDGE * scale * np.eye(covariance.shape[0])


def check_conditional(inputs: Inputs, unit_columns: Sequence[np.ndarray], ungrouped: Sequence[str] = ()) -> None:
    """Refuse what conditional imputation cannot do: padding, units of unequal size, too many columns.

    ``ungrouped``: the features outside every group, units of their own (named in the message).
    """
    if any(part.mask is not None for part in inputs.parts):
        raise ValueError('imputer="conditional" does not support padded sequences; use imputer="marginal" or '
                         "mask_value=None")
    sizes = {len(columns) for columns in unit_columns}
    if len(sizes) > 1:
        outside = "" if not ungrouped else (
            f" (the features outside every group are units of their own: {terms.vector(list(ungrouped))}; put "
            "them in groups too)")
        raise ValueError(f'imputer="conditional" needs units that hold equally many cells, got units of '
                         f"{sorted(sizes)} cells{outside}; use groups of one size or imputer=\"marginal\"")
    if inputs.n_columns > MAX_COLUMNS:
        raise ValueError(f'imputer="conditional" takes at most {MAX_COLUMNS} input columns (time steps x '
                         f'features), got {inputs.n_columns}; use by="feature" on fewer time steps, or '
                         f'imputer="marginal"')


def unit_columns(inputs: Inputs, cells: Sequence[np.ndarray]) -> list[np.ndarray]:
    """Each unit's flattened columns (all inputs side by side), from the per-input cell matrices."""
    offsets = inputs.column_offsets
    n_units = cells[0].shape[0]
    return [np.concatenate([offsets[i] + np.flatnonzero(member[u]) for i, member in enumerate(cells)])
            for u in range(n_units)]


class ConditionalImputation:
    """The inputs of one piece's coalitions, the absent units drawn given the known ones (module docstring)."""

    def __init__(self, inputs: Inputs, gaussian: GaussianInputs, columns: Sequence[np.ndarray], rows: np.ndarray,
                 draws: PieceDraws, dtype):
        self._inputs = inputs
        self._gaussian = gaussian
        self._columns = np.stack(columns)  # (n_units, m)
        covered = np.zeros(inputs.n_columns, dtype=bool)
        covered[self._columns.reshape(-1)] = True
        self._free = np.flatnonzero(~covered)
        self._dtype = dtype
        self._rows = inputs.flat_rows(rows)  # (n, p) float64
        self._noise = draws.rng.standard_normal((draws.donors.shape[0],) + self._rows.shape)  # (K, n, p)

    def coalitions(self, orders: np.ndarray, sizes: Sequence[int]) -> Iterator[list[np.ndarray]]:
        """Per coalition size in ``sizes``, per input the (K * n, T, F) inputs of its K draws (as
        :meth:`~.imputation.Imputation.coalitions`)."""
        n_rows, n_columns = self._rows.shape
        order_columns = np.concatenate(
            [np.broadcast_to(self._free, (n_rows, len(self._free))), self._columns[orders].reshape(n_rows, -1)], axis=1)
        factors = np.empty((n_rows, n_columns, n_columns))
        whitened = np.empty((n_rows, n_columns))
        mean = self._gaussian.mean[order_columns]  # (n, p), in each row's order
        own = np.take_along_axis(self._rows, order_columns, axis=1)
        for start in range(0, n_rows, _ROWS_PER_BATCH):
            chosen = order_columns[start:start + _ROWS_PER_BATCH]
            covariance = self._gaussian.covariance[chosen[:, :, None], chosen[:, None, :]]
            factors[start:start + len(chosen)] = np.linalg.cholesky(covariance)
            centred = (own - mean)[start:start + len(chosen), :, None]
            whitened[start:start + len(chosen)] = np.linalg.solve(factors[start:start + len(chosen)], centred)[..., 0]
        unit_size = self._columns.shape[1]
        position = np.arange(n_columns)
        for size in sizes:
            known = position < len(self._free) + size * unit_size
            mixed = np.where(known, whitened[None], self._noise)  # (K, n, p)
            drawn = mean[None] + np.einsum("nij,knj->kni", factors, mixed)
            drawn = np.where(known, own[None], drawn)  # the known columns exactly as they are
            flat = np.empty_like(drawn)
            np.put_along_axis(flat, np.broadcast_to(order_columns, drawn.shape), drawn, axis=2)
            yield self._arrays(flat)

    def _arrays(self, flat: np.ndarray) -> list[np.ndarray]:
        """(K, n, p) flattened draws as the model's (K * n, T, F) arrays, one per input."""
        arrays, offsets = [], self._inputs.column_offsets
        for part, offset in zip(self._inputs.parts, offsets):
            width = part.n_timesteps * part.n_features
            block = flat[:, :, offset:offset + width].reshape(-1, part.n_timesteps, part.n_features)
            arrays.append(block.astype(self._dtype))
        return arrays
