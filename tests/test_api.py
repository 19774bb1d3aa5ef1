"""perturbation_importance end to end: every method, granularity and task type; options; determinism; the
caller's data never written, by the run or by a custom method working in place; and every bad input refused
with a clear error that names the argument, the expectation and the value given, before or during the run.
"""

from __future__ import annotations

import re

import helpers
import numpy as np
import pandas as pd
import pytest
from helpers import SMALL_F, SMALL_N, SMALL_T, seq_data, seq_model, small_data, sum_model

from pyimportance import ModelFailedError, ModelOutputError, perturbation_importance
from pyimportance.data.seeding import root_seed, subsample_rng

METHODS = ["gaussian", "uniform", "permute", "resample", "zero", "mean"]
BYS = ["feature", "timestep", "cell", "groups"]
N_SAMPLES, N_TIMESTEPS, N_FEATURES = 30, 4, 3


# Tiny models that use x1 and x2 at time steps 1..3 and ignore x3 and time step 0 entirely.
def _score(X):
    return X[:, 1:, 0].sum(axis=1) - 0.7 * X[:, 1:, 1].sum(axis=1)


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def regression_model(X):
    return _score(X)


def binary_model(X):
    return _sigmoid(_score(X))[:, None]


def multiclass_model(X):
    logits = np.stack([_score(X), -_score(X), 0.5 * X[:, 2, 1]], axis=1)
    exp = np.exp(logits - logits.max(axis=1, keepdims=True))
    return exp / exp.sum(axis=1, keepdims=True)


def multioutput_model(X):
    return np.stack([_score(X), X[:, -1, 1] ** 2], axis=1)


def _task(kind, X):
    """(model, y, loss) for one task kind; y drawn from the model so the baseline is sensible."""
    rng = np.random.default_rng(5)
    if kind == "regression":
        return regression_model, regression_model(X) + rng.normal(0, 0.1, len(X)), "mse"
    if kind == "binary":
        return binary_model, (rng.random(len(X)) < binary_model(X)[:, 0]).astype(int), "log_loss"
    if kind == "multiclass":
        p = multiclass_model(X)
        return multiclass_model, np.array([rng.choice(3, p=row) for row in p]), "categorical_crossentropy"
    return multioutput_model, multioutput_model(X) + rng.normal(0, 0.1, (len(X), 2)), "mse"


@pytest.fixture
def small_X():
    return np.random.default_rng(1).normal(size=(N_SAMPLES, N_TIMESTEPS, N_FEATURES))


# ---------------------------------------------------------------- the matrix of cases


@pytest.mark.parametrize("kind", ["regression", "binary", "multiclass", "multioutput"])
@pytest.mark.parametrize("by", BYS)
@pytest.mark.parametrize("method", METHODS)
def test_every_method_by_and_task_finds_the_used_inputs(small_X, method, by, kind):
    model, y, loss = _task(kind, small_X)
    options = {"groups": {"used": ["x1", "x2"], "unused": [2]}} if by == "groups" else {"by": by}
    result = perturbation_importance(
        model, small_X, y, method=method, loss=loss, n_repeats=2, random_state=0, **options
    )
    change = perturbation_importance(model, small_X, method=method, n_repeats=2, random_state=0, **options)
    assert result.importances.shape == change.importances.shape
    assert np.isfinite(result.importances).all()
    assert result.settings["loss"] == loss and change.settings["loss"] == "prediction_change"
    if by in ("feature", "groups"):
        unused = [result.feature.index("x3" if by == "feature" else "unused")]
        used = [result.feature.index("x1" if by == "feature" else "used")]
        assert result.timestep == [None] * len(result.feature)
    elif by == "timestep":
        assert result.feature == ["(all)"] * N_TIMESTEPS and result.timestep == list(range(N_TIMESTEPS))
        unused, used = [0], [N_TIMESTEPS - 1]
    else:
        assert result.feature == ["x1", "x2", "x3"] * N_TIMESTEPS
        assert result.timestep == [t for t in range(N_TIMESTEPS) for _ in range(N_FEATURES)]
        unused = [i for i, (f, t) in enumerate(zip(result.feature, result.timestep)) if f == "x3" or t == 0]
        used = [result.feature.index("x1") + N_FEATURES]  # x1 at time step 1
    np.testing.assert_array_equal(result.importances[unused], 0.0)
    np.testing.assert_array_equal(change.importances[unused], 0.0)
    assert (change.importances[used] > 0).all()
    assert (result.importances[used] != 0).all()


def test_regression_with_y_equal_to_the_model_makes_every_used_input_positive(small_X):
    result = perturbation_importance(regression_model, small_X, regression_model(small_X), n_repeats=2, random_state=0)
    assert result.baseline_score == 0.0
    np.testing.assert_array_equal(result.importances_mean > 0, [True, True, False])


def test_accuracy_is_a_score_whose_drop_is_the_importance(small_X):
    y = (binary_model(small_X)[:, 0] >= 0.5).astype(int)
    result = perturbation_importance(binary_model, small_X, y, loss="accuracy", method="zero", n_repeats=1)
    assert result.baseline_score == 1.0
    expected = 1.0 - np.mean((binary_model(np.where(np.arange(3) == 0, 0.0, small_X))[:, 0] >= 0.5) == y)
    assert result.importances_mean[0] == pytest.approx(expected)
    assert result.importances_mean[2] == 0.0


