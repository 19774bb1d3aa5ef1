"""The model's output as predictions (pyimportance.model.outputs): arrays, lists, tuples, dicts and
tensors as one prediction matrix, and the refusals of outputs with the wrong rows, non-finite or
non-numeric values, or a pandas index out of order; a list of rows works.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from helpers import seq_data, seq_model

from pyimportance import ModelOutputError, perturbation_importance
from pyimportance.model.outputs import as_prediction_matrix


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


@pytest.mark.keras
def test_tensor_outputs_are_converted(keras):
    import tensorflow as tf

    np.testing.assert_array_equal(as_prediction_matrix(tf.constant([[1.0], [2.0]]), 2), [[1.0], [2.0]])
    np.testing.assert_array_equal(as_prediction_matrix([tf.ones((2, 1)), tf.zeros((2, 1))], 2), [[1, 0], [1, 0]])


def test_a_model_returning_a_reordered_series_is_refused():
    def model(x):
        return pd.Series(x[:, -1, 0], index=np.arange(len(x))[::-1])

    with pytest.raises(ModelOutputError, match="whose index is not 0..n-1 in order"):
        perturbation_importance(model, seq_data())


def test_a_model_returning_a_list_of_rows_works():
    X = seq_data()
    as_list = perturbation_importance(lambda x: seq_model(x)[:, None].tolist(), X, random_state=0)
    as_array = perturbation_importance(seq_model, X, random_state=0)
    np.testing.assert_array_equal(as_list.importances, as_array.importances)
