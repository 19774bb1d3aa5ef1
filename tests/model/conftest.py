"""Fixtures of the model layer's tests: a small Keras LSTM and a chunk of rows for it."""

from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture
def lstm(keras):
    """An untrained LSTM(6) -> Dense(2) on (5, 3) inputs, seeded."""
    keras.utils.set_random_seed(9)
    return keras.Sequential([keras.Input((5, 3)), keras.layers.LSTM(6), keras.layers.Dense(2)])


@pytest.fixture
def chunk():
    """16 rows of (5, 3) float32 values for ``lstm``."""
    return np.random.default_rng(2).normal(size=(16, 5, 3)).astype(np.float32)
