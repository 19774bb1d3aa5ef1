"""Data-level inference for perturbation importance: per-row statistics, intervals, p-values.

The run's importance of a unit is a mean of per-row loss increases over (row, repeat)
evaluations. How sure a user can be about the importance *in the population the rows come
from* depends on the rows, not only on the shuffles; :func:`data_intervals` answers that (the
``ci="data"`` interval) and :func:`repeats_intervals` keeps the older t-interval over repeats,
which is conditional on this data set.

Method of :func:`data_intervals`
--------------------------------
*Per-row influence.* With ``permute``/``resample`` every row is a recipient (it gets another
row's values) and a donor (its values go to other rows), so the per-row differences are not
independent and a t-interval over them is too narrow (issue 12: 77-83% coverage at nominal
95% for i.i.d. rows). The estimate is ``S / N`` (``S``: sum of all increases, ``N``: number of
recipient evaluations); its Hoeffding projection adds, for every row ``j``, the row's effects as
a recipient and as a donor::

    estimate - truth  ~  sum_j c_j / N,   c_j = R_j + D_j - (n_j + m_j) * S / N

``R_j``/``n_j`` are the sum/number of the row's recipient evaluations, ``D_j``/``m_j`` the
sum/number of the increases it caused as a donor. Written with sums rather than per-row means,
rows that never donated (``resample``; rows not evaluated yet when stopping early) need no
special case: they contribute their recipient term only, and the random number of donations
under ``resample`` is counted too. ``sum_j c_j = 0`` exactly. Noise methods and ablations have
no donors (``D = m = 0``): the recipient term is the whole projection (for ``mean`` ablation the
small effect of the data's mean is not counted). Each row's shuffle noise is part of its
``c_j``, so the interval counts rows and perturbations together (slightly conservatively: the
noise enters through both terms of a row; the SE is about 10% large for 200 i.i.d. rows).

*Slots.* The sums are additive, so rows are grouped into slots of ``rows_per_slot``
consecutive rows to keep memory bounded (:class:`RowAccumulator`); a slot's ``c`` is the sum of
its rows'. Everything below works on the slot series, in the data's row order.

*Dependence between neighbouring rows* (overlapping windows of one series): the variance of
``sum_j c_j`` is that of a circular block bootstrap (CBB, arch's recommendation over the moving
block bootstrap, which under-weights the edge rows) of the slot series, computed in closed form
(:func:`circular_block_cumulants`): exactly what infinitely many CBB replicates give (tested
against ``arch.bootstrap.CircularBlockBootstrap``), deterministic, no seed, milliseconds for 600
units x 10,000 rows. For blocks of 1 it is ``sum_j c_j**2``, the i.i.d. sandwich variance.

*Block length.* ``block_size`` (rows) overrides. Otherwise ``BLOCK_MULTIPLIER`` (3) times the
Politis-White (2004/2009) circular-bootstrap length (``arch.bootstrap.optimal_block_length``),
the median over the slot series of the ``BLOCK_LENGTH_SERIES`` (50) units (and outputs) with the
clearest signal (largest ``|estimate| / sqrt(sum_j c_j**2)``, non-zero variance). One length for
the run: the dependence between neighbouring rows is a property of the data's order that all
units share, and a single unit's length from a few hundred rows is noisy. The clearest units,
because a unit without effect has a series of shuffle noise only, which shows no dependence
and would pull a cell map's 600-unit median to 1 while the important cells need the blocks;
50 of them also bound the cost (arch computes one series at a time). Three times: Politis-White
minimises the mean squared error of the variance estimate; an interval needs less bias than
that (the block variance is biased low by ~1/b for autocorrelated rows, and its own noise is
paid for by the t quantile below). Capped at a third of the slots.

*Interval and p-value.* A t interval with ``df`` = number of blocks - 1 (the blocks of length
b that hold evaluated rows), plus a second-order skewness correction: the importance of a
squared-error loss behaves like a variance, its estimate and its SE rise and fall together, and
a symmetric interval misses the truth almost only above it. The one-term Edgeworth expansion of
the studentized mean, ``P(T <= x) = Phi(x) + skew * (2 x^2 + 1) / 6 * phi(x)`` (Hall 1992, The
Bootstrap and Edgeworth Expansion), moves both bounds up by ``SE * skew * (2 q^2 + 1) / 6``,
``skew`` the skewness of the estimate, here the CBB's in closed form; the shift is capped at
``MAX_SKEW_SHIFT`` (0.5) standard errors. The one-sided p-value (H0: importance <= 0) is
``P(T > estimate / SE + shift)`` for the same t, so ``p < (1 - confidence) / 2`` exactly when
``ci_low > 0``. ``SE = 0`` (a unit the model ignores: every increase is 0) gives the point
interval and ``p = 0`` for a positive estimate, else 1. A unit evaluated in fewer than two
slots, or in one block only, gets NaN.

*Coverage* at nominal 95% (``bench/RESULTS_coverage.md``, 5000 data sets, x1 and x2 pooled):
i.i.d. rows, n = 200: 96.4%; AR(1) windows, phi = 0.8, n = 300: 90.8% (n = 1000: 93.7%).
The two tuning choices, ablated on the AR(1) n = 300 case: Politis-White length without the
skewness shift 87.3% (truth above the interval 12.0%, below 0.8%); three times that length
89.2%; with the shift 90.8% (7.9% / 1.3%). For i.i.d. rows neither changes the coverage
(96.2-96.4%); the length stays 2-9 rows there.

*rmse* (``aggregate="rmse"``: sqrt(mean perturbed squared error) - sqrt(mean baseline squared
error)) is not a mean of per-row values; its SE comes from the delta method. With ``P`` and
``B`` the mean perturbed and baseline squared errors, slot ``j`` contributes
``c_j / (2 N sqrt(P)) + (b_j - size_j B) / n_rows * (1 / (2 sqrt(P)) - 1 / (2 sqrt(B)))``,
``b_j`` the slot's summed baseline squared errors (``baseline_rows``); then as above.

Written by hand, and why: the accumulation (specific to the engine's jobs and donors), the
projection, and the closed-form CBB cumulants (arch's bootstraps are Monte Carlo, one series at
a time). The block length (arch), the t distribution and Benjamini-Hochberg (SciPy) come from
libraries.
"""

