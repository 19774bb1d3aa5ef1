"""Agreement with ``sage-importance`` (Covert et al.'s own estimator) on 2D data and a small model,
within the Monte Carlo error of both."""

from __future__ import annotations

import numpy as np
import pytest

from pyimportance import shapley_importance

sage = pytest.importorskip("sage")  # a test dependency (the "test" extra): CI has it in both environments


def model(x):
    return np.tanh(x[:, 0]) * x[:, 1] + 0.5 * x[:, 2] + 0.2 * x[:, 3] ** 2


def test_values_agree_with_sage_importance_permutation_estimator():
    rng = np.random.default_rng(11)
    X = rng.normal(size=(4000, 5))
    y = model(X) + 0.3 * rng.normal(size=4000)
    ours = shapley_importance(model, X, y, n_repeats=4, random_state=0)
    imputer = sage.MarginalImputer(model, X[:128])
    theirs = sage.PermutationEstimator(imputer, "mse", random_state=0)(X, y, batch_size=256, thresh=0.04,
                                                                         bar=False)
    error = np.sqrt(ours.std_error**2 + theirs.std**2)
    assert np.all(np.abs(ours.importances_mean - theirs.values) < 3 * error + 0.01), (ours.importances_mean,
                                                                                      theirs.values, error)
    assert set(np.argsort(-ours.importances_mean)[:3]) == set(np.argsort(-theirs.values)[:3]) == {0, 1, 2}
    assert ours.importances_mean[4] == 0.0
