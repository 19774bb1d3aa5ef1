"""Perturbation functions, and closed-form importances of linear models for every method."""

from __future__ import annotations

import numpy as np
import pytest

from pyimportance import MethodFailedError, perturbation_importance
from pyimportance.perturbations import (
    METHODS,
    UnitContext,
    feature_stats,
    keep_padding,
    perturb_conditional,
    perturb_gaussian,
    perturb_mean,
    perturb_permute,
    perturb_resample,
    perturb_uniform,
    perturb_zero,
    resolve_method,
)

WEIGHTS = np.array([2.0, -0.5, 0.0, 1.0])


def linear_last_step(X: np.ndarray) -> np.ndarray:
    """f(X) = w . X[:, -1, :], the model whose importances have closed forms."""
    return X[:, -1, :] @ WEIGHTS


@pytest.fixture
def linear_X():
    return np.random.default_rng(7).normal(loc=0.5, scale=1.5, size=(2000, 3, 4))


def _context(n_features: int = 2, sd: float = 0.5) -> UnitContext:
    return UnitContext(mean=[np.full((1, 1, n_features), 3.0)], noise_sd=[np.full((1, 1, n_features), sd)])


def _one(function, values, rng=None, context=None):
    """The new values of a one-block unit."""
    return function([values], rng, context or _context()).blocks[0]


# ---------------------------------------------------------------- the functions themselves


def test_every_method_keeps_the_shape_and_leaves_its_input_alone():
    values = np.random.default_rng(0).normal(size=(50, 3, 2))
    original = values.copy()
    context = _context()
    conditional = UnitContext(context.mean, context.noise_sd, [(values * 0.5, values * 0.5)])
    for name, method in METHODS.items():
        perturbed = method.function([values], np.random.default_rng(1), conditional)
        assert perturbed.blocks[0].shape == values.shape, name
        assert (perturbed.donors is not None) == method.donor_based, name
        np.testing.assert_array_equal(values, original, err_msg=name)


def test_gaussian_noise_has_the_context_sd():
    noise = _one(perturb_gaussian, np.zeros((20_000, 2, 2)), np.random.default_rng(0), _context(sd=0.5))
    assert abs(noise.mean()) < 0.01
    assert noise.std() == pytest.approx(0.5, rel=0.01)


def test_uniform_noise_has_the_context_sd_and_bounded_support():
    noise = _one(perturb_uniform, np.zeros((20_000, 2, 2)), np.random.default_rng(0), _context(sd=0.5))
    assert noise.std() == pytest.approx(0.5, rel=0.01)
    assert np.abs(noise).max() <= np.sqrt(3.0) * 0.5


def test_permute_shuffles_whole_sequences_across_samples_and_reports_the_donors():
    values = np.arange(60, dtype=float).reshape(10, 3, 2)
    perturbed = perturb_permute([values], np.random.default_rng(3), _context())
    result = perturbed.blocks[0]
    np.testing.assert_array_equal(result, values[perturbed.donors])
    np.testing.assert_array_equal(np.sort(perturbed.donors), np.arange(10))
    assert not np.array_equal(result, values)


def test_permute_moves_every_block_of_a_unit_with_the_same_donors():
    first = np.arange(20, dtype=float).reshape(10, 1, 2)
    second = -np.arange(10, dtype=float).reshape(10, 1, 1)
    perturbed = perturb_permute([first, second], np.random.default_rng(3), _context())
    np.testing.assert_array_equal(perturbed.blocks[0], first[perturbed.donors])
    np.testing.assert_array_equal(perturbed.blocks[1], second[perturbed.donors])


def test_resample_draws_whole_sequences_with_replacement():
    values = np.arange(60, dtype=float).reshape(10, 3, 2)
    perturbed = perturb_resample([values], np.random.default_rng(3), _context())
    np.testing.assert_array_equal(perturbed.blocks[0], values[perturbed.donors])
    assert len(set(perturbed.donors.tolist())) < 10  # with replacement: some row repeats (for this seed)


