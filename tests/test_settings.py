"""The table of settings (pyimportance.settings) is what the Python signature, the command line and the R
layer offer, and each rule between settings gives one answer, in Python's, R's and the command line's terms."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

from pyimportance import perturbation_importance, registry, rlayer, settings, terms
from pyimportance.cli.options import build_parser

RUN = ["run", "--model", "m.keras", "--x", "X.npy", "--out", "r.csv"]


def test_the_signature_lists_the_settings_in_order_with_the_tables_defaults():
    parameters = inspect.signature(perturbation_importance).parameters
    assert list(parameters) == [setting.name for setting in settings.SETTINGS]
    for setting in settings.SETTINGS:
        default = parameters[setting.name].default
        expected = inspect.Parameter.empty if setting.default is settings.REQUIRED else setting.default
        assert default == expected, setting.name
        keyword_only = setting.name not in ("model", "X", "y")
        assert (parameters[setting.name].kind is inspect.Parameter.KEYWORD_ONLY) == keyword_only, setting.name


def test_the_r_layer_converts_exactly_the_settings_r_offers():
    for entry in registry.ESTIMATORS:
        assert [a.engine_name for a in rlayer.arguments_of(entry)] == [s.name for s in entry.offered("r")]
    offered = {setting.name for entry in registry.ESTIMATORS for setting in entry.offered("r")}
    assert sorted(argument.engine_name for argument in rlayer.ARGUMENTS) == sorted(offered)
    assert [argument.r_name for argument in rlayer.ARGUMENTS if argument.r_name != argument.engine_name] == ["seed"]


def _run_option(name: str):
    """The ``pyimportance run`` option of a setting (argparse keeps them in ``_actions``)."""
    run = build_parser()._subparsers._group_actions[0].choices["run"]
    return next(action for action in run._actions if terms.CLI.name_of(name) in action.option_strings)


@pytest.mark.parametrize("setting", [s for s in settings.SETTINGS if s.in_cli and s.name not in
                                     ("model", "X", "y", "relative_scale", "mask_value")], ids=lambda s: s.name)
def test_each_command_line_option_has_the_tables_name_and_default(setting):
    option = _run_option(setting.name)
    assert option.default == setting.default
    assert option.option_strings[0] == terms.CLI.name_of(setting.name)


def test_the_two_command_line_options_that_invert_or_split_a_setting_keep_its_default():
    args = build_parser().parse_args(RUN)
    assert not args.absolute_scale and settings.DEFAULTS["relative_scale"] is True
    assert args.mask_value is None and not args.no_mask and settings.DEFAULTS["mask_value"] == "auto"


def test_settings_the_command_line_lacks_are_marked_so():
    lacking = sorted(setting.name for setting in settings.SETTINGS if not setting.in_cli)
    assert lacking == ["categorical", "executor", "jit_compile", "learner", "task_size"]
    for name in lacking:
        with pytest.raises(StopIteration):
            _run_option(name)


BLOCK_SIZE_RULE = {"block_size": 5, "ci": "repeats"}


@pytest.mark.parametrize(("vocabulary", "message"), [
    (terms.PYTHON, "block_size applies to ci='data' (the block bootstrap over rows), got ci='repeats'"),
    (terms.R, 'block_size applies to ci = "data" (the block bootstrap over rows), got ci = "repeats"'),
    (terms.CLI, "--block-size applies to --ci data (the block bootstrap over rows), got --ci repeats"),
], ids=["python", "r", "cli"])
def test_one_rule_gives_one_answer_in_each_callers_terms(vocabulary, message):
    with terms.speaking(vocabulary):
        assert settings.rule_problem(BLOCK_SIZE_RULE) == message


def test_the_engine_refuses_block_size_with_the_repeats_interval():
    X = np.random.default_rng(0).normal(size=(30, 3, 2))
    with pytest.raises(ValueError) as error:
        perturbation_importance(lambda x: x[:, -1, 0], X, ci="repeats", block_size=5)
    assert str(error.value) == "block_size applies to ci='data' (the block bootstrap over rows), got ci='repeats'"


def test_the_command_line_refuses_block_size_with_the_repeats_interval_before_reading_a_file(capsys):
    from pyimportance.cli import main

    assert main([*RUN, "--ci", "repeats", "--block-size", "5"]) == 2  # m.keras and X.npy do not exist
    assert capsys.readouterr().err.rstrip().endswith(
        "error: --block-size applies to --ci data (the block bootstrap over rows), got --ci repeats")


@pytest.mark.parametrize(("values", "python", "cli"), [
    ({"loss": "mae", "y": None},
     "loss='mae' needs y (the true targets); pass y or leave loss=None",
     "--loss mae needs --y (the true targets); without --y the importance is the prediction change"),
    ({"loss": {"a": None, "b": "mae"}, "y": None},
     "loss='mae' needs y (the true targets); pass y or leave loss=None",
     "--loss mae needs --y (the true targets); without --y the importance is the prediction change"),
    ({"groups": {"g": ["x1"]}, "by": "timestep"},
     "groups cannot be used with by='timestep', which perturbs all features of a time step together; use "
     "by='cell' for each group at each time step, or by='feature'",
     "--group cannot be used with --by timestep, which perturbs all features of a time step together; use "
     "--by cell for each group at each time step, or --by feature"),
    ({"reference": np.zeros((2, 2)), "method": "permute"},
     "reference is used by method='conditional' only, got method='permute'",
     "--reference is used by --method conditional only, got --method permute"),
], ids=["loss-needs-y", "a-loss-of-a-dict-needs-y", "groups-not-by-timestep", "reference-needs-conditional"])
def test_each_rule_reads_in_python_and_on_the_command_line(values, python, cli):
    assert settings.rule_problem(values) == python
    with terms.speaking(terms.CLI):
        assert settings.rule_problem(values) == cli


def test_rules_of_settings_a_caller_does_not_have_are_not_applied():
    assert settings.rule_problem({"task_size": 4}) is None  # the command line has no executor
    assert settings.rule_problem({"task_size": 4, "executor": None}) == "task_size needs an executor, got executor=None"


def test_nothing_is_said_about_settings_that_go_together():
    values = {"loss": "mse", "y": np.zeros(3), "groups": {"g": [0]}, "by": "cell", "task_size": None,
              "executor": None, "block_size": 5, "ci": "data", "reference": np.zeros((2, 2)), "method": "conditional"}
    assert settings.rule_problem(values) is None
