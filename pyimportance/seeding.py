"""Random streams: one independent generator per (unit, repeat), derived from one seed.

Every random draw of a run comes from a generator built here from the run's root entropy
and a fixed *spawn key*. A generator therefore depends only on ``random_state`` and on which
(unit, repeat) it serves, never on the order, grouping, batching or parallelism of the work.
"""

from __future__ import annotations

import numbers

import numpy as np

from . import terms

# Spawn-key prefixes: one namespace per purpose, so streams can never collide.
_SUBSAMPLE_KEY = 0
_UNIT_KEY = 1


def _expected() -> str:
    if terms.current().language == "R":
        return f"{terms.arg('random_state')} must be NULL or a whole number >= 0"
    return "random_state must be None, an int >= 0, a numpy SeedSequence or Generator"


def root_entropy(random_state) -> int:
    """Turn ``random_state`` (None, int, SeedSequence or Generator) into root entropy."""
    if random_state is None:
        return int(np.random.SeedSequence().entropy)
    if isinstance(random_state, (bool, np.bool_)):
        raise TypeError(
            f"{_expected()}, got {terms.literal(random_state)}"
        )
    if isinstance(random_state, numbers.Integral):
        if int(random_state) < 0:
            raise ValueError(f"{terms.arg('random_state')} must be a non-negative integer, got {random_state}")
        return int(random_state)
    if isinstance(random_state, float) and random_state.is_integer() and random_state >= 0:
        return int(random_state)
    if isinstance(random_state, np.random.SeedSequence):
        return int(random_state.entropy)
    if isinstance(random_state, np.random.Generator):
        return int(random_state.integers(0, 2**63))
    raise TypeError(
        f"{_expected()}, got {type(random_state).__name__}: {random_state!r}"
    )


def _generator(entropy: int, *spawn_key: int) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(entropy, spawn_key=spawn_key)))


def subsample_rng(entropy: int) -> np.random.Generator:
    """Generator that chooses the ``max_samples`` rows."""
    return _generator(entropy, _SUBSAMPLE_KEY)


def unit_rng(entropy: int, unit: int, repeat: int) -> np.random.Generator:
    """Generator for repeat ``repeat`` of unit ``unit``; independent of everything else."""
    return _generator(entropy, _UNIT_KEY, unit, repeat)
