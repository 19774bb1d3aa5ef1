"""The intervals and p-values of perturbation importance: about the population (``ci="data"``) or over repeats.

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
small effect of the data's mean is not counted).

*Shuffle noise, once* (issue 28). An evaluation with a donor (recipient ``i``, donor ``k``) enters
``c_i`` and ``c_k``, so ``sum_j c_j**2`` counts its noise twice: writing the increase as
``theta + h1(i) + h2(k) + e(i, k)``, the excess over the estimate's variance is exactly
``var(h1) + var(h2) + var(e) = var(h)`` per evaluation, the spread of the increases themselves.
:func:`shared_noise_variance` removes ``sum (increase - S/N)**2 / N**2`` over the evaluations that
have a donor. It does not need the repeats: it holds at ``n_repeats=1`` too (where the spread over
repeats could not be measured), and simulated runs give 0.95-1.04 times the estimate's variance
against 1.7 (one repeat) and 1.3 (five) before (``tests/stats/test_shared_noise.py``). Methods
without donors have nothing to remove.

*Slots.* The sums are additive, so rows are grouped into slots of ``rows_per_slot``
consecutive rows to keep memory bounded (:class:`~.accumulator.RowAccumulator`); a slot's ``c``
is the sum of its rows'. Everything below works on the slot series, in the data's row order.

*Dependence between neighbouring rows* (overlapping windows of one series): the variance of
``sum_j c_j`` is that of a circular block bootstrap (CBB, arch's recommendation over the moving
block bootstrap, which under-weights the edge rows) of the slot series, computed in closed form
(:func:`.block_bootstrap.circular_block_cumulants`): exactly what infinitely many CBB replicates give (tested
against ``arch.bootstrap.CircularBlockBootstrap``), deterministic, no seed, milliseconds for 600
units x 10,000 rows. For blocks of 1 it is ``sum_j c_j**2``, the i.i.d. sandwich variance.

*Block length* (:mod:`.block_bootstrap`). ``block_size`` (rows) overrides. Otherwise ``1 +
BLOCK_MULTIPLIER * (L - 1)`` (``BLOCK_MULTIPLIER`` = 8), ``L`` the Politis-White (2004/2009)
circular-bootstrap length (``arch.bootstrap.optimal_block_length``), the median over the slot series
of the ``BLOCK_LENGTH_SERIES`` (50) units (and outputs) with the clearest signal (largest
``|estimate| / sqrt(sum_j c_j**2)``, non-zero variance). One length for the run: the dependence
between neighbouring rows is a property of the data's order that all units share, and a single
unit's length from a few hundred rows is noisy. The clearest units, because a unit without effect
has a series of shuffle noise only, which shows no dependence and would pull a cell map's 600-unit
median to 1 while the important cells need the blocks; 50 of them also bound the cost (arch computes
one series at a time). Longer than Politis-White: it minimises the mean squared error of the
variance estimate, and an interval needs less bias than that (the block variance is biased low by
~1/b for autocorrelated rows); the noise of the longer blocks is paid for by the t quantile below
(fewer blocks, fewer degrees of freedom), as fixed-b theory (Kiefer and Vogelsang 2005) prescribes
for long blocks. The multiple applies to the length's excess over one row, the part dependence
makes: independent rows, whose length is 1-3 rows from noise alone, keep short blocks and their
power. Chosen on the coverage bench (issue 28, ``bench/RESULTS_coverage.md``): three times ``L``
covered 90% on AR(1) windows (phi = 0.8, n = 300). Capped at a third of the slots.

*Small samples* (:func:`small_sample_factor`). The block sums are centred at the estimate, which
takes about ``b / J`` of the variance with it (``J`` slots that hold evaluated rows, ``b`` the block
length in slots; for ``b = 1`` the usual ``J / (J - 1)``): the variance is divided by ``1 - b / J``.
And the per-row terms are computed at the run's own estimate, against the run's own rows as donors:
under persistence they lose part of the low-frequency variation the estimate has. For the bench's
model (squared error, a linear model of Gaussian AR(1) inputs) the loss is, to first order,
``2 r_x**2 / (r_c n)`` of the long-run variance, ``r_x = (1 + phi) / (1 - phi)`` and
``r_c = (1 + phi**2) / (1 - phi**2)``: 12% at phi = 0.8 and n = 300 (measured about 10%), 3.6% at
n = 1000 (2.6%), 1% for independent rows. Like the centring it grows with the persistence, which the
block length measures, so the variance is also multiplied by ``1 + PLUG_IN_CORRECTION * (b - 1) / J``
(``PLUG_IN_CORRECTION`` = 3, chosen on the bench; nothing for blocks of one row). The variance then
averages 1.08 times the estimate's spread on independent rows and 1.1-1.44 times on the bench's
windows: on persistent windows the estimate and its standard error fall together, the intervals that
miss are the narrow ones, and covering 95% takes intervals that are wider on average (with the true
variance the same interval covers 94.3% at AR(1) 0.8, n = 300).

*Interval and p-value.* A t interval with ``df`` = number of blocks - 1 (the blocks of length
b that hold evaluated rows), plus a second-order skewness correction: the importance of a
squared-error loss behaves like a variance, its estimate and its SE rise and fall together, and
a symmetric interval misses the truth almost only above it. The one-term Edgeworth expansion of
the studentized mean, ``P(T <= x) = Phi(x) + skew * (2 x^2 + 1) / 6 * phi(x)`` (Hall 1992, The
Bootstrap and Edgeworth Expansion), moves both bounds up by ``SE * skew * (2 q^2 + 1) / 6``,
``skew`` the skewness of the estimate, here the CBB's in closed form (its variance and third
cumulant, both of the same bootstrap distribution, before the noise removal); the shift is capped at
``MAX_SKEW_SHIFT`` (0.5) standard errors. The one-sided p-value (H0: importance <= 0) is
``P(T > estimate / SE + shift)`` for the same t, so ``p < (1 - confidence) / 2`` exactly when
``ci_low > 0``. ``SE = 0`` (a unit the model ignores: every increase is 0) gives the point
interval and ``p = 0`` for a positive estimate, else 1. A unit evaluated in fewer than two
slots, or in one block only, gets NaN.

*Coverage* at nominal 95%: ``bench/RESULTS_coverage.md`` (the measured table, with the ablations:
the interval before issue 28, each of its choices undone) and ``docs/guides/how-sure.md``.

*rmse* (``aggregate="rmse"``: sqrt(mean perturbed squared error) - sqrt(mean baseline squared
error)) is not a mean of per-row values; its SE comes from the delta method. With ``P`` and
``B`` the mean perturbed and baseline squared errors, slot ``j`` contributes
``c_j / (2 N sqrt(P)) + (b_j - size_j B) / n_rows * (1 / (2 sqrt(P)) - 1 / (2 sqrt(B)))``,
``b_j`` the slot's summed baseline squared errors (``baseline_rows``); then as above.

*Too few rows.* Below :data:`MIN_ROWS` (3) evaluated rows no interval is reported, of any
kind and under every method: NaN bounds, standard errors and p-values, and a warning
(:func:`warn_if_too_few_rows`). Two rows are two blocks at most, one degree of freedom, and
under ``permute`` the only permutation that moves anything is the swap, so the per-row terms
cancel and the interval has width 0 and p = 0: a certainty the data cannot give. The rule is
on rows, not blocks, because it must also hold for the repeats interval (which has no blocks)
and is checked once, here, for every kind.

*Which interval a run reports* is decided once, by :func:`run_intervals`: the data interval
where the loss has row-wise values (a mean, or rmse), else the repeats interval with a note;
none for a deterministic method (evaluated once). The runner calls it for the stopping rule
and for the result alike, so the rule reads the intervals the result reports. The level is
:data:`CONFIDENCE`.

Written by hand, and why: the accumulation (specific to the engine's jobs and donors), the
projection, and the closed-form CBB cumulants (arch's bootstraps are Monte Carlo, one series at
a time). The block length (arch), the t distribution and Benjamini-Hochberg (SciPy) come from
libraries.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from .accumulator import RowStatistics
from .block_bootstrap import block_slots, circular_block_cumulants

#: The coverage of every interval a run reports (two-sided), and so of "95%" wherever it is shown.
CONFIDENCE = 0.95
#: Largest skewness correction of the interval, in standard errors.
MAX_SKEW_SHIFT = 0.5
#: The per-row terms are computed at the run's own estimate and donor rows; under persistence that takes about
#: this many times ``(b - 1) / J`` of the long-run variance besides the centring's ``b / J`` (module docstring,
#: *Small samples*; chosen on the coverage bench, issue 28): :func:`small_sample_factor`.
PLUG_IN_CORRECTION = 3.0
#: The fewest evaluated rows a run reports an interval (and p-value) for (module docstring).
MIN_ROWS = 3

#: The intervals a caller may ask for (``ci=``): about the population the rows come from, or over repeats.
CI_CHOICES = ("data", "repeats")


def level_text(confidence: float = CONFIDENCE) -> str:
    """The level as text: ``"95%"``."""
    return f"{confidence:.0%}"


#: What each kind of interval is about, in words (after the level).
INTERVAL_KINDS = {
    "data": "interval for the population the rows come from (rows and perturbations)",
    "repeats": "t-interval over repeats, conditional on this data set",
}


#: What each kind of interval covers, in a sentence for readers of a report.
INTERVAL_MEANINGS = {
    "data": "It is about the importance in the population the rows come from: it counts the randomness of the "
            "rows (other data from the same source) as well as that of the perturbations, resampling neighbouring "
            "rows in blocks so that dependent rows, such as overlapping windows of one series, are not counted as "
            "independent. It does not cover retraining the model.",
    "repeats": "It covers the randomness of the perturbation for this model and these data only, not drawing "
               "other data or retraining the model.",
    "none": "No interval was computed (the reason is given with it): read the importances as point values.",
}


def interval_text(kind: str, block_size: int | None = None, note: str | None = None,
                  confidence: float = CONFIDENCE) -> str:
    """The one description of the interval a run reports (``Intervals.method``), with why where it is not the
    ``ci`` asked for: the ``Interval:`` line that Python, R and the command line print, and the report's text.

    >>> interval_text("data", 4)
    '95% interval for the population the rows come from (rows and perturbations) (block length 4 rows)'
    >>> interval_text("none", note="deterministic method: no interval over repeats")
    'none; deterministic method: no interval over repeats'
    """
    if kind in INTERVAL_KINDS:
        text = f"{level_text(confidence)} {INTERVAL_KINDS[kind]}"
        if kind == "data" and block_size:
            text += f" (block length {block_size} rows)"
    else:
        text = "none"
    return text if note is None else f"{text}; {note}"


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
        ``"data"``, ``"repeats"`` or ``"none"`` (no interval: a deterministic method without a data
        interval, or fewer than :data:`MIN_ROWS` rows); :func:`interval_text` describes each.
    """

    std_error: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    p_value: np.ndarray
    block_size: int | None
    method: str

    def select(self, chosen) -> Intervals:
        """The intervals of the units ``chosen`` (an index or slice of the first axis)."""
        return Intervals(self.std_error[chosen], self.ci_low[chosen], self.ci_high[chosen], self.p_value[chosen],
                         self.block_size, self.method)


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


