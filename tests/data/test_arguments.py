"""The checks of single argument values (pyimportance.data.arguments): ``tolerance``, ``ci`` and
``block_size`` refused with what they must be.
"""

from __future__ import annotations

import pytest
from helpers import stopping_model

from pyimportance import perturbation_importance


def test_bad_tolerance_ci_and_block_size_are_refused(stopping_data):
    X, y = stopping_data
    for options, message in (
        ({"tolerance": 2.0}, "tolerance must be a fraction of the largest importance in (0, 1), got 2"),
        ({"tolerance": 0}, "tolerance must be a positive finite number, got 0"),
        ({"ci": "bootstrap"}, "ci must be one of 'data' or 'repeats', got 'bootstrap'"),
        ({"block_size": 0}, "block_size must be a positive integer, got 0"),
    ):
        with pytest.raises(ValueError) as error:
            perturbation_importance(stopping_model, X[:50], y[:50], **options)
        assert str(error.value) == message
