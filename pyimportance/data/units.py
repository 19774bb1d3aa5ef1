"""What a *unit* is: the block(s) of the inputs perturbed together (a feature, a group, a time step, a cell).

A unit is one or more :class:`Block` s, each ``inputs[input][:, timesteps, features]``. With one
input every unit is one block; a group that spans inputs, or a time step of a model with several
sequence inputs, has one block per input.

Static (2D) inputs have no time axis: with ``by="timestep"`` or ``by="cell"`` each static
feature (or group of static features) is its own unit with no time step.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from . import terms
from .inputs import Inputs

BY_CHOICES = ("feature", "timestep", "cell")

ALL_FEATURES = "(all)"


@dataclass(frozen=True)
class Block:
    """``inputs[input][:, timesteps, features]``; ``timesteps`` None = every time step."""

    input: int
    timesteps: tuple[int, ...] | None
    features: tuple[int, ...]

    def columns(self, n_timesteps: int) -> tuple[np.ndarray, np.ndarray]:
        """Index arrays (time steps, features) selecting this block from a ``(n, T, F)`` array."""
        steps = np.arange(n_timesteps) if self.timesteps is None else np.asarray(self.timesteps)
        return steps, np.asarray(self.features)

    def index(self, n_timesteps: int) -> tuple:
        """Index of the block ``[:, steps, features]`` (shape (n, steps, features)) after the sample axis.

        Runs of consecutive indices become slices: basic indexing is several times faster than
        fancy indexing, and selects the same block.
        """
        steps, features = self.columns(n_timesteps)
        step_slice, feature_slice = as_slice(steps), as_slice(features)
        if step_slice is None and feature_slice is None:
            return steps[:, None], features[None, :]
        return (steps if step_slice is None else step_slice), (features if feature_slice is None else feature_slice)

    def flat_columns(self, n_timesteps: int, n_features: int, offset: int) -> np.ndarray:
        """The block's columns in a sample flattened to ``(T * F)`` per input (``t * F + f``), plus ``offset``."""
        steps, features = self.columns(n_timesteps)
        return offset + (steps[:, None] * n_features + features[None, :]).reshape(-1)


def as_slice(index: np.ndarray) -> slice | None:
    """``index`` as a slice when it runs through consecutive positions (basic indexing: a view, no gather)."""
    if len(index) and np.array_equal(index, np.arange(index[0], index[0] + len(index))):
        return slice(int(index[0]), int(index[0]) + len(index))
    return None


@dataclass(frozen=True)
class Unit:
    """One perturbed unit.

    ``feature`` is the label shown in results (a feature or group name, or ``"(all)"``);
    ``timestep`` is the 0-based time step for ``by="timestep"``/``"cell"`` (None for static
    features and ``by="feature"``).
    """

    feature: str
    timestep: int | None
    blocks: tuple[Block, ...]

    @property
    def first_step(self) -> int:
        """The first time step the unit changes (0 when it spans the whole sequence)."""
        steps = [min(block.timesteps) for block in self.blocks if block.timesteps is not None]
        return min(steps) if len(steps) == len(self.blocks) and steps else 0


def _columns_by_input(inputs: Inputs, members: Sequence[int]) -> dict[int, tuple[int, ...]]:
    """Global feature indices grouped by input: {input: (feature, ...)}."""
    features = inputs.features
    grouped: dict[int, list[int]] = {}
    for member in members:
        input_index, feature_index = features[member]
        grouped.setdefault(input_index, []).append(feature_index)
    return {input_index: tuple(found) for input_index, found in grouped.items()}


def build_units(by: str, inputs: Inputs, groups: Mapping[str, tuple[int, ...]] | None = None) -> list[Unit]:
    """List the units for granularity ``by``; ``groups`` (global feature indices) replace single features."""
    if groups is not None:
        columns = [(name, _columns_by_input(inputs, members)) for name, members in groups.items()]
    else:
        columns = [(name, {i: (f,)}) for name, (i, f) in zip(inputs.feature_names, inputs.features)]
    if by == "feature":
        return [Unit(name, None, tuple(Block(i, None, fs) for i, fs in members.items())) for name, members in columns]
    if by not in ("timestep", "cell"):
        raise ValueError(f"by must be one of {terms.choices(BY_CHOICES)}, got {terms.literal(by)}")
    sequence = [i for i, part in enumerate(inputs.parts) if part.is_sequence]
    n_steps = max(inputs.parts[i].n_timesteps for i in sequence)
    static_units = [
        Unit(name, None, tuple(Block(i, None, fs) for i, fs in members.items()))
        for name, members in columns
        if all(not inputs.parts[i].is_sequence for i in members)
    ]
    if by == "timestep":
        steps = [
            Unit(ALL_FEATURES, step, tuple(
                Block(i, (step,), tuple(range(inputs.parts[i].n_features)))
                for i in sequence if step < inputs.parts[i].n_timesteps
            ))
            for step in range(n_steps)
        ]
        return steps + static_units
    for name, members in columns:
        kinds = {inputs.parts[i].is_sequence for i in members}
        if len(kinds) > 1:
            raise ValueError(
                f"{terms.element('groups', name)} mixes sequence and static features, which "
                f"{terms.setting('by', 'cell')} cannot perturb at one time step; make separate groups"
            )
    cells = [
        Unit(name, step, tuple(Block(i, (step,), fs) for i, fs in members.items()))
        for step in range(n_steps)
        for name, members in columns
        if all(inputs.parts[i].is_sequence and step < inputs.parts[i].n_timesteps for i in members)
    ]
    return cells + static_units
