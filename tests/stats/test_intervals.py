"""Intervals and p-values (pyimportance.stats.intervals): the data-level interval's closed forms
(Hoeffding projection, sandwich over row means, slots, partly evaluated units, the delta method
for rmse, several outputs), the interval over repeats as scipy's t-interval, and which interval a
run reports: p-values that agree with it, ``ci`` changing only the intervals, a data interval
for deterministic methods.
"""

from __future__ import annotations

import numpy as np
import pytest
from helpers import run_stopping
from scipy import stats

from pyimportance import perturbation_importance
from pyimportance.stats import intervals as intervals_module
from pyimportance.stats.accumulator import RowAccumulator
from pyimportance.stats.intervals import data_intervals, repeats_intervals

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
    recipient, donor, increases = np.zeros(n_rows), np.zeros(n_rows), []
    for _ in range(n_repeats):
        donors = rng.permutation(n_rows)
        increase = rng.exponential(size=n_rows)
        accumulator.add(0, np.arange(n_rows), increase, donors)
        recipient += increase
        np.add.at(donor, donors, increase)
        increases.append(increase)
    estimate = recipient.sum() / (n_rows * n_repeats)
    # per row: mean effect as recipient + mean effect as donor - estimate, then the SE of their mean,
    # less the noise each evaluation brings into two rows' terms (issue 28): the increases' own spread
    influence = recipient / n_repeats + donor / n_repeats - estimate
    shared_noise = ((np.concatenate(increases) - estimate) ** 2).sum() / (n_rows * n_repeats) ** 2
    # and the centring's share: for blocks of one row the usual n / (n - 1)
    expected = np.sqrt((((influence - estimate) ** 2).sum() / n_rows**2 - shared_noise) * n_rows / (n_rows - 1))
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
    expected = np.sqrt(((row_means - row_means.mean()) ** 2).sum() / 29) / np.sqrt(30)  # the usual n - 1
    assert intervals.std_error[0] == pytest.approx(expected, rel=1e-12)


def test_slots_of_several_rows_give_the_variance_of_slot_sums():
    rng = np.random.default_rng(7)
    increase = rng.standard_normal(20) + 1.0
    accumulator = RowAccumulator(5, 20, track_donors=False, max_values=25)  # 5 slots of 4 rows
    assert accumulator.rows_per_slot == 4
    accumulator.add(0, np.arange(20), increase, None)
    intervals = data_intervals(accumulator.statistics(), np.array([increase.mean(), 0, 0, 0, 0]), block_size=1)
    slot_sums = (increase - increase.mean()).reshape(5, 4).sum(axis=1)
    assert intervals.std_error[0] == pytest.approx(np.sqrt((slot_sums**2).sum() * 5 / 4) / 20, rel=1e-12)
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
    # n - 1: the centring's share of the variance (issue 28)
    assert intervals.std_error[0] == pytest.approx(np.sqrt((influence**2).sum() / (n_rows - 1) / n_rows), rel=1e-12)


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


# --- the interval a run reports ------------------------------------------------------------


def test_p_values_agree_with_the_intervals(stopping_data):
    for ci in ("data", "repeats"):
        result = run_stopping(stopping_data, max_samples=400, ci=ci, n_repeats=3)
        below = result.p_value < 0.025
        np.testing.assert_array_equal(below, result.ci_low > 0)
        assert np.all(result.p_adjusted >= result.p_value)
        assert np.all(np.diff(result.to_frame().sort_values("p_value")["p_adjusted"].to_numpy()) >= -1e-15)


def test_ci_only_changes_the_intervals(stopping_data):
    on_data = run_stopping(stopping_data, max_samples=500)
    on_repeats = run_stopping(stopping_data, max_samples=500, ci="repeats")
    np.testing.assert_array_equal(on_data.importances, on_repeats.importances)
    assert on_data.settings["ci"] == "data" and on_repeats.settings["ci"] == "repeats"
    assert not np.allclose(on_data.ci_low, on_repeats.ci_low)


def test_deterministic_methods_still_get_a_data_interval(class_X):
    result = perturbation_importance(lambda x: x[:, -1, 0], class_X, method="zero", ci="data")
    assert result.ci_low[0] < result.importances_mean[0] < result.ci_high[0]
    assert result.ci_high[1] == result.ci_low[1] == 0.0


