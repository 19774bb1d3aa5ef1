"""The run loop (pyimportance.engine.runner) with perturbation importance: importances, baseline, intervals,
early stopping, progress, failures.

The models are NumPy arithmetic on whole numbers where a test compares with a hand computation,
so every sum is exact and the comparison is bit for bit.
"""

from __future__ import annotations

import numpy as np
import pytest

from pyimportance.data.inputs import Inputs, ModelInput
from pyimportance.data.seeding import root_seed
from pyimportance.data.units import build_units
from pyimportance.engine.perturbation import PerturbationEstimator
from pyimportance.engine.plan import Plan
from pyimportance.engine.runner import MIN_BLOCKS, RunOptions, RunOutcome, run_estimator
from pyimportance.errors import ModelFailedError, NotRowWiseError
from pyimportance.methods.feature_stats import feature_stats
from pyimportance.methods.perturbations import METHODS
from pyimportance.scoring.losses import resolve_losses
from pyimportance.stats.accumulator import RowAccumulator
from pyimportance.stats.intervals import DETERMINISTIC_NOTE, NOT_ROW_WISE_NOTE, run_intervals


def _plan(X, method="permute", *, n_repeats=3, seed=11, row_blocks=()) -> Plan:
    inputs = Inputs((ModelInput("input", X, tuple(f"x{i + 1}" for i in range(X.shape[2])), True),))
    return Plan(inputs, build_units("feature", inputs), n_repeats, METHODS[method], [feature_stats(X)], 0.1, True,
                root_seed(seed), list(row_blocks))


def _run(plan, model, y, loss="mse", **options) -> RunOutcome:
    targets = None if y is None else [(None, np.asarray(y, dtype=np.float64))]
    return run_estimator(PerturbationEstimator(plan), model, targets, resolve_losses(loss, y is not None),
                         options=RunOptions(**options))


def _whole_numbers(n_rows=32, seed=0):
    """X of small whole numbers (n, 3 steps, 2 features) and a whole-number y."""
    rng = np.random.default_rng(seed)
    X = rng.integers(-3, 4, size=(n_rows, 3, 2)).astype(np.float64)
    return X, _integer_model(X) + rng.integers(-2, 3, size=n_rows)


def _integer_model(x):
    return 2.0 * x[:, -1, 0] - x[:, 0, 1] + 3.0 * x[:, 0, 0]


def _last_step_model(x):
    return 2.0 * x[:, -1, 0]


# -- importances ----------------------------------------------------------------------------------------------


def test_zero_ablation_importance_is_the_closed_form_mse_increase():
    rng = np.random.default_rng(1)
    X = rng.integers(1, 6, size=(16, 4, 2)).astype(np.float64)
    noise = rng.integers(-2, 3, size=16).astype(np.float64)
    y = 2.0 * X[:, -1, 0] + noise
    outcome = _run(_plan(X, "zero", n_repeats=1), _last_step_model, y)
    # x1 set to 0: the model predicts 0, so the mse becomes mean(y^2); the baseline mse is mean(noise^2)
    expected = np.mean(y**2) - np.mean(noise**2)
    assert outcome.importances.shape == (2, 1, 1)
    assert outcome.importances[0, 0, 0] == expected
    assert outcome.importances[1, 0, 0] == 0.0  # the model ignores x2
    assert np.array_equal(outcome.baseline_score, [np.mean(noise**2)])
    assert outcome.rows_used == 16
    assert outcome.converged is None and outcome.precision is None
    assert outcome.scoring.loss_name == "mse" and outcome.scoring.labels == ["(all)"]


def test_a_fixed_budget_over_row_blocks_scores_every_block_against_its_own_baseline():
    rng = np.random.default_rng(3)
    X = rng.integers(1, 6, size=(16, 4, 2)).astype(np.float64)
    noise = rng.integers(-2, 3, size=16).astype(np.float64)
    y = 2.0 * X[:, -1, 0] + noise
    blocks = [np.array([0, 3, 4, 9, 10, 15]), np.array([1, 2, 5, 6, 7, 8, 11, 12, 13, 14])]
    outcome = _run(_plan(X, "zero", n_repeats=1, row_blocks=blocks), _last_step_model, y)
    assert outcome.importances[0, 0, 0] == np.mean(y**2) - np.mean(noise**2)
    assert np.array_equal(outcome.baseline_score, [np.mean(noise**2)])
    assert outcome.rows_used == 16 and outcome.converged is None


