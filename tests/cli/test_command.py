"""The ``pyimportance`` command (pyimportance.cli.command): ``run`` and ``demo`` end to end, the
options reaching the engine, what is printed, and the exit statuses: 0, 1 with a one-line error
(engine errors, CSV problems, out of memory), 141 quietly when stdout's reader has gone.

Most tests call ``cli.main([...])`` in-process; two run the installed console script. Tests that
build or load Keras models are marked ``keras``; the rest need no TensorFlow.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers import (
    CLI_F,
    CLI_T,
    MEASURED,
    WEIGHTS,
    error_line,
    files_in,
    read_result,
    run_on_files,
    run_two_inputs,
    run_zero,
    zero_importances,
)

from pyimportance import cli
from pyimportance.cli.command import EXIT_BROKEN_PIPE


def test_csv_problems_reach_the_user_as_one_line_naming_option_and_file(tmp_path, linear_model, capsys):
    (tmp_path / "X.csv").write_text("temp;price\n1,5;2\n")
    assert run_zero(tmp_path, "--x", str(tmp_path / "X.csv")) == 1
    assert error_line(capsys).startswith(
        f"pyimportance: error: --x: {tmp_path / 'X.csv'} is separated by semicolons, not commas"
    )
    (tmp_path / "X.csv").write_text("temp,price\n")
    assert run_zero(tmp_path, "--x", str(tmp_path / "X.csv")) == 1
    assert error_line(capsys) == (
        f"pyimportance: error: --x: {tmp_path / 'X.csv'} has a header row (temp, price) but no data rows"
    )
    assert not (tmp_path / "r.csv").exists()


def test_out_of_memory_is_one_line(tmp_path, linear_model, estimator_function, capsys):
    np.save(tmp_path / "X.npy", MEASURED)

    def exhausted(*args, **kwargs):
        raise MemoryError("Unable to allocate 87.3 TiB for an array with shape (1000000000000, 12, 3)")

    estimator_function("perturbation", exhausted)
    assert run_zero(tmp_path, "--x", str(tmp_path / "X.npy")) == 1
    assert error_line(capsys) == (
        "pyimportance: error: out of memory (Unable to allocate 87.3 TiB for an array with shape "
        "(1000000000000, 12, 3)); try a smaller --batch-size or --max-samples"
    )


def test_tolerance_stops_early_and_says_the_target_was_met(tmp_path, linear_model, rows_3000, capsys):
    from pyimportance import perturbation_importance

    X, y = rows_3000
    assert run_on_files(tmp_path, "--y", str(tmp_path / "y.npy"), "--method", "permute", "--tolerance", "0.1") == 0
    expected = perturbation_importance(lambda rows: rows @ WEIGHTS, X, y, method="permute", n_repeats=2,
                                       random_state=1, tolerance=0.1)
    pd.testing.assert_frame_equal(read_result(tmp_path / "r.csv"), expected.to_frame())
    assert expected.n_rows_used == 2000 and expected.converged
    lines = capsys.readouterr().out.splitlines()
    assert lines[2] == f"Stopping: tolerance 0.1 met; precision {expected.precision:.3g} after 2000 of 3000 rows"
    assert lines[3] == "2 of 3 features selected at 5% FDR (Benjamini-Hochberg)"
    assert lines[4] == "Seed: 1"


def test_ci_repeats_and_block_size_reach_the_engine(tmp_path, linear_model, rows_3000, capsys):
    from pyimportance import perturbation_importance

    X, y = rows_3000
    assert run_on_files(tmp_path, "--y", str(tmp_path / "y.npy"), "--method", "permute", "--ci", "repeats") == 0
    expected = perturbation_importance(lambda rows: rows @ WEIGHTS, X, y, method="permute", n_repeats=2,
                                       random_state=1, ci="repeats")
    pd.testing.assert_frame_equal(read_result(tmp_path / "r.csv"), expected.to_frame())
    assert capsys.readouterr().out.splitlines()[1] == (
        "Interval: 95% t-interval over repeats, conditional on this data set"
    )
    assert run_on_files(tmp_path, "--y", str(tmp_path / "y.npy"), "--block-size", "50", "--overwrite") == 0
    expected = perturbation_importance(lambda rows: rows @ WEIGHTS, X, y, n_repeats=2, random_state=1, block_size=50)
    pd.testing.assert_frame_equal(read_result(tmp_path / "r.csv"), expected.to_frame())
    assert capsys.readouterr().out.splitlines()[1] == (
        "Interval: 95% interval for the population the rows come from (rows and perturbations) (block length 50 rows)"
    )


def test_a_keras_loss_name_gives_the_numbers_of_our_name(tmp_path, linear_model, rows_3000):
    assert run_on_files(tmp_path, "--y", str(tmp_path / "y.npy"), "--loss", "Mean_Absolute_Error") == 0
    keras_named = read_result(tmp_path / "r.csv")
    assert run_on_files(tmp_path, "--y", str(tmp_path / "y.npy"), "--loss", "mae", "--overwrite") == 0
    pd.testing.assert_frame_equal(keras_named, read_result(tmp_path / "r.csv"))


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

    monkeypatch.setattr("pyimportance.cli.files.load_model", lambda path, **kwargs: _sum_of_steps)
    np.save(tmp_path / "X.npy", PADDED)
    assert run_on_files(tmp_path, "--method", "permute", *options) == 0
    expected = perturbation_importance(_sum_of_steps, PADDED, method="permute", n_repeats=2, random_state=1,
                                       mask_value=mask_value)
    pd.testing.assert_frame_equal(read_result(tmp_path / "r.csv"), expected.to_frame())


class _ClosedPipe:
    """A stdout whose reader has gone away."""

    def write(self, text):
        raise BrokenPipeError(32, "Broken pipe")

    def flush(self):
        raise BrokenPipeError(32, "Broken pipe")


def test_closed_stdout_stops_quietly_after_the_files_are_written(tmp_path, linear_model, monkeypatch, capsys):
    np.save(tmp_path / "X.npy", MEASURED)
    monkeypatch.setattr(sys, "stdout", _ClosedPipe())
    assert run_zero(tmp_path, "--x", str(tmp_path / "X.npy")) == EXIT_BROKEN_PIPE
    assert "error" not in capsys.readouterr().err
    np.testing.assert_allclose(
        read_result(tmp_path / "r.csv").set_index("feature")["importance"][["x1", "x2", "x3"]],
        zero_importances(MEASURED),
    )


def test_demo_refuses_an_output_directory_that_is_a_file_before_training(tmp_path, capsys):
    (tmp_path / "out").write_text("a file")
    assert cli.main(["demo", "--out", str(tmp_path / "out")]) == 1
    assert error_line(capsys) == (
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
    pd.testing.assert_frame_equal(read_result(out), expected.to_frame())
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    stdout = capsys.readouterr().out
    assert stdout.startswith(expected.summary() + "\nSeed: 7\n")
    assert expected.summary().startswith(
        "Perturbation importance by feature: method 'permute', loss 'mae', 3 repeats, 40 rows; baseline "
    )
    assert f"Wrote {out} and {plot}" in stdout
    assert files_in(tmp_path) == ["X.npy", "result.csv", "result.png", "y.npy"]


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
    pd.testing.assert_frame_equal(read_result(out), expected)
    captured = capsys.readouterr()
    assert captured.out.startswith(
        "Perturbation importance by time step: method 'gaussian' (sd 0.5), mean |change of prediction| (no y), "
        "2 repeats, "
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
    cells = read_result(tmp_path / "c.csv")
    assert cells.columns.tolist() == [
        "feature", "timestep", "importance", "std", "ci_low", "ci_high", "p_value", "p_adjusted"
    ]
    assert len(cells) == CLI_T * CLI_F
    code = cli.main(
        [*base, "--model", str(models / "model.h5"), "--group", "first=x1,x2", "--group", "last=x3",
         "--out", str(tmp_path / "g.csv")]
    )
    assert code == 0
    assert sorted(read_result(tmp_path / "g.csv")["feature"]) == ["first", "last"]


@pytest.mark.keras
def test_engine_errors_are_one_line_with_exit_status_1(saved_models, tmp_path, arrays, capsys):
    _, models = saved_models
    base = ["run", "--model", str(models / "model.keras"), "--x", str(tmp_path / "X.npy"), "--out",
            str(tmp_path / "r.csv")]
    assert cli.main([*base, "--max-samples", "100"]) == 1
    assert error_line(capsys) == (
        "pyimportance: error: max_samples must be at most the number of samples in X (40), got 100"
    )
    np.save(tmp_path / "X2.npy", np.zeros((5, CLI_T + 1, CLI_F)))
    assert cli.main([*base[:4], str(tmp_path / "X2.npy"), *base[5:]]) == 1
    assert error_line(capsys) == (
        f"pyimportance: error: X does not fit the model: the model expects input of shape (None, {CLI_T}, {CLI_F}), "
        f"got X of shape (5, {CLI_T + 1}, {CLI_F})"
    )
    assert not (tmp_path / "r.csv").exists()


@pytest.mark.keras
def test_demo_ranks_the_true_drivers_first_and_writes_its_files(tmp_path, capsys):
    out_dir = tmp_path / "demo"
    assert cli.main(["demo", "--out", str(out_dir), "--epochs", "3", "--n-repeats", "3", "--seed", "0"]) == 0
    stdout = capsys.readouterr().out
    assert "ranked first: yes" in stdout
    assert files_in(out_dir) == ["importance.csv", "importance.png", "importance_cells.csv", "importance_cells.png"]
    ranking = read_result(out_dir / "importance.csv")
    assert ranking["feature"].tolist()[:3] == ["temperature", "price", "advertising"]
    assert (ranking["ci_low"][:3] > ranking["ci_high"][3:].max()).all()
    cells = read_result(out_dir / "importance_cells.csv")
    assert list(zip(cells["feature"][:3], cells["timestep"][:3])) == [
        ("temperature", 11), ("price", 11), ("advertising", 6)
    ]
    assert (out_dir / "importance.png").read_bytes()[:4] == b"\x89PNG"


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
    assert done.returncode == EXIT_BROKEN_PIPE, done.stderr
    assert done.stderr.splitlines() == [  # no TensorFlow start-up notices, no traceback
        f"loading {models / 'model.keras'} ...",
        f"computing perturbation importance on X of shape (40, {CLI_T}, {CLI_F}) (2 repeats per unit) ...",
    ]
    assert len(read_result(tmp_path / "r.csv")) == CLI_F


# --- a functional Keras model with a sequence and a static input, padding and two heads -------------


@pytest.mark.keras
def test_padding_comes_from_the_masking_layer_unless_told_otherwise(two_inputs, tmp_path):
    from pyimportance import perturbation_importance

    model, directory, data, _, _ = two_inputs
    x = ["--x", str(directory / "data.npz")]
    assert run_two_inputs(directory, tmp_path / "auto.csv", *x) == 0
    assert run_two_inputs(directory, tmp_path / "none.csv", *x, "--no-mask") == 0
    masked = perturbation_importance(model, data, mask_value=-9.0, method="permute", n_repeats=2, random_state=3)
    unmasked = perturbation_importance(model, data, mask_value=None, method="permute", n_repeats=2, random_state=3)
    assert masked.settings["mask_value"] == {"seq": -9.0}
    pd.testing.assert_frame_equal(read_result(tmp_path / "auto.csv"), masked.to_frame())
    pd.testing.assert_frame_equal(read_result(tmp_path / "none.csv"), unmasked.to_frame())
    assert not np.array_equal(masked.importances, unmasked.importances)


def test_a_drawn_seed_is_printed_and_repeats_the_run_as_seed(tmp_path, linear_model, rows_3000, capsys):
    def run(*seed) -> tuple[pd.DataFrame, list[str]]:
        code = cli.main(["run", "--model", "m.keras", "--x", str(tmp_path / "X.npy"), "--y", str(tmp_path / "y.npy"),
                         "--n-repeats", "2", "--max-samples", "300", "--no-progress", "--out", str(tmp_path / "r.csv"),
                         "--overwrite",
                         *seed])
        assert code == 0
        return read_result(tmp_path / "r.csv"), capsys.readouterr().out.splitlines()

    drawn, lines = run()
    seed_line = next(line for line in lines if line.startswith("Seed: "))
    seed = int(seed_line.split()[1])
    assert seed_line == f"Seed: {seed} (drawn; --seed {seed} repeats this run)" and 0 <= seed < 2**31 - 1
    repeated, lines = run("--seed", str(seed))
    pd.testing.assert_frame_equal(repeated, drawn)
    assert f"Seed: {seed}" in lines


@pytest.mark.keras
def test_noise_on_an_integer_embedding_input_is_refused_on_the_command_line(keras_module, tmp_path, capsys):
    keras = keras_module
    keras.utils.set_random_seed(3)
    days = keras.Input((4,), dtype="int32", name="day")
    model = keras.Model(days, keras.layers.Dense(1)(keras.layers.Flatten()(keras.layers.Embedding(5, 2)(days))))
    model.save(tmp_path / "model.keras")
    np.save(tmp_path / "X.npy", np.random.default_rng(0).integers(0, 5, size=(30, 4)).astype(np.int32))
    arguments = ["run", "--model", str(tmp_path / "model.keras"), "--x", str(tmp_path / "X.npy"), "--n-repeats", "2",
                 "--seed", "0", "--no-progress", "--out", str(tmp_path / "r.csv")]
    assert cli.main(arguments) == 1
    assert error_line(capsys) == (  # engine errors on the command line are worded in Python's terms, as elsewhere
        "pyimportance: error: method='gaussian' cannot perturb ['x1', 'x2', 'x3', 'x4']: the model reads input 'day' "
        "as int32 codes, so noise would turn a code into another category at random; use method='permute' or "
        "method='resample', which move whole codes between rows"
    )
    assert cli.main([*arguments, "--method", "permute"]) == 0
