"""The ridge algebra of the conditional method (pyimportance.methods.ridge): models of a block of columns given
the others, their closed-form conditional variances, scikit-learn agreement, edge cases and refusals.
"""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import Ridge, RidgeCV

from pyimportance.methods.ridge import LinearConditional

RHO = 0.8
PHI = 0.9


def _gaussian_rows(rng: np.random.Generator, n: int, covariance: np.ndarray, mean: np.ndarray | None = None):
    """n rows of N(mean, covariance)."""
    rows = rng.standard_normal((n, covariance.shape[0])) @ np.linalg.cholesky(covariance).T
    return rows if mean is None else rows + mean


def _ar1_covariance(n_steps: int, phi: float, innovation_var: float = 1.0) -> np.ndarray:
    """Covariance of n_steps consecutive values of a stationary AR(1) series."""
    lags = np.abs(np.subtract.outer(np.arange(n_steps), np.arange(n_steps)))
    return innovation_var / (1.0 - phi**2) * phi**lags


def _brute_force_ridge(X: np.ndarray, block, alpha: float):
    """Fitted values of the block by scikit-learn Ridge on population-standardised columns."""
    others = np.setdiff1d(np.arange(X.shape[1]), block)
    mean, sd = X.mean(axis=0), X.std(axis=0)
    Z = (X - mean) / sd
    ridge = Ridge(alpha=alpha).fit(Z[:, others], Z[:, block])
    return mean[block] + sd[block] * ridge.predict(Z[:, others]).reshape(len(X), len(block))


# ---------------------------------------------------------------- closed forms


@pytest.fixture(scope="module")
def correlated_pair():
    """x0 (mean 3, sd 2) and x1 with correlation RHO; x2 (mean -1) and x3 independent. (reference, new rows)."""
    covariance = np.eye(4)
    covariance[0, 1] = covariance[1, 0] = RHO
    scale = np.array([2.0, 1.0, 1.0, 1.0])
    covariance = covariance * np.outer(scale, scale)
    mean = np.array([3.0, 0.0, -1.0, 0.0])
    rng = np.random.default_rng(11)
    return _gaussian_rows(rng, 20_000, covariance, mean), _gaussian_rows(rng, 20_000, covariance, mean)


def test_residual_variance_of_a_correlated_column_is_one_minus_rho_squared(correlated_pair):
    reference, new_rows = correlated_pair
    model = LinearConditional.fit(np.array_split(reference, 5)).for_columns([0])
    fitted, residual = model.split(new_rows)
    # var(x0 | x1, x2, x3) = sd0^2 (1 - rho^2) = 4 * 0.36 = 1.44; without conditioning: 4.0
    assert residual.var() == pytest.approx(4.0 * (1 - RHO**2), abs=0.08)
    assert residual.mean() == pytest.approx(0.0, abs=0.03)
    np.testing.assert_allclose(fitted + residual, new_rows[:, [0]], rtol=0, atol=1e-12)


def test_an_independent_column_keeps_its_variance_and_its_mean_as_fitted_value(correlated_pair):
    reference, new_rows = correlated_pair
    fitted, residual = LinearConditional.fit([reference]).for_columns([2]).split(new_rows)
    assert residual.var() == pytest.approx(1.0, abs=0.05)
    assert fitted.mean() == pytest.approx(-1.0, abs=0.02)
    assert fitted.std() < 0.03


def test_ar1_interior_step_has_variance_one_over_one_plus_phi_squared_and_the_ends_have_one():
    n_steps = 10
    covariance = _ar1_covariance(n_steps, PHI)
    rng = np.random.default_rng(5)
    reference, new_rows = _gaussian_rows(rng, 20_000, covariance), _gaussian_rows(rng, 20_000, covariance)
    conditional = LinearConditional.fit(np.array_split(reference, 3))
    interior = conditional.for_columns([4]).split(new_rows)[1]
    last = conditional.for_columns([n_steps - 1]).split(new_rows)[1]
    first = conditional.for_columns([0]).split(new_rows)[1]
    # marginal variance 1 / (1 - phi^2) = 5.26; given only the previous step: 1
    assert interior.var() == pytest.approx(1.0 / (1.0 + PHI**2), abs=0.03)
    assert last.var() == pytest.approx(1.0, abs=0.05)
    assert first.var() == pytest.approx(1.0, abs=0.05)