def test_zero_ablation_per_output_scores_each_column_on_its_own():
    rng = np.random.default_rng(2)
    X = rng.integers(1, 6, size=(8, 2, 2)).astype(np.float64)

    def model(x):
        return np.stack([2.0 * x[:, -1, 0], 3.0 * x[:, 0, 1]], axis=1)

    y = model(X) + rng.integers(-1, 2, size=(8, 2))
    targets = [(None, y)]
    outcome = run_estimator(PerturbationEstimator(_plan(X, "zero", n_repeats=1)), model, targets,
                            resolve_losses("mse", True), per_output=True)
    noise = y - model(X)
    assert outcome.scoring.labels == ["output[0]", "output[1]"]
    assert np.array_equal(outcome.importances[:, 0, :], [
        [np.mean(y[:, 0] ** 2) - np.mean(noise[:, 0] ** 2), 0.0],
        [0.0, np.mean(y[:, 1] ** 2) - np.mean(noise[:, 1] ** 2)],
    ])
    assert np.array_equal(outcome.baseline_score, np.mean(noise**2, axis=0))


def _by_hand(plan, model, y):
    """Importances and per-row statistics from a plain loop over the plan's jobs."""
    X = plan.inputs.parts[0].values
    base = (y - model(X)) ** 2
    importances = np.zeros((len(plan.units), plan.n_repeats, 1))
    accumulator = RowAccumulator(len(plan.units), plan.n_samples, track_donors=plan.method.donor_based)
    for job in plan.jobs():
        overrides, donors = plan.perturbed(job)
        changed = X.copy()
        for override in overrides:
            changed[(slice(None),) + override.index] = override.values
        squares = (y - model(changed)) ** 2
        importances[job.unit, job.repeat, 0] = np.mean(squares) - np.mean(base)
        accumulator.add(job.unit, np.arange(plan.n_samples), squares - base, donors)
    return importances, accumulator.statistics()


def _same_intervals(found, expected):
    for name in ("std_error", "ci_low", "ci_high", "p_value"):
        assert np.array_equal(getattr(found, name), getattr(expected, name), equal_nan=True), name
    assert found.block_size == expected.block_size
    assert found.method == expected.method


def test_permute_importances_and_intervals_equal_a_hand_written_loop():
    X, y = _whole_numbers()
    plan = _plan(X, "permute", n_repeats=3)
    outcome = _run(plan, _integer_model, y)
    importances, statistics = _by_hand(plan, _integer_model, y)
    assert np.array_equal(outcome.importances, importances)
    assert np.all(importances[:, :, 0] > 0)
    expected, note = run_intervals(importances, statistics, ["mean"], "data", None, None, False)
    _same_intervals(outcome.intervals, expected)
    assert outcome.ci_note is None and note is None
    assert outcome.intervals.method == "data"


def test_block_size_reaches_the_intervals():
    X, y = _whole_numbers()
    plan = _plan(X, "permute", n_repeats=2)
    outcome = _run(plan, _integer_model, y, block_size=4)
    importances, statistics = _by_hand(plan, _integer_model, y)
    expected, _ = run_intervals(importances, statistics, ["mean"], "data", 4, None, False)
    _same_intervals(outcome.intervals, expected)
    assert outcome.intervals.block_size == 4


def test_ci_repeats_reports_the_interval_over_repeats():
    X, y = _whole_numbers()
    outcome = _run(_plan(X, "gaussian", n_repeats=4), _integer_model, y, ci="repeats")
    expected, note = run_intervals(outcome.importances, None, ["mean"], "repeats", None, None, False)
    _same_intervals(outcome.intervals, expected)
    assert outcome.intervals.method == "repeats" and outcome.ci_note is None and note is None


@pytest.mark.parametrize("batch_size", [1, 5, 32, 1000])
def test_batch_size_changes_no_number(batch_size):
    rng = np.random.default_rng(4)
    X = rng.normal(size=(20, 3, 2))
    y = _integer_model(X) + rng.normal(size=20)
    plan = _plan(X, "gaussian", n_repeats=2)
    reference = _run(plan, _integer_model, y)
    outcome = _run(plan, _integer_model, y, batch_size=batch_size)
    assert np.array_equal(outcome.importances, reference.importances)
    assert np.array_equal(outcome.baseline_score, reference.baseline_score)
    _same_intervals(outcome.intervals, reference.intervals)


# -- custom losses and the note -------------------------------------------------------------------------------


def largest_error(y_true, y_pred):
    return float(np.max(np.abs(y_true - y_pred)))


def squared_errors(y_true, y_pred):
    return (y_true - y_pred) ** 2


