"""The plan of a run: what each job perturbs and how, independent of how the work is batched.

A *job* is one (unit, repeat, row block). Its perturbed values are drawn once, from the job's
own generator (:func:`~pyimportance.data.seeding.unit_rng`), for the rows of its block; only the
unit's own columns are held, never a whole copy of X. Everything here is deterministic given
the run's seed, so any executor, task size or ``batch_size`` sees the same perturbations.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from .. import terms
from ..data.inputs import Inputs
from ..data.rows import as_slice
from ..data.seeding import RootSeed, unit_rng
from ..data.units import Unit
from ..errors import MethodFailedError
from ..methods.context import UnitContext
from ..methods.feature_stats import FeatureStats
from ..methods.kept_padding import keep_padding
from ..methods.perturbations import Method


class Job(NamedTuple):
    unit: int
    repeat: int
    block: int = 0


class Override(NamedTuple):
    """New values for one block of one input: ``values`` fill ``array[:, index]`` of the job's rows."""

    input: int
    index: tuple
    values: np.ndarray


def take_block(values: np.ndarray, rows: np.ndarray, index: tuple, steps: np.ndarray, features: np.ndarray):
    """A fresh float64 copy of ``values[rows][:, steps, features]``, gathering only the block.

    Always a copy: a custom method may write into it without touching the caller's data.
    """
    span = as_slice(rows)
    if span is not None:
        return np.array(values[(span,) + index], dtype=np.float64, copy=True)
    return np.array(values[np.ix_(rows, steps, features)], dtype=np.float64, copy=True)


@dataclass(frozen=True)
class Plan:
    """Everything needed to perturb jobs; cheap to ship to another process (the inputs aside)."""

    inputs: Inputs  # the evaluated rows, never written to
    units: Sequence[Unit]
    n_repeats: int
    method: Method
    stats: Sequence[FeatureStats]  # one per input
    scale: float
    relative_scale: bool
    root: RootSeed
    row_blocks: Sequence[np.ndarray] = field(default_factory=list)  # rows of each block (sorted)
    conditional: object | None = None  # a ConditionalSampler for method="conditional"

    @property
    def n_samples(self) -> int:
        return self.inputs.n_samples

    def block_rows(self, block: int) -> np.ndarray:
        return self.row_blocks[block] if self.row_blocks else np.arange(self.n_samples)

    def jobs(self, block: int = 0) -> list[Job]:
        """All (unit, repeat) jobs of one row block, in canonical order."""
        return [Job(u, r, block) for u in range(len(self.units)) for r in range(self.n_repeats)]

    def describe(self, job: Job) -> str:
        """Human description of a job, for error messages (time steps as the caller counts them)."""
        unit = self.units[job.unit]
        where = f"feature {terms.literal(unit.feature)}"
        if unit.timestep is not None:
            where += f" at time step {terms.index(unit.timestep)}"
        repeats = self.n_repeats
        return f"{where} (repeat {job.repeat + 1} of {repeats})" if repeats > 1 else where

    def perturbed(self, job: Job) -> tuple[list[Override], np.ndarray | None]:
        """The job's new values for each block of its unit, and the donors (local positions) if any."""
        unit = self.units[job.unit]
        rows = self.block_rows(job.block)
        rng = unit_rng(self.root, job.unit, job.repeat, job.block)
        originals, means, sds, real, indices = [], [], [], [], []
        for block in unit.blocks:
            part = self.inputs.parts[block.input]
            index = block.index(part.n_timesteps)
            indices.append(index)
            # A fresh float64 copy: a custom method may write into it without touching the caller's data.
            steps, features = block.columns(part.n_timesteps)
            originals.append(take_block(part.values, rows, index, steps, features))
            mean, sd = self.stats[block.input].context(features, scale=self.scale, relative_scale=self.relative_scale)
            means.append(mean)
            sds.append(sd)
            real.append(None if part.mask is None else part.mask[np.ix_(rows, steps)])
        conditional = self.conditional.parts(job.unit, rows) if self.method.conditional else None
        context = UnitContext(mean=means, noise_sd=sds, conditional=conditional)
        given = [original.copy() for original in originals] if any(m is not None for m in real) else originals
        try:
            perturbed = self.method.function(given, rng, context)
        except (KeyboardInterrupt, SystemExit):
            raise
        except MethodFailedError as error:
            raise MethodFailedError(f"{error}, while perturbing {self.describe(job)}") from None
        except Exception as error:
            raise MethodFailedError(
                f"method ({self.method.name}) failed while perturbing {self.describe(job)}: "
                f"{type(error).__name__}: {error}"
            ) from error
        new_blocks = keep_padding(perturbed.blocks, originals, real, perturbed.donors, rng)
        overrides = [
            Override(block.input, index, values) for block, index, values in zip(unit.blocks, indices, new_blocks)
        ]
        return overrides, perturbed.donors
