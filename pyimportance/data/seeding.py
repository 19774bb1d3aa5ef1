"""Random streams: one independent generator per purpose and job, derived from one seed.

Every random draw of a run comes from a generator built here from the run's :class:`RootSeed`
and a fixed *spawn key*. A generator therefore depends only on ``random_state`` and on which
job it serves, never on the order, grouping, batching or parallelism of the work.

A :class:`numpy.random.SeedSequence` passed as ``random_state`` keeps its own spawn key: the
children of ``SeedSequence(123).spawn(2)`` give two independent runs, as NumPy promises.

A seed drawn here (``random_state=None``, or a Generator's draw) is a whole number in
``[0, DRAWN_SEED_BOUND)``, below 2^31 - 1: the run records it (``settings["random_state"]``; R's
``attr(r, "settings")$seed``, an integer) and passing it back as ``random_state`` / ``seed`` /
``--seed`` repeats the run exactly, in Python, R and on the command line alike. (NumPy's own
128-bit entropy would not survive R, whose numbers hold 53 bits.)
"""

from __future__ import annotations

import numbers
from typing import NamedTuple

import numpy as np

from .. import terms

#: Every drawn seed is below this: R's largest integer, so R holds the seed exactly and takes it back.
DRAWN_SEED_BOUND = 2**31 - 1

# Spawn-key prefixes: one namespace per purpose, so streams can never collide.
_SUBSAMPLE_KEY = 0
_UNIT_KEY = 1
_ROW_BLOCKS_KEY = 2
_SHAPLEY_KEY = 3


class RootSeed(NamedTuple):
    """The entropy and spawn key every stream of a run derives from."""

    entropy: int
    spawn_key: tuple[int, ...] = ()

    def describe(self) -> int | str:
        """What to record in settings: the int seed, or ``entropy/k1/k2`` for a spawned sequence."""
        if not self.spawn_key:
            return self.entropy
        return "/".join(str(part) for part in (self.entropy, *self.spawn_key))


def _expected() -> str:
    if terms.current().language == "R":
        return f"{terms.arg('random_state')} must be NULL or a whole number >= 0"
    return "random_state must be None, an int >= 0, a numpy SeedSequence or Generator"


def root_seed(random_state) -> RootSeed:
    """Turn ``random_state`` (None, int, SeedSequence or Generator) into the run's :class:`RootSeed`."""
    if random_state is None:
        fresh = np.random.SeedSequence().generate_state(1, np.uint64)[0]
        return RootSeed(int(fresh % np.uint64(DRAWN_SEED_BOUND)))
    if isinstance(random_state, (bool, np.bool_)):
        raise TypeError(f"{_expected()}, got {terms.literal(random_state)}")
    if isinstance(random_state, numbers.Integral):
        if int(random_state) < 0:
            raise ValueError(f"{terms.arg('random_state')} must be a non-negative integer, got {random_state}")
        return RootSeed(int(random_state))
    if isinstance(random_state, float):
        if np.isfinite(random_state) and random_state.is_integer() and random_state >= 0:
            return RootSeed(int(random_state))
        raise ValueError(f"{terms.arg('random_state')} must be a non-negative whole number, got {random_state}")
    if isinstance(random_state, np.random.SeedSequence):
        if random_state.entropy is None:  # pragma: no cover - NumPy always fills it
            raise ValueError("random_state is a SeedSequence without entropy")
        return RootSeed(int(random_state.entropy), tuple(int(k) for k in random_state.spawn_key))
    if isinstance(random_state, np.random.Generator):
        return RootSeed(int(random_state.integers(0, DRAWN_SEED_BOUND)))
    raise TypeError(f"{_expected()}, got {type(random_state).__name__}: {random_state!r}")


def _generator(root: RootSeed, *key: int) -> np.random.Generator:
    sequence = np.random.SeedSequence(root.entropy, spawn_key=tuple(root.spawn_key) + tuple(key))
    return np.random.Generator(np.random.PCG64(sequence))


def subsample_rng(root: RootSeed) -> np.random.Generator:
    """Generator that chooses the ``max_samples`` rows."""
    return _generator(root, _SUBSAMPLE_KEY)


def row_blocks_rng(root: RootSeed) -> np.random.Generator:
    """Generator that orders the rows into the blocks of an early-stopping run."""
    return _generator(root, _ROW_BLOCKS_KEY)


def unit_rng(root: RootSeed, unit: int, repeat: int, block: int = 0) -> np.random.Generator:
    """Generator for repeat ``repeat`` of unit ``unit`` on row block ``block``; independent of all else."""
    if block == 0:
        return _generator(root, _UNIT_KEY, unit, repeat)
    return _generator(root, _UNIT_KEY, unit, repeat, block)


def shapley_rng(root: RootSeed, pair: int, block: int) -> np.random.Generator:
    """Generator for the unit orders and donor rows of order pair ``pair`` on row block ``block`` (Shapley runs)."""
    return _generator(root, _SHAPLEY_KEY, pair, block)
