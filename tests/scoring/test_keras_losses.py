"""Every loss Keras knows by name, computed by Keras' own function (pyimportance.scoring.keras_losses):
the numbers are ``keras.losses.get(name)``'s, row by row where Keras gives row values (so the
data-level intervals apply), one value per column for element-wise losses; Keras loss objects
keep their settings (``Huber(delta=...)``).
"""

from __future__ import annotations

import numpy as np
import pytest

from pyimportance import perturbation_importance
from pyimportance.model.keras import keras_major_version
from pyimportance.scoring.keras_losses import KERAS_ALIASES, KERAS_LOSSES
from pyimportance.scoring.losses import loss_names, resolve_loss

pytestmark = pytest.mark.keras

#: Loss names Keras 3 takes and Keras 2.15 does not.
KERAS_3_ONLY = ("circle", "ctc", "dice", "tversky")

N = 60
X = np.random.default_rng(0).normal(size=(N, 4, 3))
LABELS = np.random.default_rng(1).integers(0, 3, N)


def positive_model(X):
    """Two positive outputs (counts, prices: what mape, msle and poisson are for)."""
    return np.stack([np.exp(0.3 * X[:, -1, 0]), np.exp(0.2 * X[:, -1, 1])], axis=1)


def probability_model(X):
    logits = np.stack([X[:, -1, 0], -X[:, -1, 0], 0.5 * X[:, -1, 1]], axis=1)
    exp = np.exp(logits)
    return exp / exp.sum(axis=1, keepdims=True)


def sigmoid_model(X):
    return 1 / (1 + np.exp(-2 * X[:, -1, 0]))


POSITIVE_Y = positive_model(X) * np.exp(0.1 * np.random.default_rng(2).normal(size=(N, 2)))
BINARY_Y = (X[:, -1, 0] + 0.3 * X[:, -1, 2] > 0).astype(float)

# name -> (model, y as pyimportance takes it, y as Keras takes it, Keras' values per row)
CASES = {
    "huber": (positive_model, POSITIVE_Y, POSITIVE_Y, "row"),
    "log_cosh": (positive_model, POSITIVE_Y, POSITIVE_Y, "row"),
    "mape": (positive_model, POSITIVE_Y, POSITIVE_Y, "row"),
    "msle": (positive_model, POSITIVE_Y, POSITIVE_Y, "row"),
    "poisson": (positive_model, POSITIVE_Y, POSITIVE_Y, "row"),
    "hinge": (sigmoid_model, BINARY_Y, BINARY_Y[:, None], "row"),
    "squared_hinge": (sigmoid_model, BINARY_Y, BINARY_Y[:, None], "row"),
    "binary_focal_crossentropy": (sigmoid_model, BINARY_Y, BINARY_Y[:, None], "row"),
    "categorical_focal_crossentropy": (probability_model, LABELS, np.eye(3)[LABELS], "row"),
    "categorical_hinge": (probability_model, LABELS, np.eye(3)[LABELS], "row"),
    "cosine_similarity": (positive_model, POSITIVE_Y, POSITIVE_Y, "row"),
    "kl_divergence": (probability_model, np.eye(3)[LABELS] * 0.8 + 0.2 / 3, np.eye(3)[LABELS] * 0.8 + 0.2 / 3, "row"),
    "dice": (sigmoid_model, BINARY_Y, BINARY_Y[:, None], "batch"),
    "tversky": (sigmoid_model, BINARY_Y, BINARY_Y[:, None], "batch"),
}


