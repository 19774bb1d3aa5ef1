"""Any learner as the conditional model (pyimportance.methods.learners): a nonlinear dependence gives the
closed-form conditional importance where ridge cannot, out of fold or fitted on reference rows, from a
scikit-learn regressor or a fit function, with the learner fitted before the run and never changed; the
learner's own error, measured by two learners on halves of the training rows, no longer inflates the importance.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.neighbors import KNeighborsRegressor
from threadpoolctl import threadpool_limits

from pyimportance import MethodFailedError, perturbation_importance
from pyimportance.data.check_x import check_X
from pyimportance.data.units import build_units
from pyimportance.methods import learners
from pyimportance.methods.conditional import fit_sampler
from pyimportance.methods.feature_stats import feature_stats
from pyimportance.methods.learners import fold_bounds, out_of_fold

NOISE_SD = 0.3
TRUTH = 2 * NOISE_SD**2  # conditional importance of x2 under y = x2, x2 = sin(2 x1) + e: 2 var(e)


def _sin_data(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """x1 uniform on (-2, 2), x2 = sin(2 x1) + e with sd(e) = 0.3; the target is x2."""
    rng = np.random.default_rng(seed)
    x1 = rng.uniform(-2, 2, n)
    X = np.column_stack([x1, np.sin(2 * x1) + rng.normal(0, NOISE_SD, n)])
    return X, X[:, 1].copy()


def _second_column(x):
    return x[:, 1]


def _boosting():
    """Small and single-threaded: the test machines' cores are shared."""
    return HistGradientBoostingRegressor(max_iter=50, max_leaf_nodes=8, random_state=0)


@pytest.fixture(scope="module")
def sin_data():
    return _sin_data(10_000)


def test_gradient_boosting_gives_the_closed_form_conditional_importance_of_a_sine_dependence(sin_data):
    X, y = sin_data
    with threadpool_limits(1):
        result = perturbation_importance(_second_column, X, y, method="conditional", learner=_boosting(),
                                         n_repeats=3, random_state=0)
    np.testing.assert_allclose(result.importances_mean[1], TRUTH, rtol=0.1)
    assert result.ci_low[1] < TRUTH * 1.1 and result.ci_high[1] > TRUTH * 0.9
    assert result.settings["learner"] == "HistGradientBoostingRegressor"


def test_ridge_keeps_the_nonlinear_part_in_the_residual_and_comes_out_five_times_too_large(sin_data):
    X, y = sin_data
    result = perturbation_importance(_second_column, X, y, method="conditional", n_repeats=3, random_state=0)
    assert result.importances_mean[1] > 5 * TRUTH
    assert result.settings["learner"] is None


def test_the_learner_is_fitted_on_the_reference_rows_and_each_half_and_predicts_the_evaluated_rows():
    X, y = _sin_data(600, seed=1)
    reference, _ = _sin_data(10_000, seed=2)
    fits = []

    def boosting_fit(x, target):
        fits.append(len(x))
        return _boosting().fit(x, target).predict

    with threadpool_limits(1):
        result = perturbation_importance(_second_column, X, y, method="conditional", learner=boosting_fit,
                                         reference=reference, n_repeats=5, random_state=0)
    assert fits == [10_000, 5_000, 5_000] * 2  # x1 given x2, x2 given x1: on all the reference rows and each half
    np.testing.assert_allclose(result.importances_mean[1], TRUTH, rtol=0.2)  # 600 rows: the estimate's own noise
    assert result.settings["learner"] == "boosting_fit"


def test_out_of_fold_values_never_come_from_a_fit_that_saw_the_row():
    x = np.arange(20.0).reshape(-1, 1)
    nearest = out_of_fold(KNeighborsRegressor(n_neighbors=1), x, x[:, 0] ** 2)
    assert not np.any(nearest == x[:, 0] ** 2)  # in sample, one neighbour would return each row's own value
    assert fold_bounds(20) == [(0, 4), (4, 8), (8, 12), (12, 16), (16, 20)]
    assert fold_bounds(5) == [(0, 2), (2, 5)]


def test_a_memorising_learner_out_of_fold_keeps_the_residual_spread():
    X, y = _sin_data(2000, seed=3)
    result = perturbation_importance(_second_column, X, y, method="conditional",
                                     learner=KNeighborsRegressor(n_neighbors=1), n_repeats=3, random_state=0)
    # in-sample residuals of 1-NN are 0 and would give 0; out of fold: 2 * (var(e) + 1-NN error) ~ 2 * 2 var(e)
    assert 0.8 * TRUTH < result.importances_mean[1] < 2.6 * TRUTH


def test_the_callers_learner_is_not_fitted(sin_data):
    X, y = sin_data
    learner = _boosting()
    with threadpool_limits(1):
        perturbation_importance(_second_column, X[:500], y[:500], method="conditional", learner=learner,
                                n_repeats=1, random_state=0)
    assert not hasattr(learner, "n_iter_")


def test_an_executor_reads_the_fitted_values_and_gives_the_local_numbers():
    X, y = _sin_data(400, seed=4)

    def fit(x, target):
        coefficients = np.polyfit(x[:, 0], target, 5)
        return lambda new: np.polyval(coefficients, new[:, 0])

    local = perturbation_importance(_second_column, X, y, method="conditional", learner=fit, n_repeats=2,
                                    random_state=0)
    with ThreadPoolExecutor(2) as executor:
        remote = perturbation_importance(_second_column, X, y, method="conditional", learner=fit, n_repeats=2,
                                         random_state=0, executor=executor)
    np.testing.assert_array_equal(local.importances, remote.importances)


def test_a_learner_needs_the_conditional_method():
    X, y = _sin_data(50)
    with pytest.raises(ValueError) as error:
        perturbation_importance(_second_column, X, y, method="permute", learner=_boosting())
    assert str(error.value) == "learner is the conditional model of method='conditional', got method='permute'"


