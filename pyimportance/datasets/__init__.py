"""The embedded demo data set: simulated daily sales whose true drivers are known (:mod:`.sales`).

``load_demo_sequences()`` gives windows ready for an LSTM, ``load_demo_series()`` the daily
series, ``simulate_demo_series()`` the seeded generator that wrote the CSV beside this file.
"""

from .sales import (
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

__all__ = [
    "EFFECTS",
    "FEATURES",
    "LAGS",
    "NOISE_FEATURES",
    "TRUE_DRIVERS",
    "DemoSequences",
    "load_demo_series",
    "load_demo_sequences",
    "simulate_demo_series",
]
