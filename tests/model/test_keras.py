"""Keras introspection (pyimportance.model.keras): ``X`` checked against the model's input shape
(variable-length sequences accepted, anything else ignored), a Dense model on 2D ``X``, and
stateful layers refused with the fix.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from helpers import SEQ_F, SEQ_N, SEQ_T, seq_data

from pyimportance import NotRowWiseError, perturbation_importance
from pyimportance.model.keras import check_model_input


def test_check_model_input_ignores_non_keras_models():
    check_model_input(lambda x: x, (10, 3, 2))


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


# ---------------------------------------------------------------- X that does not fit the model


@pytest.fixture(scope="module")
def keras_models():
    import keras

    keras.utils.set_random_seed(0)
    recurrent = keras.Sequential([keras.Input((5, 3)), keras.layers.LSTM(4), keras.layers.Dense(1)])
    dense = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    return {"recurrent": recurrent, "dense": dense}


KERAS_CASES = {
    "2D X for a 3D model": ("recurrent", (12, 3),
                            "X does not fit the model: the model expects input of shape (None, 5, 3), "
                            "got X of shape (12, 3)"),
    "wrong timesteps": ("recurrent", (12, 4, 3),
                        "X does not fit the model: the model expects input of shape (None, 5, 3), "
                        "got X of shape (12, 4, 3)"),
    "wrong features": ("recurrent", (12, 5, 2),
                       "X does not fit the model: the model expects input of shape (None, 5, 3), "
                       "got X of shape (12, 5, 2)"),
    "3D X for a 2D model": ("dense", (12, 5, 3),
                            "X does not fit the model: the model expects input of shape (None, 3), "
                            "got X of shape (12, 5, 3)"),
    "2D X with wrong features": ("dense", (12, 4),
                                 "X does not fit the model: the model expects input of shape (None, 3), "
                                 "got X of shape (12, 4)"),
}


@pytest.mark.keras
@pytest.mark.parametrize("case", list(KERAS_CASES), ids=list(KERAS_CASES))
def test_keras_model_rejects_x_of_the_wrong_shape(keras_models, case):
    name, shape, message = KERAS_CASES[case]
    X = np.random.default_rng(0).normal(size=shape)
    X.flags.writeable = False
    X_before = X.copy()
    with pytest.raises(ValueError, match=re.escape(message)) as caught:
        perturbation_importance(keras_models[name], X, n_repeats=1, random_state=0)
    assert str(caught.value) == message
    np.testing.assert_array_equal(X, X_before)


# ---------------------------------------------------------------- stateful models


@pytest.mark.keras
def test_a_stateful_keras_model_is_refused_with_the_fix(keras):
    model = keras.Sequential([keras.Input((SEQ_T, SEQ_F), batch_size=SEQ_N),
                              keras.layers.LSTM(3, stateful=True, name="memory"), keras.layers.Dense(1)])
    with pytest.raises(NotRowWiseError) as error:
        perturbation_importance(model, seq_data(np.float32))
    assert str(error.value).startswith("model has stateful layers ['memory']: their output depends on earlier calls")
    assert "stateful=False" in str(error.value)
