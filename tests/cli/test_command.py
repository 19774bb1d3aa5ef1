"""The ``pyimportance`` command line and its file handling (pyimportance.cli, pyimportance.io).

Most tests call ``cli.main([...])`` in-process; one runs the installed console script. Tests
that build or load Keras models are marked ``keras``; the rest need no TensorFlow.
"""

from __future__ import annotations

import os
import pickle
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pyimportance import cli, runfiles

T, F = 4, 3  # time steps and features of the tiny model's input


def _files(directory: Path) -> list[str]:
    return sorted(path.name for path in directory.iterdir())


def _read(path: Path, **options) -> pd.DataFrame:
    # pandas < 3 reads decimals exactly only with float_precision="round_trip"; pandas 3 always does.
    exact = {"float_precision": "round_trip"} if int(pd.__version__.split(".")[0]) < 3 else {}
    return pd.read_csv(path, **exact, **options)


@pytest.fixture()
def arrays(tmp_path):
    """X (40, T, F) and y (40,) saved as .npy files."""
    rng = np.random.default_rng(3)
    X = rng.normal(size=(40, T, F)).astype(np.float32)
    y = (X[:, -1, 0] * 2.0 + X[:, 0, 1]).astype(np.float64)
    np.save(tmp_path / "X.npy", X)
    np.save(tmp_path / "y.npy", y)
    return X, y


def _error_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert "Traceback" not in "\n".join(err)
    return err[-1]


# --- usage and help ------------------------------------------------------------------------


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


# --- input files -----------------------------------------------------------------------------


def test_missing_x_file_names_the_option(tmp_path, capsys):
    missing = tmp_path / "nope.npy"
    code = cli.main(["run", "--model", "m.keras", "--x", str(missing), "--out", str(tmp_path / "r.csv")])
    assert code == 1
    assert _error_line(capsys) == f"pyimportance: error: --x: file not found: {missing}"


def test_unknown_extension_names_the_option(tmp_path, arrays, capsys):
    (tmp_path / "y.txt").write_text("1\n2\n")
    code = cli.main(
        ["run", "--model", "m.keras", "--x", str(tmp_path / "X.npy"), "--y", str(tmp_path / "y.txt"),
         "--out", str(tmp_path / "r.csv")]
    )
    assert code == 1
    assert _error_line(capsys) == (
        f"pyimportance: error: --y: unsupported file type '.txt' for {tmp_path / 'y.txt'}; use .npy, .npz, .csv"
    )


def test_missing_model_file_and_wrong_model_extension(tmp_path, arrays, capsys):
    base = ["run", "--x", str(tmp_path / "X.npy"), "--out", str(tmp_path / "r.csv")]
    assert cli.main([*base, "--model", str(tmp_path / "m.keras")]) == 1
    assert _error_line(capsys) == f"pyimportance: error: --model: file not found: {tmp_path / 'm.keras'}"
    (tmp_path / "m.pkl").write_bytes(pickle.dumps({"not": "a model"}))
    assert cli.main([*base, "--model", str(tmp_path / "m.pkl")]) == 1
    assert _error_line(capsys) == (
        f"pyimportance: error: --model: unsupported file type '.pkl' for {tmp_path / 'm.pkl'}; "
        "use .keras, .h5, .hdf5"
    )


def test_object_array_npy_is_refused(tmp_path, capsys):
    path = tmp_path / "X.npy"
    np.save(path, np.array([{"a": 1}, None], dtype=object), allow_pickle=True)
    code = cli.main(["run", "--model", "m.keras", "--x", str(path), "--out", str(tmp_path / "r.csv")])
    assert code == 1
    assert _error_line(capsys) == (
        f"pyimportance: error: --x: {path} holds Python objects (pickled data), which pyimportance never loads; "
        "save a numeric array instead (numpy.save(path, array.astype(float)))"
    )


# --- outputs: never overwritten by default, always written atomically --------------------------


def test_existing_output_is_not_overwritten(tmp_path, arrays, capsys):
    out = tmp_path / "result.csv"
    out.write_text("keep me\n")
    code = cli.main(["run", "--model", "m.keras", "--x", str(tmp_path / "X.npy"), "--out", str(out)])
    assert code == 1
    assert _error_line(capsys) == f"pyimportance: error: --out: {out} already exists; pass --overwrite to replace it"
    assert out.read_text() == "keep me\n"


def test_existing_plot_is_not_overwritten(tmp_path, arrays, capsys):
    plot = tmp_path / "plot.png"
    plot.write_bytes(b"old")
    code = cli.main(
        ["run", "--model", "m.keras", "--x", str(tmp_path / "X.npy"), "--out", str(tmp_path / "r.csv"),
         "--plot", str(plot)]
    )
    assert code == 1
    assert _error_line(capsys) == f"pyimportance: error: --plot: {plot} already exists; pass --overwrite to replace it"
    assert plot.read_bytes() == b"old"


# --- option values and combinations: usage errors (exit status 2) --------------------------------


def _usage_error(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert err[0].startswith("usage: pyimportance run")
    return err[-1]


RUN = ["run", "--model", "m.keras", "--x", "X.npy"]


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
    assert _usage_error(capsys) == f"pyimportance run: error: {message}"


def test_max_samples_takes_counts_and_fractions():
    parse = cli.build_parser().parse_args
    base = [*RUN, "--out", "r.csv", "--max-samples"]
    assert parse([*base, "1"]).max_samples == 1 and parse([*base, "1e3"]).max_samples == 1000
    assert parse([*base, "1.0"]).max_samples == 1.0 and parse([*base, "0.25"]).max_samples == 0.25


def test_out_equal_to_plot_is_a_usage_error(tmp_path, capsys):
    out = tmp_path / "r.csv"
    assert cli.main([*RUN, "--out", str(out), "--plot", str(tmp_path / "." / "r.csv")]) == 2
    assert _usage_error(capsys) == (
        f"pyimportance run: error: --plot: {tmp_path / '.' / 'r.csv'} is also the --out file; give the plot its "
        "own file name (e.g. importance.png)"
    )


def test_an_output_over_an_input_is_refused_even_with_overwrite(tmp_path, arrays, capsys):
    x_path = tmp_path / "X.npy"
    before = x_path.read_bytes()
    assert cli.main(["run", "--model", "m.keras", "--x", str(x_path), "--out", str(tmp_path / "r.csv"),
                     "--plot", str(x_path), "--overwrite"]) == 2
    assert _usage_error(capsys) == (
        f"pyimportance run: error: --plot: {x_path} is the --x input file; choose another name for the output"
    )
    assert x_path.read_bytes() == before


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--out", "r.png"], "--out: r.png must be a .csv file name (the result table is written as CSV)"),
        (["--out", "r.csv", "--plot", "p.jpg"],
         "--plot: p.jpg must end in .png, .pdf, .svg (the suffix gives the image format)"),
        (["--out", "r.csv", "--loss", "mae"],
         "--loss mae needs --y (the true targets); without --y the importance is the prediction change"),
        (["--out", "r.csv", "--by", "timestep", "--group", "g=x1,x2"],
         "--group has no effect with --by timestep (each unit is one time step of all features); use --by feature "
         "or --by cell"),
        (["--out", "r.csv", "--group", "g=x1", "--group", "g=x2"],
         "--group: the group name 'g' is given more than once"),
        (["--out", "r.csv", "--x-header"], "--x-header applies to a CSV file given with --x, got --x X.npy"),
        (["--out", "r.csv", "--no-y-header"], "--no-y-header applies to a CSV file given with --y, got no --y"),
    ],
)
def test_option_combinations_that_cannot_work_are_usage_errors(extra, message, capsys):
    assert cli.main([*RUN, *extra]) == 2
    assert _usage_error(capsys) == f"pyimportance run: error: {message}"


