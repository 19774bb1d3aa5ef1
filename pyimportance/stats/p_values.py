"""Multiple testing over the units of a run: Benjamini-Hochberg adjusted p-values (SciPy's)."""

from __future__ import annotations

import numpy as np


def adjust_p_values(p_values: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values; NaN entries stay NaN and are not counted.

    Parameters
    ----------
    p_values : ndarray of shape (n_units,) or (n_units, n_outputs)
        One-sided p-values; a 2-D array is adjusted per output column (over the units).

    Returns
    -------
    ndarray
        Adjusted p-values of the same shape (``scipy.stats.false_discovery_control``, method "bh").

    Examples
    --------
    >>> adjust_p_values(np.array([0.01, np.nan, 0.04, 0.03]))
    array([0.03,  nan, 0.04, 0.04])
    """
    from scipy.stats import false_discovery_control

    p_values = np.asarray(p_values, dtype=np.float64)
    if p_values.ndim == 2:
        return np.stack([adjust_p_values(column) for column in p_values.T], axis=1)
    adjusted = np.full(p_values.shape, np.nan)
    present = ~np.isnan(p_values)
    if present.any():
        adjusted[present] = false_discovery_control(p_values[present], method="bh")
    return adjusted
