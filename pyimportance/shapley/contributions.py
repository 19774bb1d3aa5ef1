"""One piece's contributions: the loss drop each unit brings as it joins, along each row's order.

For row ``i`` with order ``u_1, ..., u_d`` and coalitions ``S_k = {u_1..u_k}``, unit ``u_k``
contributes ``L_i(S_{k-1}) - L_i(S_k)`` (:func:`~.imputation.debiased_losses`; ``L_i(S_d)`` is the
model's own loss on the row, ``L_i(S_0)`` that of the prediction knowing nothing). The
contributions of a row and order add up to ``L_i(S_0) - L_i(S_d)`` (they telescope), so the
values add up to the run's v(all units), which is reported with them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from ..data.inputs import Inputs
from ..data.seeding import RootSeed
from ..data.units import Unit
from ..scoring.scoring import Scoring, scoring_failures
from .coalition_prefix import Prefix
from .coalitions import coalition_sizes, predict_stacked
from .draws import piece_draws
from .gaussian_imputation import ConditionalImputation, GaussianInputs
from .imputation import Imputation, debiased_losses, signed_losses


@dataclass(frozen=True)
class PieceSpec:
    """What every piece of a run shares (cheap to ship to a worker, the inputs aside)."""

    inputs: Inputs
    units: Sequence[Unit]
    cells: Sequence[np.ndarray]  # :func:`~.imputation.unit_cells`
    empty_needs_model: bool  # whether S_0 is predicted (cells of no unit, padding) or the donors' own predictions
    root: RootSeed
    n_draws: int
    imputer: str = "marginal"
    gaussian: GaussianInputs | None = None  # the inputs' Gaussian model (``imputer="conditional"``)
    columns: Sequence[np.ndarray] | None = None  # each unit's flattened columns (``imputer="conditional"``)


@dataclass(frozen=True)
class PieceResult:
    """Per row of the piece's block: each unit's contribution, and v(all units) (the telescoped sum)."""

    repeat: int
    block: int
    contributions: np.ndarray  # (n_rows, n_units, n_outputs)
    total: np.ndarray  # (n_rows, n_outputs)


def piece_rows(spec: PieceSpec, n_units: int) -> int:
    """Model rows one piece of ``n_rows`` rows predicts, per row."""
    return len(coalition_sizes(n_units, spec.empty_needs_model)) * spec.n_draws


def piece_result(spec: PieceSpec, predict, scoring: Scoring, baseline: np.ndarray,
                 rows: np.ndarray, repeat: int, block: int,
                 on_rows: Callable[[int], None] = lambda rows: None, prefix: Prefix | None = None) -> PieceResult:
    """The contributions of repeat ``repeat`` of the rows ``rows`` (block ``block``).

    ``baseline``: the model's predictions of every evaluated row (those of ``rows`` at least);
    ``prefix``: the run's prefix reuse (:mod:`.coalition_prefix`), if any.
    """
    n_rows, n_units = len(rows), len(spec.units)
    draws = piece_draws(spec.root, repeat, block, n_rows, n_units, spec.n_draws)
    if spec.imputer == "conditional":
        imputation = ConditionalImputation(spec.inputs, spec.gaussian, spec.columns, rows, draws, predict.dtype)
    else:
        imputation = Imputation(spec.inputs, spec.cells, rows, draws, predict.dtype)
    sizes = coalition_sizes(n_units, spec.empty_needs_model)
    where = f"while predicting coalitions of order {repeat + 1} (row block {block + 1})"
    predictions = predict_stacked(predict, spec.inputs, imputation.coalitions(draws.orders, sizes),
                                  len(sizes) * spec.n_draws * n_rows, where, on_rows, prefix=prefix, samples=rows)
    predictions = predictions.reshape(len(sizes), spec.n_draws, n_rows, -1)
    with scoring_failures(scoring, where.replace("predicting", "scoring")):
        losses = [debiased_losses(scoring, predictions[k], rows, baseline) for k in range(len(sizes))]
        if not spec.empty_needs_model:
            losses.insert(0, debiased_losses(scoring, baseline[rows[draws.donors]], rows, baseline))
        losses.append(signed_losses(scoring, baseline[rows], rows, baseline))
    losses = np.stack(losses)  # (n_units + 1, n_rows, n_outputs): L(S_0) .. L(S_d)
    drops = losses[:-1] - losses[1:]  # drops[k, i]: what unit orders[i, k] brings
    contributions = np.empty((n_rows, n_units, losses.shape[2]))
    contributions[np.arange(n_rows)[:, None], draws.orders] = drops.transpose(1, 0, 2)
    return PieceResult(repeat, block, contributions, losses[0] - losses[-1])
