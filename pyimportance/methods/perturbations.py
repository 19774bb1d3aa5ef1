"""What happens to one unit's values: pure functions ``(blocks, rng, context) -> Perturbed``.

``blocks`` are the unit's values, one array per :class:`~pyimportance.units.Block` (one with a
single input), each of shape ``(n_rows, n_unit_timesteps, n_unit_features)``, float64, fresh
copies owned by the function (never memory of the caller's data). ``context`` carries per-feature
statistics of the evaluation data and, for ``"conditional"``, the fitted part and residual of
each block. Donor-based methods (one sample's values given to another) report the donor of each
row, which the data-level intervals need (:mod:`.inference`).

A new perturbation is one function here plus one line in :data:`METHODS`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from . import terms

_STATS_ROWS = 4096


class Perturbed(NamedTuple):
    """New values of each block; ``donors[i]``: the row whose values row ``i`` received (or None)."""

    blocks: list[np.ndarray]
    donors: np.ndarray | None = None


@dataclass(frozen=True)
class UnitContext:
    """What a perturbation may use besides the values; per block, broadcastable to it."""

    mean: list[np.ndarray]  # (1, 1, n_block_features) each
    noise_sd: list[np.ndarray]  # (1, 1, n_block_features) each
    conditional: list[tuple[np.ndarray, np.ndarray]] | None = None  # (fitted, residual) per block


def perturb_gaussian(blocks, rng: np.random.Generator, context: UnitContext) -> Perturbed:
    """Add N(0, noise_sd) noise to every value."""
    return Perturbed([v + rng.standard_normal(v.shape) * sd for v, sd in zip(blocks, context.noise_sd)])


def perturb_uniform(blocks, rng: np.random.Generator, context: UnitContext) -> Perturbed:
    """Add uniform noise with the same standard deviation as :func:`perturb_gaussian`."""
    return Perturbed(
        [v + rng.uniform(-1.0, 1.0, v.shape) * (np.sqrt(3.0) * sd) for v, sd in zip(blocks, context.noise_sd)]
    )


def perturb_permute(blocks, rng: np.random.Generator, context: UnitContext) -> Perturbed:
    """Shuffle the unit's values across samples (whole sequences: Breiman/Fisher permutation importance)."""
    donors = rng.permutation(blocks[0].shape[0])
    return Perturbed([v[donors] for v in blocks], donors)


def perturb_resample(blocks, rng: np.random.Generator, context: UnitContext) -> Perturbed:
    """Replace each sample's values by those of a sample drawn at random (with replacement)."""
    n_rows = blocks[0].shape[0]
    donors = rng.integers(0, n_rows, n_rows)
    return Perturbed([v[donors] for v in blocks], donors)


def perturb_conditional(blocks, rng: np.random.Generator, context: UnitContext) -> Perturbed:
    """Keep the part of the values the rest of the sample predicts; permute the residual across samples."""
    donors = rng.permutation(blocks[0].shape[0])
    return Perturbed([fitted + residual[donors] for fitted, residual in context.conditional], donors)


def perturb_zero(blocks, rng: np.random.Generator, context: UnitContext) -> Perturbed:
    """Set every value to 0 (ablation)."""
    return Perturbed([np.zeros_like(v) for v in blocks])


def perturb_mean(blocks, rng: np.random.Generator, context: UnitContext) -> Perturbed:
    """Set every value to its feature's mean over samples and (real) time steps (ablation)."""
    return Perturbed([np.broadcast_to(mean, v.shape).copy() for v, mean in zip(blocks, context.mean)])


@dataclass(frozen=True)
class Method:
    """A perturbation and what the engine must know about it."""

    name: str
    function: Callable[[list[np.ndarray], np.random.Generator, UnitContext], Perturbed]
    deterministic: bool = False  # same values every repeat: evaluated once
    uses_scale: bool = False  # reads scale / relative_scale
    conditional: bool = False  # needs the fitted conditional model (context.conditional)
    donor_based: bool = False  # returns donors


