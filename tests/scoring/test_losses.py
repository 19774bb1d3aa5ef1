"""The losses and scores (pyimportance.scoring.losses) against their textbook formulas and
scikit-learn: per-row values, the sign that makes importance a loss increase or a score drop,
Keras' loss names, aliases and loss objects (from_logits included), custom losses, and how a
loss is resolved with and without y.
"""

from __future__ import annotations

import numpy as np
import pytest
from helpers import CLASS_N, LABELS, P_BIN, P_CAT, P_REG, SCORING_RNG, Y_BIN, Y_REG, sigmoid_model, three_class_model
from sklearn import metrics

from pyimportance import perturbation_importance
from pyimportance.scoring.losses import (
    ALIASES,
    LOSSES,
    PREDICTION_CHANGE,
    absolute_change,
    binary_crossentropy,
    categorical_crossentropy,
    correct,
    custom_value,
    log_loss,
    resolve_loss,
)


def _score(loss: str, y, predictions) -> float:
    found = LOSSES[loss]
    return float(found.score(found.per_row(y, predictions).mean()))


def test_regression_losses_match_scikit_learn():
    assert _score("mse", Y_REG, P_REG) == pytest.approx(metrics.mean_squared_error(Y_REG, P_REG[:, 0]))
    assert _score("rmse", Y_REG, P_REG) == pytest.approx(np.sqrt(metrics.mean_squared_error(Y_REG, P_REG[:, 0])))
    assert _score("mae", Y_REG, P_REG) == pytest.approx(metrics.mean_absolute_error(Y_REG, P_REG[:, 0]))


def test_row_wise_values_have_one_column_per_output_for_regression_and_one_for_classification():
    y = np.array([[0.0, 1.0], [2.0, 3.0]])
    predictions = np.array([[1.0, 1.0], [2.0, 0.0]])
    np.testing.assert_array_equal(LOSSES["mse"].per_row(y, predictions), [[1.0, 0.0], [0.0, 9.0]])
    assert LOSSES["mse"].per_row(y, predictions).mean() == 2.5
    assert LOSSES["categorical_crossentropy"].per_row(LABELS, P_CAT).shape == (50, 1)


def test_classification_losses_match_scikit_learn():
    assert binary_crossentropy(Y_BIN, P_BIN).mean() == pytest.approx(metrics.log_loss(Y_BIN, P_BIN[:, 0]), rel=1e-12)
    np.testing.assert_array_equal(log_loss(Y_BIN, P_BIN), binary_crossentropy(Y_BIN, P_BIN))
    expected = metrics.log_loss(LABELS, P_CAT, labels=[0, 1, 2])
    assert categorical_crossentropy(LABELS, P_CAT).mean() == pytest.approx(expected, rel=1e-12)
    assert categorical_crossentropy(np.eye(3)[LABELS.astype(int)], P_CAT).mean() == pytest.approx(expected, rel=1e-12)
    assert correct(Y_BIN, P_BIN).mean() == pytest.approx(metrics.accuracy_score(Y_BIN, P_BIN[:, 0] >= 0.5))
    assert correct(LABELS, P_CAT).mean() == pytest.approx(metrics.accuracy_score(LABELS, P_CAT.argmax(axis=1)))


def test_from_logits_equals_the_loss_of_the_probabilities():
    logits = SCORING_RNG.normal(size=(50, 1)) * 3
    probabilities = 1 / (1 + np.exp(-logits))
    np.testing.assert_allclose(binary_crossentropy(Y_BIN, logits, True), binary_crossentropy(Y_BIN, probabilities),
                               rtol=1e-9)
    logits = SCORING_RNG.normal(size=(50, 3)) * 3
    probabilities = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(categorical_crossentropy(LABELS, logits, True),
                               categorical_crossentropy(LABELS, probabilities), rtol=1e-9)
    np.testing.assert_array_equal(correct(Y_BIN, np.log(P_BIN / (1 - P_BIN)), True), correct(Y_BIN, P_BIN))


def test_cross_entropy_clips_certain_mistakes_to_a_finite_value():
    assert binary_crossentropy(np.array([1.0]), np.array([[0.0]]))[0, 0] == pytest.approx(-np.log(1e-7))
    assert categorical_crossentropy(np.array([0.0]), np.array([[0.0, 1.0]]))[0, 0] == pytest.approx(-np.log(1e-7))


def test_prediction_change_is_the_absolute_difference():
    np.testing.assert_array_equal(absolute_change(np.array([[1.0, 2.0]]), np.array([[0.0, 4.0]])), [[1.0, 2.0]])


def test_sign_makes_importance_a_loss_increase_or_a_score_drop():
    assert LOSSES["mse"].sign == 1.0
    assert LOSSES["accuracy"].sign == -1.0
    assert PREDICTION_CHANGE.sign == 1.0


@pytest.mark.parametrize(
    ("name", "expected"),
    [("mean_squared_error", "mse"), ("MSE", "mse"), ("Mean_Absolute_Error", "mae"), ("mae", "mae"),
     ("root_mean_squared_error", "rmse"), ("SCCE", "sparse_categorical_crossentropy"),
     ("BinaryCrossentropy", "binary_crossentropy"), ("acc", "accuracy"), ("BinaryAccuracy", "binary_accuracy"),
     (" log_loss ", "log_loss")],
)
def test_keras_loss_names_and_aliases_are_accepted_case_insensitively(name, expected):
    assert resolve_loss(name, has_y=True) is LOSSES[expected]


