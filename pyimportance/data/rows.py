"""Which rows are evaluated, and in which blocks: ``max_samples`` subsets and the blocks of early stopping.

With ``max_samples`` a seeded random subset of the rows is evaluated (in the data's order).
With ``tolerance`` the evaluated rows are dealt, in a seeded random order, into blocks of about
:data:`ROWS_PER_BLOCK` rows; the run scores them block by block until its intervals are narrow
enough (:mod:`pyimportance.engine.runner`). Both depend on the seed only, never on
``batch_size`` or an executor.
"""

from __future__ import annotations

import numbers

import numpy as np

from .. import terms
from .arguments import check_positive_int
from .inputs import Inputs
from .seeding import RootSeed, row_blocks_rng, subsample_rng

#: Rows per block of an early-stopping run (``tolerance``).
ROWS_PER_BLOCK = 1000


def as_slice(index: np.ndarray) -> slice | None:
    """``index`` as a slice when it runs through consecutive positions (basic indexing: a view, no gather)."""
    if len(index) and np.array_equal(index, np.arange(index[0], index[0] + len(index))):
        return slice(int(index[0]), int(index[0]) + len(index))
    return None


def check_max_samples(max_samples, n_samples: int) -> int:
    """Rows to evaluate on: ``max_samples`` as an int count or a float fraction in (0, 1] of ``n_samples``."""
    if max_samples is None:
        return n_samples
    if isinstance(max_samples, numbers.Real) and not isinstance(max_samples, (numbers.Integral, bool, np.bool_)):
        expectation = "max_samples must be an int >= 1 or a fraction in (0, 1]"
        if not np.isfinite(max_samples):
            raise ValueError(f"{expectation}, got {terms.number(max_samples)}")
        if float(max_samples).is_integer() and max_samples > 1:
            max_samples = int(max_samples)
        elif 0 < max_samples <= 1:
            return max(1, int(round(max_samples * n_samples)))
        else:
            raise ValueError(f"{expectation}, got {terms.number(max_samples)}")
    count = check_positive_int(max_samples, "max_samples")
    if count > n_samples:
        raise ValueError(
            f"max_samples must be at most the number of samples in {terms.arg('X')} ({n_samples}), got {count}"
        )
    return count


def subsample_rows(n_samples: int, count: int, root: RootSeed) -> np.ndarray:
    """The positions of the ``count`` evaluated rows of ``n_samples``, sorted (all of them when ``count`` is all)."""
    if count < n_samples:
        return np.sort(subsample_rng(root).choice(n_samples, size=count, replace=False))
    return np.arange(n_samples)


def evaluated_rows(inputs: Inputs, targets, count: int, root: RootSeed, tolerance: float | None):
    """The evaluated rows (a seeded subset of ``count`` rows, in order) and, with ``tolerance``, their blocks.

    Returns ``(inputs, targets, blocks)``: the inputs and targets of those rows, and the sorted
    row positions of each block (an empty list without ``tolerance``: one block of all rows).
    """
    if count < inputs.n_samples:
        rows = subsample_rows(inputs.n_samples, count, root)
        inputs = inputs.take(rows)
        targets = None if targets is None else [(name, values[rows]) for name, values in targets]
    if tolerance is None:
        return inputs, targets, []
    order = row_blocks_rng(root).permutation(inputs.n_samples)
    n_blocks = max(1, -(-inputs.n_samples // ROWS_PER_BLOCK))
    blocks = [np.sort(part) for part in np.array_split(order, n_blocks)]
    return inputs, targets, blocks