def test_a_learner_must_fit_and_predict_or_be_a_fit_function():
    X, y = _sin_data(50)
    with pytest.raises(TypeError) as error:
        perturbation_importance(_second_column, X, y, method="conditional", learner="hgb")
    assert str(error.value) == ("learner must be a scikit-learn regressor (with fit and predict) or a function "
                                "fit(x, y) returning a predict function, got 'hgb'")


def test_a_learner_predicting_the_wrong_number_of_rows_fails_as_the_method():
    X, y = _sin_data(50)
    with pytest.raises(MethodFailedError) as error:
        perturbation_importance(_second_column, X, y, method="conditional",
                                learner=lambda x, target: (lambda new: new[:3, 0]))
    assert str(error.value) == "learner must predict one number per row (10), got 3"


def _learned_sampler(X: np.ndarray, learner):
    """The conditional sampler of ``X`` (one feature a unit) with this learner, fitted as a run fits it."""
    inputs = check_X(X)
    units = build_units("feature", inputs)
    stats = [feature_stats(part.values, part.mask) for part in inputs.parts]
    return fit_sampler(inputs, units, stats, None, None, None, {}, learner=learner)


def _three_neighbours(x, target):
    """A deterministic learner with a sizable error: the mean of 3 neighbours has a third of the noise's variance."""
    return KNeighborsRegressor(n_neighbors=3).fit(x, target).predict


def test_the_permuted_residual_is_shrunk_by_the_error_variance_that_two_half_learners_show():
    X, _ = _sin_data(1000, seed=5)
    sampler = _learned_sampler(X, _three_neighbours)
    z, target = X[:, :1], X[:, 1]
    fitted, first, second = np.empty(1000), np.empty(1000), np.empty(1000)
    for start in range(0, 1000, 200):  # 5 folds of 200 consecutive rows; training rows in order, cut in two
        kept = np.r_[0:start, start + 200 : 1000]
        held = slice(start, start + 200)
        fitted[held] = _three_neighbours(z[kept], target[kept])(z[held])
        first[held] = _three_neighbours(z[kept[:400]], target[kept[:400]])(z[held])
        second[held] = _three_neighbours(z[kept[400:]], target[kept[400:]])(z[held])
    residual = target - fitted
    learning_curve = (np.var(target - first) + np.var(target - second)) / 2 - np.var(residual)
    disagreement = np.mean((first - second) ** 2) / 4
    error = max(learning_curve, disagreement)
    factor = np.sqrt((np.var(residual) - 2 * error) / np.var(residual))
    [(kept_part, shrunk)] = sampler.parts(1, np.arange(1000))
    np.testing.assert_allclose(kept_part[:, 0, 0], fitted, rtol=1e-10)
    np.testing.assert_allclose(shrunk[:, 0, 0], factor * residual, rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(sampler.shrinkage[1], [factor], rtol=1e-8)
    assert 0.5 < factor < 0.9  # the error of 3 neighbours' mean is a sizable share of the residual


def test_a_learner_whose_halves_do_as_well_as_the_whole_is_not_shrunk_nor_are_too_few_rows():
    X, _ = _sin_data(1000, seed=6)

    def fixed_line(x, target):  # ignores its training rows: every half predicts what the whole does
        return lambda new: 0.25 * new[:, 0]

    assert _learned_sampler(X, fixed_line).shrinkage == [np.ones(1), np.ones(1)]
    # 100 rows: 80 training rows a fold, halves of 40 < MIN_HALF_ROWS: one learner, as before, no shrinkage
    assert learners.MIN_HALF_ROWS == 50
    assert _learned_sampler(X[:100], _three_neighbours).shrinkage == [np.ones(1), np.ones(1)]
    assert _learned_sampler(X[:130], _three_neighbours).shrinkage[1][0] < 1


def _oracle(kind: str, scale: float):
    """Predicts the true sin(2 x1) plus an error of variance ``scale / n`` (n training rows), which halves when the
    training rows double: ``"noise"`` independent from fit to fit (a learner's variance), ``"bias"`` the same
    function of x1 for every fit (a learner's bias: two halves agree on it)."""
    seeds = iter(range(1000))

    def fit(x, target):
        sd = np.sqrt(scale / len(x))
        rng = np.random.default_rng(next(seeds))
        if kind == "noise":
            return lambda new: np.sin(2 * new[:, 0]) + sd * rng.standard_normal(len(new))
        return lambda new: np.sin(2 * new[:, 0]) + sd * np.sqrt(2) * np.cos(3 * new[:, 0])

    return fit


@pytest.mark.parametrize("kind", ["noise", "bias"])
def test_a_learners_error_no_longer_inflates_the_conditional_importance(kind):
    X, y = _sin_data(10_000, seed=7)
    scale = 0.04 * 8000  # error variance 0.04 on 8,000 training rows (var(e) = 0.09)
    result = perturbation_importance(_second_column, X, y, method="conditional", learner=_oracle(kind, scale),
                                     n_repeats=5, random_state=0)
    np.testing.assert_allclose(result.importances_mean[1], TRUTH, rtol=0.07)  # 0.95-1.03 x over 8 data sets
    # Before issue 28 (one learner a fold, the residual permuted as it is): the model is x2 and y = x2, so the
    # importance is mean((r_k - r_j)²) = 2 var(r) = 2 (var(e) + var(d)) = 2 (0.09 + 0.04), 1.44 x the truth
    residual = X[:, 1] - out_of_fold(_oracle(kind, scale), X[:, :1], X[:, 1])
    np.testing.assert_allclose(2 * np.var(residual), 2 * (NOISE_SD**2 + 0.04), rtol=0.05)
