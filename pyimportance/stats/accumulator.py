"""What a run keeps of each row for the data-level intervals: loss increases as recipient and as donor.

With ``permute``/``resample`` every row is a recipient (it gets another row's values) and a
donor (its values go to other rows). :class:`RowAccumulator` adds up, per unit and per *slot*
of consecutive rows, the sums and counts of both, from which :mod:`.intervals` builds each
row's Hoeffding projection (its module docstring has the method). The sums are additive, so
jobs may arrive in any order, from any worker, and memory stays bounded however many rows
there are (rows are grouped into slots when needed).

*Weights* (``sample_weight``, :mod:`pyimportance.data.weights`): with ``row_weights`` every increase of
recipient row ``i`` is added times ``w_i`` and counts ``w_i`` evaluations, as a recipient and, for its
donor, as a donation (the ratio estimator ``sum(w l) / sum(w)`` linearized: the donor's term carries the
recipient's weight). The counts are then sums of weights (float); the intervals read them as counts.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class RowStatistics:
    """Per-(unit, slot) sums accumulated during a run (a snapshot; the arrays are copies).

    Attributes
    ----------
    recipient_sum : ndarray of shape (n_units, n_slots, n_outputs)
        Sum of the loss increases of the slot's rows as recipients (over all jobs of the unit).
    recipient_count : ndarray of shape (n_units, n_slots)
        Number of recipient evaluations of the slot's rows.
    donor_sum : ndarray of shape (n_units, n_slots, n_outputs) or None
        Sum of the loss increases the slot's rows caused as donors; None for methods without donors.
    donation_count : ndarray of shape (n_units, n_slots) or None
        Number of donations of the slot's rows; None for methods without donors.
    rows_per_slot : int
        Consecutive rows (in the data's order) per slot; the last slot may hold fewer.
    n_rows : int
        Number of rows of the data.
    slot_weights : ndarray of shape (n_slots,) or None
        Sum of the row weights of each slot (weighted runs); None: every row weighs 1 (:attr:`slot_totals`).
    donated_moments : ndarray of shape (n_units, n_outputs, 3) or None
        Over the evaluations that have a donor, the sums of ``(w * increase)**2``, ``w * (w * increase)``
        and ``w**2`` (``w`` the recipient's weight, 1 unweighted): the spread of those evaluations, whose
        shuffle noise the data interval removes once from its variance (each enters two rows' terms;
        :func:`.intervals.shared_noise_variance`). None for methods without donors.
    """

    recipient_sum: np.ndarray
    recipient_count: np.ndarray
    donor_sum: np.ndarray | None
    donation_count: np.ndarray | None
    rows_per_slot: int
    n_rows: int
    slot_weights: np.ndarray | None = None
    donated_moments: np.ndarray | None = None

    @property
    def n_units(self) -> int:
        return self.recipient_sum.shape[0]

    @property
    def n_slots(self) -> int:
        return self.recipient_sum.shape[1]

    @property
    def n_outputs(self) -> int:
        return self.recipient_sum.shape[2]

    @property
    def slot_sizes(self) -> np.ndarray:
        """Number of data rows in each slot, shape (n_slots,)."""
        sizes = np.full(self.n_slots, self.rows_per_slot, dtype=np.int64)
        sizes[-1] = self.n_rows - self.rows_per_slot * (self.n_slots - 1)
        return sizes

    @property
    def slot_totals(self) -> np.ndarray:
        """What each slot's rows count in a mean: their number, or the sum of their weights."""
        return self.slot_sizes if self.slot_weights is None else self.slot_weights

    @property
    def total_weight(self) -> float:
        """What the data's rows count in a mean: their number, or the sum of their weights."""
        return self.n_rows if self.slot_weights is None else float(self.slot_weights.sum())


class RowAccumulator:
    """Sums of per-row loss increases, as recipients and as donors, per (unit, slot).

    Parameters
    ----------
    n_units, n_rows, n_outputs : int
        Units of the run, rows of the data, outputs per row (columns of ``increase``).
    track_donors : bool
        True for donor-based methods (permute, resample, conditional): ``add`` then needs ``donors``.
    row_weights : ndarray of shape (n_rows,), optional
        Each row's weight (module docstring); None: every row weighs 1 (integer counts).
    max_values : int
        Bound on ``n_units * n_slots * n_outputs``. Rows are grouped into slots of
        ``rows_per_slot`` consecutive rows, 1 whenever it fits. Memory is about
        ``8 * n_units * n_slots * (2 * n_outputs + 2)`` bytes with donors (half without), i.e. at
        most about 130 MB at the default.

    Notes
    -----
    ``add`` is not thread-safe (``np.add.at`` on shared arrays): call it from one thread, or
    under a lock, e.g. where the runner collects finished jobs.

    Examples
    --------
    >>> acc = RowAccumulator(n_units=1, n_rows=4, track_donors=True)
    >>> acc.add(0, np.array([0, 1, 2, 3]), np.array([1.0, 2.0, 3.0, 4.0]), np.array([1, 0, 3, 2]))
    >>> acc.statistics().donor_sum[0, :, 0]
    array([2., 1., 4., 3.])
    """

    def __init__(
        self,
        n_units: int,
        n_rows: int,
        n_outputs: int = 1,
        *,
        track_donors: bool,
        row_weights: np.ndarray | None = None,
        max_values: int = 4_000_000,
    ) -> None:
        for name, value in (("n_units", n_units), ("n_rows", n_rows), ("n_outputs", n_outputs)):
            if int(value) != value or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if max_values < n_units * n_outputs:
            raise ValueError(
                f"max_values must be at least n_units * n_outputs = {n_units * n_outputs}, got {max_values!r}"
            )
        self.n_units, self.n_rows, self.n_outputs = int(n_units), int(n_rows), int(n_outputs)
        self.track_donors = bool(track_donors)
        max_slots = max_values // (self.n_units * self.n_outputs)
        self.rows_per_slot = -(-self.n_rows // max_slots)
        self.n_slots = -(-self.n_rows // self.rows_per_slot)
        self.row_weights = None if row_weights is None else np.asarray(row_weights, dtype=np.float64)
        if self.row_weights is not None and self.row_weights.shape != (self.n_rows,):
            raise ValueError(f"row_weights must have shape ({self.n_rows},), got {self.row_weights.shape}")
        shape = (self.n_units, self.n_slots, self.n_outputs)
        count_type = np.int64 if self.row_weights is None else np.float64
        self._recipient_sum = np.zeros(shape)
        self._recipient_count = np.zeros(shape[:2], dtype=count_type)
        self._donor_sum = np.zeros(shape) if self.track_donors else None
        self._donation_count = np.zeros(shape[:2], dtype=count_type) if self.track_donors else None
        self._donated_moments = np.zeros((self.n_units, self.n_outputs, 3)) if self.track_donors else None

    def add(self, unit: int, rows: np.ndarray, increase: np.ndarray, donors: np.ndarray | None) -> None:
        """Add one job's per-row loss increases.

        Parameters
        ----------
        unit : int
            The job's unit (0-based).
        rows : int ndarray of shape (k,)
            Original row indices of the evaluated rows.
        increase : ndarray of shape (k, n_outputs) or (k,)
            ``loss_i(perturbed) - loss_i(baseline)`` of each evaluated row.
        donors : int ndarray of shape (k,) or None
            Local positions into ``rows``: recipient ``rows[j]`` got the values of
            ``rows[donors[j]]``. None without ``track_donors``; with it, None for a job that has
            no donors (a categorical unit of ``conditional``: each row draws its own class).
        """
        rows = np.asarray(rows)
        increase = np.asarray(increase, dtype=np.float64)
        if increase.ndim == 1:
            increase = increase[:, None]
        if not 0 <= unit < self.n_units:
            raise ValueError(f"unit must be in [0, {self.n_units}), got {unit!r}")
        if rows.ndim != 1 or increase.shape != (rows.shape[0], self.n_outputs):
            raise ValueError(
                f"increase must have shape ({rows.shape[0]}, {self.n_outputs}) to match rows, got {increase.shape}"
            )
        if donors is not None and not self.track_donors:  # None with track_donors: a job without donors
            raise ValueError(f"donors must be None (track_donors={self.track_donors}), got {type(donors)}")
        if rows.size and (rows.min() < 0 or rows.max() >= self.n_rows):
            raise ValueError(f"rows must be row indices in [0, {self.n_rows}), got {rows.min()}..{rows.max()}")
        if donors is not None:
            donors = np.asarray(donors)
            if donors.shape != rows.shape or (donors.size and (donors.min() < 0 or donors.max() >= rows.size)):
                raise ValueError(
                    f"donors must be {rows.size} local positions in [0, {rows.size}), got shape {donors.shape}"
                )
        slots = rows // self.rows_per_slot
        weights = None if self.row_weights is None else self.row_weights[rows]
        if weights is not None:
            increase = increase * weights[:, None]
        self._scatter(self._recipient_sum[unit], self._recipient_count[unit], slots, increase, weights)
        if donors is not None:  # the donor's term carries the recipient's increase and weight
            self._scatter(self._donor_sum[unit], self._donation_count[unit], slots[donors], increase, weights)
            scale = np.ones(rows.size) if weights is None else weights
            moments = self._donated_moments[unit]
            moments[:, 0] += (increase**2).sum(axis=0)
            moments[:, 1] += scale @ increase
            moments[:, 2] += scale @ scale

    def _scatter(self, sums: np.ndarray, counts: np.ndarray, slots: np.ndarray, increase: np.ndarray,
                 weights: np.ndarray | None = None) -> None:
        """``sums[slots] += increase`` and ``counts[slots] += 1`` (or the rows' ``weights``), repeated slots
        included: bincount is the fast scatter-add (np.add.at is several times slower, and this runs once per
        job)."""
        counts += np.bincount(slots, weights=weights, minlength=self.n_slots)
        for output in range(self.n_outputs):
            sums[:, output] += np.bincount(slots, weights=increase[:, output], minlength=self.n_slots)

    def slot_sums(self, per_row: np.ndarray) -> np.ndarray:
        """Sums of per-row values over each slot, e.g. ``baseline_rows`` for ``aggregate="rmse"``.

        ``per_row`` has shape (n_rows,) or (n_rows, n_outputs); returns (n_slots, n_outputs), each row's
        values times its weight in a weighted run.
        """
        per_row = np.asarray(per_row, dtype=np.float64).reshape(self.n_rows, -1)
        if self.row_weights is not None:
            per_row = per_row * self.row_weights[:, None]
        return np.add.reduceat(per_row, np.arange(0, self.n_rows, self.rows_per_slot), axis=0)

    def statistics(self) -> RowStatistics:
        """A snapshot of the sums (copies: later ``add`` calls do not change it)."""
        return RowStatistics(
            recipient_sum=self._recipient_sum.copy(),
            recipient_count=self._recipient_count.copy(),
            donor_sum=None if self._donor_sum is None else self._donor_sum.copy(),
            donation_count=None if self._donation_count is None else self._donation_count.copy(),
            rows_per_slot=self.rows_per_slot,
            n_rows=self.n_rows,
            slot_weights=None if self.row_weights is None else self.slot_sums(np.ones(self.n_rows))[:, 0],
            donated_moments=None if self._donated_moments is None else self._donated_moments.copy(),
        )