def test_conditional_keeps_the_fitted_part_and_permutes_the_residual():
    fitted = np.arange(10, dtype=float).reshape(10, 1, 1)
    residual = 100 + np.arange(10, dtype=float).reshape(10, 1, 1)
    base = _context(1)
    context = UnitContext(base.mean, base.noise_sd, conditional=[(fitted, residual)])
    perturbed = perturb_conditional([fitted + residual], np.random.default_rng(2), context)
    np.testing.assert_array_equal(perturbed.blocks[0], fitted + residual[perturbed.donors])


def test_zero_and_mean_are_constant():
    values = np.random.default_rng(0).normal(size=(5, 2, 2))
    np.testing.assert_array_equal(_one(perturb_zero, values), np.zeros((5, 2, 2)))
    np.testing.assert_array_equal(_one(perturb_mean, values), np.full((5, 2, 2), 3.0))


def test_keep_padding_leaves_padded_steps_and_never_feeds_padding_to_real_steps():
    values = np.arange(1.0, 13.0).reshape(4, 3, 1)
    real = np.array([[True, True, True], [False, True, True], [False, False, True], [True, True, True]])
    values[~real] = 0.0  # padding
    donors = np.array([2, 0, 1, 3])  # row 0 would receive row 2's two padded steps
    new = values[donors]
    kept = keep_padding([new], [values], [real], donors, np.random.default_rng(0))[0]
    np.testing.assert_array_equal(kept[~real], values[~real])  # padded steps untouched
    for row, step in zip(*np.nonzero(real)):
        donors_real_there = values[real[:, step], step, 0]
        assert kept[row, step, 0] in donors_real_there  # always a real value of that step
    assert kept[0, 2, 0] == values[2, 2, 0]  # where the donor is real, its value is used


