"""The demo: a small LSTM on the embedded sales series, and the importance of its inputs.

Used by ``pyimportance demo``; also callable from Python (and R) as :func:`run_demo`.
Needs Keras on the TensorFlow backend (Keras 3, or Keras 2 as TensorFlow 2.15 has it).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .api import perturbation_importance
from .data.arguments import check_positive_int
from .datasets import load_demo_sequences
from .result import ImportanceResult

WINDOW = 12
TEST_FRACTION = 0.25


@dataclass(frozen=True)
class DemoRun:
    """What :func:`run_demo` produced."""

    result: ImportanceResult
    """Importance of each feature on the test windows (permute, mse)."""
    cells: ImportanceResult
    """Importance of each (time step, feature) cell on the test windows: shows the lag."""
    true_drivers: list[str]
    """The features ``sales`` truly depends on."""
    test_mse: float
    """Mean squared error of the trained model on the test windows."""
    target_variance: float
    """Variance of ``y`` on the test windows (the mse of always predicting the mean)."""
    model: object
    """The trained Keras model."""


def _split(n_samples: int) -> int:
    """First test row: the last ``TEST_FRACTION`` of the windows (later days) are for testing."""
    return int(round(n_samples * (1.0 - TEST_FRACTION)))


def train_demo_model(X: np.ndarray, y: np.ndarray, *, epochs: int, seed: int):
    """Fit a small LSTM(16) -> Dense(1) regression model with fixed seeds."""
    import keras

    keras.utils.set_random_seed(seed)
    model = keras.Sequential(
        [keras.Input(shape=X.shape[1:]), keras.layers.LSTM(16), keras.layers.Dense(1)],
        name="demo_lstm",
    )
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.01), loss="mse")
    model.fit(X, y, epochs=epochs, batch_size=32, shuffle=True, verbose=0)
    return model


def run_demo(
    *, seed: int = 42, epochs: int = 8, n_repeats: int = 5, progress: bool | None = None
) -> DemoRun:
    """Train the demo LSTM and compute the permutation importance of its six inputs.

    The model is trained on the first 75% of the windows (earlier days) and evaluated on the
    rest: importance of each feature (``n_repeats`` permutations) and of each (time step,
    feature) cell (3 permutations), which shows advertising acting 5 days before the target.

    Parameters
    ----------
    seed : int, default 42
        Seeds the model's training and the perturbations (the data are fixed).
    epochs : int, default 8
    n_repeats : int, default 5
    progress : bool, optional
        Progress bar while computing the importance.

    Returns
    -------
    DemoRun
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    epochs = check_positive_int(epochs, "epochs")
    X, y, feature_names, true_drivers = load_demo_sequences(window=WINDOW)
    first_test = _split(len(X))
    model = train_demo_model(X[:first_test], y[:first_test], epochs=epochs, seed=seed)
    X_test, y_test = X[first_test:], y[first_test:]
    result = perturbation_importance(
        model,
        X_test,
        y_test,
        method="permute",
        loss="mse",
        n_repeats=n_repeats,
        feature_names=feature_names,
        random_state=seed,
        progress=progress,
    )
    cells = perturbation_importance(
        model,
        X_test,
        y_test,
        method="permute",
        loss="mse",
        n_repeats=3,
        by="cell",
        feature_names=feature_names,
        random_state=seed,
        progress=progress,
    )
    predictions = np.asarray(model.predict(X_test, verbose=0)).reshape(-1)
    return DemoRun(
        result=result,
        cells=cells,
        true_drivers=list(true_drivers),
        test_mse=float(np.mean((predictions - y_test) ** 2)),
        target_variance=float(np.var(y_test)),
        model=model,
    )
