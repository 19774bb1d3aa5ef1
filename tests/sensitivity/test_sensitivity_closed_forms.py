"""Sensitivity importance against closed forms: a linear model's integrated gradients are w (x - x0) and its
derivative measure w^2 var(x); x1 x2 from zero baselines gives x1 x2 / 2 each; an ignored unit gets exactly 0;
completeness within the documented tolerance at the default n_steps; the same numbers for any batch size and
executor, and from tf-keras as from Keras 3."""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

import numpy as np
import pytest

from pyimportance import SensitivityResult, sensitivity_importance
from pyimportance.sensitivity.paths import gauss_legendre
from pyimportance.sensitivity.sensitivity_recipe import COMPLETENESS_TOLERANCE, N_STEPS

pytestmark = pytest.mark.keras

WEIGHTS = np.array([2.0, -1.0, 0.0, 0.5])


def _linear(keras, shape=(3, 4), weights=None):
    """``sum(w * x)`` over the flattened cells, without a bias (a Keras Dense layer)."""
    model = keras.Sequential([keras.Input(shape), keras.layers.Flatten(), keras.layers.Dense(1, use_bias=False)])
    weights = np.tile(WEIGHTS, shape[0]) if weights is None else weights
    model.set_weights([np.asarray(weights, dtype=np.float32).reshape(-1, 1)])
    return model


@pytest.fixture(scope="module")
def X():
    return np.random.default_rng(0).normal(size=(120, 3, 4)).astype(np.float32)


def test_a_linear_models_integrated_gradients_are_w_times_x_minus_the_mean_row(keras, X):
    result = sensitivity_importance(_linear(keras), X, by="cell")
    assert isinstance(result, SensitivityResult)
    assert result.settings["estimator"] == "sensitivity" and result.settings["method"] == "integrated_gradients"
    x = X.astype(np.float64)
    expected = WEIGHTS * (x - x.mean(axis=0))  # (rows, T, F)
    np.testing.assert_allclose(result.attributions, expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(result.importances_mean, np.abs(expected).mean(axis=0).reshape(-1), rtol=1e-5,
                               atol=1e-7)
    np.testing.assert_allclose(result.direction, expected.mean(axis=0).reshape(-1), atol=1e-6)
    assert np.all(np.isnan(result.p_value)) and np.all(result.std == 0)  # nothing is random
    assert np.abs(result.convergence_delta).max() < 1e-5


def test_a_features_value_is_the_signed_sum_of_its_cells_and_the_importance_its_mean_absolute_value(keras, X):
    result = sensitivity_importance(_linear(keras), X, baselines="zeros")
    cells = WEIGHTS * X.astype(np.float64)
    np.testing.assert_allclose(result.importances_mean, np.abs(cells.sum(axis=1)).mean(axis=0), rtol=1e-5,
                               atol=1e-7)
    assert result.importances_mean[2] == 0.0  # the ignored feature: exactly 0
    assert result.to_frame()["feature"].tolist() == ["x1", "x2", "x4", "x3"]
    np.testing.assert_allclose(result.row_importances, np.abs(cells.sum(axis=1)), rtol=1e-5, atol=1e-7)
    grouped = sensitivity_importance(_linear(keras), X, baselines="zeros", groups={"first": ["x1", "x2"]})
    np.testing.assert_allclose(grouped.importances_mean[0], np.abs(cells[:, :, :2].sum(axis=(1, 2))).mean(),
                               rtol=1e-5)
    assert "Sensitivity importance by group" in grouped.summary() and "<table" in grouped._repr_html_()


def test_a_linear_models_derivative_measure_is_w_squared_times_the_variance(keras, X):
    result = sensitivity_importance(_linear(keras), X, method="derivative")
    assert result.settings["method"] == "derivative" and result.settings["n_steps"] is None
    assert result.settings["baselines"] is None
    variance = X.astype(np.float64).var(axis=0)  # per cell, over rows
    np.testing.assert_allclose(result.importances_mean, (WEIGHTS ** 2 * variance).sum(axis=0), rtol=1e-5)
    np.testing.assert_allclose(result.attributions, np.broadcast_to(WEIGHTS ** 2 * variance, X.shape), rtol=1e-5)
    assert np.isnan(result.convergence_delta).all()


def test_a_product_from_zero_baselines_gives_half_the_product_to_each_input(keras):
    inputs = keras.Input((2,))
    product = keras.layers.Lambda(lambda t: t[:, :1] * t[:, 1:])(inputs)
    model = keras.Model(inputs, product)
    X = np.random.default_rng(1).normal(size=(60, 2))
    result = sensitivity_importance(model, X, baselines="zeros")
    half = X[:, 0] * X[:, 1] / 2
    np.testing.assert_allclose(result.attributions, np.stack([half, half], axis=1), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(result.importances_mean, [np.abs(half).mean()] * 2, rtol=1e-5)


def test_the_gauss_legendre_rule_integrates_a_polynomial_of_its_degree_exactly():
    nodes, weights = gauss_legendre(4)
    assert np.all((nodes > 0) & (nodes < 1)) and weights.sum() == pytest.approx(1.0, abs=1e-15)
    assert float(weights @ nodes ** 7) == pytest.approx(1 / 8, rel=1e-13)


def test_completeness_holds_within_the_documented_tolerance_at_the_default_steps(keras):
    """A ReLU network's kinks are the hard case for the quadrature (a smooth LSTM is within 1e-6)."""
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((30, 5)), keras.layers.Flatten(), keras.layers.Dense(64, activation="relu"),
                              keras.layers.Dense(64, activation="relu"), keras.layers.Dense(1)])
    X = np.random.default_rng(1).normal(size=(200, 30, 5))
    result = sensitivity_importance(model, X)
    assert result.settings["n_steps"] == N_STEPS
    change = np.abs(model.predict(X, verbose=0)[:, 0] - model.predict(X.mean(axis=0, keepdims=True), verbose=0)[0, 0])
    assert np.abs(result.convergence_delta).mean() <= COMPLETENESS_TOLERANCE * change.mean()
    coarse = sensitivity_importance(model, X, n_steps=2)
    assert np.abs(coarse.convergence_delta).mean() > 2 * COMPLETENESS_TOLERANCE * change.mean()


