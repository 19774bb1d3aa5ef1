"""Engine errors in R's terms (pyimportance.rlayer.errors): for a binding that cannot catch Python
exceptions by type (reticulate), an error comes back as an RCondition with its R message,
condition classes and Python type.
"""

from __future__ import annotations

from helpers import double, signal_model

from pyimportance import rlayer
from pyimportance.rlayer import RCondition


def test_call_from_r_returns_the_error_as_a_condition(x3d):
    outcome = rlayer.call_from_r(signal_model(), x3d, None, {"n_repeats": double([0])})
    assert outcome == RCondition("error", "n_repeats must be a positive integer, got 0",
                                 ("pyimportance_argument_error", "pyimportance_error"), "ValueError")
