"""Numeric CSV files (pyimportance.cli.csvfile): the header rule, and every refusal to the word.

Each message names the option the file came from, the file, and the line, column and field.
"""

from __future__ import annotations

from pathlib import Path

import helpers
import numpy as np
import pandas as pd
import pytest

from pyimportance.cli.csvfile import header_flags, read_csv


def _csv(tmp_path: Path, text: str, name: str = "X.csv") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def _refused(path: Path, message: str, what: str = "--x", **kwargs) -> None:
    with pytest.raises(ValueError) as error:
        read_csv(path, what, **kwargs)
    assert str(error.value) == message


# --- the CSV header rule -------------------------------------------------------------------------

MEASURED = "0.5,1.25,-2\n1,-1,3.5\n2,0.25,1\n-0.75,2,0\n"  # four rows of measurements (with fractions)
MEASURED_VALUES = [[0.5, 1.25, -2.0], [1.0, -1.0, 3.5], [2.0, 0.25, 1.0], [-0.75, 2.0, 0.0]]


def test_a_first_row_with_a_name_is_the_header(tmp_path):
    loaded = read_csv(_csv(tmp_path, "temp,2021,ads\n" + MEASURED))
    assert loaded.column_names == ["temp", "2021", "ads"]
    np.testing.assert_array_equal(loaded.values, MEASURED_VALUES)
    assert loaded.first_row_guessed_data is False


def test_a_first_row_of_measurements_is_data(tmp_path):
    loaded = read_csv(_csv(tmp_path, MEASURED))
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
    as_header = read_csv(path, header=True)
    assert as_header.column_names == ["2020", "2021", "2022"]
    np.testing.assert_array_equal(as_header.values, MEASURED_VALUES)
    as_data = read_csv(path, header=False)
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
    assert read_csv(path, header=True).column_names == ["0", "1", "2"]


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
    loaded = read_csv(_csv(tmp_path, "3,1\n4,1\n5,9\n"))
    np.testing.assert_array_equal(loaded.values, [[3, 1], [4, 1], [5, 9]])
    assert loaded.first_row_guessed_data is True


def test_names_are_stripped_and_quotes_bom_and_blank_lines_are_handled(tmp_path):
    path = tmp_path / "X.csv"
    path.write_bytes(b'\xef\xbb\xbf"temp", price\n\n1.5, 2\n3,4\n\n')
    loaded = read_csv(path)
    assert loaded.column_names == ["temp", "price"]
    np.testing.assert_array_equal(loaded.values, [[1.5, 2.0], [3.0, 4.0]])


def test_numbers_are_read_exactly(tmp_path):
    values = np.random.default_rng(5).normal(size=(20, 3))
    path = tmp_path / "X.csv"
    pd.DataFrame(values, columns=["a", "b", "c"]).to_csv(path, index=False)
    np.testing.assert_array_equal(read_csv(path).values, values)
    np.savetxt(tmp_path / "plain.csv", values, delimiter=",")
    np.testing.assert_array_equal(read_csv(tmp_path / "plain.csv").values, values)


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
        read_csv(tabs, "--x")


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


def test_a_file_for_a_named_input_is_told_the_flags_of_its_option(tmp_path):
    path = _csv(tmp_path, "2020,2021,2022\n" + MEASURED)
    _refused(
        path,
        f"--x static: cannot tell whether the first row of {path} (2020, 2021, 2022) is a header or data: it holds "
        "whole numbers over columns with fractions, as a header of numbers (years, ids) would; pass --x-header if it "
        "is a header (column names) or --no-x-header if it is data",
        what="--x static",
    )
    assert header_flags("--reference seq") == ("--reference-header", "--no-reference-header")


# --- the header rule through the command line ------------------------------------------------------


def test_numeric_header_is_asked_for_and_then_read_as_told(tmp_path, linear_model, capsys):
    x_path = tmp_path / "X.csv"
    x_path.write_text(
        "2020,2021,2022\n" + "".join(",".join(repr(float(v)) for v in row) + "\n" for row in helpers.MEASURED)
    )
    assert helpers.run_zero(tmp_path, "--x", str(x_path)) == 1
    assert helpers.error_line(capsys) == (
        f"pyimportance: error: --x: cannot tell whether the first row of {x_path} (2020, 2021, 2022) is a header or "
        "data: it holds whole numbers over columns with fractions, as a header of numbers (years, ids) would; pass "
        "--x-header if it is a header (column names) or --no-x-header if it is data"
    )
    assert helpers.run_zero(tmp_path, "--x", str(x_path), "--x-header") == 0
    result = pd.read_csv(tmp_path / "r.csv", dtype={"feature": str}).set_index("feature")["importance"]
    np.testing.assert_allclose(result[["2020", "2021", "2022"]], helpers.zero_importances(helpers.MEASURED), rtol=1e-12)
    assert "evaluated once (deterministic method), 4 rows\n" in capsys.readouterr().out
    assert helpers.run_zero(tmp_path, "--x", str(x_path), "--no-x-header", "--overwrite") == 0
    with_first_row = np.vstack([[2020.0, 2021.0, 2022.0], helpers.MEASURED])
    result = helpers.read_result(tmp_path / "r.csv").set_index("feature")["importance"]
    np.testing.assert_allclose(result[["x1", "x2", "x3"]], helpers.zero_importances(with_first_row), rtol=1e-12)
    assert "evaluated once (deterministic method), 5 rows\n" in capsys.readouterr().out


# --- decimal commas ---------------------------------------------------------------------------------

COMMA_FIX = ("pyimportance reads commas as separators and '.' as the decimal point: write the file with '.' "
             "decimals, e.g. pandas.read_csv(path, sep=';', decimal=',').to_csv(new_path, index=False), or in R "
             "write.csv() rather than write.csv2()")


def test_a_decimal_comma_is_named_by_line_and_columns(tmp_path):
    every_line = _csv(tmp_path, "1,5\n-0,73\n2,25\n", "y.csv")  # read as two columns of whole numbers
    _refused(every_line, f"--y: {every_line} line 2: '-0,73' in columns 1 and 2 looks like one number written "
             f"with a decimal comma (-0.73); {COMMA_FIX}", what="--y")
    with_header = _csv(tmp_path, "sales,churn\n2,05,1\n1,5,0\n", "heads.csv")
    _refused(with_header, f"--y: {with_header} has 2 fields at line 1 but 3 at line 2; at line 2, '2,05' in "
             f"columns 1 and 2 looks like one number written with a decimal comma (2.05); {COMMA_FIX}", what="--y")


def test_a_decimal_comma_on_one_line_of_a_column_is_named(tmp_path):
    later = _csv(tmp_path, "sales\n1.5\n2.5\n-0,73\n", "y.csv")
    _refused(later, f"--y: {later} has 2 fields at line 4, but 1 on the lines before it; '-0,73' in columns 1 and 2 "
             f"looks like one number written with a decimal comma (-0.73); {COMMA_FIX}", what="--y")
    second = _csv(tmp_path, "0.5\n-0,73\n1.25\n", "second.csv")
    _refused(second, f"--y: {second} has 1 fields at line 1 but 2 at line 2; at line 2, '-0,73' in columns 1 and 2 "
             f"looks like one number written with a decimal comma (-0.73); {COMMA_FIX}", what="--y")


def test_whole_numbers_without_a_decimal_comma_pattern_are_read(tmp_path):
    counts = _csv(tmp_path, "a,b\n1,2\n-3,40\n10,0\n", "counts.csv")
    assert read_csv(counts).values.tolist() == [[1.0, 2.0], [-3.0, 40.0], [10.0, 0.0]]
