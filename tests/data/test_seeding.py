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


def test_a_default_seeded_run_records_a_seed_r_holds_and_repeats_from_it(class_X):
    from pyimportance.data.seeding import DRAWN_SEED_BOUND

    first = perturbation_importance(three_class_model, class_X, n_repeats=2)
    seed = first.settings["random_state"]
    assert isinstance(seed, int) and 0 <= seed < DRAWN_SEED_BOUND == 2**31 - 1
    assert float(seed) == seed  # an R double (and integer) holds it exactly
    again = perturbation_importance(three_class_model, class_X, n_repeats=2, random_state=seed)
    np.testing.assert_array_equal(again.importances, first.importances)
    as_double = perturbation_importance(three_class_model, class_X, n_repeats=2, random_state=float(seed))
    np.testing.assert_array_equal(as_double.importances, first.importances)


def test_a_generator_seed_is_drawn_below_the_bound_and_repeats_from_its_record(class_X):
    first = perturbation_importance(three_class_model, class_X, n_repeats=2, random_state=np.random.default_rng(5))
    seed = first.settings["random_state"]
    assert isinstance(seed, int) and 0 <= seed < 2**31 - 1
    again = perturbation_importance(three_class_model, class_X, n_repeats=2, random_state=seed)
    np.testing.assert_array_equal(again.importances, first.importances)


def test_drawn_seeds_differ_between_default_seeded_runs(class_X):
    seeds = {perturbation_importance(three_class_model, class_X[:20], n_repeats=1).settings["random_state"]
             for _ in range(5)}
    assert len(seeds) == 5
