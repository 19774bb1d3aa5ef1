"""Per-feature mean and standard deviation of an input over samples and real time steps.

The noise methods scale their noise by these (``relative_scale``), ``"mean"`` ablation sets
values to the mean, and the conditional sampler fills padded cells with it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

_STATS_ROWS = 4096


@dataclass(frozen=True)
class FeatureStats:
    """Mean and standard deviation of each feature of one input over samples and real time steps."""

    mean: np.ndarray
    std: np.ndarray

    def context(self, features: np.ndarray, *, scale: float, relative_scale: bool) -> tuple[np.ndarray, np.ndarray]:
        """(mean, noise_sd) of the block made of ``features``, each shaped (1, 1, n_features)."""
        mean = self.mean[features].reshape(1, 1, -1)
        spread = self.std[features] if relative_scale else np.ones(len(features))
        return mean, (scale * spread).reshape(1, 1, -1)


def feature_stats(values: np.ndarray, mask: np.ndarray | None = None) -> FeatureStats:
    """Per-feature mean and population sd of a ``(n, T, F)`` array over real cells, streamed over rows."""
    n_features = values.shape[2]
    count = np.zeros(n_features)
    total = np.zeros(n_features)
    squares = np.zeros(n_features)
    shift = None
    for start in range(0, values.shape[0], _STATS_ROWS):
        # C order whatever the caller's layout: R passes Fortran-ordered arrays, and sums taken in
        # another memory order round differently (R and Python must agree bit for bit)
        block = np.ascontiguousarray(values[start : start + _STATS_ROWS], dtype=np.float64)
        weights = np.ones(block.shape[:2]) if mask is None else mask[start : start + _STATS_ROWS].astype(np.float64)
        if shift is None:  # a shift near the data keeps the one-pass variance accurate
            shift = block.reshape(-1, n_features)[0].copy()
        centred = block - shift
        count += weights.sum() * np.ones(n_features)
        total += np.einsum("nt,ntf->f", weights, centred)
        squares += np.einsum("nt,ntf->f", weights, centred**2)
    count = np.maximum(count, 1)
    mean_shifted = total / count
    variance = np.maximum(squares / count - mean_shifted**2, 0.0)
    return FeatureStats(mean=mean_shifted + shift, std=np.sqrt(variance))