def test_a_custom_scalar_loss_under_ci_data_reports_the_repeats_interval_with_a_note():
    X, y = _whole_numbers()
    plan = _plan(X, "permute", n_repeats=3)
    outcome = _run(plan, _integer_model, y, loss=largest_error)
    assert outcome.ci_note == NOT_ROW_WISE_NOTE
    assert outcome.ci_note == (
        "the loss is not a mean over rows (custom callable or several rmse heads): interval over repeats"
    )
    assert outcome.intervals.method == "repeats"
    expected, _ = run_intervals(outcome.importances, None, ["none"], "data", None, None, False)
    _same_intervals(outcome.intervals, expected)
    base = largest_error(y, _integer_model(X))
    assert np.array_equal(outcome.baseline_score, [base])
    for job in plan.jobs():
        overrides, _ = plan.perturbed(job)
        changed = X.copy()
        changed[(slice(None),) + overrides[0].index] = overrides[0].values
        assert outcome.importances[job.unit, job.repeat, 0] == largest_error(y, _integer_model(changed)) - base


def test_a_custom_scalar_loss_with_a_deterministic_method_has_no_interval():
    X, y = _whole_numbers()
    outcome = _run(_plan(X, "zero", n_repeats=1), _integer_model, y, loss=largest_error)
    assert outcome.ci_note == DETERMINISTIC_NOTE == "deterministic method: no interval over repeats"
    assert outcome.intervals.method == "none"
    assert np.isnan(outcome.intervals.ci_low).all() and np.isnan(outcome.intervals.p_value).all()


def test_a_custom_loss_with_one_value_per_row_is_scored_row_wise_like_mse():
    X, y = _whole_numbers()
    plan = _plan(X, "permute", n_repeats=2)
    custom = _run(plan, _integer_model, y, loss=squared_errors)
    mse = _run(plan, _integer_model, y)
    assert custom.ci_note is None and custom.intervals.method == "data"
    assert np.array_equal(custom.importances, mse.importances)
    _same_intervals(custom.intervals, mse.intervals)


def test_without_y_the_importance_is_the_mean_absolute_change():
    X, _ = _whole_numbers()
    plan = _plan(X, "zero", n_repeats=1)
    outcome = _run(plan, _integer_model, None)
    changed = X.copy()
    changed[:, :, 0] = 0.0
    assert outcome.importances[0, 0, 0] == np.mean(np.abs(_integer_model(changed) - _integer_model(X)))
    assert np.array_equal(outcome.baseline_score, [0.0])
    assert outcome.scoring.loss_name == "prediction_change"


# -- early stopping -------------------------------------------------------------------------------------------

BLOCK_ROWS = 50


@pytest.fixture(scope="module")
def blocked():
    """300 rows in 6 seeded blocks of 50, a model with one strong and one weak feature, and a noisy y."""
    rng = np.random.default_rng(5)
    X = rng.normal(size=(300, 1, 2))
    y = _stop_model(X) + 0.5 * rng.normal(size=300)
    blocks = [np.sort(part) for part in np.array_split(rng.permutation(300), 6)]
    return X, y, blocks


def _stop_model(x):
    return x[:, 0, 0] + 0.3 * x[:, 0, 1]


def _stopping_run(blocked, tolerance, blocks=None, **options):
    X, y, all_blocks = blocked
    rounds, rows = [], []
    plan = _plan(X, "permute", n_repeats=2, row_blocks=all_blocks if blocks is None else blocks)
    outcome = _run(plan, _stop_model, y, tolerance=tolerance, on_round=lambda r, p: rounds.append((r, p)),
                   on_rows=rows.append, **options)
    return outcome, rounds, rows


def test_without_convergence_every_block_is_scored_and_each_decision_reported(blocked):
    outcome, rounds, rows = _stopping_run(blocked, 1e-6)
    assert [used for used, _ in rounds] == [100, 150, 200, 250, 300]  # the first decision after MIN_BLOCKS blocks
    assert MIN_BLOCKS == 2
    assert outcome.converged is False
    assert outcome.rows_used == 300
    assert outcome.precision == rounds[-1][1]
    assert all(precision > 1e-6 for _, precision in rounds)
    assert sum(rows) == 300 * (2 * 2 + 1)


