"""Conditional imputation: the absent units drawn given the known ones (Gaussian), against the closed form of
correlated inputs, and what it refuses."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from pyimportance import shapley_importance

RHO = 0.8


def _correlated(n=4000, seed=0):
    rng = np.random.default_rng(seed)
    x1 = rng.normal(size=n)
    x2 = RHO * x1 + np.sqrt(1 - RHO**2) * rng.normal(size=n)
    return np.column_stack([x1, x2, rng.normal(size=n)])


def first(x):
    return x[:, 0]


def test_correlated_inputs_share_the_value_the_model_reads_from_one_of_them():
    X = _correlated()
    conditional = shapley_importance(first, X, X[:, 0], imputer="conditional", random_state=0)
    truth = [1 - RHO**2 / 2, RHO**2 / 2, 0.0]  # v({1}) = 1, v({2}) = rho^2, v(both) = 1
    assert np.all(conditional.ci_low[:2] <= truth[:2]) and np.all(truth[:2] <= conditional.ci_high[:2])
    np.testing.assert_allclose(conditional.importances_mean, truth, atol=0.03)
    marginal = shapley_importance(first, X, X[:, 0], random_state=0)
    assert marginal.importances_mean[1] == 0.0 and marginal.importances_mean[0] > 0.9  # the model never reads x2
    np.testing.assert_allclose(conditional.importances_mean.sum(), conditional.total, rtol=1e-10)
    assert conditional.settings["imputer"] == "conditional"
    assert repr(conditional).startswith("Shapley importance (SAGE) by feature: conditional imputation")


def test_conditional_numbers_do_not_depend_on_batch_size_or_executor():
    X = np.random.default_rng(1).normal(size=(150, 4, 2))

    def model(x):
        return x[:, -1, 0] * x[:, 0, 1]

    reference = shapley_importance(model, X, model(X), imputer="conditional", by="cell", random_state=2)
    again = shapley_importance(model, X, model(X), imputer="conditional", by="cell", random_state=2, batch_size=33,
                               executor=ThreadPoolExecutor(2), task_size=1)
    np.testing.assert_array_equal(again.importances, reference.importances)
    np.testing.assert_allclose(reference.importances_mean.sum(), reference.total, rtol=1e-10)


@pytest.mark.parametrize(("options", "message"), [
    (dict(mask_value=-1.0), 'imputer="conditional" does not support padded sequences'),
    (dict(groups={"a": [0], "bc": [1, 2]}), 'imputer="conditional" needs units that hold equally many cells, '
                                           "got units of [3, 6] cells"),
    (dict(imputer="gibbs"), "imputer must be one of"),
])
def test_what_conditional_imputation_refuses(options, message):
    X = np.random.default_rng(0).normal(size=(50, 3, 3))
    X[:5, 0] = -1.0
    options = {"imputer": "conditional", **options}
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("]", r"\]")):
        shapley_importance(lambda x: x[:, -1, 0], X, X[:, -1, 0], **options)


def test_too_many_columns_are_refused_with_the_limit():
    X = np.random.default_rng(0).normal(size=(20, 30, 10))
    with pytest.raises(ValueError, match=r'takes at most 256 input columns \(time steps x features\), got 300'):
        shapley_importance(lambda x: x[:, -1, 0], X, X[:, -1, 0], imputer="conditional")
