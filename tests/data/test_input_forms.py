"""The forms ``X`` comes in besides arrays and DataFrames: nested Python lists (2D and 3D, refused
early when ragged), a long DataFrame with a ``(sample, time)`` MultiIndex (refused with the reshape,
which gives the numbers of the 3D array), and a frame whose MultiIndex rows are samples (taken).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from helpers import SEQ_F, SEQ_N, SEQ_T, seq_data, seq_model

from pyimportance import perturbation_importance, shapley_importance


def _table():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(60, 2))
    return X, X[:, 0] + 2 * X[:, 1] + rng.normal(scale=0.1, size=60)


def _linear(x):
    return x[:, 0] + 2 * x[:, 1]


def test_nested_lists_give_the_numbers_of_the_array():
    # before: TypeError 'builtin_function_or_method' object is not subscriptable (list.index), after the run
    X, y = _table()
    as_array = perturbation_importance(_linear, X, y, method="permute", random_state=0)
    as_lists = perturbation_importance(_linear, X.tolist(), y.tolist(), method="permute", random_state=0)
    np.testing.assert_array_equal(as_lists.importances, as_array.importances)
    assert as_lists.importances_mean[1] == pytest.approx(8.0, rel=0.3)  # 2 * var(2 x2) for a permuted x2
    shapley = shapley_importance(_linear, X.tolist(), y.tolist(), random_state=0)
    np.testing.assert_array_equal(shapley.importances, shapley_importance(_linear, X, y, random_state=0).importances)


def test_three_dimensional_nested_lists_give_the_numbers_of_the_array():
    X = seq_data()
    y = seq_model(X)
    as_array = perturbation_importance(seq_model, X, y, method="permute", by="timestep", random_state=0)
    as_lists = perturbation_importance(seq_model, X.tolist(), list(y), method="permute", by="timestep", random_state=0)
    np.testing.assert_array_equal(as_lists.importances, as_array.importances)
    assert as_lists.settings["n_samples"] == SEQ_N and as_lists.importances.shape[0] == SEQ_T


@pytest.mark.parametrize(("X", "message"), [
    ([[1.0, 2.0], [3.0, 4.0], [5.0]],
     "X must be rectangular (every row with the same number of values), got nested lists of different lengths: "
     "X[0] has 2, X[2] has 1; pad the sequences to one length first (e.g. keras.utils.pad_sequences, then pass "
     "mask_value)"),
    ([[[1.0, 2.0], [3.0, 4.0]], [[1.0, 2.0], [3.0]]],
     "X must be rectangular (every row with the same number of values), got nested lists of different lengths: "
     "X[0][0] has 2, X[1][1] has 1; pad the sequences to one length first (e.g. keras.utils.pad_sequences, then "
     "pass mask_value)"),
    ([[1.0, [2.0]], [3.0, 4.0]],
     "X must be rectangular, got nested lists mixing numbers and lists at depth 2 (X[0][0] is not a list)"),
])
def test_ragged_nested_lists_are_refused_before_any_model_call(X, message):
    calls = []
    with pytest.raises(ValueError) as error:
        perturbation_importance(lambda x: calls.append(x) or x[:, 0], X)
    assert str(error.value) == message
    assert calls == []


def _long_frame():
    """(sample, time) rows of SEQ data, shuffled: what a long-form table of windows looks like."""
    X = seq_data()
    index = pd.MultiIndex.from_product([range(SEQ_N), range(SEQ_T)], names=["sample", "time"])
    frame = pd.DataFrame(X.reshape(SEQ_N * SEQ_T, SEQ_F), index=index, columns=["a", "b", "c"])
    return X, frame.sample(frac=1.0, random_state=0)


def test_a_long_frame_is_refused_with_the_reshape_that_gives_the_numbers_of_the_3d_array():
    # before: "y must have one row per sample of X (160), got 40 rows"
    X, long = _long_frame()
    y = seq_model(X)
    with pytest.raises(ValueError) as error:
        perturbation_importance(seq_model, long, y)
    assert str(error.value) == (
        "X looks like a long DataFrame: 160 rows indexed by (sample, time), 40 samples of 4 time steps, where y has "
        "one row per sample (40); pass it as a 3D array (n_samples, n_timesteps, n_features), in y's sample order, "
        "e.g. X = X.sort_index(); X3 = X.to_numpy().reshape(40, 4, 3) with feature_names=list(X.columns) (every "
        "sample needs all 4 time steps; else pad it: X.unstack() shows the gaps)"
    )
    long = long.sort_index()
    X3 = long.to_numpy().reshape(40, 4, 3)
    reshaped = perturbation_importance(seq_model, X3, y, feature_names=list(long.columns), random_state=0)
    direct = perturbation_importance(seq_model, X, y, feature_names=["a", "b", "c"], random_state=0)
    np.testing.assert_array_equal(reshaped.importances, direct.importances)


def test_a_frame_whose_multiindex_rows_are_samples_is_taken():
    X, y = _table()
    panel = pd.DataFrame(X, columns=["price", "ads"],
                         index=pd.MultiIndex.from_product([["north", "south"], range(30)], names=["store", "week"]))
    result = perturbation_importance(_linear, panel, y, method="permute", random_state=0)
    np.testing.assert_array_equal(result.importances,
                                  perturbation_importance(_linear, X, y, method="permute", random_state=0).importances)
    assert result.row_index[0] == ("north", 0)  # the frame's labels kept for the row importances


def test_a_list_of_one_dimensional_rows_is_the_array_of_those_rows():
    # list(X) of a 2D array: before, each row was taken for a model input ("X['input1'] must be 2D")
    X, y = _table()
    as_rows = perturbation_importance(_linear, list(X), y, method="permute", random_state=0)
    np.testing.assert_array_equal(as_rows.importances,
                                  perturbation_importance(_linear, X, y, method="permute", random_state=0).importances)


def test_a_frame_of_nullable_integers_gives_the_numbers_of_its_float_values():
    X, y = _table()
    frame = pd.DataFrame({"count": pd.array(np.round(X[:, 0] * 3).astype(int), dtype="Int64"), "price": X[:, 1]})
    values = frame.to_numpy(dtype=float)
    result = perturbation_importance(_linear, frame, y, method="permute", random_state=0)
    direct = perturbation_importance(_linear, values, y, method="permute", random_state=0)
    np.testing.assert_array_equal(result.importances, direct.importances)
    assert result.feature == ["count", "price"]


@pytest.mark.keras
def test_a_keras_model_gives_the_same_numbers_for_any_dtype_and_memory_order_of_the_same_values(keras):
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((6, 3)), keras.layers.LSTM(8), keras.layers.Dense(1)])
    X = np.random.default_rng(0).normal(size=(120, 6, 3)).astype("float16").astype("float32")  # float16-exact
    y = X[:, -1, 0]
    base = perturbation_importance(model, X, y, n_repeats=2, random_state=0, progress=False).importances
    for variant in (X.astype("float16"), X.astype("float64"), np.asfortranarray(X), X.tolist()):
        again = perturbation_importance(model, variant, y, n_repeats=2, random_state=0, progress=False).importances
        np.testing.assert_array_equal(again, base)


@pytest.mark.keras
def test_a_list_of_samples_for_a_one_input_keras_model_is_refused_with_np_stack(keras):
    model = keras.Sequential([keras.Input((6, 3), name="window"), keras.layers.LSTM(4), keras.layers.Dense(1)])
    X = np.zeros((30, 6, 3), dtype="float32")
    with pytest.raises(ValueError) as error:
        perturbation_importance(model, list(X))
    assert str(error.value) == (
        "X must have one array per model input (1: ['window']), got 30 arrays; "
        "if they are samples (list(X) of an array), pass np.stack(X)"
    )
