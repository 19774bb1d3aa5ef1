"""The checks of ``y`` (pyimportance.data.check_y): integer labels shaped (n, 1) are labels, not
one-hot; a pandas ``y`` in another order than a DataFrame ``X`` is refused, and one with its own
index is matched to array ``X`` by position with a warning.
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd
import pytest
from helpers import SEQ_N, seq_data, seq_model, three_class_model

from pyimportance import perturbation_importance


@pytest.mark.parametrize("loss", ["accuracy", "log_loss"])
def test_integer_labels_shaped_n_by_1_are_labels_not_one_hot(class_X, class_labels, loss):
    flat = perturbation_importance(three_class_model, class_X, class_labels, loss=loss, method="permute",
                                   random_state=0)
    column = perturbation_importance(three_class_model, class_X, class_labels[:, None], loss=loss, method="permute",
                                     random_state=0)
    assert column.baseline_score == flat.baseline_score
    np.testing.assert_array_equal(column.importances, flat.importances)
    assert flat.importances_mean[0] > 0.05  # x1 drives the classes: a broken argmax-of-one-column gives 0


def test_a_pandas_y_in_another_order_than_the_dataframe_X_is_refused():
    frame = pd.DataFrame(seq_data()[:, -1, :], columns=["a", "b", "c"])
    y = pd.Series(frame["a"].to_numpy(), index=frame.index)
    with pytest.raises(ValueError, match=re.escape("y is a pandas object whose index is in another order than X's")):
        perturbation_importance(lambda x: x[:, 0], frame, y.sample(frac=1.0, random_state=0))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        perturbation_importance(lambda x: x[:, 0], frame, y, n_repeats=1)  # aligned: fine


def test_a_pandas_y_with_a_non_default_index_warns_for_array_X():
    y = pd.Series(np.arange(SEQ_N, dtype=float), index=np.arange(SEQ_N)[::-1])
    with pytest.warns(UserWarning, match="matched to the rows of X by position"):
        perturbation_importance(seq_model, seq_data(), y, n_repeats=1)


def test_a_pandas_y_whose_index_shares_no_label_with_the_dataframe_X_is_refused_with_the_fix():
    frame = pd.DataFrame(seq_data()[:, -1, :], columns=["a", "b", "c"], index=pd.RangeIndex(100, 100 + SEQ_N))
    y = pd.Series(frame["a"].to_numpy())  # index 0..39: X's is 100..139
    expected = (
        "y is a pandas object whose index shares no label with X's (y's starts at 0, X's at 100), so its rows cannot "
        "be matched to X's; if they are in the same order, pass y.to_numpy() (or reset both indexes with "
        ".reset_index(drop=True)), else align them by label first"
    )
    with pytest.raises(ValueError) as error:
        perturbation_importance(lambda x: x[:, 0], frame, y)
    assert str(error.value) == expected
    with pytest.raises(ValueError, match=re.escape("y[0] is a pandas object whose index shares no label")):
        perturbation_importance(lambda x: x[:, :2], frame, [y, y])
    dates = frame.set_axis(pd.date_range("2020-01-01", periods=SEQ_N, freq="D"))
    with pytest.raises(ValueError, match=re.escape("(y's starts at 0, X's at Timestamp('2020-01-01 00:00:00'))")):
        perturbation_importance(lambda x: x[:, 0], dates, y)
    result = perturbation_importance(lambda x: x[:, 0], frame, y.to_numpy(), n_repeats=1, random_state=0)
    assert result.importances_mean[0] > 0


def test_a_pandas_y_whose_index_was_reset_after_a_split_is_refused_not_paired_by_position():
    from sklearn.model_selection import train_test_split

    frame = pd.DataFrame(seq_data()[:, -1, :], columns=["a", "b", "c"])
    X_test, _, y_test, _ = train_test_split(frame, frame["a"], test_size=0.5, random_state=0)
    with pytest.raises(ValueError) as error:
        perturbation_importance(lambda x: x[:, 0], X_test, y_test.reset_index(drop=True))
    shared = int(pd.RangeIndex(len(X_test)).isin(X_test.index).sum())
    assert str(error.value).startswith(
        f"y is a pandas object whose index shares only {shared} of its 20 labels with X's (y's starts at 0, X's at "
        f"{X_test.index[0]!r}), so its rows cannot be matched to X's; if they are in the same order, pass y.to_numpy()"
    )
    result = perturbation_importance(lambda x: x[:, 0], X_test, y_test, n_repeats=1, random_state=0)
    assert result.baseline_scores[0] == 0.0  # paired by label: the model is exact
