"""Prefix reuse in Shapley importance (pyimportance.shapley.coalition_prefix): coalition rows run from their first
absent time step give the numbers of the full pass; the shortcut is taken; by feature there is nothing to skip.
"""

from __future__ import annotations

import numpy as np
import pytest

from pyimportance import shapley_importance
from pyimportance.model.prefix import PrefixPolicy, PrefixReuse
from pyimportance.shapley import coalition_prefix as prefix
from pyimportance.shapley.coalition_prefix import first_absent_steps

N_SAMPLES, N_TIMESTEPS, N_FEATURES = 60, 8, 2


@pytest.fixture(scope="module")
def lstm_and_data(keras):
    keras.utils.set_random_seed(3)
    model = keras.Sequential([keras.Input((N_TIMESTEPS, N_FEATURES)), keras.layers.LSTM(6), keras.layers.Dense(1)])
    X = np.random.default_rng(0).normal(size=(N_SAMPLES, N_TIMESTEPS, N_FEATURES)).astype(np.float32)
    return model, X, X[:, -1, 0] + 0.5 * X[:, 2, 1]


@pytest.fixture
def spy_prefix(monkeypatch):
    """Force prefix reuse on (whatever the size and timing), as the engine's prefix tests do; record the instances."""
    created: list[PrefixReuse] = []

    def recorded(*args, **kwargs) -> PrefixReuse:
        created.append(PrefixReuse(*args, **kwargs))
        return created[-1]

    recorded.supports = PrefixReuse.supports
    monkeypatch.setattr(prefix, "PrefixReuse", recorded)
    monkeypatch.setattr(prefix, "PREFIX_MIN_ROWS", 0)
    monkeypatch.setattr(PrefixPolicy, "_pays_off", lambda self: True)
    return created


def _run(model, X, y, by, **options):
    return shapley_importance(model, X, y, by=by, n_repeats=2, n_draws=3, random_state=5, progress=False,
                              **{"batch_size": 64, **options})


@pytest.mark.keras
@pytest.mark.parametrize(("by", "jit_compile"), [("timestep", False), ("timestep", True), ("cell", False)])
def test_prefix_reuse_gives_the_full_pass_values_and_skips_leading_steps(lstm_and_data, spy_prefix, monkeypatch,
                                                                         by, jit_compile):
    model, X, y = lstm_and_data
    with monkeypatch.context() as plain:
        plain.setattr(prefix, "PREFIX_MIN_ROWS", 10**12)
        expected = _run(model, X, y, by, jit_compile=jit_compile)
    assert spy_prefix == []
    reused = _run(model, X, y, by, jit_compile=jit_compile)
    assert len(spy_prefix) == 1
    reuse = spy_prefix[0]
    assert reuse.active, "the shortcut was dropped: its predictions differed from the full pass"
    assert max(reuse._verified) > 0, "no call ran from a later start step"
    n_units = N_TIMESTEPS if by == "timestep" else N_TIMESTEPS * N_FEATURES
    model_rows = N_SAMPLES * 2 * 3 * (n_units - 1)  # rows x orders x draws x coalition sizes 1 .. d - 1
    assert reuse.rows_past_prefix > model_rows // 20  # deterministic here: the policy is forced on
    np.testing.assert_array_equal(reused.importances, expected.importances)
    assert reused.total == expected.total


@pytest.mark.keras
def test_calls_of_a_size_with_tail_rows_run_in_full(lstm_and_data, spy_prefix):
    model, X, y = lstm_and_data
    _run(model, X, y, "timestep", batch_size=50)  # 50 rows: a float32 row's bits may depend on its position
    assert spy_prefix == []


@pytest.mark.keras
def test_by_feature_every_step_is_touched_so_nothing_is_skipped(lstm_and_data, spy_prefix):
    model, X, y = lstm_and_data
    _run(model, X, y, "feature")
    assert spy_prefix == []


def test_first_absent_steps_follow_the_uniform_orders():
    # two units at steps 0 and 4, one absent (size 1): the absent one is either, with probability 1/2
    steps = first_absent_steps(np.array([0, 4]), [1])
    assert np.mean(steps == 0) == 0.5 and np.mean(steps == 4) == 0.5
    # three units at steps 0, 3, 6; one known (size 1): first absent 0 (2/3) or 3 (1/3); one absent (size 2):
    # each step 1/3; sizes equally frequent: 1/2, 1/3, 1/6
    steps = first_absent_steps(np.array([6, 0, 3]), [1, 2])
    np.testing.assert_allclose([np.mean(steps == s) for s in (0, 3, 6)], [0.5, 1 / 3, 1 / 6], atol=1e-3)