def _stop_index(precisions):
    """A decision between the first and the last whose precision is below every earlier one (the middle such)."""
    lows = [index for index in range(1, len(precisions) - 1) if precisions[index] < min(precisions[:index])]
    assert lows, f"no decision improved on the first: {precisions}"
    return lows[len(lows) // 2]


def test_the_run_stops_after_the_block_where_precision_reaches_tolerance(blocked):
    _, rounds, _ = _stopping_run(blocked, 1e-6)
    precisions = [precision for _, precision in rounds]
    stop = _stop_index(precisions)
    tolerance = precisions[stop]
    outcome, stopped_rounds, rows = _stopping_run(blocked, tolerance)
    assert stopped_rounds == rounds[: stop + 1]  # same decisions up to the stop, then none
    assert outcome.converged is True
    assert outcome.rows_used == (MIN_BLOCKS + stop) * BLOCK_ROWS
    assert outcome.rows_used % BLOCK_ROWS == 0
    assert outcome.precision == tolerance
    assert sum(rows) == outcome.rows_used * (2 * 2 + 1)


def test_a_stopped_run_reports_the_numbers_and_intervals_of_the_blocks_it_used(blocked):
    _, rounds, _ = _stopping_run(blocked, 1e-6)
    precisions = [precision for _, precision in rounds]
    stop = _stop_index(precisions)
    outcome, _, _ = _stopping_run(blocked, precisions[stop])
    used = MIN_BLOCKS + stop
    fixed, _, _ = _stopping_run(blocked, None, blocks=blocked[2][:used])  # a fixed budget of those blocks
    assert np.array_equal(outcome.importances, fixed.importances)
    assert np.array_equal(outcome.baseline_score, fixed.baseline_score)
    _same_intervals(outcome.intervals, fixed.intervals)
    assert fixed.rows_used == outcome.rows_used and fixed.converged is None


def test_the_first_decision_waits_for_min_blocks_blocks(blocked):
    outcome, rounds, _ = _stopping_run(blocked, 0.99)
    assert [used for used, _ in rounds] == [MIN_BLOCKS * BLOCK_ROWS]
    assert rounds[0][1] <= 0.99
    assert outcome.converged is True and outcome.rows_used == MIN_BLOCKS * BLOCK_ROWS


def test_precision_is_the_largest_half_width_over_the_largest_importance(blocked):
    outcome, rounds, _ = _stopping_run(blocked, 1e-6)
    half = (outcome.intervals.ci_high - outcome.intervals.ci_low) / 2
    largest = np.max(np.abs(outcome.importances.mean(axis=1)))
    assert outcome.precision == float(np.max(half) / largest)


# -- rows predicted -------------------------------------------------------------------------------------------


def test_on_rows_reports_every_model_call_baseline_and_jobs():
    X, y = _whole_numbers(16)
    rows = []
    _run(_plan(X, "permute", n_repeats=3), _integer_model, y, batch_size=7, on_rows=rows.append)
    # the baseline's 16 rows in calls of 7, then 6 jobs x 16 rows = 96 rows in calls of 7
    assert rows == [7, 7, 2] + [7] * 13 + [5]
    assert sum(rows) == 16 * (2 * 3 + 1)


# -- failures -------------------------------------------------------------------------------------------------


def test_a_model_that_raises_on_the_baseline_is_reported_as_such():
    error = ValueError("broken model")

    def model(x):
        raise error

    X, y = _whole_numbers(8)
    with pytest.raises(ModelFailedError) as caught:
        _run(_plan(X), model, y)
    assert caught.value.where == "on the unperturbed data"
    assert str(caught.value) == "model failed on the unperturbed data: ValueError: broken model"
    assert caught.value.cause is error


def test_a_model_that_raises_on_the_row_wise_check_is_reported_on_the_unperturbed_data():
    def model(x):
        if len(x) < 8:  # the check predicts a few rows alone
            raise MemoryError("too few rows")
        return x[:, -1, 0]

    X, y = _whole_numbers(8)
    with pytest.raises(ModelFailedError) as caught:
        _run(_plan(X), model, y)
    assert caught.value.where == "on the unperturbed data"
    assert str(caught.value) == "model failed on the unperturbed data: MemoryError: too few rows"


def test_a_model_that_raises_on_a_perturbed_call_names_the_jobs_of_that_call():
    rng = np.random.default_rng(6)
    X = rng.integers(1, 6, size=(8, 2, 2)).astype(np.float64)

    def model(x):
        if np.any(x[:, :, 0] == 0):
            raise ArithmeticError("x1 is zero")
        return x[:, -1, 0] + x[:, 0, 1]

    y = model(X)
    with pytest.raises(ModelFailedError) as caught:
        _run(_plan(X, "zero", n_repeats=1), model, y, batch_size=16)  # both jobs in one call
    assert caught.value.where == (
        "while evaluating feature 'x1' (in one model call with 1 more job(s), up to feature 'x2')"
    )
    with pytest.raises(ModelFailedError) as caught:
        _run(_plan(X, "zero", n_repeats=1), model, y, batch_size=8)  # one job a call
    assert caught.value.where == "while evaluating feature 'x1'"
    assert str(caught.value) == "model failed while evaluating feature 'x1': ArithmeticError: x1 is zero"


def test_a_model_that_reads_other_rows_is_refused():
    X, y = _whole_numbers(16)

    def model(x):
        return x[:, -1, 0] - x[:, -1, 0].mean()

    with pytest.raises(NotRowWiseError) as caught:
        _run(_plan(X), model, y)
    assert str(caught.value).startswith("model is not row-wise: the predictions for the same rows changed by up to ")
