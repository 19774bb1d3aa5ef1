"""The plan of a run (pyimportance.engine.plan): each job's perturbation, its rows and its description."""

from __future__ import annotations

import numpy as np
import pytest

from pyimportance import terms
from pyimportance.data.inputs import Inputs, ModelInput
from pyimportance.data.seeding import root_seed, unit_rng
from pyimportance.data.units import Block, build_units
from pyimportance.engine.plan import Job, Override, Plan, take_block
from pyimportance.errors import MethodFailedError
from pyimportance.methods.feature_stats import feature_stats
from pyimportance.methods.perturbations import METHODS, resolve_method

N_ROWS, N_STEPS, N_FEATURES = 6, 3, 3


def _X() -> np.ndarray:
    """Distinct values in every cell: which cell a value came from is visible."""
    return np.arange(N_ROWS * N_STEPS * N_FEATURES, dtype=np.float64).reshape(N_ROWS, N_STEPS, N_FEATURES)


def _plan(X, method="gaussian", *, by="feature", n_repeats=2, seed=7, row_blocks=(), mask=None, groups=None,
          extra=None, scale=0.1) -> Plan:
    parts = [ModelInput("input", X, tuple(f"x{i + 1}" for i in range(X.shape[2])), True, mask=mask,
                        mask_value=None if mask is None else -1.0)]
    if extra is not None:
        parts.append(ModelInput("static", extra, tuple(f"z{i + 1}" for i in range(extra.shape[2])), False))
    inputs = Inputs(tuple(parts), "array" if extra is None else "list")
    resolved = METHODS[method] if isinstance(method, str) else resolve_method(method)
    return Plan(
        inputs=inputs,
        units=build_units(by, inputs, groups),
        n_repeats=n_repeats,
        method=resolved,
        stats=[feature_stats(part.values, part.mask) for part in parts],
        scale=scale,
        relative_scale=True,
        root=root_seed(seed),
        row_blocks=list(row_blocks),
    )


def _values(plan: Plan, job: Job) -> list[np.ndarray]:
    overrides, _ = plan.perturbed(job)
    return [override.values for override in overrides]


# -- order independence and the job's own generator ------------------------------------------------------------


def test_a_jobs_values_do_not_depend_on_the_jobs_drawn_before_it():
    plan = _plan(_X())
    jobs = plan.jobs()
    forward = {job: _values(plan, job) for job in jobs}
    backward = {job: _values(plan, job) for job in reversed(jobs)}
    alone = _values(_plan(_X()), Job(2, 1))  # a fresh plan, this one job only
    for job in jobs:
        assert np.array_equal(forward[job][0], backward[job][0])
    assert np.array_equal(alone[0], forward[Job(2, 1)][0])
    # ... and drawing a job twice gives the same values twice
    assert np.array_equal(_values(plan, Job(0, 0))[0], _values(plan, Job(0, 0))[0])


def test_gaussian_values_come_from_the_generator_of_the_job_unit_repeat_and_block():
    X = _X()
    plan = _plan(X, scale=0.1)
    rng = unit_rng(root_seed(7), 2, 1)
    sd = 0.1 * X[:, :, 2].std()  # population sd of feature 3 over samples and steps
    expected = X[:, :, 2:3] + rng.standard_normal((N_ROWS, N_STEPS, 1)) * sd
    assert np.allclose(_values(plan, Job(2, 1))[0], expected, rtol=0, atol=1e-12)
    # other repeats, units and seeds draw other noise
    assert not np.array_equal(_values(plan, Job(2, 0))[0], _values(plan, Job(2, 1))[0])
    assert not np.array_equal(_values(_plan(X, seed=8), Job(2, 1))[0], _values(plan, Job(2, 1))[0])


def test_permute_of_a_row_block_shuffles_the_blocks_rows_with_the_blocks_own_generator():
    X = _X()
    blocks = [np.array([0, 2, 4]), np.array([1, 3, 5])]
    plan = _plan(X, "permute", row_blocks=blocks)
    overrides, donors = plan.perturbed(Job(1, 0, 1))
    expected_donors = unit_rng(root_seed(7), 1, 0, 1).permutation(3)
    assert np.array_equal(donors, expected_donors)
    assert np.array_equal(overrides[0].values, X[blocks[1]][:, :, 1:2][expected_donors])
    # block 0 has its own stream, not block 1's
    assert np.array_equal(plan.perturbed(Job(1, 0, 0))[1], unit_rng(root_seed(7), 1, 0).permutation(3))