def test_with_y_the_per_row_squared_error_is_attributed_and_adds_up_to_its_change(keras, X):
    model = _linear(keras)
    y = np.random.default_rng(2).normal(size=len(X))
    result = sensitivity_importance(model, X, y)
    assert result.settings["loss"] == "mse"
    x = X.astype(np.float64)
    prediction = (x * WEIGHTS).sum(axis=(1, 2))
    start = (x.mean(axis=0) * WEIGHTS).sum()
    loss_change = (prediction - y) ** 2 - (start - y) ** 2
    np.testing.assert_allclose(result.attributions.sum(axis=(1, 2)), loss_change, rtol=1e-4, atol=1e-4)
    # the squared error is quadratic along the path: the rule is exact, so is each cell's share
    expected = 2 * ((start + prediction) / 2 - y)[:, None, None] * WEIGHTS * (x - x.mean(axis=0))
    np.testing.assert_allclose(result.attributions, expected, rtol=1e-4, atol=1e-4)


def test_the_same_numbers_for_any_batch_size_and_executor(keras, X):
    keras.utils.set_random_seed(2)
    model = keras.Sequential([keras.Input((3, 4)), keras.layers.LSTM(6), keras.layers.Dense(2)])
    base = sensitivity_importance(model, X, by="timestep", n_steps=8)
    small = sensitivity_importance(model, X, by="timestep", n_steps=8, batch_size=20)
    with ThreadPoolExecutor(2) as pool:
        remote = sensitivity_importance(model, X, by="timestep", n_steps=8, executor=pool)
    # "spawn": a forked child of a process that has started TensorFlow's threads may hang
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
        processes = sensitivity_importance(model, X, by="timestep", n_steps=8, executor=pool, task_size=1)
    np.testing.assert_array_equal(processes.attributions, remote.attributions)  # the same tasks, the same calls
    for other in (small, remote):
        np.testing.assert_allclose(other.importances_mean, base.importances_mean, rtol=1e-4, atol=1e-7)
        np.testing.assert_allclose(other.attributions, base.attributions, rtol=1e-3, atol=1e-6)


