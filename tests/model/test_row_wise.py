"""The row-wise checks (pyimportance.model.row_wise): a model whose predictions for a row depend on
the other rows of the call (standardising within the batch) or on chance (MC dropout: a layer
called with training=True) is refused before the run, every time; deterministic Keras models (an
LSTM, batch normalisation and dropout at inference) pass.
"""

from __future__ import annotations

import numpy as np
import pytest
from helpers import seq_data

from pyimportance import NotRowWiseError, perturbation_importance, shapley_importance


def _standardise_within_batch(X):
    last = X[:, -1, 0]
    return (last - last.mean()) / (last.std() + 1e-9) + 0.0 * X[:, 0, 2]


def test_a_model_that_reads_other_rows_of_the_call_is_refused():
    with pytest.raises(NotRowWiseError, match=r"^model is not row-wise: the predictions for the same rows changed"):
        perturbation_importance(_standardise_within_batch, seq_data(), random_state=0)


def test_a_random_model_is_refused_too():
    rng = np.random.default_rng(0)
    with pytest.raises(NotRowWiseError, match=r"^model is not deterministic: predicting the same 40 rows twice"):
        perturbation_importance(lambda x: x[:, -1, 0] + rng.normal(size=len(x)), seq_data(), random_state=0)


def _mc_dropout_model(keras, rate=0.01):
    """A subclassed model calling its Dropout layer with training=True (MC dropout)."""

    class MonteCarloDropout(keras.Model):
        def __init__(self):
            super().__init__()
            self.recurrent = keras.layers.LSTM(8)
            self.dropout = keras.layers.Dropout(rate)
            self.head = keras.layers.Dense(1)

        def call(self, x, training=None):
            return self.head(self.dropout(self.recurrent(x), training=True))

    keras.utils.set_random_seed(0)
    model = MonteCarloDropout()
    model(np.zeros((2, 6, 3), dtype="float32"))
    return model


def _sequences(n=200):
    X = np.random.default_rng(0).normal(size=(n, 6, 3)).astype("float32")
    return X, X[:, -1, 0]


@pytest.mark.keras
def test_mc_dropout_is_refused_in_every_call_with_the_fix_and_the_fix_works_on_the_same_model(keras):
    # before: refused in 3 of 6 calls, the others gave different numbers for the same random_state
    model = _mc_dropout_model(keras)
    X, y = _sequences()
    for _ in range(10):
        with pytest.raises(NotRowWiseError) as error:
            perturbation_importance(model, X, y, n_repeats=1, random_state=0, progress=False)
        message = str(error.value)
        assert message.startswith("model is not deterministic: predicting the same 200 rows twice, in the same calls")
        assert "Build the model without training=True" in message and "layer.rate = 0.0" in message
    model.dropout.rate = 0.0  # the fix the message names, on the same model object
    first = perturbation_importance(model, X, y, n_repeats=2, random_state=0, progress=False)
    again = perturbation_importance(model, X, y, n_repeats=2, random_state=0, progress=False, batch_size=64)
    np.testing.assert_array_equal(first.importances, again.importances)


@pytest.mark.keras
def test_mc_dropout_is_refused_by_shapley_importance_too(keras):
    X, y = _sequences(120)
    with pytest.raises(NotRowWiseError, match=r"^model is not deterministic"):
        shapley_importance(_mc_dropout_model(keras), X, y, n_repeats=2, random_state=0, progress=False)


@pytest.mark.keras
@pytest.mark.parametrize("layer", ["lstm", "batch_norm", "dropout"])
def test_deterministic_models_pass_and_give_the_same_numbers_for_the_same_seed(keras, layer):
    keras.utils.set_random_seed(1)
    extra = {"lstm": [], "batch_norm": [keras.layers.BatchNormalization()], "dropout": [keras.layers.Dropout(0.5)]}
    model = keras.Sequential([keras.Input((6, 3)), keras.layers.LSTM(8), *extra[layer], keras.layers.Dense(1)])
    X, y = _sequences()
    if layer == "batch_norm":  # moving statistics away from their initial values, as after training
        model.compile(optimizer="adam", loss="mse")
        model.fit(X, y, epochs=1, batch_size=50, verbose=0)
    first = perturbation_importance(model, X, y, n_repeats=2, random_state=0, progress=False)
    again = perturbation_importance(model, X, y, n_repeats=2, random_state=0, progress=False, batch_size=48)
    np.testing.assert_array_equal(first.importances, again.importances)


def test_rounding_between_identical_calls_passes_and_dropout_sized_changes_are_refused():
    from pyimportance.model.row_wise import check_repeatable

    baseline = np.random.default_rng(0).normal(size=(50, 1))

    class Predict:  # the block predicted again: the baseline, changed by `shift` relative to its scale
        batch_rows, model = 16, None

        def __init__(self, shift):
            self.shift = shift

        def __call__(self, rows):
            return baseline[rows] * (1 + self.shift)

    check_repeatable(Predict(1e-12), lambda rows: rows, baseline)  # NumPy sums rounding with memory alignment
    with pytest.raises(NotRowWiseError, match=r"changed the predictions of 50 of them"):
        check_repeatable(Predict(1e-3), lambda rows: rows, baseline)


def test_a_numpy_model_whose_sums_round_with_memory_alignment_passes():
    # np.tanh(x).sum(axis=(1, 2)) on an R (Fortran-order) array differed by 2e-15 between two identical calls
    X = np.asfortranarray(np.random.default_rng(1).normal(size=(10, 20, 8)))
    result = perturbation_importance(lambda x: np.tanh(x).sum(axis=(1, 2)), X, n_repeats=1, random_state=0)
    assert np.isfinite(result.importances).all()
