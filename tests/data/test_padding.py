"""Padding (pyimportance.data.padding): the mask value comes from a Keras Masking layer unless the
caller says otherwise (``mask_value=None``: no padding).
"""

from __future__ import annotations

import numpy as np
import pytest
from helpers import MULTI_F as F
from helpers import MULTI_T as T
from helpers import padded_sequences

from pyimportance import perturbation_importance


@pytest.mark.keras
def test_a_keras_masking_layer_sets_the_mask_value(keras):
    X, real = padded_sequences(np.random.default_rng(5), mask_value=0.0)
    model = keras.Sequential([keras.Input((T, F)), keras.layers.Masking(0.0), keras.layers.LSTM(4),
                              keras.layers.Dense(1)])
    result = perturbation_importance(model, X.astype("float32"), method="permute", n_repeats=1, random_state=0)
    assert list(result.settings["mask_value"].values()) == [0.0]
    unmasked = perturbation_importance(model, X.astype("float32"), method="permute", n_repeats=1, random_state=0,
                                       mask_value=None)
    assert unmasked.settings["mask_value"] is None