def test_tf_keras_and_keras_3_give_the_same_attributions(keras, keras2, X):
    tf_keras = keras2  # tf-keras beside Keras 3 (under TensorFlow 2.15, Keras 2 itself)
    keras.utils.set_random_seed(4)
    new = keras.Sequential([keras.Input((3, 4)), keras.layers.LSTM(5), keras.layers.Dense(1)])
    old = tf_keras.Sequential([tf_keras.layers.InputLayer((3, 4)), tf_keras.layers.LSTM(5), tf_keras.layers.Dense(1)])
    old.set_weights(new.get_weights())
    a = sensitivity_importance(new, X, by="cell", n_steps=8)
    b = sensitivity_importance(old, X, by="cell", n_steps=8)
    np.testing.assert_allclose(b.attributions, a.attributions, rtol=1e-3, atol=1e-6)
    np.testing.assert_allclose(b.importances_mean, a.importances_mean, rtol=1e-3)


def test_padded_steps_stay_at_the_mask_value_and_get_nothing(keras):
    keras.utils.set_random_seed(1)
    model = keras.Sequential([keras.Input((5, 2)), keras.layers.Masking(mask_value=0.0), keras.layers.GRU(4),
                              keras.layers.Dense(1)])
    X = np.random.default_rng(2).normal(size=(40, 5, 2))
    X[:20, :2] = 0.0  # the first 20 rows are padded at their first two steps
    result = sensitivity_importance(model, X, by="cell", n_steps=16)
    assert result.settings["mask_value"] == {"input": 0.0} or result.settings["mask_value"]
    assert np.all(result.attributions[:20, :2] == 0.0)
    change = np.abs(model.predict(X, verbose=0)[:, 0]).mean()
    assert np.abs(result.convergence_delta).mean() < 1e-3 * change


def test_several_inputs_and_per_output_give_one_map_per_input_and_a_column_per_output(keras):
    sequence, static = keras.Input((4, 2), name="seq"), keras.Input((3,), name="static")
    joined = keras.layers.Concatenate()([keras.layers.Flatten()(sequence), static])
    model = keras.Model([sequence, static], keras.layers.Dense(2, use_bias=False)(joined))
    weights = np.random.default_rng(3).normal(size=(11, 2))
    model.set_weights([weights])
    rng = np.random.default_rng(4)
    X = [rng.normal(size=(50, 4, 2)), rng.normal(size=(50, 3))]
    result = sensitivity_importance(model, X, per_output=True, baselines="zeros")
    maps = result.attributions
    assert maps["seq"].shape == (50, 4, 2, 2) and maps["static"].shape == (50, 3, 2)
    np.testing.assert_allclose(maps["static"][:, :, 1], X[1] * weights[8:, 1], rtol=1e-5, atol=1e-6)
    assert result.importances_mean.shape == (5, 2)
    # without per_output an output's value is the mean over its columns, as the prediction change's
    pooled = sensitivity_importance(model, X, baselines="zeros")
    np.testing.assert_allclose(pooled.importances_mean, result.importances_mean.mean(axis=1), rtol=1e-5)


def test_a_model_without_gradients_is_refused_naming_perturbation_importance(X):
    with pytest.raises(TypeError, match="needs the model's gradients, got a function.*perturbation_importance"):
        sensitivity_importance(lambda x: x[:, 0, 0], X)

    class PredictOnly:
        def predict(self, x):
            return x[:, 0, 0]

    with pytest.raises(TypeError, match="got PredictOnly \\(predictions only\\).*perturbation_importance"):
        sensitivity_importance(PredictOnly(), X)


def test_a_keras_model_on_a_backend_without_gradients_is_refused(keras, X, monkeypatch):
    from pyimportance.sensitivity.gradients import backend_of

    model = _linear(keras)
    assert backend_of(model) == keras.backend.backend()  # tensorflow here, jax with KERAS_BACKEND=jax
    monkeypatch.setattr(keras.backend, "backend", lambda: "numpy")
    with pytest.raises(TypeError, match="on the numpy backend \\(no gradients\\)"):
        backend_of(model)


def test_the_repeats_interval_and_a_score_are_refused(keras, X):
    with pytest.raises(ValueError, match="has no repeats"):
        sensitivity_importance(_linear(keras), X, ci="repeats")
    with pytest.raises(ValueError, match="needs a differentiable loss, got loss \\(accuracy\\)"):
        probability = keras.Sequential([_linear(keras), keras.layers.Activation("sigmoid")])
        sensitivity_importance(probability, X, (X[:, 0, 0] > 0).astype(int), loss="accuracy")


