"""What a run adds up (pyimportance.engine.tally): job results, importances, per-row statistics.

The predictions here are made up (small whole numbers, so every sum is exact): the tally's
arithmetic is checked against a hand computation, with no model in between.
"""

from __future__ import annotations

import numpy as np
import pytest

from pyimportance.data.inputs import Inputs, ModelInput
from pyimportance.data.seeding import root_seed
from pyimportance.data.units import build_units
from pyimportance.engine.plan import Job, Plan
from pyimportance.engine.tally import Baseline, JobResult, Tally, job_result
from pyimportance.errors import LossFailedError
from pyimportance.methods.feature_stats import feature_stats
from pyimportance.methods.perturbations import METHODS
from pyimportance.scoring.heads import build_scoring
from pyimportance.scoring.losses import resolve_losses

Y = np.array([1.0, 2.0, 3.0, 4.0])
BASE = np.array([1.0, 1.0, 3.0, 5.0])  # squared errors 0, 1, 0, 1: mse 0.5
PERTURBED = np.array([3.0, 2.0, 0.0, 4.0])  # squared errors 4, 0, 9, 0: mse 3.25
DONORS = np.array([1, 0, 3, 2])


def _plan(n_rows=4, *, method="permute", n_repeats=2, row_blocks=()) -> Plan:
    X = np.arange(n_rows * 2, dtype=np.float64).reshape(n_rows, 1, 2)
    inputs = Inputs((ModelInput("input", X, ("x1", "x2"), False),))
    return Plan(inputs, build_units("feature", inputs), n_repeats, METHODS[method], [feature_stats(X)], 0.1, True,
                root_seed(0), list(row_blocks))


def _scoring(y=Y, loss="mse"):
    targets = None if y is None else [(None, y)]
    return build_scoring([("output", ())], targets, resolve_losses(loss, y is not None))


def _baseline(scoring, predictions, blocks=None) -> Baseline:
    """The baseline as the runner builds it, for made-up predictions."""
    predictions = predictions.reshape(-1, 1)
    rows = np.arange(len(predictions))
    values = scoring.part_values(predictions, rows, predictions) if scoring.rowwise else None
    custom = {}
    if not scoring.decomposable:
        for block, block_rows in enumerate(blocks or [rows]):
            custom[block] = scoring.custom_scores(predictions[block_rows], block_rows)
    return Baseline(predictions, values, custom)


def _result(plan, scoring, baseline, job, predictions, donors=None) -> JobResult:
    return job_result(scoring, baseline, job, plan.block_rows(job.block), np.asarray(predictions).reshape(-1, 1),
                      donors, plan.describe)


# -- one job --------------------------------------------------------------------------------------------------


def test_a_jobs_result_holds_its_sums_per_row_increases_and_donors():
    plan, scoring = _plan(), _scoring()
    baseline = _baseline(scoring, BASE)
    result = _result(plan, scoring, baseline, Job(1, 0), PERTURBED, DONORS)
    assert result.job == Job(1, 0)
    assert np.array_equal(result.part_sums, [13.0])
    assert np.array_equal(result.increase, [[4.0], [-1.0], [9.0], [-1.0]])
    assert result.donors is DONORS
    assert result.custom_scores is None


def test_importance_is_the_increase_of_the_mse():
    plan, scoring = _plan(), _scoring()
    baseline = _baseline(scoring, BASE)
    tally = Tally(plan, scoring, baseline, track_rows=False)
    tally.add(_result(plan, scoring, baseline, Job(1, 0), PERTURBED, DONORS))
    importances = tally.importances()
    assert importances.shape == (2, 2, 1)
    assert importances[1, 0, 0] == np.mean((Y - PERTURBED) ** 2) - np.mean((Y - BASE) ** 2) == 2.75
    assert np.array_equal(importances[0], [[0.0], [0.0]])  # jobs not added yet
    assert tally.accumulator is None
    assert tally.rows.tolist() == [[0, 0], [4, 0]]


