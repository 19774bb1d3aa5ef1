"""Jobs through the model (pyimportance.engine.evaluate): a model that fails mid-run, raises,
returns NaN or the wrong rows is reported with the unit (feature, time step, repeat) it was
evaluating, or the first and last job of a shared model call, with the cause chained; the run
stops at once and the caller's data is left unchanged.
"""

from __future__ import annotations

import re

import helpers
import numpy as np
import pytest
from helpers import SMALL_F, SMALL_N, small_data, sum_model

from pyimportance import ModelFailedError, ModelOutputError, perturbation_importance


class FailsOnCall:
    """A model that works until its ``fail_on``-th call, then raises ``error``."""

    def __init__(self, fail_on: int, error: BaseException):
        self.fail_on = fail_on
        self.error = error
        self.calls = 0

    def __call__(self, x):
        self.calls += 1
        if self.calls == self.fail_on:
            raise self.error
        return sum_model(x)


@pytest.mark.parametrize("read_only", [False, True], ids=["writeable", "read-only"])
def test_model_failing_mid_run_names_feature_and_repeat_and_chains_the_cause(read_only):
    X, y = small_data()
    if read_only:
        X, y = helpers.read_only(X), helpers.read_only(y)
    X_before, y_before = X.copy(), y.copy()
    # One job per model call (batch_size = n): call 1 is the baseline, call 2 the baseline again (the
    # repeatability check), call 3 the row-wise check, call 4 is x1 repeat 1, call 5 is x1 repeat 2.
    model = FailsOnCall(5, ZeroDivisionError("division by zero in layer 3"))
    message = (
        "model failed while evaluating feature 'x1' (repeat 2 of 3): "
        "ZeroDivisionError: division by zero in layer 3"
    )
    with pytest.raises(ModelFailedError, match=re.escape(message)) as caught:
        perturbation_importance(model, X, y, n_repeats=3, batch_size=SMALL_N, random_state=0)
    assert str(caught.value) == message
    assert caught.value.__cause__ is model.error
    assert model.calls == 5  # stopped at once: no further calls after the failure
    np.testing.assert_array_equal(X, X_before)
    np.testing.assert_array_equal(y, y_before)


def test_model_failing_mid_run_by_cell_names_the_timestep():
    X, _ = small_data()
    # Cells are ordered (t0, x1), (t0, x2), (t0, x3), (t1, x1), (t1, x2), ...; call 1 is the baseline,
    # call 2 the baseline again (the repeatability check), call 3 the row-wise check.
    model = FailsOnCall(3 + SMALL_F + 2, ValueError("bad cell"))
    message = "model failed while evaluating feature 'x2' at time step 1: ValueError: bad cell"
    with pytest.raises(ModelFailedError, match=re.escape(message)) as caught:
        perturbation_importance(model, X, n_repeats=1, by="cell", batch_size=SMALL_N, random_state=0)
    assert isinstance(caught.value.__cause__, ValueError)


def test_model_returning_nan_mid_run_names_the_feature():
    X, _ = small_data()

    def model(x):
        out = sum_model(x)
        out[np.any(x[:, :, 2] > 5.0, axis=1)] = np.nan  # breaks down outside the data's range
        return out

    X_shifted = X.copy()
    X_shifted[:, :, 2] = 4.0 + np.abs(X_shifted[:, :, 2]) * 1e-3  # only noise on x3 lifts it above 5
    with pytest.raises(ModelFailedError) as caught:
        perturbation_importance(model, X_shifted, method="uniform", scale=2000.0, n_repeats=1,
                                batch_size=SMALL_N, random_state=0)
    assert str(caught.value).startswith("model failed while evaluating feature 'x3': ModelOutputError")
    assert isinstance(caught.value.__cause__, ModelOutputError)


def test_model_failing_on_a_call_shared_by_several_jobs_names_the_first_and_last():
    X, _ = small_data()
    # batch_size = 2n: call 1 is the baseline alone, call 2 the baseline again (the repeatability check), call 3
    # the row-wise check, call 4 holds x1 repeats 1 and 2.
    model = FailsOnCall(4, ValueError("boom"))
    message = (
        "model failed while evaluating feature 'x1' (repeat 1 of 2) (in one model call with 1 more job(s), "
        "up to feature 'x1' (repeat 2 of 2)): ValueError: boom"
    )
    with pytest.raises(ModelFailedError) as caught:
        perturbation_importance(model, X, n_repeats=2, batch_size=2 * SMALL_N, random_state=0)
    assert str(caught.value) == message


def test_model_raising_on_the_baseline_is_named_as_such_with_the_cause_kept():
    X, y = small_data()
    model = FailsOnCall(1, ZeroDivisionError("division by zero"))
    with pytest.raises(ModelFailedError) as caught:
        perturbation_importance(model, X, y, n_repeats=2, random_state=0)
    assert str(caught.value) == "model failed on the unperturbed data: ZeroDivisionError: division by zero"
    assert caught.value.where == "on the unperturbed data"
    assert caught.value.cause is model.error is caught.value.__cause__


def test_model_wrong_rows_mid_run_is_reported_with_the_feature():
    X, _ = small_data()
    calls = []

    def model(x):
        calls.append(len(x))
        out = sum_model(x)
        return out[:-1] if len(calls) == 6 else out  # the baseline twice, the row-wise check, x1 twice, x2

    message = (
        "model failed while evaluating feature 'x2' (repeat 1 of 2): ModelOutputError: "
        "model must return one prediction row per input row (12), got output of shape (11,)"
    )
    with pytest.raises(ModelFailedError, match=re.escape(message)):
        perturbation_importance(model, X, n_repeats=2, batch_size=SMALL_N, random_state=0)
