"""Categorical units under method="conditional" (pyimportance.methods.categorical_sampler): a classifier's
class probabilities, a sampled class; the closed-form conditional importance of a three-level category whose
probabilities depend on another feature, as integer codes (detected or declared) and as a one-hot group.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.neighbors import KNeighborsClassifier

from pyimportance import ModelFailedError, perturbation_importance

LEVELS = np.array([0.0, 1.0, 3.0])  # b_c: the model's value of each class
SLOPES = np.array([-1.5, 0.0, 1.5])  # class scores a_k x1: p_k(x1) = softmax(a x1)


def _probabilities(x1: np.ndarray) -> np.ndarray:
    scores = np.exp(np.outer(x1, SLOPES))
    return scores / scores.sum(axis=1, keepdims=True)


def _truth() -> float:
    """E_x1[sum_{j,k} p_j p_k (b_j - b_k)^2] for x1 ~ U(-2, 2), by the midpoint rule on 20,001 points."""
    x1 = np.linspace(-2, 2, 20_001)
    p = _probabilities(x1)
    squared = (LEVELS[:, None] - LEVELS[None, :]) ** 2
    return float(np.einsum("nj,nk,jk->n", p, p, squared).mean())


def _data(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """x1 ~ U(-2, 2) and a class drawn from p(x1)."""
    rng = np.random.default_rng(seed)
    x1 = rng.uniform(-2, 2, n)
    cumulative = np.cumsum(_probabilities(x1), axis=1)
    return x1, (rng.random(n)[:, None] > cumulative).sum(axis=1)


def _level_of_code(x):
    codes = x[:, 1]
    assert np.isin(codes, [0, 1, 2]).all()  # a sampled class, never a value between codes
    return LEVELS[codes.astype(int)]


def _level_of_one_hot(x):
    one_hot = x[:, 1:]
    assert np.isin(one_hot, [0, 1]).all() and (one_hot.sum(axis=1) == 1).all()
    return one_hot @ LEVELS


@pytest.fixture(scope="module")
def codes():
    return _data(10_000)


def test_integer_codes_get_the_closed_form_conditional_importance(codes):
    x1, c = codes
    frame = pd.DataFrame({"x1": x1, "c": c})  # an integer column: detected as codes
    result = perturbation_importance(_level_of_code, frame, LEVELS[c], method="conditional", n_repeats=3,
                                     random_state=0)
    np.testing.assert_allclose(result.importances_mean[1], _truth(), rtol=0.1)
    permuted = perturbation_importance(_level_of_code, frame, LEVELS[c], method="permute", n_repeats=3,
                                       random_state=0)
    assert permuted.importances_mean[1] > 1.3 * _truth()  # permuting ignores what x1 says about c


def test_codes_declared_in_float_data_are_sampled_too(codes):
    x1, c = codes
    X = np.column_stack([x1, c]).astype(float)[:3000]
    declared = perturbation_importance(_level_of_code, X, LEVELS[c[:3000]], method="conditional",
                                       categorical=["x2"], n_repeats=3, random_state=0)
    np.testing.assert_allclose(declared.importances_mean[1], _truth(), rtol=0.15)
    with pytest.raises(ModelFailedError, match="AssertionError"):  # undeclared: ridge residuals between codes
        perturbation_importance(_level_of_code, X, LEVELS[c[:3000]], method="conditional", random_state=0)


def test_a_one_hot_group_gets_the_closed_form_conditional_importance(codes):
    x1, c = codes
    X = np.column_stack([x1, np.eye(3)[c]])
    result = perturbation_importance(_level_of_one_hot, X, LEVELS[c], method="conditional",
                                     groups={"x1": ["x1"], "c": ["x2", "x3", "x4"]}, n_repeats=3, random_state=0)
    np.testing.assert_allclose(result.importances_mean[1], _truth(), rtol=0.1)


def test_reference_rows_and_a_given_classifier_serve_the_categorical_units(codes):
    x1, c = codes
    X = pd.DataFrame({"x1": x1, "c": c})
    classifier = KNeighborsClassifier(n_neighbors=50)
    result = perturbation_importance(_level_of_code, X.iloc[:1000], LEVELS[c[:1000]], method="conditional",
                                     reference=X.iloc[1000:], learner={"categorical": classifier}, n_repeats=5,
                                     random_state=0)
    np.testing.assert_allclose(result.importances_mean[1], _truth(), rtol=0.2)
    assert result.settings["learner"] == "categorical=KNeighborsClassifier"
    assert not hasattr(classifier, "classes_")  # the caller's classifier is not fitted


def test_a_lone_one_hot_column_or_a_mixed_unit_is_refused_with_what_to_do():
    x1, c = _data(60)
    X = np.column_stack([x1, np.eye(3)[c]])
    with pytest.raises(ValueError) as error:
        perturbation_importance(_level_of_one_hot, X, method="conditional")
    assert str(error.value) == (
        "method='conditional' cannot perturb 'x2' (['x2']): a unit must be all categorical (integer codes, or whole "
        "one-hot runs) or all continuous; perturb one-hot columns as one group, and categorical features apart from "
        "continuous ones"
    )


def test_a_learner_dict_takes_the_two_roles_only():
    x1, c = _data(60)
    with pytest.raises(TypeError) as error:
        perturbation_importance(_level_of_code, pd.DataFrame({"x1": x1, "c": c}), method="conditional",
                                learner={"codes": KNeighborsClassifier()})
    assert str(error.value) == "learner as a dict takes the keys ['continuous', 'categorical'], got 'codes'"
