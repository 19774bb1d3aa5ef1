"""The conditional method (pyimportance.methods.conditional): its perturbation keeps the fitted part
and permutes the residual; end to end against closed forms for correlated features, AR(1) time
steps and independence, with a reference set, groups, time steps and several inputs, and with
padding left out of the reference rows.
"""

from __future__ import annotations

import numpy as np
import pytest
from helpers import unit_context

from pyimportance import perturbation_importance
from pyimportance.methods.conditional import perturb_conditional
from pyimportance.methods.context import UnitContext

W1, W2, RHO = 1.0, 0.5, 0.8


def _correlated(n=3000, T=4, seed=0):
    """x1, x2 standard normal with correlation RHO at every step (steps independent); x3 independent."""
    rng = np.random.default_rng(seed)
    z1, z2, x3 = rng.normal(size=(3, n, T))
    x1 = z1
    x2 = RHO * z1 + np.sqrt(1 - RHO**2) * z2
    return np.stack([x1, x2, x3], axis=2)


def _linear(X):
    return W1 * X[:, -1, 0] + W2 * X[:, -1, 1]


@pytest.fixture(scope="module")
def correlated():
    X = _correlated()
    return X, _linear(X)


def test_conditional_keeps_the_fitted_part_and_permutes_the_residual():
    fitted = np.arange(10, dtype=float).reshape(10, 1, 1)
    residual = 100 + np.arange(10, dtype=float).reshape(10, 1, 1)
    base = unit_context(1)
    context = UnitContext(base.mean, base.noise_sd, conditional=[(fitted, residual)])
    perturbed = perturb_conditional([fitted + residual], np.random.default_rng(2), context)
    np.testing.assert_array_equal(perturbed.blocks[0], fitted + residual[perturbed.donors])


def test_conditional_importance_of_correlated_features_is_2_w2_var_times_1_minus_rho2(correlated):
    X, y = correlated
    conditional = perturbation_importance(_linear, X, y, method="conditional", n_repeats=5, random_state=0)
    permute = perturbation_importance(_linear, X, y, method="permute", n_repeats=5, random_state=0)
    var = X[:, -1, :2].var(axis=0)
    np.testing.assert_allclose(conditional.importances_mean[:2], 2 * np.array([W1, W2]) ** 2 * var * (1 - RHO**2),
                               rtol=0.1)
    np.testing.assert_allclose(permute.importances_mean[:2], 2 * np.array([W1, W2]) ** 2 * var, rtol=0.1)
    assert conditional.importances_mean[2] == 0.0


def test_an_independent_feature_gets_the_permutation_value():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(3000, 3, 3))
    y = 2.0 * X[:, -1, 2]
    conditional = perturbation_importance(lambda x: 2.0 * x[:, -1, 2], X, y, method="conditional", random_state=0)
    permute = perturbation_importance(lambda x: 2.0 * x[:, -1, 2], X, y, method="permute", random_state=0)
    assert conditional.importances_mean[2] == pytest.approx(permute.importances_mean[2], rel=0.08)
    assert conditional.importances_mean[2] == pytest.approx(2 * 4.0 * X[:, -1, 2].var(), rel=0.08)


def _ar1(n, T, phi, rng):
    """n sequences of a stationary AR(1) with unit innovations."""
    values = np.empty((n, T))
    values[:, 0] = rng.normal(size=n) / np.sqrt(1 - phi**2)
    for t in range(1, T):
        values[:, t] = phi * values[:, t - 1] + rng.normal(size=n)
    return values


def test_an_ar1_cell_keeps_what_its_neighbours_know():
    phi, T, step, w = 0.9, 8, 4, 1.5
    rng = np.random.default_rng(2)
    X = np.stack([_ar1(4000, T, phi, rng), rng.normal(size=(4000, T))], axis=2)

    def model(x):
        return w * x[:, step, 0]

    y = model(X)
    conditional = perturbation_importance(model, X, y, method="conditional", by="cell", n_repeats=3, random_state=0)
    permute = perturbation_importance(model, X, y, method="permute", by="cell", n_repeats=3, random_state=0)
    cell = [i for i, unit in enumerate(conditional.units) if unit.feature == "x1" and unit.timestep == step][0]
    expected = 2 * w**2 * 1.0 / (1 + phi**2)  # var(x_t | all other steps) = sigma^2 / (1 + phi^2)
    assert conditional.importances_mean[cell] == pytest.approx(expected, rel=0.1)
    assert permute.importances_mean[cell] == pytest.approx(2 * w**2 / (1 - phi**2), rel=0.1)
    assert permute.importances_mean[cell] > 4 * conditional.importances_mean[cell]


def test_a_reference_set_fits_the_conditional_model_elsewhere(correlated):
    X, y = correlated
    training = _correlated(n=5000, seed=9)
    result = perturbation_importance(_linear, X[:500], y[:500], method="conditional", reference=training,
                                     random_state=0)
    var = X[:500, -1, :2].var(axis=0)
    np.testing.assert_allclose(result.importances_mean[:2], 2 * np.array([W1, W2]) ** 2 * var * (1 - RHO**2),
                               rtol=0.2)


def test_reference_needs_the_conditional_method(correlated):
    X, y = correlated
    with pytest.raises(ValueError) as error:
        perturbation_importance(_linear, X, y, method="permute", reference=X)
    assert str(error.value) == "reference is used by method='conditional' only, got method='permute'"


def test_conditional_works_with_groups_timesteps_and_several_inputs(correlated):
    X, y = correlated
    grouped = perturbation_importance(_linear, X, y, method="conditional", groups={"pair": ["x1", "x2"],
                                      "noise": ["x3"]}, random_state=0)
    # x1 and x2 together are independent of x3: nothing to condition on, the value of permuting the pair
    expected = 2 * np.var(_linear(X))
    assert grouped.importances_mean[0] == pytest.approx(expected, rel=0.1)
    steps = perturbation_importance(_linear, X, y, method="conditional", by="timestep", random_state=0)
    assert steps.importances_mean[-1] == pytest.approx(expected, rel=0.1)
    np.testing.assert_array_equal(steps.importances_mean[:-1], 0.0)

    def two_inputs(inputs):
        return _linear(inputs[0])

    several = perturbation_importance(two_inputs, [X, X[:, -1, :2] + 0.0], y, method="conditional", random_state=0)
    assert np.isfinite(several.importances).all()


def test_padding_in_the_reference_rows_is_left_out_of_the_conditional_model():
    rng = np.random.default_rng(6)
    X = _correlated(n=400, T=4, seed=3)
    reference = _correlated(n=800, T=4, seed=4)
    real = np.ones(reference.shape[:2], dtype=bool)
    real[:300, :2] = False
    padded = reference.copy()
    padded[~real] = -9.0
    filled = reference.copy()
    filled[~real] = reference[real].mean(axis=0)  # what a padded cell stands for: its feature's mean
    X[:50, :1] = -9.0
    options = {"method": "conditional", "n_repeats": 2, "random_state": 1, "mask_value": -9.0}
    y = _linear(X) + rng.normal(size=len(X))
    with_padding = perturbation_importance(_linear, X, y, reference=padded, **options)
    with_means = perturbation_importance(_linear, X, y, reference=filled, **options)
    np.testing.assert_allclose(with_padding.importances, with_means.importances, rtol=1e-9, atol=1e-12)
