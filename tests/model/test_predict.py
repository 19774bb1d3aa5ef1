"""Turning models into batched predict functions; prediction matrices; input checks."""

from __future__ import annotations

import numpy as np
import pytest

from pyimportance import ModelOutputError, perturbation_importance
from pyimportance.predict import PredictFunction, as_prediction_matrix, check_model_input

# ---------------------------------------------------------------- as_prediction_matrix


def test_1d_output_becomes_one_column():
    matrix = as_prediction_matrix(np.arange(4), 4)
    assert matrix.shape == (4, 1) and matrix.dtype == np.float64
    np.testing.assert_array_equal(matrix[:, 0], [0, 1, 2, 3])


def test_3d_output_is_flattened_per_row():
    output = np.arange(24, dtype=np.float32).reshape(4, 3, 2)
    np.testing.assert_array_equal(as_prediction_matrix(output, 4), output.reshape(4, 6))


def test_list_and_tuple_outputs_are_concatenated_in_order():
    first, second = np.zeros((3, 1)), np.ones((3, 2))
    expected = np.hstack([first, second])
    np.testing.assert_array_equal(as_prediction_matrix([first, second], 3), expected)
    np.testing.assert_array_equal(as_prediction_matrix((first, second), 3), expected)


def test_dict_outputs_are_concatenated_in_key_order():
    output = {"b_head": np.ones((2, 1)), "a_head": np.zeros((2, 2))}
    np.testing.assert_array_equal(as_prediction_matrix(output, 2), [[0, 0, 1], [0, 0, 1]])


def test_a_list_of_numbers_is_one_column():
    np.testing.assert_array_equal(as_prediction_matrix([1.0, 2.0, 3.0], 3), [[1.0], [2.0], [3.0]])


def test_wrong_row_counts_are_rejected():
    with pytest.raises(ModelOutputError) as error:
        as_prediction_matrix(np.zeros((3, 1)), 4)
    assert str(error.value) == "model must return one prediction row per input row (4), got output of shape (3, 1)"
    with pytest.raises(ModelOutputError, match=r"^model must return one prediction row per input row \(4\), got "):
        as_prediction_matrix(1.5, 4)


def test_non_finite_and_non_numeric_outputs_are_rejected():
    with pytest.raises(ModelOutputError, match=r"^model returned NaN or infinite predictions"):
        as_prediction_matrix(np.array([1.0, np.nan]), 2)
    with pytest.raises(ModelOutputError, match=r"^model must return numeric predictions, got ndarray"):
        as_prediction_matrix(np.array(["a", "b"]), 2)
    assert issubclass(ModelOutputError, ValueError)


def test_bad_model_output_surfaces_from_the_public_function():
    X = np.zeros((5, 2, 2))
    with pytest.raises(ModelOutputError, match=r"^model must return one prediction row per input row \(\d+\), got "):
        perturbation_importance(lambda x: x[:2, 0, 0], X)


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


def test_check_model_input_ignores_non_keras_models():
    check_model_input(lambda x: x, (10, 3, 2))


# ---------------------------------------------------------------- Keras models


@pytest.fixture
def lstm(keras):
    keras.utils.set_random_seed(9)
    return keras.Sequential([keras.Input((5, 3)), keras.layers.LSTM(6), keras.layers.Dense(2)])


@pytest.fixture
def chunk():
    return np.random.default_rng(2).normal(size=(16, 5, 3)).astype(np.float32)


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
def test_tensor_outputs_are_converted(keras):
    import tensorflow as tf

    np.testing.assert_array_equal(as_prediction_matrix(tf.constant([[1.0], [2.0]]), 2), [[1.0], [2.0]])
    np.testing.assert_array_equal(as_prediction_matrix([tf.ones((2, 1)), tf.zeros((2, 1))], 2), [[1, 0], [1, 0]])


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
def test_keras_dense_model_takes_2d_X(keras):
    keras.utils.set_random_seed(1)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    X = np.random.default_rng(0).normal(size=(20, 3))
    result = perturbation_importance(model, X, method="zero", n_repeats=1, batch_size=8)
    weights = model.layers[0].get_weights()[0][:, 0].astype(np.float64)
    np.testing.assert_allclose(result.importances_mean, np.abs(weights) * np.abs(X).mean(axis=0), rtol=1e-5)


@pytest.mark.keras
@pytest.mark.parametrize(
    "shape, given",
    [((10, 4, 3), "(10, 4, 3)"), ((10, 5, 2), "(10, 5, 2)"), ((10, 3), "(10, 3)")],
    ids=["wrong_timesteps", "wrong_features", "2d"],
)
def test_check_model_input_rejects_X_the_model_cannot_take(lstm, shape, given):
    expected = "X does not fit the model: the model expects input of shape (None, 5, 3), got X of shape " + given
    with pytest.raises(ValueError) as error:
        check_model_input(lstm, shape)
    assert str(error.value) == expected
    with pytest.raises(ValueError) as error:
        perturbation_importance(lstm, np.zeros(shape))
    assert str(error.value) == expected


@pytest.mark.keras
def test_check_model_input_accepts_variable_length_sequences(keras):
    model = keras.Sequential([keras.Input((None, 3)), keras.layers.LSTM(2), keras.layers.Dense(1)])
    check_model_input(model, (10, 7, 3))
    with pytest.raises(ValueError, match=r"expects input of shape \(None, None, 3\)"):
        check_model_input(model, (10, 7, 4))


@pytest.mark.keras
def test_a_model_is_compiled_once_across_runs_and_freed_with_the_model(keras, chunk):
    import gc
    import weakref

    from pyimportance import predict

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
