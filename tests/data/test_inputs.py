"""The model's inputs (pyimportance.data.inputs): several inputs as a list or a dict, every feature
of every input a unit, a dict passed to the model as a dict with its own feature names, and a
trained two-input Keras model ranking its lagged and its static driver first.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from helpers import MULTI_F as F
from helpers import MULTI_T as T
from helpers import SEQ, STATIC, two_input_model

from pyimportance import perturbation_importance


def test_a_list_of_inputs_gives_units_for_every_feature_of_every_input():
    y = two_input_model([SEQ, STATIC])
    result = perturbation_importance(two_input_model, [SEQ, STATIC], y, method="permute", random_state=0)
    frame = result.to_frame()
    assert frame["feature"].tolist()[:2] == ["input1:x1", "input2:x2"]
    assert set(frame["feature"]) == {"input1:x1", "input1:x2", "x3", "input2:x1", "input2:x2"}
    expected = {"input1:x1": 2 * 1.5**2 * SEQ[:, -3, 0].var(), "input2:x2": 2 * STATIC[:, 1].var()}
    for name, value in expected.items():
        assert frame.set_index("feature").loc[name, "importance"] == pytest.approx(value, rel=0.25)
    assert result.settings["inputs"] == ["input1", "input2"]


def test_a_dict_of_inputs_is_passed_to_the_model_as_a_dict_with_its_own_feature_names():
    seen = []

    def model(inputs):
        seen.append(sorted(inputs))
        return 2.0 * inputs["seq"][:, -1, 1] + inputs["static"][:, 0]

    X = {"seq": SEQ, "static": pd.DataFrame(STATIC, columns=["store", "price"])}
    result = perturbation_importance(model, X, method="zero", feature_names={"seq": ["a", "b", "c"]})
    assert seen[0] == ["seq", "static"]
    assert result.feature == ["a", "b", "c", "store", "price"]
    assert result.to_frame()["feature"].tolist()[:2] == ["b", "store"]


@pytest.mark.keras
def test_a_trained_two_input_keras_model_ranks_the_lagged_and_the_static_driver_first(keras):
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    n = 1200
    sequence = rng.normal(size=(n, T, F)).astype("float32")
    static = rng.normal(size=(n, 2)).astype("float32")
    y = 1.5 * sequence[:, -3, 0] + static[:, 1] + 0.1 * rng.normal(size=n)
    seq_in, static_in = keras.Input((T, F), name="seq"), keras.Input((2,), name="static")
    hidden = keras.layers.Concatenate()([keras.layers.LSTM(16)(seq_in), static_in])
    model = keras.Model([seq_in, static_in], keras.layers.Dense(1)(keras.layers.Dense(16, "relu")(hidden)))
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="mse")
    model.fit([sequence, static], y, epochs=20, batch_size=64, verbose=0)
    X = {"static": static[:300], "seq": sequence[:300]}
    result = perturbation_importance(model, X, y[:300], method="permute", random_state=0)
    assert result.to_frame()["feature"].tolist()[:2] == ["seq:x1", "static:x2"]
    cells = perturbation_importance(model, X, y[:300], method="permute", by="cell", random_state=0).to_frame()
    top = cells.iloc[0]
    assert (top["feature"], top["timestep"]) == ("seq:x1", T - 3)
