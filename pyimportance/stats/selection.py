"""Which units are important: selection at a false discovery rate (Benjamini-Hochberg) or a family-wise
error rate (Holm), over every unit (and output) of a run, from the one-sided p-values of H0 "importance <= 0".

hidimstat's ``fdr_selection`` answers the same question; here it is one call on the result
(:meth:`pyimportance.ImportanceResult.selected`). A unit with a NaN p-value (no interval) is
never selected and not counted among the hypotheses.
"""

from __future__ import annotations

import numpy as np

from .. import terms
from .p_values import adjust_p_values

#: The error rates ``control`` may name, and how each is described in a result's summary.
CONTROLS = {"fdr": "FDR", "fwer": "FWER"}


def holm_adjusted(p_values: np.ndarray) -> np.ndarray:
    """Holm's step-down adjusted p-values of a 1-D array; NaN entries stay NaN and are not counted.

    Examples
    --------
    >>> holm_adjusted(np.array([0.01, np.nan, 0.04, 0.03]))
    array([0.03,  nan, 0.06, 0.06])
    """
    p_values = np.asarray(p_values, dtype=np.float64)
    adjusted = np.full(p_values.shape, np.nan)
    present = np.flatnonzero(~np.isnan(p_values))
    order = present[np.argsort(p_values[present], kind="stable")]
    m = order.size
    steps = p_values[order] * (m - np.arange(m))
    adjusted[order] = np.minimum(np.maximum.accumulate(steps), 1.0)
    return adjusted


def check_selection(alpha, control) -> tuple[float, str]:
    """``alpha`` in (0, 1) and ``control`` one of :data:`CONTROLS`, or a ValueError naming the argument."""
    if control not in CONTROLS:
        raise ValueError(f"{terms.arg('control')} must be {terms.literal('fdr')} (Benjamini-Hochberg) or "
                         f"{terms.literal('fwer')} (Holm), got {terms.literal(control)}")
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float, np.number)) or not 0 < alpha < 1:
        raise ValueError(f"{terms.arg('alpha')} must be a number in (0, 1), got {terms.literal(alpha)}")
    return float(alpha), control


def selected(p_values: np.ndarray, alpha: float = 0.05, control: str = "fdr") -> np.ndarray:
    """Which hypotheses are rejected at level ``alpha``, all entries of ``p_values`` taken as one family.

    Parameters
    ----------
    p_values : ndarray
        One-sided p-values, any shape (units, or units x outputs); NaN: no test.
    alpha : float in (0, 1)
    control : {"fdr", "fwer"}
        "fdr": Benjamini-Hochberg (the run's ``p_adjusted``); "fwer": Holm.

    Returns
    -------
    ndarray of bool, shaped like ``p_values``.

    Examples
    --------
    >>> selected(np.array([0.001, 0.02, 0.04, 0.5]), 0.05, "fdr").tolist()
    [True, True, False, False]
    >>> selected(np.array([0.001, 0.02, 0.04, 0.5]), 0.05, "fwer").tolist()
    [True, False, False, False]
    """
    alpha, control = check_selection(alpha, control)
    p_values = np.asarray(p_values, dtype=np.float64)
    flat = p_values.reshape(-1)
    adjusted = adjust_p_values(flat) if control == "fdr" else holm_adjusted(flat)
    return (adjusted <= alpha).reshape(p_values.shape)  # NaN compares False
