"""The R functions' other arguments (pyimportance.rlayer.r_arguments): one line each in the table,
converted to the engine's options, NA in a scalar argument refused, Python names refused with the R
name, groups given by names and 1-based numbers. Which lines each estimator takes:
tests/rlayer/test_estimators.py.
"""

from __future__ import annotations

import pytest
from helpers import column, double, expect_r_error, na_scalar, run_r, scalar, signal_model

from pyimportance import registry, rlayer
from pyimportance.rlayer import RValue


def test_each_argument_has_one_line_in_the_table():
    names = [argument.r_name for argument in rlayer.ARGUMENTS]
    assert len(names) == len(set(names))
    assert {"seed", "ci", "block_size", "tolerance", "output", "per_output", "mask_value", "reference",
            "n_draws", "imputer"} <= set(names)
    table = rlayer.arguments_of(registry.estimator("perturbation"))
    assert rlayer.engine_options({"seed": double([3.0]), "n_repeats": double([5.0])}, table) == {
        "random_state": 3, "n_repeats": 5}


@pytest.mark.parametrize(
    ("name", "r_type", "message"),
    [
        ("n_repeats", "integer", "n_repeats must be a single whole number, got NA"),
        ("relative_scale", "logical", "relative_scale must be TRUE or FALSE, got NA"),
        ("scale", "double", "scale must be a single number, got NA"),
        ("by", "character", "by must be a single string, got NA"),
        ("seed", "double", "seed must be a single whole number, got NA"),
    ],
)
def test_na_in_a_scalar_argument_is_refused(x3d, name, r_type, message):
    with expect_r_error(message):
        run_r(signal_model(), x3d, **{name: na_scalar(r_type)})


def test_python_names_are_refused_with_the_r_name(x3d):
    with expect_r_error("unused argument random_state (the R name is seed)"):
        run_r(signal_model(), x3d, random_state=1)


def test_groups_take_names_and_1_based_numbers(x3d):
    groups = RValue("list", names=["main", "rest"],
                    items=[scalar("signal"), double([2, 3])])
    frame = run_r(signal_model(), x3d, groups=groups, n_repeats=double([2]), seed=double([1]))
    assert list(column(frame, "feature")) == ["main", "rest"]
    settings = frame.attributes["settings"]
    groups_setting = settings.items[settings.names.index("groups")]
    assert [list(item.values) for item in groups_setting.items] == [["signal"], ["weak", "noise"]]
    with expect_r_error('groups[[\"g\"]] must hold feature names or whole numbers, got 1.5'):
        run_r(signal_model(), x3d, groups=RValue("list", names=["g"], items=[double([1.5])]))
