"""``sample_weight``: one non-negative weight per row, checked at the boundary, never modified.

Every score of a weighted run is the weighted mean ``sum(w * l) / sum(w)`` of the per-row
values ``l`` (scikit-learn's convention), so an integer weight counts a row that many times and a
weight of 0 removes it from every mean. :func:`check_sample_weight` returns a float64 copy of one
weight per row of ``X``; :func:`evaluated_weights` the weights of the rows a run evaluates
(``max_samples``).

A pandas Series given with a pandas ``X`` is aligned on ``X``'s index (by label, in ``X``'s
order): a Series holding other labels is refused rather than matched by position. Anything else
(a NumPy array, a list, an R numeric vector, a Series with a non-pandas ``X``) is by position.
"""

from __future__ import annotations

import numpy as np

from .. import terms
from .finite import as_float64

NAME = "sample_weight"


def _aligned(sample_weight, x_index):
    """A pandas Series on ``X``'s index (by label), else ``sample_weight`` as it is."""
    index = getattr(sample_weight, "index", None)
    if x_index is None or index is None or not hasattr(sample_weight, "reindex"):
        return sample_weight
    if index.equals(x_index):
        return sample_weight.to_numpy()
    missing = x_index.difference(index)
    if len(missing) or not index.is_unique or len(index) != len(x_index):
        shown = f"{len(missing)} label(s) of X's index missing, e.g. {missing.tolist()[0]!r}" if len(missing) else \
            f"{len(index)} labels for {len(x_index)} rows"
        raise ValueError(f"{terms.arg(NAME)} as a pandas Series must have X's index labels (it is aligned on X's "
                         f"index), got {shown}; pass a NumPy array to match rows by position")
    return sample_weight.reindex(x_index).to_numpy()


def check_sample_weight(sample_weight, n_samples: int, x_index=None) -> np.ndarray | None:
    """One float64 weight per row (a copy), or None when ``sample_weight`` is None.

    Parameters
    ----------
    sample_weight : array-like of shape (n_samples,), pandas Series, or None
        Non-negative finite weights, at least one positive.
    n_samples : int
        Rows of ``X``.
    x_index : pandas Index, optional
        ``X``'s index when ``X`` is a pandas frame: a Series is aligned on it.

    Examples
    --------
    >>> check_sample_weight([1, 2, 0], 3)
    array([1., 2., 0.])
    """
    if sample_weight is None:
        return None
    name = terms.arg(NAME)
    weights = np.array(as_float64(_aligned(sample_weight, x_index), TypeError, lambda given: (
        f"{name} must be numbers, one per row of {terms.arg('X')}, got {type(given).__name__}")), dtype=np.float64)
    if weights.ndim != 1 or weights.shape[0] != n_samples:
        raise ValueError(f"{name} must be one number per row of {terms.arg('X')} ({n_samples}), got "
                         f"{terms.shape(weights.shape)}")
    bad = np.flatnonzero(~np.isfinite(weights) | (weights < 0))
    if bad.size:
        position = int(bad[0])
        raise ValueError(f"{name} must be finite and >= 0, got {terms.number(weights[position])} at "
                         f"{terms.position(NAME, (position,))}")
    if not weights.sum() > 0:
        raise ValueError(f"{name} must have a positive sum (weight 0 leaves a row out of every mean), got all zeros")
    return weights


def evaluated_weights(weights: np.ndarray | None, rows: np.ndarray) -> np.ndarray | None:
    """The weights of the evaluated ``rows`` (positions into ``X``), refusing a subset that weighs nothing."""
    if weights is None:
        return None
    chosen = weights[rows]
    if not chosen.sum() > 0:
        raise ValueError(f"{terms.arg(NAME)}: every row {terms.arg('max_samples')} chose has weight 0 (the means "
                         f"would divide by 0); evaluate on more rows or give those rows weight")
    return chosen
