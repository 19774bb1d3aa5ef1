"""No silent wrong answers (issue 10): targets, logits, seeds, deterministic methods, Keras loss names."""

from __future__ import annotations

import numpy as np
import pytest

from pyimportance import perturbation_importance

N = 120


def _three_class_model(X):
    logits = np.stack([X[:, -1, 0], -X[:, -1, 0], 0.5 * X[:, -1, 1]], axis=1)
    exp = np.exp(logits - logits.max(axis=1, keepdims=True))
    return exp / exp.sum(axis=1, keepdims=True)


def _sigmoid_model(X):
    return (1.0 / (1.0 + np.exp(-2.0 * X[:, -1, 0])))[:, None]


@pytest.fixture
def X():
    return np.random.default_rng(3).normal(size=(N, 4, 3))


@pytest.fixture
def labels(X):
    rng = np.random.default_rng(4)
    probabilities = _three_class_model(X)
    return np.array([rng.choice(3, p=row) for row in probabilities])


@pytest.mark.parametrize("loss", ["accuracy", "log_loss"])
def test_integer_labels_shaped_n_by_1_are_labels_not_one_hot(X, labels, loss):
    flat = perturbation_importance(_three_class_model, X, labels, loss=loss, method="permute", random_state=0)
    column = perturbation_importance(_three_class_model, X, labels[:, None], loss=loss, method="permute",
                                     random_state=0)
    assert column.baseline_score == flat.baseline_score
    np.testing.assert_array_equal(column.importances, flat.importances)
    assert flat.importances_mean[0] > 0.05  # x1 drives the classes: a broken argmax-of-one-column gives 0


def test_one_hot_y_for_a_one_output_sigmoid_model_is_refused(X):
    y = np.eye(2)[(X[:, -1, 0] > 0).astype(int)]
    with pytest.raises(ValueError, match=r"got 2 columns \(one-hot y for a one-output sigmoid model"):
        perturbation_importance(_sigmoid_model, X, y, loss="accuracy")


def test_logits_under_log_loss_are_refused_with_the_fix(X):
    y = (X[:, -1, 0] > 0).astype(int)
    with pytest.raises(ValueError, match=r"it seems to output logits.*from_logits=True\)$"):
        perturbation_importance(lambda x: 2.0 * x[:, -1, 0], X, y, loss="log_loss")


@pytest.mark.keras
def test_a_keras_from_logits_loss_scores_logits_like_the_probabilities(keras, X):
    y = (np.random.default_rng(5).random(N) < _sigmoid_model(X)[:, 0]).astype(int)
    logits = perturbation_importance(lambda x: 2.0 * x[:, -1, 0], X, y, method="permute", random_state=1,
                                     loss=keras.losses.BinaryCrossentropy(from_logits=True))
    probabilities = perturbation_importance(_sigmoid_model, X, y, loss="binary_crossentropy", method="permute",
                                            random_state=1)
    assert logits.baseline_score == pytest.approx(probabilities.baseline_score, rel=1e-9)
    np.testing.assert_allclose(logits.importances, probabilities.importances, rtol=1e-6, atol=1e-12)
    assert logits.settings["loss"] == "binary_crossentropy (from logits)"


def test_spawned_seed_sequences_give_independent_runs(X):
    def run(seed):
        return perturbation_importance(_three_class_model, X, random_state=seed, n_repeats=2).importances

    first, second = np.random.SeedSequence(123).spawn(2)
    assert not np.array_equal(run(first), run(second))
    np.testing.assert_array_equal(run(first), run(np.random.SeedSequence(123).spawn(2)[0]))
    assert not np.array_equal(run(first), run(np.random.SeedSequence(123)))


@pytest.mark.parametrize("method", ["zero", "mean"])
def test_deterministic_methods_are_evaluated_once_with_std_0_and_no_repeats_interval(X, method):
    calls = []

    def model(x):
        calls.append(len(x))
        return x[:, -1, 0] + 0.5 * x[:, -1, 1]

    result = perturbation_importance(model, X, method=method, n_repeats=5, ci="repeats", batch_size=N)
    assert len(calls) == 1 + 1 + 3  # baseline, row-wise check, one call per feature
    assert result.importances.shape == (3, 1)
    np.testing.assert_array_equal(result.importances_std, 0.0)
    assert np.isnan(result.ci_low).all() and np.isnan(result.ci_high).all() and np.isnan(result.p_value).all()
    assert result.settings["n_repeats"] == 1
    assert "evaluated once (deterministic method)" in repr(result).splitlines()[0]
    assert "deterministic method: no interval over repeats" in repr(result).splitlines()[1]


def test_deterministic_methods_still_get_a_data_interval(X):
    result = perturbation_importance(lambda x: x[:, -1, 0], X, method="zero", ci="data")
    assert result.ci_low[0] < result.importances_mean[0] < result.ci_high[0]
    assert result.ci_high[1] == result.ci_low[1] == 0.0


@pytest.mark.parametrize(
    ("name", "same_as"),
    [("mean_squared_error", "mse"), ("MSE", "mse"), ("mean_absolute_error", "mae"),
     ("sparse_categorical_crossentropy", "categorical_crossentropy"), ("Accuracy", "accuracy")],
)
def test_keras_loss_names_give_the_same_numbers_as_ours(X, labels, name, same_as):
    y = labels if "categ" in same_as or same_as == "accuracy" else X[:, -1, 0]
    model = _three_class_model if y is labels else (lambda x: x[:, -1, 0] * 0.9)
    theirs = perturbation_importance(model, X, y, loss=name, random_state=2)
    ours = perturbation_importance(model, X, y, loss=same_as, random_state=2)
    np.testing.assert_array_equal(theirs.importances, ours.importances)
    assert theirs.settings["loss"] == same_as
