"""What happens to one unit's values: pure functions ``(values, rng, context) -> new values``.

``values`` is the unit's block of X, shape ``(n_samples, n_unit_timesteps, n_unit_features)``,
in float64 and owned by the caller of the function (a fresh copy, safe to return modified).
``context`` carries the per-feature statistics of the evaluation data, broadcastable to
``values``. A new perturbation is one function here plus one line in :data:`PERTURBATIONS`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

_STATS_ROWS = 4096


@dataclass(frozen=True)
class UnitContext:
    """Per-feature statistics for one unit, each of shape ``(1, 1, n_unit_features)``."""

    mean: np.ndarray
    noise_sd: np.ndarray


def perturb_gaussian(values: np.ndarray, rng: np.random.Generator, context: UnitContext) -> np.ndarray:
    """Add N(0, noise_sd) noise to every value."""
    return values + rng.standard_normal(values.shape) * context.noise_sd


def perturb_uniform(values: np.ndarray, rng: np.random.Generator, context: UnitContext) -> np.ndarray:
    """Add uniform noise with the same standard deviation as :func:`perturb_gaussian`."""
    half_width = np.sqrt(3.0) * context.noise_sd
    return values + rng.uniform(-1.0, 1.0, values.shape) * half_width


def perturb_permute(values: np.ndarray, rng: np.random.Generator, context: UnitContext) -> np.ndarray:
    """Shuffle whole sequences across samples (Breiman/Fisher permutation importance)."""
    return values[rng.permutation(values.shape[0])]


def perturb_resample(values: np.ndarray, rng: np.random.Generator, context: UnitContext) -> np.ndarray:
    """Replace each sample's values by those of a sample drawn at random (with replacement)."""
    return values[rng.integers(0, values.shape[0], values.shape[0])]


def perturb_zero(values: np.ndarray, rng: np.random.Generator, context: UnitContext) -> np.ndarray:
    """Set every value to 0 (ablation)."""
    return np.zeros_like(values)


def perturb_mean(values: np.ndarray, rng: np.random.Generator, context: UnitContext) -> np.ndarray:
    """Set every value to its feature's mean over samples and time steps (ablation)."""
    return np.broadcast_to(context.mean, values.shape).copy()


PERTURBATIONS: dict[str, Callable[[np.ndarray, np.random.Generator, UnitContext], np.ndarray]] = {
    "gaussian": perturb_gaussian,
    "uniform": perturb_uniform,
    "permute": perturb_permute,
    "resample": perturb_resample,
    "zero": perturb_zero,
    "mean": perturb_mean,
}

NOISE_METHODS = ("gaussian", "uniform")


def _wrap_custom(function: Callable) -> Callable[[np.ndarray, np.random.Generator, UnitContext], np.ndarray]:
    def perturb_custom(values: np.ndarray, rng: np.random.Generator, context: UnitContext) -> np.ndarray:
        result = np.asarray(function(values, rng), dtype=np.float64)
        if result.shape != values.shape:
            raise ValueError(
                f"method (a custom perturbation) must return an array of the shape it was given "
                f"{values.shape}, got shape {result.shape}"
            )
        return result

    perturb_custom.__name__ = getattr(function, "__name__", "custom")
    return perturb_custom


def resolve_method(method) -> Callable[[np.ndarray, np.random.Generator, UnitContext], np.ndarray]:
    """Return the perturbation function for ``method`` (a name or a ``(values, rng)`` callable)."""
    if callable(method):
        return _wrap_custom(method)
    if isinstance(method, str) and method in PERTURBATIONS:
        return PERTURBATIONS[method]
    allowed = ", ".join(repr(name) for name in PERTURBATIONS)
    raise ValueError(f"method must be one of {allowed} or a callable (values, rng) -> values, got {method!r}")


@dataclass(frozen=True)
class FeatureStats:
    """Mean and standard deviation of each feature over all samples and time steps."""

    mean: np.ndarray
    std: np.ndarray

    def context(self, features: np.ndarray, *, scale: float, relative_scale: bool) -> UnitContext:
        """The :class:`UnitContext` of the unit made of ``features``."""
        mean = self.mean[features].reshape(1, 1, -1)
        spread = self.std[features] if relative_scale else np.ones(len(features))
        return UnitContext(mean=mean, noise_sd=(scale * spread).reshape(1, 1, -1))


def feature_stats(values: np.ndarray) -> FeatureStats:
    """Per-feature mean and population sd of a ``(n, T, F)`` array, streamed over rows."""
    n_features = values.shape[2]
    count = 0
    total = np.zeros(n_features)
    for start in range(0, values.shape[0], _STATS_ROWS):
        block = np.asarray(values[start : start + _STATS_ROWS], dtype=np.float64).reshape(-1, n_features)
        total += block.sum(axis=0)
        count += block.shape[0]
    mean = total / count
    squares = np.zeros(n_features)
    for start in range(0, values.shape[0], _STATS_ROWS):
        block = np.asarray(values[start : start + _STATS_ROWS], dtype=np.float64).reshape(-1, n_features)
        squares += ((block - mean) ** 2).sum(axis=0)
    return FeatureStats(mean=mean, std=np.sqrt(squares / count))
