"""ImportanceResult's rich display in Jupyter (``_repr_html_``): the summary lines and the table, its numbers
in the repr's formats, labels escaped, an inline bar per row with the interval, long tables cut like the repr.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import numpy as np
from helpers import toy_result


class _Table(HTMLParser):
    """The text of every <pre>, the header cells, the body rows' cells and each row's SVG shapes."""

    def __init__(self):
        super().__init__()
        self.pre, self.head, self.rows, self.shapes = [], [], [], []
        self._where, self._text = None, None

    def handle_starttag(self, tag, attrs):
        if tag == "pre":
            self._where, self._text = "pre", []
        elif tag == "tr":
            self._row, self._row_shapes = [], []
        elif tag in ("th", "td"):
            self._where, self._text = tag, []
        elif tag in ("rect", "line"):
            self._row_shapes.append((tag, dict(attrs)))

    def handle_data(self, data):
        if self._text is not None:
            self._text.append(data)

    def handle_endtag(self, tag):
        if tag == "pre":
            self.pre.append("".join(self._text))
        elif tag in ("th", "td"):
            self._row.append("".join(self._text))
        elif tag == "tr":
            (self.head if self._where == "th" else self.rows).append(self._row)
            if self._where == "td":
                self.shapes.append(self._row_shapes)
        if tag in ("pre", "th", "td"):
            self._text = None


def _parsed(result) -> _Table:
    table = _Table()
    table.feed(result._repr_html_())
    return table


def test_the_display_shows_the_summary_and_the_sorted_table_in_the_repr_formats():
    result = toy_result()
    table = _parsed(result)
    assert table.pre == [result.summary()]
    assert table.head == [["feature", "importance and interval", "importance", "std", "ci_low", "ci_high", "p_value",
                           "p_adjusted"]]
    # the numbers as the text repr prints them (one format per column)
    assert table.rows[0] == ["b", "", "2.000", "0.5000", "0.7579", "3.242", "0.0101", "0.0303"]
    assert [row[0] for row in table.rows] == ["b", "a", "c"]
    for row in table.rows:
        assert " ".join(row[:1] + row[2:]) in " ".join(repr(result).split())


def test_labels_and_summary_are_escaped():
    result = toy_result(names=("<b>", "a&b", 'q"'))
    html = result._repr_html_()
    assert "<b>" not in html
    assert "&lt;b&gt;" in html and "a&amp;b" in html and "q&quot;" in html
    assert "&#x27;permute&#x27;" in html  # the summary's quotes
    assert [row[0] for row in _parsed(result).rows] == ["a&b", "<b>", 'q"']  # unescaped by the parser: the same text


def test_each_bar_is_the_importance_and_its_whisker_the_interval_on_one_scale_from_zero():
    result = toy_result()
    frame = result.to_frame()
    low = min(0.0, frame["ci_low"].min())
    high = max(0.0, frame["ci_high"].max())
    scale = 120 / (high - low)
    for shapes, (_, row) in zip(_parsed(result).shapes, frame.iterrows()):
        (rect,) = [attrs for tag, attrs in shapes if tag == "rect"]
        whisker, zero = [attrs for tag, attrs in shapes if tag == "line"]
        assert float(rect["width"]) == np.round(-low * scale + row["importance"] * scale, 1) - np.round(-low * scale, 1)
        assert float(whisker["x1"]) == np.round((row["ci_low"] - low) * scale, 1)
        assert float(whisker["x2"]) == np.round((row["ci_high"] - low) * scale, 1)
        assert float(zero["x1"]) == np.round(-low * scale, 1)


def test_a_negative_importance_draws_its_bar_left_of_zero():
    result = toy_result(np.array([[-1.0, -1.0], [1.0, 3.0], [0.5, 0.5]]))
    shapes = _parsed(result).shapes[-1]  # the last row: importance -1
    (rect,) = [attrs for tag, attrs in shapes if tag == "rect"]
    zero = [attrs for tag, attrs in shapes if tag == "line"][-1]
    assert float(rect["x"]) + float(rect["width"]) == float(zero["x1"])


def test_one_repeat_leaves_the_interval_cells_empty_and_draws_no_whisker():
    result = toy_result(np.array([[0.2], [2.0], [0.0]]))
    table = _parsed(result)
    assert table.rows[0] == ["b", "", "2.000", "", "", "", "", ""]
    assert all([tag for tag, _ in shapes] == ["rect", "line"] for shapes in table.shapes)


def test_cells_show_their_time_steps_and_long_tables_are_cut_as_in_the_repr():
    importances = np.arange(40, dtype=float).reshape(20, 2)
    result = toy_result(importances, by="cell", names=("a", "b"), n_timesteps=10)
    table = _parsed(result)
    assert table.head[0][:3] == ["feature", "timestep", "importance and interval"]
    assert len(table.rows) == 15
    assert table.rows[0][:2] == ["b", "9"]
    assert re.search(r"\.\.\. 5 more rows \(use <code>\.to_frame\(\)</code>\)", result._repr_html_())
    assert "... 5 more rows (use .to_frame())" in repr(result)
