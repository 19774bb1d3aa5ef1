"""Shared fixtures of the engine's tests.

Keras is imported only inside the fixtures that need it (used by tests marked ``keras``), so
the unmarked tests run in an environment without TensorFlow. The one trained LSTM of the
suite is session-scoped: it is trained once, on a task whose true drivers are known.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

# The ground-truth task: y = 2 * x1[last step] + x2[LAG steps before the end]; x3..x5 are noise.
GT_TIMESTEPS = 6
GT_FEATURES = 5
GT_LAG = 3
GT_DRIVERS = ("x1", "x2")
GT_NOISE = ("x3", "x4", "x5")


def ground_truth_target(X: np.ndarray) -> np.ndarray:
    """The known function the LSTM learns."""
    return 2.0 * X[:, -1, 0] + 1.0 * X[:, -GT_LAG, 1]


@pytest.fixture(scope="session")
def keras():
    """Keras 3 (TensorFlow backend), seeded."""
    import keras as keras_module

    keras_module.utils.set_random_seed(0)
    return keras_module


@pytest.fixture(scope="session")
def ground_truth_data():
    """(X_train, y_train, X_test, y_test) of the ground-truth sequence task, float32."""
    rng = np.random.default_rng(2024)
    X_train = rng.normal(size=(600, GT_TIMESTEPS, GT_FEATURES)).astype(np.float32)
    X_test = rng.normal(size=(300, GT_TIMESTEPS, GT_FEATURES)).astype(np.float32)
    return X_train, ground_truth_target(X_train), X_test, ground_truth_target(X_test)


@pytest.fixture(scope="session")
def trained_lstm(keras, ground_truth_data):
    """A tiny LSTM trained (once per session, a few seconds) on the ground-truth task."""
    X_train, y_train, _, _ = ground_truth_data
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((GT_TIMESTEPS, GT_FEATURES)), keras.layers.LSTM(16), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="mse")
    model.fit(X_train, y_train, epochs=15, batch_size=32, verbose=0)
    return model


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


@pytest.fixture
def sequence_X(rng):
    """Small 3D evaluation data: 40 samples, 4 time steps, 3 features."""
    return rng.normal(size=(40, 4, 3))
