"""What a *unit* is: the block of X perturbed together (a feature, a group, a time step, a cell)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

BY_CHOICES = ("feature", "timestep", "cell")

ALL_FEATURES = "(all)"


@dataclass(frozen=True)
class Unit:
    """One perturbed block: ``X[:, timesteps, features]`` (``timesteps`` None = all steps).

    ``feature`` is the label shown in results (a feature or group name, or ``"(all)"``);
    ``timestep`` is the 0-based time step for ``by="timestep"``/``"cell"``, else None.
    """

    feature: str
    timestep: int | None
    features: tuple[int, ...]
    timesteps: tuple[int, ...] | None

    def columns(self, n_timesteps: int) -> tuple[np.ndarray, np.ndarray]:
        """Index arrays (time steps, features) selecting this unit from a ``(n, T, F)`` array."""
        steps = np.arange(n_timesteps) if self.timesteps is None else np.asarray(self.timesteps)
        return steps, np.asarray(self.features)


def build_units(
    by: str,
    feature_names: Sequence[str],
    n_timesteps: int,
    groups: Mapping[str, tuple[int, ...]] | None = None,
) -> list[Unit]:
    """List the units for granularity ``by``; ``groups`` (resolved indices) replace single features."""
    if groups is not None:
        columns = [(name, members) for name, members in groups.items()]
    else:
        columns = [(name, (index,)) for index, name in enumerate(feature_names)]
    all_features = tuple(range(len(feature_names)))
    if by == "feature":
        return [Unit(name, None, members, None) for name, members in columns]
    if by == "timestep":
        return [Unit(ALL_FEATURES, step, all_features, (step,)) for step in range(n_timesteps)]
    if by == "cell":
        return [Unit(name, step, members, (step,)) for step in range(n_timesteps) for name, members in columns]
    raise ValueError(f"by must be one of {', '.join(repr(c) for c in BY_CHOICES)}, got {by!r}")
