"""``sample_weight`` in Shapley importance: the values and v(all units) are weighted means of the rows'
contributions (the same draws as the unweighted run), their interval the ratio estimator's."""

import numpy as np
import pytest

from pyimportance import shapley_importance
from pyimportance.shapley.shapley_estimator import ShapleySums

N = 240


def _row_contributions(monkeypatch, *args, **options):
    """A run's result and each row's contributions (n_rows, n_units + 1: v(all units) last), mean over orders."""
    pieces = []
    add = ShapleySums.add

    def recorded(self, result):
        pieces.append((self._block_rows[result.block], result))
        add(self, result)

    monkeypatch.setattr(ShapleySums, "add", recorded)
    outcome = shapley_importance(*args, **options)
    monkeypatch.setattr(ShapleySums, "add", add)
    n_rows = len(args[1])
    sums, counts = np.zeros((n_rows, 4)), np.zeros(n_rows)
    for rows, result in pieces:
        sums[rows] += np.concatenate([result.contributions[..., 0], result.total], axis=1)
        counts[rows] += 1
    return outcome, sums / counts[:, None]


def product(x):
    x = np.asarray(x)
    return x[:, 0] * x[:, 1] + 0.5 * x[:, 2]


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(N, 3))
    return X, product(X), rng.uniform(0.0, 3.0, size=N)


@pytest.mark.parametrize("imputer", ["marginal", "conditional"])
def test_values_are_the_weighted_means_of_the_rows_contributions(data, imputer, monkeypatch):
    X, y, w = data
    options = dict(n_repeats=2, random_state=3, imputer=imputer, block_size=1)
    unweighted, rows = _row_contributions(monkeypatch, product, X, y, **options)
    weighted = shapley_importance(product, X, y, sample_weight=w, **options)
    expected = w @ rows / w.sum()
    np.testing.assert_allclose(weighted.importances_mean, expected[:3], rtol=1e-10)
    np.testing.assert_allclose(weighted.total, expected[3], rtol=1e-10)
    assert np.max(np.abs(weighted.importances_mean - unweighted.importances_mean)) > 1e-3
    terms = w[:, None] * (rows[:, :3] - expected[:3])  # the linearized weighted mean, per row
    centring = N / (N - 1)  # blocks of one row: the usual n / (n - 1); no donors, no shared noise
    np.testing.assert_allclose(weighted.std_error, np.sqrt((terms**2).sum(axis=0) * centring) / w.sum(), rtol=1e-9)


def test_the_baseline_is_the_weighted_loss_and_tolerance_weights_every_block(data, monkeypatch):
    X, y, w = data
    rng = np.random.default_rng(1)
    noisy = y + 0.5 * rng.normal(size=N)
    result = shapley_importance(product, X, noisy, sample_weight=w, random_state=0)
    np.testing.assert_allclose(result.baseline_score, np.sum(w * (product(X) - noisy) ** 2) / w.sum(), rtol=1e-12)
    big = np.random.default_rng(2).normal(size=(2100, 3))
    weights = np.random.default_rng(3).uniform(size=2100)
    options = dict(n_repeats=2, random_state=1, tolerance=1e-9)  # never met: every block, both orders
    _, rows = _row_contributions(monkeypatch, product, big, product(big), **options)
    weighted = shapley_importance(product, big, product(big), sample_weight=weights, **options)
    assert weighted.n_rows_used == 2100
    np.testing.assert_allclose(weighted.importances_mean, weights @ rows[:, :3] / weights.sum(), rtol=1e-10)
