"""The data variance removes, once, the shuffle noise a donor evaluation puts into two rows' terms (issue 28).

Simulated permutation runs (``y = x + noise``, mse, the model reads x: per-row increase
``(x_k - x_j)^2 - 2 e_j (x_k - x_j)``) on independent rows, blocks of one row: the average of the
interval's squared standard error over many data sets is held against the spread of the estimate
itself over those data sets (the independent answer). The variance before issue 28 (``sum_j c_j^2 / N^2``,
written out here) counts each evaluation's noise in its recipient's and its donor's term: 1.7 times
the true variance at one repeat, 1.3 times at five (the variance now: 0.95 and 1.04 times).
"""

from __future__ import annotations

import numpy as np
import pytest

from pyimportance.stats.accumulator import RowAccumulator
from pyimportance.stats.intervals import data_intervals, shared_noise_variance

N_ROWS = 200
N_DATASETS = 1500


def _run(rng, n_repeats):
    """One data set's permutation run of the one feature: the statistics and the estimate."""
    x, noise = rng.standard_normal(N_ROWS), rng.standard_normal(N_ROWS)
    accumulator = RowAccumulator(1, N_ROWS, track_donors=True)
    for _ in range(n_repeats):
        donors = rng.permutation(N_ROWS)
        increase = (x[donors] - x) ** 2 - 2 * noise * (x[donors] - x)
        accumulator.add(0, np.arange(N_ROWS), increase, donors)
    statistics = accumulator.statistics()
    return statistics, statistics.recipient_sum.sum() / statistics.recipient_count.sum()


def _double_counted_variance(statistics) -> float:
    """The variance before issue 28: the sandwich over the rows' Hoeffding terms (noise in two terms)."""
    evaluations = statistics.recipient_count.sum()
    mean = statistics.recipient_sum.sum() / evaluations
    terms = (statistics.recipient_sum[0, :, 0] - statistics.recipient_count[0] * mean
             + statistics.donor_sum[0, :, 0] - statistics.donation_count[0] * mean)
    return float((terms**2).sum() / evaluations**2) * N_ROWS / (N_ROWS - 1)


@pytest.fixture(scope="module", params=[1, 5], ids=["one repeat", "five repeats"])
def study(request):
    rng = np.random.default_rng(28 + request.param)
    estimates, variances, old = [], [], []
    for _ in range(N_DATASETS):
        statistics, estimate = _run(rng, request.param)
        estimates.append(estimate)
        variances.append(data_intervals(statistics, np.array([estimate]), block_size=1).std_error[0] ** 2)
        old.append(_double_counted_variance(statistics))
    return request.param, np.var(estimates), np.mean(variances), np.mean(old)


def test_the_variance_matches_the_spread_of_the_estimate_over_data_sets(study):
    _, true_variance, variance, _ = study
    # 1500 data sets: the spread's own standard error is about 4%
    assert variance == pytest.approx(true_variance, rel=0.12)


def test_counting_the_noise_twice_overstates_the_variance_by_a_wide_margin(study):
    n_repeats, true_variance, variance, old = study
    # the noise's share is var(h) / N: large at one repeat, smaller at five, never zero
    assert old / true_variance > (1.5 if n_repeats == 1 else 1.15)
    assert old / variance > (1.6 if n_repeats == 1 else 1.18)


def test_the_removed_part_is_the_spread_of_the_donor_evaluations_increases():
    rng = np.random.default_rng(3)
    increases, accumulator = [], RowAccumulator(1, 30, track_donors=True)
    for _ in range(3):
        donors, increase = rng.permutation(30), rng.exponential(size=30)
        accumulator.add(0, np.arange(30), increase, donors)
        increases.append(increase)
    statistics = accumulator.statistics()
    values = np.concatenate(increases)
    expected = ((values - values.mean()) ** 2).sum() / values.size**2
    np.testing.assert_allclose(shared_noise_variance(statistics, np.array([90.0])), [[expected]], rtol=1e-12)


def test_methods_without_donors_remove_nothing():
    accumulator = RowAccumulator(1, 10, track_donors=False)
    accumulator.add(0, np.arange(10), np.arange(10.0), None)
    assert shared_noise_variance(accumulator.statistics(), np.array([10.0])).tolist() == [[0.0]]