def test_every_alias_points_at_a_loss():
    assert set(ALIASES.values()) <= set(LOSSES)


@pytest.mark.keras
def test_keras_loss_objects_are_read_from_their_config(keras):
    found = resolve_loss(keras.losses.BinaryCrossentropy(from_logits=True), has_y=True)
    assert found.from_logits and found.rows is binary_crossentropy
    assert resolve_loss(keras.losses.MeanSquaredError(), has_y=True) is LOSSES["mse"]
    assert resolve_loss(keras.losses.SparseCategoricalCrossentropy(), has_y=True) is LOSSES[
        "sparse_categorical_crossentropy"]


def test_resolve_loss_defaults_and_errors():
    assert resolve_loss(None, has_y=False) is PREDICTION_CHANGE
    assert resolve_loss(None, has_y=True) is LOSSES["mse"]
    # Without y the measure is the prediction change; a loss given without y is refused by the rule of
    # pyimportance.settings that the run applies.
    assert resolve_loss("mse", has_y=False) is PREDICTION_CHANGE
    with pytest.raises(ValueError) as error:
        perturbation_importance(lambda x: x[:, 0], np.ones((4, 2)), loss="mse")
    assert str(error.value) == "loss='mse' needs y (the true targets); pass y or leave loss=None"
    with pytest.raises(ValueError) as error:
        resolve_loss("r2", has_y=True)
    assert str(error.value) == (
        "loss must be one of 'mse', 'rmse', 'mae', 'log_loss', 'binary_crossentropy', 'categorical_crossentropy' "
        "or 'accuracy' (or a Keras loss name such as 'mean_squared_error') or a callable "
        "(y_true, y_pred) -> float, got 'r2'"
    )


def test_custom_loss_values_must_be_finite_numbers_or_one_per_row():
    assert custom_value(2.5, 4) == (2.5, None)
    mean, rows = custom_value(np.array([1.0, 2.0, 3.0, 6.0]), 4)
    assert mean == 3.0 and rows.tolist() == [1.0, 2.0, 3.0, 6.0]
    with pytest.raises(TypeError) as error:
        custom_value("bad", 4)
    assert str(error.value) == "loss (a custom callable) must return a number, got 'bad'"
    with pytest.raises(ValueError) as error:
        custom_value(np.nan, 4)
    assert str(error.value) == "loss (a custom callable) returned a non-finite value nan"


def test_custom_loss_gets_1d_predictions_for_1d_y_so_nothing_broadcasts():
    y_true = np.array([0.0, 1.0, 2.0, 3.0])
    predictions = np.array([[0.5], [1.0], [2.0], [2.0]])
    seen_shapes = []

    def squared_error(y, p):
        seen_shapes.append((y.shape, p.shape))
        return np.mean((y - p) ** 2)

    value = resolve_loss(squared_error, has_y=True).rows(y_true, predictions)
    assert seen_shapes == [((4,), (4,))]
    assert value == pytest.approx((0.25 + 0 + 0 + 1) / 4)


# ---------------------------------------------------------------- Keras' losses in a run


@pytest.mark.keras
def test_a_keras_from_logits_loss_scores_logits_like_the_probabilities(keras, class_X):
    y = (np.random.default_rng(5).random(CLASS_N) < sigmoid_model(class_X)[:, 0]).astype(int)
    logits = perturbation_importance(lambda x: 2.0 * x[:, -1, 0], class_X, y, method="permute", random_state=1,
                                     loss=keras.losses.BinaryCrossentropy(from_logits=True))
    probabilities = perturbation_importance(sigmoid_model, class_X, y, loss="binary_crossentropy", method="permute",
                                            random_state=1)
    assert logits.baseline_score == pytest.approx(probabilities.baseline_score, rel=1e-9)
    np.testing.assert_allclose(logits.importances, probabilities.importances, rtol=1e-6, atol=1e-12)
    assert logits.settings["loss"] == "binary_crossentropy (from logits)"


@pytest.mark.parametrize(
    ("name", "same_as"),
    [("mean_squared_error", "mse"), ("MSE", "mse"), ("mean_absolute_error", "mae"),
     ("sparse_categorical_crossentropy", "categorical_crossentropy"), ("Accuracy", "accuracy"),
     ("sparse_categorical_accuracy", "accuracy")],
)
def test_keras_loss_names_give_the_same_numbers_as_ours(class_X, class_labels, name, same_as):
    y = class_labels if "categ" in same_as or same_as == "accuracy" else class_X[:, -1, 0]
    model = three_class_model if y is class_labels else (lambda x: x[:, -1, 0] * 0.9)
    theirs = perturbation_importance(model, class_X, y, loss=name, random_state=2)
    ours = perturbation_importance(model, class_X, y, loss=same_as, random_state=2)
    np.testing.assert_array_equal(theirs.importances, ours.importances)
    assert theirs.settings["loss"] == (name.lower() if "categorical" in name else same_as)  # as named
