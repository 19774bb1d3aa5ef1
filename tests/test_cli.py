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

from pyimportance import cli
from pyimportance.io import atomic_write, load_array, write_csv, write_figure

T, F = 4, 3  # time steps and features of the tiny model's input


def _files(directory: Path) -> list[str]:
    return sorted(path.name for path in directory.iterdir())


def _read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, float_precision="round_trip")


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


def test_pickle_file_named_npy_is_refused(tmp_path):
    path = tmp_path / "y.npy"
    path.write_bytes(pickle.dumps([1.0, 2.0]))
    with pytest.raises(ValueError, match=r"^--y: .* holds Python objects \(pickled data\)"):
        load_array(path, "--y")


def test_object_array_in_npz_is_refused(tmp_path):
    path = tmp_path / "data.npz"
    np.savez(path, x=np.array([object()], dtype=object))
    with pytest.raises(ValueError, match=r"^--x: .* holds Python objects \(pickled data\)"):
        load_array(path, "--x")


def test_large_npy_is_memory_mapped_read_only(tmp_path, monkeypatch):
    monkeypatch.setattr("pyimportance.io.MMAP_MIN_BYTES", 1)
    np.save(tmp_path / "X.npy", np.arange(24.0).reshape(2, 3, 4))
    values = load_array(tmp_path / "X.npy").values
    assert isinstance(values, np.memmap) and not values.flags.writeable
    assert values.shape == (2, 3, 4)


def test_npz_takes_the_single_array_or_the_named_x_and_y(tmp_path):
    np.savez(tmp_path / "one.npz", anything=np.ones((3, 2)))
    np.savez(tmp_path / "both.npz", X=np.zeros((3, 2, 2)), y=np.arange(3.0))
    np.savez(tmp_path / "other.npz", a=np.ones(2), b=np.ones(2))
    assert load_array(tmp_path / "one.npz").values.shape == (3, 2)
    assert load_array(tmp_path / "both.npz", "--x", role="x").values.shape == (3, 2, 2)
    np.testing.assert_array_equal(load_array(tmp_path / "both.npz", "--y", role="y").values, [0.0, 1.0, 2.0])
    with pytest.raises(ValueError, match=r"holds several arrays \['a', 'b'\]; name the one to use 'y' or 'Y'"):
        load_array(tmp_path / "other.npz", "--y", role="y")


def test_csv_header_gives_column_names_and_headerless_csv_has_none(tmp_path):
    (tmp_path / "named.csv").write_text("temp,price\n1.5,2\n3,4\n")
    (tmp_path / "plain.csv").write_text("1.5,2\n3,4\n")
    named = load_array(tmp_path / "named.csv")
    plain = load_array(tmp_path / "plain.csv")
    assert named.column_names == ["temp", "price"]
    assert plain.column_names is None
    np.testing.assert_array_equal(named.values, [[1.5, 2.0], [3.0, 4.0]])
    np.testing.assert_array_equal(plain.values, named.values)


def test_csv_with_text_columns_is_refused(tmp_path):
    (tmp_path / "bad.csv").write_text("temp,city\n1.5,Oslo\n3,Rome\n")
    with pytest.raises(ValueError, match=r"^--x: .*bad.csv has non-numeric columns \['city'\]; a CSV must hold"):
        load_array(tmp_path / "bad.csv")


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


def _failing_to_csv(self, path, **kwargs):
    """Write half a CSV, then fail like a full disk."""
    Path(path).write_text("feature,importance\nx1,0.")
    raise OSError(28, "No space left on device")


def test_failed_csv_write_leaves_no_file_and_no_temp_file(tmp_path, monkeypatch):
    monkeypatch.setattr(pd.DataFrame, "to_csv", _failing_to_csv)
    with pytest.raises(OSError, match="No space left on device"):
        write_csv(pd.DataFrame({"a": [1.0]}), tmp_path / "r.csv")
    assert _files(tmp_path) == []


