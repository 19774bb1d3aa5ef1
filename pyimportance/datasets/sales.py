"""The embedded demo data set: a simulated daily sales series whose true drivers are known.

``pyimportance/datasets/demo_sales.csv`` holds 1,500 simulated days of ``sales`` and six candidate
predictors. It was written once by :func:`simulate_demo_series` (run
``python -m pyimportance.datasets.sales`` to write it again; a test checks that the file and the
generator agree). Only NumPy and pandas are needed to read it; nothing is pickled.

How ``sales`` is made (every predictor is standardised, ``e`` is N(0, 1) noise)::

    sales[t] = 1.0 * temperature[t] - 0.7 * price[t] + 0.6 * advertising[t - 5] + 0.3 * e[t]

* ``temperature`` and ``price`` act on the same day;
* ``advertising`` acts through a lag of 5 days (spend shows up in sales 5 days later), so a
  model only sees it by remembering the past: the lag is visible with ``by="cell"``;
* ``humidity``, ``wind`` and ``stock_index`` are pure noise, independent of ``sales``.

:func:`load_demo_sequences` cuts the series into windows of ``window`` days: the inputs are
the six predictors over the window, the target is ``sales`` on the window's last day.
"""

from __future__ import annotations

from importlib import resources
from typing import NamedTuple

import numpy as np
import pandas as pd

DEMO_FILE = "demo_sales.csv"
DEMO_SEED = 20240501
DEMO_N_DAYS = 1500
FEATURES = ("temperature", "price", "advertising", "humidity", "wind", "stock_index")
TRUE_DRIVERS = ("temperature", "price", "advertising")
NOISE_FEATURES = ("humidity", "wind", "stock_index")
EFFECTS = {"temperature": 1.0, "price": -0.7, "advertising": 0.6}
LAGS = {"temperature": 0, "price": 0, "advertising": 5}
NOISE_SD = 0.3
DECIMALS = 4


class DemoSequences(NamedTuple):
    """Windowed demo data; unpacks as ``X, y, feature_names, true_drivers``."""

    X: np.ndarray
    """Inputs of shape (n_windows, window, 6), float64."""
    y: np.ndarray
    """Target of shape (n_windows,): ``sales`` on each window's last day."""
    feature_names: list[str]
    """Names of the 6 features, in column order."""
    true_drivers: list[str]
    """The features ``sales`` depends on, strongest first: temperature, price, advertising."""


def _ar1(rng: np.random.Generator, n_days: int, phi: float) -> np.ndarray:
    """A standardised AR(1) series with autocorrelation ``phi``."""
    shocks = rng.normal(size=n_days)
    series = np.empty(n_days)
    series[0] = shocks[0]
    innovation_sd = np.sqrt(1.0 - phi**2)
    for day in range(1, n_days):
        series[day] = phi * series[day - 1] + innovation_sd * shocks[day]
    return (series - series.mean()) / series.std()


def simulate_demo_series(n_days: int = DEMO_N_DAYS, seed: int = DEMO_SEED) -> pd.DataFrame:
    """Simulate the demo sales series (the generator of the embedded CSV).

    Parameters
    ----------
    n_days : int, default 1500
    seed : int, default 20240501

    Returns
    -------
    pandas.DataFrame
        Columns ``day`` (0, 1, ...), ``sales`` and the six predictors, rounded to 4 decimals.
        The first 5 days have no lagged advertising effect yet.

    Examples
    --------
    >>> simulate_demo_series(n_days=10).shape
    (10, 8)
    """
    rng = np.random.default_rng(seed)
    phis = {"temperature": 0.8, "price": 0.6, "advertising": 0.3, "humidity": 0.8, "wind": 0.6, "stock_index": 0.3}
    columns = {name: _ar1(rng, n_days, phis[name]) for name in FEATURES}
    sales = NOISE_SD * rng.normal(size=n_days)
    for name, effect in EFFECTS.items():
        lag = LAGS[name]
        sales[lag:] += effect * columns[name][: n_days - lag]
    frame = pd.DataFrame({"day": np.arange(n_days), "sales": sales, **columns})
    return frame.round(DECIMALS)


def load_demo_series() -> pd.DataFrame:
    """The embedded daily series: columns ``day``, ``sales`` and the six predictors.

    Examples
    --------
    >>> load_demo_series().columns.tolist()[:3]
    ['day', 'sales', 'temperature']
    """
    with resources.files("pyimportance.datasets").joinpath(DEMO_FILE).open("r", encoding="utf-8") as handle:
        return pd.read_csv(handle)


def load_demo_sequences(window: int = 12) -> DemoSequences:
    """Windows of the embedded series for a sequence model, with the known true drivers.

    Parameters
    ----------
    window : int, default 12
        Days per window (must exceed the advertising lag of 5).

    Returns
    -------
    DemoSequences
        ``X`` (n_windows, window, 6), ``y`` (n_windows,), ``feature_names``,
        ``true_drivers``. Window ``i`` covers days ``5 + i .. 5 + i + window - 1`` (the
        first 5 days are skipped, so every target has its lagged advertising effect) and its
        target is ``sales`` on the window's last day.

    Examples
    --------
    >>> X, y, feature_names, true_drivers = load_demo_sequences(window=12)
    >>> X.shape, y.shape
    ((1484, 12, 6), (1484,))
    >>> true_drivers
    ['temperature', 'price', 'advertising']
    """
    if isinstance(window, bool) or not isinstance(window, (int, np.integer)):
        raise TypeError(f"window must be an integer, got {type(window).__name__}: {window!r}")
    max_lag = max(LAGS.values())
    if window <= max_lag:
        raise ValueError(f"window must be greater than the advertising lag ({max_lag}), got {window}")
    series = load_demo_series()
    values = series.loc[max_lag:, list(FEATURES)].to_numpy(dtype=np.float64)
    target = series.loc[max_lag:, "sales"].to_numpy(dtype=np.float64)
    if window > len(values):
        raise ValueError(f"window must be at most {len(values)} days, got {window}")
    X = np.lib.stride_tricks.sliding_window_view(values, window, axis=0).transpose(0, 2, 1).copy()
    y = target[window - 1 :].copy()
    strongest_first = sorted(TRUE_DRIVERS, key=lambda name: -abs(EFFECTS[name]))
    return DemoSequences(X=X, y=y, feature_names=list(FEATURES), true_drivers=strongest_first)


def _write_demo_csv() -> None:
    """Write the embedded CSV from :func:`simulate_demo_series` (run once, by hand)."""
    path = resources.files("pyimportance.datasets").joinpath(DEMO_FILE)
    simulate_demo_series().to_csv(str(path), index=False, float_format=f"%.{DECIMALS}f")


if __name__ == "__main__":
    _write_demo_csv()