def test_one_hot_and_label_targets_give_the_same_cross_entropy(small_X):
    _, labels, _ = _task("multiclass", small_X)
    one_hot = np.eye(3)[labels]
    by_label = perturbation_importance(multiclass_model, small_X, labels, loss="log_loss", random_state=1)
    by_one_hot = perturbation_importance(multiclass_model, small_X, one_hot, loss="log_loss", random_state=1)
    np.testing.assert_array_equal(by_label.importances, by_one_hot.importances)
    assert by_label.baseline_score == pytest.approx(
        -np.mean(np.log(multiclass_model(small_X)[np.arange(N_SAMPLES), labels]))
    )


# ---------------------------------------------------------------- determinism and the caller's data


def _noise_model(X):
    # Arithmetic only (correctly rounded everywhere): transcendental functions may take other SIMD
    # paths for other array lengths on some CPUs, which a bit-for-bit test must not depend on.
    return (X[:, :, 0] * (1.0 - 0.2 * X[:, :, 0])).sum(axis=1) + X[:, -1, 1] * X[:, -2, 2]


@pytest.mark.parametrize("method", METHODS)
def test_results_are_bit_identical_across_batch_sizes_for_a_row_wise_numpy_model(small_X, method):
    results = [
        perturbation_importance(_noise_model, small_X, method=method, n_repeats=3, random_state=4, batch_size=size)
        for size in (1, 7, 64, 10_000, None)
    ]
    for other in results[1:]:
        np.testing.assert_array_equal(results[0].importances, other.importances)


@pytest.mark.keras
@pytest.mark.parametrize("by", ["feature", "cell"])
def test_keras_results_are_bit_identical_for_the_same_settings(trained_lstm, ground_truth_data, by):
    X, y = ground_truth_data[2][:30], ground_truth_data[3][:30]
    for batch_size in (7, None):
        first, second = (
            perturbation_importance(trained_lstm, X, y, by=by, n_repeats=2, random_state=4, batch_size=batch_size)
            for _ in range(2)
        )
        np.testing.assert_array_equal(first.importances, second.importances)
        assert first.baseline_score == second.baseline_score


# What README promises across batch sizes for float32 Keras models: agreement to float32 rounding
# of the model's outputs, within this fraction of the loss' scale (measured differences: ~1e-8).
BATCH_SIZE_TOLERANCE = 1e-5


@pytest.mark.keras
@pytest.mark.parametrize("by", ["feature", "cell"])
def test_keras_results_across_batch_sizes_agree_to_float32_rounding(trained_lstm, ground_truth_data, by):
    X, y = ground_truth_data[2][:30], ground_truth_data[3][:30]
    results = [
        perturbation_importance(trained_lstm, X, y, by=by, n_repeats=2, random_state=4, batch_size=size)
        for size in (1, 2, 7, 64, 10_000, None)
    ]
    reference = results[0]
    scale = max(abs(reference.baseline_score), float(np.abs(reference.importances).max()))
    for other in results[1:]:
        np.testing.assert_allclose(other.importances, reference.importances, rtol=0, atol=BATCH_SIZE_TOLERANCE * scale)
        assert abs(other.baseline_score - reference.baseline_score) <= BATCH_SIZE_TOLERANCE * scale


def test_same_random_state_same_result_different_random_state_different_result(small_X):
    def run(random_state):
        return perturbation_importance(_noise_model, small_X, n_repeats=3, random_state=random_state).importances

    np.testing.assert_array_equal(run(8), run(8))
    np.testing.assert_array_equal(run(np.random.SeedSequence(8)), run(8))
    np.testing.assert_array_equal(run(np.random.default_rng(3)), run(np.random.default_rng(3)))
    assert not np.array_equal(run(8), run(9))
    assert not np.array_equal(run(None), run(None))


@pytest.mark.parametrize("method", ["gaussian", "uniform", "permute", "resample"])
def test_every_repeat_and_every_unit_draws_its_own_randomness(method):
    X = np.random.default_rng(2).normal(size=(N_SAMPLES, N_TIMESTEPS, 2))
    X[:, :, 1] = X[:, :, 0]  # two identical features, the model symmetric in them

    def model(X):
        return np.tanh(X[:, :, 0]).sum(axis=1) + np.tanh(X[:, :, 1]).sum(axis=1)

    importances = perturbation_importance(model, X, method=method, n_repeats=3, random_state=0).importances
    assert len(set(importances.ravel().tolist())) == importances.size


def test_the_callers_X_and_y_are_left_unchanged(small_X):
    y = regression_model(small_X)
    X_copy, y_copy = small_X.copy(), y.copy()
    for method in METHODS:
        perturbation_importance(regression_model, small_X, y, method=method, by="cell", n_repeats=2)
    np.testing.assert_array_equal(small_X, X_copy)
    np.testing.assert_array_equal(y, y_copy)


def test_read_only_X_and_y_are_accepted(small_X):
    y = regression_model(small_X)
    small_X.setflags(write=False)
    y.setflags(write=False)
    writable = perturbation_importance(regression_model, small_X.copy(), y.copy(), random_state=2)
    read_only = perturbation_importance(regression_model, small_X, y, random_state=2)
    np.testing.assert_array_equal(writable.importances, read_only.importances)