METHODS: dict[str, Method] = {
    "gaussian": Method("gaussian", perturb_gaussian, uses_scale=True),
    "uniform": Method("uniform", perturb_uniform, uses_scale=True),
    "permute": Method("permute", perturb_permute, donor_based=True),
    "resample": Method("resample", perturb_resample, donor_based=True),
    "conditional": Method("conditional", perturb_conditional, conditional=True, donor_based=True),
    "zero": Method("zero", perturb_zero, deterministic=True),
    "mean": Method("mean", perturb_mean, deterministic=True),
}


class MethodFailedError(RuntimeError):
    """A custom ``method`` raised or returned something that is not new values of the right shape."""


def _wrap_custom(function: Callable) -> Method:
    name = getattr(function, "__name__", "custom")

    def perturb_custom(blocks, rng: np.random.Generator, context: UnitContext) -> Perturbed:
        given = blocks[0] if len(blocks) == 1 else blocks
        result = function(given, rng)
        results = [result] if len(blocks) == 1 else result
        if len(blocks) > 1 and (not isinstance(results, (list, tuple)) or len(results) != len(blocks)):
            raise MethodFailedError(
                f"method (a custom perturbation) must return a list of {len(blocks)} arrays for a unit that "
                f"spans {len(blocks)} inputs, got {type(result).__name__}"
            )
        return Perturbed([_checked_block(value, block) for value, block in zip(results, blocks)])

    perturb_custom.__name__ = name
    return Method(name, perturb_custom)


def _checked_block(value, block: np.ndarray) -> np.ndarray:
    """A custom method's result as a float64 array of the block's shape, finite."""
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        dtype = getattr(np.asarray(value), "dtype", None)
        kind = terms.type_word(dtype) if dtype is not None else type(value).__name__
        raise MethodFailedError(
            f"method (a custom perturbation) must return numbers, got {type(value).__name__} of {kind}"
        ) from None
    if array.shape != block.shape:
        raise MethodFailedError(
            f"method (a custom perturbation) must return an array of the {terms.shape(block.shape)} it was given, "
            f"got {terms.shape(array.shape)}"
        )
    if not np.isfinite(array).all():
        bad = int(np.count_nonzero(~np.isfinite(array)))
        raise MethodFailedError(
            f"method (a custom perturbation) returned NaN or infinite values ({bad} of {array.size}); "
            "it must return finite numbers"
        )
    return array


def resolve_method(method) -> Method:
    """The :class:`Method` for ``method`` (a name or a ``(values, rng) -> values`` callable)."""
    if callable(method):
        return _wrap_custom(method)
    if isinstance(method, str) and method in METHODS:
        return METHODS[method]
    raise ValueError(
        f"method must be one of {terms.choices(list(METHODS))} or "
        f"{terms.either('a callable (values, rng) -> values', 'an R function(values, seed)')}, "
        f"got {terms.literal(method) if isinstance(method, str) else repr(method)}"
    )


def keep_padding(
    new_blocks: Sequence[np.ndarray],
    original_blocks: Sequence[np.ndarray],
    real: Sequence[np.ndarray | None],
    donors: np.ndarray | None,
    rng: np.random.Generator,
) -> list[np.ndarray]:
    """Padded steps stay as they were; real steps never receive a padded step's values.

    ``real[b]`` is (n_rows, n_block_steps) True on the recipient's real steps (None: no padding).
    A real step whose donor is padded there takes the values of another sample that is real at
    that step, drawn at random (the donor-based methods); noise and ablations change real steps only.
    """
    result = []
    for new, original, is_real in zip(new_blocks, original_blocks, real):
        if is_real is None:
            result.append(new)
            continue
        new = np.array(new, copy=True)
        if donors is not None:
            starved = is_real & ~is_real[donors]
            for step in np.flatnonzero(starved.any(axis=0)):
                candidates = np.flatnonzero(is_real[:, step])
                needy = np.flatnonzero(starved[:, step])
                new[needy, step] = original[rng.choice(candidates, size=len(needy)), step]
        padded = ~is_real
        new[padded] = original[padded]
        result.append(new)
    return result


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
