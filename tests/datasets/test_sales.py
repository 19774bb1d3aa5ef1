"""The embedded demo data set (pyimportance.datasets.sales): file, generator, windowing and its known true drivers
(no TensorFlow).
"""

from __future__ import annotations

from importlib import resources

import numpy as np
import pytest

from pyimportance import perturbation_importance
from pyimportance.datasets import (
    EFFECTS,
    FEATURES,
    LAGS,
    NOISE_FEATURES,
    TRUE_DRIVERS,
    DemoSequences,
    load_demo_sequences,
    load_demo_series,
    simulate_demo_series,
)
from pyimportance.datasets.sales import NOISE_SD


def test_embedded_csv_is_small_and_plain_text():
    path = resources.files("pyimportance").joinpath("datasets").joinpath("demo_sales.csv")
    data = path.read_bytes()
    assert len(data) < 300_000
    assert data.splitlines()[0] == b"day,sales,temperature,price,advertising,humidity,wind,stock_index"


def test_embedded_csv_is_what_the_generator_writes():
    embedded = load_demo_series()
    regenerated = simulate_demo_series()
    assert embedded.columns.tolist() == regenerated.columns.tolist()
    assert embedded.shape == (1500, 8)
    np.testing.assert_allclose(embedded.to_numpy(), regenerated.to_numpy(), rtol=0, atol=1e-9)


def test_sales_follow_the_documented_formula():
    series = load_demo_series()
    lag = LAGS["advertising"]
    days = slice(lag, None)
    explained = sum(
        effect * series[name].shift(LAGS[name]).to_numpy()[days] for name, effect in EFFECTS.items()
    )
    residual = series["sales"].to_numpy()[days] - explained
    assert abs(residual.std() - NOISE_SD) < 0.02
    for noise in NOISE_FEATURES:
        assert abs(np.corrcoef(series[noise].to_numpy()[days], residual)[0, 1]) < 0.08


def test_load_demo_sequences_shapes_names_and_drivers():
    data = load_demo_sequences(window=12)
    assert isinstance(data, DemoSequences)
    X, y, feature_names, true_drivers = data
    assert X.shape == (1484, 12, 6) and X.dtype == np.float64
    assert y.shape == (1484,)
    assert feature_names == list(FEATURES)
    assert true_drivers == ["temperature", "price", "advertising"]
    assert set(true_drivers) == set(TRUE_DRIVERS)


def test_windows_end_on_the_target_day():
    series = load_demo_series()
    X, y, feature_names, _ = load_demo_sequences(window=8)
    window_index = 100
    last_day = 5 + window_index + 8 - 1
    assert y[window_index] == series.loc[last_day, "sales"]
    np.testing.assert_array_equal(X[window_index, -1], series.loc[last_day, feature_names].to_numpy(dtype=float))
    np.testing.assert_array_equal(
        X[window_index, :, 2], series.loc[last_day - 7 : last_day, "advertising"].to_numpy(dtype=float)
    )


def test_window_must_exceed_the_lag():
    with pytest.raises(ValueError, match=r"^window must be greater than the advertising lag \(5\), got 5$"):
        load_demo_sequences(window=5)
    with pytest.raises(TypeError, match=r"^window must be an integer, got str: '12'$"):
        load_demo_sequences(window="12")
    with pytest.raises(ValueError, match=r"^window must be at most 1495 days, got 2000$"):
        load_demo_sequences(window=2000)


def test_a_linear_model_ranks_the_true_drivers_first_and_finds_the_lag():
    X, y, feature_names, true_drivers = load_demo_sequences(window=12)
    design = np.c_[X.reshape(len(X), -1), np.ones(len(X))]
    coefficients = np.linalg.lstsq(design, y, rcond=None)[0]

    def linear_model(batch):
        return batch.reshape(len(batch), -1) @ coefficients[:-1] + coefficients[-1]

    features = perturbation_importance(
        linear_model, X, y, method="permute", n_repeats=3, feature_names=feature_names, random_state=0
    )
    assert features.to_frame()["feature"].tolist()[:3] == true_drivers
    cells = perturbation_importance(
        linear_model, X, y, method="permute", by="cell", n_repeats=2, feature_names=feature_names, random_state=0
    ).to_frame()
    top = list(zip(cells["feature"][:3], cells["timestep"][:3]))
    assert top == [("temperature", 11), ("price", 11), ("advertising", 6)]
