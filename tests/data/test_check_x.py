"""The checks of ``X`` (pyimportance.data.check_x): several inputs must have the same number of
samples (the other refusals of bad ``X`` are in tests/test_api.py's table of bad inputs).
"""

from __future__ import annotations

import pytest
from helpers import SEQ, STATIC, two_input_model

from pyimportance import perturbation_importance


def test_inputs_with_different_row_counts_are_refused():
    with pytest.raises(ValueError) as error:
        perturbation_importance(two_input_model, [SEQ, STATIC[:-1]])
    assert str(error.value) == (
        "every input in X must have the same number of samples, got {'input1': 200, 'input2': 199}"
    )
