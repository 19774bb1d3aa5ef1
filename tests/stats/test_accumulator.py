"""What a run keeps of each row (pyimportance.stats.accumulator): RowAccumulator's per-slot sums
against a loop over rows, repeats and blocks, its slots within the value budget, its snapshots,
and its refusals of bad arguments.
"""

from __future__ import annotations

import numpy as np
import pytest

from pyimportance.stats.accumulator import RowAccumulator


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


def test_a_job_without_donors_adds_its_recipient_term_only():
    accumulator = RowAccumulator(1, 4, track_donors=True)
    accumulator.add(0, np.arange(4), np.array([1.0, 2.0, 3.0, 4.0]), None)
    statistics = accumulator.statistics()
    np.testing.assert_array_equal(statistics.recipient_sum[0, :, 0], [1.0, 2.0, 3.0, 4.0])
    np.testing.assert_array_equal(statistics.donation_count[0], [0, 0, 0, 0])


def test_constructor_rejects_too_small_max_values_and_bad_counts():
    with pytest.raises(ValueError, match=r"max_values must be at least n_units \* n_outputs = 20, got 10"):
        RowAccumulator(10, 100, 2, track_donors=False, max_values=10)
    with pytest.raises(ValueError, match="n_rows must be a positive integer, got 0"):
        RowAccumulator(1, 0, track_donors=False)
    with pytest.raises(ValueError, match=r"donors must be None \(track_donors=False\)"):
        RowAccumulator(1, 2, track_donors=False).add(0, np.arange(2), np.zeros(2), np.array([1, 0]))