def test_an_integer_input_is_refused_as_it_has_no_gradient(keras):
    tokens = keras.Input((5,), dtype="int32", name="tokens")
    model = keras.Model(tokens, keras.layers.Dense(1)(keras.layers.Flatten()(keras.layers.Embedding(10, 2)(tokens))))
    X = np.random.default_rng(0).integers(0, 10, size=(30, 5))
    with pytest.raises(ValueError, match="'tokens' takes integers .* refuses them .* perturbation_importance"):
        sensitivity_importance(model, X)


def test_attribution_rows_keeps_those_rows_and_plot_attributions_draws_one(keras, X):
    result = sensitivity_importance(_linear(keras), X, attribution_rows=[3, 7])
    assert result.attribution_rows.tolist() == [3, 7] and result.attributions.shape == (2, 3, 4)
    figure = result.plot_attributions(row=7)
    assert figure.axes[0].get_title() == "Attributions of row 7"
    with pytest.raises(ValueError, match="row must be one of the rows whose maps are kept"):
        result.plot_attributions(row=5)
    with pytest.raises(ValueError, match="attribution_rows must name evaluated rows"):
        sensitivity_importance(_linear(keras), X, attribution_rows=[500])


def test_with_tolerance_the_rows_are_taken_in_blocks_until_the_interval_is_narrow(keras):
    X = np.random.default_rng(5).normal(size=(3000, 3, 4)).astype(np.float32)
    result = sensitivity_importance(_linear(keras), X, tolerance=0.2, random_state=0, progress=False)
    assert result.converged and result.n_rows_used == 2000  # decided after the second block of 1,000 rows
    assert np.isnan(result.convergence_delta).sum() == 1000  # the rows never evaluated


def test_a_keras_loss_is_differentiated_through_its_per_row_values_and_adds_up(keras, X):
    """binary crossentropy of a logistic model: the attributions add up to each row's loss change."""
    probability = keras.Sequential([_linear(keras), keras.layers.Activation("sigmoid")])
    y = (np.random.default_rng(6).random(len(X)) < 0.5).astype(int)
    result = sensitivity_importance(probability, X, y, loss="binary_crossentropy", baselines="zeros", progress=True)
    p = 1 / (1 + np.exp(-(X.astype(np.float64) * WEIGHTS).sum(axis=(1, 2))))
    loss = -(y * np.log(p) + (1 - y) * np.log(1 - p))
    np.testing.assert_allclose(result.attributions.sum(axis=(1, 2)), loss - np.log(2), rtol=1e-3, atol=1e-4)
    assert np.abs(result.convergence_delta).max() < 1e-4


def test_maps_over_the_byte_cap_are_not_kept_and_the_error_says_why(keras, X, monkeypatch):
    from pyimportance.sensitivity import sensitivity_recipe

    monkeypatch.setattr(sensitivity_recipe, "MAX_ATTRIBUTION_BYTES", 8 * 12 * 100)  # 100 rows of 12 cells
    result = sensitivity_importance(_linear(keras), X)
    with pytest.raises(ValueError, match="120 rows x 12 cells would take .* name the rows to keep with "
                                         "attribution_rows, or evaluate fewer rows \\(max_samples\\)"):
        _ = result.attributions
    assert np.isfinite(result.importances_mean).all()  # the importances do not need the maps
    with pytest.raises(ValueError, match="attribution_rows names 101 rows, whose maps would take more than"):
        sensitivity_importance(_linear(keras), X, attribution_rows=list(range(101)))


def test_a_model_on_a_dict_of_inputs_gets_its_maps_by_input_name(keras):
    first, second = keras.Input((3, 2), name="first"), keras.Input((3, 1), name="second")
    joined = keras.layers.Concatenate()([keras.layers.Flatten()(first), keras.layers.Flatten()(second)])
    model = keras.Model({"first": first, "second": second}, keras.layers.Dense(1, use_bias=False)(joined))
    weights = np.arange(1.0, 10.0)
    model.set_weights([weights.reshape(9, 1)])
    rng = np.random.default_rng(7)
    X = {"first": rng.normal(size=(40, 3, 2)), "second": rng.normal(size=(40, 3, 1))}
    result = sensitivity_importance(model, X, baselines="zeros", by="cell")
    np.testing.assert_allclose(result.attributions["first"], X["first"] * weights[:6].reshape(3, 2), rtol=1e-5)
    np.testing.assert_allclose(result.attributions["second"], X["second"] * weights[6:].reshape(3, 1), rtol=1e-5)


