"""Prefix reuse for recurrent models (pyimportance.model.prefix): skipping the unperturbed first time steps never
changes a number; models the shortcut is not exact for run in full; the start steps spread over the sequence.
"""

from __future__ import annotations

import numpy as np
import pytest

from pyimportance import perturbation_importance
from pyimportance.engine import evaluate
from pyimportance.model import prefix
from pyimportance.model.prefix import PrefixPolicy, PrefixReuse, starts_for

pytestmark = pytest.mark.keras

N_SAMPLES, N_TIMESTEPS, N_FEATURES = 96, 8, 3


@pytest.fixture
def X():
    return np.random.default_rng(7).normal(size=(N_SAMPLES, N_TIMESTEPS, N_FEATURES)).astype(np.float32)


def _recurrent_model(keras, layer_class, **options):
    keras.utils.set_random_seed(3)
    return keras.Sequential([keras.Input((N_TIMESTEPS, N_FEATURES)), layer_class(6, **options), keras.layers.Dense(2)])


@pytest.fixture
def spy_prefix(monkeypatch):
    """Force prefix reuse on (whatever the size and timing) and record the instances used."""
    created: list[PrefixReuse] = []

    class RecordingReuse(PrefixReuse):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            created.append(self)

    monkeypatch.setattr(evaluate, "PREFIX_MIN_ROWS", 0)
    monkeypatch.setattr(evaluate, "PrefixReuse", RecordingReuse)
    monkeypatch.setattr(PrefixPolicy, "_pays_off", lambda self: True)
    return created


def _run(model, X, by, **options):
    return perturbation_importance(
        model, X, by=by, n_repeats=2, random_state=11, batch_size=40, progress=False, **options
    ).importances


@pytest.mark.parametrize(
    ("layer_name", "jit_compile", "by"),
    [
        ("LSTM", False, "timestep"),
        ("LSTM", False, "cell"),
        ("LSTM", True, "cell"),
        ("GRU", False, "cell"),
        ("GRU", True, "timestep"),
    ],
)
def test_prefix_reuse_gives_bit_identical_importances(keras, X, spy_prefix, monkeypatch, layer_name, jit_compile, by):
    model = _recurrent_model(keras, getattr(keras.layers, layer_name))
    with monkeypatch.context() as plain:
        plain.setattr(evaluate, "PREFIX_MIN_ROWS", 10**12)
        expected = _run(model, X, by, jit_compile=jit_compile)
    assert spy_prefix == []
    reused = _run(model, X, by, jit_compile=jit_compile)
    assert len(spy_prefix) == 1
    reuse = spy_prefix[0]
    assert reuse.active, "the shortcut was dropped: its predictions differed from the full pass"
    assert reuse._verified, "no chunk went through the shortcut"
    np.testing.assert_array_equal(reused, expected)


@pytest.mark.parametrize(
    "options",
    [{"return_sequences": True}, {"go_backwards": True}],
    ids=["return_sequences", "go_backwards"],
)
def test_models_the_shortcut_is_not_exact_for_are_run_in_full(keras, X, spy_prefix, options):
    layers = [keras.Input((N_TIMESTEPS, N_FEATURES)), keras.layers.LSTM(4, **options)]
    if options.get("return_sequences"):
        layers.append(keras.layers.Flatten())
    model = keras.Sequential(layers + [keras.layers.Dense(1)])
    _run(model, X, "cell")
    assert spy_prefix == []


def test_prefix_start_steps_are_spread_over_the_sequence():
    assert starts_for(30, 6) == [0, 5, 10, 15, 20, 25]
    assert starts_for(4, 10) == [0, 1, 2, 3]
    assert prefix.start_for(17, [0, 5, 10, 15]) == 15