def test_every_loss_name_keras_takes_is_computed():
    import inspect

    import keras

    known = [key for key in KERAS_LOSSES if _keras_takes(keras, key)]
    for key in known:
        assert callable(keras.losses.get(key))
    if keras_major_version(keras) == 2:  # Keras 2.15 (TensorFlow 2.15) lacks Keras 3's newer losses: refused by name
        assert sorted(set(KERAS_LOSSES) - set(known)) == sorted(KERAS_3_ONLY)
        with pytest.raises(ValueError) as error:
            perturbation_importance(sigmoid_model, X, BINARY_Y, loss="dice")
        assert str(error.value) == (
            f"loss='dice' is computed by Keras, but the Keras installed (keras {keras.__version__}) does not know "
            "it: it needs a newer Keras (Keras 3 comes with TensorFlow 2.16 or later), or pass another loss"
        )
    else:
        assert known == list(KERAS_LOSSES)
    assert set(KERAS_ALIASES.values()) <= set(KERAS_LOSSES)
    names = [name for name, function in vars(keras.losses).items() if inspect.isfunction(function)
             and name not in ("get", "serialize", "deserialize")]
    takes_name = [name for name in names if _keras_takes(keras, name)]
    assert "categorical_generalized_cross_entropy" not in takes_name  # needs q: not a name compile() takes
    assert [name for name in takes_name if name.lower() not in loss_names()] == []  # Keras 2 also takes "MSE", "KLD"
    assert len(takes_name) >= 21


def _keras_takes(keras, name: str) -> bool:
    try:
        keras.losses.get(name)
    except ValueError:
        return False
    return True


@pytest.mark.parametrize("name", [pytest.param(name, marks=pytest.mark.keras3) if name in KERAS_3_ONLY else name
                                  for name in CASES])
def test_keras_loss_names_give_keras_numbers(name):
    import keras

    model, y, keras_y, values = CASES[name]
    predictions = model(X).reshape(N, -1)
    expected_rows = np.asarray(keras.losses.get(name)(keras_y, predictions), dtype=np.float64)
    result = perturbation_importance(model, X, y, loss=name, method="permute", n_repeats=2, random_state=0)
    # Keras 2's huber casts to float32 (floatx): Keras' own numbers, to float32 rounding
    rtol = 1e-6 if name == "huber" and keras_major_version(keras) == 2 else 1e-12
    assert result.baseline_score == pytest.approx(float(np.mean(expected_rows)), rel=rtol, abs=1e-15)
    if values == "row":  # Keras' row values, so the interval is about the population (ci="data")
        loss = resolve_loss(name, has_y=True)
        rows = loss.per_row(y, predictions).mean(axis=1)
        np.testing.assert_allclose(rows, expected_rows, rtol=rtol, atol=1e-15)
        assert result.settings["ci_note"] is None
    else:  # Keras computes these over the whole batch: one number, interval over repeats
        assert result.settings["ci_note"].endswith("interval over repeats")


def test_element_wise_keras_losses_score_each_column_apart():
    import keras

    result = perturbation_importance(positive_model, X, POSITIVE_Y, loss="huber", per_output=True, method="permute",
                                     random_state=0)
    expected = [float(keras.losses.Huber()(POSITIVE_Y[:, j], positive_model(X)[:, j])) for j in range(2)]
    np.testing.assert_allclose(result.baseline_scores, expected, rtol=1e-6)  # Keras' objects reduce in float32
    frame = result.to_frame().set_index(["feature", "output"])["importance"]
    assert frame["x1", "output[0]"] > 0 and frame["x1", "output[1]"] == 0.0


def test_a_keras_loss_object_keeps_its_settings():
    import keras

    huber = keras.losses.Huber(delta=0.05)
    result = perturbation_importance(positive_model, X, POSITIVE_Y, loss=huber, method="permute", random_state=0)
    assert result.baseline_score == pytest.approx(float(huber(POSITIVE_Y, positive_model(X))), rel=1e-6)
    assert result.baseline_score < float(keras.losses.Huber()(POSITIVE_Y, positive_model(X)))
    assert result.settings["loss"] == "huber (delta=0.05)" and result.settings["ci_note"] is None


def test_a_keras_focal_loss_object_from_logits():
    import keras

    logits = lambda X: 2 * X[:, -1, 0]  # noqa: E731
    focal = keras.losses.BinaryFocalCrossentropy(from_logits=True)
    result = perturbation_importance(logits, X, BINARY_Y, loss=focal, method="permute", random_state=0)
    assert result.baseline_score == pytest.approx(float(focal(BINARY_Y[:, None], logits(X)[:, None])), rel=1e-6)
    assert result.settings["loss"] == "binary_focal_crossentropy (from logits)"
