"""R functions as model, method and loss (pyimportance.rlayer.functions), driven with neutral RValues
as a binding makes them: what they receive (chunks named like ``x``, data frames, a whole-number
seed), what they must return, and their errors and interrupts.

No R is needed: a Python function stands in for an R function behind a binding. The same code
serves the R package (reticulate) and the rpy2 layer; tests/rlayer/test_bindings.py checks that both
give identical R data frames.
"""

from __future__ import annotations

import numpy as np
import pytest
from helpers import column, double, na_scalar, r_function, run_r, signal_model

from pyimportance import ModelFailedError
from pyimportance.rlayer import RCondition, RError, RValue


def test_the_r_model_gets_chunks_named_like_x(x3d):
    seen = []
    run_r(signal_model(seen), x3d, n_repeats=double([1]), seed=double([0]))
    assert seen[0].type == "double"
    assert seen[0].dimnames == (None, None, ("signal", "weak", "noise"))
    assert seen[0].values.shape[1:] == (4, 3)


def test_a_data_frame_x_reaches_the_r_model_as_a_data_frame():
    rng = np.random.default_rng(1)
    frame = RValue("data.frame", names=["a", "b"],
                   items=[double(rng.normal(size=50)), RValue("integer", values=np.arange(50, dtype=np.int32))])
    seen = []

    def model(chunk: RValue) -> RValue:
        seen.append(chunk)
        return double(3 * chunk.items[0].values)

    result = run_r(r_function(model), frame, n_repeats=double([1]), seed=double([0]))
    assert seen[0].type == "data.frame" and seen[0].names == ("a", "b")
    assert list(column(result, "feature")) == ["a", "b"]


def test_an_r_model_returning_a_named_list_has_heads_known_by_those_names(x3d):
    def model(chunk: RValue) -> RValue:
        last = chunk.values[:, -1, :]
        return RValue("list", names=["sales", "churn"], items=[double(2 * last[:, 0]), double(last[:, 1])])

    targets = RValue("list", names=["churn", "sales"], items=[double(x3d.values[:, -1, 1] + 1),
                                                               double(2 * x3d.values[:, -1, 0])])
    result = run_r(r_function(model), x3d, targets, per_output=RValue("logical", values=np.array([True])),
                   method=RValue("character", values=np.array(["permute"])), n_repeats=double([1]), seed=double([0]))
    importance = dict(zip(zip(column(result, "feature"), column(result, "output")), column(result, "importance")))
    assert set(column(result, "output")) == {"churn", "sales"}
    assert importance["signal", "sales"] > 1 and importance["weak", "sales"] == 0.0
    assert importance["weak", "churn"] > 0.1 and importance["signal", "churn"] == 0.0


def test_an_r_method_gets_values_and_a_whole_seed_and_must_keep_the_dims(x3d):
    seeds = []

    def shuffle(values: RValue, seed: RValue) -> RValue:
        seeds.append(int(seed.values[0]))
        order = np.random.default_rng(int(seed.values[0])).permutation(values.values.shape[0])
        return double(values.values[order])

    first = run_r(signal_model(), x3d, method=r_function(shuffle, "shuffle"), n_repeats=double([2]), seed=double([4]))
    again = run_r(signal_model(), x3d, method=r_function(shuffle, "shuffle"), n_repeats=double([2]), seed=double([4]))
    np.testing.assert_array_equal(first.attributes["importances"].values, again.attributes["importances"].values)
    assert seeds[:6] == seeds[6:] and len(set(seeds[:6])) == 6 and all(0 <= s < 2**31 for s in seeds)

    def flatten(values: RValue, seed: RValue) -> RValue:
        return double(values.values.reshape(-1))

    with pytest.raises(RError) as caught:
        run_r(signal_model(), x3d, method=r_function(flatten))
    assert str(caught.value) == (
        "method must return a numeric array with dim c(60, 4, 1) (as it was given), got a numeric vector of "
        'length 240 (no dim), while perturbing feature "signal" (repeat 1 of 5)'
    )
    assert caught.value.classes == ("pyimportance_method_error", "pyimportance_error")


def test_an_r_error_in_the_model_names_the_unit_and_is_a_model_error(x3d):
    calls = []

    def failing(chunk: RValue):
        calls.append(1)
        if len(calls) == 4:  # the baseline twice (repeatability), the row-wise check, then "signal" repeat 1
            return RCondition("error", "weights file is corrupt")
        return double(chunk.values[:, -1, 0])

    with pytest.raises(RError) as caught:
        run_r(r_function(failing), x3d, n_repeats=double([2]), batch_size=double([60]), seed=double([1]))
    assert str(caught.value) == (
        'model failed while evaluating feature "signal" (repeat 1 of 2): weights file is corrupt')
    assert caught.value.classes == ("pyimportance_model_error", "pyimportance_error")
    assert isinstance(caught.value.__cause__, ModelFailedError)


def test_an_interrupt_in_r_stays_an_interrupt(x3d):
    with pytest.raises(KeyboardInterrupt):
        run_r(r_function(lambda chunk: RCondition("interrupt")), x3d)


def test_an_r_loss_returning_na_is_refused(x3d):
    y = double(np.zeros(60))
    expected = r"^loss \(custom\) failed on the unperturbed data: loss must return a single number"
    with pytest.raises(RError, match=expected + r" \(or one per row: 60\), got NA$") as caught:
        run_r(signal_model(), x3d, y, loss=r_function(lambda a, b: na_scalar("logical")))
    assert caught.value.classes == ("pyimportance_loss_error", "pyimportance_error")
