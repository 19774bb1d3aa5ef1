"""Keras loss objects keep their settings (pyimportance.scoring.keras_losses): ``label_smoothing``,
``ignore_class``, ``delta``... are computed by the object's own ``call``, for Keras 3 and tf-keras;
the baseline and the importances are the object's own values (a hand loop of Keras calls), and
``ignore_class`` counts only the labels not ignored, as Keras' mean does. Keras metric objects are
read by name where the table computes them, else refused.
"""

from __future__ import annotations

import numpy as np
import pytest
from helpers import CLASS_WEIGHTS, drawn_classes, keras_zero_importances, softmax_of_features

from pyimportance import perturbation_importance
from pyimportance.scoring.losses import LOSSES, resolve_loss

pytestmark = pytest.mark.keras

N, F, T = 200, 4, 5
RNG = np.random.default_rng(5)
X = RNG.normal(size=(N, F))
X_SEQ = RNG.normal(size=(N, T, F))
softmax_model = softmax_of_features
WEIGHTS = CLASS_WEIGHTS

LABELS = drawn_classes(softmax_model(X), RNG)
LABELS_SEQ = drawn_classes(softmax_model(X_SEQ), RNG)
BINARY = (X[:, 0] + RNG.normal(size=N) > 0).astype(float)


def sigmoid_model(X):
    return 1.0 / (1.0 + np.exp(-(2.0 * X[:, :1] - 0.5 * X[:, 1:2])))


@pytest.fixture(params=["keras", "tf_keras"])
def losses(request, keras2):
    """Keras' losses, and Keras 2's (tf-keras beside Keras 3; under TensorFlow 2.15 both are Keras 2's)."""
    if request.param == "tf_keras":
        return keras2.losses
    import keras

    return keras.losses


