"""A ``tf.data.Dataset`` as ``X`` (pyimportance.data.tf_dataset): its (x, y) batches taken as Keras' evaluate takes
them, with the numbers of the same arrays passed directly; x-only datasets, several inputs as a dict; a ``y``
given twice, weights in the dataset and an endless dataset refused."""

from __future__ import annotations

import numpy as np
import pytest

from pyimportance import perturbation_importance, shapley_importance

pytestmark = pytest.mark.keras

STEPS = 8


@pytest.fixture
def windows(keras):
    """A series windowed by keras.utils.timeseries_dataset_from_array, the same windows as arrays, and an LSTM."""
    series = np.random.default_rng(0).normal(size=(300, 3)).astype("float32")
    targets = series[STEPS:, 0] + 0.5 * series[STEPS - 2 : -2, 1]  # x1 at the window's end, x2 two steps before
    dataset = keras.utils.timeseries_dataset_from_array(series, targets, sequence_length=STEPS, batch_size=64)
    X = np.stack([series[i : i + STEPS] for i in range(len(targets))])
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((STEPS, 3)), keras.layers.LSTM(8), keras.layers.Dense(1)])
    return dataset, X, targets, model


def test_a_windowed_dataset_gives_the_numbers_of_the_same_arrays(windows):
    # before: "X must be numeric, got an array of dtype object"
    dataset, X, y, model = windows
    for function in (perturbation_importance, shapley_importance):
        from_dataset = function(model, dataset, loss="mae", n_repeats=2, random_state=0, progress=False)
        direct = function(model, X, y, loss="mae", n_repeats=2, random_state=0, progress=False)
        np.testing.assert_array_equal(from_dataset.importances, direct.importances)
        np.testing.assert_array_equal(from_dataset.baseline_scores, direct.baseline_scores)
        assert from_dataset.settings["n_samples"] == len(y) == 292


def test_a_dataset_of_x_only_works_without_y(windows):
    dataset, X, _, model = windows
    inputs_only = dataset.map(lambda x, y: x)
    from_dataset = perturbation_importance(model, inputs_only, n_repeats=2, random_state=0, progress=False)
    direct = perturbation_importance(model, X, n_repeats=2, random_state=0, progress=False)
    np.testing.assert_array_equal(from_dataset.importances, direct.importances)


def test_a_dataset_of_dicts_feeds_a_model_with_several_inputs(keras):
    import tensorflow as tf

    rng = np.random.default_rng(1)
    sequence, static = rng.normal(size=(90, 4, 2)).astype("float32"), rng.normal(size=(90, 2)).astype("float32")
    y = sequence[:, -1, 0] + static[:, 1]
    seq_in, static_in = keras.Input((4, 2), name="seq"), keras.Input((2,), name="static")
    joined = keras.layers.Concatenate()([keras.layers.LSTM(4)(seq_in), static_in])
    model = keras.Model({"seq": seq_in, "static": static_in}, keras.layers.Dense(1)(joined))
    dataset = tf.data.Dataset.from_tensor_slices(({"seq": sequence, "static": static}, y)).batch(32)
    from_dataset = perturbation_importance(model, dataset, n_repeats=2, random_state=0, progress=False)
    direct = perturbation_importance(model, {"seq": sequence, "static": static}, y, n_repeats=2, random_state=0,
                                     progress=False)
    np.testing.assert_array_equal(from_dataset.importances, direct.importances)
    assert from_dataset.feature == direct.feature


def test_y_given_beside_a_dataset_weights_in_it_and_an_endless_dataset_are_refused(windows):
    dataset, X, y, model = windows
    with pytest.raises(ValueError) as error:
        perturbation_importance(model, dataset, y)
    assert str(error.value).startswith(
        "y must be left out when X is a tf.data.Dataset (as in keras' evaluate): the dataset's (x, y) batches hold "
        "the targets")
    with pytest.raises(TypeError, match=r"^y must be an array, got a tf.data.Dataset"):
        perturbation_importance(model, X, dataset.map(lambda x, y: y))
    weighted = dataset.map(lambda x, y: (x, y, y * 0 + 1))
    with pytest.raises(ValueError) as error:
        perturbation_importance(model, weighted)
    assert str(error.value) == (
        "X is a tf.data.Dataset of (x, y, sample_weight) batches; sample weights from a dataset are not taken: map "
        "them out, e.g. X.map(lambda x, y, w: (x, y)), and pass the weights apart where the function takes them"
    )
    with pytest.raises(ValueError, match=r"^X is an endless tf.data.Dataset \(.repeat\(\)\); pass a finite one"):
        perturbation_importance(model, dataset.repeat())
