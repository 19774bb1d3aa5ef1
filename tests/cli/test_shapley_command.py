"""``pyimportance shapley``: the run's files and options, Shapley importance's own (--n-draws, --n-repeats as
orders), the same numbers as the Python call, and the usage errors of options it does not take."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from helpers import WEIGHTS, read_result

from pyimportance import cli, shapley_importance
from pyimportance.cli.options import build_parser


def test_shapley_writes_the_same_numbers_as_the_python_call(tmp_path, linear_model, rows_3000, capsys):
    X, y = rows_3000
    out = tmp_path / "shapley.csv"
    code = cli.main(["shapley", "--model", "m.keras", "--x", str(tmp_path / "X.npy"), "--y", str(tmp_path / "y.npy"),
                     "--n-draws", "4", "--seed", "3", "--max-samples", "500", "--no-progress", "--out", str(out)])
    assert code == 0
    expected = shapley_importance(lambda x: np.asarray(x) @ WEIGHTS, X, y, n_draws=4, random_state=3,
                                  max_samples=500)
    pd.testing.assert_frame_equal(read_result(out), expected.to_frame())
    stdout = capsys.readouterr().out
    assert stdout.startswith(expected.summary() + "\nSeed: 3\n")
    assert stdout.splitlines()[0].startswith("Shapley importance (SAGE) by feature: marginal imputation, 4 draws")


def test_shapley_defaults_are_its_own_table_and_it_has_no_method():
    args = build_parser().parse_args(["shapley", "--model", "m.keras", "--x", "X.npy", "--out", "r.csv"])
    assert (args.n_repeats, args.n_draws, args.imputer) == (2, 8, "marginal")
    assert not hasattr(args, "method") and not hasattr(args, "reference")
    with pytest.raises(SystemExit):
        build_parser().parse_args(["shapley", "--model", "m.keras", "--x", "X.npy", "--out", "r.csv",
                                   "--method", "permute"])


def test_one_draw_is_an_error_in_one_line(tmp_path, linear_model, rows_3000, capsys):
    code = cli.main(["shapley", "--model", "m.keras", "--x", str(tmp_path / "X.npy"), "--y", str(tmp_path / "y.npy"),
                     "--n-draws", "1", "--out", str(tmp_path / "r.csv")])
    assert code == 1
    assert capsys.readouterr().err.strip().endswith(
        "error: n_draws must be at least 2 (the bias of the average is removed with its draws), got 1")


def test_imputer_conditional_reaches_the_engine(tmp_path, linear_model, rows_3000):
    X, y = rows_3000
    out = tmp_path / "conditional.csv"
    code = cli.main(["shapley", "--model", "m.keras", "--x", str(tmp_path / "X.npy"), "--y", str(tmp_path / "y.npy"),
                     "--imputer", "conditional", "--seed", "1", "--max-samples", "300", "--no-progress",
                     "--out", str(out)])
    assert code == 0
    expected = shapley_importance(lambda x: np.asarray(x) @ WEIGHTS, X, y, imputer="conditional", random_state=1,
                                  max_samples=300)
    pd.testing.assert_frame_equal(read_result(out), expected.to_frame())


def test_a_group_leaving_features_out_makes_them_units_of_their_own(tmp_path, linear_model, rows_3000, capsys):
    X, y = rows_3000
    out = tmp_path / "grouped.csv"
    code = cli.main(["shapley", "--model", "m.keras", "--x", str(tmp_path / "X.npy"), "--y", str(tmp_path / "y.npy"),
                     "--group", "g=x2,x3", "--seed", "1", "--max-samples", "500", "--no-progress", "--out", str(out)])
    assert code == 0
    written = read_result(out).set_index("feature")["importance"]
    assert sorted(written.index) == ["g", "x1"]
    expected = shapley_importance(lambda x: np.asarray(x) @ WEIGHTS, X, y, groups={"g": ["x2", "x3"]},
                                  random_state=1, max_samples=500)
    pd.testing.assert_frame_equal(read_result(out), expected.to_frame())
    assert "Features outside every group, each a unit of its own: x1" in capsys.readouterr().out