def test_importance_over_row_blocks_uses_each_blocks_own_baseline_rows():
    blocks = [np.array([0, 2]), np.array([1, 3])]  # baseline squared errors 0, 0 and 1, 1
    plan, scoring = _plan(row_blocks=blocks), _scoring()
    baseline = _baseline(scoring, BASE)
    tally = Tally(plan, scoring, baseline, track_rows=False)
    tally.add(_result(plan, scoring, baseline, Job(0, 1, 1), PERTURBED[blocks[1]]))
    # block 1 alone: rows 1 and 3, perturbed squared errors 0 and 0, baseline 1 and 1
    assert tally.importances()[0, 1, 0] == 0.0 - 1.0
    assert np.array_equal(tally.baseline_sums[0, 1], [2.0])
    tally.add(_result(plan, scoring, baseline, Job(0, 1, 0), PERTURBED[blocks[0]]))
    assert tally.importances()[0, 1, 0] == 2.75  # both blocks: every row
    assert tally.rows[0, 1] == 4 and tally.blocks[0, 1] == 2
    assert np.array_equal(tally.baseline_sums[0, 1], [2.0])


def test_accuracy_importance_is_the_drop_in_accuracy():
    y = np.array([0.0, 1.0, 1.0, 0.0])
    plan, scoring = _plan(), _scoring(y, "accuracy")
    baseline = _baseline(scoring, np.array([0.2, 0.9, 0.6, 0.4]))  # all right: accuracy 1
    tally = Tally(plan, scoring, baseline, track_rows=True)
    result = _result(plan, scoring, baseline, Job(0, 0), np.array([0.7, 0.9, 0.3, 0.4]), DONORS)  # 2 of 4 right
    tally.add(result)
    assert tally.importances()[0, 0, 0] == 0.5
    assert np.array_equal(result.increase, [[1.0], [0.0], [1.0], [0.0]])  # the loss of accuracy, row by row


def test_without_y_importance_is_the_mean_absolute_change_of_the_predictions():
    plan, scoring = _plan(), _scoring(None)
    baseline = _baseline(scoring, BASE)
    assert np.array_equal(baseline.part_values, np.zeros((4, 1)))
    tally = Tally(plan, scoring, baseline, track_rows=True)
    tally.add(_result(plan, scoring, baseline, Job(0, 0), PERTURBED, DONORS))
    assert tally.importances()[0, 0, 0] == np.mean(np.abs(PERTURBED - BASE)) == 1.75


# -- per-row statistics ---------------------------------------------------------------------------------------


def test_the_accumulator_gets_each_rows_increase_as_recipient_and_as_donor():
    plan, scoring = _plan(), _scoring()
    baseline = _baseline(scoring, BASE)
    tally = Tally(plan, scoring, baseline, track_rows=True)
    tally.add(_result(plan, scoring, baseline, Job(1, 0), PERTURBED, DONORS))
    stats = tally.accumulator.statistics()
    assert np.array_equal(stats.recipient_sum[1, :, 0], [4.0, -1.0, 9.0, -1.0])
    assert np.array_equal(stats.recipient_count[1], [1, 1, 1, 1])
    # row j's increase is charged to its donor DONORS[j]: row 1 gave row 0 its values, etc.
    assert np.array_equal(stats.donor_sum[1, :, 0], [-1.0, 4.0, -1.0, 9.0])
    assert np.array_equal(stats.donation_count[1], [1, 1, 1, 1])
    assert np.array_equal(stats.recipient_sum[0], np.zeros((4, 1)))  # unit 0 untouched


def test_the_accumulator_places_a_blocks_rows_at_their_positions_in_the_data():
    blocks = [np.array([0, 3]), np.array([1, 2])]
    plan, scoring = _plan(row_blocks=blocks), _scoring()
    baseline = _baseline(scoring, BASE)
    tally = Tally(plan, scoring, baseline, track_rows=True)
    tally.add(_result(plan, scoring, baseline, Job(0, 0, 1), PERTURBED[blocks[1]], np.array([1, 0])))
    stats = tally.accumulator.statistics()
    assert np.array_equal(stats.recipient_sum[0, :, 0], [0.0, -1.0, 9.0, 0.0])
    assert np.array_equal(stats.recipient_count[0], [0, 1, 1, 0])
    assert np.array_equal(stats.donor_sum[0, :, 0], [0.0, 9.0, -1.0, 0.0])


def test_a_method_without_donors_tracks_recipients_only():
    plan, scoring = _plan(method="gaussian"), _scoring()
    baseline = _baseline(scoring, BASE)
    tally = Tally(plan, scoring, baseline, track_rows=True)
    tally.add(_result(plan, scoring, baseline, Job(0, 1), PERTURBED))
    stats = tally.accumulator.statistics()
    assert stats.donor_sum is None and stats.donation_count is None
    assert np.array_equal(stats.recipient_sum[0, :, 0], [4.0, -1.0, 9.0, -1.0])


