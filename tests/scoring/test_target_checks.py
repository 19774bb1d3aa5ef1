"""The checks of the targets against the losses and the model's predictions
(pyimportance.scoring.target_checks): continuous y for class losses, labels out of range, rows
that are not one-hot, one-hot y for a one-output sigmoid model, logits under probability losses,
y that does not fit a sequence output, and the Brier-score warning; each refusal names the fix.
"""

from __future__ import annotations

import numpy as np
import pytest
from helpers import LABELS, P_BIN, P_CAT, P_REG, Y_BIN, Y_REG, seq_data, sigmoid_model

from pyimportance import perturbation_importance
from pyimportance.scoring.heads import build_scoring
from pyimportance.scoring.losses import resolve_losses
from pyimportance.scoring.target_checks import check_targets


def _check(loss, y, predictions):
    scoring = build_scoring([("output", predictions.shape[1:])], [(None, y)], resolve_losses(loss, has_y=True))
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
        "loss='accuracy' needs one-hot y with exactly one 1 per row, got 1 that are not: row 1 marks no class"
    )
    one_hot[1] = [1.0, 1.0, 0.0]
    assert _message("log_loss", one_hot, P_CAT[:4]) == (
        "loss='log_loss' needs one-hot y with exactly one 1 per row, got 1 that are not: row 1 marks 2 classes "
        "(several independent 0/1 labels per row: use loss='binary_crossentropy' or 'binary_accuracy' with a sigmoid "
        "output)"
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


# ---------------------------------------------------------------- through the public function


def test_one_hot_y_for_a_one_output_sigmoid_model_is_refused(class_X):
    y = np.eye(2)[(class_X[:, -1, 0] > 0).astype(int)]
    with pytest.raises(ValueError, match=r"got 2 columns \(one-hot y for a one-output sigmoid model"):
        perturbation_importance(sigmoid_model, class_X, y, loss="accuracy")


def test_logits_under_log_loss_are_refused_with_the_fix(class_X):
    y = (class_X[:, -1, 0] > 0).astype(int)
    with pytest.raises(ValueError, match=r"it seems to output logits.*from_logits=True\)$"):
        perturbation_importance(lambda x: 2.0 * x[:, -1, 0], class_X, y, loss="log_loss")


def test_sequence_output_with_one_column_y_says_how_many_values_each_row_has():
    with pytest.raises(ValueError) as error:
        perturbation_importance(lambda x: x[:, :, :1] * 2.0, seq_data(), seq_data()[:, -1, 0])
    assert str(error.value) == (
        "y must have one column per model output (4), got 1 column(s) (the model returns an array of shape (4, 1) "
        "per row)"
    )
