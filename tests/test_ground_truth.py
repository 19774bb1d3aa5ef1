"""A trained LSTM on a task with known drivers: every method must find them.

y = 2 * x1[last step] + x2[3 steps before the end]; x3, x4, x5 are pure noise. The LSTM is
trained once per session (``trained_lstm`` in conftest.py).
"""

from __future__ import annotations

import numpy as np
import pytest
from helpers import GT_DRIVERS, GT_LAG, GT_NOISE, GT_TIMESTEPS

from pyimportance import perturbation_importance

pytestmark = pytest.mark.keras

METHODS = ["gaussian", "uniform", "permute", "resample", "zero", "mean"]
# A noise feature's 95% interval must lie within this share of the weakest driver's importance.
# The loss increase is second order in the model's small leftover sensitivity to the noise
# inputs, the mean absolute prediction change first order, hence the wider bound without y.
NOISE_BOUND = {"mse": 0.05, "prediction_change": 0.12}


def test_the_lstm_learned_the_task(trained_lstm, ground_truth_data):
    _, _, X_test, y_test = ground_truth_data
    predictions = trained_lstm.predict(X_test, verbose=0).ravel()
    assert np.mean((predictions - y_test) ** 2) < 0.1 * np.var(y_test)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("with_y", [True, False], ids=["mse", "prediction_change"])
def test_every_method_ranks_the_true_drivers_first_and_noise_near_zero(trained_lstm, ground_truth_data, method, with_y):
    _, _, X_test, y_test = ground_truth_data
    bound = NOISE_BOUND["mse" if with_y else "prediction_change"]
    result = perturbation_importance(
        trained_lstm, X_test, y_test if with_y else None, method=method, scale=0.5, n_repeats=4, random_state=0
    )
    frame = result.to_frame()
    assert frame["feature"].tolist()[:2] == ["x1", "x2"]  # x1 has twice x2's weight
    importance = dict(zip(result.feature, result.importances_mean))
    ci_low = dict(zip(result.feature, result.ci_low))
    ci_high = dict(zip(result.feature, result.ci_high))
    weakest_driver = min(importance[name] for name in GT_DRIVERS)
    assert weakest_driver > 0
    for name in GT_NOISE:
        assert max(abs(ci_low[name]), abs(ci_high[name])) < bound * weakest_driver, (name, frame)


@pytest.mark.parametrize("method", ["permute", "zero"])
def test_by_cell_the_lagged_driver_peaks_at_its_lag(trained_lstm, ground_truth_data, method):
    _, _, X_test, y_test = ground_truth_data
    result = perturbation_importance(
        trained_lstm, X_test, y_test, method=method, by="cell", n_repeats=2, random_state=0
    )
    frame = result.to_frame(sort=False)
    for name, step in (("x1", GT_TIMESTEPS - 1), ("x2", GT_TIMESTEPS - GT_LAG)):
        rows = frame[frame["feature"] == name]
        assert rows["timestep"].tolist() == list(range(GT_TIMESTEPS))
        by_step = rows["importance"].to_numpy()
        assert int(np.argmax(by_step)) == step
        others = np.delete(by_step, step)
        assert np.abs(others).max() < NOISE_BOUND["mse"] * by_step[step]


def test_by_timestep_the_last_and_the_lagged_steps_matter(trained_lstm, ground_truth_data):
    _, _, X_test, y_test = ground_truth_data
    result = perturbation_importance(trained_lstm, X_test, y_test, method="permute", by="timestep", n_repeats=2)
    ranked = result.to_frame()["timestep"].tolist()
    assert ranked[:2] == [GT_TIMESTEPS - 1, GT_TIMESTEPS - GT_LAG]