TWO_INPUTS = ["run", "--model", "m.keras", "--x", "seq=seq.npy", "--x", "static=static.npy", "--out", "r.csv"]
TWO_HEADS = [*TWO_INPUTS, "--y", "sales=sales.npy", "--y", "churn=churn.npy"]
KNOWN_LOSSES = "mse, rmse, mae, log_loss, binary_crossentropy, categorical_crossentropy, accuracy"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([*RUN, "--x", "static=s.npy", "--out", "r.csv"],
         "--x: with several inputs, give each as NAME=FILE, got --x X.npy"),
        ([*TWO_INPUTS, "--x", "seq=other.npy"], "--x: the name 'seq' is given more than once"),
        ([*RUN, "--x", "seq=", "--out", "r.csv"], "argument --x: expected FILE or NAME=FILE, got 'seq='"),
        ([*TWO_INPUTS, "--y", "y.npy", "--y", "churn=c.npy"],
         "--y: with several output heads, give each as HEAD=FILE, got --y y.npy"),
        ([*RUN, "--out", "r.csv", "--y", "y.npy", "--loss", "hinge"],
         f"argument --loss: unknown loss 'hinge'; use one of {KNOWN_LOSSES} (or a Keras loss name such as "
         "mean_squared_error; case-insensitive)"),
        ([*RUN, "--out", "r.csv", "--y", "y.npy", "--loss", "mse", "--loss", "mae"],
         "--loss: give one LOSS for all output heads or HEAD=LOSS for each, got --loss mse --loss mae"),
        ([*RUN, "--out", "r.csv", "--y", "y.npy", "--loss", "churn=log_loss"],
         "--loss churn=log_loss: a loss per output head needs the targets per head, --y HEAD=FILE, got --y y.npy"),
        ([*TWO_HEADS, "--loss", "profit=mse"],
         "--loss profit=mse: there is no --y profit=FILE; the --y heads are 'sales', 'churn'"),
        ([*TWO_HEADS, "--loss", "churn=log_loss", "--loss", "churn=accuracy"],
         "--loss: the output head 'churn' is given more than once"),
        ([*TWO_HEADS, "--output", "churn", "--output", "churn"],
         "--output: the output head 'churn' is given more than once"),
        ([*RUN, "--out", "r.csv", "--reference", "train.npy"],
         "--reference is used by --method conditional only, got --method gaussian"),
        ([*TWO_INPUTS, "--method", "conditional", "--reference", "train.npy", "--reference", "seq=train_seq.npy"],
         "--reference: with several inputs, give each as NAME=FILE, got --reference train.npy"),
        ([*RUN, "--out", "r.csv", "--method", "conditional", "--reference", "train.npy", "--reference-header"],
         "--reference-header applies to a CSV file given with --reference, got --reference train.npy"),
        ([*RUN, "--out", "r.csv", "--ci", "repeats", "--block-size", "5"],
         "--block-size applies to --ci data (the block bootstrap over rows), got --ci repeats"),
        ([*RUN, "--out", "r.csv", "--tolerance", "1"],
         "argument --tolerance: expected a fraction of the largest importance in (0, 1), got '1'"),
        ([*RUN, "--out", "r.csv", "--mask-value", "nan"], "argument --mask-value: expected a number, got 'nan'"),
        ([*RUN, "--out", "r.csv", "--mask-value", "0", "--no-mask"],
         "argument --no-mask: not allowed with argument --mask-value"),
        ([*RUN, "--out", "r.csv", "--feature-names", "a,b", "--feature-names", "c,d"],
         "--feature-names: with several inputs, give each as INPUT=a,b,c, got --feature-names a,b"),
        ([*TWO_INPUTS, "--feature-names", "seq=a,b", "--feature-names", "seq=c,d"],
         "--feature-names: the name 'seq' is given more than once"),
        ([*TWO_HEADS, "--plot", "churn.npy"],
         "--plot: churn.npy is the --y input file; choose another name for the output"),
    ],
)
def test_several_inputs_and_heads_options_that_cannot_work_are_usage_errors(argv, message, capsys):
    assert cli.main(argv) == 2
    assert _usage_error(capsys) == f"pyimportance run: error: {message}"


def test_loss_takes_keras_names_in_any_case_and_one_per_head():
    parse = cli.build_parser().parse_args
    args = parse([*TWO_HEADS, "--loss", "Mean_Squared_Error", "--loss", "churn=BCE"])
    assert cli._run_usage_problem(args) is None
    heads = {"sales": None, "churn": None}
    assert runfiles.losses(args.loss, heads) == {"sales": "Mean_Squared_Error", "churn": "BCE"}
    assert runfiles.losses(parse([*TWO_HEADS, "--loss", "churn=log_loss"]).loss, heads) == {
        "sales": None, "churn": "log_loss"  # None: the engine's default, mse
    }
    assert runfiles.losses(parse([*TWO_HEADS, "--loss", "MAE"]).loss, heads) == "MAE"


# --- end to end with a stand-in model (no TensorFlow): the numbers the files must give --------------

WEIGHTS = np.array([2.0, 1.0, 0.0])
MEASURED = np.array([[0.5, 1.25, -2.0], [1.0, -1.0, 3.5], [2.0, 0.25, 1.0], [-0.75, 2.0, 0.0]])


@pytest.fixture()
def linear_model(monkeypatch):
    """`--model` loads the linear model X @ WEIGHTS (method 'zero': importance_j = mean |w_j x_j|)."""
    monkeypatch.setattr("pyimportance.io.load_model", lambda path, **kwargs: (lambda X: np.asarray(X) @ WEIGHTS))