def test_the_model_never_sees_the_callers_array(small_X):
    seen = []

    def model(X):
        seen.append(X)
        return X[:, -1, 0]

    perturbation_importance(model, small_X, n_repeats=1)
    assert all(not np.shares_memory(chunk, small_X) for chunk in seen)


def _shuffle_in_place(values, rng):
    rng.shuffle(values)  # the natural thing to write: it works in place
    return values


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("order", ["C", "F"])
def test_an_in_place_custom_method_never_changes_the_callers_array(dtype, order):
    X = np.asarray(seq_data(dtype), order=order)
    before = X.copy()
    result = perturbation_importance(seq_model, X, method=_shuffle_in_place, n_repeats=3, random_state=0)
    np.testing.assert_array_equal(X, before)
    assert result.importances_mean[2] == 0.0  # later jobs saw the original values: x3 stays unused


def test_an_in_place_custom_method_works_on_read_only_X():
    X = seq_data()
    X.flags.writeable = False
    result = perturbation_importance(seq_model, X, method=_shuffle_in_place, n_repeats=2, random_state=0)
    assert result.importances_mean[0] > 0


def test_an_in_place_custom_method_never_changes_a_dataframe():
    frame = pd.DataFrame(seq_data()[:, -1, :], columns=["a", "b", "c"])
    before = frame.copy()
    perturbation_importance(lambda x: x[:, 0] - x[:, 1], frame, method=_shuffle_in_place, random_state=0)
    pd.testing.assert_frame_equal(frame, before)


def test_an_in_place_custom_method_never_changes_a_memory_mapped_file(tmp_path):
    path = tmp_path / "X.npy"
    np.save(path, seq_data())
    on_disk = np.load(path, mmap_mode="r+")
    perturbation_importance(seq_model, on_disk, method=_shuffle_in_place, n_repeats=2, random_state=0)
    del on_disk
    np.testing.assert_array_equal(np.load(path), seq_data())


# ---------------------------------------------------------------- Keras models of every kind


@pytest.mark.keras
def test_keras_sigmoid_classifier_with_log_loss_and_accuracy(keras, small_X):
    keras.utils.set_random_seed(1)
    model = keras.Sequential(
        [keras.Input((N_TIMESTEPS, N_FEATURES)), keras.layers.LSTM(4), keras.layers.Dense(1, activation="sigmoid")]
    )
    X = small_X.astype(np.float32)
    y = (X[:, -1, 0] > 0).astype(int)
    probability = model.predict(X, verbose=0).astype(np.float64)
    result = perturbation_importance(model, X, y, loss="log_loss", n_repeats=2, random_state=0)
    expected = -np.mean(y * np.log(probability[:, 0]) + (1 - y) * np.log(1 - probability[:, 0]))
    assert result.baseline_score == pytest.approx(expected, rel=1e-5)
    accuracy = perturbation_importance(model, X, y, loss="accuracy", method="permute", n_repeats=2, random_state=0)
    assert accuracy.baseline_score == pytest.approx(np.mean((probability[:, 0] >= 0.5) == y))
    assert accuracy.settings["loss"] == "accuracy"


@pytest.mark.keras
def test_keras_softmax_classifier_with_categorical_crossentropy(keras, small_X):
    keras.utils.set_random_seed(2)
    model = keras.Sequential(
        [keras.Input((N_TIMESTEPS, N_FEATURES)), keras.layers.GRU(4), keras.layers.Dense(3, activation="softmax")]
    )
    X = small_X.astype(np.float32)
    labels = np.arange(N_SAMPLES) % 3
    result = perturbation_importance(model, X, labels, loss="categorical_crossentropy", by="cell", n_repeats=2)
    probability = model.predict(X, verbose=0).astype(np.float64)
    expected = -np.mean(np.log(probability[np.arange(N_SAMPLES), labels]))
    assert result.baseline_score == pytest.approx(expected, rel=1e-5)
    assert result.importances.shape == (N_TIMESTEPS * N_FEATURES, 2)
    keras_loss = float(keras.losses.SparseCategoricalCrossentropy()(labels, probability))
    assert result.baseline_score == pytest.approx(keras_loss, rel=1e-4)


@pytest.mark.keras
def test_keras_two_output_regression(keras, small_X):
    keras.utils.set_random_seed(3)
    model = keras.Sequential([keras.Input((N_TIMESTEPS, N_FEATURES)), keras.layers.LSTM(4), keras.layers.Dense(2)])
    X = small_X.astype(np.float32)
    y = np.stack([X[:, -1, 0], X[:, -1, 1]], axis=1)
    result = perturbation_importance(model, X, y, loss="mae", by="timestep", n_repeats=2, random_state=0)
    predictions = model.predict(X, verbose=0)
    assert result.baseline_score == pytest.approx(np.mean(np.abs(predictions - y)), rel=1e-5)
    assert result.timestep == list(range(N_TIMESTEPS))


