"""Properties that hold for every shape, method, unit, seed and batch size (hypothesis)."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pyimportance import perturbation_importance

METHODS = ("gaussian", "uniform", "permute", "resample", "zero", "mean")
BYS = ("feature", "timestep", "cell")

SETTINGS = settings(max_examples=60, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])


class WeightedSum:
    """``sum_{t,f} w[t, f] * s(x[:, t, f])`` with ``s(v) = v / (1 + |v|)``, computed column by column,
    so every row's prediction is bit-for-bit the same whatever other rows share its call. Arithmetic
    only: it is correctly rounded on every CPU, where a transcendental function such as ``tanh``
    may take a different SIMD path for another array length."""

    def __init__(self, weights: np.ndarray):
        self.weights = weights  # (T, F)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        x = x if x.ndim == 3 else x[:, np.newaxis, :]
        out = np.zeros(len(x))
        for t in range(self.weights.shape[0]):
            for f in range(self.weights.shape[1]):
                if self.weights[t, f] != 0.0:
                    column = x[:, t, f]
                    out += self.weights[t, f] * (column / (1.0 + np.abs(column)))
        return out


class Linear(WeightedSum):
    def __call__(self, x: np.ndarray) -> np.ndarray:
        x = x if x.ndim == 3 else x[:, np.newaxis, :]
        out = np.zeros(len(x))
        for t in range(self.weights.shape[0]):
            for f in range(self.weights.shape[1]):
                out += self.weights[t, f] * x[:, t, f]
        return out


@st.composite
def problems(draw, sequence=None):
    """A random small problem: X of shape (n, T, F) or (n, F) and model weights (T, F)."""
    is_sequence = draw(sequence if sequence is not None else st.booleans())
    n = draw(st.integers(2, 30))
    n_timesteps = draw(st.integers(1, 4)) if is_sequence else 1
    n_features = draw(st.integers(1, 4))
    data_seed = draw(st.integers(0, 2**16))
    rng = np.random.default_rng(data_seed)
    X = rng.normal(size=(n, n_timesteps, n_features)) * rng.uniform(0.5, 3.0, size=n_features)
    weights = rng.normal(size=(n_timesteps, n_features))
    if not is_sequence:
        X = X[:, 0, :]
    return X, weights


def _n_units(by: str, n_timesteps: int, n_features: int) -> int:
    return {"feature": n_features, "timestep": n_timesteps, "cell": n_timesteps * n_features}[by]


@SETTINGS
@given(
    problem=problems(),
    method=st.sampled_from(METHODS),
    by=st.sampled_from(BYS),
    n_repeats=st.integers(1, 3),
    seed=st.integers(0, 2**32 - 1),
    batch_sizes=st.tuples(st.integers(1, 70), st.integers(1, 70)),
    with_y=st.booleans(),
)
def test_shapes_finite_and_identical_across_batch_sizes(problem, method, by, n_repeats, seed, batch_sizes, with_y):
    X, weights = problem
    if X.ndim == 2:
        by = "feature"
    n_timesteps = 1 if X.ndim == 2 else X.shape[1]
    model = WeightedSum(weights)
    y = model(X) + np.random.default_rng(1).normal(size=len(X)) if with_y else None
    X.flags.writeable = False
    X_before = X.copy()
    results = [
        perturbation_importance(
            model, X, y, method=method, by=by, n_repeats=n_repeats, batch_size=batch, random_state=seed
        )
        for batch in (*batch_sizes, None)
    ]
    repeats = 1 if method in ("zero", "mean") else n_repeats  # deterministic methods are evaluated once
    expected_shape = (_n_units(by, n_timesteps, X.shape[-1]), repeats)
    for result in results:
        assert result.importances.shape == expected_shape
        assert np.isfinite(result.importances).all()
        np.testing.assert_array_equal(result.importances, results[0].importances)  # bit-identical
        assert result.baseline_score == results[0].baseline_score
    np.testing.assert_array_equal(X, X_before)


@SETTINGS
@given(
    problem=problems(sequence=st.just(True)),
    method=st.sampled_from(METHODS),
    seed=st.integers(0, 2**32 - 1),
    batch_size=st.one_of(st.none(), st.integers(1, 50)),
    ignored=st.integers(0, 3),
)
def test_feature_the_model_ignores_has_exactly_zero_importance(problem, method, seed, batch_size, ignored):
    X, weights = problem
    ignored = ignored % X.shape[2]
    weights = weights.copy()
    weights[:, ignored] = 0.0
    result = perturbation_importance(
        WeightedSum(weights), X, method=method, n_repeats=2, batch_size=batch_size, random_state=seed
    )
    assert result.baseline_score == 0.0
    assert np.all(result.importances[ignored] == 0.0)


@SETTINGS
@given(
    problem=problems(),
    method=st.sampled_from(("permute", "resample", "gaussian", "uniform")),
    seed=st.integers(0, 2**32 - 1),
    constant=st.floats(-100, 100, allow_nan=False),
    with_y=st.booleans(),
)
def test_perturbing_a_constant_feature_changes_nothing(problem, method, seed, constant, with_y):
    """Permuting/resampling a constant column, or noise scaled by its sd (0), leaves X as it was."""
    X, weights = problem
    X = X.copy()
    X[..., 0] = constant
    model = WeightedSum(weights)
    y = model(X) + 0.5 if with_y else None
    result = perturbation_importance(model, X, y, method=method, n_repeats=2, random_state=seed)
    assert np.all(result.importances[0] == 0.0)


@SETTINGS
@given(
    problem=problems(),
    method=st.sampled_from(("gaussian", "uniform")),
    seed=st.integers(0, 2**32 - 1),
    scales=st.lists(st.floats(0.01, 10.0), min_size=2, max_size=4, unique=True),
    relative_scale=st.booleans(),
    with_y=st.booleans(),
)
def test_linear_model_importance_grows_with_the_noise_scale(problem, method, seed, scales, relative_scale, with_y):
    X, weights = problem
    weights = weights + np.sign(weights) * 0.1  # no feature with a vanishing weight
    model = Linear(weights)
    # With y the model's exact output, the loss is scale**2 times a fixed amount; without y the
    # prediction change is scale times a fixed amount (the same noise draws, same seed).
    y = model(X) if with_y else None
    scales = sorted(scales)
    means = np.array(
        [
            perturbation_importance(
                model, X, y, method=method, scale=scale, relative_scale=relative_scale, n_repeats=2,
                random_state=seed,
            ).importances_mean
            for scale in scales
        ]
    )
    ratio = np.array(scales[1:]) / np.array(scales[:-1])
    grows = np.diff(means, axis=0) >= 0
    # Ties only where the scales are so close that float rounding decides.
    assert np.all(grows | (ratio[:, None] < 1 + 1e-6))
    if scales[-1] / scales[0] > 1 + 1e-6:
        assert np.all(means[-1] > means[0])
