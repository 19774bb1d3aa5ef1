"""One file in, safely; results out, atomically (pyimportance.cli.files): what each odd file gets,
to the word, from the loader and through ``pyimportance run``.

Every message names the option, the file and the actual problem. Model files are checked by
their content before Keras is imported; only the tests that save or load real Keras models are
marked ``keras``.
"""

from __future__ import annotations

import os
import pickle
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers import CLI_F, MEASURED, error_line, files_in, read_result, run_zero

from pyimportance import cli
from pyimportance.cli.files import (
    _native_stderr_held,
    atomic_write,
    check_writable,
    load_array,
    load_inputs,
    load_model,
    same_file,
    write_csv,
    write_figure,
)


def _refused(path: Path, message: str, what: str = "--x", **kwargs) -> None:
    with pytest.raises(ValueError) as error:
        load_array(path, what, **kwargs)
    assert str(error.value) == message


# --- CSV files (read by pyimportance.cli.csvfile, see test_csvfile.py) -------------------------------


def test_a_csv_that_is_not_text_is_refused_before_reading(tmp_path):
    spreadsheet = tmp_path / "book.csv"
    with zipfile.ZipFile(spreadsheet, "w") as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
    _refused(
        spreadsheet, f"--x: {spreadsheet} is not a CSV text file: it is a zip archive (such as .npz, .keras or .xlsx)"
    )


def test_csv_files_come_with_their_header_names(tmp_path):
    (tmp_path / "named.csv").write_text("temp,price\n1.5,2\n3,4\n")
    (tmp_path / "plain.csv").write_text("1.5,2\n3,4\n")
    named = load_array(tmp_path / "named.csv")
    plain = load_array(tmp_path / "plain.csv")
    assert named.column_names == ["temp", "price"] and plain.column_names is None
    assert plain.first_row_guessed_data and not named.first_row_guessed_data
    np.testing.assert_array_equal(named.values, [[1.5, 2.0], [3.0, 4.0]])
    np.testing.assert_array_equal(plain.values, named.values)


def test_header_flag_on_a_numpy_file_is_refused(tmp_path):
    np.save(tmp_path / "X.npy", np.zeros((2, 2)))
    _refused(
        tmp_path / "X.npy",
        f"--x-header: {tmp_path / 'X.npy'} is not a CSV file; the header option applies to .csv files only",
        header=True,
    )


# --- .npy and .npz ---------------------------------------------------------------------------------


def test_text_file_named_npy_is_not_called_pickled(tmp_path):
    path = tmp_path / "X.npy"
    path.write_text("1.5,2.0\n3.0,4.0\n")
    _refused(path, f"--x: {path} is not a NumPy .npy file: it holds text, starting '1.5,2.0'")


def test_empty_zip_and_truncated_npy(tmp_path):
    empty = tmp_path / "empty.npy"
    empty.write_bytes(b"")
    _refused(empty, f"--x: {empty} is empty (0 bytes)")
    np.savez(tmp_path / "data.npz", x=np.zeros(3))
    (tmp_path / "data.npz").rename(tmp_path / "zip.npy")
    _refused(
        tmp_path / "zip.npy",
        f"--x: {tmp_path / 'zip.npy'} is not a NumPy .npy file: it is a zip archive (a .npz file? then name it .npz)",
    )
    np.save(tmp_path / "full.npy", np.zeros((40, 4, 3), dtype=np.float32))
    data = (tmp_path / "full.npy").read_bytes()
    (tmp_path / "cut.npy").write_bytes(data[:-1000])
    _refused(
        tmp_path / "cut.npy",
        f"--x: {tmp_path / 'cut.npy'} is truncated: its header announces an array of shape (40, 4, 3) and dtype "
        "float32 (1920 bytes of data), but only 920 bytes follow",
    )


def test_pickle_named_npy_and_object_arrays_are_refused(tmp_path):
    path = tmp_path / "y.npy"
    path.write_bytes(pickle.dumps([1.0, 2.0]))
    message = (
        f"--y: {path} holds Python objects (pickled data), which pyimportance never loads; save a numeric array "
        "instead (numpy.save(path, array.astype(float)))"
    )
    _refused(path, message, what="--y")
    np.save(path, np.array([{"a": 1}, None], dtype=object), allow_pickle=True)
    _refused(path, message, what="--y")


