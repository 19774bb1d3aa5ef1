"""Sensitivity importance through ``jax.vjp``: Keras 3 on the JAX backend gives the closed forms the TensorFlow
path gives. Runs where Keras' backend is JAX (``KERAS_BACKEND=jax`` in an environment with jax: JAX needs
NumPy 2 on Python 3.11, so not the TensorFlow test environment, where conftest.py leaves it out)."""

from __future__ import annotations

import os

import numpy as np
import pytest

assert os.environ.get("KERAS_BACKEND") == "jax", "collected only with KERAS_BACKEND=jax (conftest.py)"
pytest.importorskip("jax")
keras = pytest.importorskip("keras")

from pyimportance import sensitivity_importance  # noqa: E402


def test_jax_gives_a_linear_models_closed_forms():
    assert keras.backend.backend() == "jax"
    weights = np.array([2.0, -1.0, 0.0, 0.5])
    model = keras.Sequential([keras.Input((3, 4)), keras.layers.Flatten(), keras.layers.Dense(1, use_bias=False)])
    model.set_weights([np.tile(weights, 3).reshape(-1, 1).astype(np.float32)])
    X = np.random.default_rng(0).normal(size=(50, 3, 4))
    result = sensitivity_importance(model, X, by="cell")
    np.testing.assert_allclose(result.attributions, weights * (X - X.mean(axis=0)), rtol=1e-5, atol=1e-6)
    derivative = sensitivity_importance(model, X, method="derivative")
    np.testing.assert_allclose(derivative.importances_mean, (weights ** 2 * X.var(axis=0)).sum(axis=0), rtol=1e-5)


def test_jax_agrees_with_completeness_on_an_lstm():
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((5, 2)), keras.layers.LSTM(4), keras.layers.Dense(1)])
    X = np.random.default_rng(1).normal(size=(40, 5, 2))
    result = sensitivity_importance(model, X, n_steps=16)
    change = np.abs(np.asarray(model.predict(X, verbose=0))[:, 0]
                    - np.asarray(model.predict(X.mean(axis=0, keepdims=True), verbose=0))[0, 0])
    assert np.abs(result.convergence_delta).mean() < 1e-3 * change.mean()
