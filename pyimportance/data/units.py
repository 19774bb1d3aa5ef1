"""What a *unit* is: the block(s) of the inputs perturbed together (a feature, a group, a time step, a cell).

A unit is one or more :class:`Block` s, each ``inputs[input][:, timesteps, features]``. With one
input every unit is one block; a group that spans inputs, or a time step of a model with several
sequence inputs, has one block per input.

Static (2D) inputs have no time axis: with ``by="timestep"`` or ``by="cell"`` each static
feature (or group of static features) is its own unit with no time step.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from .. import terms
from .arguments import describe
from .inputs import Inputs
from .rows import as_slice

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


def check_units(by: str, groups, inputs: Inputs) -> dict[str, tuple[int, ...]] | None:
    """``by`` (a valid choice) and ``groups`` checked against the inputs: the groups as feature positions.

    That ``groups`` and ``by="timestep"`` do not go together is a rule of :mod:`pyimportance.settings`,
    checked before.
    """
    if by != "feature" and not inputs.is_sequence:
        raise ValueError(
            f"{terms.setting('by', by)} needs 3D {terms.arg('X')} (n_samples, n_timesteps, n_features), "
            f"got 2D {terms.arg('X')}"
        )
    return check_groups(groups, inputs.feature_names) if groups is not None else None


def check_groups(groups, feature_names: Sequence[str]) -> dict[str, tuple[int, ...]]:
    """Validate ``groups`` ({name: [feature names or 0-based indices]}) into index tuples."""
    if not isinstance(groups, Mapping):
        raise TypeError(f"groups must be a dict of {{group name: [features]}}, got {type(groups).__name__}")
    if len(groups) == 0:
        raise ValueError("groups must contain at least one group, got an empty dict")
    labels = [str(name) for name in groups]
    clashing = sorted({label for label in labels if labels.count(label) > 1})
    if clashing:
        raise ValueError(
            f"groups must have distinct names, got keys that read the same as text: {clashing} "
            f"(from {terms.vector(list(groups))})"
        )
    positions = {name: index for index, name in enumerate(feature_names)}
    resolved: dict[str, tuple[int, ...]] = {}
    for group_name, members in groups.items():
        shown = terms.element("groups", str(group_name))
        if isinstance(members, (str, numbers.Integral)):
            members = [members]
        members = list(members)
        if not members:
            raise ValueError(f"{shown} must name at least one feature, got an empty list")
        indices = [_group_member(member, shown, positions, feature_names) for member in members]
        if len(set(indices)) != len(indices):
            raise ValueError(f"{shown} lists a feature more than once: {terms.vector(members)}")
        resolved[str(group_name)] = tuple(indices)
    return resolved


def with_ungrouped_features(groups: Mapping[str, tuple[int, ...]], feature_names: Sequence[str]
                            ) -> tuple[dict[str, tuple[int, ...]], tuple[str, ...]]:
    """``groups`` followed by each feature outside every group as a unit of its own, named by its feature name;
    and those features' names.

    Shapley importance needs every feature in some unit: a feature in no unit would be known in every
    coalition, so the values would add up to what the groups explain beyond it, not to the loss of the
    mean prediction minus the model's loss. (Perturbation importance scores each unit on its own, so it
    reports the groups only.)
    """
    grouped = {member for members in groups.values() for member in members}
    ungrouped = tuple(name for position, name in enumerate(feature_names) if position not in grouped)
    clashing = [name for name in ungrouped if name in groups]
    if clashing:
        raise ValueError(
            f"{terms.element('groups', clashing[0])} has the name of a feature outside every group, which becomes a "
            f"unit of its own under that name; rename the group or put {terms.literal(clashing[0])} in a group"
        )
    completed = dict(groups)
    completed.update({name: (feature_names.index(name),) for name in ungrouped})
    return completed, ungrouped


def _group_member(member, shown: str, positions: Mapping[str, int], feature_names: Sequence[str]) -> int:
    """One group member (a feature name or a position) as a 0-based feature index."""
    if isinstance(member, str):
        if member not in positions:
            raise ValueError(f"{shown} names unknown feature {terms.literal(member)}; known features: "
                             f"{terms.vector(feature_names)}")
        return positions[member]
    if isinstance(member, numbers.Integral) and not isinstance(member, (bool, np.bool_)):
        as_position = 0 <= int(member) < len(feature_names)
        as_name = str(int(member)) in positions
        if as_name and as_position and positions[str(int(member))] != int(member):
            raise ValueError(
                f"{shown} member {member} is ambiguous: feature names are numbers too; pass the name as "
                f"text ({terms.literal(str(int(member)))}) or the position of another feature"
            )
        if as_position:
            return int(member)
        if as_name:
            return positions[str(int(member))]
        raise ValueError(
            f"{shown} has feature {terms.either('index', 'number')} {terms.index(int(member))} out of range "
            f"{terms.index(0)}..{terms.index(len(feature_names) - 1)}"
        )
    raise TypeError(f"{shown} members must be feature names or integer indices, got {describe(member)}")
