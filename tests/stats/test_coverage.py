"""Coverage of the data-level intervals in simulations with a known truth (issue 12).

The model is y = x1 + 0.5 x2 (+ unit normal noise), read at the last time step of (n, T, 3)
inputs; x3 is unused. Permuting a feature's whole sequences across rows, the population
importance under the squared error is 2 w^2 var(x) (w = 1, 0.5, 0), whatever the noise.

The intervals under test come from the public function, ``perturbation_importance(...,
method="permute", loss="mse")`` (:func:`simulate_run`). The contrasts that show why they are
built as they are (a plain t-interval over per-row differences, blocks of one row) come from a
small reference run in NumPy (:func:`permutation_run`) that fills a :class:`RowAccumulator` with
one permutation per repeat, as the engine does.

The larger run with its table is ``bench/coverage.py`` (``bench/RESULTS_coverage.md``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
from scipy import signal, stats

from pyimportance import perturbation_importance
from pyimportance.stats.accumulator import RowAccumulator
from pyimportance.stats.intervals import Intervals, data_intervals

WEIGHTS = np.array([1.0, 0.5, 0.0])
N_TIMESTEPS = 12
N_REPEATS = 5
NOISE_SD = 1.0
AR_PHI = 0.8


# --- reference simulation (to be replaced by the public API) ---------------------------------


def iid_inputs(n_rows: int, rng: np.random.Generator) -> tuple[np.ndarray, float]:
    """(n, T, 3) i.i.d. standard normal inputs and var(x) = 1."""
    return rng.standard_normal((n_rows, N_TIMESTEPS, WEIGHTS.size)), 1.0


def ar1_window_inputs(n_rows: int, rng: np.random.Generator, phi: float = AR_PHI) -> tuple[np.ndarray, float]:
    """Overlapping windows (length T, stride 1) of one stationary AR(1) series per feature."""
    length = n_rows + N_TIMESTEPS - 1
    innovations = rng.standard_normal((length, WEIGHTS.size))
    innovations[0] /= np.sqrt(1 - phi**2)  # start in the stationary distribution
    series = signal.lfilter([1.0], [1.0, -phi], innovations, axis=0)
    windows = np.arange(n_rows)[:, None] + np.arange(N_TIMESTEPS)
    return series[windows], 1.0 / (1.0 - phi**2)


def linear_model(X: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """The model: a linear function of the last time step."""
    return X[:, -1, :] @ weights


@dataclass(frozen=True)
class PermutationRun:
    """What one reference run leaves: the filled accumulator and the importances three ways."""

    accumulator: RowAccumulator
    estimate: np.ndarray  # (n_features,): mean increase over rows and repeats
    row_means: np.ndarray  # (n_features, n_rows): per-row increase averaged over repeats
    repeat_importances: np.ndarray  # (n_features, n_repeats)


def permutation_run(X, y, weights, n_repeats, rng) -> PermutationRun:
    """Permutation importance (mse) of every feature, its per-row sums fed to a RowAccumulator."""
    n_rows, _, n_features = X.shape
    baseline_loss = (linear_model(X, weights) - y) ** 2
    accumulator = RowAccumulator(n_features, n_rows, track_donors=True)
    rows = np.arange(n_rows)
    row_means = np.zeros((n_features, n_rows))
    repeat_importances = np.zeros((n_features, n_repeats))
    for feature in range(n_features):
        for repeat in range(n_repeats):
            donors = rng.permutation(n_rows)
            perturbed = X.copy()
            perturbed[:, :, feature] = X[donors, :, feature]
            increase = (linear_model(perturbed, weights) - y) ** 2 - baseline_loss
            accumulator.add(feature, rows, increase, donors)
            row_means[feature] += increase / n_repeats
            repeat_importances[feature, repeat] = increase.mean()
    return PermutationRun(accumulator, row_means.mean(axis=1), row_means, repeat_importances)


def simulate_run(X, y, weights, n_repeats, rng, **options) -> tuple[np.ndarray, Intervals]:
    """One run of the public function: importance per feature and its data-level intervals."""
    result = perturbation_importance(lambda x: linear_model(x, weights), X, y, method="permute", loss="mse",
                                     n_repeats=n_repeats, random_state=int(rng.integers(2**31)), **options)
    intervals = Intervals(result.std_error, result.ci_low, result.ci_high, result.p_value,
                          result.settings["block_size_used"], result.settings["ci"])
    return result.importances_mean, intervals


# --- the coverage study ------------------------------------------------------------------------


def coverage_study(make_inputs, n_rows: int, n_datasets: int, seed: int) -> dict[str, np.ndarray]:
    """Coverage of x1 and x2's intervals over simulated data sets: the data interval, the data
    interval ignoring dependence (blocks of 1 row), and a plain t-interval over per-row
    differences; plus every data interval's bounds and p-value."""
    rng = np.random.default_rng(seed)
    covered = {"data": [], "data_block_1": [], "naive_rows": []}
    lows, p_values = [], []
    for _ in range(n_datasets):
        X, variance = make_inputs(n_rows, rng)
        y = linear_model(X, WEIGHTS) + NOISE_SD * rng.standard_normal(n_rows)
        truth = 2 * WEIGHTS**2 * variance
        _, intervals = simulate_run(X, y, WEIGHTS, N_REPEATS, rng)  # the product's interval
        run = permutation_run(X, y, WEIGHTS, N_REPEATS, rng)  # the contrasts
        estimate, row_means, statistics = run.estimate, run.row_means, run.accumulator.statistics()
        block_1 = data_intervals(statistics, estimate, block_size=1)
        naive_half_width = stats.t.ppf(0.975, n_rows - 1) * stats.sem(row_means, axis=1)
        covered["data"].append((intervals.ci_low <= truth) & (truth <= intervals.ci_high))
        covered["data_block_1"].append((block_1.ci_low <= truth) & (truth <= block_1.ci_high))
        covered["naive_rows"].append(np.abs(estimate - truth) <= naive_half_width)
        lows.append(intervals.ci_low)
        p_values.append(intervals.p_value)
    result = {name: np.mean(values, axis=0)[:2] for name, values in covered.items()}
    result["ci_low"], result["p_value"] = np.array(lows), np.array(p_values)
    return result