def test_ar1_interior_step_depends_on_its_two_neighbours_only():
    n_steps = 10
    rng = np.random.default_rng(6)
    reference = _gaussian_rows(rng, 20_000, _ar1_covariance(n_steps, PHI))
    model = LinearConditional.fit([reference]).for_columns([4])
    # fitted(mean + e_j) - fitted(mean) is the coefficient of step j
    probes = np.vstack([np.zeros(n_steps), np.eye(n_steps)]) + reference.mean(axis=0)
    fitted = model.split(probes)[0][:, 0]
    coefficients = fitted[1:] - fitted[0]
    expected = np.zeros(n_steps)
    expected[[3, 5]] = PHI / (1 + PHI**2)  # E[x_t | rest] = phi / (1 + phi^2) (x_{t-1} + x_{t+1})
    np.testing.assert_allclose(coefficients, expected, atol=0.03)


def test_a_whole_feature_block_has_the_gaussian_conditional_covariance():
    # Flattened (T=4, F=3) rows, column t * 3 + f: A is AR(1), B_t = 0.6 A_t + 0.8 e_t, C independent.
    n_steps, n_features = 4, 3
    a_cov = _ar1_covariance(n_steps, 0.7, innovation_var=1 - 0.7**2)
    feature_cov = np.zeros((n_features, n_features, n_steps, n_steps))
    feature_cov[0, 0] = a_cov
    feature_cov[0, 1] = feature_cov[1, 0] = 0.6 * a_cov
    feature_cov[1, 1] = 0.36 * a_cov + 0.64 * np.eye(n_steps)
    feature_cov[2, 2] = np.eye(n_steps)
    covariance = feature_cov.transpose(2, 0, 3, 1).reshape(n_steps * n_features, n_steps * n_features)
    block = np.arange(n_steps) * n_features  # feature A over all steps
    others = np.setdiff1d(np.arange(n_steps * n_features), block)
    expected = covariance[np.ix_(block, block)] - covariance[np.ix_(block, others)] @ np.linalg.solve(
        covariance[np.ix_(others, others)], covariance[np.ix_(others, block)]
    )
    rng = np.random.default_rng(8)
    reference, new_rows = _gaussian_rows(rng, 20_000, covariance), _gaussian_rows(rng, 20_000, covariance)
    fitted, residual = LinearConditional.fit([reference]).for_columns(block).split(new_rows)
    assert np.abs(covariance[np.ix_(block, block)] - expected).max() > 0.4  # what no conditioning would give
    np.testing.assert_allclose(np.cov(residual, rowvar=False), expected, atol=0.03)
    np.testing.assert_allclose(fitted + residual, new_rows[:, block], rtol=0, atol=1e-12)


def test_fitted_plus_permuted_residual_gives_the_closed_form_conditional_importance():
    # y = 2 x0 + 1 x1, corr(x0, x1) = RHO, unit variances; the recipe the engine follows, fitted on
    # the evaluation rows: mse increase = 2 w0^2 var(x0) (1 - rho^2) = 2.88 (permute: 2 w0^2 = 8)
    covariance = np.array([[1.0, RHO, 0.0], [RHO, 1.0, 0.0], [0.0, 0.0, 1.0]])
    rows = _gaussian_rows(np.random.default_rng(21), 20_000, covariance)
    weights = np.array([2.0, 1.0, 0.0])
    fitted, residual = LinearConditional.fit([rows]).for_columns([0]).split(rows, in_sample=True)
    perturbed = rows.copy()
    perturbed[:, [0]] = fitted + residual[np.random.default_rng(22).permutation(len(rows))]
    importance = np.mean((perturbed @ weights - rows @ weights) ** 2)
    assert importance == pytest.approx(2 * 2.0**2 * (1 - RHO**2), abs=0.15)


# ---------------------------------------------------------------- the ridge fit itself


def _sklearn_problem(seed: int) -> np.ndarray:
    """300 rows of 12 correlated columns with unequal scales and means."""
    rng = np.random.default_rng(seed)
    n_columns = 12
    covariance = 0.5 ** np.abs(np.subtract.outer(np.arange(n_columns), np.arange(n_columns)))
    return _gaussian_rows(rng, 300, covariance) * rng.uniform(0.5, 3.0, n_columns) + rng.normal(0, 5, n_columns)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("block", [[0], [0, 5, 6]])