def test_the_plots_name_the_method(keras, X):
    cells = sensitivity_importance(_linear(keras), X, by="cell")
    figure = cells.plot()
    assert any("mean |integrated gradients| of the prediction" in axis.get_ylabel() for axis in figure.axes)
    bars = sensitivity_importance(_linear(keras), X, method="derivative").plot()
    assert "Sensitivity importance (derivative measure, DGSM)" in bars.axes[0].get_title()


def test_two_heads_with_a_target_each_attribute_each_heads_loss(keras, X):
    inputs = keras.Input((3, 4))
    flat = keras.layers.Flatten()(inputs)
    first = keras.layers.Dense(1, use_bias=False, name="first")(flat)
    second = keras.layers.Dense(1, use_bias=False, name="second")(flat)
    model = keras.Model(inputs, [first, second])
    rng = np.random.default_rng(8)
    w1, w2 = rng.normal(size=12), rng.normal(size=12)
    model.get_layer("first").set_weights([w1.reshape(12, 1)])
    model.get_layer("second").set_weights([w2.reshape(12, 1)])
    y = [rng.normal(size=len(X)), rng.normal(size=len(X))]
    result = sensitivity_importance(model, X, y, per_output=True, baselines="zeros")
    assert result.output == ["first", "second"]
    flat_x = X.reshape(len(X), -1).astype(np.float64)
    for k, (w, target) in enumerate(zip((w1, w2), y)):
        change = (flat_x @ w - target) ** 2 - target ** 2  # squared error at x minus at the zero row
        np.testing.assert_allclose(result.attributions[..., k].sum(axis=(1, 2)), change, rtol=1e-3, atol=1e-3)
    together = sensitivity_importance(model, X, y, baselines="zeros")  # the heads' losses summed, as Keras sums them
    np.testing.assert_allclose(together.attributions, result.attributions.sum(axis=-1), rtol=1e-4, atol=1e-4)


def test_sample_weight_is_the_weighted_mean_and_integer_weights_repeat_rows(keras, X):
    weights = np.random.default_rng(3).integers(0, 4, size=len(X)).astype(float)
    weights[0] = 2.0
    model = _linear(keras)
    weighted = sensitivity_importance(model, X, baselines="zeros", sample_weight=weights)
    repeated = sensitivity_importance(model, np.repeat(X, weights.astype(int), axis=0), baselines="zeros")
    cells = np.abs((WEIGHTS * X.astype(np.float64)).sum(axis=1))  # (rows, features): |w x| summed over steps
    np.testing.assert_allclose(weighted.importances_mean, weights @ cells / weights.sum(), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(weighted.importances_mean, repeated.importances_mean, rtol=1e-5, atol=1e-7)
    # the data interval of a weighted mean (ratio estimator): wider than without weights' spread would suggest,
    # centred on the estimate, and the same whether the weights are scaled
    scaled = sensitivity_importance(model, X, baselines="zeros", sample_weight=weights * 10)
    np.testing.assert_allclose(scaled.ci_low, weighted.ci_low, rtol=1e-6)
    assert np.all(weighted.ci_low[[0, 1, 3]] < weighted.importances_mean[[0, 1, 3]])
    assert np.all(weighted.ci_high[[0, 1, 3]] > weighted.importances_mean[[0, 1, 3]])


def test_with_y_and_weights_the_baseline_loss_is_the_weighted_mean(keras, X):
    weights = np.random.default_rng(5).uniform(0.1, 3.0, size=len(X))
    y = X[:, -1, 0].astype(np.float64)
    model = _linear(keras)
    result = sensitivity_importance(model, X, y, baselines="zeros", sample_weight=weights)
    errors = (np.asarray(model(X)).reshape(-1).astype(np.float64) - y) ** 2
    assert result.baseline_score == pytest.approx(weights @ errors / weights.sum(), rel=1e-5)
    assert result.baseline_score != pytest.approx(errors.mean(), rel=1e-3)  # not the unweighted mean
