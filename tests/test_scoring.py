"""Losses, scores and target checks, against their textbook formulas and scikit-learn."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics

from pyimportance.scoring import (
    LOSSES,
    PREDICTION_CHANGE,
    accuracy,
    binary_crossentropy,
    categorical_crossentropy,
    check_target,
    log_loss,
    mean_absolute_error,
    mean_squared_error,
    prediction_change,
    resolve_loss,
    root_mean_squared_error,
)

RNG = np.random.default_rng(0)
Y_REG = RNG.normal(size=50)
P_REG = RNG.normal(size=(50, 1))
Y_BIN = (RNG.random(50) < 0.4).astype(float)
P_BIN = RNG.uniform(0.05, 0.95, size=(50, 1))
LABELS = RNG.integers(0, 3, 50).astype(float)
P_CAT = RNG.dirichlet([1.0, 1.0, 1.0], size=50)


def test_regression_losses_match_scikit_learn():
    assert mean_squared_error(Y_REG, P_REG) == pytest.approx(metrics.mean_squared_error(Y_REG, P_REG[:, 0]))
    assert root_mean_squared_error(Y_REG, P_REG) == pytest.approx(
        np.sqrt(metrics.mean_squared_error(Y_REG, P_REG[:, 0]))
    )
    assert mean_absolute_error(Y_REG, P_REG) == pytest.approx(metrics.mean_absolute_error(Y_REG, P_REG[:, 0]))


def test_multi_output_losses_average_over_samples_and_outputs():
    y = np.array([[0.0, 1.0], [2.0, 3.0]])
    predictions = np.array([[1.0, 1.0], [2.0, 0.0]])
    assert mean_squared_error(y, predictions) == 2.5
    assert mean_absolute_error(y, predictions) == 1.0


def test_classification_losses_match_scikit_learn():
    assert binary_crossentropy(Y_BIN, P_BIN) == pytest.approx(metrics.log_loss(Y_BIN, P_BIN[:, 0]), rel=1e-12)
    assert log_loss(Y_BIN, P_BIN) == binary_crossentropy(Y_BIN, P_BIN)
    expected = metrics.log_loss(LABELS, P_CAT, labels=[0, 1, 2])
    assert categorical_crossentropy(LABELS, P_CAT) == pytest.approx(expected, rel=1e-12)
    assert categorical_crossentropy(np.eye(3)[LABELS.astype(int)], P_CAT) == pytest.approx(expected, rel=1e-12)
    assert log_loss(LABELS, P_CAT) == categorical_crossentropy(LABELS, P_CAT)
    assert accuracy(Y_BIN, P_BIN) == pytest.approx(metrics.accuracy_score(Y_BIN, P_BIN[:, 0] >= 0.5))
    assert accuracy(LABELS, P_CAT) == pytest.approx(metrics.accuracy_score(LABELS, P_CAT.argmax(axis=1)))


def test_cross_entropy_clips_certain_mistakes_to_a_finite_value():
    value = binary_crossentropy(np.array([1.0]), np.array([[0.0]]))
    assert value == pytest.approx(-np.log(1e-7))
    assert categorical_crossentropy(np.array([0.0]), np.array([[0.0, 1.0]])) == pytest.approx(-np.log(1e-7))


def test_prediction_change_is_the_mean_absolute_difference():
    assert prediction_change(np.array([[1.0, 2.0]]), np.array([[0.0, 4.0]])) == 1.5


def test_importance_is_loss_increase_or_score_drop():
    assert LOSSES["mse"].importance(1.0, 3.0) == 2.0
    assert LOSSES["accuracy"].importance(0.9, 0.6) == pytest.approx(0.3)
    assert PREDICTION_CHANGE.importance(0.0, 0.25) == 0.25


def test_resolve_loss_defaults_and_errors():
    assert resolve_loss(None, has_y=False) is PREDICTION_CHANGE
    assert resolve_loss(None, has_y=True) is LOSSES["mse"]
    assert resolve_loss("accuracy", has_y=True).greater_is_better
    with pytest.raises(ValueError) as error:
        resolve_loss("mse", has_y=False)
    assert str(error.value) == "loss='mse' needs y (the true targets); pass y or leave loss=None"
    with pytest.raises(ValueError) as error:
        resolve_loss("r2", has_y=True)
    assert str(error.value) == (
        "loss must be one of 'mse', 'rmse', 'mae', 'log_loss', 'binary_crossentropy', "
        "'categorical_crossentropy', 'accuracy' or a callable (y_true, y_pred) -> float, got 'r2'"
    )


def test_custom_loss_must_return_a_finite_number():
    scorer = resolve_loss(lambda y, p: "bad", has_y=True)
    with pytest.raises(TypeError) as error:
        scorer.function(Y_REG, P_REG)
    assert str(error.value) == "loss (a custom callable) must return a number, got 'bad'"
    scorer = resolve_loss(lambda y, p: np.nan, has_y=True)
    with pytest.raises(ValueError) as error:
        scorer.function(Y_REG, P_REG)
    assert str(error.value) == "loss (a custom callable) returned a non-finite value nan"


def test_check_target_accepts_matching_targets():
    check_target(LOSSES["mse"], Y_REG, P_REG)
    check_target(LOSSES["log_loss"], Y_BIN, P_BIN)
    check_target(LOSSES["log_loss"], LABELS, P_CAT)
    check_target(LOSSES["accuracy"], np.eye(3)[LABELS.astype(int)], P_CAT)


def test_check_target_rejects_continuous_y_for_binary_losses():
    with pytest.raises(ValueError) as error:
        check_target(LOSSES["log_loss"], np.array([0.0, 0.5, 1.0]), P_BIN[:3])
    assert str(error.value) == (
        "loss='log_loss' needs y with classes 0/1, got values such as [0.0, 0.5, 1.0] (continuous y: use loss='mse')"
    )


def test_check_target_rejects_labels_out_of_range():
    with pytest.raises(ValueError) as error:
        check_target(LOSSES["categorical_crossentropy"], np.array([0.0, 3.0]), P_CAT[:2])
    assert str(error.value) == (
        "loss='categorical_crossentropy' needs y as class labels 0..2 for a model with 3 outputs, "
        "got values such as [0.0, 3.0]"
    )


def test_check_target_rejects_non_one_hot_matrices_and_wrong_widths():
    with pytest.raises(ValueError) as error:
        check_target(LOSSES["categorical_crossentropy"], np.full((2, 3), 0.5), P_CAT[:2])
    assert str(error.value) == "loss='categorical_crossentropy' needs one-hot y (0/1 columns), got continuous values"
    with pytest.raises(ValueError) as error:
        check_target(LOSSES["categorical_crossentropy"], np.zeros((2, 2)), P_CAT[:2])
    assert (
        str(error.value) == "loss='categorical_crossentropy' needs y as labels (n,) or one-hot (n, 3), got shape (2, 2)"
    )
    with pytest.raises(ValueError) as error:
        check_target(LOSSES["mse"], np.zeros((2, 2)), P_REG[:2])
    assert str(error.value) == "y must have one column per model output (1), got 2 column(s)"


def test_custom_loss_gets_1d_predictions_for_1d_y_so_nothing_broadcasts():
    y_true = np.array([0.0, 1.0, 2.0, 3.0])
    predictions = np.array([[0.5], [1.0], [2.0], [2.0]])
    seen_shapes = []

    def squared_error(y, p):
        seen_shapes.append((y.shape, p.shape))
        return np.mean((y - p) ** 2)

    value = resolve_loss(squared_error, has_y=True).function(y_true, predictions)
    assert seen_shapes == [((4,), (4,))]
    assert value == pytest.approx((0.25 + 0 + 0 + 1) / 4)
