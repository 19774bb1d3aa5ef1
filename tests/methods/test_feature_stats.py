"""The feature statistics noise is scaled by (pyimportance.methods.feature_stats): mean and
population sd over samples and time steps, padded steps left out (so the mean ablation and the
noise scale of padded data come from the real cells only), and the noise sd relative to each
feature's sd or absolute.
"""

from __future__ import annotations

import numpy as np
import pytest
from helpers import padded_sequences

from pyimportance import perturbation_importance
from pyimportance.methods.feature_stats import feature_stats


def test_feature_stats_are_mean_and_population_sd_over_samples_and_steps():
    values = np.random.default_rng(0).normal(size=(5000, 3, 2)) * [1.0, 4.0] + [0.0, 2.0]
    stats = feature_stats(values)
    flat = values.reshape(-1, 2)
    np.testing.assert_allclose(stats.mean, flat.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(stats.std, flat.std(axis=0), rtol=1e-10)


def test_feature_stats_leave_padded_steps_out():
    values = np.random.default_rng(0).normal(size=(300, 4, 2)) + 5.0
    mask = np.ones((300, 4), dtype=bool)
    mask[:100, :2] = False
    values[~mask] = -1.0
    stats = feature_stats(values, mask)
    real = values[mask]
    np.testing.assert_allclose(stats.mean, real.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(stats.std, real.std(axis=0), rtol=1e-10)


def test_feature_stats_context_scales_relative_or_absolute():
    stats = feature_stats(np.array([[[0.0, 0.0]], [[2.0, 10.0]]]))
    mean, relative = stats.context(np.array([1]), scale=0.1, relative_scale=True)
    _, absolute = stats.context(np.array([1]), scale=0.1, relative_scale=False)
    np.testing.assert_allclose(relative, [[[0.5]]])
    np.testing.assert_allclose(absolute, [[[0.1]]])
    np.testing.assert_allclose(mean, [[[5.0]]])


# ---------------------------------------------------------------- padded data, end to end


def _masked_sum_model(real, mask_value):
    def model(X):
        padded = np.all(X == mask_value, axis=2)
        assert np.array_equal(padded, ~real[: len(X)]) or len(X) != len(real), "padding was perturbed"
        return np.where(padded, 0.0, X[:, :, 0] + 0.5 * X[:, :, 1]).sum(axis=1)

    return model


def test_the_mean_ablation_on_padded_data_matches_a_hand_computation():
    X, real = padded_sequences(np.random.default_rng(3))
    model = _masked_sum_model(real, -1.0)
    result = perturbation_importance(model, X, method="mean", mask_value=-1.0)
    for feature, weight in ((0, 1.0), (1, 0.5)):
        values = X[:, :, feature]
        mean = values[real].mean()  # over real cells only
        change = weight * np.where(real, mean - values, 0.0).sum(axis=1)
        assert result.importances_mean[feature] == pytest.approx(np.abs(change).mean(), rel=1e-12)


def test_noise_scale_on_padded_data_comes_from_the_real_cells_only():
    X, real = padded_sequences(np.random.default_rng(4))
    X[real] = X[real] * 3.0
    model = _masked_sum_model(real, -1.0)
    result = perturbation_importance(model, X, method="gaussian", scale=0.5, n_repeats=30, mask_value=-1.0,
                                     random_state=0)
    sd = 0.5 * X[:, :, 0][real].std()
    expected = np.mean(np.sqrt(real.sum(axis=1)) * sd) * np.sqrt(2 / np.pi)  # E|sum of L normals| per row
    assert result.importances_mean[0] == pytest.approx(expected, rel=0.05)
