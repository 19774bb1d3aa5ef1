"""The command line follows the estimator registry (pyimportance.registry.ESTIMATORS): a subcommand per
entry, with an option for each setting the entry offers the command line and none for any other, the
entry's defaults and choices, the settings reaching the entry's function, and each subcommand end to end
on a saved Keras model."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from helpers import CLI_F, CLI_T, read_result

from pyimportance import cli, terms
from pyimportance.cli.options import TEXTS, build_parser, has_row_maps
from pyimportance.registry import ESTIMATORS

ENTRIES = pytest.mark.parametrize("entry", ESTIMATORS, ids=lambda entry: entry.command)

# The options every estimator's subcommand has, whatever its settings: its files, outputs and --help.
FILE_OPTIONS = {"-h", "--model", "--x", "--y", "--x-header", "--y-header", "--out", "--plot", "--overwrite", "--unsafe"}

# Settings the command line spells its own way; the others are terms.CLI's name (random_state: --seed).
SPELLED = {"relative_scale": {"--absolute-scale"}, "mask_value": {"--mask-value", "--no-mask"},
           "reference": {"--reference", "--reference-header"}}


def _flags(setting: str) -> set[str]:
    return SPELLED.get(setting, {terms.CLI.name_of(setting)})


def _parser(entry):
    """The subcommand's parser (the command sets it as ``args.parser``)."""
    return build_parser().parse_args([entry.command, "--model", "m.keras", "--x", "X.npy", "--out", "r.csv"]).parser


def _options(parser) -> dict[str, object]:
    """Each option of ``parser`` by its first flag (``--progress`` for --progress/--no-progress)."""
    return {action.option_strings[0]: action for action in parser._actions if action.option_strings}


@ENTRIES
def test_each_estimator_is_a_subcommand_whose_options_are_the_settings_it_offers_the_command_line(entry):
    offered = set().union(*(_flags(setting.name) for setting in entry.offered("cli")))
    maps = {"--attributions"} if has_row_maps(entry) else set()  # the per-row maps' file, where there are maps
    assert set(_options(_parser(entry))) == FILE_OPTIONS | maps | offered
    assert has_row_maps(entry) is (entry.name == "sensitivity")


def test_a_subcommand_has_no_option_for_a_setting_its_estimator_does_not_offer():
    by_command = {entry.command: set(_options(_parser(entry))) for entry in ESTIMATORS}
    assert {"--method", "--scale", "--absolute-scale", "--reference", "--reference-header"}.isdisjoint(
        by_command["shapley"])
    assert {"--n-draws", "--imputer"}.isdisjoint(by_command["run"])
    assert "--learner" not in set().union(*by_command.values())  # a Python object: no command-line spelling


@ENTRIES
def test_the_choices_of_an_option_are_its_estimators(entry):
    found = _options(_parser(entry))
    assert {name: tuple(found[terms.CLI.name_of(name)].choices) for name in entry.choices} == dict(entry.choices)


@ENTRIES
def test_the_help_of_the_count_says_what_the_estimator_counts_and_its_default(entry, capsys):
    assert cli.main([entry.command, "--help"]) == 0
    help_text = " ".join(capsys.readouterr().out.split())
    count = TEXTS[entry.command].count
    assert TEXTS[entry.command].helps[count] % {"default": entry.defaults()[count]} in help_text
    assert f"{terms.CLI.name_of(count)} N" in help_text


@ENTRIES
def test_without_options_the_function_gets_the_entrys_defaults(entry, tmp_path, arrays, linear_model,
                                                               estimator_function, capsys):
    calls = []

    def recording(model, X, y=None, **settings):
        calls.append(settings)
        raise ValueError("recorded")  # no need to compute

    estimator_function(entry.name, recording)
    assert cli.main([entry.command, "--model", "m.keras", "--x", str(tmp_path / "X.npy"),
                     "--out", str(tmp_path / "r.csv")]) == 1
    assert capsys.readouterr().err.splitlines()[-1] == "pyimportance: error: recorded"
    defaults = entry.defaults()
    assert calls == [{setting.name: defaults[setting.name] for setting in entry.offered("cli")}]


@ENTRIES
def test_a_rule_between_settings_is_a_usage_error_of_every_subcommand(entry, capsys):
    code = cli.main([entry.command, "--model", "m.keras", "--x", "X.npy", "--out", "r.csv", "--loss", "mae"])
    assert code == 2
    assert capsys.readouterr().err.strip().splitlines()[-1] == (
        f"pyimportance {entry.command}: error: --loss mae needs --y (the true targets); without --y the importance "
        "is the prediction change"
    )


@pytest.mark.parametrize("entry", [entry for entry in ESTIMATORS if "repeats" in entry.choices["ci"]],
                         ids=lambda entry: entry.command)
def test_block_size_with_ci_repeats_is_a_usage_error_where_ci_repeats_is_offered(entry, capsys):
    code = cli.main([entry.command, "--model", "m.keras", "--x", "X.npy", "--out", "r.csv", "--ci", "repeats",
                     "--block-size", "5"])
    assert code == 2
    assert capsys.readouterr().err.strip().splitlines()[-1] == (
        f"pyimportance {entry.command}: error: --block-size applies to --ci data (the block bootstrap over rows), "
        "got --ci repeats"
    )


# Small runs: few repeats, few draws, few path points (the options an entry does not offer are left out).
SMALL = {"n_repeats": 2, "n_draws": 2, "n_steps": 8}


@pytest.mark.keras
@ENTRIES
def test_each_subcommand_computes_its_estimators_result_on_a_saved_model(entry, saved_models, tmp_path, arrays,
                                                                          capsys):
    model, models = saved_models
    X, y = arrays
    small = {name: value for name, value in SMALL.items() if name in entry.defaults()}
    out = tmp_path / "r.csv"
    extra = [text for name, value in small.items() for text in (terms.CLI.name_of(name), str(value))]
    assert cli.main([entry.command, "--model", str(models / "model.keras"), "--x", str(tmp_path / "X.npy"),
                     "--y", str(tmp_path / "y.npy"), "--seed", "1", "--no-progress", "--out", str(out), *extra]) == 0
    expected = entry.function(model, X, y, random_state=1, progress=False, **small)
    assert isinstance(expected, entry.result_class)
    assert expected.settings["estimator"] == entry.name
    written = read_result(out)
    assert sorted(written["feature"]) == [f"x{j + 1}" for j in range(CLI_F)]
    pd.testing.assert_frame_equal(written, expected.to_frame())
    captured = capsys.readouterr()
    assert captured.out.startswith(expected.summary() + "\nSeed: 1\n")
    assert captured.out.splitlines()[-1] == f"Wrote {out}"
    assert captured.err.splitlines()[-1] == (
        f"computing {entry.title} on X of shape ({len(X)}, {CLI_T}, {CLI_F}) ({small[TEXTS[entry.command].count]} "
        f"{TEXTS[entry.command].counted}) ..."
    )
    assert np.isfinite(written["importance"]).all()