def test_feature_stats_are_mean_and_population_sd_over_samples_and_steps():
    values = np.random.default_rng(0).normal(size=(5000, 3, 2)) * [1.0, 4.0] + [0.0, 2.0]
    stats = feature_stats(values)
    flat = values.reshape(-1, 2)
    np.testing.assert_allclose(stats.mean, flat.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(stats.std, flat.std(axis=0), rtol=1e-10)


def test_feature_stats_leave_padded_steps_out():
    values = np.random.default_rng(0).normal(size=(300, 4, 2)) + 5.0
    mask = np.ones((300, 4), dtype=bool)
    mask[:100, :2] = False
    values[~mask] = -1.0
    stats = feature_stats(values, mask)
    real = values[mask]
    np.testing.assert_allclose(stats.mean, real.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(stats.std, real.std(axis=0), rtol=1e-10)


def test_feature_stats_context_scales_relative_or_absolute():
    stats = feature_stats(np.array([[[0.0, 0.0]], [[2.0, 10.0]]]))
    mean, relative = stats.context(np.array([1]), scale=0.1, relative_scale=True)
    _, absolute = stats.context(np.array([1]), scale=0.1, relative_scale=False)
    np.testing.assert_allclose(relative, [[[0.5]]])
    np.testing.assert_allclose(absolute, [[[0.1]]])
    np.testing.assert_allclose(mean, [[[5.0]]])


def test_resolve_method_rejects_unknown_names_with_the_choices():
    with pytest.raises(ValueError) as error:
        resolve_method("shuffle")
    assert str(error.value) == (
        "method must be one of 'gaussian', 'uniform', 'permute', 'resample', 'conditional', 'zero' or 'mean' "
        "or a callable (values, rng) -> values, got 'shuffle'"
    )


def test_custom_method_returning_the_wrong_shape_is_rejected(sequence_X):
    with pytest.raises(MethodFailedError) as error:
        perturbation_importance(lambda x: x[:, -1, 0], sequence_X, method=lambda v, rng: v[:, :1], n_repeats=1)
    assert str(error.value) == (
        "method (a custom perturbation) must return an array of the shape (40, 4, 1) it was given, "
        "got shape (40, 1, 1), while perturbing feature 'x1'"
    )


# ---------------------------------------------------------------- closed forms, linear model


def _importance(X, method, **options):
    result = perturbation_importance(linear_last_step, X, method=method, random_state=0, **options)
    return result.importances_mean


@pytest.mark.parametrize("method", ["gaussian", "uniform", "permute", "resample", "zero", "mean"])
def test_a_feature_the_model_ignores_has_exactly_zero_importance(linear_X, method):
    X = linear_X[:200]
    for y in (None, linear_last_step(X) + 1.0):
        importance = _importance(X, method, y=y, n_repeats=2)
        assert importance[2] == 0.0


def test_gaussian_prediction_change_is_abs_w_times_sd_times_sqrt_2_over_pi(linear_X):
    importance = _importance(linear_X, "gaussian", scale=0.3, relative_scale=False, n_repeats=10)
    expected = np.abs(WEIGHTS) * 0.3 * np.sqrt(2 / np.pi)
    np.testing.assert_allclose(importance, expected, rtol=0.025)


def test_gaussian_relative_scale_uses_each_features_sd(linear_X):
    importance = _importance(linear_X, "gaussian", scale=0.3, relative_scale=True, n_repeats=10)
    sd = linear_X.reshape(-1, 4).std(axis=0)
    np.testing.assert_allclose(importance, np.abs(WEIGHTS) * 0.3 * sd * np.sqrt(2 / np.pi), rtol=0.025)


def test_uniform_prediction_change_is_abs_w_times_sd_times_sqrt3_over_2(linear_X):
    importance = _importance(linear_X, "uniform", scale=0.3, relative_scale=False, n_repeats=10)
    np.testing.assert_allclose(importance, np.abs(WEIGHTS) * 0.3 * np.sqrt(3) / 2, rtol=0.025)


@pytest.mark.parametrize("method", ["gaussian", "uniform"])
def test_noise_mse_increase_is_w_squared_times_sd_squared(linear_X, method):
    y = linear_last_step(linear_X)
    importance = _importance(linear_X, method, y=y, scale=0.3, relative_scale=False, n_repeats=10)
    np.testing.assert_allclose(importance, WEIGHTS**2 * 0.09, rtol=0.05)


@pytest.mark.parametrize("method", ["permute", "resample"])
def test_permute_and_resample_mse_increase_is_twice_w_squared_times_variance(linear_X, method):
    y = linear_last_step(linear_X)
    importance = _importance(linear_X, method, y=y, n_repeats=10)
    expected = 2 * WEIGHTS**2 * linear_X[:, -1, :].var(axis=0)
    np.testing.assert_allclose(importance, expected, rtol=0.05)


def test_zero_is_exact_for_prediction_change_and_mse(linear_X):
    last = linear_X[:, -1, :]
    change = _importance(linear_X, "zero", n_repeats=2)
    np.testing.assert_allclose(change, np.abs(WEIGHTS) * np.abs(last).mean(axis=0), rtol=1e-12)
    y = linear_last_step(linear_X) + np.random.default_rng(1).normal(size=2000)
    residual = y - linear_last_step(linear_X)
    mse = _importance(linear_X, "zero", y=y, n_repeats=2)
    expected = [np.mean((residual + w * last[:, j]) ** 2) - np.mean(residual**2) for j, w in enumerate(WEIGHTS)]
    np.testing.assert_allclose(mse, expected, rtol=1e-10, atol=1e-12)


def test_mean_is_exact_with_the_mean_over_samples_and_steps(linear_X):
    means = linear_X.reshape(-1, 4).mean(axis=0)
    shift = linear_X[:, -1, :] - means
    change = _importance(linear_X, "mean", n_repeats=1)
    np.testing.assert_allclose(change, np.abs(WEIGHTS) * np.abs(shift).mean(axis=0), rtol=1e-12)
    mse = _importance(linear_X, "mean", y=linear_last_step(linear_X), n_repeats=1)
    np.testing.assert_allclose(mse, WEIGHTS**2 * (shift**2).mean(axis=0), rtol=1e-12)


def test_zero_and_mean_by_cell_are_exact_at_the_last_step_and_zero_elsewhere(linear_X):
    X = linear_X[:300]
    result = perturbation_importance(linear_last_step, X, method="zero", by="cell", n_repeats=1)
    grid = result.importances_mean.reshape(3, 4)  # (time step, feature)
    np.testing.assert_array_equal(grid[:2], 0.0)
    np.testing.assert_allclose(grid[2], np.abs(WEIGHTS) * np.abs(X[:, -1, :]).mean(axis=0), rtol=1e-12)


@pytest.mark.keras
def test_keras_dense_on_the_last_step_has_the_same_closed_forms(keras, linear_X):
    model = keras.Sequential(
        [keras.Input((3, 4)), keras.layers.Cropping1D((2, 0)), keras.layers.Flatten(), keras.layers.Dense(1)]
    )
    model.layers[-1].set_weights([WEIGHTS.reshape(4, 1).astype(np.float32), np.array([0.25], np.float32)])
    X = linear_X.astype(np.float32)
    last = X[:, -1, :].astype(np.float64)
    zero = perturbation_importance(model, X, method="zero", n_repeats=1).importances_mean
    np.testing.assert_allclose(zero, np.abs(WEIGHTS) * np.abs(last).mean(axis=0), rtol=1e-5, atol=1e-6)
    means = X.reshape(-1, 4).astype(np.float64).mean(axis=0)
    mean = perturbation_importance(model, X, method="mean", n_repeats=1).importances_mean
    np.testing.assert_allclose(mean, np.abs(WEIGHTS) * np.abs(last - means).mean(axis=0), rtol=1e-5, atol=1e-6)
    gaussian = perturbation_importance(
        model, X, method="gaussian", scale=0.3, relative_scale=False, n_repeats=10, random_state=0
    ).importances_mean
    np.testing.assert_allclose(gaussian, np.abs(WEIGHTS) * 0.3 * np.sqrt(2 / np.pi), rtol=0.025, atol=1e-6)
    y = last @ WEIGHTS + 0.25
    mse = perturbation_importance(
        model, X, y, method="gaussian", scale=0.3, relative_scale=False, n_repeats=10, random_state=0
    ).importances_mean
    np.testing.assert_allclose(mse, WEIGHTS**2 * 0.09, rtol=0.05, atol=1e-6)


# ---------------------------------------------------------------- the seed-style loop, independently


def _nonlinear_model(X: np.ndarray) -> np.ndarray:
    return np.tanh(1.5 * X[:, :, 0] + X[:, :, 1]).mean(axis=1) + 0.5 * X[:, -1, 2] ** 2


def test_gaussian_absolute_scale_agrees_with_an_independent_noise_loop():
    X = np.random.default_rng(11).normal(size=(1500, 5, 3))
    sd, n_repeats = 0.4, 8
    baseline = _nonlinear_model(X)
    result = perturbation_importance(
        _nonlinear_model, X, method="gaussian", scale=sd, relative_scale=False, n_repeats=n_repeats, random_state=3
    )
    for feature in range(3):
        loop = []
        for repeat in range(n_repeats):
            noise_rng = np.random.default_rng([99, feature, repeat])
            perturbed = X.copy()
            perturbed[:, :, feature] += noise_rng.normal(0.0, sd, size=perturbed.shape[:2])
            loop.append(np.mean(np.abs(_nonlinear_model(perturbed) - baseline)))
        loop = np.array(loop)
        engine = result.importances[feature]
        standard_error = np.sqrt(loop.var(ddof=1) / n_repeats + engine.var(ddof=1) / n_repeats)
        assert abs(engine.mean() - loop.mean()) < 4 * standard_error + 1e-3 * loop.mean(), feature
        assert standard_error < 0.05 * loop.mean()  # the comparison is sharp, not vacuous
