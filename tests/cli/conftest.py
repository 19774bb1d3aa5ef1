"""Fixtures of the command line's tests: data files, the stand-in model ``--model`` loads, and saved Keras
models (the shared runs and messages are in helpers.py)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from helpers import CLI_F, CLI_S, CLI_T, WEIGHTS


@pytest.fixture()
def arrays(tmp_path):
    """X (40, CLI_T, CLI_F) and y (40,) saved as .npy files."""
    rng = np.random.default_rng(3)
    X = rng.normal(size=(40, CLI_T, CLI_F)).astype(np.float32)
    y = (X[:, -1, 0] * 2.0 + X[:, 0, 1]).astype(np.float64)
    np.save(tmp_path / "X.npy", X)
    np.save(tmp_path / "y.npy", y)
    return X, y


@pytest.fixture()
def linear_model(monkeypatch):
    """`--model` loads the linear model X @ WEIGHTS (method 'zero': importance_j = mean |w_j x_j|)."""
    monkeypatch.setattr("pyimportance.cli.files.load_model", lambda path, **kwargs: (lambda X: np.asarray(X) @ WEIGHTS))


@pytest.fixture()
def estimator_function(monkeypatch):
    """``replace(name, function)``: the subcommand of the registry's estimator ``name`` calls ``function``."""
    from pyimportance.cli import options

    def replace(name, function):
        entries = tuple(dataclasses.replace(entry, function=function) if entry.name == name else entry
                        for entry in options.ESTIMATORS)
        monkeypatch.setattr(options, "ESTIMATORS", entries)

    return replace


@pytest.fixture()
def rows_3000(tmp_path):
    """X (3000, 3), y = X @ WEIGHTS + noise, as .npy files; returns (X, y)."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(3000, 3))
    y = X @ WEIGHTS + 0.5 * rng.normal(size=3000)
    np.save(tmp_path / "X.npy", X)
    np.save(tmp_path / "y.npy", y)
    return X, y


@pytest.fixture(scope="module")
def keras_module():
    import keras

    return keras


def _tiny_model(keras, lambda_layer: bool = False):
    keras.utils.set_random_seed(1)
    layers = [keras.Input((CLI_T, CLI_F))]
    if lambda_layer:
        layers.append(keras.layers.Lambda(lambda x: x * 2.0))
    layers += [keras.layers.LSTM(4), keras.layers.Dense(1)]
    return keras.Sequential(layers)


@pytest.fixture(scope="module")
def saved_models(keras_module, tmp_path_factory):
    """A tiny LSTM as .keras and .h5, and one with a Lambda layer (.keras and .h5)."""
    directory = tmp_path_factory.mktemp("models")
    model = _tiny_model(keras_module)
    model.save(directory / "model.keras")
    model.save(directory / "model.h5")
    with_lambda = _tiny_model(keras_module, lambda_layer=True)
    with_lambda.save(directory / "lambda.keras")
    with_lambda.save(directory / "lambda.h5")
    return model, directory


@pytest.fixture(scope="module")
def two_inputs(keras_module, tmp_path_factory):
    """The model (seq -> Masking(-9) -> LSTM, static; heads 'sales' and 'churn'), saved with its data files."""
    keras = keras_module
    keras.utils.set_random_seed(1)
    seq, static = keras.Input((CLI_T, CLI_F), name="seq"), keras.Input((CLI_S,), name="static")
    hidden = keras.layers.LSTM(4)(keras.layers.Masking(mask_value=-9.0)(seq))
    joined = keras.layers.Concatenate()([hidden, static])
    heads = [keras.layers.Dense(1, name="sales")(joined),
             keras.layers.Dense(1, activation="sigmoid", name="churn")(joined)]
    model = keras.Model([seq, static], heads)
    directory = tmp_path_factory.mktemp("two_inputs")
    model.save(directory / "model.keras")
    rng = np.random.default_rng(4)
    data = {"seq": rng.normal(size=(40, CLI_T, CLI_F)).astype(np.float32), "static": rng.normal(size=(40, CLI_S))}
    data["seq"][:8, :2] = -9.0  # 8 sequences that start 2 steps late
    targets = {"sales": data["seq"][:, -1, 0] + data["static"][:, 0], "churn": (data["static"][:, 1] > 0) * 1.0}
    reference = {"seq": rng.normal(size=(60, CLI_T, CLI_F)).astype(np.float32), "static": rng.normal(size=(60, CLI_S))}
    for name, values in {**data, **targets}.items():
        np.save(directory / f"{name}.npy", values)
    for name, values in reference.items():
        np.save(directory / f"train_{name}.npy", values)
    np.savez(directory / "data.npz", **data)
    pd.DataFrame(data["static"], columns=["store", "price"]).to_csv(directory / "static.csv", index=False)
    return model, directory, data, targets, reference
