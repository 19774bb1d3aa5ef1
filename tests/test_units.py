"""Units: which block of X each granularity perturbs."""

from __future__ import annotations

import numpy as np
import pytest

from pyimportance.units import ALL_FEATURES, Unit, build_units

NAMES = ("a", "b", "c")


def test_by_feature_one_unit_per_feature_over_all_time_steps():
    units = build_units("feature", NAMES, 4)
    assert units == [Unit("a", None, (0,), None), Unit("b", None, (1,), None), Unit("c", None, (2,), None)]
    steps, features = units[1].columns(4)
    np.testing.assert_array_equal(steps, [0, 1, 2, 3])
    np.testing.assert_array_equal(features, [1])


def test_by_timestep_one_unit_per_step_over_all_features():
    units = build_units("timestep", NAMES, 3)
    assert units == [Unit(ALL_FEATURES, step, (0, 1, 2), (step,)) for step in range(3)]
    steps, features = units[2].columns(3)
    np.testing.assert_array_equal(steps, [2])
    np.testing.assert_array_equal(features, [0, 1, 2])


def test_by_cell_steps_outer_features_inner():
    units = build_units("cell", NAMES, 2)
    assert [(unit.feature, unit.timestep) for unit in units] == [
        ("a", 0),
        ("b", 0),
        ("c", 0),
        ("a", 1),
        ("b", 1),
        ("c", 1),
    ]
    assert units[4] == Unit("b", 1, (1,), (1,))


def test_groups_replace_single_features():
    groups = {"first": (0, 2), "second": (1,)}
    assert build_units("feature", NAMES, 3, groups) == [
        Unit("first", None, (0, 2), None),
        Unit("second", None, (1,), None),
    ]
    cells = build_units("cell", NAMES, 2, groups)
    assert [(unit.feature, unit.timestep, unit.features) for unit in cells] == [
        ("first", 0, (0, 2)),
        ("second", 0, (1,)),
        ("first", 1, (0, 2)),
        ("second", 1, (1,)),
    ]


def test_groups_do_not_change_by_timestep():
    assert build_units("timestep", NAMES, 2, {"g": (0,)}) == build_units("timestep", NAMES, 2)


def test_columns_select_the_units_block():
    X = np.arange(2 * 4 * 3).reshape(2, 4, 3)
    steps, features = Unit("c", 2, (0, 2), (2,)).columns(4)
    np.testing.assert_array_equal(X[:, steps[:, None], features[None, :]], X[:, 2:3, [0, 2]])


def test_unknown_by_is_rejected():
    with pytest.raises(ValueError) as error:
        build_units("sample", NAMES, 2)
    assert str(error.value) == "by must be one of 'feature', 'timestep', 'cell', got 'sample'"
