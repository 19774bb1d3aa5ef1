"""The parser of the ``pyimportance`` command (pyimportance.cli.options): help for both commands and
for ``run``, required options, and each option's value checked as it is read (counts, seeds,
scales, fractions, names, groups), a bad value a usage error (exit status 2) naming the option.
"""

from __future__ import annotations

import pytest
from helpers import RUN, usage_error

from pyimportance import cli
from pyimportance.cli.options import build_parser


def test_help_exits_0_and_lists_both_commands(capsys):
    assert cli.main(["--help"]) == 0
    out = capsys.readouterr().out
    assert "demo" in out and "run" in out


def test_run_help_documents_unsafe_overwrite_and_csv_limit(capsys):
    assert cli.main(["run", "--help"]) == 0
    out = capsys.readouterr().out
    for text in ("--unsafe", "--overwrite", "--no-progress", "--absolute-scale", ".csv (2D only"):
        assert text in out


def test_missing_required_options_is_a_usage_error(capsys):
    assert cli.main(["run", "--x", "X.npy"]) == 2
    assert "the following arguments are required: --model, --out" in capsys.readouterr().err


def test_bad_group_syntax_is_a_usage_error(capsys):
    code = cli.main(["run", "--model", "m.keras", "--x", "X.npy", "--out", "r.csv", "--group", "weather"])
    assert code == 2
    assert "argument --group: expected NAME=feature1,feature2, got 'weather'" in capsys.readouterr().err


def test_unknown_method_is_a_usage_error(capsys):
    assert cli.main(["run", "--model", "m.keras", "--x", "X.npy", "--out", "r.csv", "--method", "shuffle"]) == 2
    assert "argument --method: invalid choice: 'shuffle'" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--n-repeats", "0", "argument --n-repeats: expected a positive whole number, got '0'"),
        ("--batch-size", "-5", "argument --batch-size: expected a positive whole number, got '-5'"),
        ("--seed", "-1", "argument --seed: expected a whole number >= 0, got '-1'"),
        ("--scale", "nan", "argument --scale: expected a positive number, got 'nan'"),
        ("--max-samples", "0", "argument --max-samples: expected a count >= 1 or a fraction in (0, 1], got '0'"),
        ("--max-samples", "2.5", "argument --max-samples: expected a count >= 1 or a fraction in (0, 1], got '2.5'"),
        ("--feature-names", "a,b,a", "argument --feature-names: 'a' is listed more than once in 'a,b,a'"),
        ("--group", "g=a,a", "argument --group: 'a' is listed more than once in 'a,a'"),
        ("--group", "g=", "argument --group: expected NAME=feature1,feature2, got 'g='"),
    ],
)
def test_bad_option_values_are_usage_errors(option, value, message, tmp_path, capsys):
    assert cli.main([*RUN, "--out", str(tmp_path / "r.csv"), option, value]) == 2
    assert usage_error(capsys) == f"pyimportance run: error: {message}"


def test_max_samples_takes_counts_and_fractions():
    parse = build_parser().parse_args
    base = [*RUN, "--out", "r.csv", "--max-samples"]
    assert parse([*base, "1"]).max_samples == 1 and parse([*base, "1e3"]).max_samples == 1000
    assert parse([*base, "1.0"]).max_samples == 1.0 and parse([*base, "0.25"]).max_samples == 0.25
