"""``x`` and ``y`` from R (pyimportance.rlayer.data): R's NA in integer, logical and factor values
(which NumPy cannot hold) caught at its 1-based position before any model call, and turned into
R's double NA, not a plain NaN.
"""

from __future__ import annotations

import numpy as np
from helpers import INT_NA, expect_r_error, run_r, signal_model

from pyimportance import rlayer
from pyimportance.rlayer import RValue


def test_integer_na_in_x_is_reported_at_its_1_based_position_before_any_model_call(x3d):
    values = np.ones((60, 4, 3), dtype=np.int32)
    na = np.zeros(values.shape, dtype=bool)
    values[6, 1, 2], na[6, 1, 2] = INT_NA, True
    seen = []
    with expect_r_error("x must not contain NA, NaN or infinite values, got NA at x[7, 2, 3]; "
                        "remove or impute them first"):
        run_r(signal_model(seen), RValue("integer", values=values, na=na))
    assert seen == []


def test_logical_na_in_y_is_not_read_as_true(x3d):
    y = np.ones(60, dtype=bool)
    na = np.zeros(60, dtype=bool)
    na[4] = True  # reticulate gives TRUE here
    with expect_r_error("y must not contain NA, NaN or infinite values, got NA at y[5]"):
        run_r(signal_model(), x3d, RValue("logical", values=y, na=na))


def test_na_in_a_factor_y_is_reported_at_its_position(x3d):
    codes = np.array([1, 2] * 30, dtype=np.int32)
    na = np.zeros(60, dtype=bool)
    codes[59], na[59] = INT_NA, True
    with expect_r_error("y must not contain NA, NaN or infinite values, got NA at y[60]"):
        run_r(signal_model(), x3d, RValue("factor", values=codes, levels=["a", "b"], na=na))


def test_integer_and_logical_na_become_rs_double_na_not_a_plain_nan():
    values = np.array([[1, INT_NA], [3, 4]], dtype=np.int32)
    converted = rlayer.as_inputs(RValue("integer", values=values, na=values == INT_NA)).values
    assert converted.dtype == np.float64 and np.isnan(converted[0, 1])
    assert converted.view(np.uint64)[0, 1] == 0x7FF00000000007A2  # R's NA_real_, as reticulate passes it
    assert converted[1, 0] == 3.0
