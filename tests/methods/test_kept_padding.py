"""Padded steps through any perturbation (pyimportance.methods.kept_padding): they are never perturbed,
and their padding value is never fed to a real step, by the function itself and end to end for
every method.
"""

from __future__ import annotations

import numpy as np
import pytest
from helpers import padded_sequences

from pyimportance import perturbation_importance
from pyimportance.methods.kept_padding import keep_padding


def test_keep_padding_leaves_padded_steps_and_never_feeds_padding_to_real_steps():
    values = np.arange(1.0, 13.0).reshape(4, 3, 1)
    real = np.array([[True, True, True], [False, True, True], [False, False, True], [True, True, True]])
    values[~real] = 0.0  # padding
    donors = np.array([2, 0, 1, 3])  # row 0 would receive row 2's two padded steps
    new = values[donors]
    kept = keep_padding([new], [values], [real], donors, np.random.default_rng(0))[0]
    np.testing.assert_array_equal(kept[~real], values[~real])  # padded steps untouched
    for row, step in zip(*np.nonzero(real)):
        donors_real_there = values[real[:, step], step, 0]
        assert kept[row, step, 0] in donors_real_there  # always a real value of that step
    assert kept[0, 2, 0] == values[2, 2, 0]  # where the donor is real, its value is used


@pytest.mark.parametrize("method", ["gaussian", "uniform", "permute", "resample", "conditional", "zero", "mean"])
def test_padded_steps_are_never_perturbed_and_never_fed_to_real_steps(method):
    X, real = padded_sequences(np.random.default_rng(2))
    seen = []

    def model(x):
        padded_now = np.all(x == -1.0, axis=2)
        seen.append(padded_now)
        return np.where(padded_now, 0.0, x[:, :, 0]).sum(axis=1)

    result = perturbation_importance(model, X, method=method, mask_value=-1.0, batch_size=len(X), n_repeats=2,
                                     random_state=0)
    for padded_now in seen[3:]:  # every perturbed copy (after the baseline, predicted twice, and the row-wise check)
        np.testing.assert_array_equal(padded_now, ~real)
    assert result.settings["mask_value"] == {"input": -1.0}
    assert result.importances_mean[2] == 0.0
