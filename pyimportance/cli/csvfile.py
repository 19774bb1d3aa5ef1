"""Numeric CSV files: the header rule, and errors that name the line, column and field.

A CSV here is comma-separated, UTF-8, with '.' as the decimal point, numbers only, no gaps;
it holds a 2D table (samples x features, or targets). pandas reads the numbers; this module
decides what pandas cannot and reports what it reports vaguely.

The header rule (``header=None``) is written here by hand because no CSV reader decides it
the way a command line must: pandas' ``header="infer"`` always takes the first row as the
header, and ``csv.Sniffer.has_header`` guesses silently from type patterns. The rule:

- a first row with any field that is not a number is a header (column names);
- a first row of numbers is data, unless it cannot be told apart from a header: whole
  numbers over columns that hold fractions (``2020,2021,2022`` over measurements), the
  labels ``0,1,...,k-1`` that pandas writes for an unnamed DataFrame, or numbers mixed with
  empty fields. Those are refused with a message asking for ``--x-header``/``--no-x-header``
  (the flags of the option the file came from).

A decimal comma (``-0,73`` written for -0.73) splits a number into two fields that each read
as a whole number; a file of whole numbers only whose lines hold such a pair (``-0`` before a
field of digits, or a field of digits with a leading zero such as ``05``) is refused, naming
the line and the columns, with the fix.

Line numbers are counted as an editor shows them (blank lines included); column numbers from 1.
The caller checks first that the file holds text (see :mod:`.files`).
"""

from __future__ import annotations

import csv
import itertools
import re
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import numpy as np

_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|[+-]?(?:inf|infinity)", re.IGNORECASE)
_WHOLE_NUMBER = re.compile(r"[+-]?\d+")
_DIGITS = re.compile(r"\d+")
# Fields pandas reads as missing by default (its na_values), compared in lower case.
_MISSING_FIELDS = {"", "na", "nan", "-nan", "n/a", "#n/a", "null", "none", "<na>", "#na", "-1.#ind", "1.#ind"}
_RAGGED_LINE = re.compile(r"Expected (\d+) fields in line (\d+), saw (\d+)")  # pandas' C parser
_SEPARATORS = {";": "semicolons", "\t": "tabs", "|": "vertical bars"}


class CsvTable(NamedTuple):
    """The numbers of a CSV file.

    ``column_names`` are the names of its header row (else None); ``first_row_guessed_data``
    is True when a first row of numbers was read as data by the automatic header rule (so a
    caller that finds one row too many can say which flag fixes it).
    """

    values: np.ndarray  # (n_rows, n_columns) float64
    column_names: list[str] | None
    first_row_guessed_data: bool = False


def first_line(path: Path) -> str:
    """The first line of a text file, shortened to 40 characters, for messages."""
    with open(path, "rb") as handle:
        line = handle.readline(200).decode("utf-8-sig", errors="replace").strip()
    return line if len(line) <= 40 else line[:37] + "..."


def header_flags(what: str) -> tuple[str, str]:
    """The flags that say a file's first row is a header / is data, for the option in ``what`` ("--x seq")."""
    name = what.split()[0].lstrip("-")
    return f"--{name}-header", f"--no-{name}-header"



def _field_kind(field: str) -> str:
    """"missing", "number" or "name" for one stripped CSV field."""
    if field.lower() in _MISSING_FIELDS:
        return "missing"
    return "number" if _NUMBER.fullmatch(field) else "name"


def _csv_records(path: Path) -> Iterator[tuple[int, list[str]]]:
    """(line number where the record ends, stripped fields) of each non-blank record."""
    with open(path, newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle)
        for record in reader:
            if len(record) > 1 or (record and record[0].strip()):  # pandas skips blank lines too
                yield reader.line_num, [field.strip() for field in record]


def _csv_record(path: Path, index: int) -> tuple[int, list[str]]:
    """Line number and fields of the ``index``-th non-blank record (0 = the first)."""
    for position, (line, fields) in enumerate(_csv_records(path)):
        if position == index:
            return line, fields
    raise IndexError(index)  # pragma: no cover - only asked for records that pandas read


def _first_csv_record(path: Path, what: str) -> tuple[int, list[str]]:
    try:
        first = next(_csv_records(path), None)
    except UnicodeDecodeError as error:
        raise ValueError(
            f"{what}: {path} is not UTF-8 text (byte {error.object[error.start]:#04x} at position {error.start}); "
            "save it as UTF-8"
        ) from None
    except csv.Error as error:
        raise ValueError(f"{what}: cannot read {path} as CSV ({error})") from None
    if first is None:
        raise ValueError(f"{what}: {path} is empty: it has no header and no data rows")
    line, fields = first
    if len(fields) == 1:
        for separator, name in _SEPARATORS.items():
            if separator in fields[0]:
                sep = "\\t" if separator == "\t" else separator
                raise ValueError(
                    f"{what}: {path} is separated by {name}, not commas (line {line}: {first_line(path)!r}); "
                    "pyimportance reads comma-separated files with '.' as the decimal point: convert it, e.g. "
                    f"pandas.read_csv(path, sep='{sep}', decimal=',').to_csv(new_path, index=False)"
                )
    return line, fields


