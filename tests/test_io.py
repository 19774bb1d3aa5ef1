"""File handling of the command line (pyimportance.io): what each odd file gets, to the word.

Every message names the option, the file and the actual problem. None of these tests needs
TensorFlow: model files are checked by their content before Keras is imported.
"""

from __future__ import annotations

import os
import pickle
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pyimportance.io import (
    _native_stderr_held,
    check_writable,
    load_array,
    load_model,
    same_file,
    write_figure,
)


def _csv(tmp_path: Path, text: str, name: str = "X.csv") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def _refused(path: Path, message: str, what: str = "--x", **kwargs) -> None:
    with pytest.raises(ValueError) as error:
        load_array(path, what, **kwargs)
    assert str(error.value) == message


# --- the CSV header rule -------------------------------------------------------------------------

MEASURED = "0.5,1.25,-2\n1,-1,3.5\n2,0.25,1\n-0.75,2,0\n"  # four rows of measurements (with fractions)
MEASURED_VALUES = [[0.5, 1.25, -2.0], [1.0, -1.0, 3.5], [2.0, 0.25, 1.0], [-0.75, 2.0, 0.0]]


def test_a_first_row_with_a_name_is_the_header(tmp_path):
    loaded = load_array(_csv(tmp_path, "temp,2021,ads\n" + MEASURED))
    assert loaded.column_names == ["temp", "2021", "ads"]
    np.testing.assert_array_equal(loaded.values, MEASURED_VALUES)
    assert loaded.first_row_guessed_data is False


def test_a_first_row_of_measurements_is_data(tmp_path):
    loaded = load_array(_csv(tmp_path, MEASURED))
    assert loaded.column_names is None
    np.testing.assert_array_equal(loaded.values, MEASURED_VALUES)
    assert loaded.first_row_guessed_data is True


def test_a_numeric_header_over_measurements_is_refused_not_read_as_a_sample(tmp_path):
    path = _csv(tmp_path, "2020,2021,2022\n" + MEASURED)
    _refused(
        path,
        f"--x: cannot tell whether the first row of {path} (2020, 2021, 2022) is a header or data: it holds whole "
        "numbers over columns with fractions, as a header of numbers (years, ids) would; pass --x-header if it is "
        "a header (column names) or --no-x-header if it is data",
    )


def test_the_header_flags_decide_a_numeric_first_row(tmp_path):
    path = _csv(tmp_path, "2020,2021,2022\n" + MEASURED)
    as_header = load_array(path, header=True)
    assert as_header.column_names == ["2020", "2021", "2022"]
    np.testing.assert_array_equal(as_header.values, MEASURED_VALUES)
    as_data = load_array(path, header=False)
    assert as_data.column_names is None and as_data.first_row_guessed_data is False
    np.testing.assert_array_equal(as_data.values, [[2020.0, 2021.0, 2022.0], *MEASURED_VALUES])


def test_pandas_unnamed_column_labels_are_refused(tmp_path):
    path = tmp_path / "X.csv"
    pd.DataFrame(np.array(MEASURED_VALUES)).to_csv(path, index=False)  # header 0,1,2
    _refused(
        path,
        f"--y: cannot tell whether the first row of {path} (0, 1, 2) is a header or data: it is 0, 1, ..., as the "
        "column labels pandas writes for a DataFrame without column names; pass --y-header if it is a header "
        "(column names) or --no-y-header if it is data",
        what="--y",
    )
    assert load_array(path, header=True).column_names == ["0", "1", "2"]


def test_a_first_row_of_numbers_and_gaps_is_refused(tmp_path):
    path = _csv(tmp_path, ",1,2\n" + "5,0.5,1\n")
    _refused(
        path,
        f"--x: cannot tell whether the first row of {path} (, 1, 2) is a header or data: it holds numbers and empty "
        "or NA fields: a header with an unnamed column, or data with missing values; pass --x-header if it is a "
        "header (column names) or --no-x-header if it is data",
    )


def test_whole_numbers_over_whole_numbers_are_data(tmp_path):
    # Counts in every row: nothing tells a header apart, so the first row is data (documented rule).
    loaded = load_array(_csv(tmp_path, "3,1\n4,1\n5,9\n"))
    np.testing.assert_array_equal(loaded.values, [[3, 1], [4, 1], [5, 9]])
    assert loaded.first_row_guessed_data is True


def test_names_are_stripped_and_quotes_bom_and_blank_lines_are_handled(tmp_path):
    path = tmp_path / "X.csv"
    path.write_bytes(b'\xef\xbb\xbf"temp", price\n\n1.5, 2\n3,4\n\n')
    loaded = load_array(path)
    assert loaded.column_names == ["temp", "price"]
    np.testing.assert_array_equal(loaded.values, [[1.5, 2.0], [3.0, 4.0]])


def test_numbers_are_read_exactly(tmp_path):
    values = np.random.default_rng(5).normal(size=(20, 3))
    path = tmp_path / "X.csv"
    pd.DataFrame(values, columns=["a", "b", "c"]).to_csv(path, index=False)
    np.testing.assert_array_equal(load_array(path).values, values)
    np.savetxt(tmp_path / "plain.csv", values, delimiter=",")
    np.testing.assert_array_equal(load_array(tmp_path / "plain.csv").values, values)


