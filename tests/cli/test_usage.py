"""Option combinations of ``pyimportance run`` that cannot work (pyimportance.cli.usage): usage
errors (exit status 2) found before any file is read: outputs over inputs or each other, suffixes,
header flags without a CSV, names per input and head, losses per head without targets per head,
and the engine's own rules for settings in the command line's terms.
"""

from __future__ import annotations

import pytest
from helpers import KNOWN_LOSSES, RUN, TWO_HEADS, TWO_INPUTS, usage_error

from pyimportance import cli


def test_out_equal_to_plot_is_a_usage_error(tmp_path, capsys):
    out = tmp_path / "r.csv"
    assert cli.main([*RUN, "--out", str(out), "--plot", str(tmp_path / "." / "r.csv")]) == 2
    assert usage_error(capsys) == (
        f"pyimportance run: error: --plot: {tmp_path / '.' / 'r.csv'} is also the --out file; give the plot its "
        "own file name (e.g. importance.png)"
    )


def test_an_output_over_an_input_is_refused_even_with_overwrite(tmp_path, arrays, capsys):
    x_path = tmp_path / "X.npy"
    before = x_path.read_bytes()
    assert cli.main(["run", "--model", "m.keras", "--x", str(x_path), "--out", str(tmp_path / "r.csv"),
                     "--plot", str(x_path), "--overwrite"]) == 2
    assert usage_error(capsys) == (
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
         "--group cannot be used with --by timestep, which perturbs all features of a time step together; use "
         "--by cell for each group at each time step, or --by feature"),
        (["--out", "r.csv", "--group", "g=x1", "--group", "g=x2"],
         "--group: the group name 'g' is given more than once"),
        (["--out", "r.csv", "--x-header"], "--x-header applies to a CSV file given with --x, got --x X.npy"),
        (["--out", "r.csv", "--no-y-header"], "--no-y-header applies to a CSV file given with --y, got no --y"),
    ],
)
def test_option_combinations_that_cannot_work_are_usage_errors(extra, message, capsys):
    assert cli.main([*RUN, *extra]) == 2
    assert usage_error(capsys) == f"pyimportance run: error: {message}"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([*RUN, "--x", "static=s.npy", "--out", "r.csv"],
         "--x: with several inputs, give each as NAME=FILE, got --x X.npy"),
        ([*TWO_INPUTS, "--x", "seq=other.npy"], "--x: the name 'seq' is given more than once"),
        ([*RUN, "--x", "seq=", "--out", "r.csv"], "argument --x: expected FILE or NAME=FILE, got 'seq='"),
        ([*TWO_INPUTS, "--y", "y.npy", "--y", "churn=c.npy"],
         "--y: with several output heads, give each as HEAD=FILE, got --y y.npy"),
        ([*RUN, "--out", "r.csv", "--y", "y.npy", "--loss", "r2"],
         f"argument --loss: unknown loss 'r2'; use one of {KNOWN_LOSSES} (or a Keras loss name such as "
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
    assert usage_error(capsys) == f"pyimportance run: error: {message}"