def test_penalty_and_fit_agree_with_sklearn_ridgecv(seed, block):
    X = _sklearn_problem(seed)
    alphas = np.logspace(-1, 4, 11)
    model = LinearConditional.fit([X], alphas=alphas).for_columns(block)
    others = np.setdiff1d(np.arange(X.shape[1]), block)
    Z = (X - X.mean(axis=0)) / X.std(axis=0)
    ridge_cv = RidgeCV(alphas=alphas).fit(Z[:, others], Z[:, block])
    assert model.alpha == ridge_cv.alpha_
    assert alphas[0] < model.alpha < alphas[-1]  # an interior choice: the grid's ends would not test it
    fitted, residual = model.split(X)
    np.testing.assert_allclose(fitted, _brute_force_ridge(X, block, model.alpha), rtol=0, atol=1e-10)
    np.testing.assert_allclose(fitted + residual, X[:, block], rtol=0, atol=1e-12)


def test_gcv_scores_equal_a_brute_force_computation():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(40, 9)) @ rng.normal(size=(9, 9))
    alphas = np.logspace(-2, 3, 6)
    conditional = LinearConditional.fit([X], alphas=alphas)
    Z = (X - X.mean(axis=0)) / X.std(axis=0)
    n = len(X)
    for block in ([2], [1, 5], [0, 3, 8]):
        others = np.setdiff1d(np.arange(9), block)
        expected = []
        for alpha in alphas:
            inverse = np.linalg.inv(Z[:, others].T @ Z[:, others] + alpha * np.eye(others.size))
            residual = Z[:, block] - Z[:, others] @ inverse @ Z[:, others].T @ Z[:, block]
            dof = np.trace(Z[:, others] @ inverse @ Z[:, others].T)
            expected.append((residual**2).sum() / (n * len(block)) / (1 - (dof + 1) / n) ** 2)
        scores, _ = conditional._gcv_scores(np.asarray(block))
        np.testing.assert_allclose(scores, expected, rtol=1e-9)


def test_more_columns_than_rows_matches_sklearn_ridge_at_a_fixed_penalty():
    rng = np.random.default_rng(4)
    X = rng.normal(size=(20, 50)) @ rng.normal(size=(50, 50)) / 5
    block = [3, 7, 30]
    model = LinearConditional.fit([X], alphas=[2.0]).for_columns(block)
    assert model.alpha == 2.0
    np.testing.assert_allclose(model.split(X)[0], _brute_force_ridge(X, block, 2.0), rtol=0, atol=1e-9)


@pytest.mark.parametrize(("alphas", "raw_ratio_below"), [(None, 0.8), ([0.01], 0.01)])
def test_in_sample_residuals_have_the_spread_of_residuals_on_new_rows(alphas, raw_ratio_below):
    # 400 columns (5 factors + noise), 100 reference rows: in-sample residuals are too small (with
    # a tiny penalty the fit interpolates them: zero); scaled to leave-one-out ones they are not
    rng = np.random.default_rng(9)
    loadings = rng.normal(size=(5, 400))

    def draw(n):
        return rng.normal(size=(n, 5)) @ loadings + 0.5 * rng.normal(size=(n, 400))

    reference, new_rows = draw(100), draw(5_000)
    block = np.arange(0, 400, 13)[:30]
    model = LinearConditional.fit([reference], alphas=alphas).for_columns(block)
    out_of_sample = model.split(new_rows)[1].var()
    fitted, in_sample = model.split(reference, in_sample=True)
    assert model.split(reference)[1].var() < raw_ratio_below * out_of_sample
    assert in_sample.var() == pytest.approx(out_of_sample, rel=0.1)
    np.testing.assert_allclose(fitted + in_sample, reference[:, block], rtol=0, atol=1e-12)


def test_in_sample_residuals_of_a_mean_only_model_are_exact_leave_one_out():
    X = np.array([[1.0], [2.0], [4.0], [9.0]])
    fitted, residual = LinearConditional.fit([X]).for_columns([0]).split(X, in_sample=True)
    leave_one_out_means = (X.sum() - X[:, 0]) / 3
    np.testing.assert_allclose(residual[:, 0], X[:, 0] - leave_one_out_means)
    np.testing.assert_allclose(fitted[:, 0], leave_one_out_means)


# ---------------------------------------------------------------- edge cases


def test_a_single_column_has_its_mean_as_fitted_value():
    X = np.random.default_rng(1).normal(3.0, 2.0, size=(50, 1))
    model = LinearConditional.fit([X]).for_columns([0])
    fitted, residual = model.split(X)
    assert model.alpha == np.inf
    assert model.conditioning_columns.size == 0
    np.testing.assert_allclose(fitted, np.full((50, 1), X.mean()))
    np.testing.assert_allclose(residual, X - X.mean())


