"""The random streams (pyimportance.data.seeding): spawned seed sequences give independent runs, and
the same seed sequence the same run.
"""

from __future__ import annotations

import numpy as np
from helpers import three_class_model

from pyimportance import perturbation_importance


def test_spawned_seed_sequences_give_independent_runs(class_X):
    def run(seed):
        return perturbation_importance(three_class_model, class_X, random_state=seed, n_repeats=2).importances

    first, second = np.random.SeedSequence(123).spawn(2)
    assert not np.array_equal(run(first), run(second))
    np.testing.assert_array_equal(run(first), run(np.random.SeedSequence(123).spawn(2)[0]))
    assert not np.array_equal(run(first), run(np.random.SeedSequence(123)))
