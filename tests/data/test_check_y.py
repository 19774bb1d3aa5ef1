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
