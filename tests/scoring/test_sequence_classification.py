"""Sequence-to-sequence classification (pyimportance.scoring.losses, .label_forms, .target_checks): a model
that outputs ``(n, T, C)`` per-step softmax (or sigmoid) probabilities, with sparse ``(n, T)`` or one-hot
``(n, T, C)`` labels, gets the losses and accuracies Keras computes (the mean over rows and steps),
``per_output=True`` one output per step, errors that name the loss passed, and a callable loss gets
the arrays in the model's shapes. The numbers are Keras' loss and metric objects' own.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from helpers import CLASS_WEIGHTS, drawn_classes, keras_zero_importances, softmax_of_features

from pyimportance import perturbation_importance

N, T, F, C = 150, 5, 4, 3
RNG = np.random.default_rng(9)
X = RNG.normal(size=(N, T, F))
step_softmax = softmax_of_features


def step_sigmoid(X):
    """Three independent 0/1 labels at each step: (n, T, 3)."""
    return 1.0 / (1.0 + np.exp(-2.0 * X @ CLASS_WEIGHTS))


LABELS = drawn_classes(step_softmax(X), RNG)
ONE_HOT = np.eye(C)[LABELS.astype(int)]
MULTI_HOT = (RNG.uniform(size=(N, T, C)) < step_sigmoid(X)).astype(float)


def _keras_measures(keras):
    losses, metrics = keras.losses, keras.metrics
    return {
        ("sparse_categorical_crossentropy", "sparse"): losses.SparseCategoricalCrossentropy(),
        ("categorical_crossentropy", "one-hot"): losses.CategoricalCrossentropy(),
        ("log_loss", "sparse"): losses.SparseCategoricalCrossentropy(),
        ("log_loss", "one-hot"): losses.CategoricalCrossentropy(),
        ("accuracy", "sparse"): metrics.SparseCategoricalAccuracy,
        ("accuracy", "one-hot"): metrics.CategoricalAccuracy,
        ("sparse_categorical_accuracy", "sparse"): metrics.SparseCategoricalAccuracy,
        ("categorical_accuracy", "one-hot"): metrics.CategoricalAccuracy,
    }


CASES = [("sparse_categorical_crossentropy", "sparse"), ("categorical_crossentropy", "one-hot"),
         ("log_loss", "sparse"), ("log_loss", "one-hot"), ("accuracy", "sparse"), ("accuracy", "one-hot"),
         ("sparse_categorical_accuracy", "sparse"), ("categorical_accuracy", "one-hot")]


@pytest.mark.keras
@pytest.mark.parametrize(("loss", "form"), CASES)
def test_per_step_losses_and_accuracies_are_keras_own(keras, loss, form):
    y = LABELS if form == "sparse" else ONE_HOT
    measure = _keras_measures(keras)[(loss, form)]
    result = perturbation_importance(step_softmax, X, y, loss=loss, method="zero")
    baseline, importances = keras_zero_importances(measure, step_softmax, X, y)
    assert result.baseline_score == pytest.approx(baseline, rel=1e-6)
    sign = -1.0 if "accuracy" in loss else 1.0  # a score's importance is its drop
    np.testing.assert_allclose(result.importances_mean, sign * importances, rtol=1e-5, atol=1e-6)
    assert result.settings["loss"] == loss


@pytest.mark.keras
def test_per_step_sigmoid_labels_are_keras_binary_crossentropy_and_accuracy(keras):
    for loss, measure in [("binary_crossentropy", keras.losses.BinaryCrossentropy()),
                          ("log_loss", keras.losses.BinaryCrossentropy()),
                          ("binary_accuracy", keras.metrics.BinaryAccuracy),
                          ("accuracy", keras.metrics.BinaryAccuracy)]:
        result = perturbation_importance(step_sigmoid, X, MULTI_HOT, loss=loss, method="zero")
        baseline, importances = keras_zero_importances(measure, step_sigmoid, X, MULTI_HOT)
        assert result.baseline_score == pytest.approx(baseline, rel=1e-5), loss
        sign = -1.0 if "accuracy" in loss else 1.0
        np.testing.assert_allclose(result.importances_mean, sign * importances, rtol=1e-4, atol=1e-6)


def test_per_output_gives_one_output_per_step_as_for_a_sequence_regression():
    per_step = perturbation_importance(step_softmax, X, LABELS, loss="sparse_categorical_crossentropy",
                                       method="zero", per_output=True)
    assert per_step.outputs == [f"output[{t}]" for t in range(T)]
    regression = perturbation_importance(lambda X: X[..., 0], X, LABELS, method="zero", per_output=True)
    assert regression.outputs == per_step.outputs  # the same labels as a (n, T) regression output's
    p = step_softmax(X)
    for t in range(T):
        by_hand = -np.log(p[np.arange(N), t, LABELS[:, t].astype(int)]).mean()
        assert per_step.baseline_score[t] == pytest.approx(by_hand, rel=1e-9)
    overall = perturbation_importance(step_softmax, X, LABELS, loss="sparse_categorical_crossentropy", method="zero")
    np.testing.assert_allclose(per_step.importances_mean.mean(axis=1), overall.importances_mean, rtol=1e-12)


def test_a_callable_loss_gets_the_arrays_in_the_models_shapes():
    seen = []

    def loss(y_true, y_pred):
        seen.append((y_true.shape, y_pred.shape))
        return -np.log(np.take_along_axis(y_pred, y_true.astype(int)[..., None], axis=-1)).mean()

    result = perturbation_importance(step_softmax, X, LABELS, loss=loss, method="zero")
    assert seen[0] == ((N, T), (N, T, C))
    named = perturbation_importance(step_softmax, X, LABELS, loss="sparse_categorical_crossentropy", method="zero")
    assert result.baseline_score == pytest.approx(named.baseline_score, rel=1e-6)  # named: clipped at 1e-7


@pytest.mark.parametrize(
    ("loss", "y", "message"),
    [("sparse_categorical_crossentropy", LABELS[:, :4],
      "loss='sparse_categorical_crossentropy' needs y as labels (n, 5) or one-hot (n, 5, 3), one class per step, "
      "got shape (150, 4)"),
     ("categorical_crossentropy", np.eye(4)[LABELS.astype(int)],
      "loss='categorical_crossentropy' needs y as labels (n, 5) or one-hot (n, 5, 3), one class per step, "
      "got shape (150, 5, 4)"),
     ("accuracy", LABELS + 1,
      "loss='accuracy' needs y as class labels 0..2 for a model with 3 outputs per step, got values such as "
      "[1.0, 2.0, 3.0]"),
     ("sparse_categorical_crossentropy", np.where(np.arange(C) == 0, 1.0, ONE_HOT),
      "loss='sparse_categorical_crossentropy' needs one-hot y with exactly one 1 per row and step, got ")],
)
def test_targets_that_do_not_fit_the_steps_are_refused_naming_the_loss_passed(loss, y, message):
    with pytest.raises(ValueError) as error:
        perturbation_importance(step_softmax, X, y, loss=loss, method="zero")
    assert str(error.value).startswith(message)


def test_a_per_step_softmax_is_not_taken_for_logits():
    """Each step's probabilities sum to 1 (the whole row sums to T): no logits error."""
    result = perturbation_importance(step_softmax, X, ONE_HOT, loss="categorical_crossentropy", method="zero")
    assert result.baseline_score > 0


