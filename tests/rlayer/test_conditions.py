"""Engine errors in R's terms (pyimportance.rlayer.conditions): for a binding that cannot catch Python
exceptions by type (reticulate), an error comes back as an RCondition with its R message,
condition classes and Python type.
"""

from __future__ import annotations

import pytest
from helpers import double, signal_model

from pyimportance import rlayer
from pyimportance.rlayer import RCondition


def test_call_from_r_returns_the_error_as_a_condition(x3d):
    outcome = rlayer.call_from_r(signal_model(), x3d, None, {"n_repeats": double([0])})
    assert outcome == RCondition("error", "n_repeats must be a positive integer, got 0",
                                 ("pyimportance_argument_error", "pyimportance_error"), "ValueError")


def _model_raising(error: Exception, at_call: int):
    calls = []

    def model(x):
        calls.append(1)
        if len(calls) == at_call:
            raise error
        return x.sum(axis=(1, 2))
    return model


def test_r_interrupt_as_reticulate_passes_it_into_a_python_model_stops_the_run_as_an_interrupt(x3d):
    # reticulate 1.28 raises RuntimeError("(Unknown exception occurred)") in Python when R's own interrupt
    # unwinds through its poll; the R caller must see an interrupt, not "model failed ... RuntimeError".
    model = _model_raising(RuntimeError("(Unknown exception occurred)"), at_call=3)
    with pytest.raises(KeyboardInterrupt, match="interrupted in R"):
        rlayer.call_from_r(model, x3d, None, {"n_repeats": double([2]), "batch_size": double([4])})


def test_another_runtime_error_in_a_python_model_is_a_failed_model_call(x3d):
    model = _model_raising(RuntimeError("out of memory"), at_call=3)
    outcome = rlayer.call_from_r(model, x3d, None, {"n_repeats": double([2]), "batch_size": double([4])})
    assert outcome.kind == "error" and "RuntimeError: out of memory" in outcome.message