@pytest.mark.keras
def test_keras_functional_model_with_two_output_heads(keras, small_X):
    keras.utils.set_random_seed(4)
    inputs = keras.Input((N_TIMESTEPS, N_FEATURES))
    hidden = keras.layers.LSTM(4)(inputs)
    model = keras.Model(inputs, [keras.layers.Dense(1)(hidden), keras.layers.Dense(2)(hidden)])
    X = small_X.astype(np.float32)
    y = np.zeros((N_SAMPLES, 3))
    result = perturbation_importance(model, X, y, method="zero", n_repeats=1)
    first, second = model.predict(X, verbose=0)
    predictions = np.concatenate([first, second], axis=1)
    assert result.baseline_score == pytest.approx(np.mean(predictions.astype(np.float64) ** 2), rel=1e-5)
    zeroed = X.copy()
    zeroed[:, :, 0] = 0.0
    perturbed = np.concatenate(model.predict(zeroed, verbose=0), axis=1).astype(np.float64)
    expected = np.mean(perturbed**2) - np.mean(predictions.astype(np.float64) ** 2)
    assert result.importances_mean[0] == pytest.approx(expected, rel=1e-4, abs=1e-7)


@pytest.mark.keras
def test_a_keras_2_model_takes_the_compiled_fast_path(keras2, small_X):
    from pyimportance.model.predict import PredictFunction

    keras2.utils.set_random_seed(5)
    model = keras2.Sequential(
        [keras2.layers.LSTM(4, input_shape=(N_TIMESTEPS, N_FEATURES)), keras2.layers.Dense(1)]
    )
    predict = PredictFunction(model, batch_rows=16)
    assert predict._forward != predict._call_generic
    assert predict.dtype == np.float32
    X = small_X.astype(np.float32)
    result = perturbation_importance(model, X, method="zero", n_repeats=1)
    baseline = model.predict(X, verbose=0)
    for feature in range(N_FEATURES):
        zeroed = X.copy()
        zeroed[:, :, feature] = 0.0
        expected = np.mean(np.abs(model.predict(zeroed, verbose=0) - baseline))
        assert result.importances_mean[feature] == pytest.approx(expected, rel=1e-4, abs=1e-7)


# ---------------------------------------------------------------- input forms and options


def test_2d_X_is_passed_to_the_model_as_2d(small_X):
    X = small_X[:, -1, :]
    shapes = set()

    def model(chunk):
        shapes.add(chunk.ndim)
        return chunk @ np.array([1.0, 0.0, 2.0])

    result = perturbation_importance(model, X, method="zero", n_repeats=1)
    assert shapes == {2}
    np.testing.assert_allclose(result.importances_mean, [np.abs(X[:, 0]).mean(), 0.0, 2 * np.abs(X[:, 2]).mean()])
    assert result.timestep == [None, None, None]


def test_2d_X_rejects_by_timestep(small_X):
    with pytest.raises(ValueError) as error:
        perturbation_importance(lambda x: x[:, 0], small_X[:, 0, :], by="timestep")
    assert str(error.value) == "by='timestep' needs 3D X (n_samples, n_timesteps, n_features), got 2D X"


def test_dataframe_X_takes_its_column_names(small_X):
    frame = pd.DataFrame(small_X[:, -1, :], columns=["price", "volume", "noise"])
    result = perturbation_importance(lambda x: x[:, 0] + x[:, 1], frame, method="zero", n_repeats=1)
    assert result.feature == ["price", "volume", "noise"]
    assert result.importances_mean[2] == 0.0
    assert result.settings["feature_names"] == ["price", "volume", "noise"]


def test_feature_names_label_the_units(small_X):
    result = perturbation_importance(_noise_model, small_X, feature_names=["a", "b", "c"], by="cell", n_repeats=1)
    assert result.feature[:3] == ["a", "b", "c"]
    assert set(result.to_frame()["feature"]) == {"a", "b", "c"}


def test_groups_by_name_and_by_index_give_the_same_result(small_X):
    by_name = perturbation_importance(_noise_model, small_X, groups={"g1": ["x1", "x3"], "g2": "x2"}, random_state=1)
    by_index = perturbation_importance(_noise_model, small_X, groups={"g1": [0, 2], "g2": 1}, random_state=1)
    np.testing.assert_array_equal(by_name.importances, by_index.importances)
    assert by_name.feature == ["g1", "g2"]
    assert by_name.settings["groups"] == {"g1": ["x1", "x3"], "g2": ["x2"]}


def test_a_group_is_perturbed_together(small_X):
    def model(X):
        return X[:, -1, 0] * X[:, -1, 2]

    result = perturbation_importance(model, small_X, method="zero", groups={"both": ["x1", "x3"]}, n_repeats=1)
    assert result.importances_mean[0] == pytest.approx(np.abs(model(small_X)).mean())


def _recording_model(seen):
    def model(X):
        seen.append(np.array(X))
        return X[:, -1, 0]

    return model


@pytest.mark.parametrize("max_samples, expected_rows", [(12, 12), (0.25, 8), (1.0, N_SAMPLES), (5.0, 5)])
def test_max_samples_evaluates_a_deterministic_subset_in_order(small_X, max_samples, expected_rows):
    seen_first, seen_second = [], []
    first = perturbation_importance(
        _recording_model(seen_first), small_X, method="zero", max_samples=max_samples, random_state=6, batch_size=10**6
    )
    perturbation_importance(
        _recording_model(seen_second), small_X, method="zero", max_samples=max_samples, random_state=6, batch_size=10**6
    )
    assert first.settings["n_samples"] == expected_rows
    baseline = seen_first[0][:expected_rows]
    np.testing.assert_array_equal(baseline, seen_second[0][:expected_rows])
    rows = [int(np.flatnonzero((small_X == row).all(axis=(1, 2)))[0]) for row in baseline]
    assert rows == sorted(rows) and len(set(rows)) == expected_rows
    if expected_rows < N_SAMPLES:
        expected = np.sort(subsample_rng(root_seed(6)).choice(N_SAMPLES, expected_rows, replace=False))
        assert rows == expected.tolist()


