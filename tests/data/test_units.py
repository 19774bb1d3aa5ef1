"""Units (pyimportance.data.units): which block(s) of the inputs each granularity perturbs, groups
of features (within and across inputs) and their checks: names that read the same as text,
integer members that match integer feature names or are ambiguous, groups with
``by='timestep'``.
"""

from __future__ import annotations

import numpy as np
import pytest
from helpers import MULTI_F as F
from helpers import MULTI_T as T
from helpers import SEQ, STATIC, seq_data, seq_model, two_input_model

from pyimportance import perturbation_importance
from pyimportance.data.inputs import Inputs, ModelInput
from pyimportance.data.units import ALL_FEATURES, Block, Unit, build_units

NAMES = ("a", "b", "c")


def _inputs(n_timesteps: int, names=NAMES) -> Inputs:
    values = np.zeros((2, n_timesteps, len(names)))
    return Inputs((ModelInput("input", values, tuple(names), True),))


def _two_inputs() -> Inputs:
    sequence = ModelInput("seq", np.zeros((2, 3, 2)), ("a", "b"), True)
    static = ModelInput("static", np.zeros((2, 1, 2)), ("s1", "s2"), False)
    return Inputs((sequence, static), "list")


def test_by_feature_one_unit_per_feature_over_all_time_steps():
    units = build_units("feature", _inputs(4))
    assert units == [Unit(name, None, (Block(0, None, (i,)),)) for i, name in enumerate(NAMES)]
    steps, features = units[1].blocks[0].columns(4)
    np.testing.assert_array_equal(steps, [0, 1, 2, 3])
    np.testing.assert_array_equal(features, [1])


def test_by_timestep_one_unit_per_step_over_all_features():
    units = build_units("timestep", _inputs(3))
    assert units == [Unit(ALL_FEATURES, step, (Block(0, (step,), (0, 1, 2)),)) for step in range(3)]
    assert [unit.first_step for unit in units] == [0, 1, 2]


def test_by_cell_steps_outer_features_inner():
    units = build_units("cell", _inputs(2))
    assert [(unit.feature, unit.timestep) for unit in units] == [
        ("a", 0), ("b", 0), ("c", 0), ("a", 1), ("b", 1), ("c", 1),
    ]
    assert units[4] == Unit("b", 1, (Block(0, (1,), (1,)),))


def test_groups_replace_single_features():
    groups = {"first": (0, 2), "second": (1,)}
    assert build_units("feature", _inputs(3), groups) == [
        Unit("first", None, (Block(0, None, (0, 2)),)),
        Unit("second", None, (Block(0, None, (1,)),)),
    ]
    cells = build_units("cell", _inputs(2), groups)
    assert [(unit.feature, unit.timestep, unit.blocks[0].features) for unit in cells] == [
        ("first", 0, (0, 2)), ("second", 0, (1,)), ("first", 1, (0, 2)), ("second", 1, (1,)),
    ]


def test_block_index_selects_the_same_values_as_fancy_indexing():
    X = np.arange(2 * 4 * 3).reshape(2, 4, 3)
    block = Block(0, (2,), (0, 2))
    steps, features = block.columns(4)
    np.testing.assert_array_equal(X[(slice(None),) + block.index(4)], X[:, steps[:, None], features[None, :]])
    np.testing.assert_array_equal(X[(slice(None),) + Block(0, None, (1, 2)).index(4)], X[:, :, 1:3])


def test_flat_columns_are_t_times_f_plus_f_after_the_offset():
    block = Block(1, (1, 2), (0,))
    np.testing.assert_array_equal(block.flat_columns(n_timesteps=3, n_features=2, offset=6), [6 + 2, 6 + 4])


