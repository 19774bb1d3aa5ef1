"""The row-wise check (pyimportance.model.row_wise): a model whose predictions for a row depend on
the other rows of the call (standardising within the batch) or on chance is refused before the
run.
"""

from __future__ import annotations

import numpy as np
import pytest
from helpers import seq_data

from pyimportance import NotRowWiseError, perturbation_importance


def _standardise_within_batch(X):
    last = X[:, -1, 0]
    return (last - last.mean()) / (last.std() + 1e-9) + 0.0 * X[:, 0, 2]


def test_a_model_that_reads_other_rows_of_the_call_is_refused():
    with pytest.raises(NotRowWiseError, match=r"^model is not row-wise: the predictions for the same rows changed"):
        perturbation_importance(_standardise_within_batch, seq_data(), random_state=0)


def test_a_random_model_is_refused_too():
    rng = np.random.default_rng(0)
    with pytest.raises(NotRowWiseError, match="no dropout at prediction time"):
        perturbation_importance(lambda x: x[:, -1, 0] + rng.normal(size=len(x)), seq_data(), random_state=0)
