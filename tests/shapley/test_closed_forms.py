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


def test_features_outside_every_group_are_units_of_their_own_so_the_total_is_the_explained_loss():
    # before: units ['g'] only, x1 known in every coalition: total 0.96 where the model explains 2
    rng = np.random.default_rng(0)
    X = rng.normal(size=(4000, 3))
    y = X[:, 0] + X[:, 1]
    result = shapley_importance(lambda x: x[:, 0] + x[:, 1], X, y, groups={"g": ["x2", "x3"]}, random_state=0)
    values = result.to_frame().set_index("feature")["importance"]
    assert sorted(values.index) == ["g", "x1"]
    explained = np.mean((y - y.mean()) ** 2)  # loss of the mean prediction minus the model's (0)
    assert result.total == pytest.approx(explained, rel=0.05)
    np.testing.assert_allclose(values[["x1", "g"]], [np.var(X[:, 0]), np.var(X[:, 1])], atol=0.1)
    assert result.settings["ungrouped"] == ["x1"] and result.settings["groups"] == {"g": ["x2", "x3"]}
    assert "Features outside every group, each a unit of its own: x1" in str(result)


def test_conditional_imputation_gives_a_group_outside_the_model_its_share_of_a_correlated_feature():
    # y = x1, corr(x1, x2) = rho: x2's share is rho^2 / 2 of the explained loss (0.405 for rho = 0.9); before
    # the features outside every group were units of their own, x1 was always known and the group got 0
    rho = 0.9
    X = np.random.default_rng(1).multivariate_normal([0.0, 0.0], [[1.0, rho], [rho, 1.0]], size=3000)
    result = shapley_importance(lambda x: x[:, 0], X, X[:, 0], groups={"g": ["x2"]}, imputer="conditional",
                                random_state=0)
    shares = result.to_frame().set_index("feature")["importance"] / result.total
    assert shares["g"] == pytest.approx(rho**2 / 2, abs=0.04)
    assert shares["x1"] == pytest.approx(1 - rho**2 / 2, abs=0.04)
    assert result.total == pytest.approx(np.var(X[:, 0]), rel=0.05)


def test_a_group_named_as_a_feature_outside_every_group_is_refused():
    X, y = _linear_data(n=50)
    with pytest.raises(ValueError) as error:
        shapley_importance(linear, X, y, groups={"x1": ["x2", "x3"]})
    assert str(error.value) == (
        "groups['x1'] has the name of a feature outside every group, which becomes a unit of its own under that "
        "name; rename the group or put 'x1' in a group"
    )


def test_conditional_imputation_names_the_features_outside_every_group_when_unit_sizes_differ():
    X, y = _linear_data(n=50)
    with pytest.raises(ValueError) as error:
        shapley_importance(linear, X, y, groups={"g": ["x2", "x3"]}, imputer="conditional")
    assert str(error.value) == (
        'imputer="conditional" needs units that hold equally many cells, got units of [1, 2] cells (the features '
        "outside every group are units of their own: ['x1', 'x4']; put them in groups too); use groups of one size "
        'or imputer="marginal"'
    )


def test_perturbation_importance_reports_only_the_groups_each_scored_on_its_own():
    X, y = _linear_data(n=400)
    grouped = perturbation_importance(linear, X, y, method="zero", groups={"g": ["x2", "x3"]}, random_state=0)
    assert grouped.to_frame()["feature"].tolist() == ["g"]
    assert grouped.importances_mean[0] == pytest.approx(
        np.mean((y - (X @ WEIGHTS - X[:, 1:3] @ WEIGHTS[1:3])) ** 2) - np.mean((y - X @ WEIGHTS) ** 2))
