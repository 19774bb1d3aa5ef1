"""The compiled predict function (pyimportance.model.predict): objects with ``.predict`` and plain
callables, scikit-learn classifiers asked for probabilities, padded chunks that give the rows of
unpadded ones, XLA on and off, one compiled function per model freed with it, and a model whose
output shape changes between calls named.
"""

from __future__ import annotations

import numpy as np
import pytest
from helpers import SEQ_N, seq_data

from pyimportance import ModelOutputError, perturbation_importance
from pyimportance.model.predict import PredictFunction

# ---------------------------------------------------------------- generic models


def test_objects_with_predict_are_called_through_predict():
    class Model:
        def predict(self, X):
            return X[:, 0] * 2

        def __call__(self, X):
            raise AssertionError("__call__ must not be used when .predict exists")

    predict = PredictFunction(Model(), batch_rows=4)
    np.testing.assert_array_equal(predict(np.ones((3, 2))), [[2.0], [2.0], [2.0]])
    assert predict.dtype == np.float64


def test_plain_callables_are_called_without_padding():
    seen = []

    def model(X):
        seen.append(X.shape[0])
        return X.sum(axis=1)

    predict = PredictFunction(model, batch_rows=8)
    assert predict(np.ones((3, 2))).shape == (3, 1)
    assert seen == [3]


def test_a_scikit_learn_classifier_is_scored_on_its_probabilities():
    from sklearn import metrics
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(1)
    X = rng.normal(size=(400, 3))
    y = (rng.random(400) < 1 / (1 + np.exp(-2 * X[:, 0]))).astype(int)
    classifier = LogisticRegression().fit(X, y)
    result = perturbation_importance(classifier, X, y, loss="log_loss", method="permute", random_state=0)
    assert result.baseline_score == pytest.approx(metrics.log_loss(y, classifier.predict_proba(X)), rel=1e-12)
    assert result.importances_mean[0] > 0.2  # hard labels gave a negative importance here
    binary = perturbation_importance(classifier, X, y, loss="binary_crossentropy", method="permute", random_state=0)
    assert binary.baseline_score == pytest.approx(result.baseline_score, rel=1e-9)
    accuracy = perturbation_importance(classifier, X, y, loss="accuracy", random_state=0)
    assert accuracy.baseline_score == pytest.approx(metrics.accuracy_score(y, classifier.predict(X)))


def test_a_model_whose_output_width_changes_is_named():
    def model(x):
        return np.stack([x[:, -1, 0]] * (2 if len(x) == SEQ_N else 3), axis=1)

    with pytest.raises(ModelOutputError) as error:
        perturbation_importance(model, seq_data(), batch_size=SEQ_N + 5)
    assert str(error.value) == (
        "model returned output of per-row shape (3,) in this call but (2,) in an earlier one; "
        "the model must return the same shape for every call"
    )


# ---------------------------------------------------------------- Keras models


@pytest.mark.keras
def test_padded_chunks_give_the_same_rows_as_unpadded(lstm, chunk):
    padded = PredictFunction(lstm, batch_rows=16)(chunk[:5])
    unpadded = PredictFunction(lstm, batch_rows=5)(chunk[:5])
    full = PredictFunction(lstm, batch_rows=16)(chunk)
    assert padded.shape == (5, 2)
    np.testing.assert_array_equal(padded, full[:5])
    np.testing.assert_allclose(padded, unpadded, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(padded, lstm.predict(chunk[:5], verbose=0), rtol=1e-5, atol=1e-6)


@pytest.mark.keras
def test_padding_works_for_list_outputs(keras, chunk):
    inputs = keras.Input((5, 3))
    hidden = keras.layers.GRU(3)(inputs)
    model = keras.Model(inputs, [keras.layers.Dense(1)(hidden), keras.layers.Dense(2)(hidden)])
    predictions = PredictFunction(model, batch_rows=16)(chunk[:3])
    expected = np.concatenate(model.predict(chunk[:3], verbose=0), axis=1)
    assert predictions.shape == (3, 3)
    np.testing.assert_allclose(predictions, expected, rtol=1e-5, atol=1e-6)


@pytest.mark.keras
def test_xla_on_and_off_give_close_predictions(lstm, chunk):
    with_xla = PredictFunction(lstm, batch_rows=16, jit_compile=True)(chunk)
    without_xla = PredictFunction(lstm, batch_rows=16, jit_compile=False)(chunk)
    np.testing.assert_allclose(with_xla, without_xla, rtol=1e-5, atol=1e-6)
    X = chunk.astype(np.float64)
    results = [
        perturbation_importance(lstm, X, n_repeats=2, random_state=0, jit_compile=flag) for flag in (True, False)
    ]
    np.testing.assert_allclose(results[0].importances, results[1].importances, rtol=1e-4, atol=1e-7)


@pytest.mark.keras
def test_a_model_is_compiled_once_across_runs_and_freed_with_the_model(keras, chunk):
    import gc
    import weakref

    from pyimportance.model import predict

    model = keras.Sequential([keras.Input(chunk.shape[1:]), keras.layers.LSTM(3), keras.layers.Dense(1)])
    first = PredictFunction(model, batch_rows=8, jit_compile=False)
    second = PredictFunction(model, batch_rows=8, jit_compile=False)
    assert first._forward is second._forward
    np.testing.assert_array_equal(first(chunk[:8]), second(chunk[:8]))
    assert first._forward.experimental_get_tracing_count() == 1
    model_ref = weakref.ref(model)
    del model, first, second
    gc.collect()
    assert model_ref() is None
    assert all(key is not None for key in predict._COMPILED_FORWARDS.keys())