@pytest.fixture(scope="module")
def iid_study():
    return coverage_study(iid_inputs, n_rows=200, n_datasets=800, seed=0)


@pytest.fixture(scope="module")
def ar1_study():
    return coverage_study(ar1_window_inputs, n_rows=300, n_datasets=800, seed=0)


def test_simulate_run_gives_one_interval_per_feature_around_the_estimate():
    rng = np.random.default_rng(1)
    X, _ = iid_inputs(200, rng)
    y = linear_model(X, WEIGHTS) + rng.standard_normal(200)
    estimate, intervals = simulate_run(X, y, WEIGHTS, N_REPEATS, rng)
    assert estimate.shape == intervals.ci_low.shape == (3,)
    assert np.all(intervals.ci_low[:2] < estimate[:2]) and np.all(estimate[:2] < intervals.ci_high[:2])
    assert intervals.method == "data" and intervals.block_size >= 1
    # x3 is unused: every increase is 0, the interval is the point 0 and not significant
    assert estimate[2] == intervals.ci_low[2] == intervals.ci_high[2] == 0.0 and intervals.p_value[2] == 1.0


def test_iid_rows_data_interval_covers_at_least_93_percent(iid_study):
    pooled = iid_study["data"].mean()
    assert pooled >= 0.93, iid_study["data"]
    assert np.all(iid_study["data"] >= 0.92)
    assert pooled <= 0.99  # not bought by uselessly wide intervals


def test_iid_rows_plain_t_over_row_differences_falls_short(iid_study):
    # every row is a recipient and a donor: the per-row differences are not independent
    assert iid_study["naive_rows"].mean() < 0.91
    # 0.03: since issue 28 the data interval counts each evaluation's shuffle noise once, not twice, and is
    # narrower (93.4% here, 96.6% before); the rows t-interval stays 4 points below it
    assert iid_study["naive_rows"].mean() < iid_study["data"].mean() - 0.03


def test_ar1_windows_data_interval_covers_at_least_93_percent(ar1_study):
    # 95.5% here (800 data sets); before issue 28's longer blocks and small-sample corrections about 90.5%
    pooled = ar1_study["data"].mean()
    assert pooled >= 0.93, ar1_study["data"]
    assert pooled <= 0.98


def test_ar1_windows_intervals_ignoring_dependence_fall_far_short(ar1_study):
    assert ar1_study["data_block_1"].mean() < 0.80
    assert ar1_study["naive_rows"].mean() < 0.65


@pytest.mark.parametrize("study_name", ["iid_study", "ar1_study"])
def test_p_value_below_0025_exactly_when_lower_bound_above_0(study_name, request):
    study = request.getfixturevalue(study_name)
    significant = study["p_value"] < 0.025
    np.testing.assert_array_equal(significant, study["ci_low"] > 0)
    assert significant[:, 0].mean() >= 0.95  # x1 is found in (almost) every data set (97.9% of AR(1) windows)
