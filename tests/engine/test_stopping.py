"""Early stopping through the public function (``tolerance``): the run stops once every interval
is narrow enough, on the rows it needed, whatever the batch size, executor or task size; it says
when the rows ran out first, reads the intervals the result reports (rmse included), and shows
its progress on the bar.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from helpers import STOPPING_WEIGHTS, run_stopping


def test_tolerance_stops_early_once_every_interval_is_narrow_enough(stopping_data):
    result = run_stopping(stopping_data, tolerance=0.05)
    assert result.converged is True
    assert 2000 <= result.n_rows_used < 20_000
    half = (result.ci_high - result.ci_low) / 2
    assert half.max() <= 0.05 * result.importances_mean.max()
    assert result.precision <= 0.05
    truth = 2 * STOPPING_WEIGHTS**2 * stopping_data[0][:, -1, :].var(axis=0)
    assert np.all(np.abs(result.importances_mean - truth) <= 3 * (result.ci_high - result.ci_low) / 2 + 1e-9)
    assert "Stopping: tolerance 0.05 met" in repr(result)


def test_the_stopped_run_does_not_depend_on_batch_size_executor_or_task_size(stopping_data):
    reference = run_stopping(stopping_data, tolerance=0.05)
    with ThreadPoolExecutor(2) as pool:
        for options in ({"batch_size": 777}, {"executor": pool, "task_size": 3}, {"executor": pool}):
            other = run_stopping(stopping_data, tolerance=0.05, **options)
            assert other.n_rows_used == reference.n_rows_used
            np.testing.assert_array_equal(other.importances, reference.importances)
            np.testing.assert_array_equal(other.ci_low, reference.ci_low)


def test_when_the_rows_run_out_the_result_says_the_target_was_not_met(stopping_data):
    result = run_stopping(stopping_data, tolerance=0.001, max_samples=3000)
    assert result.converged is False
    assert result.n_rows_used == 3000
    assert "not met (rows ran out)" in repr(result)


def test_the_progress_bar_shows_the_stopping_progress(stopping_data, capfd):
    run_stopping(stopping_data, tolerance=0.05, progress=True, max_samples=4000)
    err = capfd.readouterr().err
    assert "precision" in err and "(target 0.05) after 2000 rows" in err


def test_the_stopping_rule_reads_the_intervals_the_result_reports_rmse_included(stopping_data):
    for loss in ("mse", "rmse"):
        result = run_stopping(stopping_data, tolerance=0.05, loss=loss)
        assert result.settings["ci_note"] is None  # data-level intervals, rmse by the delta method
        reported = np.max((result.ci_high - result.ci_low) / 2) / np.max(np.abs(result.importances_mean))
        assert result.precision == pytest.approx(reported, rel=1e-12)
