"""Shared fixtures of the engine's tests (the shared plain functions and constants are in ``helpers.py``).

Keras is imported only inside the fixtures that need it (used by tests marked ``keras``), so
the unmarked tests run in an environment without TensorFlow. The one trained LSTM of the
suite is session-scoped: it is trained once, on a task whose true drivers are known.
"""

from __future__ import annotations

import os

import numpy as np
import pytest
from helpers import CLASS_N, GT_FEATURES, GT_TIMESTEPS, ground_truth_target, stopping_model, three_class_model

os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


@pytest.fixture(scope="session")
def keras():
    """The ``keras`` package, seeded: Keras 3 (TensorFlow backend), or Keras 2 in the TensorFlow 2.15
    environment (``make test-keras2``)."""
    import keras as keras_module

    keras_module.utils.set_random_seed(0)
    return keras_module


@pytest.fixture(scope="session")
def keras2():
    """Keras 2, seeded: tf-keras beside Keras 3, or ``keras`` itself where it is Keras 2 (TensorFlow 2.15)."""
    import keras as keras_module

    from pyimportance.model.keras import keras_major_version

    if keras_major_version(keras_module) != 2:
        import tf_keras as keras_module
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


@pytest.fixture
def class_X():
    """(CLASS_N, 4, 3) values for the classifiers of helpers (three_class_model, sigmoid_model)."""
    return np.random.default_rng(3).normal(size=(CLASS_N, 4, 3))


@pytest.fixture
def class_labels(class_X):
    """Class labels 0..2 drawn from three_class_model's probabilities for class_X."""
    rng = np.random.default_rng(4)
    probabilities = three_class_model(class_X)
    return np.array([rng.choice(3, p=row) for row in probabilities])


@pytest.fixture(scope="module")
def stopping_data():
    """(X, y) of 20 000 rows for the stopping rule: y = helpers.stopping_model(X) + noise."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(20_000, 3, 4))
    return X, stopping_model(X) + 0.3 * rng.normal(size=len(X))