# --- CSV files that cannot be read as they are -----------------------------------------------------


def test_header_only_csv(tmp_path):
    path = _csv(tmp_path, "temp,price,ads\n")
    _refused(path, f"--x: {path} has a header row (temp, price, ads) but no data rows")


def test_empty_and_blank_csv(tmp_path):
    empty = _csv(tmp_path, "", "empty.csv")
    _refused(empty, f"--y: {empty} is empty: it has no header and no data rows", what="--y")
    blank = _csv(tmp_path, "\n  \n", "blank.csv")
    _refused(blank, f"--x: {blank} is empty: it has no header and no data rows")


def test_duplicated_header_names_are_refused_not_renamed(tmp_path):
    path = _csv(tmp_path, "temp,price,temp\n1,2,3\n")
    _refused(path, f"--x: {path} names two columns 'temp' (columns 1 and 3); column names must be unique")


def test_row_index_column_is_refused(tmp_path):
    path = tmp_path / "X.csv"
    pd.DataFrame({"temp": [1.5, 2.5], "price": [3.0, 4.0]}).to_csv(path)  # index=True: ",temp,price"
    _refused(
        path,
        f"--x: column 1 of {path} has no name in the header row; an unnamed first column is usually a row index "
        "(written by pandas' to_csv() without index=False, or R's write.csv() without row.names = FALSE): save "
        "the file without it",
    )
    trailing = _csv(tmp_path, "a,b,\n1,2,\n", "trailing.csv")
    _refused(
        trailing,
        f"--x: column 3 of {trailing} has no name in the header row; is there a comma at the end of the lines?",
    )


def test_semicolon_and_tab_separated_csv(tmp_path):
    semicolons = _csv(tmp_path, "temp;price\n1,5;2,25\n", "semi.csv")
    _refused(
        semicolons,
        f"--x: {semicolons} is separated by semicolons, not commas (line 1: 'temp;price'); pyimportance reads "
        "comma-separated files with '.' as the decimal point: convert it, e.g. "
        "pandas.read_csv(path, sep=';', decimal=',').to_csv(new_path, index=False)",
    )
    tabs = _csv(tmp_path, "1.5\t2\n3\t4\n", "tabs.csv")
    with pytest.raises(ValueError, match=r"is separated by tabs, not commas .*pandas.read_csv\(path, sep='\\t'"):
        load_array(tabs, "--x")


def test_text_value_names_line_column_and_field(tmp_path):
    path = _csv(tmp_path, "temp,city\n1.5,2\n3,Rome\n")
    _refused(
        path,
        f"--x: {path} has a value that is not a number, 'Rome', at line 3, column 2 ('city'); a CSV must hold "
        "numbers only",
    )


def test_a_named_first_row_declared_data_is_refused(tmp_path):
    path = _csv(tmp_path, "temp,price\n1,2\n")
    _refused(
        path,
        f"--x: {path} has a value that is not a number, 'temp', at line 1, column 1 (read as data because of "
        "--no-x-header); a CSV must hold numbers only",
        header=False,
    )


def test_missing_short_and_infinite_values_name_the_line(tmp_path):
    missing = _csv(tmp_path, "a,b\n1,2\n\n3,NA\n", "missing.csv")  # the blank line counts in line numbers
    _refused(missing, f"--x: {missing} has a missing value, 'NA', at line 4, column 2 ('b'); remove or impute it")
    short = _csv(tmp_path, "1.5,2\n3,4\n5\n", "short.csv")
    _refused(
        short,
        f"--x: {short} has no value at line 3, column 2: the line has only 1 of 2 fields; every line must have the "
        "same number of fields",
    )
    first_short = _csv(tmp_path, "a,b\n3\n5,6\n", "first_short.csv")
    _refused(
        first_short,
        f"--x: {first_short} has 2 fields at line 1 but 1 at line 2; every line must have the same number of fields",
    )
    infinite = _csv(tmp_path, "a,b\n1,inf\n", "inf.csv")
    _refused(infinite, f"--x: {infinite} has an infinite value, 'inf', at line 2, column 2 ('b'); remove or impute it")


def test_a_line_with_more_fields_is_refused(tmp_path):
    header = _csv(tmp_path, "a,b\n1,2,3\n", "header.csv")  # pandas would take column 1 as an index
    same = "every line must have the same number of fields"
    _refused(header, f"--x: {header} has 2 fields at line 1 but 3 at line 2; {same}")
    later = _csv(tmp_path, "a,b\n1,2\n3,4\n5,6,7\n", "later.csv")
    _refused(later, f"--x: {later} has 3 fields at line 4, but 2 on the lines before it; {same}")


def test_csv_that_is_not_utf8_text(tmp_path):
    latin1 = tmp_path / "latin1.csv"
    latin1.write_bytes("température,prix\n1,2\n".encode("latin-1"))
    _refused(latin1, f"--x: {latin1} is not UTF-8 text (byte 0xe9 at position 4); save it as UTF-8")
    spreadsheet = tmp_path / "book.csv"
    with zipfile.ZipFile(spreadsheet, "w") as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
    _refused(
        spreadsheet, f"--x: {spreadsheet} is not a CSV text file: it is a zip archive (such as .npz, .keras or .xlsx)"
    )


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