from __future__ import annotations

import importlib
import threading
import warnings
from dataclasses import dataclass

import numpy as np

#: The automatic block length is this multiple of the Politis-White length (see the module docstring).
BLOCK_MULTIPLIER = 3.0
#: The automatic block length is the median over at most this many units (the clearest signals).
BLOCK_LENGTH_SERIES = 50
#: Largest skewness correction of the interval, in standard errors.
MAX_SKEW_SHIFT = 0.5

__all__ = [
    "Intervals",
    "RowAccumulator",
    "RowStatistics",
    "adjust_p_values",
    "circular_block_cumulants",
    "data_intervals",
    "repeats_intervals",
]


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
    """

    recipient_sum: np.ndarray
    recipient_count: np.ndarray
    donor_sum: np.ndarray | None
    donation_count: np.ndarray | None
    rows_per_slot: int
    n_rows: int

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


class RowAccumulator:
    """Sums of per-row loss increases, as recipients and as donors, per (unit, slot).

    Parameters
    ----------
    n_units, n_rows, n_outputs : int
        Units of the run, rows of the data, outputs per row (columns of ``increase``).
    track_donors : bool
        True for donor-based methods (permute, resample, conditional): ``add`` then needs ``donors``.
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
        shape = (self.n_units, self.n_slots, self.n_outputs)
        self._recipient_sum = np.zeros(shape)
        self._recipient_count = np.zeros(shape[:2], dtype=np.int64)
        self._donor_sum = np.zeros(shape) if self.track_donors else None
        self._donation_count = np.zeros(shape[:2], dtype=np.int64) if self.track_donors else None

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
            ``rows[donors[j]]``. Required when ``track_donors``, else must be None.
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
        if (donors is None) == self.track_donors:
            expectation = "an array of local positions" if self.track_donors else "None"
            raise ValueError(f"donors must be {expectation} (track_donors={self.track_donors}), got {type(donors)}")
        if rows.size and (rows.min() < 0 or rows.max() >= self.n_rows):
            raise ValueError(f"rows must be row indices in [0, {self.n_rows}), got {rows.min()}..{rows.max()}")
        if donors is not None:
            donors = np.asarray(donors)
            if donors.shape != rows.shape or (donors.size and (donors.min() < 0 or donors.max() >= rows.size)):
                raise ValueError(
                    f"donors must be {rows.size} local positions in [0, {rows.size}), got shape {donors.shape}"
                )
        slots = rows // self.rows_per_slot
        self._scatter(self._recipient_sum[unit], self._recipient_count[unit], slots, increase)
        if donors is not None:
            self._scatter(self._donor_sum[unit], self._donation_count[unit], slots[donors], increase)

    def _scatter(self, sums: np.ndarray, counts: np.ndarray, slots: np.ndarray, increase: np.ndarray) -> None:
        """``sums[slots] += increase`` and ``counts[slots] += 1``, repeated slots included: bincount is the
        fast scatter-add (np.add.at is several times slower, and this runs once per job)."""
        counts += np.bincount(slots, minlength=self.n_slots)
        for output in range(self.n_outputs):
            sums[:, output] += np.bincount(slots, weights=increase[:, output], minlength=self.n_slots)

    def slot_sums(self, per_row: np.ndarray) -> np.ndarray:
        """Sums of per-row values over each slot, e.g. ``baseline_rows`` for ``aggregate="rmse"``.

        ``per_row`` has shape (n_rows,) or (n_rows, n_outputs); returns (n_slots, n_outputs).
        """
        per_row = np.asarray(per_row, dtype=np.float64).reshape(self.n_rows, -1)
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
        )


