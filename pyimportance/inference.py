"""Data-level inference for perturbation importance: per-row statistics, intervals, p-values.

The run's importance of a unit is a mean of per-row loss increases over (row, repeat)
evaluations. How sure a user can be about the importance *in the population the rows come
from* depends on the rows, not only on the shuffles; :func:`data_intervals` answers that, and
:func:`repeats_intervals` keeps the older interval that is conditional on this data set.

Method (``ci="data"``)
----------------------
Per-row influence. With ``permute``/``resample`` every row is a recipient (it gets another row's
values) and a donor (its values go to another row), so the per-row differences are not
independent and a t-interval over them is too narrow (77-83% coverage at nominal 95% in the
i.i.d. case of issue 12). The estimate is ``S / N`` (``S``: sum of all increases, ``N``: number
of recipient evaluations). Its Hoeffding projection adds, per row ``j``, the row's effects as a
recipient and as a donor::

    estimate - truth  ~  sum_j c_j / N,   c_j = R_j + D_j - (n_j + m_j) * S / N

with ``R_j``/``n_j`` the sum/number of the row's recipient evaluations and ``D_j``/``m_j`` the
sum/number of the increases it caused as a donor. Written with sums rather than means, a row
that never donated (``resample`` draws, or a row not yet evaluated in early stopping) needs no
special case: it contributes its recipient term only, and the random number of donations of
``resample`` is counted too. ``sum_j c_j = 0`` exactly. Noise methods and ablations have no
donors (``D = m = 0``): the recipient term alone is the projection. (``mean`` ablation uses a
mean over the data; its small contribution is not counted.) The per-row values also carry each
row's shuffle noise, which is why the interval counts both rows and perturbations (slightly
conservatively: the shuffle noise of a row enters through both of its terms).

Slots. The sums are additive, so rows are grouped into slots of ``rows_per_slot`` consecutive
rows to keep memory at ``n_units * n_slots * n_outputs <= max_values`` (see
:class:`RowAccumulator`); a slot's ``c`` is the sum of its rows'. Everything below works on the
slot series in the data's row order.

Dependence between neighbouring rows. Rows are often overlapping windows of one series, so the
``c_j`` are autocorrelated. The variance of ``sum_j c_j`` is taken as that of a circular block
bootstrap (CBB) of the slot series, in closed form: with ``k = ceil(J / b)`` blocks of length
``b`` over ``J`` slots (the last one cut to ``r = J - (k-1) b``),
``Var = (k - 1) V(b) + V(r)``, ``V(L) = sum_{|h| < L} (L - |h|) gamma_h``, where ``gamma_h``
are the circular autocovariances of the series (computed for all lags by one FFT). That is
exactly the variance infinitely many CBB replicates would give (tested against
``arch.bootstrap.CircularBlockBootstrap``), deterministic and cheap: no Monte Carlo, no seed.
For ``b = 1`` it is ``sum_j c_j**2``, the i.i.d. sandwich variance. The circular rather than the
moving-block bootstrap because the latter under-weights the edge rows (arch's advice).

Block length. ``block_size`` (in rows) overrides; otherwise the Politis-White (2004, corrected
2009) length of the circular bootstrap, ``arch.bootstrap.optimal_block_length``, computed for
every unit's (and output's) slot series with a non-zero variance; the run uses the median over
units, rounded up. One length for the run because the dependence between neighbouring rows is a
property of the data's order that all units share (overlapping windows), and a single unit's
estimate from a few hundred noisy rows is itself noisy; the median is robust to the units whose
series is pure noise. For independent rows it is about 1.

Interval and p-value. A Wald interval ``estimate +- q * SE``, ``q`` the normal quantile, and the
one-sided p-value ``P(Z > estimate / SE)`` (H0: importance <= 0) from the same distribution, so
``p < (1 - confidence) / 2`` exactly when ``ci_low > 0``. ``SE = 0`` (a unit the model ignores:
every increase is 0) gives the point interval and ``p = 0`` if the estimate is positive, else 1.
A unit evaluated in fewer than two slots gets NaN.

``aggregate="rmse"`` (importance = sqrt(mean perturbed squared error) - sqrt(mean baseline
squared error)) is not a mean of per-row values; its SE comes from the delta method: with
``P`` and ``B`` the mean perturbed and baseline squared errors, slot ``j`` contributes
``c_j / (2 N sqrt(P)) + (b_j - size_j B) / n_rows * (1 / (2 sqrt(P)) - 1 / (2 sqrt(B)))``,
``b_j`` the slot's summed baseline squared errors (``baseline_rows``), then the same CBB variance.

What is written by hand and why: the accumulation (specific to the engine's jobs and donors),
the projection, and the closed-form CBB variance (arch's bootstraps are Monte Carlo, one series
at a time; a closed form over 600 units x 10,000 rows takes milliseconds and needs no seed).
The block length (arch) and Benjamini-Hochberg (SciPy) come from libraries.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

__all__ = [
    "Intervals",
    "RowAccumulator",
    "RowStatistics",
    "adjust_p_values",
    "circular_block_variance",
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
        slots = rows // self.rows_per_slot
        np.add.at(self._recipient_sum[unit], slots, increase)
        self._recipient_count[unit] += np.bincount(slots, minlength=self.n_slots)
        if donors is not None:
            donor_slots = slots[np.asarray(donors)]
            np.add.at(self._donor_sum[unit], donor_slots, increase)
            self._donation_count[unit] += np.bincount(donor_slots, minlength=self.n_slots)

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
    (n_units, n_outputs)); (n_units,) for :func:`repeats_intervals`.

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


def circular_block_variance(series: np.ndarray, block_size: int) -> np.ndarray:
    """Variance of the sum of a circular block bootstrap resample, in closed form.

    Parameters
    ----------
    series : ndarray of shape (..., J)
        Series along the last axis (one per leading index).
    block_size : int
        Block length ``b`` (1 <= b; cut to J).

    Returns
    -------
    ndarray of shape (...,)
        ``Var*(sum of the J resampled values)``: what infinitely many replicates of
        ``arch.bootstrap.CircularBlockBootstrap(b, series)`` would give.
    """
    series = np.asarray(series, dtype=np.float64)
    n = series.shape[-1]
    block = int(min(max(block_size, 1), n))
    n_blocks = -(-n // block)
    last = n - (n_blocks - 1) * block
    centred = series - series.mean(axis=-1, keepdims=True)
    spectrum = np.fft.rfft(centred, n=n, axis=-1)
    autocovariance = np.fft.irfft(spectrum.real**2 + spectrum.imag**2, n=n, axis=-1)[..., :block] / n
    lags = np.arange(block)

    def block_sum_variance(length: int) -> np.ndarray:
        weights = np.where(lags < length, length - lags, 0) * np.where(lags == 0, 1, 2)
        return autocovariance @ weights

    return (n_blocks - 1) * block_sum_variance(block) + block_sum_variance(last)


def _normal_wald(estimate: np.ndarray, std_error: np.ndarray, quantile: float, survival) -> tuple:
    """Interval ``estimate +- quantile * SE`` and p-value ``survival(estimate / SE)``; SE 0 -> point."""
    with np.errstate(divide="ignore", invalid="ignore"):
        p_value = np.where(std_error > 0, survival(estimate / std_error), np.where(estimate > 0, 0.0, 1.0))
    p_value = np.where(np.isnan(std_error) | np.isnan(estimate), np.nan, p_value)
    half_width = quantile * std_error
    return estimate - half_width, estimate + half_width, p_value


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


def _chosen_block_slots(contributions: np.ndarray) -> int:
    """Median Politis-White circular block length over the series with a non-zero variance."""
    from arch.bootstrap import optimal_block_length

    series = contributions.transpose(1, 0, 2).reshape(contributions.shape[1], -1)
    series = series[:, series.std(axis=0) > 0]
    if series.shape[1] == 0 or series.shape[0] < 3:
        return 1
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        lengths = optimal_block_length(series)["circular"].to_numpy()
    lengths = lengths[np.isfinite(lengths)]
    if lengths.size == 0:
        return 1
    return max(1, int(np.ceil(np.median(lengths))))


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
        The importance the run reports; the intervals are centred on it.
    block_size : int or None
        Rows per bootstrap block; None chooses it from the data (about 1 for independent rows).
    confidence : float
        Coverage of the two-sided interval, in (0, 1).
    baseline_rows : ndarray of shape (n_slots, n_outputs) or None
        Summed per-row baseline losses of each slot; needed for ``aggregate="rmse"``.
    aggregate : {"mean", "rmse"}
        How the run aggregates per-row losses: a mean, or the root of the mean squared error.

    Returns
    -------
    Intervals
        Arrays shaped like ``estimate``; ``block_size`` in rows; ``method="data"``.

    Examples
    --------
    >>> acc = RowAccumulator(1, 4, track_donors=False)
    >>> acc.add(0, np.arange(4), np.array([1.0, 2.0, 3.0, 4.0]), None)
    >>> data_intervals(acc.statistics(), np.array([2.5]), block_size=1).std_error
    array([0.55901699])
    """
    from scipy.stats import norm

    estimate = np.asarray(estimate, dtype=np.float64)
    if estimate.shape not in ((stats.n_units,), (stats.n_units, stats.n_outputs)):
        raise ValueError(
            f"estimate must have shape ({stats.n_units},) or ({stats.n_units}, {stats.n_outputs}), "
            f"got {estimate.shape}"
        )
    if estimate.ndim == 1 and stats.n_outputs != 1:
        raise ValueError(f"estimate must have shape ({stats.n_units}, {stats.n_outputs}), got {estimate.shape}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence!r}")
    if aggregate not in ("mean", "rmse"):
        raise ValueError(f'aggregate must be "mean" or "rmse", got {aggregate!r}')
    if block_size is not None and (int(block_size) != block_size or block_size < 1):
        raise ValueError(f"block_size must be a positive integer or None, got {block_size!r}")

    terms, evaluations = _projection(stats)
    with np.errstate(divide="ignore", invalid="ignore"):
        if aggregate == "rmse":
            contributions = _rmse_contributions(stats, baseline_rows, terms, evaluations)
        else:
            contributions = terms / evaluations[:, None, None]
    if block_size is None:
        block_slots = _chosen_block_slots(np.nan_to_num(contributions))
    else:
        block_slots = -(-int(block_size) // stats.rows_per_slot)
    variance = circular_block_variance(contributions.transpose(0, 2, 1), block_slots)
    std_error = np.sqrt(np.maximum(variance, 0.0))
    evaluated_slots = (stats.recipient_count > 0).sum(axis=1)
    std_error[evaluated_slots < 2] = np.nan
    std_error = std_error.reshape(estimate.shape)

    ci_low, ci_high, p_value = _normal_wald(estimate, std_error, norm.ppf(0.5 + confidence / 2), norm.sf)
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
    from scipy.stats import t

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
    distribution = t(df=n_repeats - 1)
    ci_low, ci_high, p_value = _normal_wald(mean, std_error, distribution.ppf(0.5 + confidence / 2), distribution.sf)
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
    array([0.03, nan, 0.04, 0.04])
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