def test_jobs_lists_every_unit_and_repeat_of_a_block_in_canonical_order():
    plan = _plan(_X(), n_repeats=2)
    assert plan.jobs(3) == [Job(0, 0, 3), Job(0, 1, 3), Job(1, 0, 3), Job(1, 1, 3), Job(2, 0, 3), Job(2, 1, 3)]


def test_block_rows_are_all_rows_without_blocks_and_the_blocks_rows_with_them():
    assert np.array_equal(_plan(_X()).block_rows(0), np.arange(N_ROWS))
    blocked = _plan(_X(), row_blocks=[np.array([1, 4]), np.array([0, 2, 3, 5])])
    assert np.array_equal(blocked.block_rows(1), [0, 2, 3, 5])
    assert blocked.n_samples == N_ROWS


# -- what a job's overrides are -------------------------------------------------------------------------------


def test_a_timestep_unit_overrides_every_feature_of_its_step_with_basic_indexing():
    X = _X()
    plan = _plan(X, "zero", by="timestep", n_repeats=1)
    overrides, donors = plan.perturbed(Job(1, 0))
    assert donors is None
    assert len(overrides) == 1
    override = overrides[0]
    assert override.input == 0
    assert override.index == (slice(1, 2), slice(0, 3))
    assert np.array_equal(override.values, np.zeros((N_ROWS, 1, N_FEATURES)))


def test_a_group_across_two_inputs_gives_one_override_per_input_with_the_same_donors():
    X = _X()
    static = (100 + np.arange(N_ROWS * 2, dtype=np.float64)).reshape(N_ROWS, 1, 2)
    plan = _plan(X, "permute", groups={"g": (0, 4)}, extra=static)  # x1 of the sequence, z2 of the static input
    overrides, donors = plan.perturbed(Job(0, 1))
    assert [override.input for override in overrides] == [0, 1]
    assert np.array_equal(overrides[0].values, X[donors][:, :, 0:1])
    assert np.array_equal(overrides[1].values, static[donors][:, :, 1:2])
    assert sorted(donors.tolist()) == list(range(N_ROWS))


def test_mean_ablation_sets_each_value_to_its_features_mean():
    X = _X()
    plan = _plan(X, "mean", groups={"pair": (0, 2)}, n_repeats=1)
    values = _values(plan, Job(0, 0))[0]
    means = np.array([X[:, :, 0].mean(), X[:, :, 2].mean()])
    assert values.shape == (N_ROWS, N_STEPS, 2)
    assert np.allclose(values, np.broadcast_to(means, values.shape), rtol=0, atol=1e-12)


# -- the caller's data is never written to --------------------------------------------------------------------


def _overwrite(values, rng):
    values[...] = 99.0  # writes into what it was given
    return values


def test_perturbed_never_writes_to_the_inputs_even_when_a_method_writes_into_its_values():
    X = _X()
    kept = X.copy()
    plan = _plan(X, _overwrite, n_repeats=1)
    overrides, _ = plan.perturbed(Job(1, 0))
    assert np.array_equal(overrides[0].values, np.full((N_ROWS, N_STEPS, 1), 99.0))
    assert np.array_equal(X, kept)
    assert np.array_equal(plan.inputs.parts[0].values, kept)


def test_perturbed_never_writes_to_the_inputs_of_padded_data_or_of_blocks():
    X = _X()
    mask = np.ones((N_ROWS, N_STEPS), dtype=bool)
    mask[0, 0] = False
    X[0, 0] = -1.0
    kept, kept_mask = X.copy(), mask.copy()
    plan = _plan(X, _overwrite, mask=mask, row_blocks=[np.array([0, 3]), np.array([1, 2, 4, 5])], n_repeats=1)
    for job in plan.jobs(0) + plan.jobs(1):
        plan.perturbed(job)
    assert np.array_equal(X, kept)
    assert np.array_equal(mask, kept_mask)


def test_take_block_of_contiguous_rows_is_a_float64_copy_of_the_block():
    X = _X()
    block = Block(0, (1, 2), (0, 2))
    index = block.index(N_STEPS)
    steps, features = block.columns(N_STEPS)
    rows = np.arange(2, 5)
    taken = take_block(X, rows, index, steps, features)
    assert taken.dtype == np.float64
    assert np.array_equal(taken, X[rows][:, [1, 2]][:, :, [0, 2]])
    assert not np.shares_memory(taken, X)
    taken[...] = 0.0
    assert np.array_equal(X, _X())


