"""Losses, scores and target checks, against their textbook formulas and scikit-learn."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics

from pyimportance.scoring import (
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
from pyimportance.targets import build_scoring, check_targets

RNG = np.random.default_rng(0)
Y_REG = RNG.normal(size=50)
P_REG = RNG.normal(size=(50, 1))
Y_BIN = (RNG.random(50) < 0.4).astype(float)
P_BIN = RNG.uniform(0.05, 0.95, size=(50, 1))
LABELS = RNG.integers(0, 3, 50).astype(float)
P_CAT = RNG.dirichlet([1.0, 1.0, 1.0], size=50)


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
    logits = RNG.normal(size=(50, 1)) * 3
    probabilities = 1 / (1 + np.exp(-logits))
    np.testing.assert_allclose(binary_crossentropy(Y_BIN, logits, True), binary_crossentropy(Y_BIN, probabilities),
                               rtol=1e-9)
    logits = RNG.normal(size=(50, 3)) * 3
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
     ("root_mean_squared_error", "rmse"), ("sparse_categorical_crossentropy", "categorical_crossentropy"),
     ("BinaryCrossentropy", "binary_crossentropy"), ("acc", "accuracy"), ("binary_accuracy", "accuracy"),
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
    assert resolve_loss(keras.losses.SparseCategoricalCrossentropy(), has_y=True) is LOSSES["categorical_crossentropy"]




def test_resolve_loss_defaults_and_errors():
    assert resolve_loss(None, has_y=False) is PREDICTION_CHANGE
    assert resolve_loss(None, has_y=True) is LOSSES["mse"]
    with pytest.raises(ValueError) as error:
        resolve_loss("mse", has_y=False)
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


# ---------------------------------------------------------------- targets against the model's outputs


def _check(loss, y, predictions):
    scoring = build_scoring([("output", predictions.shape[1:])], [(None, y)], loss)
    check_targets(scoring, predictions)


def test_matching_targets_pass():
    _check("mse", Y_REG, P_REG)
    _check("log_loss", Y_BIN, P_BIN)
    _check("log_loss", LABELS, P_CAT)
    _check("accuracy", np.eye(3)[LABELS.astype(int)], P_CAT)


def _message(loss, y, predictions) -> str:
    with pytest.raises(ValueError) as error:
        _check(loss, y, predictions)
    return str(error.value)


def test_continuous_y_for_binary_losses_is_refused():
    assert _message("log_loss", np.array([0.0, 0.5, 1.0]), P_BIN[:3]) == (
        "loss='log_loss' needs y with classes 0/1, got values such as [0.0, 0.5, 1.0] (continuous y: use loss='mse')"
    )


def test_labels_out_of_range_are_refused():
    assert _message("categorical_crossentropy", np.array([0.0, 3.0]), P_CAT[:2]) == (
        "loss='categorical_crossentropy' needs y as class labels 0..2 for a model with 3 outputs, "
        "got values such as [0.0, 3.0]"
    )


def test_non_one_hot_matrices_wrong_widths_and_empty_or_multi_hot_rows_are_refused():
    assert _message("categorical_crossentropy", np.full((2, 3), 0.5), P_CAT[:2]) == (
        "loss='categorical_crossentropy' needs one-hot y (0/1 columns), got continuous values"
    )
    assert _message("categorical_crossentropy", np.zeros((2, 2)), P_CAT[:2]) == (
        "loss='categorical_crossentropy' needs y as labels (n,) or one-hot (n, 3), got shape (2, 2)"
    )
    assert _message("mse", np.zeros((2, 2)), P_REG[:2]) == (
        "y must have one column per model output (1), got 2 column(s)"
    )
    one_hot = np.eye(3)[[0, 1, 2, 0]]
    one_hot[1] = 0.0
    assert _message("accuracy", one_hot, P_CAT[:4]) == (
        "loss='accuracy' needs one-hot y with exactly one 1 per row, got 1 rows that are not: row 1 marks no class"
    )
    one_hot[1] = [1.0, 1.0, 0.0]
    assert _message("log_loss", one_hot, P_CAT[:4]) == (
        "loss='log_loss' needs one-hot y with exactly one 1 per row, got 1 rows that are not: row 1 marks 2 classes"
    )


def test_one_hot_y_for_a_one_output_sigmoid_model_is_refused_with_the_fix():
    y = np.eye(2)[Y_BIN.astype(int)]
    for loss in ("accuracy", "log_loss", "binary_crossentropy"):
        assert _message(loss, y, P_BIN) == (
            f"loss='{loss}' needs y with one 0/1 column per model output (1), got 2 columns "
            "(one-hot y for a one-output sigmoid model: pass the class labels 0/1 instead)"
        )


def test_logits_under_probability_losses_are_refused_with_the_from_logits_fix():
    logits = np.array([[-3.0], [2.5], [0.1]])
    assert _message("log_loss", np.array([0.0, 1.0, 1.0]), logits) == (
        "loss='log_loss' needs predicted probabilities, but the model returned values outside [0, 1] (from -3 to 2.5): "
        "it seems to output logits. Add a sigmoid activation to its last layer, or pass "
        "loss=keras.losses.BinaryCrossentropy(from_logits=True)"
    )
    scores = np.array([[0.2, 0.3, 0.1], [0.5, 0.4, 0.3]])
    assert _message("categorical_crossentropy", np.array([0.0, 2.0]), scores) == (
        "loss='categorical_crossentropy' needs predicted probabilities, but the model returned rows that do not sum "
        "to 1 (one sums to 0.6): it seems to output logits. Add a softmax activation to its last layer, or pass "
        "loss=keras.losses.CategoricalCrossentropy(from_logits=True)"
    )


def test_argmax_accuracy_reads_logits_as_they_are():
    _check("accuracy", LABELS, np.log(P_CAT))  # no error: argmax of logits is argmax of probabilities


def test_a_brier_score_on_class_labels_warns():
    with pytest.warns(UserWarning, match="measures the Brier score"):
        _check("mse", Y_BIN, P_BIN)