def projection(stats: RowStatistics) -> tuple[np.ndarray, np.ndarray]:
    """Per-slot Hoeffding terms ``c`` (n_units, n_slots, n_outputs) and evaluations ``N`` (n_units,)."""
    evaluations = stats.recipient_count.sum(axis=1).astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean_increase = stats.recipient_sum.sum(axis=1) / evaluations[:, None]
    terms = stats.recipient_sum - stats.recipient_count[..., None] * mean_increase[:, None, :]
    if stats.donor_sum is not None:
        terms += stats.donor_sum - stats.donation_count[..., None] * mean_increase[:, None, :]
    return terms, evaluations


def shared_noise_variance(stats: RowStatistics, evaluations: np.ndarray) -> np.ndarray:
    """The part of the projection's variance that counts the shuffle noise twice, (n_units, n_outputs).

    An evaluation with a donor (recipient ``i`` given donor ``k``'s values) enters ``c_i`` and ``c_k``.
    Writing its increase as ``theta + h1(i) + h2(k) + e(i, k)`` (recipient effect, donor effect,
    interaction), ``sum_j c_j**2`` counts each evaluation's ``h2(k)`` in ``c_i``, its ``h1(i)`` in
    ``c_k`` and its ``e`` in both, where the estimate's variance holds ``e`` once: the excess is
    ``var(h1) + var(h2) + var(e) = var(h)`` per evaluation, the spread of the increases themselves.
    So ``sum over evaluations with a donor of w_i**2 (increase - S/N)**2 / N**2`` is removed (``w_i``
    the recipient's weight, 1 unweighted; ``N`` the sum of the weights): exact in expectation for any
    number of repeats (one included: the increases' spread is not the spread over repeats). Noise
    methods and ablations have no donors and nothing to remove. From the accumulated moments
    (:attr:`.RowStatistics.donated_moments`): ``Q - 2 mean C + mean**2 W`` with ``Q``, ``C``, ``W`` the
    sums of ``(w h)**2``, ``w (w h)`` and ``w**2``.
    """
    zeros = np.zeros((stats.n_units, stats.n_outputs))
    if stats.donated_moments is None:
        return zeros
    squares, cross, weights = np.moveaxis(stats.donated_moments, -1, 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = stats.recipient_sum.sum(axis=1) / evaluations[:, None]
        excess = (squares - 2 * mean * cross + mean**2 * weights) / evaluations[:, None] ** 2
    return np.where(np.isfinite(excess), np.maximum(excess, 0.0), 0.0)


def _rmse_contributions(stats: RowStatistics, baseline_rows, terms, evaluations) -> tuple[np.ndarray, np.ndarray]:
    """Delta-method per-slot contributions of sqrt(mean perturbed) - sqrt(mean baseline), and the slope
    ``1 / (2 sqrt(P))`` (n_units, n_outputs) by which the increases (and their noise) enter."""
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
    baseline = baseline_rows.sum(axis=0) / stats.total_weight
    with np.errstate(divide="ignore", invalid="ignore"):
        perturbed = baseline + stats.recipient_sum.sum(axis=1) / evaluations[:, None]
        slope_perturbed = 0.5 / np.sqrt(perturbed)
        slope_baseline = np.where(baseline > 0, 0.5 / np.sqrt(baseline), 0.0)
    baseline_terms = (baseline_rows - stats.slot_totals[:, None] * baseline) / stats.total_weight
    return (
        terms / evaluations[:, None, None] * slope_perturbed[:, None, :]
        + baseline_terms[None] * (slope_perturbed - slope_baseline)[:, None, :]
    ), slope_perturbed


def small_sample_factor(block: int, n_slots) -> np.ndarray:
    """The long-run variance's small-sample correction for blocks of ``b`` of ``J`` slots (module docstring).

    ``(1 + PLUG_IN_CORRECTION * (b - 1) / J) / (1 - b / J)``: the centring at the estimate takes ``b / J``
    of the variance (for ``b = 1`` the usual ``J / (J - 1)``), the per-row terms' plug-in about
    ``PLUG_IN_CORRECTION * (b - 1) / J`` more where neighbouring rows are dependent (none for blocks of
    one row). ``J`` counts the slots that hold evaluated rows (of positive weight); 1 where the block is
    the whole series.

    Examples
    --------
    >>> small_sample_factor(1, np.array([200, 300])).round(4), small_sample_factor(20, 300).round(4)
    (array([1.005 , 1.0033]), 1.275)
    """
    n_slots = np.asarray(n_slots, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = (1.0 + PLUG_IN_CORRECTION * (block - 1) / n_slots) / (1.0 - block / n_slots)
    return np.where(n_slots > block, factor, 1.0)


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
    confidence: float = CONFIDENCE,
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
    array([0.42817442])
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

    terms, evaluations = projection(stats)
    excess = shared_noise_variance(stats, evaluations)
    with np.errstate(divide="ignore", invalid="ignore"):
        if aggregate == "rmse":
            contributions, slope = _rmse_contributions(stats, baseline_rows, terms, evaluations)
            excess = excess * np.nan_to_num(slope) ** 2
        else:
            contributions = terms / evaluations[:, None, None]
    series = contributions.transpose(0, 2, 1)  # (n_units, n_outputs, n_slots)
    slots = block_slots(block_size, series, estimate, stats.rows_per_slot)
    bootstrap_variance, third_cumulant = circular_block_cumulants(series, slots)
    evaluated_slots = (stats.recipient_count > 0).sum(axis=1)[:, None]  # (n_units, 1): rows of positive weight
    variance = np.maximum(bootstrap_variance - excess, 0.0) * small_sample_factor(slots, evaluated_slots)
    std_error = np.sqrt(variance)
    with np.errstate(divide="ignore", invalid="ignore"):  # both moments of the same (CBB) distribution
        skewness = np.where(bootstrap_variance > 0, third_cumulant / bootstrap_variance**1.5, 0.0)

    df = _blocks_with_evaluations(stats.recipient_count, slots)[:, None] - 1.0
    usable = (evaluated_slots >= 2) & (df >= 1)
    df = np.broadcast_to(np.where(usable, df, np.nan), std_error.shape)
    std_error = np.where(usable, std_error, np.nan)
    quantile = _t_quantile(df, confidence)
    shift = np.clip(skewness * (2 * quantile**2 + 1) / 6, -MAX_SKEW_SHIFT, MAX_SKEW_SHIFT)

    shape = estimate.shape
    std_error, shift, df = std_error.reshape(shape), shift.reshape(shape), df.reshape(shape)
    ci_low, ci_high, p_value = _interval(estimate, std_error, shift, df, confidence)
    return Intervals(std_error, ci_low, ci_high, p_value, slots * stats.rows_per_slot, "data")


def repeats_intervals(importances: np.ndarray, *, confidence: float = CONFIDENCE) -> Intervals:
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


#: Why a run reports another interval than the ``ci`` asked for.
NOT_ROW_WISE_NOTE = "the loss is not a mean over rows (custom callable or several rmse heads): interval over repeats"
DETERMINISTIC_NOTE = "deterministic method: no interval over repeats"
FEW_ROWS_NOTE = f"fewer than {MIN_ROWS} rows: no interval"


def too_few_rows(n_rows: int) -> bool:
    """Whether ``n_rows`` evaluated rows are too few for any interval (fewer than :data:`MIN_ROWS`)."""
    return n_rows < MIN_ROWS


def warn_if_too_few_rows(n_rows: int, stacklevel: int = 3) -> None:
    """Warn that a run on fewer than :data:`MIN_ROWS` rows reports NaN intervals and p-values."""
    if too_few_rows(n_rows):
        warnings.warn(
            f"{n_rows} evaluated row(s) are too few for an interval: the intervals and p-values are NaN "
            f"(at least {MIN_ROWS} rows are needed); evaluate on more rows",
            UserWarning,
            stacklevel=stacklevel,
        )


def _without_intervals(intervals: Intervals) -> Intervals:
    """No intervals (method ``"none"``): every standard error, bound and p-value NaN."""
    nan = np.full(np.shape(intervals.ci_low), np.nan)
    return replace(intervals, std_error=nan, ci_low=nan.copy(), ci_high=nan.copy(), p_value=nan.copy(),
                   block_size=None, method="none")


def run_intervals(importances: np.ndarray, statistics: RowStatistics | None, aggregates: Sequence[str], ci: str,
                  block_size: int | None, baseline_rows, deterministic: bool,
                  n_rows: int | None = None) -> tuple[Intervals, str | None]:
    """The intervals a run reports, and a note when they are not the kind ``ci`` asked for.

    Parameters
    ----------
    importances : ndarray of shape (n_units, n_repeats, n_outputs)
    statistics : RowStatistics or None
        The run's per-row sums (None when the loss has no row-wise values or ``ci="repeats"``).
    aggregates : sequence of str
        How each output's row-wise values combine: "mean", "rmse" or "none"
        (:meth:`pyimportance.scoring.scoring.Scoring.output_aggregate`).
    ci : {"data", "repeats"}
    block_size : int or None
    baseline_rows : ndarray or None
        Summed baseline squared errors per slot (what an rmse interval needs).
    deterministic : bool
        Whether the method gives the same values every repeat (evaluated once: no repeats interval).
    n_rows : int, optional
        The rows evaluated; fewer than :data:`MIN_ROWS` give NaN intervals (with
        :data:`FEW_ROWS_NOTE`). None: the data's rows (``statistics.n_rows``), else not checked.

    Returns
    -------
    (Intervals, str or None)
        The data interval where every output's values are means (or all rmse, with
        ``baseline_rows``), else the repeats interval (with a note when ``ci="data"`` was
        asked for); for a deterministic method without a data interval, NaN (method "none").
    """
    if n_rows is None and statistics is not None:
        n_rows = statistics.n_rows
    intervals, note = _run_intervals(importances, statistics, aggregates, ci, block_size, baseline_rows, deterministic)
    if n_rows is not None and too_few_rows(n_rows):
        return _without_intervals(intervals), FEW_ROWS_NOTE
    return intervals, note


def _run_intervals(importances, statistics, aggregates, ci, block_size, baseline_rows,
                   deterministic) -> tuple[Intervals, str | None]:
    """:func:`run_intervals` before the rule on too few rows."""
    estimate = importances.mean(axis=1)
    intervals = None
    if ci == "data" and statistics is not None:
        if all(aggregate == "mean" for aggregate in aggregates):
            intervals = data_intervals(statistics, estimate, block_size=block_size)
        elif all(aggregate == "rmse" for aggregate in aggregates) and baseline_rows is not None:
            intervals = data_intervals(statistics, estimate, block_size=block_size, baseline_rows=baseline_rows,
                                       aggregate="rmse")
    if intervals is not None:
        return intervals, None
    if deterministic:
        nan = np.full(estimate.shape, np.nan)
        return Intervals(np.zeros_like(nan), nan, nan.copy(), nan.copy(), None, "none"), DETERMINISTIC_NOTE
    per_output = [repeats_intervals(importances[:, :, k]) for k in range(importances.shape[2])]
    intervals = Intervals(
        std_error=np.stack([i.std_error for i in per_output], axis=1),
        ci_low=np.stack([i.ci_low for i in per_output], axis=1),
        ci_high=np.stack([i.ci_high for i in per_output], axis=1),
        p_value=np.stack([i.p_value for i in per_output], axis=1),
        block_size=None,
        method="repeats",
    )
    return intervals, NOT_ROW_WISE_NOTE if ci == "data" else None