@dataclass(frozen=True)
class Intervals:
    """Standard errors, confidence intervals and one-sided p-values of the importances.

    Arrays have the shape of the ``estimate`` given to :func:`data_intervals` ((n_units,) or
    (n_units, n_outputs)); (n_units,) for :func:`repeats_intervals`. The data interval is
    ``estimate + std_error * (shift -+ q)``, with a small skewness shift (module docstring), so
    it need not be symmetric about the estimate; the repeats interval is symmetric.

    Attributes
    ----------
    std_error, ci_low, ci_high : ndarray
        Standard error of the estimate and the interval's bounds.
    p_value : ndarray
        One-sided p-value of H0: importance <= 0; below ``(1 - confidence) / 2`` exactly when
        ``ci_low > 0``.
    block_size : int or None
        Rows per bootstrap block of the data interval (None for the repeats interval).
    method : str
        ``"data"`` or ``"repeats"``.
    """

    std_error: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    p_value: np.ndarray
    block_size: int | None
    method: str


def circular_block_cumulants(series: np.ndarray, block_size: int) -> tuple[np.ndarray, np.ndarray]:
    """Variance and third cumulant of the sum of a circular block bootstrap resample, in closed form.

    Parameters
    ----------
    series : ndarray of shape (..., J)
        Series along the last axis (one per leading index).
    block_size : int
        Block length ``b`` (cut to [1, J]).

    Returns
    -------
    variance, third_cumulant : ndarray of shape (...,)
        Of the sum of the J resampled values: what infinitely many replicates of
        ``arch.bootstrap.CircularBlockBootstrap(b, series)`` would give. The resample is
        ``k = ceil(J / b)`` independent blocks (the last cut to ``r = J - (k - 1) b``), so its
        cumulants are ``(k - 1)`` times those of a block sum of length ``b`` plus one of length
        ``r``, over the J circular starting points.

    Examples
    --------
    >>> variance, third = circular_block_cumulants(np.array([1.0, 2.0, 4.0, 1.0]), 1)
    >>> float(variance), float(third)
    (6.0, 6.0)
    """
    series = np.asarray(series, dtype=np.float64)
    n = series.shape[-1]
    block = int(min(max(block_size, 1), n))
    n_blocks = -(-n // block)
    last = n - (n_blocks - 1) * block
    centred = series - series.mean(axis=-1, keepdims=True)
    wrapped = np.concatenate([centred, centred[..., : block - 1]], axis=-1)
    cumulative = np.concatenate([np.zeros(series.shape[:-1] + (1,)), np.cumsum(wrapped, axis=-1)], axis=-1)

    def block_sum_moments(length: int) -> tuple[np.ndarray, np.ndarray]:
        sums = cumulative[..., length : length + n] - cumulative[..., :n]
        squares = sums * sums
        return squares.mean(axis=-1), (squares * sums).mean(axis=-1)

    full_second, full_third = block_sum_moments(block)
    last_second, last_third = (full_second, full_third) if last == block else block_sum_moments(last)
    return (n_blocks - 1) * full_second + last_second, (n_blocks - 1) * full_third + last_third


def _t_quantile(df, confidence: float):
    """Upper ``(1 + confidence) / 2`` quantile of Student's t with ``df`` degrees of freedom."""
    from scipy.stats import t

    return t.ppf(0.5 + confidence / 2, df)


def _interval(estimate, std_error, shift, df, confidence: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``estimate + SE * (shift -+ q)`` and the p-value ``P(T > estimate / SE + shift)``, T ~ t(df).

    ``ci_low > 0`` exactly when ``p < (1 - confidence) / 2``: both say ``estimate / SE + shift > q``.
    SE 0 gives the point interval and p = 0 for a positive estimate, else 1; NaN SE gives NaN.
    """
    from scipy.stats import t

    quantile = _t_quantile(df, confidence)
    with np.errstate(divide="ignore", invalid="ignore"):
        p_value = np.where(std_error > 0, t.sf(estimate / std_error + shift, df), np.where(estimate > 0, 0.0, 1.0))
    p_value = np.where(np.isnan(std_error) | np.isnan(estimate), np.nan, p_value)
    return estimate + std_error * (shift - quantile), estimate + std_error * (shift + quantile), p_value


def _projection(stats: RowStatistics) -> tuple[np.ndarray, np.ndarray]:
    """Per-slot Hoeffding terms ``c`` (n_units, n_slots, n_outputs) and evaluations ``N`` (n_units,)."""
    evaluations = stats.recipient_count.sum(axis=1).astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean_increase = stats.recipient_sum.sum(axis=1) / evaluations[:, None]
    terms = stats.recipient_sum - stats.recipient_count[..., None] * mean_increase[:, None, :]
    if stats.donor_sum is not None:
        terms += stats.donor_sum - stats.donation_count[..., None] * mean_increase[:, None, :]
    return terms, evaluations


def _rmse_contributions(stats: RowStatistics, baseline_rows, terms, evaluations) -> np.ndarray:
    """Delta-method per-slot contributions of sqrt(mean perturbed) - sqrt(mean baseline)."""
    if baseline_rows is None:
        raise ValueError('baseline_rows is required for aggregate="rmse", got None')
    baseline_rows = np.asarray(baseline_rows, dtype=np.float64)
    if baseline_rows.ndim == 1:
        baseline_rows = baseline_rows[:, None]
    if baseline_rows.shape != (stats.n_slots, stats.n_outputs):
        raise ValueError(
            f"baseline_rows must have shape ({stats.n_slots}, {stats.n_outputs}) (n_slots, n_outputs), "
            f"got {baseline_rows.shape}"
        )
    baseline = baseline_rows.sum(axis=0) / stats.n_rows
    with np.errstate(divide="ignore", invalid="ignore"):
        perturbed = baseline + stats.recipient_sum.sum(axis=1) / evaluations[:, None]
        slope_perturbed = 0.5 / np.sqrt(perturbed)
        slope_baseline = np.where(baseline > 0, 0.5 / np.sqrt(baseline), 0.0)
    baseline_terms = (baseline_rows - stats.slot_sizes[:, None] * baseline) / stats.n_rows
    return (
        terms / evaluations[:, None, None] * slope_perturbed[:, None, :]
        + baseline_terms[None] * (slope_perturbed - slope_baseline)[:, None, :]
    )


def _politis_white_slots(series: np.ndarray, estimate: np.ndarray) -> float:
    """Median Politis-White circular block length (in slots) over the clearest series.

    ``series`` (n_series, J) and ``estimate`` (n_series,): the at most ``BLOCK_LENGTH_SERIES``
    series with the largest ``|estimate| / sqrt(sum of squares)`` and a non-zero variance; 1.0
    when there is none or the series are too short.
    """
    from arch.bootstrap import optimal_block_length

    series = np.nan_to_num(series)
    spread = np.sqrt((series**2).sum(axis=1))
    varying = np.flatnonzero((series.std(axis=1) > 0) & np.isfinite(estimate))
    if varying.size == 0 or series.shape[1] < _MIN_SERIES_FOR_BLOCK_LENGTH:
        return 1.0
    strength = np.abs(estimate[varying]) / spread[varying]
    chosen = varying[np.argsort(-strength, kind="stable")[:BLOCK_LENGTH_SERIES]]
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        try:
            lengths = optimal_block_length(series[chosen].T)["circular"].to_numpy()
        except ValueError:  # too short for its lag window
            return 1.0
    lengths = lengths[np.isfinite(lengths)]
    return float(np.median(lengths)) if lengths.size else 1.0


def prefetch() -> None:
    """Import arch on a background thread, so its import (0.4-1.5 s, statsmodels included) overlaps the
    model evaluations of a run instead of following them; the later import then finds it loaded."""
    if "arch.bootstrap" not in __import__("sys").modules:
        threading.Thread(target=importlib.import_module, args=("arch.bootstrap",), name="pyimportance-import",
                         daemon=True).start()


# Politis-White needs some room for its lag window (arch fails on a handful of slots).
_MIN_SERIES_FOR_BLOCK_LENGTH = 16


def _block_slots(block_size: int | None, series: np.ndarray, estimate: np.ndarray, rows_per_slot: int) -> int:
    """Block length in slots: the override, or BLOCK_MULTIPLIER x Politis-White; at most J // 3."""
    n_slots = series.shape[-1]
    if block_size is None:
        chosen = _politis_white_slots(series.reshape(-1, n_slots), estimate.reshape(-1))
        slots = int(np.ceil(BLOCK_MULTIPLIER * chosen))
    else:
        slots = -(-int(block_size) // rows_per_slot)
    return max(1, min(slots, n_slots // 3))


def _blocks_with_evaluations(recipient_count: np.ndarray, block_slots: int) -> np.ndarray:
    """Per unit: how many consecutive length-``block_slots`` stretches hold an evaluated slot."""
    n_units, n_slots = recipient_count.shape
    padded = np.zeros((n_units, -(-n_slots // block_slots) * block_slots), dtype=bool)
    padded[:, :n_slots] = recipient_count > 0
    return padded.reshape(n_units, -1, block_slots).any(axis=2).sum(axis=1)


def data_intervals(
    stats: RowStatistics,
    estimate: np.ndarray,
    *,
    block_size: int | None = None,
    confidence: float = 0.95,
    baseline_rows: np.ndarray | None = None,
    aggregate: str = "mean",
) -> Intervals:
    """Intervals and p-values for the importance in the population the rows come from.

    Parameters
    ----------
    stats : RowStatistics
        The run's per-row sums (:meth:`RowAccumulator.statistics`).
    estimate : ndarray of shape (n_units,) or (n_units, n_outputs)
        The importance the run reports; the intervals are built around it.
    block_size : int or None
        Rows per bootstrap block; None chooses it from the data (2 to 9 rows for independent rows,
        more for autocorrelated ones). At most a third of the rows (slots); rounded up to whole slots.
    confidence : float
        Coverage of the two-sided interval, in (0, 1).
    baseline_rows : ndarray of shape (n_slots, n_outputs) or None
        Summed per-row baseline losses (squared errors) of each slot
        (:meth:`RowAccumulator.slot_sums`); needed for ``aggregate="rmse"``.
    aggregate : {"mean", "rmse"}
        How the run aggregates per-row losses: a mean, or the root of the mean squared error.

    Returns
    -------
    Intervals
        Arrays shaped like ``estimate``; ``block_size`` in rows (the one used); ``method="data"``.

    Examples
    --------
    >>> acc = RowAccumulator(1, 6, track_donors=False)
    >>> acc.add(0, np.arange(6), np.array([1.0, 2.0, 3.0, 4.0, 2.0, 3.0]), None)
    >>> data_intervals(acc.statistics(), np.array([2.5]), block_size=1).std_error
    array([0.39086798])
    """
    estimate = np.asarray(estimate, dtype=np.float64)
    expected = (stats.n_units,) if stats.n_outputs == 1 else (stats.n_units, stats.n_outputs)
    if estimate.shape not in (expected, (stats.n_units, stats.n_outputs)):
        raise ValueError(f"estimate must have shape {expected}, got {estimate.shape}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence!r}")
    if aggregate not in ("mean", "rmse"):
        raise ValueError(f'aggregate must be "mean" or "rmse", got {aggregate!r}')
    if block_size is not None and (isinstance(block_size, bool) or int(block_size) != block_size or block_size < 1):
        raise ValueError(f"block_size must be a positive integer or None, got {block_size!r}")

    terms, evaluations = _projection(stats)
    with np.errstate(divide="ignore", invalid="ignore"):
        if aggregate == "rmse":
            contributions = _rmse_contributions(stats, baseline_rows, terms, evaluations)
        else:
            contributions = terms / evaluations[:, None, None]
    series = contributions.transpose(0, 2, 1)  # (n_units, n_outputs, n_slots)
    block_slots = _block_slots(block_size, series, estimate, stats.rows_per_slot)
    variance, third_cumulant = circular_block_cumulants(series, block_slots)
    variance = np.maximum(variance, 0.0)
    std_error = np.sqrt(variance)
    with np.errstate(divide="ignore", invalid="ignore"):
        skewness = np.where(variance > 0, third_cumulant / variance**1.5, 0.0)

    df = _blocks_with_evaluations(stats.recipient_count, block_slots)[:, None] - 1.0
    usable = ((stats.recipient_count > 0).sum(axis=1)[:, None] >= 2) & (df >= 1)
    df = np.broadcast_to(np.where(usable, df, np.nan), std_error.shape)
    std_error = np.where(usable, std_error, np.nan)
    quantile = _t_quantile(df, confidence)
    shift = np.clip(skewness * (2 * quantile**2 + 1) / 6, -MAX_SKEW_SHIFT, MAX_SKEW_SHIFT)

    shape = estimate.shape
    std_error, shift, df = std_error.reshape(shape), shift.reshape(shape), df.reshape(shape)
    ci_low, ci_high, p_value = _interval(estimate, std_error, shift, df, confidence)
    return Intervals(std_error, ci_low, ci_high, p_value, block_slots * stats.rows_per_slot, "data")


def repeats_intervals(importances: np.ndarray, *, confidence: float = 0.95) -> Intervals:
    """The t-interval over repeats: conditional on this data set (measures shuffle noise only).

    Parameters
    ----------
    importances : ndarray of shape (n_units, n_repeats)
        Importance of each unit in each repeat.
    confidence : float
        Coverage of the two-sided interval, in (0, 1).

    Returns
    -------
    Intervals
        Arrays of shape (n_units,): ``mean +- t_{R-1} * sd / sqrt(R)`` and the one-sided p-value
        from the same t distribution; NaN for one repeat; SE 0 gives the point interval.
    """
    importances = np.asarray(importances, dtype=np.float64)
    if importances.ndim != 2:
        raise ValueError(f"importances must have shape (n_units, n_repeats), got {importances.shape}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence!r}")
    n_units, n_repeats = importances.shape
    mean = importances.mean(axis=1)
    if n_repeats < 2:
        nan = np.full(n_units, np.nan)
        return Intervals(nan, nan.copy(), nan.copy(), nan.copy(), None, "repeats")
    std_error = importances.std(axis=1, ddof=1) / np.sqrt(n_repeats)
    ci_low, ci_high, p_value = _interval(mean, std_error, 0.0, n_repeats - 1.0, confidence)
    return Intervals(std_error, ci_low, ci_high, p_value, None, "repeats")


def adjust_p_values(p_values: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values; NaN entries stay NaN and are not counted.

    Parameters
    ----------
    p_values : ndarray of shape (n_units,) or (n_units, n_outputs)
        One-sided p-values; a 2-D array is adjusted per output column (over the units).

    Returns
    -------
    ndarray
        Adjusted p-values of the same shape (``scipy.stats.false_discovery_control``, method "bh").

    Examples
    --------
    >>> adjust_p_values(np.array([0.01, np.nan, 0.04, 0.03]))
    array([0.03,  nan, 0.04, 0.04])
    """
    from scipy.stats import false_discovery_control

    p_values = np.asarray(p_values, dtype=np.float64)
    if p_values.ndim == 2:
        return np.stack([adjust_p_values(column) for column in p_values.T], axis=1)
    adjusted = np.full(p_values.shape, np.nan)
    present = ~np.isnan(p_values)
    if present.any():
        adjusted[present] = false_discovery_control(p_values[present], method="bh")
    return adjusted
