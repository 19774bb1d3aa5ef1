"""``sample_weight`` at the boundary: one finite weight >= 0 per row, a positive sum, a copy; a pandas Series
aligned on X's index."""

import numpy as np
import pandas as pd
import pytest

from pyimportance import perturbation_importance, terms
from pyimportance.data.weights import check_sample_weight, evaluated_weights


def test_weights_come_back_as_a_float_copy():
    given = np.array([1, 2, 0])
    weights = check_sample_weight(given, 3)
    assert weights.dtype == np.float64 and weights.tolist() == [1.0, 2.0, 0.0]
    weights[0] = 99
    assert given[0] == 1
    assert check_sample_weight(None, 3) is None


@pytest.mark.parametrize(("weights", "message"), [
    ([1.0, 2.0], "sample_weight must be one number per row of X (3), got shape (2,)"),
    ([[1.0], [2.0], [3.0]], "sample_weight must be one number per row of X (3), got shape (3, 1)"),
    ([1.0, -0.5, 1.0], "sample_weight must be finite and >= 0, got -0.5 at sample_weight[1]"),
    ([1.0, 1.0, np.nan], "sample_weight must be finite and >= 0, got nan at sample_weight[2]"),
    ([1.0, np.inf, 1.0], "sample_weight must be finite and >= 0, got inf at sample_weight[1]"),
    ([0.0, 0.0, 0.0], "sample_weight must have a positive sum (weight 0 leaves a row out of every mean), got all "
                      "zeros"),
])
def test_bad_weights_are_refused_naming_the_argument_and_the_value(weights, message):
    with pytest.raises(ValueError) as raised:
        check_sample_weight(weights, 3)
    assert str(raised.value) == message


def test_r_users_read_r_positions():
    with terms.speaking(terms.R), pytest.raises(ValueError) as raised:
        check_sample_weight([1.0, -1.0, 1.0], 3)
    assert str(raised.value) == "sample_weight must be finite and >= 0, got -1 at sample_weight[2]"


def test_non_numbers_are_refused():
    with pytest.raises(TypeError, match="sample_weight must be numbers, one per row of X"):
        check_sample_weight(["a", "b", "c"], 3)


def test_a_series_is_aligned_on_the_frames_index():
    index = pd.Index([10, 11, 12])
    shuffled = pd.Series([3.0, 1.0, 2.0], index=[12, 10, 11])
    assert check_sample_weight(shuffled, 3, index).tolist() == [1.0, 2.0, 3.0]
    with pytest.raises(ValueError, match=r"as a pandas Series must have X's index labels .* 1 label\(s\) of X's "
                                         r"index missing, e.g. 10"):
        check_sample_weight(pd.Series([1.0, 2.0, 3.0], index=[0, 11, 12]), 3, index)
    # no frame: by position
    assert check_sample_weight(shuffled, 3).tolist() == [3.0, 1.0, 2.0]


def test_a_subset_of_weight_zero_is_refused():
    with pytest.raises(ValueError, match="every row max_samples chose has weight 0"):
        evaluated_weights(np.array([0.0, 1.0, 0.0]), np.array([0, 2]))


def test_the_engine_aligns_a_series_with_a_frame():
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(30, 2)), columns=["a", "b"], index=np.arange(100, 130))
    y = X["a"].to_numpy() * 2
    weights = pd.Series(rng.uniform(size=30), index=X.index)

    def model(x):
        return 2 * np.asarray(x)[:, 0]

    in_order = perturbation_importance(model, X, y, method="zero", sample_weight=weights.to_numpy())
    shuffled = perturbation_importance(model, X, y, method="zero", sample_weight=weights.sample(frac=1, random_state=1))
    np.testing.assert_array_equal(in_order.importances_mean, shuffled.importances_mean)