def test_max_samples_with_y_keeps_the_matching_targets(small_X):
    y = regression_model(small_X)
    result = perturbation_importance(regression_model, small_X, y, max_samples=10, random_state=0)
    assert result.baseline_score == 0.0  # y rows follow X rows


def test_different_random_states_choose_different_subsets(small_X):
    def rows(random_state):
        seen = []
        perturbation_importance(
            _recording_model(seen), small_X, method="zero", max_samples=10, random_state=random_state
        )
        return seen[0][:10]

    assert not np.array_equal(rows(1), rows(2))


def test_custom_method_callable_gets_the_units_values_and_a_generator(small_X):
    calls = []

    def negate(values, rng):
        calls.append((values.shape, type(rng)))
        return -values

    result = perturbation_importance(lambda x: x[:, -1, 0], small_X, method=negate, by="cell", n_repeats=2)
    assert calls[0] == ((N_SAMPLES, 1, 1), np.random.Generator)
    assert len(calls) == N_TIMESTEPS * N_FEATURES * 2
    assert result.settings["method"] == "negate" and result.settings["scale"] is None
    assert result.importances_mean[-3] == pytest.approx(2 * np.abs(small_X[:, -1, 0]).mean())


def test_custom_loss_callable(small_X):
    def max_error(y_true, y_pred):
        assert y_true.shape == y_pred.shape == (N_SAMPLES,)  # 1D y meets 1D predictions
        return np.max(np.abs(y_true - y_pred))

    y = regression_model(small_X) + 1.0
    result = perturbation_importance(regression_model, small_X, y, loss=max_error, method="zero", n_repeats=1)
    assert result.settings["loss"] == "max_error"
    assert result.baseline_score == pytest.approx(1.0)
    zeroed = small_X.copy()
    zeroed[:, :, 0] = 0.0
    assert result.importances_mean[0] == pytest.approx(np.max(np.abs(y - regression_model(zeroed))) - 1.0)


def test_progress_true_writes_a_tqdm_bar_and_false_writes_nothing(small_X, capfd):
    perturbation_importance(_noise_model, small_X, n_repeats=2, progress=True, batch_size=16)
    captured = capfd.readouterr()
    assert "pyimportance" in captured.err and "rows" in captured.err
    perturbation_importance(_noise_model, small_X, n_repeats=2, progress=False)
    captured = capfd.readouterr()
    assert captured.out == "" and captured.err == ""


def test_a_huge_batch_size_is_capped_at_the_rows_there_are():
    small = perturbation_importance(seq_model, seq_data(), batch_size=10**12, random_state=0)
    assert np.isfinite(small.importances).all()


def test_a_model_failing_mid_run_names_the_feature_and_repeat(small_X):
    calls = []

    def model(X):
        calls.append(1)
        if len(calls) > 5:  # the baseline twice (repeatability), the row-wise check, x1 repeats 1 and 2, then x2
            raise RuntimeError("out of memory")
        return X[:, -1, 0]

    with pytest.raises(ModelFailedError) as error:
        perturbation_importance(model, small_X, batch_size=N_SAMPLES, n_repeats=2)
    assert str(error.value) == "model failed while evaluating feature 'x2' (repeat 1 of 2): RuntimeError: out of memory"


def test_settings_record_the_run(small_X):
    result = perturbation_importance(_noise_model, small_X, method="uniform", scale=0.2, n_repeats=2, random_state=3)
    assert result.settings == {
        "estimator": "perturbation",
        "method": "uniform",
        "scale": 0.2,
        "relative_scale": True,
        "loss": "prediction_change",
        "by": "feature",
        "groups": None,
        "n_repeats": 2,
        "n_samples": N_SAMPLES,
        "random_state": 3,
        "feature_names": ["x1", "x2", "x3"],
        "inputs": ["input"],
        "ci": "data",
        "ci_note": None,
        "block_size_used": result.settings["block_size_used"],
        "tolerance": None,
        "per_output": False,
        "deterministic": False,
        "mask_value": None,
        "learner": None,
    }
    assert result.settings["block_size_used"] >= 1


@pytest.mark.parametrize("method", ["gaussian", "permute", "mean", "conditional"])
def test_results_do_not_depend_on_the_memory_layout_of_X_and_y(small_X, method):
    # R passes Fortran-ordered arrays: the numbers must be those of the same values in C order
    y = regression_model(small_X) + np.random.default_rng(9).normal(size=len(small_X))
    y2 = np.column_stack([y, -y])

    def two_columns(X):
        return np.column_stack([regression_model(X), -regression_model(X)])

    c_order = perturbation_importance(two_columns, small_X, y2, method=method, random_state=1)
    fortran = perturbation_importance(two_columns, np.asfortranarray(small_X), np.asfortranarray(y2), method=method,
                                      random_state=1)
    np.testing.assert_array_equal(fortran.importances, c_order.importances)
    np.testing.assert_array_equal(fortran.ci_low, c_order.ci_low)
    assert fortran.baseline_score == c_order.baseline_score