def test_a_constant_column_is_fitted_by_its_constant_and_ignored_as_a_predictor():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(200, 3))
    X[:, 1] += X[:, 0]
    with_constant = np.insert(X, 2, 7.5, axis=1)
    conditional = LinearConditional.fit([with_constant])
    new_rows = np.insert(rng.normal(size=(5, 3)), 2, 8.0, axis=1)
    fitted, residual = conditional.for_columns([2]).split(new_rows, in_sample=False)
    np.testing.assert_array_equal(fitted, np.full((5, 1), 7.5))
    np.testing.assert_array_equal(residual, np.full((5, 1), 0.5))
    model = conditional.for_columns([1, 2])
    np.testing.assert_array_equal(model.conditioning_columns, [0, 3])
    expected = LinearConditional.fit([X]).for_columns([1]).split(X)[0]
    np.testing.assert_allclose(model.split(with_constant)[0][:, 0:1], expected, rtol=0, atol=1e-12)
    np.testing.assert_allclose(model.split(with_constant, in_sample=True)[1][:, 1], 0.0)


def test_streaming_in_chunks_of_seven_rows_equals_one_chunk():
    rng = np.random.default_rng(12)
    X = rng.normal(size=(503, 6)) @ rng.normal(size=(6, 6)) + 1000.0  # large means: centring matters
    one = LinearConditional.fit([X])
    chunks = [X[start : start + 7] for start in range(0, len(X), 7)]
    streamed = LinearConditional.fit(iter(chunks[:3] + [X[:0]] + chunks[3:]))
    for block in ([0], [2, 4], [5]):
        assert streamed.for_columns(block).alpha == one.for_columns(block).alpha
        np.testing.assert_allclose(
            streamed.for_columns(block).split(X)[0], one.for_columns(block).split(X)[0], rtol=1e-10
        )
    assert streamed.n_rows == 503 and streamed.n_columns == 6


def test_fitting_is_deterministic_and_leaves_the_inputs_alone():
    rng = np.random.default_rng(13)
    X = rng.normal(size=(300, 5)).astype(np.float32)
    original = X.copy()
    first = LinearConditional.fit([X]).for_columns([1, 3]).split(X, in_sample=True)
    second = LinearConditional.fit([X]).for_columns([1, 3]).split(X, in_sample=True)
    np.testing.assert_array_equal(first[0], second[0])
    np.testing.assert_array_equal(first[1], second[1])
    np.testing.assert_array_equal(X, original)
    assert first[0].dtype == np.float64


# ---------------------------------------------------------------- errors


@pytest.fixture(scope="module")
def small_conditional():
    return LinearConditional.fit([np.random.default_rng(0).normal(size=(30, 4))])


@pytest.mark.parametrize(
    ("columns", "message"),
    [
        ([4], "columns must lie in [0, 4), got 4"),
        ([-1], "columns must lie in [0, 4), got -1"),
        ([1, 1], "columns must be distinct, got [1, 1]"),
        ([], "columns must be a non-empty sequence of integer column indices, got []"),
        ([0.5], "columns must be a non-empty sequence of integer column indices, got [0.5]"),
    ],
)
def test_bad_columns_are_named(small_conditional, columns, message):
    with pytest.raises(ValueError) as error:
        small_conditional.for_columns(columns)
    assert str(error.value) == message


def test_split_checks_the_rows(small_conditional):
    model = small_conditional.for_columns([0])
    with pytest.raises(ValueError) as wrong_width:
        model.split(np.zeros((5, 3)))
    assert str(wrong_width.value) == "rows must be a 2-D array with 4 columns (as the reference rows), got shape (5, 3)"


@pytest.mark.parametrize(
    ("chunks", "alphas", "message"),
    [
        ([], None, "chunks must yield at least one row of reference data, got none"),
        ([np.zeros(3)], None, r"chunks must yield 2-D arrays \(rows, columns\), got shape \(3,\) \(chunk 0\)"),
        (
            [np.zeros((2, 3)), np.zeros((2, 4))],
            None,
            r"chunks must all have the same number of columns: 3 before, got 4 \(chunk 1\)",
        ),
        ([np.array([[0.0, 1.0], [np.nan, 2.0]])], None, r"chunks must hold finite values, got nan at row 1, column 0"),
        ([np.zeros((2, 2))], [1.0, -1.0], r"alphas must be a non-empty sequence of positive finite numbers"),
        ([np.zeros((2, 2))], [], r"alphas must be a non-empty sequence of positive finite numbers, got \[\]"),
    ],
)
def test_bad_reference_data_and_alphas_are_named(chunks, alphas, message):
    with pytest.raises(ValueError, match=message):
        LinearConditional.fit(chunks, alphas=alphas)