def test_take_block_of_scattered_rows_equals_fancy_indexing_and_converts_float32_exactly():
    X = (_X() / 7.0).astype(np.float32)
    block = Block(0, (0, 2), (1,))
    index = block.index(N_STEPS)
    steps, features = block.columns(N_STEPS)
    rows = np.array([5, 0, 3])
    taken = take_block(X, rows, index, steps, features)
    assert taken.dtype == np.float64
    assert np.array_equal(taken, X[np.ix_(rows, steps, features)].astype(np.float64))
    assert taken.shape == (3, 2, 1)


# -- padding --------------------------------------------------------------------------------------------------


def _padded():
    """Rows 0-2 padded at step 0 (and row 0 at step 1 too); padded cells hold -1."""
    X = 1.0 + _X()[:, :, :1]
    mask = np.ones((N_ROWS, N_STEPS), dtype=bool)
    mask[0, :2] = False
    mask[1:3, 0] = False
    X[~mask] = -1.0
    return X, mask


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_permute_keeps_padded_steps_and_never_gives_a_padded_value_to_a_real_step(seed):
    X, mask = _padded()
    plan = _plan(X, "permute", mask=mask, seed=seed, n_repeats=1)
    overrides, donors = plan.perturbed(Job(0, 0))
    new = overrides[0].values
    assert np.array_equal(new[~mask], X[~mask])  # padded steps keep their value
    for row in range(N_ROWS):
        for step in range(N_STEPS):
            if not mask[row, step]:
                continue
            # a real step takes a real value of the same step: its donor's, or another real row's
            assert new[row, step, 0] in X[mask[:, step], step, 0]
            if mask[donors[row], step]:
                assert new[row, step, 0] == X[donors[row], step, 0]


def test_noise_changes_real_steps_only():
    X, mask = _padded()
    plan = _plan(X, "gaussian", mask=mask, n_repeats=1)
    new = _values(plan, Job(0, 0))[0]
    assert np.array_equal(new[~mask], X[~mask])
    assert not np.any(new[mask] == X[mask])


# -- descriptions and failures --------------------------------------------------------------------------------


def test_describe_names_the_feature_the_0_based_time_step_and_the_repeat():
    plan = _plan(_X(), by="cell", n_repeats=3)
    assert plan.units[4].feature == "x2" and plan.units[4].timestep == 1
    assert plan.describe(Job(4, 1)) == "feature 'x2' at time step 1 (repeat 2 of 3)"
    assert _plan(_X(), by="cell", n_repeats=1).describe(Job(4, 0)) == "feature 'x2' at time step 1"
    assert _plan(_X(), n_repeats=3).describe(Job(0, 2)) == "feature 'x1' (repeat 3 of 3)"
    by_step = _plan(_X(), by="timestep", n_repeats=2)
    assert by_step.describe(Job(2, 0)) == "feature '(all)' at time step 2 (repeat 1 of 2)"


def test_describe_counts_time_steps_from_1_in_r_terms():
    plan = _plan(_X(), by="cell", n_repeats=3)
    with terms.speaking(terms.R):
        assert plan.describe(Job(4, 1)) == 'feature "x2" at time step 2 (repeat 2 of 3)'


def _boom(values, rng):
    raise ValueError("boom")


def _flat(values, rng):
    return values[:, :, 0]


def _interrupt(values, rng):
    raise KeyboardInterrupt


def test_a_method_that_raises_is_reported_naming_the_job():
    plan = _plan(_X(), _boom, n_repeats=2)
    with pytest.raises(MethodFailedError) as caught:
        plan.perturbed(Job(1, 1))
    assert str(caught.value) == "method (_boom) failed while perturbing feature 'x2' (repeat 2 of 2): ValueError: boom"
    assert isinstance(caught.value.__cause__, ValueError)


def test_a_method_that_returns_the_wrong_shape_is_reported_naming_the_job():
    plan = _plan(_X(), _flat, n_repeats=2)
    with pytest.raises(MethodFailedError) as caught:
        plan.perturbed(Job(0, 0))
    assert str(caught.value) == (
        "method (a custom perturbation) must return an array of the shape (6, 3, 1) it was given, "
        "got shape (6, 3), while perturbing feature 'x1' (repeat 1 of 2)"
    )


def test_a_keyboard_interrupt_in_a_method_passes_through():
    plan = _plan(_X(), _interrupt, n_repeats=1)
    with pytest.raises(KeyboardInterrupt):
        plan.perturbed(Job(0, 0))


def test_a_job_is_in_row_block_0_unless_told_and_an_override_keeps_its_fields():
    values = np.zeros((2, 1, 1))
    override = Override(1, (slice(0, 1), slice(2, 3)), values)
    assert override.input == 1 and override.index == (slice(0, 1), slice(2, 3)) and override.values is values
    assert Job(3, 2) == Job(3, 2, 0)