def test_a_feature_of_each_input_and_static_features_with_by_cell():
    inputs = _two_inputs()
    by_feature = build_units("feature", inputs)
    assert [unit.feature for unit in by_feature] == ["a", "b", "s1", "s2"]
    assert by_feature[2].blocks == (Block(1, None, (0,)),)
    cells = build_units("cell", inputs)
    assert [(unit.feature, unit.timestep) for unit in cells] == [
        ("a", 0), ("b", 0), ("a", 1), ("b", 1), ("a", 2), ("b", 2), ("s1", None), ("s2", None),
    ]
    steps = build_units("timestep", inputs)
    assert [(unit.feature, unit.timestep) for unit in steps] == [
        (ALL_FEATURES, 0), (ALL_FEATURES, 1), (ALL_FEATURES, 2), ("s1", None), ("s2", None),
    ]


def test_a_group_spanning_inputs_has_one_block_per_input():
    units = build_units("feature", _two_inputs(), {"mixed": (1, 3)})
    assert units == [Unit("mixed", None, (Block(0, None, (1,)), Block(1, None, (1,))))]
    with pytest.raises(ValueError) as error:
        build_units("cell", _two_inputs(), {"mixed": (1, 3)})
    assert str(error.value) == (
        "groups['mixed'] mixes sequence and static features, which by='cell' cannot perturb at one time step; "
        "make separate groups"
    )


def test_unknown_by_is_rejected():
    with pytest.raises(ValueError) as error:
        build_units("sample", _inputs(2))
    assert str(error.value) == "by must be one of 'feature', 'timestep' or 'cell', got 'sample'"


# ---------------------------------------------------------------- through the public function


def test_by_cell_covers_the_sequence_input_and_leaves_static_features_without_a_time_step():
    y = two_input_model([SEQ, STATIC])
    result = perturbation_importance(two_input_model, [SEQ, STATIC], y, method="permute", by="cell", random_state=0)
    frame = result.to_frame()
    assert frame.loc[0, "feature"] == "input1:x1" and frame.loc[0, "timestep"] == T - 3
    static = frame[frame["timestep"].isna()]
    assert sorted(static["feature"]) == ["input2:x1", "input2:x2"]
    assert static.set_index("feature").loc["input2:x2", "importance"] > 1.0
    assert len(frame) == T * F + 2


def test_a_group_can_span_inputs():
    y = two_input_model([SEQ, STATIC])
    result = perturbation_importance(two_input_model, [SEQ, STATIC], y, method="permute", random_state=0,
                                     groups={"drivers": ["input1:x1", "input2:x2"], "rest": ["x3"]})
    assert result.feature == ["drivers", "rest"]
    assert result.importances_mean[0] > 3.0 and result.importances_mean[1] == 0.0


def test_group_names_that_read_the_same_as_text_are_refused():
    with pytest.raises(ValueError) as error:
        perturbation_importance(seq_model, seq_data(), groups={1: ["x1"], "1": ["x2"]})
    assert str(error.value) == (
        "groups must have distinct names, got keys that read the same as text: ['1'] (from [1, '1'])"
    )


def test_groups_with_by_timestep_are_refused():
    with pytest.raises(ValueError) as error:
        perturbation_importance(seq_model, seq_data(), by="timestep", groups={"g": ["x1", "x2"]})
    assert str(error.value) == (
        "groups cannot be used with by='timestep', which perturbs all features of a time step together; "
        "use by='cell' for each group at each time step, or by='feature'"
    )


def test_integer_group_members_match_integer_feature_names_or_say_they_are_ambiguous():
    names = ["2020", "2021", "2022"]
    by_name = perturbation_importance(seq_model, seq_data(), feature_names=names, groups={"g": [2020]}, random_state=0)
    by_text = perturbation_importance(seq_model, seq_data(), feature_names=names, groups={"g": ["2020"]},
                                      random_state=0)
    np.testing.assert_array_equal(by_name.importances, by_text.importances)
    with pytest.raises(ValueError) as error:
        perturbation_importance(seq_model, seq_data(), feature_names=["2", "0", "1"], groups={"g": [1]})
    assert str(error.value) == (
        "groups['g'] member 1 is ambiguous: feature names are numbers too; pass the name as text ('1') "
        "or the position of another feature"
    )
