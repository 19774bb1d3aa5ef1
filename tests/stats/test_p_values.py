"""Benjamini-Hochberg adjusted p-values (pyimportance.stats.p_values): equal to statsmodels' fdr_bh
with NaN left out, a closed form, and column by column for a matrix.
"""

from __future__ import annotations

import numpy as np

from pyimportance.stats.p_values import adjust_p_values


def test_adjusted_p_values_equal_statsmodels_benjamini_hochberg_ignoring_nan():
    from statsmodels.stats.multitest import multipletests

    rng = np.random.default_rng(16)
    p_values = np.concatenate([rng.uniform(size=40), rng.uniform(0, 0.01, size=10), [np.nan, np.nan]])
    rng.shuffle(p_values)
    adjusted = adjust_p_values(p_values)
    present = ~np.isnan(p_values)
    np.testing.assert_allclose(adjusted[present], multipletests(p_values[present], method="fdr_bh")[1], rtol=1e-12)
    assert np.isnan(adjusted[~present]).all()


def test_adjusted_p_values_closed_form_and_columns():
    # m = 4: sorted 0.01, 0.02, 0.03, 0.5 -> 0.04, 0.04, 0.04, 0.5
    np.testing.assert_allclose(adjust_p_values(np.array([0.03, 0.5, 0.01, 0.02])), [0.04, 0.5, 0.04, 0.04])
    matrix = np.array([[0.03, 0.2], [0.5, np.nan], [0.01, 0.1], [0.02, 0.9]])
    adjusted = adjust_p_values(matrix)
    np.testing.assert_allclose(adjusted[:, 0], [0.04, 0.5, 0.04, 0.04])
    np.testing.assert_allclose(adjusted[:, 1], [0.3, np.nan, 0.3, 0.9])
    assert np.isnan(adjust_p_values(np.array([np.nan, np.nan]))).all()
