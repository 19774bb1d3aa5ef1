"""Row weights in the per-row sums and the data interval: the linearized ratio estimator sum(w l) / sum(w),
the donor's term carrying the recipient's weight."""

import numpy as np

from pyimportance.stats.accumulator import RowAccumulator
from pyimportance.stats.intervals import data_intervals
from pyimportance.stats.row_values import row_importances

N_ROWS = 7


def _job(seed):
    """One job's increases (a row effect plus noise) and donors."""
    rng = np.random.default_rng(seed)
    return np.linspace(-2.0, 2.0, N_ROWS) + rng.normal(size=N_ROWS), rng.permutation(N_ROWS)


def _hand_terms(jobs, weights):
    """c_j of sum_i w_i l_i / sum_i w_i over every (row, job), by a loop over the evaluations."""
    total = sum(weights[i] * increase[i] for increase, _ in jobs for i in range(N_ROWS))
    count = sum(weights[i] for _ in jobs for i in range(N_ROWS))
    estimate = total / count
    terms = np.zeros(N_ROWS)
    for increase, donors in jobs:
        for i in range(N_ROWS):
            share = weights[i] * (increase[i] - estimate)
            terms[i] += share  # as the recipient
            terms[donors[i]] += share  # its donor, with the recipient's weight
    return estimate, terms, count


def test_weighted_sums_give_the_ratio_estimators_terms_and_standard_error():
    weights = np.array([1.0, 2.0, 0.5, 0.0, 3.0, 1.5, 1.0])
    jobs = [_job(seed) for seed in range(3)]
    accumulator = RowAccumulator(1, N_ROWS, track_donors=True, row_weights=weights)
    for increase, donors in jobs:
        accumulator.add(0, np.arange(N_ROWS), increase, donors)
    stats = accumulator.statistics()
    estimate, terms, count = _hand_terms(jobs, weights)
    np.testing.assert_allclose(stats.recipient_sum.sum() / stats.recipient_count.sum(), estimate, rtol=1e-12)
    np.testing.assert_allclose(stats.slot_weights, weights)
    intervals = data_intervals(stats, np.array([estimate]), block_size=1)
    # every evaluation's weighted spread enters two rows' terms: removed once (issue 28)
    shared = sum((weights[i] * (increase[i] - estimate)) ** 2 for increase, _ in jobs for i in range(N_ROWS))
    rows = np.count_nonzero(weights)  # blocks of one row: the usual n / (n - 1), rows of positive weight
    expected = np.sqrt((np.sum(terms**2) - shared) * rows / (rows - 1)) / count
    np.testing.assert_allclose(intervals.std_error, expected, rtol=1e-12)


def test_constant_weights_change_no_interval():
    jobs = [_job(seed) for seed in range(3)]
    results = []
    for weights in (None, np.full(N_ROWS, 2.5)):
        accumulator = RowAccumulator(1, N_ROWS, track_donors=True, row_weights=weights)
        for increase, donors in jobs:
            accumulator.add(0, np.arange(N_ROWS), increase, donors)
        stats = accumulator.statistics()
        estimate = np.array([stats.recipient_sum.sum() / stats.recipient_count.sum()])
        results.append((data_intervals(stats, estimate, block_size=2), row_importances(stats)))
    (plain, plain_rows), (weighted, weighted_rows) = results
    np.testing.assert_allclose(weighted.std_error, plain.std_error, rtol=1e-12)
    np.testing.assert_allclose(weighted.ci_high, plain.ci_high, rtol=1e-12)
    np.testing.assert_allclose(weighted_rows, plain_rows, rtol=1e-12)


def test_a_weighted_rmse_interval_uses_the_weighted_baseline():
    weights = np.array([1.0, 2.0, 0.5, 4.0, 3.0, 1.5, 1.0])
    baseline = np.arange(1.0, N_ROWS + 1)
    increase = np.linspace(0.5, 2.0, N_ROWS)
    accumulator = RowAccumulator(1, N_ROWS, track_donors=False, row_weights=weights)
    accumulator.add(0, np.arange(N_ROWS), increase, None)
    stats = accumulator.statistics()
    base = weights @ baseline / weights.sum()
    perturbed = base + weights @ increase / weights.sum()
    estimate = np.sqrt(perturbed) - np.sqrt(base)
    # delta method by hand: d/dw-mean of sqrt(B + I) - sqrt(B), each row's linear term
    row_terms = (weights * (increase - (perturbed - base)) / weights.sum() * 0.5 / np.sqrt(perturbed)
                 + weights * (baseline - base) / weights.sum() * (0.5 / np.sqrt(perturbed) - 0.5 / np.sqrt(base)))
    intervals = data_intervals(stats, np.array([estimate]), block_size=1, aggregate="rmse",
                               baseline_rows=accumulator.slot_sums(baseline))
    np.testing.assert_allclose(intervals.std_error, np.sqrt(np.sum(row_terms**2) * N_ROWS / (N_ROWS - 1)), rtol=1e-12)
