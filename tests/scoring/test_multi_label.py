"""Multi-label sigmoid outputs (several independent 0/1 labels per row, y multi-hot (n, L)): ``log_loss``
and ``binary_crossentropy`` are Keras' binary cross-entropy (the mean over labels), ``accuracy`` and
``binary_accuracy`` Keras' binary accuracy (threshold 0.5, the mean over labels), each reported under
its own name; a softmax output with multi-hot y is refused, and one-hot y for sigmoid outputs is
told how to name the multi-label loss.
"""

from __future__ import annotations

import numpy as np
import pytest
from helpers import keras_zero_importances

from pyimportance import perturbation_importance
from pyimportance.plotting import _ylabel

N, F, L = 300, 4, 3
RNG = np.random.default_rng(21)
X = RNG.normal(size=(N, F))
WEIGHTS = np.array([[2.0, 0.0, -1.0], [0.0, 1.5, 1.0], [0.5, -0.5, 0.0], [0.0, 0.0, 0.0]])  # x4 unused


def sigmoids(X):
    return 1.0 / (1.0 + np.exp(-(X @ WEIGHTS)))


MULTI_HOT = (RNG.uniform(size=(N, L)) < sigmoids(X)).astype(float)


@pytest.mark.keras
@pytest.mark.parametrize("loss", ["log_loss", "binary_crossentropy", "accuracy", "binary_accuracy"])
def test_multi_label_losses_and_accuracies_are_keras_binary_ones(keras, loss):
    measure = keras.metrics.BinaryAccuracy if "accuracy" in loss else keras.losses.BinaryCrossentropy()
    result = perturbation_importance(sigmoids, X, MULTI_HOT, loss=loss, method="zero")
    baseline, importances = keras_zero_importances(measure, sigmoids, X, MULTI_HOT)
    assert result.baseline_score == pytest.approx(baseline, rel=1e-5)
    sign = -1.0 if "accuracy" in loss else 1.0
    np.testing.assert_allclose(result.importances_mean, sign * importances, rtol=1e-4, atol=1e-6)
    assert result.settings["loss"] == loss
    assert importances[3] == 0 and abs(importances[0]) > 0.05  # x4 unused, x1 drives labels 1 and 3


@pytest.mark.keras
def test_multi_label_logits_with_a_from_logits_loss(keras):
    loss = keras.losses.BinaryCrossentropy(from_logits=True)
    logits = lambda X: X @ WEIGHTS  # noqa: E731
    result = perturbation_importance(logits, X, MULTI_HOT, loss=loss, method="zero")
    baseline, importances = keras_zero_importances(loss, logits, X, MULTI_HOT)
    assert result.baseline_score == pytest.approx(baseline, rel=1e-5)
    np.testing.assert_allclose(result.importances_mean, importances, rtol=1e-4, atol=1e-6)


def test_binary_accuracy_is_computed_and_reported_under_its_own_name():
    result = perturbation_importance(sigmoids, X, MULTI_HOT, loss="binary_accuracy", method="zero")
    assert result.baseline_score == pytest.approx(((sigmoids(X) > 0.5) == MULTI_HOT).mean(), rel=1e-12)
    assert result.settings["loss"] == "binary_accuracy"
    assert _ylabel(result) == "drop of binary_accuracy"


def test_per_output_gives_one_output_per_label():
    result = perturbation_importance(sigmoids, X, MULTI_HOT, loss="log_loss", method="zero", per_output=True)
    assert result.outputs == ["output[0]", "output[1]", "output[2]"]
    p = sigmoids(X)
    by_hand = -(MULTI_HOT * np.log(p) + (1 - MULTI_HOT) * np.log(1 - p)).mean(axis=0)
    np.testing.assert_allclose(result.baseline_score, by_hand, rtol=1e-9)


def test_multi_hot_y_for_a_softmax_output_is_refused():
    def softmax(X):
        exp = np.exp(X @ WEIGHTS)
        return exp / exp.sum(axis=1, keepdims=True)

    with pytest.raises(ValueError, match=r"^loss='log_loss' needs one-hot y with exactly one 1 per row, got \d+ that "
                                         r"are not: row \d+ marks 2 classes \(several independent 0/1 labels per row: "
                                         r"use loss='binary_crossentropy' or 'binary_accuracy' with a sigmoid"):
        perturbation_importance(softmax, X, np.where(MULTI_HOT.sum(1, keepdims=True) == 2, MULTI_HOT, np.eye(L)[
            np.argmax(MULTI_HOT, axis=1)]), loss="log_loss", method="zero")


def test_one_hot_y_for_sigmoid_outputs_names_the_multi_label_losses():
    one_hot = np.eye(L)[np.argmax(sigmoids(X), axis=1)]
    with pytest.raises(ValueError, match=r"rows that do not sum to 1 .*\(for several independent 0/1 labels per "
                                         r"row, sigmoid outputs, pass loss='binary_crossentropy' or "
                                         r"'binary_accuracy'\)$"):
        perturbation_importance(sigmoids, X, one_hot, loss="log_loss", method="zero")
    named = perturbation_importance(sigmoids, X, one_hot, loss="binary_crossentropy", method="zero")
    assert named.baseline_score > 0
