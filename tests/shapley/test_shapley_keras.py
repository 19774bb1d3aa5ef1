"""Shapley importance of a Keras LSTM by time step and by cell: the compiled path, efficiency, Masking."""

from __future__ import annotations

import numpy as np
import pytest

from pyimportance import shapley_importance

pytestmark = pytest.mark.keras


@pytest.fixture(scope="module")
def lstm_and_data(keras):
    keras.utils.set_random_seed(3)
    model = keras.Sequential([keras.Input((6, 2)), keras.layers.LSTM(8), keras.layers.Dense(1)])
    rng = np.random.default_rng(0)
    X = rng.normal(size=(150, 6, 2)).astype(np.float32)
    return model, X, X[:, -1, 0] + 0.5 * X[:, -2, 1]


def test_an_lstm_by_timestep_and_cell_adds_up_and_agrees_across_batch_sizes(lstm_and_data):
    model, X, y = lstm_and_data
    steps = shapley_importance(model, X, y, by="timestep", random_state=0)
    assert steps.timestep == list(range(6))
    np.testing.assert_allclose(steps.importances_mean.sum(), steps.total, rtol=1e-10)
    cells = shapley_importance(model, X, y, by="cell", n_draws=4, random_state=0)
    frame = cells.to_frame()
    assert len(frame) == 12 and set(frame["feature"]) == {"x1", "x2"}
    np.testing.assert_allclose(cells.importances_mean.sum(), cells.total, rtol=1e-10)
    rebatched = shapley_importance(model, X, y, by="cell", n_draws=4, random_state=0, batch_size=100)
    # float32 outputs may differ in their last bits across batch shapes: the same numbers to rounding
    np.testing.assert_allclose(rebatched.importances_mean, cells.importances_mean, rtol=1e-4, atol=1e-6)


def test_a_masking_layers_padded_steps_are_never_imputed(keras):
    keras.utils.set_random_seed(1)
    model = keras.Sequential([keras.Input((5, 2)), keras.layers.Masking(mask_value=0.0), keras.layers.GRU(4),
                              keras.layers.Dense(1)])
    rng = np.random.default_rng(2)
    X = rng.normal(size=(80, 5, 2)).astype(np.float32)
    X[:40, :2] = 0.0  # padded first two steps
    result = shapley_importance(model, X, by="timestep", random_state=0)
    assert list(result.settings["mask_value"].values()) == [0.0]  # read from the Masking layer
    np.testing.assert_allclose(result.importances_mean.sum(), result.total, rtol=1e-10)


def test_an_executor_rebuilds_the_keras_model_and_gives_the_local_numbers(lstm_and_data):
    from concurrent.futures import ThreadPoolExecutor

    model, X, y = lstm_and_data
    local = shapley_importance(model, X, y, by="timestep", batch_size=256, random_state=0)
    with ThreadPoolExecutor(2) as executor:
        remote = shapley_importance(model, X, y, by="timestep", batch_size=256, random_state=0, executor=executor,
                                    task_size=1)
    np.testing.assert_array_equal(remote.importances, local.importances)


@pytest.mark.parametrize("estimator", ["perturbation_importance", "shapley_importance"])
def test_every_estimator_names_a_head_by_its_output_layer(keras, estimator):
    """The one run loop passes the head aliases to the scoring: a single head is also known by its layer's name
    (Shapley importance refused ``output="forecast"`` while it had a run loop of its own)."""
    import pyimportance

    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1, name="forecast")])
    X = np.random.default_rng(1).normal(size=(120, 3)).astype(np.float32)
    y = model.predict(X, verbose=0)[:, 0]
    function = getattr(pyimportance, estimator)
    by_alias = function(model, X, y, output="forecast", n_repeats=2, random_state=0)
    by_default = function(model, X, y, n_repeats=2, random_state=0)
    np.testing.assert_array_equal(by_alias.importances, by_default.importances)
    assert by_alias.importances_mean.max() > 0