# ----------------------------------------------------------------------------- too few rows


def _few_rows_run(n_rows, method, **options):
    X = np.random.default_rng(5).normal(size=(max(n_rows, 40), 4, 3))
    y = X[:, -1, 0] - 0.5 * X[:, -2, 1]
    X, y = (X[:n_rows], y[:n_rows]) if "max_samples" not in options else (X, y)
    with pytest.warns(UserWarning) as record:
        result = perturbation_importance(lambda x: x[:, -1, 0] - 0.5 * x[:, -2, 1], X, y, method=method,
                                         random_state=0, **options)
    return result, [str(w.message) for w in record]


@pytest.mark.parametrize("method", ["gaussian", "uniform", "permute", "resample", "conditional", "zero", "mean"])
@pytest.mark.parametrize("ci", ["data", "repeats"])
@pytest.mark.parametrize("n_rows", [1, 2])
def test_fewer_than_three_rows_give_nan_intervals_and_a_warning_under_every_method(n_rows, method, ci):
    result, messages = _few_rows_run(n_rows, method, ci=ci)
    frame = result.to_frame()
    for column in ("ci_low", "ci_high", "p_value", "p_adjusted"):
        assert frame[column].isna().all(), column
    assert (f"{n_rows} evaluated row(s) are too few for an interval: the intervals and p-values are NaN (at least 3 "
            "rows are needed); evaluate on more rows") in messages
    assert result.settings["ci_note"] == "fewer than 3 rows: no interval"


def test_max_samples_of_two_gives_nan_intervals_not_a_zero_width_interval_with_p_0():
    result, messages = _few_rows_run(2, "permute", max_samples=2)
    assert np.isnan(result.ci_low).all() and np.isnan(result.p_value).all()
    assert any("too few for an interval" in message for message in messages)


def test_three_rows_get_intervals():
    X = np.random.default_rng(5).normal(size=(3, 4, 3))
    result = perturbation_importance(lambda x: x[:, -1, 0], X, X[:, -1, 0] * 0.9, method="permute", random_state=0)
    assert np.isfinite(result.ci_low[0]) and result.settings["ci_note"] is None


def test_run_intervals_follows_the_minimum_for_every_kind():
    from pyimportance.stats.intervals import MIN_ROWS, run_intervals

    importances = np.arange(12.0).reshape(2, 3, 2)
    for rows, expected_note in ((MIN_ROWS - 1, "fewer than 3 rows: no interval"), (MIN_ROWS, None)):
        intervals, note = run_intervals(importances, None, ["mean", "mean"], "repeats", None, None, False, n_rows=rows)
        assert note == expected_note and np.isnan(intervals.ci_low).all() == (rows < MIN_ROWS)
        assert intervals.method == ("none" if rows < MIN_ROWS else "repeats")


def test_long_blocks_are_corrected_for_the_centring_at_the_estimate(monkeypatch):
    # independent rows, blocks of a third of the rows: the centred block sums keep only 1 - b / n of the
    # variance (2/3 here); the interval divides it back (issue 28), so SE^2 averages to the mean's variance.
    # The plug-in correction (for dependent rows, next test) is switched off to see the centring alone.
    monkeypatch.setattr(intervals_module, "PLUG_IN_CORRECTION", 0.0)
    rng = np.random.default_rng(21)
    n_rows, block = 60, 20
    estimates, variances = [], []
    for _ in range(3000):
        increase = rng.exponential(size=n_rows)
        accumulator = RowAccumulator(1, n_rows, track_donors=False)
        accumulator.add(0, np.arange(n_rows), increase, None)
        intervals = data_intervals(accumulator.statistics(), np.array([increase.mean()]), block_size=block)
        estimates.append(increase.mean())
        variances.append(intervals.std_error[0] ** 2)
    ratio = np.mean(variances) / (1.0 / n_rows)  # exponential(1): variance 1
    assert ratio == pytest.approx(1.0, abs=0.06)  # without the correction: 0.67
    assert np.var(estimates) * n_rows == pytest.approx(1.0, abs=0.08)
