"""``--sample-weight FILE`` on the command line: one weight per row of --x, the engine's weighted numbers, and
the file's problems as one line naming the option."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import WEIGHTS, error_line, read_result, run_on_files

from pyimportance import cli, perturbation_importance


def _model(x):
    return np.asarray(x) @ WEIGHTS


def test_a_weights_csv_gives_the_engines_weighted_numbers(tmp_path, linear_model, rows_3000):
    X, y = rows_3000
    weights = np.random.default_rng(4).uniform(0.0, 2.0, size=len(X))
    (tmp_path / "w.csv").write_text("weight\n" + "\n".join(repr(float(value)) for value in weights) + "\n")
    assert run_on_files(tmp_path, "--y", str(tmp_path / "y.npy"), "--method", "zero",
                        "--sample-weight", str(tmp_path / "w.csv")) == 0
    table = read_result(tmp_path / "r.csv").set_index("feature")
    expected = perturbation_importance(_model, X, y, method="zero", sample_weight=weights)
    np.testing.assert_allclose(table.loc[["x1", "x2", "x3"], "importance"], expected.importances_mean, rtol=1e-12)
    by_hand = [np.sum(weights * ((X @ WEIGHTS - X[:, j] * WEIGHTS[j] - y) ** 2 - (X @ WEIGHTS - y) ** 2))
               / weights.sum() for j in range(3)]
    np.testing.assert_allclose(expected.importances_mean, by_hand, rtol=1e-10)
    np.save(tmp_path / "w.npy", weights)
    assert run_on_files(tmp_path, "--y", str(tmp_path / "y.npy"), "--method", "zero", "--overwrite",
                        "--sample-weight", str(tmp_path / "w.npy")) == 0
    np.testing.assert_allclose(read_result(tmp_path / "r.csv").set_index("feature").loc[["x1", "x2", "x3"],
                                                                                        "importance"],
                               expected.importances_mean, rtol=1e-12)


@pytest.mark.parametrize(("weights", "message"), [
    (np.ones((3000, 2)), "--sample-weight: {path} must hold one weight per row (one column), got an array of shape "
                         "(3000, 2)"),
    (np.ones(10), "--sample-weight: {path} has 10 rows, but --x {x} has 3000 samples; --sample-weight needs one "
                  "weight per sample"),
    (np.r_[-1.0, np.ones(2999)], "sample_weight must be finite and >= 0, got -1.0 at sample_weight[0]"),
])
def test_a_bad_weights_file_is_one_line_naming_the_option(tmp_path, linear_model, rows_3000, capsys, weights,
                                                          message):
    np.save(tmp_path / "w.npy", weights)
    assert run_on_files(tmp_path, "--sample-weight", str(tmp_path / "w.npy")) == 1
    assert error_line(capsys) == "pyimportance: error: " + message.format(path=tmp_path / "w.npy",
                                                                        x=tmp_path / "X.npy")


def test_the_help_names_the_option(capsys):
    try:
        cli.main(["run", "--help"])
    except SystemExit:
        pass
    assert "--sample-weight FILE" in capsys.readouterr().out