def _read_rows(path: Path, what: str, skip_lines: int):
    """The CSV's records after the first ``skip_lines`` lines, as a DataFrame (columns 0..k-1)."""
    import pandas as pd

    # pandas < 3 parses decimals to the nearest double only with float_precision="round_trip"
    # (its default is off by an ulp for about a third of them); pandas 3 is exact and deprecates the option.
    exact = {"float_precision": "round_trip"} if int(pd.__version__.split(".")[0]) < 3 else {}
    try:
        return pd.read_csv(
            path, header=None, skiprows=skip_lines, skipinitialspace=True, encoding="utf-8-sig", **exact
        )
    except pd.errors.EmptyDataError:
        return pd.DataFrame()
    except UnicodeDecodeError as error:
        raise ValueError(
            f"{what}: {path} is not UTF-8 text ({error.reason} at byte {error.start}); save it as UTF-8"
        ) from None
    except (ValueError, pd.errors.ParserError) as error:
        ragged = _RAGGED_LINE.search(str(error))
        if ragged:
            expected, line, seen = ragged.groups()
            fields = next((fields for number, fields in _csv_records(path) if number == int(line)), [])
            hint = decimal_comma_hint(fields)
            raise ValueError(
                f"{what}: {path} has {seen} fields at line {line}, but {expected} on the lines before it; "
                + (hint if hint else "every line must have the same number of fields")
            ) from None
        raise ValueError(f"{what}: cannot read {path} as CSV ({' '.join(str(error).split())})") from None


def _decimal_comma_at(fields: list[str]) -> int | None:
    """Position of the first field pair that reads as one number written with a decimal comma, else None."""
    for position in range(len(fields) - 1):
        whole, fraction = fields[position], fields[position + 1]
        if _WHOLE_NUMBER.fullmatch(whole) and _DIGITS.fullmatch(fraction) and (
            whole in ("-0", "+0") or (len(fraction) > 1 and fraction.startswith("0"))
        ):
            return position
    return None


def decimal_comma_hint(fields: list[str]) -> str:
    """The decimal-comma sentence for a line of ``fields`` that looks like it has one, else ""."""
    position = _decimal_comma_at(fields)
    if position is None:
        return ""
    pair = fields[position : position + 2]
    return (
        f"{','.join(pair)!r} in columns {position + 1} and {position + 2} looks like one number written with a "
        f"decimal comma ({'.'.join(pair)}); pyimportance reads commas as separators and '.' as the decimal point: "
        "write the file with '.' decimals, e.g. pandas.read_csv(path, sep=';', decimal=',').to_csv(new_path, "
        "index=False), or in R write.csv() rather than write.csv2()"
    )


def _check_decimal_comma(path: Path, what: str, values: np.ndarray) -> None:
    """Refuse a file of whole numbers whose lines look like numbers split at a decimal comma."""
    if values.shape[1] < 2 or np.any(values != np.round(values)):
        return
    for line, fields in _csv_records(path):
        hint = decimal_comma_hint(fields)
        if hint:
            raise ValueError(f"{what}: {path} line {line}: {hint}")


def _has_fractions(rows) -> bool:
    numeric = rows.select_dtypes("number").to_numpy(dtype=np.float64)
    return bool(np.any(np.isfinite(numeric) & (numeric != np.round(numeric))))


def _ambiguous_first_row(path: Path, what: str, fields: list[str], rows) -> ValueError | None:
    """The error for a first row that cannot be told apart from a header, else None."""
    kinds = [_field_kind(field) for field in fields]
    header_flag, data_flag = header_flags(what)
    if "missing" in kinds:
        why = "it holds numbers and empty or NA fields: a header with an unnamed column, or data with missing values"
    elif len(fields) > 1 and fields == [str(i) for i in range(len(fields))]:
        why = "it is 0, 1, ..., as the column labels pandas writes for a DataFrame without column names"
    elif all(_WHOLE_NUMBER.fullmatch(field) for field in fields) and len(rows) and _has_fractions(rows):
        why = "it holds whole numbers over columns with fractions, as a header of numbers (years, ids) would"
    else:
        return None
    return ValueError(
        f"{what}: cannot tell whether the first row of {path} ({', '.join(fields)}) is a header or data: {why}; "
        f"pass {header_flag} if it is a header (column names) or {data_flag} if it is data"
    )