def test_the_command_line_gives_the_python_numbers(tmp_path, monkeypatch):
    from helpers import read_result

    from pyimportance import cli

    monkeypatch.setattr("pyimportance.cli.files.load_model", lambda path, **kwargs: step_softmax)
    np.save(tmp_path / "X.npy", X)
    np.save(tmp_path / "y.npy", LABELS)
    code = cli.main(["run", "--model", "m.keras", "--x", str(tmp_path / "X.npy"), "--y", str(tmp_path / "y.npy"),
                     "--loss", "sparse_categorical_crossentropy", "--method", "zero", "--per-output", "--no-progress",
                     "--out", str(tmp_path / "r.csv")])
    assert code == 0
    expected = perturbation_importance(step_softmax, X, LABELS, loss="sparse_categorical_crossentropy",
                                       method="zero", per_output=True)
    pd.testing.assert_frame_equal(read_result(tmp_path / "r.csv"), expected.to_frame())


@pytest.mark.keras
def test_a_keras_sequence_model_with_a_softmax_per_step(keras):
    inputs = keras.Input((T, F))
    hidden = keras.layers.LSTM(8, return_sequences=True)(inputs)
    model = keras.Model(inputs, keras.layers.Dense(C, activation="softmax")(hidden))
    result = perturbation_importance(model, X, LABELS, loss="sparse_categorical_crossentropy", method="zero")
    expected = float(keras.losses.SparseCategoricalCrossentropy()(LABELS, model.predict(X, verbose=0)))
    assert result.baseline_score == pytest.approx(expected, rel=1e-5)


def test_sparse_labels_with_a_trailing_axis_are_the_same_labels():
    """Keras users often keep sparse per-step labels as (n, T, 1)."""
    flat = perturbation_importance(step_softmax, X, LABELS, loss="sparse_categorical_crossentropy", method="zero")
    trailing = perturbation_importance(step_softmax, X, LABELS[..., None], loss="sparse_categorical_crossentropy",
                                       method="zero")
    np.testing.assert_array_equal(trailing.importances, flat.importances)
    assert trailing.baseline_score == flat.baseline_score


@pytest.mark.keras
def test_a_sigmoid_per_step_with_0_1_labels_per_step(keras):
    """Output (n, T, 1), y (n, T): binary cross-entropy and accuracy per step, as Keras computes them."""
    model = lambda X: 1.0 / (1.0 + np.exp(-2.0 * X[..., :1]))  # noqa: E731
    y = (X[..., 0] + RNG.normal(size=(N, T)) > 0).astype(float)
    for loss, measure in [("log_loss", keras.losses.BinaryCrossentropy()), ("accuracy", keras.metrics.BinaryAccuracy)]:
        result = perturbation_importance(model, X, y, loss=loss, method="zero")
        baseline, importances = keras_zero_importances(measure, model, X, y)
        assert result.baseline_score == pytest.approx(baseline, rel=1e-5), loss
        sign = -1.0 if loss == "accuracy" else 1.0
        np.testing.assert_allclose(result.importances_mean, sign * importances, rtol=1e-4, atol=1e-6)
