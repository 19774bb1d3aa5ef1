"""Data-level inference: the row accumulator, closed forms of the intervals, p-values, BH."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import signal, stats

from pyimportance.inference import (
    RowAccumulator,
    adjust_p_values,
    circular_block_cumulants,
    data_intervals,
    repeats_intervals,
)

# --- RowAccumulator ------------------------------------------------------------------------


def _reference_sums(n_units, n_rows, rows_per_slot, jobs):
    """Loop-by-loop sums per (unit, slot): recipient sum/count, donor sum/count."""
    n_slots = -(-n_rows // rows_per_slot)
    recipient_sum, donor_sum = np.zeros((n_units, n_slots)), np.zeros((n_units, n_slots))
    recipient_count = np.zeros((n_units, n_slots), dtype=int)
    donation_count = np.zeros((n_units, n_slots), dtype=int)
    for unit, rows, increase, donors in jobs:
        for j, row in enumerate(rows):
            recipient_sum[unit, row // rows_per_slot] += increase[j]
            recipient_count[unit, row // rows_per_slot] += 1
            donor_row = rows[donors[j]]
            donor_sum[unit, donor_row // rows_per_slot] += increase[j]
            donation_count[unit, donor_row // rows_per_slot] += 1
    return recipient_sum, recipient_count, donor_sum, donation_count


def _random_jobs(rng, n_units, n_rows, n_jobs, block=None):
    jobs = []
    for _ in range(n_jobs):
        rows = np.sort(rng.choice(n_rows, size=block, replace=False)) if block else np.arange(n_rows)
        jobs.append((int(rng.integers(n_units)), rows, rng.standard_normal(rows.size), rng.permutation(rows.size)))
    return jobs


@pytest.mark.parametrize(("max_values", "rows_per_slot"), [(4_000_000, 1), (60, 2), (40, 3)])
def test_accumulator_sums_match_a_loop_over_rows_repeats_and_blocks(max_values, rows_per_slot):
    rng = np.random.default_rng(0)
    n_units, n_rows = 2, 50
    jobs = _random_jobs(rng, n_units, n_rows, 6) + _random_jobs(rng, n_units, n_rows, 6, block=17)
    accumulator = RowAccumulator(n_units, n_rows, track_donors=True, max_values=max_values)
    for job in jobs:
        accumulator.add(*job)
    statistics = accumulator.statistics()
    assert statistics.rows_per_slot == rows_per_slot
    expected = _reference_sums(n_units, n_rows, rows_per_slot, jobs)
    np.testing.assert_allclose(statistics.recipient_sum[..., 0], expected[0], rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(statistics.recipient_count, expected[1])
    np.testing.assert_allclose(statistics.donor_sum[..., 0], expected[2], rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(statistics.donation_count, expected[3])


def test_accumulator_without_donors_keeps_recipient_sums_only_and_accepts_outputs():
    accumulator = RowAccumulator(1, 3, n_outputs=2, track_donors=False)
    accumulator.add(0, np.array([2, 0]), np.array([[1.0, 10.0], [2.0, 20.0]]), None)
    accumulator.add(0, np.array([2]), np.array([[3.0, 30.0]]), None)
    statistics = accumulator.statistics()
    np.testing.assert_array_equal(statistics.recipient_sum[0], [[2.0, 20.0], [0.0, 0.0], [4.0, 40.0]])
    np.testing.assert_array_equal(statistics.recipient_count[0], [1, 0, 2])
    assert statistics.donor_sum is None and statistics.donation_count is None


@pytest.mark.parametrize(
    ("n_units", "n_rows", "n_outputs", "rows_per_slot", "n_slots"),
    [
        (600, 100_000, 1, 16, 6250),
        (600, 10_000, 1, 2, 5000),
        (5, 10_000, 1, 1, 10_000),
        (600, 6666, 1, 1, 6666),
        (600, 6667, 1, 2, 3334),
        (3, 10, 2, 1, 10),
    ],
)
def test_slots_keep_units_times_slots_times_outputs_within_max_values(
    n_units, n_rows, n_outputs, rows_per_slot, n_slots
):
    accumulator = RowAccumulator(n_units, n_rows, n_outputs, track_donors=False)
    assert (accumulator.rows_per_slot, accumulator.n_slots) == (rows_per_slot, n_slots)
    assert n_units * n_slots * n_outputs <= 4_000_000
    statistics = accumulator.statistics()
    assert statistics.recipient_sum.shape == (n_units, n_slots, n_outputs)
    assert statistics.slot_sizes.sum() == n_rows and statistics.slot_sizes.max() == rows_per_slot


def test_slot_sums_add_per_row_values_over_each_slot():
    accumulator = RowAccumulator(2, 7, track_donors=False, max_values=8)  # 4 slots: 2, 2, 2, 1 rows
    np.testing.assert_array_equal(accumulator.slot_sums(np.arange(7.0)), [[1.0], [5.0], [9.0], [6.0]])
    two_outputs = np.stack([np.arange(7.0), np.ones(7)], axis=1)
    np.testing.assert_array_equal(accumulator.slot_sums(two_outputs)[:, 1], [2.0, 2.0, 2.0, 1.0])


def test_statistics_are_a_snapshot_and_callers_arrays_stay_unchanged():
    accumulator = RowAccumulator(1, 4, track_donors=True)
    rows, increase, donors = np.arange(4), np.array([1.0, 2.0, 3.0, 4.0]), np.array([1, 0, 3, 2])
    copies = rows.copy(), increase.copy(), donors.copy()
    accumulator.add(0, rows, increase, donors)
    first = accumulator.statistics()
    accumulator.add(0, rows, increase, donors)
    np.testing.assert_array_equal(first.recipient_sum[0, :, 0], increase)
    np.testing.assert_array_equal(accumulator.statistics().recipient_sum[0, :, 0], 2 * increase)
    for original, copy in zip((rows, increase, donors), copies):
        np.testing.assert_array_equal(original, copy)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"unit": 2}, r"unit must be in \[0, 2\), got 2"),
        ({"increase": np.zeros(3)}, r"increase must have shape \(4, 1\) to match rows, got \(3, 1\)"),
        ({"donors": None}, r"donors must be an array of local positions \(track_donors=True\)"),
        ({"donors": np.array([0, 1, 2, 4])}, r"donors must be 4 local positions in \[0, 4\)"),
        ({"rows": np.array([0, 1, 2, 9])}, r"rows must be row indices in \[0, 5\), got 0..9"),
    ],
)
def test_add_names_the_bad_argument(kwargs, message):
    accumulator = RowAccumulator(2, 5, track_donors=True)
    job = {"unit": 0, "rows": np.arange(4), "increase": np.zeros(4), "donors": np.array([1, 0, 3, 2])}
    job.update(kwargs)
    with pytest.raises(ValueError, match=message):
        accumulator.add(**job)


def test_constructor_rejects_too_small_max_values_and_bad_counts():
    with pytest.raises(ValueError, match=r"max_values must be at least n_units \* n_outputs = 20, got 10"):
        RowAccumulator(10, 100, 2, track_donors=False, max_values=10)
    with pytest.raises(ValueError, match="n_rows must be a positive integer, got 0"):
        RowAccumulator(1, 0, track_donors=False)
    with pytest.raises(ValueError, match=r"donors must be None \(track_donors=False\)"):
        RowAccumulator(1, 2, track_donors=False).add(0, np.arange(2), np.zeros(2), np.array([1, 0]))


# --- circular block bootstrap cumulants ----------------------------------------------------


@pytest.mark.parametrize("block_size", [1, 3, 4, 7])
def test_circular_block_variance_equals_archs_bootstrap_monte_carlo(block_size):
    from arch.bootstrap import CircularBlockBootstrap

    rng = np.random.default_rng(3)
    series = rng.exponential(size=26) + np.sin(np.arange(26) / 3)  # skewed and autocorrelated
    bootstrap = CircularBlockBootstrap(block_size, series, seed=np.random.default_rng(4))
    sums = np.array([data[0][0].sum() for data in bootstrap.bootstrap(40_000)])
    variance, third = circular_block_cumulants(series, block_size)
    assert variance == pytest.approx(sums.var(), rel=0.03)
    deviations = (sums - sums.mean()) ** 3
    assert abs(third - deviations.mean()) < 4 * deviations.std() / np.sqrt(sums.size)


@pytest.mark.parametrize(("n_values", "block_size"), [(6, 2), (7, 3), (5, 1), (7, 5)])
def test_circular_block_cumulants_equal_the_exact_bootstrap_distribution(n_values, block_size):
    """Every combination of block starts, indexed as arch's CircularBlockBootstrap does."""
    series = np.random.default_rng(n_values).exponential(size=n_values)
    n_blocks = -(-n_values // block_size)
    starts = np.stack(np.meshgrid(*[np.arange(n_values)] * n_blocks, indexing="ij"), -1).reshape(-1, n_blocks)
    indices = ((starts[:, :, None] + np.arange(block_size)).reshape(len(starts), -1) % n_values)[:, :n_values]
    sums = series[indices].sum(axis=1)
    variance, third = circular_block_cumulants(series, block_size)
    assert variance == pytest.approx(sums.var(), rel=1e-10)
    assert third == pytest.approx(((sums - sums.mean()) ** 3).mean(), rel=1e-10)


def test_circular_block_cumulants_closed_forms():
    series = np.array([[1.0, 2.0, 4.0, 1.0, 7.0, 3.0], [0.0, 0.0, 0.0, 0.0, 0.0, 0.0]])
    centred = series[0] - series[0].mean()
    variance, third = circular_block_cumulants(series, 1)
    # blocks of one: the i.i.d. bootstrap of the sum
    np.testing.assert_allclose(variance, [(centred**2).sum(), 0.0])
    np.testing.assert_allclose(third, [(centred**3).sum(), 0.0])
    # blocks of 2 over 6 values: 3 blocks, each the sum of two circular neighbours
    pairs = centred + np.roll(centred, -1)
    assert circular_block_cumulants(series[0], 2)[0] == pytest.approx(3 * (pairs**2).mean())
    # one block spanning the whole circle always sums to the total: no variance
    assert circular_block_cumulants(series[0], 6)[0] == pytest.approx(0.0, abs=1e-12)


# --- data_intervals ------------------------------------------------------------------------


def _permutation_statistics(rng, n_rows=60, n_units=3, n_repeats=4, scale=(1.0, 0.3, 0.0)):
    """Accumulated statistics of a toy permutation run with per-row increases."""
    accumulator = RowAccumulator(n_units, n_rows, track_donors=True)
    values = rng.standard_normal(n_rows)
    for unit in range(n_units):
        for _ in range(n_repeats):
            donors = rng.permutation(n_rows)
            increase = scale[unit] * ((values - values[donors]) ** 2 + 0.2 * rng.standard_normal(n_rows))
            accumulator.add(unit, np.arange(n_rows), increase, donors)
    statistics = accumulator.statistics()
    estimate = statistics.recipient_sum.sum(axis=1)[:, 0] / statistics.recipient_count.sum(axis=1)
    return statistics, estimate


def test_data_standard_error_is_the_hoeffding_projection_for_blocks_of_one():
    rng = np.random.default_rng(5)
    n_rows, n_repeats = 40, 3
    accumulator = RowAccumulator(1, n_rows, track_donors=True)
    recipient, donor = np.zeros(n_rows), np.zeros(n_rows)
    for _ in range(n_repeats):
        donors = rng.permutation(n_rows)
        increase = rng.exponential(size=n_rows)
        accumulator.add(0, np.arange(n_rows), increase, donors)
        recipient += increase
        np.add.at(donor, donors, increase)
    estimate = recipient.sum() / (n_rows * n_repeats)
    # per row: mean effect as recipient + mean effect as donor - estimate, then the SE of their mean
    influence = recipient / n_repeats + donor / n_repeats - estimate
    expected = np.sqrt(((influence - estimate) ** 2).sum()) / n_rows
    intervals = data_intervals(accumulator.statistics(), np.array([estimate]), block_size=1)
    assert intervals.std_error[0] == pytest.approx(expected, rel=1e-12)
    assert intervals.block_size == 1 and intervals.method == "data"


def test_noise_methods_standard_error_is_the_sandwich_over_row_means():
    rng = np.random.default_rng(6)
    accumulator = RowAccumulator(1, 30, track_donors=False)
    row_means = np.zeros(30)
    for _ in range(4):
        increase = rng.gamma(2.0, size=30)
        accumulator.add(0, np.arange(30), increase, None)
        row_means += increase / 4
    intervals = data_intervals(accumulator.statistics(), np.array([row_means.mean()]), block_size=1)
    expected = np.sqrt(((row_means - row_means.mean()) ** 2).sum()) / 30
    assert intervals.std_error[0] == pytest.approx(expected, rel=1e-12)


def test_slots_of_several_rows_give_the_variance_of_slot_sums():
    rng = np.random.default_rng(7)
    increase = rng.standard_normal(20) + 1.0
    accumulator = RowAccumulator(5, 20, track_donors=False, max_values=25)  # 5 slots of 4 rows
    assert accumulator.rows_per_slot == 4
    accumulator.add(0, np.arange(20), increase, None)
    intervals = data_intervals(accumulator.statistics(), np.array([increase.mean(), 0, 0, 0, 0]), block_size=1)
    slot_sums = (increase - increase.mean()).reshape(5, 4).sum(axis=1)
    assert intervals.std_error[0] == pytest.approx(np.sqrt((slot_sums**2).sum()) / 20, rel=1e-12)
    assert intervals.block_size == 4  # one slot, reported in rows


def test_partially_evaluated_slots_give_finite_intervals_and_unevaluated_units_nan():
    rng = np.random.default_rng(8)
    accumulator = RowAccumulator(3, 100, track_donors=True)
    for _ in range(3):  # early stopping: random blocks of rows, permuted within the block
        rows = np.sort(rng.choice(100, size=30, replace=False))
        accumulator.add(0, rows, rng.standard_normal(30) + 2.0, rng.permutation(30))
    accumulator.add(1, np.array([5]), np.array([1.0]), np.array([0]))  # a single evaluated row
    statistics = accumulator.statistics()
    estimate = np.array([statistics.recipient_sum[0].sum() / 90, 1.0, np.nan])
    intervals = data_intervals(statistics, estimate)
    assert np.isfinite(intervals.std_error[0]) and intervals.ci_low[0] > 0 and intervals.p_value[0] < 0.025
    assert np.isnan(intervals.std_error[1:]).all() and np.isnan(intervals.p_value[1:]).all()
    assert np.isnan(intervals.ci_low[1:]).all() and np.isnan(intervals.ci_high[1:]).all()


def test_unused_unit_gets_the_point_interval_and_p_value_one():
    statistics, estimate = _permutation_statistics(np.random.default_rng(9))
    intervals = data_intervals(statistics, estimate)
    assert estimate[2] == 0.0 and intervals.std_error[2] == 0.0
    assert intervals.ci_low[2] == intervals.ci_high[2] == 0.0 and intervals.p_value[2] == 1.0


@pytest.mark.parametrize("confidence", [0.95, 0.9, 0.99])
def test_p_value_below_half_alpha_exactly_when_lower_bound_above_zero(confidence):
    rng = np.random.default_rng(10)
    agree = []
    for trial in range(40):
        statistics, estimate = _permutation_statistics(rng, scale=(0.05 * trial, -0.02, 0.01 * trial))
        estimate = estimate - 0.3  # push some estimates across zero
        intervals = data_intervals(statistics, estimate, confidence=confidence)
        agree.append((intervals.p_value < (1 - confidence) / 2) == (intervals.ci_low > 0))
        assert np.all(intervals.ci_low <= estimate) and np.all(estimate <= intervals.ci_high)
    assert np.all(agree)


def test_automatic_block_length_is_short_for_independent_rows_and_long_for_autocorrelated_rows():
    rng = np.random.default_rng(11)
    n_rows = 2000
    lengths = {}
    for name, series in {
        "independent": rng.standard_normal(n_rows),
        "ar(0.9)": signal.lfilter([1.0], [1.0, -0.9], rng.standard_normal(n_rows)),
    }.items():
        accumulator = RowAccumulator(1, n_rows, track_donors=False)
        accumulator.add(0, np.arange(n_rows), series + 1.0, None)
        lengths[name] = data_intervals(accumulator.statistics(), np.array([series.mean() + 1.0])).block_size
    assert lengths["independent"] <= 9
    assert lengths["ar(0.9)"] >= 30


def test_block_size_override_is_rounded_up_to_slots_and_capped_at_a_third():
    accumulator = RowAccumulator(1, 30, track_donors=False, max_values=10)  # 3 rows per slot
    accumulator.add(0, np.arange(30), np.arange(30.0), None)
    statistics = accumulator.statistics()
    assert data_intervals(statistics, np.array([14.5]), block_size=4).block_size == 6
    assert data_intervals(statistics, np.array([14.5]), block_size=30).block_size == 9  # 10 slots // 3 = 3 slots


def test_outputs_are_treated_as_separate_series_with_one_block_length():
    rng = np.random.default_rng(12)
    both = RowAccumulator(2, 50, n_outputs=2, track_donors=False)
    single = [RowAccumulator(2, 50, track_donors=False) for _ in range(2)]
    for unit in range(2):
        increase = rng.standard_normal((50, 2)) + [1.0, 3.0]
        both.add(unit, np.arange(50), increase, None)
        for output in range(2):
            single[output].add(unit, np.arange(50), increase[:, output], None)
    estimate = both.statistics().recipient_sum.sum(axis=1) / 50
    intervals = data_intervals(both.statistics(), estimate, block_size=3)
    assert intervals.std_error.shape == (2, 2)
    for output in range(2):
        alone = data_intervals(single[output].statistics(), estimate[:, output], block_size=3)
        np.testing.assert_allclose(intervals.std_error[:, output], alone.std_error, rtol=1e-12)
        np.testing.assert_allclose(intervals.ci_high[:, output], alone.ci_high, rtol=1e-12)


def test_rmse_standard_error_is_the_delta_method_over_rows():
    rng = np.random.default_rng(13)
    n_rows = 80
    baseline = rng.exponential(size=n_rows)
    perturbed = baseline + rng.exponential(0.5, size=n_rows)
    accumulator = RowAccumulator(1, n_rows, track_donors=False)
    accumulator.add(0, np.arange(n_rows), perturbed - baseline, None)
    estimate = np.sqrt(perturbed.mean()) - np.sqrt(baseline.mean())
    intervals = data_intervals(
        accumulator.statistics(), np.array([estimate]), block_size=1, aggregate="rmse", baseline_rows=baseline[:, None]
    )
    influence = (perturbed - perturbed.mean()) / (2 * np.sqrt(perturbed.mean())) - (baseline - baseline.mean()) / (
        2 * np.sqrt(baseline.mean())
    )
    assert intervals.std_error[0] == pytest.approx(np.sqrt((influence**2).sum()) / n_rows, rel=1e-12)


def test_rmse_standard_error_matches_the_spread_of_rmse_importances_over_data_sets():
    rng = np.random.default_rng(14)
    estimates, standard_errors = [], []
    for _ in range(400):
        error = rng.standard_normal(300)
        noise = 0.7 * rng.standard_normal(300)
        accumulator = RowAccumulator(1, 300, track_donors=False)
        accumulator.add(0, np.arange(300), (error + noise) ** 2 - error**2, None)
        estimate = np.sqrt(((error + noise) ** 2).mean()) - np.sqrt((error**2).mean())
        intervals = data_intervals(
            accumulator.statistics(),
            np.array([estimate]),
            block_size=1,
            aggregate="rmse",
            baseline_rows=(error**2)[:, None],
        )
        estimates.append(estimate)
        standard_errors.append(intervals.std_error[0])
    assert np.sqrt(np.mean(np.square(standard_errors))) == pytest.approx(np.std(estimates), rel=0.1)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"estimate": np.zeros(2)}, r"estimate must have shape \(3,\), got \(2,\)"),
        ({"confidence": 1.0}, r"confidence must be in \(0, 1\), got 1.0"),
        ({"aggregate": "median"}, r'aggregate must be "mean" or "rmse", got \'median\''),
        ({"block_size": 0}, "block_size must be a positive integer or None, got 0"),
        ({"aggregate": "rmse"}, 'baseline_rows is required for aggregate="rmse", got None'),
        ({"aggregate": "rmse", "baseline_rows": np.zeros(5)}, r"baseline_rows must have shape \(60, 1\)"),
    ],
)
def test_data_intervals_name_the_bad_argument(kwargs, message):
    statistics, estimate = _permutation_statistics(np.random.default_rng(15))
    arguments = {"estimate": estimate, **kwargs}
    with pytest.raises(ValueError, match=message):
        data_intervals(statistics, **arguments)