def _check_header_names(path: Path, what: str, names: list[str]) -> None:
    for position, name in enumerate(names, start=1):
        if not name:
            if position == 1:
                likely = (
                    "an unnamed first column is usually a row index (written by pandas' to_csv() without "
                    "index=False, or R's write.csv() without row.names = FALSE): save the file without it"
                )
            elif position == len(names):
                likely = "is there a comma at the end of the lines?"
            else:
                likely = "give every column a name"
            raise ValueError(f"{what}: column {position} of {path} has no name in the header row; {likely}")
    seen: dict[str, int] = {}
    for position, name in enumerate(names, start=1):
        if name in seen:
            raise ValueError(
                f"{what}: {path} names two columns {name!r} (columns {seen[name]} and {position}); "
                "column names must be unique"
            )
        seen[name] = position


def _check_csv_numbers(path: Path, what: str, rows, names: list[str] | None, first_record: int) -> np.ndarray:
    """``rows`` as float64, or an error naming the line, column and field of the first bad value."""
    import pandas as pd

    def column(position: int) -> str:
        return f"column {position + 1}" + (f" ({names[position]!r})" if names else "")

    for position in range(rows.shape[1]):
        values = rows.iloc[:, position]
        if values.dtype.kind not in "biuf":
            bad = pd.to_numeric(values, errors="coerce").isna() & values.notna()
            row = int(np.argmax(bad.to_numpy()))
            line, fields = _csv_record(path, first_record + row)
            raise ValueError(
                f"{what}: {path} has a value that is not a number, {fields[position]!r}, at line {line}, "
                f"{column(position)}; a CSV must hold numbers only"
            )
    values = rows.to_numpy(dtype=np.float64)
    bad = ~np.isfinite(values)
    if bad.any():
        row, position = (int(i) for i in np.unravel_index(int(np.argmax(bad)), bad.shape))
        line, fields = _csv_record(path, first_record + row)
        if position >= len(fields):
            raise ValueError(
                f"{what}: {path} has no value at line {line}, {column(position)}: the line has only "
                f"{len(fields)} of {values.shape[1]} fields; every line must have the same number of fields"
            )
        kind = "an infinite value" if np.isinf(values[row, position]) else "a missing value"
        raise ValueError(
            f"{what}: {path} has {kind}, {fields[position]!r}, at line {line}, {column(position)}; remove or impute it"
        )
    return values


def read_csv(path: Path, what: str = "--x", header: bool | None = None) -> CsvTable:
    """The numbers of the CSV file ``path`` and its column names (refusing anything else, by line and column).

    ``what`` is the option the file came from, for messages; ``header`` says whether the first
    row is a header (True) or data (False); None applies the rule in the module docstring.

    Examples
    --------
    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "X.csv"
    >>> _ = path.write_text("temp,price\\n1.5,2\\n3,4\\n")
    >>> read_csv(path).column_names
    ['temp', 'price']
    """
    path = Path(path)
    line, fields = _first_csv_record(path, what)
    second = next(itertools.islice(_csv_records(path), 1, None), None)
    if second is not None and len(second[1]) != len(fields):
        next_line, next_fields = second
        hint = decimal_comma_hint(next_fields) or decimal_comma_hint(fields)
        raise ValueError(
            f"{what}: {path} has {len(fields)} fields at line {line} but {len(next_fields)} at line {next_line}; "
            + (f"at line {next_line if decimal_comma_hint(next_fields) else line}, {hint}" if hint else
               "every line must have the same number of fields")
        )
    rows = _read_rows(path, what, skip_lines=line)
    guessed = False
    if header is None:
        if any(_field_kind(field) == "name" for field in fields):
            header = True
        else:
            ambiguous = _ambiguous_first_row(path, what, fields, rows)
            if ambiguous is not None:
                raise ambiguous
            header, guessed = False, True
    if header:
        _check_header_names(path, what, fields)
        if rows.empty:
            raise ValueError(f"{what}: {path} has a header row ({', '.join(fields)}) but no data rows")
        values = _check_csv_numbers(path, what, rows, fields, 1)
        _check_decimal_comma(path, what, values)
        return CsvTable(values, list(fields))
    import pandas as pd

    first = []
    for position, field in enumerate(fields):
        if _field_kind(field) == "name":  # only with header=False: the caller said line 1 is data
            raise ValueError(
                f"{what}: {path} has a value that is not a number, {field!r}, at line {line}, column {position + 1} "
                f"(read as data because of {header_flags(what)[1]}); a CSV must hold numbers only"
            )
        first.append(np.nan if _field_kind(field) == "missing" else float(field))
    data = pd.concat([pd.DataFrame([first]), rows], ignore_index=True) if not rows.empty else pd.DataFrame([first])
    values = _check_csv_numbers(path, what, data, None, 0)
    _check_decimal_comma(path, what, values)
    return CsvTable(values, None, guessed)