def _zero_importances(X: np.ndarray) -> np.ndarray:
    return np.abs(X * WEIGHTS).mean(axis=0)


def _run_zero(tmp_path, *extra) -> int:
    return cli.main(["run", "--model", "m.keras", "--method", "zero", "--n-repeats", "2", "--seed", "0",
                     "--out", str(tmp_path / "r.csv"), *extra])


def test_numeric_header_is_asked_for_and_then_read_as_told(tmp_path, linear_model, capsys):
    x_path = tmp_path / "X.csv"
    x_path.write_text("2020,2021,2022\n" + "".join(",".join(repr(float(v)) for v in row) + "\n" for row in MEASURED))
    assert _run_zero(tmp_path, "--x", str(x_path)) == 1
    assert _error_line(capsys) == (
        f"pyimportance: error: --x: cannot tell whether the first row of {x_path} (2020, 2021, 2022) is a header or "
        "data: it holds whole numbers over columns with fractions, as a header of numbers (years, ids) would; pass "
        "--x-header if it is a header (column names) or --no-x-header if it is data"
    )
    assert _run_zero(tmp_path, "--x", str(x_path), "--x-header") == 0
    result = pd.read_csv(tmp_path / "r.csv", dtype={"feature": str}).set_index("feature")["importance"]
    np.testing.assert_allclose(result[["2020", "2021", "2022"]], _zero_importances(MEASURED), rtol=1e-12)
    assert "evaluated once (deterministic method), 4 rows\n" in capsys.readouterr().out
    assert _run_zero(tmp_path, "--x", str(x_path), "--no-x-header", "--overwrite") == 0
    with_first_row = np.vstack([[2020.0, 2021.0, 2022.0], MEASURED])
    result = _read(tmp_path / "r.csv").set_index("feature")["importance"]
    np.testing.assert_allclose(result[["x1", "x2", "x3"]], _zero_importances(with_first_row), rtol=1e-12)
    assert "evaluated once (deterministic method), 5 rows\n" in capsys.readouterr().out


def test_y_csv_with_a_pandas_series_header_gets_a_hint_then_the_right_numbers(tmp_path, linear_model, capsys):
    np.save(tmp_path / "X.npy", MEASURED)
    y = np.array([1, 0, 1, 1])
    pd.Series(y).to_csv(tmp_path / "y.csv", index=False)  # header "0": one row more than X
    args = ["--x", str(tmp_path / "X.npy"), "--y", str(tmp_path / "y.csv"), "--loss", "mse"]
    assert _run_zero(tmp_path, *args) == 1
    assert _error_line(capsys) == (
        f"pyimportance: error: --y: {tmp_path / 'y.csv'} has 5 rows, but --x {tmp_path / 'X.npy'} has 4 samples; "
        f"y needs one row per sample; if the first row of {tmp_path / 'y.csv'} is a header, pass --y-header"
    )
    assert _run_zero(tmp_path, *args, "--y-header") == 0
    baseline = np.mean((y - MEASURED @ WEIGHTS) ** 2)
    zeroed = [np.mean((y - (MEASURED @ WEIGHTS - MEASURED[:, j] * WEIGHTS[j])) ** 2) for j in range(3)]
    result = _read(tmp_path / "r.csv").set_index("feature")["importance"]
    np.testing.assert_allclose(result[["x1", "x2", "x3"]], np.array(zeroed) - baseline, rtol=1e-12)


def test_csv_problems_reach_the_user_as_one_line_naming_option_and_file(tmp_path, linear_model, capsys):
    (tmp_path / "X.csv").write_text("temp;price\n1,5;2\n")
    assert _run_zero(tmp_path, "--x", str(tmp_path / "X.csv")) == 1
    assert _error_line(capsys).startswith(
        f"pyimportance: error: --x: {tmp_path / 'X.csv'} is separated by semicolons, not commas"
    )
    (tmp_path / "X.csv").write_text("temp,price\n")
    assert _run_zero(tmp_path, "--x", str(tmp_path / "X.csv")) == 1
    assert _error_line(capsys) == (
        f"pyimportance: error: --x: {tmp_path / 'X.csv'} has a header row (temp, price) but no data rows"
    )
    assert not (tmp_path / "r.csv").exists()


def test_single_number_npz_is_refused(tmp_path, linear_model, capsys):
    np.savez(tmp_path / "data.npz", x=np.float64(3.0))
    assert _run_zero(tmp_path, "--x", str(tmp_path / "data.npz")) == 1
    assert _error_line(capsys) == (
        f"pyimportance: error: --x: {tmp_path / 'data.npz'} holds a single number (an array of shape ()), "
        "not a data set"
    )


def test_one_file_for_x_and_y(tmp_path, linear_model, capsys):
    np.save(tmp_path / "X.npy", MEASURED)
    assert _run_zero(tmp_path, "--x", str(tmp_path / "X.npy"), "--y", str(tmp_path / "X.npy")) == 1
    assert _error_line(capsys) == (
        f"pyimportance: error: --y: {tmp_path / 'X.npy'} is also the --x file; only a .npz archive can hold both "
        "(arrays named x and y)"
    )
    np.savez(tmp_path / "one.npz", MEASURED)
    assert _run_zero(tmp_path, "--x", str(tmp_path / "one.npz"), "--y", str(tmp_path / "one.npz")) == 1
    assert _error_line(capsys).startswith(
        f"pyimportance: error: --x: {tmp_path / 'one.npz'} holds a single array 'arr_0', which --y reads too"
    )
    np.savez(tmp_path / "both.npz", x=MEASURED, y=MEASURED @ WEIGHTS)
    both = str(tmp_path / "both.npz")
    assert _run_zero(tmp_path, "--x", both, "--y", both, "--loss", "mse") == 0
    zeroed = [np.mean((MEASURED[:, j] * WEIGHTS[j]) ** 2) for j in range(3)]  # baseline loss 0
    result = _read(tmp_path / "r.csv").set_index("feature")["importance"]
    np.testing.assert_allclose(result[["x1", "x2", "x3"]], zeroed)


