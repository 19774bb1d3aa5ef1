"""The detector of integer / categorical features (pyimportance.data.categorical): from the model's input
dtype, from integer-typed data, and one-hot runs; float data is never a code by its values alone."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pyimportance.data.categorical import categorical_features, is_integer_dtype
from pyimportance.data.check_x import check_X
from pyimportance.data.padding import with_masks


def _one_hot(codes: np.ndarray, levels: int) -> np.ndarray:
    return np.eye(levels)[codes]


def test_an_integer_model_input_makes_every_feature_of_that_input_a_code():
    X = [np.zeros((6, 4, 2)), np.zeros((6, 3))]
    found = categorical_features(check_X(X), ["float32", "int32"])
    assert found.kinds == {(1, 0): "model input", (1, 1): "model input", (1, 2): "model input"}
    assert found.model_dtypes == {1: "int32"}
    assert found.kind((0, 0)) is None


def test_integer_and_bool_arrays_are_integer_data_and_float_whole_numbers_are_not():
    codes = np.random.default_rng(0).integers(0, 5, size=(20, 3, 2))
    assert categorical_features(check_X(codes)).kinds == {(0, 0): "integer data", (0, 1): "integer data"}
    assert categorical_features(check_X(codes > 2)).kinds == {(0, 0): "integer data", (0, 1): "integer data"}
    assert not categorical_features(check_X(codes.astype(np.float64)))


def test_dataframe_columns_are_judged_one_by_one():
    frame = pd.DataFrame({"price": [1.5, 2.0, 3.5, 4.0], "store": pd.array([1, 2, 1, 3], dtype="Int64"),
                          "open": [True, False, True, True]})
    assert categorical_features(check_X(frame)).kinds == {(0, 1): "integer data", (0, 2): "integer data"}


def test_the_model_dtype_wins_over_the_data_dtype():
    found = categorical_features(check_X(np.ones((5, 2), dtype=np.int64)), ["int64"])
    assert set(found.kinds.values()) == {"model input"}


def test_consecutive_dummy_columns_summing_to_one_are_a_one_hot_run():
    rng = np.random.default_rng(1)
    X = np.concatenate([rng.normal(size=(50, 1)), _one_hot(rng.integers(0, 3, 50), 3),
                        _one_hot(rng.integers(0, 2, 50), 2), rng.integers(0, 2, (50, 1)).astype(float)], axis=1)
    found = categorical_features(check_X(X))
    assert found.one_hot == (((0, 1), (0, 2), (0, 3)), ((0, 4), (0, 5)))
    assert found.kind((0, 2)) == "one-hot" and found.one_hot_run((0, 5)) == ((0, 4), (0, 5))
    assert found.kind((0, 6)) is None  # a lone 0/1 column is a measurement


def test_one_hot_columns_of_a_sequence_are_found_on_the_real_steps_only():
    rng = np.random.default_rng(2)
    X = np.concatenate([rng.normal(size=(30, 5, 1)) + 3, _one_hot(rng.integers(0, 2, (30, 5)), 2)], axis=2)
    X[:10, :2] = 0.0  # padding: no category at all on those steps
    assert categorical_features(check_X(X)).one_hot == ()
    masked = with_masks(check_X(X), 0.0, {})
    assert categorical_features(masked).one_hot == (((0, 1), (0, 2)),)


@pytest.mark.parametrize("columns", [
    np.array([[1, 0], [0.5, 0.5], [0, 1]]),  # not 0/1
    np.array([[1, 0], [1, 1], [0, 1]], dtype=float),  # a row with two ones
    np.array([[1, 0], [0, 0], [0, 1]], dtype=float),  # a row with none
])
def test_columns_that_break_the_one_hot_pattern_are_not_a_run(columns):
    assert categorical_features(check_X(columns)).one_hot == ()


def test_dtypes_from_numpy_pandas_and_keras_names_are_recognised():
    assert [is_integer_dtype(d) for d in (np.int32, np.dtype("uint8"), "int32", "bool", pd.Int64Dtype())] == [True] * 5
    assert [is_integer_dtype(d) for d in ("float32", np.float64, "bfloat16", None)] == [False] * 4


@pytest.mark.keras
def test_a_keras_embedding_input_of_int32_is_read_from_the_model(keras):
    from pyimportance.model.keras import keras_input_dtypes

    codes = keras.Input((4,), dtype="int32", name="day")
    values = keras.Input((4, 2), name="sales")
    joined = keras.layers.Concatenate()([keras.layers.Embedding(5, 2)(codes), values])
    model = keras.Model([values, codes], keras.layers.Dense(1)(keras.layers.Flatten()(joined)))
    assert keras_input_dtypes(model) == ["float32", "int32"]
    X = [np.zeros((3, 4, 2)), np.zeros((3, 4))]
    kinds = categorical_features(check_X(X), keras_input_dtypes(model)).kinds
    assert kinds == {(1, step): "model input" for step in range(4)}
