"""Shapley importance against known truth (NumPy models, fixed seeds): the linear model's w_j^2 var(x_j),
the product's 0.5 each, efficiency, the empty coalition's loss, an ignored unit's exact 0, symmetry."""

from __future__ import annotations

import numpy as np
import pytest

from pyimportance import perturbation_importance, shapley_importance

WEIGHTS = np.array([2.0, 1.0, 0.5, 0.0])


def _linear_data(n=3000, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4))
    return X, X @ WEIGHTS + rng.normal(size=n)


def linear(x):
    return x @ WEIGHTS


def product(x):
    return x[:, 0] * x[:, 1]


def test_linear_model_with_independent_inputs_gets_w_squared_var_x_half_the_permute_value():
    X, y = _linear_data()
    # n_draws=2: without the bias removal each value would be 1.5 times the truth (6 for x1, not 4)
    result = shapley_importance(linear, X, y, n_draws=2, random_state=0)
    truth = WEIGHTS**2
    assert np.all(result.ci_low[:3] <= truth[:3]) and np.all(truth[:3] <= result.ci_high[:3])
    np.testing.assert_allclose(result.importances_mean[:3], truth[:3], atol=0.25)
    assert result.ci_high[0] < 5  # the uncorrected 6 would be far outside
    permuted = perturbation_importance(linear, X, y, method="permute", random_state=0)
    np.testing.assert_allclose(result.importances_mean[:3], permuted.importances_mean[:3] / 2, atol=0.25)


def test_product_of_two_zero_mean_inputs_gets_half_each_and_one_draw_per_coalition_would_give_one():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(3000, 2))
    y = product(X)
    result = shapley_importance(product, X, y, n_draws=2, random_state=0)
    np.testing.assert_allclose(result.importances_mean, [0.5, 0.5], atol=0.08)
    assert np.all(result.ci_low <= 0.5) and np.all(0.5 <= result.ci_high)
    permuted = perturbation_importance(product, X, y, method="permute", random_state=0)
    np.testing.assert_allclose(permuted.importances_mean, [2.0, 2.0], rtol=0.15)  # each counts the whole product


def test_one_draw_per_coalition_is_refused():
    X, y = _linear_data(50)
    with pytest.raises(ValueError, match=r"^n_draws must be at least 2 \(the bias of the average is removed with "
                                         r"its draws\), got 1$"):
        shapley_importance(linear, X, y, n_draws=1)


def test_values_add_up_to_the_runs_total_which_covers_the_loss_of_the_mean_prediction_minus_the_models():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(1500, 3))
    y = np.tanh(X[:, 0]) * X[:, 1] + X[:, 2] + 0.3 * rng.normal(size=1500)

    def model(x):
        return np.tanh(x[:, 0]) * x[:, 1] + 0.9 * x[:, 2]

    result = shapley_importance(model, X, y, n_repeats=4, random_state=3)
    np.testing.assert_allclose(result.importances_mean.sum(), result.total, rtol=1e-10)
    predictions = model(X)
    explained = np.mean((y - predictions.mean()) ** 2) - np.mean((y - predictions) ** 2)
    assert result.total_ci_low <= explained <= result.total_ci_high
    assert result.total_ci_high - result.total_ci_low < 0.2 * explained


def test_a_unit_the_model_ignores_gets_exactly_zero():
    X, y = _linear_data(400)
    result = shapley_importance(linear, X, y, random_state=0)
    assert result.importances[3].tolist() == [0.0, 0.0]
    assert result.ci_low[3] == result.ci_high[3] == 0.0


def test_a_model_symmetric_in_two_inputs_gives_them_equal_values():
    rng = np.random.default_rng(4)
    X = rng.normal(size=(3000, 3))

    def model(x):
        return np.sin(x[:, 0] + x[:, 1]) + 0.5 * x[:, 2]

    result = shapley_importance(model, X, model(X), random_state=0)
    first, second = result.importances_mean[:2]
    error = np.hypot(*result.std_error[:2])
    assert abs(first - second) < 2.5 * error
    assert error < 0.1 * first  # precise enough that a value twice the other would be far outside
