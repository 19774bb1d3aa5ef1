"""The perturbations and their table (pyimportance.methods.perturbations): each function keeps the
shape and its input, noise of the context's sd, permutations and resampling of whole sequences
with their donors, constant ablations; unknown, failing and wrongly shaped methods refused,
deterministic methods evaluated once, a permutation of one row warned about; and the closed-form
importances of a linear model for every method.
"""

from __future__ import annotations

import numpy as np
import pytest
from helpers import CLASS_N, seq_data, seq_model, unit_context

from pyimportance import MethodFailedError, perturbation_importance
from pyimportance.methods.context import UnitContext
from pyimportance.methods.perturbations import (
    METHODS,
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


def _one(function, values, rng=None, context=None):
    """The new values of a one-block unit."""
    return function([values], rng, context or unit_context()).blocks[0]


# ---------------------------------------------------------------- the functions themselves


def test_every_method_keeps_the_shape_and_leaves_its_input_alone():
    values = np.random.default_rng(0).normal(size=(50, 3, 2))
    original = values.copy()
    context = unit_context()
    conditional = UnitContext(context.mean, context.noise_sd, [(values * 0.5, values * 0.5)])
    for name, method in METHODS.items():
        perturbed = method.function([values], np.random.default_rng(1), conditional)
        assert perturbed.blocks[0].shape == values.shape, name
        assert (perturbed.donors is not None) == method.donor_based, name
        np.testing.assert_array_equal(values, original, err_msg=name)


def test_gaussian_noise_has_the_context_sd():
    noise = _one(perturb_gaussian, np.zeros((20_000, 2, 2)), np.random.default_rng(0), unit_context(sd=0.5))
    assert abs(noise.mean()) < 0.01
    assert noise.std() == pytest.approx(0.5, rel=0.01)


def test_uniform_noise_has_the_context_sd_and_bounded_support():
    noise = _one(perturb_uniform, np.zeros((20_000, 2, 2)), np.random.default_rng(0), unit_context(sd=0.5))
    assert noise.std() == pytest.approx(0.5, rel=0.01)
    assert np.abs(noise).max() <= np.sqrt(3.0) * 0.5


def test_permute_shuffles_whole_sequences_across_samples_and_reports_the_donors():
    values = np.arange(60, dtype=float).reshape(10, 3, 2)
    perturbed = perturb_permute([values], np.random.default_rng(3), unit_context())
    result = perturbed.blocks[0]
    np.testing.assert_array_equal(result, values[perturbed.donors])
    np.testing.assert_array_equal(np.sort(perturbed.donors), np.arange(10))
    assert not np.array_equal(result, values)


def test_permute_moves_every_block_of_a_unit_with_the_same_donors():
    first = np.arange(20, dtype=float).reshape(10, 1, 2)
    second = -np.arange(10, dtype=float).reshape(10, 1, 1)
    perturbed = perturb_permute([first, second], np.random.default_rng(3), unit_context())
    np.testing.assert_array_equal(perturbed.blocks[0], first[perturbed.donors])
    np.testing.assert_array_equal(perturbed.blocks[1], second[perturbed.donors])


def test_resample_draws_whole_sequences_with_replacement():
    values = np.arange(60, dtype=float).reshape(10, 3, 2)
    perturbed = perturb_resample([values], np.random.default_rng(3), unit_context())
    np.testing.assert_array_equal(perturbed.blocks[0], values[perturbed.donors])
    assert len(set(perturbed.donors.tolist())) < 10  # with replacement: some row repeats (for this seed)


def test_zero_and_mean_are_constant():
    values = np.random.default_rng(0).normal(size=(5, 2, 2))
    np.testing.assert_array_equal(_one(perturb_zero, values), np.zeros((5, 2, 2)))
    np.testing.assert_array_equal(_one(perturb_mean, values), np.full((5, 2, 2), 3.0))


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


@pytest.mark.parametrize(
    ("method", "message"),
    [
        (lambda v, rng: v * np.nan,
         "method (a custom perturbation) returned NaN or infinite values (160 of 160); it must return finite "
         "numbers, while perturbing feature 'x1'"),
        (lambda v, rng: np.full(v.shape, "a"),
         "method (a custom perturbation) must return numbers, got ndarray of dtype <U1, while perturbing feature 'x1'"),
        (lambda v, rng: 1 / 0,
         "method (<lambda>) failed while perturbing feature 'x1': ZeroDivisionError: division by zero"),
    ],
    ids=["NaN", "strings", "raises"],
)
def test_a_failing_custom_method_names_the_unit_and_is_not_blamed_on_the_model(method, message):
    with pytest.raises(MethodFailedError) as error:
        perturbation_importance(seq_model, seq_data(), method=method, n_repeats=1)
    assert str(error.value) == message


@pytest.mark.parametrize("method", ["zero", "mean"])
def test_deterministic_methods_are_evaluated_once_with_std_0_and_no_repeats_interval(class_X, method):
    calls = []

    def model(x):
        calls.append(len(x))
        return x[:, -1, 0] + 0.5 * x[:, -1, 1]

    result = perturbation_importance(model, class_X, method=method, n_repeats=5, ci="repeats", batch_size=CLASS_N)
    assert len(calls) == 2 + 1 + 3  # baseline twice (repeatability), row-wise check, one call per feature
    assert result.importances.shape == (3, 1)
    np.testing.assert_array_equal(result.importances_std, 0.0)
    assert np.isnan(result.ci_low).all() and np.isnan(result.ci_high).all() and np.isnan(result.p_value).all()
    assert result.settings["n_repeats"] == 1
    assert "evaluated once (deterministic method)" in repr(result).splitlines()[0]
    assert "deterministic method: no interval over repeats" in repr(result).splitlines()[1]


@pytest.mark.parametrize("max_samples", [None, 1])
def test_permutation_on_one_row_warns_and_has_no_interval(max_samples):
    X = seq_data()[:1] if max_samples is None else seq_data()
    with pytest.warns(UserWarning) as record:
        result = perturbation_importance(seq_model, X, method="permute", max_samples=max_samples, random_state=0)
    assert [str(w.message) for w in record] == [
        "method='permute' on 1 row(s) cannot move any values between rows: every importance is 0; evaluate on "
        "more rows",
        "1 evaluated row(s) are too few for an interval: the intervals and p-values are NaN (at least 3 rows are "
        "needed); evaluate on more rows",
    ]
    np.testing.assert_array_equal(result.importances, 0.0)
    assert np.isnan(result.ci_low).all() and np.isnan(result.ci_high).all()


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


# ----------------------------------------------------------------------------- integer / categorical units

DAYS = 5


def _day_codes(n: int = 60, steps: int = 4) -> tuple[np.ndarray, np.ndarray]:
    """A real driver (sequence) and day-of-week codes 0..4 (int32), seeded."""
    rng = np.random.default_rng(19)
    return rng.normal(size=(n, steps, 1)), rng.integers(0, DAYS, size=(n, steps)).astype(np.int32)


@pytest.fixture(scope="module")
def embedding_model(keras):
    """An untrained model of a float sequence and an int32 day code through an Embedding, fixed weights."""
    keras.utils.set_random_seed(3)
    values = keras.Input((4, 1), name="sales")
    days = keras.Input((4,), dtype="int32", name="day")
    joined = keras.layers.Concatenate()([values, keras.layers.Embedding(DAYS, 2)(days)])
    return keras.Model([values, days], keras.layers.Dense(1)(keras.layers.Flatten()(joined)))


@pytest.mark.keras
@pytest.mark.parametrize("method", ["gaussian", "uniform"])
def test_noise_on_an_int32_embedding_input_is_refused_with_the_fix(embedding_model, method):
    with pytest.raises(ValueError) as error:
        perturbation_importance(embedding_model, list(_day_codes()), method=method, random_state=0)
    assert str(error.value) == (
        f"method='{method}' cannot perturb ['day:x1', 'x2', 'x3', 'x4']: the model reads input 'day' as int32 codes, "
        "so noise would turn a code into another category at random; use method='permute' or "
        "method='resample', which move whole codes between rows"
    )


@pytest.mark.keras
def test_the_default_method_on_an_int32_embedding_input_is_refused(embedding_model):
    with pytest.raises(ValueError, match="the model reads input 'day' as int32 codes"):
        perturbation_importance(embedding_model, list(_day_codes()))


@pytest.mark.keras
def test_conditional_samples_an_int32_embedding_input_from_a_classifier(embedding_model):
    # the categorical sampler (tests/methods/test_categorical_sampler.py) draws whole codes
    result = perturbation_importance(embedding_model, list(_day_codes()), method="conditional", n_repeats=2,
                                     random_state=0)
    assert np.all(np.isfinite(result.importances_mean))


@pytest.mark.keras
@pytest.mark.parametrize("method", ["permute", "resample"])
def test_donor_methods_on_an_int32_embedding_input_run_without_a_warning(embedding_model, method, recwarn):
    result = perturbation_importance(embedding_model, list(_day_codes()), method=method, n_repeats=2, random_state=0)
    assert np.all(np.isfinite(result.importances_mean)) and np.all(result.importances_mean >= 0)
    assert [str(w.message) for w in recwarn if "codes" in str(w.message)] == []


def test_noise_on_integer_typed_data_warns_with_the_fix():
    X = np.random.default_rng(0).integers(0, 3, size=(30, 2))
    with pytest.warns(UserWarning) as record:
        perturbation_importance(lambda x: x[:, 0] + x[:, 1], X, n_repeats=2, random_state=0)
    assert [str(w.message) for w in record] == [
        "method='gaussian' adds noise to integer-typed features ['x1', 'x2'], giving values no row has; if they are "
        "codes, use method='permute' or method='resample', which move whole codes between rows (if they are "
        "measurements, pass them as float to silence this)"
    ]


def test_noise_on_one_hot_columns_warns_and_names_the_group_to_make():
    rng = np.random.default_rng(1)
    X = np.concatenate([rng.normal(size=(40, 1)), np.eye(3)[rng.integers(0, 3, 40)]], axis=1)
    with pytest.warns(UserWarning) as record:
        perturbation_importance(lambda x: x @ np.arange(4.0), X, n_repeats=2, random_state=0)
    assert [str(w.message) for w in record] == [
        "method='gaussian' adds noise to ['x2', 'x3', 'x4'], which look like the one-hot columns of one category; "
        "perturb them together as one group (groups={'category': ['x2', 'x3', 'x4']}) with method='permute'"
    ]


def test_donor_methods_and_float_measurements_give_no_categorical_warning(recwarn):
    rng = np.random.default_rng(3)
    perturbation_importance(lambda x: x[:, 0], rng.integers(0, 3, size=(30, 2)), method="permute", random_state=0)
    perturbation_importance(lambda x: x[:, 0], rng.integers(0, 3, size=(30, 2)).astype(float), random_state=0)
    assert [str(w.message) for w in recwarn] == []


# ----------------------------------------------------------------------------- constant units


def _with_constant_law(n: int = 50) -> np.ndarray:
    X = np.random.default_rng(7).normal(size=(n, 4, 2))
    X[:, :, 1] = 1.0  # like Seatbelts' law over a test period after 1983
    return X


def test_relative_noise_on_a_constant_feature_warns_with_the_fix():
    with pytest.warns(UserWarning) as record:
        result = perturbation_importance(lambda x: x[:, -1, 0] + x[:, -1, 1], _with_constant_law(),
                                         feature_names=["front", "law"], n_repeats=2, random_state=0)
    assert [str(w.message) for w in record] == [
        "method='gaussian' with relative noise (scale times the feature's sd) leaves ['law'] unchanged: constant on "
        "the evaluated rows (sd 0), so the importance is exactly 0 without being measured; for the model's "
        "sensitivity to them use absolute noise (relative_scale=False with scale in the feature's units), or "
        "evaluate on rows where they vary (method='permute' and method='resample' also give 0 here: no row differs)"
    ]
    assert result.importances_mean[1] == 0.0


def test_absolute_noise_and_varying_features_give_no_constant_warning(recwarn):
    model = lambda x: x[:, -1, 0] + x[:, -1, 1]  # noqa: E731
    result = perturbation_importance(model, _with_constant_law(), relative_scale=False, n_repeats=2, random_state=0)
    perturbation_importance(model, seq_data()[:, :, :2], n_repeats=2, random_state=0)
    assert [str(w.message) for w in recwarn] == []
    assert result.importances_mean[1] > 0.0


def test_one_row_under_the_default_gaussian_warns_that_the_row_is_constant_and_has_no_interval():
    X = np.random.default_rng(8).normal(size=(1, 3))
    with pytest.warns(UserWarning) as record:
        result = perturbation_importance(lambda x: x[:, 0], X, random_state=0)
    messages = [str(w.message) for w in record]
    assert any("leaves ['x1', 'x2', 'x3'] unchanged" in m for m in messages)
    assert any("1 evaluated row(s) are too few for an interval" in m for m in messages)
    assert np.isnan(result.ci_low).all()
