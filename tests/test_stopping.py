"""Intervals, p-values and early stopping through the public function (issue 12)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from pyimportance import perturbation_importance

WEIGHTS = np.array([1.0, 0.5, 0.05, 0.0])


def _model(X):
    return X[:, -1, :] @ WEIGHTS


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(20_000, 3, 4))
    return X, _model(X) + 0.3 * rng.normal(size=len(X))


def _run(data, **options):
    X, y = data
    options = {"method": "permute", "n_repeats": 2, "random_state": 5, **options}
    return perturbation_importance(_model, X, y, **options)


def test_tolerance_stops_early_once_every_interval_is_narrow_enough(data):
    result = _run(data, tolerance=0.05)
    assert result.converged is True
    assert 2000 <= result.n_rows_used < 20_000
    half = (result.ci_high - result.ci_low) / 2
    assert half.max() <= 0.05 * result.importances_mean.max()
    assert result.precision <= 0.05
    truth = 2 * WEIGHTS**2 * data[0][:, -1, :].var(axis=0)
    assert np.all(np.abs(result.importances_mean - truth) <= 3 * (result.ci_high - result.ci_low) / 2 + 1e-9)
    assert "Stopping: tolerance 0.05 met" in repr(result)


def test_the_stopped_run_does_not_depend_on_batch_size_executor_or_task_size(data):
    reference = _run(data, tolerance=0.05)
    with ThreadPoolExecutor(2) as pool:
        for options in ({"batch_size": 777}, {"executor": pool, "task_size": 3}, {"executor": pool}):
            other = _run(data, tolerance=0.05, **options)
            assert other.n_rows_used == reference.n_rows_used
            np.testing.assert_array_equal(other.importances, reference.importances)
            np.testing.assert_array_equal(other.ci_low, reference.ci_low)


def test_when_the_rows_run_out_the_result_says_the_target_was_not_met(data):
    result = _run(data, tolerance=0.001, max_samples=3000)
    assert result.converged is False
    assert result.n_rows_used == 3000
    assert "not met (rows ran out)" in repr(result)


def test_p_values_agree_with_the_intervals(data):
    for ci in ("data", "repeats"):
        result = _run(data, max_samples=400, ci=ci, n_repeats=3)
        below = result.p_value < 0.025
        np.testing.assert_array_equal(below, result.ci_low > 0)
        assert np.all(result.p_adjusted >= result.p_value)
        assert np.all(np.diff(result.to_frame().sort_values("p_value")["p_adjusted"].to_numpy()) >= -1e-15)


def test_ci_only_changes_the_intervals(data):
    on_data = _run(data, max_samples=500)
    on_repeats = _run(data, max_samples=500, ci="repeats")
    np.testing.assert_array_equal(on_data.importances, on_repeats.importances)
    assert on_data.settings["ci"] == "data" and on_repeats.settings["ci"] == "repeats"
    assert not np.allclose(on_data.ci_low, on_repeats.ci_low)


def test_bad_tolerance_ci_and_block_size_are_refused(data):
    X, y = data
    for options, message in (
        ({"tolerance": 2.0}, "tolerance must be a fraction of the largest importance in (0, 1), got 2"),
        ({"tolerance": 0}, "tolerance must be a positive finite number, got 0"),
        ({"ci": "bootstrap"}, "ci must be one of 'data' or 'repeats', got 'bootstrap'"),
        ({"block_size": 0}, "block_size must be a positive integer, got 0"),
    ):
        with pytest.raises(ValueError) as error:
            perturbation_importance(_model, X[:50], y[:50], **options)
        assert str(error.value) == message


def test_the_progress_bar_shows_the_stopping_progress(data, capfd):
    _run(data, tolerance=0.05, progress=True, max_samples=4000)
    err = capfd.readouterr().err
    assert "precision" in err and "(target 0.05) after 2000 rows" in err


def test_the_stopping_rule_reads_the_intervals_the_result_reports_rmse_included(data):
    for loss in ("mse", "rmse"):
        result = _run(data, tolerance=0.05, loss=loss)
        assert result.settings["ci_note"] is None  # data-level intervals, rmse by the delta method
        reported = np.max((result.ci_high - result.ci_low) / 2) / np.max(np.abs(result.importances_mean))
        assert result.precision == pytest.approx(reported, rel=1e-12)