CASES = {
    "categorical label smoothing": (lambda k: k.CategoricalCrossentropy(label_smoothing=0.1), softmax_model, X,
                                    np.eye(3)[LABELS.astype(int)]),
    "binary label smoothing": (lambda k: k.BinaryCrossentropy(label_smoothing=0.2), sigmoid_model, X, BINARY),
    "sparse ignore_class": (lambda k: k.SparseCategoricalCrossentropy(ignore_class=0), softmax_model, X, LABELS),
    "sparse ignore_class per step": (lambda k: k.SparseCategoricalCrossentropy(ignore_class=0), softmax_model,
                                     X_SEQ, LABELS_SEQ),
    "categorical per step, label smoothing, from logits": (
        lambda k: k.CategoricalCrossentropy(label_smoothing=0.1, from_logits=True),
        lambda X: np.log(softmax_model(X)) + 1.0, X_SEQ, np.eye(3)[LABELS_SEQ.astype(int)]),
    "huber delta": (lambda k: k.Huber(delta=0.3), lambda X: X[:, :2] @ np.array([[1.0], [-1.0]]), X, X[:, 0] * 0.5),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_keras_loss_object_is_computed_with_its_settings(losses, case):
    make, model, data, y = CASES[case]
    loss = make(losses)
    result = perturbation_importance(model, data, y, loss=loss, method="zero")
    baseline, importances = keras_zero_importances(loss, model, data, y)
    assert result.baseline_score == pytest.approx(baseline, rel=2e-6)
    np.testing.assert_allclose(result.importances_mean, importances, rtol=1e-4, atol=2e-6 * baseline)


def test_label_smoothing_is_not_the_plain_loss(keras):
    """The settings change the number by far more than the tolerance above (0.34 vs 0.54 in the issue)."""
    y = np.eye(3)[LABELS.astype(int)]
    smoothed = perturbation_importance(softmax_model, X, y, loss=keras.losses.CategoricalCrossentropy(
        label_smoothing=0.1), method="zero")
    plain = perturbation_importance(softmax_model, X, y, loss="categorical_crossentropy", method="zero")
    assert abs(smoothed.baseline_score - plain.baseline_score) > 0.02
    assert smoothed.settings["loss"] == "categorical_crossentropy (label_smoothing=0.1)"


def test_ignore_class_counts_only_the_labels_not_ignored(keras):
    loss = keras.losses.SparseCategoricalCrossentropy(ignore_class=0)
    result = perturbation_importance(softmax_model, X, LABELS, loss=loss, method="zero")
    counted = LABELS != 0
    by_hand = -np.log(softmax_model(X)[counted, LABELS[counted].astype(int)]).mean()
    assert result.baseline_score == pytest.approx(by_hand, rel=1e-6)  # Keras clips p to 1 - 1e-7
    assert result.baseline_score == pytest.approx(float(loss(LABELS, softmax_model(X))), rel=2e-6)
    plain_mean = -np.log(softmax_model(X)[np.arange(N), LABELS.astype(int)] * counted + ~counted).mean()
    assert abs(result.baseline_score - plain_mean) > 0.2  # what a mean over all rows would give


def test_row_weights_count_the_labels_not_ignored(keras):
    found = resolve_loss(keras.losses.SparseCategoricalCrossentropy(ignore_class=0), has_y=True)
    np.testing.assert_array_equal(found.row_weights(np.array([0.0, 1.0, 2.0])), [0.0, 1.0, 1.0])
    np.testing.assert_array_equal(found.row_weights(np.array([[0.0, 1.0, 0.0], [2.0, 2.0, 1.0]])), [1.0, 3.0])
    assert LOSSES["mse"].row_weights(np.zeros(3)) is None


def test_per_output_over_steps_with_ignore_class_is_refused(keras):
    loss = keras.losses.SparseCategoricalCrossentropy(ignore_class=0)
    with pytest.raises(ValueError, match=r"^per_output over the steps of 'output' cannot weigh each step by its "
                                         r"labels not ignored \(loss='sparse_categorical_crossentropy "
                                         r"\(ignore_class=0\)'\); pass per_output=False"):
        perturbation_importance(softmax_model, X_SEQ, LABELS_SEQ, loss=loss, method="zero", per_output=True)


def test_all_labels_ignored_is_refused(keras):
    loss = keras.losses.SparseCategoricalCrossentropy(ignore_class=0)
    with pytest.raises(ValueError, match="ignores every label of y: there is nothing to score"):
        perturbation_importance(softmax_model, X, np.zeros(N), loss=loss, method="zero")


def test_a_keras_metric_object_is_read_by_its_name_or_refused(keras):
    assert resolve_loss(keras.metrics.BinaryAccuracy(), has_y=True) is LOSSES["binary_accuracy"]
    assert resolve_loss(keras.metrics.SparseCategoricalAccuracy(), has_y=True) is LOSSES[
        "sparse_categorical_accuracy"]
    with pytest.raises(ValueError, match=r"^loss got the Keras metric object BinaryAccuracy: pyimportance cannot "
                                         r"compute its settings \{'threshold': 0.7\} row by row"):
        resolve_loss(keras.metrics.BinaryAccuracy(threshold=0.7), has_y=True)
    with pytest.raises(ValueError, match=r"^loss got the Keras metric object AUC: pyimportance cannot compute it "):
        resolve_loss(keras.metrics.AUC(), has_y=True)


@pytest.mark.keras3  # keras.ops
def test_a_subclass_of_keras_loss_gives_its_values_per_row(keras):
    class Quartic(keras.losses.Loss):
        def call(self, y_true, y_pred):
            return keras.ops.mean((y_true - y_pred) ** 4, axis=-1)

    loss = Quartic()
    model = lambda X: X[:, :1]  # noqa: E731
    y = X[:, 0] + 0.5 * X[:, 1]
    result = perturbation_importance(model, X, y, loss=loss, method="zero")
    baseline, importances = keras_zero_importances(loss, model, X, y[:, None])
    assert result.baseline_score == pytest.approx(baseline, rel=1e-6)
    np.testing.assert_allclose(result.importances_mean, importances, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(result.row_importances.mean(axis=0), result.importances_mean, atol=1e-12)


POSITIVE = np.exp(0.3 * X[:, :2])
FURTHER = {
    "poisson": (lambda k: k.Poisson(), lambda X: np.exp(0.3 * X[:, :2]) * 1.1, X, POSITIVE),
    "log_cosh": (lambda k: k.LogCosh(), lambda X: X[:, :2] * 0.8, X, X[:, :2]),
    "kl divergence per step": (lambda k: k.KLDivergence(), softmax_model, X_SEQ,
                               0.8 * np.eye(3)[LABELS_SEQ.astype(int)] + 0.2 / 3),
    "cosine similarity per step": (lambda k: k.CosineSimilarity(), lambda X: X[..., :3], X_SEQ, X_SEQ[..., 1:]),
    "binary focal, gamma 3, from logits, 3 labels": (
        lambda k: k.BinaryFocalCrossentropy(gamma=3.0, from_logits=True), lambda X: X @ WEIGHTS, X,
        (X @ WEIGHTS + RNG.normal(size=(N, 3)) > 0).astype(float)),
    "categorical focal per step, sparse labels": (lambda k: k.CategoricalFocalCrossentropy(gamma=1.0),
                                                  softmax_model, X_SEQ, LABELS_SEQ),
    "sparse from logits per step": (lambda k: k.SparseCategoricalCrossentropy(from_logits=True),
                                    lambda X: 2.0 * X @ WEIGHTS, X_SEQ, LABELS_SEQ),
}


@pytest.mark.parametrize("case", list(FURTHER))
def test_further_keras_loss_objects_are_keras_own(losses, case):
    make, model, data, y = FURTHER[case]
    loss = make(losses)
    result = perturbation_importance(model, data, y, loss=loss, method="zero")
    keras_y = np.eye(3)[y.astype(int)] if "focal per step" in case else y  # Keras' focal loss takes one-hot
    baseline, importances = keras_zero_importances(loss, model, data, keras_y)
    assert result.baseline_score == pytest.approx(baseline, rel=2e-6, abs=1e-9)
    np.testing.assert_allclose(result.importances_mean, importances, rtol=1e-4, atol=2e-6 * abs(baseline))


@pytest.mark.parametrize("dtype", [np.float16, np.float32])
def test_a_half_or_single_precision_softmax_is_scored_as_its_float64_values(dtype):
    """float16 probabilities sum to 1 only to ~1e-3: they are still probabilities, and the loss reads
    the values the model returned."""
    model = lambda X: softmax_model(X).astype(dtype)  # noqa: E731
    result = perturbation_importance(model, X_SEQ, LABELS_SEQ, loss="sparse_categorical_crossentropy",
                                     method="zero")
    p = model(X_SEQ).astype(np.float64)
    by_hand = -np.log(np.take_along_axis(p, LABELS_SEQ.astype(int)[..., None], axis=-1)).mean()
    assert result.baseline_score == pytest.approx(by_hand, rel=1e-9)


@pytest.mark.parametrize("make", [lambda k: k.SparseCategoricalCrossentropy(ignore_class=0),
                                  lambda k: k.CategoricalCrossentropy(label_smoothing=0.1),
                                  lambda k: k.KLDivergence()])
def test_keras_computed_losses_pickle_for_executors(losses, make):
    """Executors other than Dask pickle the scoring with the standard pickle: no closures."""
    import pickle

    found = resolve_loss(make(losses), has_y=True)
    again = pickle.loads(pickle.dumps(found))
    y = LABELS if found.counted is not None else np.eye(3)[LABELS.astype(int)]
    np.testing.assert_array_equal(again.per_row(y, softmax_model(X)), found.per_row(y, softmax_model(X)))
    named = resolve_loss("kld", has_y=True)
    uniform = np.full((N, 3), 1 / 3)
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(named)).per_row(uniform, softmax_model(X)),
                                  named.per_row(uniform, softmax_model(X)))