# --- repeats_intervals ---------------------------------------------------------------------

IMPORTANCES = np.array([[0.1, 0.3, 0.2], [2.0, 2.5, 1.5], [-0.1, 0.0, 0.1], [-1.0, -0.2, -0.6]])


def test_repeats_interval_is_scipys_t_interval_and_its_one_sided_t_test():
    intervals = repeats_intervals(IMPORTANCES)
    for row, values in enumerate(IMPORTANCES):
        low, high = stats.t.interval(0.95, df=2, loc=values.mean(), scale=stats.sem(values))
        assert intervals.ci_low[row] == pytest.approx(low, rel=1e-12)
        assert intervals.ci_high[row] == pytest.approx(high, rel=1e-12)
        expected_p = stats.ttest_1samp(values, 0.0, alternative="greater").pvalue
        assert intervals.p_value[row] == pytest.approx(expected_p, rel=1e-10)
    np.testing.assert_array_equal(intervals.p_value < 0.025, intervals.ci_low > 0)
    assert intervals.method == "repeats" and intervals.block_size is None


def test_repeats_interval_is_nan_for_one_repeat_and_a_point_for_no_spread():
    one = repeats_intervals(IMPORTANCES[:, :1])
    assert np.isnan(one.std_error).all() and np.isnan(one.ci_low).all() and np.isnan(one.p_value).all()
    with np.errstate(all="raise"):
        flat = repeats_intervals(np.array([[0.5, 0.5], [0.0, 0.0]]))
    np.testing.assert_array_equal(flat.std_error, [0.0, 0.0])
    np.testing.assert_array_equal(flat.ci_low, [0.5, 0.0])
    np.testing.assert_array_equal(flat.p_value, [0.0, 1.0])