def test_npz_odd_archives(tmp_path):
    np.savez(tmp_path / "empty.npz")
    _refused(tmp_path / "empty.npz", f"--x: {tmp_path / 'empty.npz'} holds no arrays")
    np.savez(tmp_path / "both.npz", x=np.zeros(2), X=np.ones(2))
    _refused(tmp_path / "both.npz", f"--x: {tmp_path / 'both.npz'} holds both 'x' and 'X'; keep only one of them")
    np.save(tmp_path / "plain.npy", np.zeros(2))
    (tmp_path / "plain.npy").rename(tmp_path / "plain.npz")
    _refused(
        tmp_path / "plain.npz",
        f"--x: {tmp_path / 'plain.npz'} is not a NumPy .npz archive: it is a .npy file (then name it .npy)",
    )
    np.savez(tmp_path / "scalar.npz", x=np.float64(3.0))
    assert load_array(tmp_path / "scalar.npz").values.shape == ()  # the command line refuses it (test_cli)


def test_truncated_and_damaged_npz(tmp_path):
    np.savez(tmp_path / "data.npz", x=np.arange(1000.0))
    data = (tmp_path / "data.npz").read_bytes()
    (tmp_path / "cut.npz").write_bytes(data[: len(data) // 2])
    _refused(
        tmp_path / "cut.npz",
        f"--x: {tmp_path / 'cut.npz'} is truncated or damaged: it starts as a zip archive but has no complete "
        "directory",
    )
    damaged = bytearray(data)
    damaged[len(data) // 2] ^= 0xFF  # inside the array's bytes: the zip's CRC no longer matches
    (tmp_path / "crc.npz").write_bytes(bytes(damaged))
    _refused(
        tmp_path / "crc.npz",
        f"--x: {tmp_path / 'crc.npz'} is damaged: cannot read its arrays (Bad CRC-32 for file 'x.npy')",
    )


def test_one_unnamed_array_cannot_serve_both_x_and_y(tmp_path):
    np.savez(tmp_path / "data.npz", np.zeros((3, 2)))
    _refused(
        tmp_path / "data.npz",
        f"--y: {tmp_path / 'data.npz'} holds a single array 'arr_0', which --x reads too; save X and y under the "
        "names 'x' and 'y' (numpy.savez(path, x=X, y=y))",
        what="--y", role="y", shared_with="--x",
    )
    np.savez(tmp_path / "named.npz", x=np.zeros((3, 2)), y=np.arange(3.0))
    named = load_array(tmp_path / "named.npz", "--y", role="y", shared_with="--x")
    np.testing.assert_array_equal(named.values, [0, 1, 2])


def test_object_array_in_npz_is_refused(tmp_path):
    path = tmp_path / "data.npz"
    np.savez(path, x=np.array([object()], dtype=object))
    with pytest.raises(ValueError, match=r"^--x: .* holds Python objects \(pickled data\)"):
        load_array(path, "--x")


def test_large_npy_is_memory_mapped_read_only(tmp_path, monkeypatch):
    monkeypatch.setattr("pyimportance.cli.files.MMAP_MIN_BYTES", 1)
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


def test_a_npz_of_several_named_arrays_holds_one_input_each(tmp_path):
    path = tmp_path / "data.npz"
    np.savez(path, seq=np.zeros((4, 3, 2)), static=np.ones((4, 5)), y=np.arange(4.0))
    found = load_inputs(path, "--x", shared_with="--y")
    assert list(found) == ["seq", "static"]
    assert found["seq"].values.shape == (4, 3, 2) and found["static"].values.shape == (4, 5)
    np.testing.assert_array_equal(load_array(path, "--y", role="y", shared_with="--x").values, np.arange(4.0))


def test_a_npz_with_x_or_a_single_array_holds_one_input(tmp_path):
    np.savez(tmp_path / "named.npz", x=np.zeros((4, 2)), other=np.ones((4, 2)), y=np.arange(4.0))
    np.savez(tmp_path / "one.npz", anything=np.ones((4, 2)))
    np.savez(tmp_path / "with_y.npz", features=np.ones((4, 2)), y=np.arange(4.0))
    assert list(load_inputs(tmp_path / "named.npz")) == [None]
    np.testing.assert_array_equal(load_inputs(tmp_path / "named.npz")[None].values, np.zeros((4, 2)))
    np.testing.assert_array_equal(load_inputs(tmp_path / "one.npz")[None].values, np.ones((4, 2)))
    _refused(
        tmp_path / "with_y.npz",
        f"--x: {tmp_path / 'with_y.npz'} holds several arrays ['features', 'y']; name the one to use 'x' or 'X' "
        "(or save a single array)",
    )


def test_an_array_for_a_named_input_or_head_is_taken_by_its_name(tmp_path):
    path = tmp_path / "data.npz"
    np.savez(path, seq=np.zeros((4, 3, 2)), static=np.ones((4, 5)), sales=np.arange(4.0), churn=np.ones(4))
    assert load_array(path, "--x static", name="static").values.shape == (4, 5)
    np.testing.assert_array_equal(load_array(path, "--y churn", role="y", name="churn").values, np.ones(4))
    _refused(
        path,
        f"--y profit: {path} holds several arrays ['seq', 'static', 'sales', 'churn']; name the one to use "
        "'profit' or 'y' or 'Y' (or save a single array)",
        what="--y profit", role="y", name="profit",
    )


# --- model files: checked by content before Keras is imported ------------------------------------


def _refused_model(path: Path, message: str) -> None:
    with pytest.raises(ValueError) as error:
        load_model(path)
    assert str(error.value) == message


def _keras_archive(path: Path, members=("config.json", "metadata.json", "model.weights.h5")) -> bytes:
    with zipfile.ZipFile(path, "w") as archive:
        for member in members:
            archive.writestr(member, "{}" * 200)
    return path.read_bytes()


def test_truncated_keras_file_is_not_called_missing(tmp_path):
    data = _keras_archive(tmp_path / "full.keras")
    (tmp_path / "model.keras").write_bytes(data[: len(data) // 2])
    _refused_model(
        tmp_path / "model.keras",
        f"--model: {tmp_path / 'model.keras'} is truncated or damaged: it starts as a zip archive but has no "
        "complete directory",
    )


def test_model_files_whose_content_does_not_match_the_suffix(tmp_path):
    (tmp_path / "text.keras").write_text("not a model\n")
    _refused_model(
        tmp_path / "text.keras",
        f"--model: {tmp_path / 'text.keras'} is not a .keras model file (a zip archive): it holds text, starting "
        "'not a model'",
    )
    (tmp_path / "legacy.keras").write_bytes(b"\x89HDF\r\n\x1a\n" + bytes(100))
    _refused_model(
        tmp_path / "legacy.keras",
        f"--model: {tmp_path / 'legacy.keras'} is an HDF5 file (a legacy Keras .h5 model), not a .keras archive; "
        "name it .h5",
    )
    _keras_archive(tmp_path / "other.keras", members=("data.csv",))
    _refused_model(
        tmp_path / "other.keras",
        f"--model: {tmp_path / 'other.keras'} is a zip archive without config.json, so not a Keras model file",
    )
    _keras_archive(tmp_path / "zipped.h5")
    _refused_model(
        tmp_path / "zipped.h5",
        f"--model: {tmp_path / 'zipped.h5'} is a zip archive (a .keras model?), not an HDF5 file; name it .keras",
    )
    (tmp_path / "empty.h5").write_bytes(b"")
    _refused_model(tmp_path / "empty.h5", f"--model: {tmp_path / 'empty.h5'} is empty (0 bytes)")
    (tmp_path / "pickled.h5").write_bytes(pickle.dumps({"weights": [1.0]}))
    with pytest.raises(ValueError, match=r"pickled.h5 holds Python objects \(pickled data\), which pyimportance"):
        load_model(tmp_path / "pickled.h5")


# --- outputs -----------------------------------------------------------------------------------------


def test_check_writable_refuses_a_path_under_a_file(tmp_path):
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(ValueError) as error:
        check_writable(tmp_path / "notes.txt" / "r.csv", "--out", overwrite=False)
    assert str(error.value) == (
        f"--out: cannot write {tmp_path / 'notes.txt' / 'r.csv'}: {tmp_path / 'notes.txt'} is a file, not a directory"
    )


def test_same_file_sees_through_dot_dot_and_links(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "X.npy").write_bytes(b"x")
    (tmp_path / "link.npy").symlink_to(tmp_path / "X.npy")
    assert same_file(tmp_path / "sub" / ".." / "X.npy", tmp_path / "X.npy")
    assert same_file(tmp_path / "link.npy", tmp_path / "X.npy")
    assert same_file(tmp_path / "new.png", tmp_path / "sub" / ".." / "new.png")  # neither exists yet
    assert not same_file(tmp_path / "a.csv", tmp_path / "a.png")


@pytest.mark.parametrize(("suffix", "magic"), [(".png", b"\x89PNG"), (".pdf", b"%PDF"), (".svg", b"<?xml")])
def test_write_figure_uses_the_format_of_the_suffix(tmp_path, suffix, magic):
    import matplotlib.figure

    path = write_figure(matplotlib.figure.Figure(), tmp_path / f"plot{suffix}")
    assert path.read_bytes().startswith(magic)


def test_write_figure_refuses_an_unknown_suffix(tmp_path):
    import matplotlib.figure

    with pytest.raises(ValueError) as error:
        write_figure(matplotlib.figure.Figure(), tmp_path / "plot.jpg")
    assert str(error.value) == f"--plot: unsupported file type '.jpg' for {tmp_path / 'plot.jpg'}; use .png, .pdf, .svg"
    assert list(tmp_path.iterdir()) == []


def _failing_to_csv(self, path, **kwargs):
    """Write half a CSV, then fail like a full disk."""
    Path(path).write_text("feature,importance\nx1,0.")
    raise OSError(28, "No space left on device")


def test_failed_csv_write_leaves_no_file_and_no_temp_file(tmp_path, monkeypatch):
    monkeypatch.setattr(pd.DataFrame, "to_csv", _failing_to_csv)
    with pytest.raises(OSError, match="No space left on device"):
        write_csv(pd.DataFrame({"a": [1.0]}), tmp_path / "r.csv")
    assert files_in(tmp_path) == []


def test_failed_csv_write_keeps_the_old_file(tmp_path, monkeypatch):
    target = tmp_path / "r.csv"
    target.write_text("old,content\n")
    monkeypatch.setattr(pd.DataFrame, "to_csv", _failing_to_csv)
    with pytest.raises(OSError):
        write_csv(pd.DataFrame({"a": [1.0]}), target, overwrite=True)
    assert target.read_text() == "old,content\n"
    assert files_in(tmp_path) == ["r.csv"]


def test_failed_png_write_leaves_no_file_and_no_temp_file(tmp_path, monkeypatch):
    import matplotlib.figure

    def failing_savefig(self, path, **kwargs):
        Path(path).write_bytes(b"\x89PNG half")
        raise KeyboardInterrupt  # an interrupt is cleaned up too

    figure = matplotlib.figure.Figure()
    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", failing_savefig)
    with pytest.raises(KeyboardInterrupt):
        write_figure(figure, tmp_path / "plot.png")
    assert files_in(tmp_path) == []


def test_atomic_write_creates_the_directory_and_the_usual_permissions(tmp_path):
    target = tmp_path / "new" / "dir" / "r.txt"
    with atomic_write(target) as tmp:
        assert tmp.parent == target.parent and tmp != target
        tmp.write_text("done")
    assert target.read_text() == "done"
    umask = os.umask(0)
    os.umask(umask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~umask
    assert files_in(target.parent) == ["r.txt"]


def test_atomic_write_refuses_a_directory(tmp_path):
    with pytest.raises(ValueError, match=r"^--out: .* is a directory; give a file name$"):
        write_csv(pd.DataFrame({"a": [1]}), tmp_path, "--out")


# --- native start-up notices ---------------------------------------------------------------------


def test_native_stderr_is_held_back_and_replayed_only_on_failure(capfd):
    with _native_stderr_held():
        os.write(2, b"I0000 oneDNN custom operations are on\n")
    assert capfd.readouterr().err == ""
    with pytest.raises(ImportError), _native_stderr_held():
        os.write(2, b"libfoo.so: cannot open shared object file\n")
        raise ImportError("no keras")
    assert capfd.readouterr().err == "libfoo.so: cannot open shared object file\n"
    os.write(2, b"after\n")
    assert capfd.readouterr().err == "after\n"


# --- input files through the command line ----------------------------------------------------------


def test_missing_x_file_names_the_option(tmp_path, capsys):
    missing = tmp_path / "nope.npy"
    code = cli.main(["run", "--model", "m.keras", "--x", str(missing), "--out", str(tmp_path / "r.csv")])
    assert code == 1
    assert error_line(capsys) == f"pyimportance: error: --x: file not found: {missing}"


def test_unknown_extension_names_the_option(tmp_path, arrays, capsys):
    (tmp_path / "y.txt").write_text("1\n2\n")
    code = cli.main(
        ["run", "--model", "m.keras", "--x", str(tmp_path / "X.npy"), "--y", str(tmp_path / "y.txt"),
         "--out", str(tmp_path / "r.csv")]
    )
    assert code == 1
    assert error_line(capsys) == (
        f"pyimportance: error: --y: unsupported file type '.txt' for {tmp_path / 'y.txt'}; use .npy, .npz, .csv"
    )


def test_missing_model_file_and_wrong_model_extension(tmp_path, arrays, capsys):
    base = ["run", "--x", str(tmp_path / "X.npy"), "--out", str(tmp_path / "r.csv")]
    assert cli.main([*base, "--model", str(tmp_path / "m.keras")]) == 1
    assert error_line(capsys) == f"pyimportance: error: --model: file not found: {tmp_path / 'm.keras'}"
    (tmp_path / "m.pkl").write_bytes(pickle.dumps({"not": "a model"}))
    assert cli.main([*base, "--model", str(tmp_path / "m.pkl")]) == 1
    assert error_line(capsys) == (
        f"pyimportance: error: --model: unsupported file type '.pkl' for {tmp_path / 'm.pkl'}; "
        "use .keras, .h5, .hdf5"
    )


def test_object_array_npy_is_refused(tmp_path, capsys):
    path = tmp_path / "X.npy"
    np.save(path, np.array([{"a": 1}, None], dtype=object), allow_pickle=True)
    code = cli.main(["run", "--model", "m.keras", "--x", str(path), "--out", str(tmp_path / "r.csv")])
    assert code == 1
    assert error_line(capsys) == (
        f"pyimportance: error: --x: {path} holds Python objects (pickled data), which pyimportance never loads; "
        "save a numeric array instead (numpy.save(path, array.astype(float)))"
    )


# --- outputs through the command line: never overwritten by default, always written atomically ----


def test_existing_output_is_not_overwritten(tmp_path, arrays, capsys):
    out = tmp_path / "result.csv"
    out.write_text("keep me\n")
    code = cli.main(["run", "--model", "m.keras", "--x", str(tmp_path / "X.npy"), "--out", str(out)])
    assert code == 1
    assert error_line(capsys) == f"pyimportance: error: --out: {out} already exists; pass --overwrite to replace it"
    assert out.read_text() == "keep me\n"


def test_existing_plot_is_not_overwritten(tmp_path, arrays, capsys):
    plot = tmp_path / "plot.png"
    plot.write_bytes(b"old")
    code = cli.main(
        ["run", "--model", "m.keras", "--x", str(tmp_path / "X.npy"), "--out", str(tmp_path / "r.csv"),
         "--plot", str(plot)]
    )
    assert code == 1
    assert error_line(capsys) == f"pyimportance: error: --plot: {plot} already exists; pass --overwrite to replace it"
    assert plot.read_bytes() == b"old"


def test_output_under_a_file_is_refused_before_any_work(tmp_path, linear_model, capsys):
    np.save(tmp_path / "X.npy", MEASURED)
    (tmp_path / "results").write_text("a file")
    out = tmp_path / "results" / "r.csv"
    assert cli.main(["run", "--model", "m.keras", "--x", str(tmp_path / "X.npy"), "--out", str(out)]) == 1
    assert error_line(capsys) == (
        f"pyimportance: error: --out: cannot write {out}: {tmp_path / 'results'} is a file, not a directory"
    )


def test_plot_format_follows_its_suffix(tmp_path, linear_model):
    np.save(tmp_path / "X.npy", MEASURED)
    assert run_zero(tmp_path, "--x", str(tmp_path / "X.npy"), "--plot", str(tmp_path / "p.svg")) == 0
    assert (tmp_path / "p.svg").read_text().startswith("<?xml")


# --- model files through the command line ----------------------------------------------------------


def test_truncated_keras_model_is_reported_as_truncated(tmp_path, arrays, capsys):
    import zipfile

    with zipfile.ZipFile(tmp_path / "full.keras", "w") as archive:
        archive.writestr("config.json", "{}" * 500)
    data = (tmp_path / "full.keras").read_bytes()
    (tmp_path / "m.keras").write_bytes(data[: len(data) // 2])
    code = cli.main(["run", "--model", str(tmp_path / "m.keras"), "--x", str(tmp_path / "X.npy"),
                     "--out", str(tmp_path / "r.csv")])
    assert code == 1
    assert error_line(capsys) == (
        f"pyimportance: error: --model: {tmp_path / 'm.keras'} is truncated or damaged: it starts as a zip archive "
        "but has no complete directory"
    )


# --- with Keras ------------------------------------------------------------------------------------


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
    assert read_result(out).columns.tolist() == [
        "feature", "importance", "std", "ci_low", "ci_high", "p_value", "p_adjusted"
    ]


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
    assert error_line(capsys) == "pyimportance: error: [Errno 28] No space left on device"
    assert out.read_text() == "old\n"
    assert files_in(tmp_path) == ["X.npy", "r.csv", "y.npy"]


@pytest.mark.keras
def test_lambda_model_is_refused_without_unsafe_and_loaded_with_it(saved_models, tmp_path, arrays, capsys):
    _, models = saved_models
    model_path = models / "lambda.keras"
    args = ["run", "--model", str(model_path), "--x", str(tmp_path / "X.npy"), "--n-repeats", "2",
            "--out", str(tmp_path / "r.csv")]
    assert cli.main(args) == 1
    assert error_line(capsys) == (
        f"pyimportance: error: --model: {model_path} contains a Lambda layer with Python code, which is not "
        "loaded by default because it can run arbitrary code; if you trust this file, pass --unsafe"
    )
    assert not (tmp_path / "r.csv").exists()
    assert cli.main([*args, "--unsafe"]) == 0
    assert len(read_result(tmp_path / "r.csv")) == CLI_F


@pytest.mark.keras
def test_lambda_model_in_legacy_h5_is_refused_too(saved_models, tmp_path, arrays, capsys):
    _, models = saved_models
    args = ["run", "--model", str(models / "lambda.h5"), "--x", str(tmp_path / "X.npy"), "--n-repeats", "2",
            "--out", str(tmp_path / "r.csv")]
    assert cli.main(args) == 1
    assert error_line(capsys).endswith("if you trust this file, pass --unsafe")
    assert cli.main([*args, "--unsafe"]) == 0


@pytest.mark.keras
def test_truncated_h5_model_is_reported_as_truncated(saved_models, tmp_path, arrays, capsys):
    _, models = saved_models
    data = (models / "model.h5").read_bytes()
    (tmp_path / "m.h5").write_bytes(data[: len(data) // 2])
    code = cli.main(["run", "--model", str(tmp_path / "m.h5"), "--x", str(tmp_path / "X.npy"),
                     "--out", str(tmp_path / "r.csv")])
    assert code == 1
    assert error_line(capsys).startswith(
        f"pyimportance: error: --model: {tmp_path / 'm.h5'} is truncated or damaged (Unable to synchronously open "
        "file (truncated file: eof = "
    )