def test_failed_csv_write_keeps_the_old_file(tmp_path, monkeypatch):
    target = tmp_path / "r.csv"
    target.write_text("old,content\n")
    monkeypatch.setattr(pd.DataFrame, "to_csv", _failing_to_csv)
    with pytest.raises(OSError):
        write_csv(pd.DataFrame({"a": [1.0]}), target, overwrite=True)
    assert target.read_text() == "old,content\n"
    assert _files(tmp_path) == ["r.csv"]


def test_failed_png_write_leaves_no_file_and_no_temp_file(tmp_path, monkeypatch):
    import matplotlib.figure

    def failing_savefig(self, path, **kwargs):
        Path(path).write_bytes(b"\x89PNG half")
        raise KeyboardInterrupt  # an interrupt is cleaned up too

    figure = matplotlib.figure.Figure()
    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", failing_savefig)
    with pytest.raises(KeyboardInterrupt):
        write_figure(figure, tmp_path / "plot.png")
    assert _files(tmp_path) == []


def test_atomic_write_creates_the_directory_and_the_usual_permissions(tmp_path):
    target = tmp_path / "new" / "dir" / "r.txt"
    with atomic_write(target) as tmp:
        assert tmp.parent == target.parent and tmp != target
        tmp.write_text("done")
    assert target.read_text() == "done"
    umask = os.umask(0)
    os.umask(umask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~umask
    assert _files(target.parent) == ["r.txt"]


def test_atomic_write_refuses_a_directory(tmp_path):
    with pytest.raises(ValueError, match=r"^--out: .* is a directory; give a file name$"):
        write_csv(pd.DataFrame({"a": [1]}), tmp_path, "--out")


# --- the installed console script ---------------------------------------------------------------


def test_console_script_reports_errors_in_one_line_with_exit_status_1(tmp_path):
    script = Path(sys.executable).with_name("pyimportance")
    script = str(script) if script.exists() else shutil.which("pyimportance")
    assert script, "the pyimportance console script is not installed"
    missing = tmp_path / "X.npy"
    done = subprocess.run(
        [script, "run", "--model", "m.keras", "--x", str(missing), "--out", str(tmp_path / "r.csv")],
        capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [f"pyimportance: error: --x: file not found: {missing}"]
    assert done.stdout == ""


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
    ).to_frame()
    pd.testing.assert_frame_equal(_read(out), expected)
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    stdout = capsys.readouterr().out
    assert stdout.startswith("Importance by feature (permute, mae, 3 repeats, 40 samples, seed 7); baseline ")
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
    assert "(gaussian, prediction_change, 2 repeats, 20 samples, seed 3)" in captured.out
    assert "rows/s" in captured.err  # the engine's progress bar, forced on by --progress


@pytest.mark.keras
def test_run_by_cell_and_groups_and_h5_model(saved_models, tmp_path, arrays):
    _, models = saved_models
    base = ["run", "--x", str(tmp_path / "X.npy"), "--n-repeats", "2", "--seed", "0"]
    code = cli.main([*base, "--model", str(models / "model.keras"), "--by", "cell", "--out", str(tmp_path / "c.csv")])
    assert code == 0
    cells = _read(tmp_path / "c.csv")
    assert cells.columns.tolist() == ["feature", "timestep", "importance", "std", "ci_low", "ci_high"]
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
    assert _read(out).columns.tolist() == ["feature", "importance", "std", "ci_low", "ci_high"]


@pytest.mark.keras
def test_run_failing_midway_through_the_csv_keeps_the_old_file(saved_models, tmp_path, arrays, monkeypatch, capsys):
    _, models = saved_models
    out = tmp_path / "r.csv"
    out.write_text("old\n")
    monkeypatch.setattr(pd.DataFrame, "to_csv", _failing_to_csv)
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
    assert cli.main([*base, "--loss", "mae"]) == 1
    assert _error_line(capsys) == (
        "pyimportance: error: loss='mae' needs y (the true targets); pass y or leave loss=None"
    )
    assert cli.main([*base, "--n-repeats", "0"]) == 1
    assert _error_line(capsys) == "pyimportance: error: n_repeats must be a positive integer, got 0"
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