# --- Benjamini-Hochberg --------------------------------------------------------------------


def test_adjusted_p_values_equal_statsmodels_benjamini_hochberg_ignoring_nan():
    from statsmodels.stats.multitest import multipletests

    rng = np.random.default_rng(16)
    p_values = np.concatenate([rng.uniform(size=40), rng.uniform(0, 0.01, size=10), [np.nan, np.nan]])
    rng.shuffle(p_values)
    adjusted = adjust_p_values(p_values)
    present = ~np.isnan(p_values)
    np.testing.assert_allclose(adjusted[present], multipletests(p_values[present], method="fdr_bh")[1], rtol=1e-12)
    assert np.isnan(adjusted[~present]).all()


def test_adjusted_p_values_closed_form_and_columns():
    # m = 4: sorted 0.01, 0.02, 0.03, 0.5 -> 0.04, 0.04, 0.04, 0.5
    np.testing.assert_allclose(adjust_p_values(np.array([0.03, 0.5, 0.01, 0.02])), [0.04, 0.5, 0.04, 0.04])
    matrix = np.array([[0.03, 0.2], [0.5, np.nan], [0.01, 0.1], [0.02, 0.9]])
    adjusted = adjust_p_values(matrix)
    np.testing.assert_allclose(adjusted[:, 0], [0.04, 0.5, 0.04, 0.04])
    np.testing.assert_allclose(adjusted[:, 1], [0.3, np.nan, 0.3, 0.9])
    assert np.isnan(adjust_p_values(np.array([np.nan, np.nan]))).all()