def test_group_members_must_be_features(tmp_path, linear_model, capsys):
    np.save(tmp_path / "X.npy", MEASURED)
    assert _run_zero(tmp_path, "--x", str(tmp_path / "X.npy"), "--group", "g=1,2") == 1
    assert _error_line(capsys) == (
        "pyimportance: error: --group g=1,2: no feature named '1'; the features are x1, x2, x3 "
        f"({tmp_path / 'X.npy'} has no feature names; set them with --feature-names)"
    )
    (tmp_path / "X.csv").write_text("temp,price,ads\n1,2,3\n4,5,6.5\n")
    assert _run_zero(tmp_path, "--x", str(tmp_path / "X.csv"), "--group", "weather=temp,humidity") == 1
    assert _error_line(capsys) == (
        "pyimportance: error: --group weather=temp,humidity: no feature named 'humidity'; the features are temp, "
        "price, ads"
    )
    assert _run_zero(tmp_path, "--x", str(tmp_path / "X.npy"), "--feature-names", "a,b,c", "--group", "ab=a,b") == 0
    result = _read(tmp_path / "r.csv").set_index("feature")["importance"]
    assert result.index.tolist() == ["ab"]
    assert result["ab"] == pytest.approx(np.abs(MEASURED[:, :2] @ WEIGHTS[:2]).mean(), rel=1e-12)


def test_feature_names_must_match_the_features(tmp_path, linear_model, capsys):
    np.save(tmp_path / "X.npy", MEASURED)
    assert _run_zero(tmp_path, "--x", str(tmp_path / "X.npy"), "--feature-names", "a,b") == 1
    assert _error_line(capsys) == (
        f"pyimportance: error: --feature-names: 2 names given for the 3 features of {tmp_path / 'X.npy'}"
    )


def test_output_under_a_file_is_refused_before_any_work(tmp_path, linear_model, capsys):
    np.save(tmp_path / "X.npy", MEASURED)
    (tmp_path / "results").write_text("a file")
    out = tmp_path / "results" / "r.csv"
    assert cli.main(["run", "--model", "m.keras", "--x", str(tmp_path / "X.npy"), "--out", str(out)]) == 1
    assert _error_line(capsys) == (
        f"pyimportance: error: --out: cannot write {out}: {tmp_path / 'results'} is a file, not a directory"
    )


def test_plot_format_follows_its_suffix(tmp_path, linear_model):
    np.save(tmp_path / "X.npy", MEASURED)
    assert _run_zero(tmp_path, "--x", str(tmp_path / "X.npy"), "--plot", str(tmp_path / "p.svg")) == 0
    assert (tmp_path / "p.svg").read_text().startswith("<?xml")


def test_out_of_memory_is_one_line(tmp_path, linear_model, monkeypatch, capsys):
    np.save(tmp_path / "X.npy", MEASURED)

    def exhausted(*args, **kwargs):
        raise MemoryError("Unable to allocate 87.3 TiB for an array with shape (1000000000000, 12, 3)")

    monkeypatch.setattr("pyimportance.api.perturbation_importance", exhausted)
    assert _run_zero(tmp_path, "--x", str(tmp_path / "X.npy")) == 1
    assert _error_line(capsys) == (
        "pyimportance: error: out of memory (Unable to allocate 87.3 TiB for an array with shape "
        "(1000000000000, 12, 3)); try a smaller --batch-size or --max-samples"
    )


def _seq_and_static(X):
    """A stand-in two-input model: the last step of the sequence input plus the static input."""
    return X["seq"][:, -1, :] @ WEIGHTS + X["static"] @ np.array([0.5, -1.0])


def test_feature_names_of_several_inputs_come_per_input_from_the_options_or_headers(tmp_path, monkeypatch, capsys):
    from pyimportance import perturbation_importance

    monkeypatch.setattr("pyimportance.io.load_model", lambda path, **kwargs: _seq_and_static)
    X = {"seq": np.stack([MEASURED, 2 * MEASURED], axis=1), "static": MEASURED[:, :2]}
    np.save(tmp_path / "seq.npy", X["seq"])
    pd.DataFrame(X["static"], columns=["store", "price"]).to_csv(tmp_path / "static.csv", index=False)
    x = ["--x", f"seq={tmp_path / 'seq.npy'}", "--x", f"static={tmp_path / 'static.csv'}"]
    assert _run_zero(tmp_path, *x, "--feature-names", "seq=temp,ads,wind") == 0
    expected = perturbation_importance(_seq_and_static, X, method="zero", random_state=0,
                                       feature_names={"seq": ["temp", "ads", "wind"], "static": ["store", "price"]})
    pd.testing.assert_frame_equal(_read(tmp_path / "r.csv"), expected.to_frame())
    assert capsys.readouterr().err.splitlines()[-1] == (
        "computing importance on X of shapes seq (4, 2, 3), static (4, 2) (2 repeats per unit) ..."
    )
    for names, message in [
        ("temp,ads,wind", "--feature-names temp,ads,wind: --x holds several inputs ('seq', 'static'); give "
                          "--feature-names INPUT=a,b,c for each"),
        ("other=a,b", "--feature-names other=a,b: there is no --x input 'other'; the inputs are 'seq', 'static'"),
        ("seq=a,b", f"--feature-names seq: 2 names given for the 3 features of {tmp_path / 'seq.npy'}"),
    ]:
        assert _run_zero(tmp_path, *x, "--feature-names", names, "--overwrite") == 1
        assert _error_line(capsys) == f"pyimportance: error: {message}"
    np.save(tmp_path / "X.npy", MEASURED)
    assert _run_zero(tmp_path, "--x", str(tmp_path / "X.npy"), "--feature-names", "seq=a,b,c", "--overwrite") == 1
    assert _error_line(capsys) == (
        "pyimportance: error: --feature-names seq=a,b,c: names an input, but --x is one input; use "
        "--feature-names a,b,c"
    )


