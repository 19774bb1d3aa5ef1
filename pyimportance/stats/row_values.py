"""Per-row importances: each evaluated row's share of a unit's importance, from the sums the intervals use.

A run's importance of a unit is ``S / N``, the mean of the loss increases of all (row, repeat)
evaluations. The data interval (:mod:`.intervals`) splits its error into one Hoeffding term per
row, ``c_j = R_j + D_j - (n_j + m_j) * S / N``: the row's increases as a recipient (``R_j``
over ``n_j`` evaluations) and those it caused as a donor (``D_j`` over ``m_j`` donations). The
per-row importance is the same decomposition read as a value per row::

    row_importance_j = S / N + n_evaluated * c_j / sum_j (n_j + m_j)

- noise methods and ablations (no donors): ``R_j / n_j``, the row's mean loss increase;
- ``permute`` and ``conditional`` (every row donates once per repeat): ``(R_j + D_j) / (2 R)``,
  the mean of what the row lost when it got other rows' values and what it cost the rows that
  got its values;
- ``resample`` (random donations): the same up to its random number of donations.

Since ``sum_j c_j = 0`` exactly, their mean over the evaluated rows is the importance (to
rounding); rows not evaluated (early stopping) are NaN.

*Weighted runs* (``sample_weight``): the sums carry the weights (:mod:`.accumulator`), so ``c_j`` is
``w_j`` times the row's unweighted term (for its recipient part); the row's value is
``S / N + n_evaluated * c_j / (w_j * sum_j (n_j + m_j) / w_j)``, the row's own mean increase for noise
methods, and the importance is the *weighted* mean of the row values. Rows of weight 0 count in no mean
and are NaN.

Which runs keep them (:func:`kept_row_statistics`): losses that are means over rows (mse, mae,
log loss, accuracy, per-row custom losses), with ``ci="data"`` (where the runner adds up the
per-row sums anyway), one row per slot, and at most :data:`ROW_VALUES_KEPT` values
(units x rows x outputs). The result then keeps the run's per-row sums, about
``8 * (2 * n_outputs + 2)`` bytes per unit and row (32 MB at the limit); ``row_importances``
computes the rows x units array (8 bytes per value) when asked. ``rmse`` (the root of a mean)
and custom losses that give one number for a set of rows have no per-row values at all.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .. import terms
from .accumulator import RowAccumulator, RowStatistics
from .intervals import projection

#: Most per-(unit, row, output) values a result keeps for its per-row importances (about 32 MB of sums).
ROW_VALUES_KEPT = 1_000_000


def row_importances(stats: RowStatistics) -> np.ndarray:
    """Each row's importance, shape (n_rows, n_units, n_outputs); NaN for rows never evaluated.

    Examples
    --------
    >>> acc = RowAccumulator(n_units=1, n_rows=4, track_donors=True)
    >>> acc.add(0, np.arange(4), np.array([1.0, 2.0, 3.0, 6.0]), np.array([1, 0, 3, 2]))
    >>> row_importances(acc.statistics())[:, 0, 0]
    array([1.5, 1.5, 4.5, 4.5])
    """
    if stats.rows_per_slot != 1:
        raise ValueError(f"row_importances need one row per slot, got {stats.rows_per_slot} rows per slot")
    hoeffding, evaluations = projection(stats)
    with np.errstate(divide="ignore", invalid="ignore"):
        importance = stats.recipient_sum.sum(axis=1) / evaluations[:, None]  # (n_units, n_outputs)
    counts = stats.recipient_count.astype(np.float64)
    if stats.donation_count is not None:
        counts = counts + stats.donation_count
    evaluated = stats.recipient_count > 0
    if stats.slot_weights is None:
        weight = evaluated.sum(axis=1) / counts.sum(axis=1)  # (n_units,)
        values = importance[:, None, :] + weight[:, None, None] * hoeffding
    else:  # the terms and counts carry each row's weight: the row's own, unweighted (module docstring)
        row_weight = np.where(stats.slot_weights > 0, stats.slot_weights, 1.0)
        weight = evaluated.sum(axis=1) / np.where(evaluated, counts / row_weight, 0.0).sum(axis=1)
        values = importance[:, None, :] + weight[:, None, None] * hoeffding / row_weight[None, :, None]
    values[~evaluated] = np.nan
    return values.transpose(1, 0, 2)


def kept_row_statistics(accumulator: RowAccumulator | None, aggregates: Sequence[str],
                        ci: str) -> tuple[RowStatistics | None, str | None]:
    """The per-row sums a result keeps for ``row_importances``, or None and why there are none."""
    if ci != "data":
        return None, (f"row importances are kept with {terms.setting('ci', 'data')}, which adds up each row's "
                      f"loss increases; got {terms.setting('ci', ci)}")
    if any(aggregate == "rmse" for aggregate in aggregates):
        return None, (f"{terms.setting('loss', 'rmse')} is the root of a mean over rows, not a mean: it has no "
                      f"per-row importances; {terms.setting('loss', 'mse')} has them")
    if accumulator is None or any(aggregate != "mean" for aggregate in aggregates):
        return None, ("the loss gives one number for a set of rows (a custom loss without per-row values): there "
                      "are no per-row importances; a loss returning one value per row has them")
    size = accumulator.n_units * accumulator.n_rows * accumulator.n_outputs
    if accumulator.rows_per_slot > 1 or size > ROW_VALUES_KEPT:
        return None, (f"row importances are kept up to {ROW_VALUES_KEPT:,} values (units x rows x outputs), got "
                      f"{accumulator.n_units} x {accumulator.n_rows} x {accumulator.n_outputs} = {size:,}; "
                      f"evaluate fewer rows ({terms.arg('max_samples')}) or units")
    return accumulator.statistics(), None