# -- order ----------------------------------------------------------------------------------------------------


def _all_results(seed=3):
    """Every job of a plan with two row blocks, from made-up (unround) predictions."""
    rng = np.random.default_rng(seed)
    blocks = [np.array([0, 2, 5, 7]), np.array([1, 3, 4, 6])]
    y = rng.normal(size=8)
    plan, scoring = _plan(8, row_blocks=blocks), _scoring(y)
    baseline = _baseline(scoring, y + rng.normal(size=8))
    results, predictions = [], {}
    for block in (0, 1):
        for job in plan.jobs(block):
            predictions[job] = rng.normal(size=4) * 3
            results.append(_result(plan, scoring, baseline, job, predictions[job], rng.permutation(4)))
    return plan, scoring, baseline, results, predictions


@pytest.mark.parametrize("order_seed", [0, 1, 2])
def test_adding_the_same_results_in_another_order_gives_the_same_numbers_bit_for_bit(order_seed):
    plan, scoring, baseline, results, predictions = _all_results()
    ordered = Tally(plan, scoring, baseline, track_rows=True)
    for result in results:
        ordered.add(result)
    shuffled = Tally(plan, scoring, baseline, track_rows=True)
    for index in np.random.default_rng(order_seed).permutation(len(results)):
        shuffled.add(results[index])
    assert np.array_equal(ordered.importances(), shuffled.importances())
    first, second = ordered.accumulator.statistics(), shuffled.accumulator.statistics()
    for name in ("recipient_sum", "recipient_count", "donor_sum", "donation_count"):
        assert np.array_equal(getattr(first, name), getattr(second, name)), name


def test_importances_of_all_blocks_equal_the_hand_computation():
    plan, scoring, baseline, results, predictions = _all_results()
    tally = Tally(plan, scoring, baseline, track_rows=False)
    for result in results:
        tally.add(result)
    y = scoring.heads[0].target
    base_loss = np.mean((y - baseline.predictions[:, 0]) ** 2)
    for unit in range(2):
        for repeat in range(2):
            squares = np.concatenate([(y[plan.block_rows(block)] - predictions[Job(unit, repeat, block)]) ** 2
                                      for block in (0, 1)])
            expected = np.mean(squares) - base_loss
            assert tally.importances()[unit, repeat, 0] == pytest.approx(expected, rel=1e-12, abs=1e-12)


# -- custom (not row-wise) losses -----------------------------------------------------------------------------


def largest_error(y_true, y_pred):
    return float(np.max(np.abs(y_true - y_pred)))


def test_a_custom_loss_is_scored_per_block_and_its_differences_averaged_over_blocks():
    blocks = [np.array([0, 1]), np.array([2, 3])]
    plan, scoring = _plan(row_blocks=blocks), _scoring(loss=largest_error)
    assert not scoring.decomposable and not scoring.rowwise
    baseline = _baseline(scoring, BASE, blocks)
    assert baseline.part_values is None
    assert {block: scores.tolist() for block, scores in baseline.custom_scores.items()} == {0: [1.0], 1: [1.0]}
    tally = Tally(plan, scoring, baseline, track_rows=True)
    assert tally.accumulator is None  # no per-row values to accumulate
    first = _result(plan, scoring, baseline, Job(0, 0, 0), PERTURBED[blocks[0]])
    assert np.array_equal(first.custom_scores, [2.0]) and first.increase is None
    assert np.array_equal(first.part_sums, [0.0])
    tally.add(first)
    assert tally.importances()[0, 0, 0] == 2.0 - 1.0
    tally.add(_result(plan, scoring, baseline, Job(0, 0, 1), PERTURBED[blocks[1]]))
    assert tally.importances()[0, 0, 0] == ((2.0 - 1.0) + (3.0 - 1.0)) / 2


def test_a_failing_custom_loss_names_the_job_it_was_scoring():
    def picky(y_true, y_pred):
        if np.any(y_pred < 0.5):
            raise ValueError("no small predictions")
        return float(np.mean(y_pred))

    plan, scoring = _plan(), _scoring(loss=picky)
    baseline = _baseline(scoring, BASE)
    with pytest.raises(LossFailedError) as caught:
        _result(plan, scoring, baseline, Job(1, 0), PERTURBED)
    assert str(caught.value) == (
        "loss (picky) failed while scoring feature 'x2' (repeat 1 of 2): ValueError: no small predictions"
    )
