"""The files of ``pyimportance run`` read into what perturbation_importance takes
(pyimportance.cli.runfiles): row counts checked against each other with a header hint, one file
for ``--x`` and ``--y``, feature names from the options or the headers (per input), group members,
losses per head, reference rows, several inputs and heads from a file each or one ``.npz``,
matched to the model's inputs.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from helpers import (
    CLI_F,
    CLI_S,
    CLI_T,
    MEASURED,
    TWO_HEADS,
    WEIGHTS,
    error_line,
    read_result,
    run_on_files,
    run_two_inputs,
    run_zero,
)

from pyimportance import cli
from pyimportance.cli import runfiles
from pyimportance.cli.options import build_parser
from pyimportance.cli.usage import run_usage_problem


def test_loss_takes_keras_names_in_any_case_and_one_per_head():
    parse = build_parser().parse_args
    args = parse([*TWO_HEADS, "--loss", "Mean_Squared_Error", "--loss", "churn=BCE"])
    assert run_usage_problem(args) is None
    heads = {"sales": None, "churn": None}
    assert runfiles.losses(args.loss, heads) == {"sales": "Mean_Squared_Error", "churn": "BCE"}
    assert runfiles.losses(parse([*TWO_HEADS, "--loss", "churn=log_loss"]).loss, heads) == {
        "sales": None, "churn": "log_loss"  # None: the engine's default, mse
    }
    assert runfiles.losses(parse([*TWO_HEADS, "--loss", "MAE"]).loss, heads) == "MAE"


def test_y_csv_with_a_pandas_series_header_gets_a_hint_then_the_right_numbers(tmp_path, linear_model, capsys):
    np.save(tmp_path / "X.npy", MEASURED)
    y = np.array([1, 0, 1, 1])
    pd.Series(y).to_csv(tmp_path / "y.csv", index=False)  # header "0": one row more than X
    args = ["--x", str(tmp_path / "X.npy"), "--y", str(tmp_path / "y.csv"), "--loss", "mse"]
    assert run_zero(tmp_path, *args) == 1
    assert error_line(capsys) == (
        f"pyimportance: error: --y: {tmp_path / 'y.csv'} has 5 rows, but --x {tmp_path / 'X.npy'} has 4 samples; "
        f"y needs one row per sample; if the first row of {tmp_path / 'y.csv'} is a header, pass --y-header"
    )
    assert run_zero(tmp_path, *args, "--y-header") == 0
    baseline = np.mean((y - MEASURED @ WEIGHTS) ** 2)
    zeroed = [np.mean((y - (MEASURED @ WEIGHTS - MEASURED[:, j] * WEIGHTS[j])) ** 2) for j in range(3)]
    result = read_result(tmp_path / "r.csv").set_index("feature")["importance"]
    np.testing.assert_allclose(result[["x1", "x2", "x3"]], np.array(zeroed) - baseline, rtol=1e-12)


def test_single_number_npz_is_refused(tmp_path, linear_model, capsys):
    np.savez(tmp_path / "data.npz", x=np.float64(3.0))
    assert run_zero(tmp_path, "--x", str(tmp_path / "data.npz")) == 1
    assert error_line(capsys) == (
        f"pyimportance: error: --x: {tmp_path / 'data.npz'} holds a single number (an array of shape ()), "
        "not a data set"
    )


def test_one_file_for_x_and_y(tmp_path, linear_model, capsys):
    np.save(tmp_path / "X.npy", MEASURED)
    assert run_zero(tmp_path, "--x", str(tmp_path / "X.npy"), "--y", str(tmp_path / "X.npy")) == 1
    assert error_line(capsys) == (
        f"pyimportance: error: --y: {tmp_path / 'X.npy'} is also the --x file; only a .npz archive can hold both "
        "(arrays named x and y)"
    )
    np.savez(tmp_path / "one.npz", MEASURED)
    assert run_zero(tmp_path, "--x", str(tmp_path / "one.npz"), "--y", str(tmp_path / "one.npz")) == 1
    assert error_line(capsys).startswith(
        f"pyimportance: error: --x: {tmp_path / 'one.npz'} holds a single array 'arr_0', which --y reads too"
    )
    np.savez(tmp_path / "both.npz", x=MEASURED, y=MEASURED @ WEIGHTS)
    both = str(tmp_path / "both.npz")
    assert run_zero(tmp_path, "--x", both, "--y", both, "--loss", "mse") == 0
    zeroed = [np.mean((MEASURED[:, j] * WEIGHTS[j]) ** 2) for j in range(3)]  # baseline loss 0
    result = read_result(tmp_path / "r.csv").set_index("feature")["importance"]
    np.testing.assert_allclose(result[["x1", "x2", "x3"]], zeroed)


def test_group_members_must_be_features(tmp_path, linear_model, capsys):
    np.save(tmp_path / "X.npy", MEASURED)
    assert run_zero(tmp_path, "--x", str(tmp_path / "X.npy"), "--group", "g=1,2") == 1
    assert error_line(capsys) == (
        "pyimportance: error: --group g=1,2: no feature named '1'; the features are x1, x2, x3 "
        f"({tmp_path / 'X.npy'} has no feature names; set them with --feature-names)"
    )
    (tmp_path / "X.csv").write_text("temp,price,ads\n1,2,3\n4,5,6.5\n")
    assert run_zero(tmp_path, "--x", str(tmp_path / "X.csv"), "--group", "weather=temp,humidity") == 1
    assert error_line(capsys) == (
        "pyimportance: error: --group weather=temp,humidity: no feature named 'humidity'; the features are temp, "
        "price, ads"
    )
    assert run_zero(tmp_path, "--x", str(tmp_path / "X.npy"), "--feature-names", "a,b,c", "--group", "ab=a,b") == 0
    result = read_result(tmp_path / "r.csv").set_index("feature")["importance"]
    assert result.index.tolist() == ["ab"]
    assert result["ab"] == pytest.approx(np.abs(MEASURED[:, :2] @ WEIGHTS[:2]).mean(), rel=1e-12)


def test_feature_names_must_match_the_features(tmp_path, linear_model, capsys):
    np.save(tmp_path / "X.npy", MEASURED)
    assert run_zero(tmp_path, "--x", str(tmp_path / "X.npy"), "--feature-names", "a,b") == 1
    assert error_line(capsys) == (
        f"pyimportance: error: --feature-names: 2 names given for the 3 features of {tmp_path / 'X.npy'}"
    )


def _seq_and_static(X):
    """A stand-in two-input model: the last step of the sequence input plus the static input."""
    return X["seq"][:, -1, :] @ WEIGHTS + X["static"] @ np.array([0.5, -1.0])


def test_feature_names_of_several_inputs_come_per_input_from_the_options_or_headers(tmp_path, monkeypatch, capsys):
    from pyimportance import perturbation_importance

    monkeypatch.setattr("pyimportance.cli.files.load_model", lambda path, **kwargs: _seq_and_static)
    X = {"seq": np.stack([MEASURED, 2 * MEASURED], axis=1), "static": MEASURED[:, :2]}
    np.save(tmp_path / "seq.npy", X["seq"])
    pd.DataFrame(X["static"], columns=["store", "price"]).to_csv(tmp_path / "static.csv", index=False)
    x = ["--x", f"seq={tmp_path / 'seq.npy'}", "--x", f"static={tmp_path / 'static.csv'}"]
    assert run_zero(tmp_path, *x, "--feature-names", "seq=temp,ads,wind") == 0
    expected = perturbation_importance(_seq_and_static, X, method="zero", random_state=0,
                                       feature_names={"seq": ["temp", "ads", "wind"], "static": ["store", "price"]})
    pd.testing.assert_frame_equal(read_result(tmp_path / "r.csv"), expected.to_frame())
    assert capsys.readouterr().err.splitlines()[-1] == (
        "computing perturbation importance on X of shapes seq (4, 2, 3), static (4, 2) (2 repeats per unit) ..."
    )
    for names, message in [
        ("temp,ads,wind", "--feature-names temp,ads,wind: --x holds several inputs ('seq', 'static'); give "
                          "--feature-names INPUT=a,b,c for each"),
        ("other=a,b", "--feature-names other=a,b: there is no --x input 'other'; the inputs are 'seq', 'static'"),
        ("seq=a,b", f"--feature-names seq: 2 names given for the 3 features of {tmp_path / 'seq.npy'}"),
    ]:
        assert run_zero(tmp_path, *x, "--feature-names", names, "--overwrite") == 1
        assert error_line(capsys) == f"pyimportance: error: {message}"
    np.save(tmp_path / "X.npy", MEASURED)
    assert run_zero(tmp_path, "--x", str(tmp_path / "X.npy"), "--feature-names", "seq=a,b,c", "--overwrite") == 1
    assert error_line(capsys) == (
        "pyimportance: error: --feature-names seq=a,b,c: names an input, but --x is one input; use "
        "--feature-names a,b,c"
    )


def test_inputs_of_different_lengths_are_refused_naming_both_files(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr("pyimportance.cli.files.load_model", lambda path, **kwargs: _seq_and_static)
    np.save(tmp_path / "seq.npy", np.zeros((4, 2, 3)))
    (tmp_path / "static.csv").write_text("1,2\n3,4\n5,6\n7,8\n9,10\n")  # a header of numbers, read as data
    assert run_zero(tmp_path, "--x", f"seq={tmp_path / 'seq.npy'}", "--x", f"static={tmp_path / 'static.csv'}") == 1
    assert error_line(capsys) == (
        f"pyimportance: error: --x static: {tmp_path / 'static.csv'} has 5 rows, but --x seq {tmp_path / 'seq.npy'} "
        f"has 4 samples; every input needs one row per sample; if the first row of {tmp_path / 'static.csv'} is a "
        "header, pass --x-header"
    )


def test_conditional_method_is_fitted_on_the_reference_rows(tmp_path, linear_model, rows_3000):
    from pyimportance import perturbation_importance

    X, y = rows_3000
    correlated = X.copy()
    correlated[:, 1] = 0.8 * X[:, 0] + 0.6 * X[:, 1]
    np.save(tmp_path / "X.npy", correlated[:500])
    np.save(tmp_path / "y.npy", y[:500])
    np.save(tmp_path / "train.npy", correlated[500:])
    assert run_on_files(tmp_path, "--y", str(tmp_path / "y.npy"), "--method", "conditional",
                         "--reference", str(tmp_path / "train.npy")) == 0
    expected = perturbation_importance(lambda rows: rows @ WEIGHTS, correlated[:500], y[:500], method="conditional",
                                       n_repeats=2, random_state=1, reference=correlated[500:])
    result = read_result(tmp_path / "r.csv")
    pd.testing.assert_frame_equal(result, expected.to_frame())
    on_own_rows = perturbation_importance(lambda rows: rows @ WEIGHTS, correlated[:500], y[:500],
                                          method="conditional", n_repeats=2, random_state=1).to_frame()
    assert not np.array_equal(result["importance"], on_own_rows["importance"])


# --- with Keras ------------------------------------------------------------------------------------


@pytest.mark.keras
def test_run_on_a_csv_takes_feature_names_from_its_header(keras_module, tmp_path):
    keras = keras_module
    keras.utils.set_random_seed(2)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.save(tmp_path / "dense.keras")
    rng = np.random.default_rng(0)
    pd.DataFrame(rng.normal(size=(30, 3)), columns=["temp", "price", "ads"]).to_csv(tmp_path / "X.csv", index=False)
    code = cli.main(["run", "--model", str(tmp_path / "dense.keras"), "--x", str(tmp_path / "X.csv"),
                     "--n-repeats", "2", "--seed", "0", "--out", str(tmp_path / "r.csv")])
    assert code == 0
    assert sorted(read_result(tmp_path / "r.csv")["feature"]) == ["ads", "price", "temp"]


# --- a functional Keras model with a sequence and a static input, padding and two heads -------------


@pytest.mark.keras
def test_two_inputs_from_a_file_each_and_two_heads_reported_per_output(two_inputs, tmp_path, capsys):
    from pyimportance import perturbation_importance
    from pyimportance.cli.files import load_array

    model, directory, data, targets, _ = two_inputs
    out = tmp_path / "r.csv"
    files = ["--x", f"seq={directory / 'seq.npy'}", "--x", f"static={directory / 'static.csv'}",
             "--y", f"sales={directory / 'sales.npy'}", "--y", f"churn={directory / 'churn.npy'}",
             "--loss", "churn=log_loss", "--feature-names", "seq=a,b,c"]
    assert run_two_inputs(directory, out, *files, "--per-output") == 0
    X = {"seq": data["seq"], "static": load_array(directory / "static.csv").values}
    expected = perturbation_importance(
        model, X, targets, loss={"sales": None, "churn": "log_loss"}, per_output=True, method="permute",
        n_repeats=2, random_state=3, feature_names={"seq": ["a", "b", "c"], "static": ["store", "price"]},
    )
    frame = read_result(out)
    pd.testing.assert_frame_equal(frame, expected.to_frame())
    assert frame.columns.tolist()[:2] == ["feature", "output"]
    assert sorted(set(frame["output"])) == ["churn", "sales"] and len(frame) == 2 * (CLI_F + CLI_S)
    assert sorted(set(frame["feature"])) == ["a", "b", "c", "price", "store"]
    assert "loss 'mse+log_loss'" in capsys.readouterr().out
    assert run_two_inputs(directory, out, *files, "--output", "churn", "--overwrite") == 0
    only_churn = perturbation_importance(
        model, X, targets, loss={"sales": None, "churn": "log_loss"}, output=["churn"], method="permute",
        n_repeats=2, random_state=3, feature_names={"seq": ["a", "b", "c"], "static": ["store", "price"]},
    )
    pd.testing.assert_frame_equal(read_result(out), only_churn.to_frame())


@pytest.mark.keras
def test_two_inputs_from_one_npz_by_cell(two_inputs, tmp_path):
    from pyimportance import perturbation_importance

    model, directory, data, _, _ = two_inputs
    assert run_two_inputs(directory, tmp_path / "r.csv", "--x", str(directory / "data.npz"), "--by", "cell") == 0
    expected = perturbation_importance(model, data, by="cell", method="permute", n_repeats=2, random_state=3)
    cells = read_result(tmp_path / "r.csv", dtype={"timestep": "Int64"})
    pd.testing.assert_frame_equal(cells, expected.to_frame())
    # a static feature has no time step
    assert len(cells) == CLI_T * CLI_F + CLI_S and cells["timestep"].isna().sum() == CLI_S


@pytest.mark.keras
def test_conditional_method_with_a_reference_file_per_input(two_inputs, tmp_path):
    from pyimportance import perturbation_importance

    model, directory, data, targets, reference = two_inputs
    assert run_two_inputs(
        directory, tmp_path / "r.csv", "--x", str(directory / "data.npz"), "--y", f"sales={directory / 'sales.npy'}",
        "--y", f"churn={directory / 'churn.npy'}", "--loss", "churn=log_loss", "--method", "conditional",
        "--reference", f"seq={directory / 'train_seq.npy'}", "--reference", f"static={directory / 'train_static.npy'}",
    ) == 0
    expected = perturbation_importance(model, data, targets, loss={"sales": "mse", "churn": "log_loss"},
                                       method="conditional", reference=reference, n_repeats=2, random_state=3)
    pd.testing.assert_frame_equal(read_result(tmp_path / "r.csv"), expected.to_frame())


@pytest.mark.keras
def test_inputs_that_do_not_match_the_model_inputs_are_named_in_the_error(two_inputs, tmp_path, capsys):
    _, directory, _, _, _ = two_inputs
    np.savez(tmp_path / "ab.npz", a=np.zeros((40, CLI_T, CLI_F)), b=np.zeros((40, CLI_S)))
    cases = [
        (["--x", str(directory / "seq.npy")],
         "--x: the model has 2 inputs ('seq', 'static'); give one --x NAME=FILE per input, or one .npz holding an "
         "array of each name"),
        (["--x", f"seq={directory / 'seq.npy'}", "--x", f"store={directory / 'static.npy'}"],
         "--x: the model's inputs are 'seq', 'static', got 'seq', 'store'; give one --x NAME=FILE per model input"),
        (["--x", str(tmp_path / "ab.npz")],
         f"--x: {tmp_path / 'ab.npz'} holds the arrays 'a', 'b', but the model's inputs are 'seq', 'static'; save "
         "one array per input under the input's name"),
    ]
    for x, message in cases:
        assert run_two_inputs(directory, tmp_path / "r.csv", *x) == 1
        assert error_line(capsys) == f"pyimportance: error: {message}"
    assert not (tmp_path / "r.csv").exists()


def test_feature_names_that_disagree_with_the_csv_header_are_refused_naming_both(tmp_path, linear_model, capsys):
    # before: --feature-names relabelled the header's columns by position, silently
    pd.DataFrame(MEASURED, columns=["c", "a", "b"]).to_csv(tmp_path / "X.csv", index=False)
    x = ["--x", str(tmp_path / "X.csv")]
    assert run_zero(tmp_path, *x, "--feature-names", "a,b,c") == 1
    assert error_line(capsys) == (
        f"pyimportance: error: --feature-names a,b,c disagrees with the header of {tmp_path / 'X.csv'} (c,a,b) "
        "(the same names in another order): the names would label the columns by position; leave --feature-names "
        "out (the header names the columns) or make the header and --feature-names agree"
    )
    assert run_zero(tmp_path, *x, "--feature-names", "u,v,w", "--overwrite") == 1
    assert "--feature-names u,v,w disagrees with the header" in error_line(capsys)
    assert run_zero(tmp_path, *x, "--feature-names", "c,a,b", "--overwrite") == 0  # agreeing names are taken
    result = read_result(tmp_path / "r.csv").set_index("feature")["importance"]
    zeroed = [np.abs(MEASURED[:, j] * WEIGHTS[j]).mean() for j in range(3)]  # |change| when a column is zeroed
    np.testing.assert_allclose(result[["c", "a", "b"]], zeroed, rtol=1e-12)


def test_a_long_form_x_csv_gets_the_reshape_to_a_3d_array(tmp_path, linear_model, capsys):
    long = np.repeat(MEASURED, 2, axis=0)  # 4 samples of 2 time steps, one row each
    pd.DataFrame(long, columns=["a", "b", "c"]).to_csv(tmp_path / "X.csv", index=False)
    np.save(tmp_path / "y.npy", np.arange(4.0))
    assert run_zero(tmp_path, "--x", str(tmp_path / "X.csv"), "--y", str(tmp_path / "y.npy")) == 1
    assert error_line(capsys) == (
        f"pyimportance: error: --y: {tmp_path / 'y.npy'} has 4 rows, but --x {tmp_path / 'X.csv'} has 8 samples; "
        f"y needs one row per sample; if {tmp_path / 'X.csv'} is in long form (one row per sample and time step: 4 "
        "samples of 2 steps, sorted by sample, then time), save it as a 3D array: "
        "np.save('X.npy', X.reshape(4, 2, 3)) and pass --x X.npy"
    )