def test_inputs_of_different_lengths_are_refused_naming_both_files(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr("pyimportance.io.load_model", lambda path, **kwargs: _seq_and_static)
    np.save(tmp_path / "seq.npy", np.zeros((4, 2, 3)))
    (tmp_path / "static.csv").write_text("1,2\n3,4\n5,6\n7,8\n9,10\n")  # a header of numbers, read as data
    assert _run_zero(tmp_path, "--x", f"seq={tmp_path / 'seq.npy'}", "--x", f"static={tmp_path / 'static.csv'}") == 1
    assert _error_line(capsys) == (
        f"pyimportance: error: --x static: {tmp_path / 'static.csv'} has 5 rows, but --x seq {tmp_path / 'seq.npy'} "
        f"has 4 samples; every input needs one row per sample; if the first row of {tmp_path / 'static.csv'} is a "
        "header, pass --x-header"
    )


@pytest.fixture()
def rows_3000(tmp_path):
    """X (3000, 3), y = X @ WEIGHTS + noise, as .npy files; returns (X, y)."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(3000, 3))
    y = X @ WEIGHTS + 0.5 * rng.normal(size=3000)
    np.save(tmp_path / "X.npy", X)
    np.save(tmp_path / "y.npy", y)
    return X, y


def _run_on_files(tmp_path, *extra) -> int:
    return cli.main(["run", "--model", "m.keras", "--x", str(tmp_path / "X.npy"), "--seed", "1",
                     "--n-repeats", "2", "--no-progress", "--out", str(tmp_path / "r.csv"), *extra])


def test_tolerance_stops_early_and_says_the_target_was_met(tmp_path, linear_model, rows_3000, capsys):
    from pyimportance import perturbation_importance

    X, y = rows_3000
    assert _run_on_files(tmp_path, "--y", str(tmp_path / "y.npy"), "--method", "permute", "--tolerance", "0.1") == 0
    expected = perturbation_importance(lambda rows: rows @ WEIGHTS, X, y, method="permute", n_repeats=2,
                                       random_state=1, tolerance=0.1)
    pd.testing.assert_frame_equal(_read(tmp_path / "r.csv"), expected.to_frame())
    assert expected.n_rows_used == 2000 and expected.converged
    lines = capsys.readouterr().out.splitlines()
    assert lines[2] == f"Stopping: tolerance 0.1 met; precision {expected.precision:.3g} after 2000 of 3000 rows"
    assert lines[3] == "Seed: 1"


def test_ci_repeats_and_block_size_reach_the_engine(tmp_path, linear_model, rows_3000, capsys):
    from pyimportance import perturbation_importance

    X, y = rows_3000
    assert _run_on_files(tmp_path, "--y", str(tmp_path / "y.npy"), "--method", "permute", "--ci", "repeats") == 0
    expected = perturbation_importance(lambda rows: rows @ WEIGHTS, X, y, method="permute", n_repeats=2,
                                       random_state=1, ci="repeats")
    pd.testing.assert_frame_equal(_read(tmp_path / "r.csv"), expected.to_frame())
    assert capsys.readouterr().out.splitlines()[1] == (
        "Interval: 95% t-interval over repeats, conditional on this data set"
    )
    assert _run_on_files(tmp_path, "--y", str(tmp_path / "y.npy"), "--block-size", "50", "--overwrite") == 0
    expected = perturbation_importance(lambda rows: rows @ WEIGHTS, X, y, n_repeats=2, random_state=1, block_size=50)
    pd.testing.assert_frame_equal(_read(tmp_path / "r.csv"), expected.to_frame())
    assert capsys.readouterr().out.splitlines()[1] == (
        "Interval: 95% interval for the population the rows come from (rows and perturbations) (block length 50 rows)"
    )


def test_a_keras_loss_name_gives_the_numbers_of_our_name(tmp_path, linear_model, rows_3000):
    assert _run_on_files(tmp_path, "--y", str(tmp_path / "y.npy"), "--loss", "Mean_Absolute_Error") == 0
    keras_named = _read(tmp_path / "r.csv")
    assert _run_on_files(tmp_path, "--y", str(tmp_path / "y.npy"), "--loss", "mae", "--overwrite") == 0
    pd.testing.assert_frame_equal(keras_named, _read(tmp_path / "r.csv"))


def test_conditional_method_is_fitted_on_the_reference_rows(tmp_path, linear_model, rows_3000):
    from pyimportance import perturbation_importance

    X, y = rows_3000
    correlated = X.copy()
    correlated[:, 1] = 0.8 * X[:, 0] + 0.6 * X[:, 1]
    np.save(tmp_path / "X.npy", correlated[:500])
    np.save(tmp_path / "y.npy", y[:500])
    np.save(tmp_path / "train.npy", correlated[500:])
    assert _run_on_files(tmp_path, "--y", str(tmp_path / "y.npy"), "--method", "conditional",
                         "--reference", str(tmp_path / "train.npy")) == 0
    expected = perturbation_importance(lambda rows: rows @ WEIGHTS, correlated[:500], y[:500], method="conditional",
                                       n_repeats=2, random_state=1, reference=correlated[500:])
    result = _read(tmp_path / "r.csv")
    pd.testing.assert_frame_equal(result, expected.to_frame())
    on_own_rows = perturbation_importance(lambda rows: rows @ WEIGHTS, correlated[:500], y[:500],
                                          method="conditional", n_repeats=2, random_state=1).to_frame()
    assert not np.array_equal(result["importance"], on_own_rows["importance"])


PADDED = np.array([[[-9.0, -9.0], [-9.0, -9.0], [1.0, 2.0]],  # two padded steps
                   [[0.5, 1.0], [1.5, -1.0], [2.0, 0.5]],
                   [[-9.0, -9.0], [0.25, 1.0], [-1.0, 3.0]],
                   [[1.0, 1.0], [2.0, 2.0], [3.0, 3.0]]])


def _sum_of_steps(rows):
    """A stand-in sequence model that reads every step, padding included."""
    return np.asarray(rows).sum(axis=(1, 2))


@pytest.mark.parametrize(("options", "mask_value"), [([], None), (["--mask-value", "-9"], -9.0), (["--no-mask"], None)])
def test_mask_value_options_reach_the_engine(tmp_path, monkeypatch, options, mask_value):
    from pyimportance import perturbation_importance

    monkeypatch.setattr("pyimportance.io.load_model", lambda path, **kwargs: _sum_of_steps)
    np.save(tmp_path / "X.npy", PADDED)
    assert _run_on_files(tmp_path, "--method", "permute", *options) == 0
    expected = perturbation_importance(_sum_of_steps, PADDED, method="permute", n_repeats=2, random_state=1,
                                       mask_value=mask_value)
    pd.testing.assert_frame_equal(_read(tmp_path / "r.csv"), expected.to_frame())


class _ClosedPipe:
    """A stdout whose reader has gone away."""

    def write(self, text):
        raise BrokenPipeError(32, "Broken pipe")

    def flush(self):
        raise BrokenPipeError(32, "Broken pipe")


def test_closed_stdout_stops_quietly_after_the_files_are_written(tmp_path, linear_model, monkeypatch, capsys):
    np.save(tmp_path / "X.npy", MEASURED)
    monkeypatch.setattr(sys, "stdout", _ClosedPipe())
    assert _run_zero(tmp_path, "--x", str(tmp_path / "X.npy")) == cli.EXIT_BROKEN_PIPE
    assert "error" not in capsys.readouterr().err
    np.testing.assert_allclose(
        _read(tmp_path / "r.csv").set_index("feature")["importance"][["x1", "x2", "x3"]], _zero_importances(MEASURED)
    )


def test_truncated_keras_model_is_reported_as_truncated(tmp_path, arrays, capsys):
    import zipfile

    with zipfile.ZipFile(tmp_path / "full.keras", "w") as archive:
        archive.writestr("config.json", "{}" * 500)
    data = (tmp_path / "full.keras").read_bytes()
    (tmp_path / "m.keras").write_bytes(data[: len(data) // 2])
    code = cli.main(["run", "--model", str(tmp_path / "m.keras"), "--x", str(tmp_path / "X.npy"),
                     "--out", str(tmp_path / "r.csv")])
    assert code == 1
    assert _error_line(capsys) == (
        f"pyimportance: error: --model: {tmp_path / 'm.keras'} is truncated or damaged: it starts as a zip archive "
        "but has no complete directory"
    )


def test_demo_refuses_an_output_directory_that_is_a_file_before_training(tmp_path, capsys):
    (tmp_path / "out").write_text("a file")
    assert cli.main(["demo", "--out", str(tmp_path / "out")]) == 1
    assert _error_line(capsys) == (
        f"pyimportance: error: --out: cannot write {tmp_path / 'out' / 'importance.csv'}: {tmp_path / 'out'} is a "
        "file, not a directory"
    )


# --- the installed console script ---------------------------------------------------------------


def test_console_script_reports_errors_in_one_line_with_exit_status_1(tmp_path):
    script = _console_script()
    missing = tmp_path / "X.npy"
    done = subprocess.run(
        [script, "run", "--model", "m.keras", "--x", str(missing), "--out", str(tmp_path / "r.csv")],
        capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [f"pyimportance: error: --x: file not found: {missing}"]
    assert done.stdout == ""


def _console_script() -> str:
    script = Path(sys.executable).with_name("pyimportance")
    script = str(script) if script.exists() else shutil.which("pyimportance")
    assert script, "the pyimportance console script is not installed"
    return script


# --- with Keras ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def keras_module():
    import keras

    return keras


def _tiny_model(keras, lambda_layer: bool = False):
    keras.utils.set_random_seed(1)
    layers = [keras.Input((T, F))]
    if lambda_layer:
        layers.append(keras.layers.Lambda(lambda x: x * 2.0))
    layers += [keras.layers.LSTM(4), keras.layers.Dense(1)]
    return keras.Sequential(layers)


@pytest.fixture(scope="module")
def saved_models(keras_module, tmp_path_factory):
    """A tiny LSTM as .keras and .h5, and one with a Lambda layer (.keras and .h5)."""
    directory = tmp_path_factory.mktemp("models")
    model = _tiny_model(keras_module)
    model.save(directory / "model.keras")
    model.save(directory / "model.h5")
    with_lambda = _tiny_model(keras_module, lambda_layer=True)
    with_lambda.save(directory / "lambda.keras")
    with_lambda.save(directory / "lambda.h5")
    return model, directory


@pytest.mark.keras
def test_run_writes_the_same_numbers_as_the_python_call(saved_models, tmp_path, arrays, capsys):
    from pyimportance import perturbation_importance

    model, models = saved_models
    X, y = arrays
    out, plot = tmp_path / "result.csv", tmp_path / "result.png"
    code = cli.main(
        ["run", "--model", str(models / "model.keras"), "--x", str(tmp_path / "X.npy"), "--y", str(tmp_path / "y.npy"),
         "--method", "permute", "--loss", "mae", "--n-repeats", "3", "--feature-names", "a,b,c", "--seed", "7",
         "--batch-size", "16", "--no-progress", "--out", str(out), "--plot", str(plot)]
    )
    assert code == 0
    expected = perturbation_importance(
        model, X, y, method="permute", loss="mae", n_repeats=3, feature_names=["a", "b", "c"], random_state=7
    )
    pd.testing.assert_frame_equal(_read(out), expected.to_frame())
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    stdout = capsys.readouterr().out
    assert stdout.startswith(expected.summary() + "\nSeed: 7\n")
    assert expected.summary().startswith(
        "Perturbation importance by feature: method 'permute', loss 'mae', 3 repeats, 40 rows; baseline "
    )
    assert f"Wrote {out} and {plot}" in stdout
    assert _files(tmp_path) == ["X.npy", "result.csv", "result.png", "y.npy"]


@pytest.mark.keras
def test_run_passes_scale_max_samples_by_and_progress_to_the_engine(saved_models, tmp_path, arrays, capsys):
    from pyimportance import perturbation_importance

    model, models = saved_models
    X, _ = arrays
    out = tmp_path / "steps.csv"
    code = cli.main(
        ["run", "--model", str(models / "model.keras"), "--x", str(tmp_path / "X.npy"), "--method", "gaussian",
         "--scale", "0.5", "--absolute-scale", "--max-samples", "0.5", "--by", "timestep", "--n-repeats", "2",
         "--seed", "3", "--progress", "--out", str(out)]
    )
    assert code == 0
    expected = perturbation_importance(
        model, X, scale=0.5, relative_scale=False, max_samples=0.5, by="timestep", n_repeats=2, random_state=3
    ).to_frame()
    pd.testing.assert_frame_equal(_read(out), expected)
    captured = capsys.readouterr()
    assert captured.out.startswith(
        "Perturbation importance by time step: method 'gaussian', mean |change of prediction| (no y), 2 repeats, "
        "20 rows\nInterval: 95% interval for the population the rows come from (rows and perturbations) (block "
        "length "
    )
    assert "rows/s" in captured.err  # the engine's progress bar, forced on by --progress


@pytest.mark.keras
def test_run_by_cell_and_groups_and_h5_model(saved_models, tmp_path, arrays):
    _, models = saved_models
    base = ["run", "--x", str(tmp_path / "X.npy"), "--n-repeats", "2", "--seed", "0"]
    code = cli.main([*base, "--model", str(models / "model.keras"), "--by", "cell", "--out", str(tmp_path / "c.csv")])
    assert code == 0
    cells = _read(tmp_path / "c.csv")
    assert cells.columns.tolist() == [
        "feature", "timestep", "importance", "std", "ci_low", "ci_high", "p_value", "p_adjusted"
    ]
    assert len(cells) == T * F
    code = cli.main(
        [*base, "--model", str(models / "model.h5"), "--group", "first=x1,x2", "--group", "last=x3",
         "--out", str(tmp_path / "g.csv")]
    )
    assert code == 0
    assert sorted(_read(tmp_path / "g.csv")["feature"]) == ["first", "last"]


@pytest.mark.keras
def test_run_overwrites_only_with_overwrite(saved_models, tmp_path, arrays):
    _, models = saved_models
    out = tmp_path / "r.csv"
    out.write_text("old\n")
    args = ["run", "--model", str(models / "model.keras"), "--x", str(tmp_path / "X.npy"), "--n-repeats", "2",
            "--out", str(out)]
    assert cli.main(args) == 1
    assert out.read_text() == "old\n"
    assert cli.main([*args, "--overwrite"]) == 0
    assert _read(out).columns.tolist() == ["feature", "importance", "std", "ci_low", "ci_high", "p_value", "p_adjusted"]


@pytest.mark.keras
def test_run_failing_midway_through_the_csv_keeps_the_old_file(saved_models, tmp_path, arrays, monkeypatch, capsys):
    _, models = saved_models
    out = tmp_path / "r.csv"
    out.write_text("old\n")
    def full_disk(self, path, **kwargs):
        Path(path).write_text("feature,importance\nx1,0.")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(pd.DataFrame, "to_csv", full_disk)
    code = cli.main(["run", "--model", str(models / "model.keras"), "--x", str(tmp_path / "X.npy"),
                     "--n-repeats", "2", "--out", str(out), "--overwrite"])
    assert code == 1
    assert _error_line(capsys) == "pyimportance: error: [Errno 28] No space left on device"
    assert out.read_text() == "old\n"
    assert _files(tmp_path) == ["X.npy", "r.csv", "y.npy"]


@pytest.mark.keras
def test_lambda_model_is_refused_without_unsafe_and_loaded_with_it(saved_models, tmp_path, arrays, capsys):
    _, models = saved_models
    model_path = models / "lambda.keras"
    args = ["run", "--model", str(model_path), "--x", str(tmp_path / "X.npy"), "--n-repeats", "2",
            "--out", str(tmp_path / "r.csv")]
    assert cli.main(args) == 1
    assert _error_line(capsys) == (
        f"pyimportance: error: --model: {model_path} contains a Lambda layer with Python code, which is not "
        "loaded by default because it can run arbitrary code; if you trust this file, pass --unsafe"
    )
    assert not (tmp_path / "r.csv").exists()
    assert cli.main([*args, "--unsafe"]) == 0
    assert len(_read(tmp_path / "r.csv")) == F


@pytest.mark.keras
def test_lambda_model_in_legacy_h5_is_refused_too(saved_models, tmp_path, arrays, capsys):
    _, models = saved_models
    args = ["run", "--model", str(models / "lambda.h5"), "--x", str(tmp_path / "X.npy"), "--n-repeats", "2",
            "--out", str(tmp_path / "r.csv")]
    assert cli.main(args) == 1
    assert _error_line(capsys).endswith("if you trust this file, pass --unsafe")
    assert cli.main([*args, "--unsafe"]) == 0


@pytest.mark.keras
def test_engine_errors_are_one_line_with_exit_status_1(saved_models, tmp_path, arrays, capsys):
    _, models = saved_models
    base = ["run", "--model", str(models / "model.keras"), "--x", str(tmp_path / "X.npy"), "--out",
            str(tmp_path / "r.csv")]
    assert cli.main([*base, "--max-samples", "100"]) == 1
    assert _error_line(capsys) == (
        "pyimportance: error: max_samples must be at most the number of samples in X (40), got 100"
    )
    np.save(tmp_path / "X2.npy", np.zeros((5, T + 1, F)))
    assert cli.main([*base[:4], str(tmp_path / "X2.npy"), *base[5:]]) == 1
    assert _error_line(capsys) == (
        f"pyimportance: error: X does not fit the model: the model expects input of shape (None, {T}, {F}), "
        f"got X of shape (5, {T + 1}, {F})"
    )
    assert not (tmp_path / "r.csv").exists()


@pytest.mark.keras
def test_demo_ranks_the_true_drivers_first_and_writes_its_files(tmp_path, capsys):
    out_dir = tmp_path / "demo"
    assert cli.main(["demo", "--out", str(out_dir), "--epochs", "3", "--n-repeats", "3", "--seed", "0"]) == 0
    stdout = capsys.readouterr().out
    assert "ranked first: yes" in stdout
    assert _files(out_dir) == ["importance.csv", "importance.png", "importance_cells.csv", "importance_cells.png"]
    ranking = _read(out_dir / "importance.csv")
    assert ranking["feature"].tolist()[:3] == ["temperature", "price", "advertising"]
    assert (ranking["ci_low"][:3] > ranking["ci_high"][3:].max()).all()
    cells = _read(out_dir / "importance_cells.csv")
    assert list(zip(cells["feature"][:3], cells["timestep"][:3])) == [
        ("temperature", 11), ("price", 11), ("advertising", 6)
    ]
    assert (out_dir / "importance.png").read_bytes()[:4] == b"\x89PNG"


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
    assert sorted(_read(tmp_path / "r.csv")["feature"]) == ["ads", "price", "temp"]


@pytest.mark.keras
def test_truncated_h5_model_is_reported_as_truncated(saved_models, tmp_path, arrays, capsys):
    _, models = saved_models
    data = (models / "model.h5").read_bytes()
    (tmp_path / "m.h5").write_bytes(data[: len(data) // 2])
    code = cli.main(["run", "--model", str(tmp_path / "m.h5"), "--x", str(tmp_path / "X.npy"),
                     "--out", str(tmp_path / "r.csv")])
    assert code == 1
    assert _error_line(capsys).startswith(
        f"pyimportance: error: --model: {tmp_path / 'm.h5'} is truncated or damaged (Unable to synchronously open "
        "file (truncated file: eof = "
    )


@pytest.mark.keras
def test_console_script_stderr_holds_only_its_notes_and_a_closed_pipe_costs_no_result(saved_models, tmp_path, arrays):
    _, models = saved_models
    env = {key: value for key, value in os.environ.items() if key != "TF_CPP_MIN_LOG_LEVEL"}
    reader, writer = os.pipe()
    os.close(reader)  # the reader has gone, like `pyimportance run ... | true`
    try:
        done = subprocess.run(
            [_console_script(), "run", "--model", str(models / "model.keras"), "--x", str(tmp_path / "X.npy"),
             "--n-repeats", "2", "--seed", "1", "--no-progress", "--out", str(tmp_path / "r.csv")],
            stdout=writer, stderr=subprocess.PIPE, text=True, timeout=300, env=env,
        )
    finally:
        os.close(writer)
    assert done.returncode == cli.EXIT_BROKEN_PIPE, done.stderr
    assert done.stderr.splitlines() == [  # no TensorFlow start-up notices, no traceback
        f"loading {models / 'model.keras'} ...",
        f"computing importance on X of shape (40, {T}, {F}) (2 repeats per unit) ...",
    ]
    assert len(_read(tmp_path / "r.csv")) == F


# --- a functional Keras model with a sequence and a static input, padding and two heads -------------

S = 2  # static features


@pytest.fixture(scope="module")
def two_inputs(keras_module, tmp_path_factory):
    """The model (seq -> Masking(-9) -> LSTM, static; heads 'sales' and 'churn'), saved with its data files."""
    keras = keras_module
    keras.utils.set_random_seed(1)
    seq, static = keras.Input((T, F), name="seq"), keras.Input((S,), name="static")
    hidden = keras.layers.LSTM(4)(keras.layers.Masking(mask_value=-9.0)(seq))
    joined = keras.layers.Concatenate()([hidden, static])
    heads = [keras.layers.Dense(1, name="sales")(joined),
             keras.layers.Dense(1, activation="sigmoid", name="churn")(joined)]
    model = keras.Model([seq, static], heads)
    directory = tmp_path_factory.mktemp("two_inputs")
    model.save(directory / "model.keras")
    rng = np.random.default_rng(4)
    data = {"seq": rng.normal(size=(40, T, F)).astype(np.float32), "static": rng.normal(size=(40, S))}
    data["seq"][:8, :2] = -9.0  # 8 sequences that start 2 steps late
    targets = {"sales": data["seq"][:, -1, 0] + data["static"][:, 0], "churn": (data["static"][:, 1] > 0) * 1.0}
    reference = {"seq": rng.normal(size=(60, T, F)).astype(np.float32), "static": rng.normal(size=(60, S))}
    for name, values in {**data, **targets}.items():
        np.save(directory / f"{name}.npy", values)
    for name, values in reference.items():
        np.save(directory / f"train_{name}.npy", values)
    np.savez(directory / "data.npz", **data)
    pd.DataFrame(data["static"], columns=["store", "price"]).to_csv(directory / "static.csv", index=False)
    return model, directory, data, targets, reference


def _run_two_inputs(directory: Path, out: Path, *extra) -> int:
    return cli.main(["run", "--model", str(directory / "model.keras"), "--n-repeats", "2", "--seed", "3",
                     "--method", "permute", "--no-progress", "--out", str(out), *extra])


@pytest.mark.keras
def test_two_inputs_from_a_file_each_and_two_heads_reported_per_output(two_inputs, tmp_path, capsys):
    from pyimportance import perturbation_importance
    from pyimportance.io import load_array

    model, directory, data, targets, _ = two_inputs
    out = tmp_path / "r.csv"
    files = ["--x", f"seq={directory / 'seq.npy'}", "--x", f"static={directory / 'static.csv'}",
             "--y", f"sales={directory / 'sales.npy'}", "--y", f"churn={directory / 'churn.npy'}",
             "--loss", "churn=log_loss", "--feature-names", "seq=a,b,c"]
    assert _run_two_inputs(directory, out, *files, "--per-output") == 0
    X = {"seq": data["seq"], "static": load_array(directory / "static.csv").values}
    expected = perturbation_importance(
        model, X, targets, loss={"sales": None, "churn": "log_loss"}, per_output=True, method="permute",
        n_repeats=2, random_state=3, feature_names={"seq": ["a", "b", "c"], "static": ["store", "price"]},
    )
    frame = _read(out)
    pd.testing.assert_frame_equal(frame, expected.to_frame())
    assert frame.columns.tolist()[:2] == ["feature", "output"]
    assert sorted(set(frame["output"])) == ["churn", "sales"] and len(frame) == 2 * (F + S)
    assert sorted(set(frame["feature"])) == ["a", "b", "c", "price", "store"]
    assert "loss 'mse+log_loss'" in capsys.readouterr().out
    assert _run_two_inputs(directory, out, *files, "--output", "churn", "--overwrite") == 0
    only_churn = perturbation_importance(
        model, X, targets, loss={"sales": None, "churn": "log_loss"}, output=["churn"], method="permute",
        n_repeats=2, random_state=3, feature_names={"seq": ["a", "b", "c"], "static": ["store", "price"]},
    )
    pd.testing.assert_frame_equal(_read(out), only_churn.to_frame())


@pytest.mark.keras
def test_two_inputs_from_one_npz_by_cell(two_inputs, tmp_path):
    from pyimportance import perturbation_importance

    model, directory, data, _, _ = two_inputs
    assert _run_two_inputs(directory, tmp_path / "r.csv", "--x", str(directory / "data.npz"), "--by", "cell") == 0
    expected = perturbation_importance(model, data, by="cell", method="permute", n_repeats=2, random_state=3)
    cells = _read(tmp_path / "r.csv", dtype={"timestep": "Int64"})
    pd.testing.assert_frame_equal(cells, expected.to_frame())
    assert len(cells) == T * F + S and cells["timestep"].isna().sum() == S  # a static feature has no time step


@pytest.mark.keras
def test_padding_comes_from_the_masking_layer_unless_told_otherwise(two_inputs, tmp_path):
    from pyimportance import perturbation_importance

    model, directory, data, _, _ = two_inputs
    x = ["--x", str(directory / "data.npz")]
    assert _run_two_inputs(directory, tmp_path / "auto.csv", *x) == 0
    assert _run_two_inputs(directory, tmp_path / "none.csv", *x, "--no-mask") == 0
    masked = perturbation_importance(model, data, mask_value=-9.0, method="permute", n_repeats=2, random_state=3)
    unmasked = perturbation_importance(model, data, mask_value=None, method="permute", n_repeats=2, random_state=3)
    assert masked.settings["mask_value"] == {"seq": -9.0}
    pd.testing.assert_frame_equal(_read(tmp_path / "auto.csv"), masked.to_frame())
    pd.testing.assert_frame_equal(_read(tmp_path / "none.csv"), unmasked.to_frame())
    assert not np.array_equal(masked.importances, unmasked.importances)


@pytest.mark.keras
def test_conditional_method_with_a_reference_file_per_input(two_inputs, tmp_path):
    from pyimportance import perturbation_importance

    model, directory, data, targets, reference = two_inputs
    assert _run_two_inputs(
        directory, tmp_path / "r.csv", "--x", str(directory / "data.npz"), "--y", f"sales={directory / 'sales.npy'}",
        "--y", f"churn={directory / 'churn.npy'}", "--loss", "churn=log_loss", "--method", "conditional",
        "--reference", f"seq={directory / 'train_seq.npy'}", "--reference", f"static={directory / 'train_static.npy'}",
    ) == 0
    expected = perturbation_importance(model, data, targets, loss={"sales": "mse", "churn": "log_loss"},
                                       method="conditional", reference=reference, n_repeats=2, random_state=3)
    pd.testing.assert_frame_equal(_read(tmp_path / "r.csv"), expected.to_frame())


@pytest.mark.keras
def test_inputs_that_do_not_match_the_model_inputs_are_named_in_the_error(two_inputs, tmp_path, capsys):
    _, directory, _, _, _ = two_inputs
    np.savez(tmp_path / "ab.npz", a=np.zeros((40, T, F)), b=np.zeros((40, S)))
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
        assert _run_two_inputs(directory, tmp_path / "r.csv", *x) == 1
        assert _error_line(capsys) == f"pyimportance: error: {message}"
    assert not (tmp_path / "r.csv").exists()
