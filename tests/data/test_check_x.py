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


def test_a_category_column_is_refused_with_its_codes_as_the_fix_and_the_codes_are_seen_as_codes():
    import numpy as np
    import pandas as pd

    frame = pd.DataFrame({"price": np.linspace(1.0, 2.0, 30), "store": pd.Categorical(list("abc") * 10)})
    with pytest.raises(TypeError) as error:
        perturbation_importance(lambda x: x[:, 0], frame)
    assert str(error.value) == (
        "X must contain only numeric columns, got non-numeric columns ['store'] (['store'] is a category: pass the "
        "codes, e.g. X.assign(store=X['store'].cat.codes), and perturb them with method='permute')"
    )
    coded = frame.assign(store=frame["store"].cat.codes)
    with pytest.warns(UserWarning, match=r"adds noise to integer-typed features \['store'\]"):
        perturbation_importance(lambda x: x[:, 0], coded, n_repeats=1, random_state=0)