# ---------------------------------------------------------------- bad inputs


def _with(position: int, value):
    """Put ``value`` into X[position] (flat index) of a copy."""

    def make(X, y):
        X = X.copy()
        X.flat[position] = value
        return X

    return make


def _sigmoid_model(x):
    return 1.0 / (1.0 + np.exp(-sum_model(x)))


def _three_class_model(x):
    return np.full((len(x), 3), 1.0 / 3.0)


# Each case: (overrides, expected exception, exact message). ``overrides`` may replace the model,
# X or y (a value or a function of the base (X, y)) and add keyword arguments.
CASES = {
    # --- X ---
    "X 1D": (dict(X=lambda X, y: X[:, 0, 0]), ValueError,
             "X must be 2D (n_samples, n_features) or 3D (n_samples, n_timesteps, n_features), "
             "got an array of shape (12,)"),
    "X 4D": (dict(X=lambda X, y: X[..., None]), ValueError,
             "X must be 2D (n_samples, n_features) or 3D (n_samples, n_timesteps, n_features), "
             "got an array of shape (12, 4, 3, 1)"),
    "X scalar": (dict(X=3.0), ValueError,
                 "X must be 2D (n_samples, n_features) or 3D (n_samples, n_timesteps, n_features), "
                 "got an array of shape ()"),
    "X no rows": (dict(X=lambda X, y: X[:0], y=None), ValueError,
                  "X must not be empty, got an array of shape (0, 4, 3)"),
    "X no features": (dict(X=lambda X, y: X[:, :, :0]), ValueError,
                      "X must not be empty, got an array of shape (12, 4, 0)"),
    "X NaN": (dict(X=_with(5, np.nan)), ValueError,
              "X must not contain NaN or infinite values, got nan at X[0, 1, 2]; remove or impute them first"),
    "X inf": (dict(X=_with(SMALL_T * SMALL_F * 3, -np.inf)), ValueError,
              "X must not contain NaN or infinite values, got -inf at X[3, 0, 0]; remove or impute them first"),
    "X DataFrame with string column": (
        dict(X=lambda X, y: pd.DataFrame({"a": X[:, 0, 0], "b": ["u"] * SMALL_N, "c": X[:, 0, 1]})),
        TypeError, "X must contain only numeric columns, got non-numeric columns ['b']"),
    "X DataFrame with categorical column": (
        dict(X=lambda X, y: pd.DataFrame({"a": X[:, 0, 0], "kind": pd.Categorical(["u", "v"] * (SMALL_N // 2))})),
        TypeError, "X must contain only numeric columns, got non-numeric columns ['kind'] (['kind'] is a category: "
                   "pass the codes, e.g. X.assign(kind=X['kind'].cat.codes), and perturb them with method='permute')"),
    "X DataFrame with a missing value": (
        dict(X=lambda X, y: pd.DataFrame({"a": X[:, 0, 0], "n": pd.array([1, None] + [2] * (SMALL_N - 2),
                                                                           dtype="Int64")})),
        ValueError, "X must not contain NaN or infinite values, got nan at X[1, 1]; remove or impute them first"),
    "X object array": (dict(X=lambda X, y: X[:, 0, :].astype(object)), TypeError,
                       "X must be numeric, got an array of dtype object"),
    "X strings": (dict(X=lambda X, y: X[:, 0, :].astype(str).astype("U3")), TypeError,
                  "X must be numeric, got an array of dtype <U3"),
    "X None": (dict(X=None), TypeError, "X must be numeric, got an array of dtype object"),
    # --- y ---
    "y too short": (dict(y=lambda X, y: y[:5]), ValueError,
                    "y must have one row per sample of X (12), got 5 rows"),
    "y too long": (dict(y=lambda X, y: np.r_[y, y]), ValueError,
                   "y must have one row per sample of X (12), got 24 rows"),
    "y NaN": (dict(y=lambda X, y: np.r_[y[:4], np.nan, y[5:]]), ValueError,
              "y must not contain NaN or infinite values, got nan at y[4]"),
    "y inf": (dict(y=lambda X, y: np.r_[y[:-1], np.inf]), ValueError,
              "y must not contain NaN or infinite values, got inf at y[11]"),
    "y strings": (dict(y=np.array(["a"] * SMALL_N)), TypeError,
                  "y must be numeric (encode class labels as integers 0..K-1), got dtype <U1"),
    "y 3D for one output": (dict(y=np.zeros((SMALL_N, 2, 2))), ValueError,
                            "y must have one column per model output (1), got 4 column(s)"),
    "y 4D": (dict(y=np.zeros((SMALL_N, 1, 1, 1))), ValueError,
             "y must be 1D (n_samples,), 2D (n_samples, n_outputs) or 3D (n_samples, n_timesteps, n_outputs), "
             "got shape (12, 1, 1, 1)"),
    "y columns do not match outputs": (dict(y=np.zeros((SMALL_N, 2))), ValueError,
                                       "y must have one column per model output (1), got 2 column(s)"),
    # --- method / loss / by ---
    "unknown method": (dict(method="shuffle"), ValueError,
                       "method must be one of 'gaussian', 'uniform', 'permute', 'resample', 'conditional', 'zero' "
                       "or 'mean' or a callable (values, rng) -> values, got 'shuffle'"),
    "unknown loss": (dict(loss="r2"), ValueError,
                     "loss must be one of 'mse', 'rmse', 'mae', 'log_loss', 'binary_crossentropy', "
                     "'categorical_crossentropy' or 'accuracy' (or a Keras loss name such as 'mean_squared_error') "
                     "or a callable (y_true, y_pred) -> float, got 'r2'"),
    "unknown by": (dict(by="sample"), ValueError, "by must be one of 'feature', 'timestep' or 'cell', got 'sample'"),
    "by not a string": (dict(by=1), ValueError, "by must be one of 'feature', 'timestep' or 'cell', got 1"),
    "loss without y": (dict(y=None, loss="mse"), ValueError,
                       "loss='mse' needs y (the true targets); pass y or leave loss=None"),
    "by cell with 2D X": (dict(X=lambda X, y: X[:, 0, :], by="cell"), ValueError,
                          "by='cell' needs 3D X (n_samples, n_timesteps, n_features), got 2D X"),
    "by timestep with 2D X": (dict(X=lambda X, y: X[:, 0, :], by="timestep"), ValueError,
                              "by='timestep' needs 3D X (n_samples, n_timesteps, n_features), got 2D X"),
    # --- groups / feature names ---
    "group names unknown feature": (dict(groups={"g": ["x1", "speed"]}), ValueError,
                                    "groups['g'] names unknown feature 'speed'; known features: ['x1', 'x2', 'x3']"),
    "group lists a feature twice": (dict(groups={"g": ["x1", "x2", "x1"]}), ValueError,
                                    "groups['g'] lists a feature more than once: ['x1', 'x2', 'x1']"),
    "group index too large": (dict(groups={"g": [0, 3]}), ValueError,
                              "groups['g'] has feature index 3 out of range 0..2"),
    "group index negative": (dict(groups={"g": [-1]}), ValueError,
                             "groups['g'] has feature index -1 out of range 0..2"),
    "group empty": (dict(groups={"g": []}), ValueError,
                    "groups['g'] must name at least one feature, got an empty list"),
    "groups not a dict": (dict(groups=["x1"]), TypeError,
                          "groups must be a dict of {group name: [features]}, got list"),
    "groups empty dict": (dict(groups={}), ValueError, "groups must contain at least one group, got an empty dict"),
    "group member float": (dict(groups={"g": [1.5]}), TypeError,
                           "groups['g'] members must be feature names or integer indices, got 1.5"),
    "feature_names too short": (dict(feature_names=["a", "b"]), ValueError,
                                "feature_names must have one name per feature (3), got 2 names"),
    "feature_names duplicated": (dict(feature_names=["a", "b", "a"]), ValueError,
                                 "feature_names must be unique, got duplicates ['a']"),
    "feature_names not a sequence": (dict(feature_names=3), TypeError,
                                     "feature_names must be a sequence of strings, got 3"),
    # --- counts and scales ---
    "n_repeats zero": (dict(n_repeats=0), ValueError, "n_repeats must be a positive integer, got 0"),
    "n_repeats negative": (dict(n_repeats=-2), ValueError, "n_repeats must be a positive integer, got -2"),
    "n_repeats fractional": (dict(n_repeats=2.5), ValueError, "n_repeats must be a positive integer, got 2.5"),
    "n_repeats string": (dict(n_repeats="5"), TypeError, "n_repeats must be a positive integer, got str: '5'"),
    "n_repeats bool": (dict(n_repeats=True), TypeError, "n_repeats must be a positive integer, got True"),
    "scale zero": (dict(scale=0), ValueError, "scale must be a positive finite number, got 0"),
    "scale negative": (dict(scale=-0.5), ValueError, "scale must be a positive finite number, got -0.5"),
    "scale NaN": (dict(scale=float("nan")), ValueError, "scale must be a positive finite number, got nan"),
    "scale inf": (dict(scale=float("inf")), ValueError, "scale must be a positive finite number, got inf"),
    "scale string": (dict(scale="big"), TypeError, "scale must be a positive number, got str: 'big'"),
    "relative_scale string": (dict(relative_scale="yes"), TypeError,
                              "relative_scale must be True or False, got 'yes'"),
    "max_samples above n": (dict(max_samples=100), ValueError,
                            "max_samples must be at most the number of samples in X (12), got 100"),
    "max_samples zero": (dict(max_samples=0), ValueError, "max_samples must be a positive integer, got 0"),
    "max_samples zero fraction": (dict(max_samples=0.0), ValueError,
                                  "max_samples must be an int >= 1 or a fraction in (0, 1], got 0.0"),
    "max_samples fraction above 1": (dict(max_samples=1.5), ValueError,
                                     "max_samples must be an int >= 1 or a fraction in (0, 1], got 1.5"),
    "max_samples string": (dict(max_samples="all"), TypeError,
                           "max_samples must be a positive integer, got str: 'all'"),
    "batch_size zero": (dict(batch_size=0), ValueError, "batch_size must be a positive integer, got 0"),
    # --- wrong types ---
    "random_state string": (dict(random_state="abc"), TypeError,
                            "random_state must be None, an int >= 0, a numpy SeedSequence or Generator, "
                            "got str: 'abc'"),
    "random_state negative": (dict(random_state=-1), ValueError,
                              "random_state must be a non-negative integer, got -1"),
    "progress string": (dict(progress="yes"), TypeError, "progress must be True, False or None, got 'yes'"),
    "jit_compile string": (dict(jit_compile="maybe"), ValueError,
                           "jit_compile must be True, False or 'auto', got 'maybe'"),
    "model not callable": (dict(model=3), TypeError,
                           "model must be a Keras model, an object with a .predict(X) method or a callable "
                           "X -> predictions, got int"),
    # --- targets that do not fit the loss ---
    "binary loss with continuous y": (
        dict(model=_sigmoid_model, y=lambda X, y: np.linspace(-1.0, 1.0, SMALL_N), loss="binary_crossentropy"),
        ValueError,
        "loss='binary_crossentropy' needs y with classes 0/1, got values such as "
        f"{np.linspace(-1.0, 1.0, SMALL_N)[:5].tolist()} (continuous y: use loss='mse')"),
    "accuracy with continuous y": (
        dict(model=_sigmoid_model, y=lambda X, y: np.full(SMALL_N, 0.5), loss="accuracy"), ValueError,
        "loss='accuracy' needs y with classes 0/1, got values such as [0.5] (continuous y: use loss='mse')"),
    "labels out of range": (
        dict(model=_three_class_model, y=lambda X, y: np.arange(SMALL_N) % 5, loss="categorical_crossentropy"),
        ValueError,
        "loss='categorical_crossentropy' needs y as class labels 0..2 for a model with 3 outputs, "
        "got values such as [0.0, 1.0, 2.0, 3.0, 4.0]"),
    "fractional labels": (
        dict(model=_three_class_model, y=lambda X, y: np.full(SMALL_N, 0.5), loss="log_loss"), ValueError,
        "loss='log_loss' needs y as class labels 0..2 for a model with 3 outputs, got values such as [0.5]"),
    "one-hot y not 0/1": (
        dict(model=_three_class_model, y=lambda X, y: np.full((SMALL_N, 3), 0.2), loss="categorical_crossentropy"),
        ValueError, "loss='categorical_crossentropy' needs one-hot y (0/1 columns), got continuous values"),
    # --- models that return bad output on the unperturbed data ---
    "model returns too few rows": (dict(model=lambda x: sum_model(x)[:-1]), ModelOutputError,
                                   "model must return one prediction row per input row (12), "
                                   "got output of shape (11,)"),
    "model returns a scalar": (dict(model=lambda x: 1.0), ModelOutputError,
                               "model must return one prediction row per input row (12), got a single value 1.0"),
    "model returns None": (dict(model=lambda x: None), ModelOutputError,
                           "model must return one prediction row per input row (12), got a single value None"),
    "model returns NaN": (dict(model=lambda x: sum_model(x) * np.nan), ModelOutputError,
                          "model returned NaN or infinite predictions (12 of 12 values); "
                          "the model must return finite numbers"),
    "model returns strings": (dict(model=lambda x: np.array(["a"] * len(x))), ModelOutputError,
                              "model must return numeric predictions, got ndarray of dtype <U1"),
}


def _resolve(value, X, y):
    """X and y overrides are values or functions of the base (X, y)."""
    return value(X, y) if callable(value) else value


def _same(a, b) -> bool:
    if isinstance(a, pd.DataFrame):
        return a.equals(b)
    if isinstance(a, np.ndarray):
        return a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b, equal_nan=a.dtype.kind == "f")
    return True


@pytest.mark.parametrize("read_only", [False, True], ids=["writeable", "read-only"])
@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_bad_input_raises_clear_error_and_leaves_data_unchanged(case, read_only):
    overrides, error_type, message = CASES[case]
    overrides = dict(overrides)
    X, y = small_data()
    model = overrides.pop("model", sum_model)
    X = _resolve(overrides.pop("X", X), X, y)
    y = _resolve(overrides.pop("y", y), X, y)
    if read_only:
        X, y = helpers.read_only(X), helpers.read_only(y)
    X_before = X.copy() if hasattr(X, "copy") else X
    y_before = y.copy() if hasattr(y, "copy") else y
    with pytest.raises(error_type, match=re.escape(message)) as caught:
        perturbation_importance(model, X, y, **{"n_repeats": 2, "random_state": 0, **overrides})
    assert str(caught.value) == message
    assert "Traceback" not in str(caught.value)
    assert _same(X, X_before)
    assert _same(y, y_before)


def test_there_are_at_least_thirty_cases():
    assert len(CASES) >= 30


def test_the_settings_are_a_typed_record_read_as_a_mapping(small_X):
    from pyimportance.api import PerturbationSettings
    from pyimportance.settings import RunSettings

    result = perturbation_importance(_noise_model, small_X, method="permute", n_repeats=2, random_state=3)
    settings = result.settings
    assert isinstance(settings, PerturbationSettings) and isinstance(settings, RunSettings)
    assert settings.method == settings["method"] == "permute" and settings.get("mask_value") is None
    assert list(settings)[:2] == ["estimator", "loss"] and list(settings)[-5:] == [
        "method", "scale", "relative_scale", "deterministic", "learner"]
    assert len(settings) == len(dict(settings.items())) == 20
    with pytest.raises(KeyError):
        settings["n_draws"]
