"""The closed-form circular block bootstrap (pyimportance.stats.block_bootstrap): its cumulants
against arch's Monte Carlo bootstrap, the exact bootstrap distribution and closed forms; and the
block length, automatic (short for independent rows, long for autocorrelated ones) or given,
rounded up to slots and capped at a third of them.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import signal

from pyimportance.stats.accumulator import RowAccumulator
from pyimportance.stats.block_bootstrap import circular_block_cumulants
from pyimportance.stats.intervals import data_intervals


@pytest.mark.parametrize("block_size", [1, 3, 4, 7])
def test_circular_block_variance_equals_archs_bootstrap_monte_carlo(block_size):
    from arch.bootstrap import CircularBlockBootstrap

    rng = np.random.default_rng(3)
    series = rng.exponential(size=26) + np.sin(np.arange(26) / 3)  # skewed and autocorrelated
    bootstrap = CircularBlockBootstrap(block_size, series, seed=np.random.default_rng(4))
    sums = np.array([data[0][0].sum() for data in bootstrap.bootstrap(40_000)])
    variance, third = circular_block_cumulants(series, block_size)
    assert variance == pytest.approx(sums.var(), rel=0.03)
    deviations = (sums - sums.mean()) ** 3
    assert abs(third - deviations.mean()) < 4 * deviations.std() / np.sqrt(sums.size)


@pytest.mark.parametrize(("n_values", "block_size"), [(6, 2), (7, 3), (5, 1), (7, 5)])
def test_circular_block_cumulants_equal_the_exact_bootstrap_distribution(n_values, block_size):
    """Every combination of block starts, indexed as arch's CircularBlockBootstrap does."""
    series = np.random.default_rng(n_values).exponential(size=n_values)
    n_blocks = -(-n_values // block_size)
    starts = np.stack(np.meshgrid(*[np.arange(n_values)] * n_blocks, indexing="ij"), -1).reshape(-1, n_blocks)
    indices = ((starts[:, :, None] + np.arange(block_size)).reshape(len(starts), -1) % n_values)[:, :n_values]
    sums = series[indices].sum(axis=1)
    variance, third = circular_block_cumulants(series, block_size)
    assert variance == pytest.approx(sums.var(), rel=1e-10)
    assert third == pytest.approx(((sums - sums.mean()) ** 3).mean(), rel=1e-10)


def test_circular_block_cumulants_closed_forms():
    series = np.array([[1.0, 2.0, 4.0, 1.0, 7.0, 3.0], [0.0, 0.0, 0.0, 0.0, 0.0, 0.0]])
    centred = series[0] - series[0].mean()
    variance, third = circular_block_cumulants(series, 1)
    # blocks of one: the i.i.d. bootstrap of the sum
    np.testing.assert_allclose(variance, [(centred**2).sum(), 0.0])
    np.testing.assert_allclose(third, [(centred**3).sum(), 0.0])
    # blocks of 2 over 6 values: 3 blocks, each the sum of two circular neighbours
    pairs = centred + np.roll(centred, -1)
    assert circular_block_cumulants(series[0], 2)[0] == pytest.approx(3 * (pairs**2).mean())
    # one block spanning the whole circle always sums to the total: no variance
    assert circular_block_cumulants(series[0], 6)[0] == pytest.approx(0.0, abs=1e-12)


def test_automatic_block_length_is_short_for_independent_rows_and_long_for_autocorrelated_rows():
    rng = np.random.default_rng(11)
    n_rows = 2000
    lengths = {}
    for name, series in {
        "independent": rng.standard_normal(n_rows),
        "ar(0.9)": signal.lfilter([1.0], [1.0, -0.9], rng.standard_normal(n_rows)),
    }.items():
        accumulator = RowAccumulator(1, n_rows, track_donors=False)
        accumulator.add(0, np.arange(n_rows), series + 1.0, None)
        lengths[name] = data_intervals(accumulator.statistics(), np.array([series.mean() + 1.0])).block_size
    assert lengths["independent"] <= 9
    assert lengths["ar(0.9)"] >= 30


def test_block_size_override_is_rounded_up_to_slots_and_capped_at_a_third():
    accumulator = RowAccumulator(1, 30, track_donors=False, max_values=10)  # 3 rows per slot
    accumulator.add(0, np.arange(30), np.arange(30.0), None)
    statistics = accumulator.statistics()
    assert data_intervals(statistics, np.array([14.5]), block_size=4).block_size == 6
    assert data_intervals(statistics, np.array([14.5]), block_size=30).block_size == 9  # 10 slots // 3 = 3 slots


@pytest.mark.parametrize("phi", [0.0, 0.5, 0.8])
def test_automatic_block_length_is_one_plus_eight_times_the_politis_white_excess(phi):
    # the multiple applies to the part of the Politis-White length dependence makes (issue 28): 1 row is no
    # dependence and keeps blocks of one row
    from arch.bootstrap import optimal_block_length

    rng = np.random.default_rng(7)
    series = signal.lfilter([1.0], [1.0, -phi], rng.standard_normal(600)) + 3.0
    accumulator = RowAccumulator(1, series.size, track_donors=False)
    accumulator.add(0, np.arange(series.size), series, None)
    politis_white = float(optimal_block_length(series - series.mean())["circular"].iloc[0])
    expected = min(int(np.ceil(1 + 8 * max(politis_white - 1, 0))), series.size // 3)
    assert data_intervals(accumulator.statistics(), np.array([series.mean()])).block_size == expected
    assert expected < 3 * politis_white if phi == 0.0 else expected > 3 * politis_white
