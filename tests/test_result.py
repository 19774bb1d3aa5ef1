"""ImportanceResult (pyimportance.result): mean and std over repeats, the intervals it carries, the
tidy table (columns, order, sorting, ties), and the repr (the summary lines, column formats,
headers for groups, time steps and cells, long tables cut).
"""

from __future__ import annotations

import numpy as np
import pytest
from helpers import RESULT_IMPORTANCES, toy_result
from scipy import stats


def test_mean_and_std_over_repeats():
    result = toy_result()
    np.testing.assert_allclose(result.importances_mean, [0.2, 2.0, 0.0], atol=1e-15)
    np.testing.assert_allclose(result.importances_std, [0.1, 0.5, 0.1])
    np.testing.assert_array_equal(result.mean, result.importances_mean)
    np.testing.assert_array_equal(result.std, result.importances_std)


def test_one_repeat_gives_nan_std_and_intervals():
    result = toy_result(RESULT_IMPORTANCES[:, :1])
    assert np.isnan(result.importances_std).all()
    assert np.isnan(result.ci_low).all() and np.isnan(result.ci_high).all()
    frame = result.to_frame()
    assert frame["std"].isna().all()
    assert frame["importance"].tolist() == [2.0, 0.1, -0.1]


def test_confidence_interval_is_the_t_interval_of_scipy():
    result = toy_result()
    for row, values in enumerate(RESULT_IMPORTANCES):
        low, high = stats.t.interval(0.95, df=2, loc=values.mean(), scale=stats.sem(values))
        assert result.ci_low[row] == pytest.approx(low, rel=1e-12)
        assert result.ci_high[row] == pytest.approx(high, rel=1e-12)


def test_to_frame_columns_order_and_sorting():
    frame = toy_result().to_frame()
    assert list(frame.columns) == ["feature", "importance", "std", "ci_low", "ci_high", "p_value", "p_adjusted"]
    assert frame["feature"].tolist() == ["b", "a", "c"]
    assert frame.index.tolist() == [0, 1, 2]
    assert toy_result().to_frame(sort=False)["feature"].tolist() == ["a", "b", "c"]


def test_to_frame_for_cells_has_integer_timesteps():
    importances = np.arange(8, dtype=float).reshape(4, 2)
    frame = toy_result(importances, by="cell", names=("a", "b"), n_timesteps=2).to_frame()
    assert list(frame.columns) == [
        "feature", "timestep", "importance", "std", "ci_low", "ci_high", "p_value", "p_adjusted"
    ]
    assert frame["timestep"].dtype == np.int64
    assert list(zip(frame["feature"], frame["timestep"])) == [("b", 1), ("a", 1), ("b", 0), ("a", 0)]


def test_ties_keep_unit_order():
    frame = toy_result(np.ones((3, 2))).to_frame()
    assert frame["feature"].tolist() == ["a", "b", "c"]


def test_repr_shows_settings_and_the_table():
    text = repr(toy_result())
    assert text.splitlines()[0] == (
        "Perturbation importance by feature: method 'permute', loss 'mse', 3 repeats, 50 rows; baseline 0.75"
    )
    assert text.splitlines()[1] == "Interval: 95% t-interval over repeats, conditional on this data set"
    assert text.splitlines()[2] == "1 of 3 features selected at 5% FDR (Benjamini-Hochberg)"
    assert text.splitlines()[3].split() == [
        "feature", "importance", "std", "ci_low", "ci_high", "p_value", "p_adjusted"
    ]
    assert text.splitlines()[4].split()[:3] == ["b", "2.000", "0.5000"]
    assert "more rows" not in text


def test_repr_formats_each_column_one_way():
    values = np.array([[3.552, 3.551], [8.048e-6, 8.049e-6], [0.5, 0.4]])
    lines = repr(toy_result(values)).splitlines()[4:]
    importance = [line.split()[1] for line in lines]
    assert importance == ["3.551e+00", "4.500e-01", "8.048e-06"]  # magnitudes span widely: all scientific
    decimals = repr(toy_result(RESULT_IMPORTANCES)).splitlines()[4:]
    assert [line.split()[1] for line in decimals] == ["2.000", "0.200", "0.000"]


def test_the_header_names_groups_timesteps_and_cells():
    assert repr(toy_result(by="timestep", n_timesteps=3, names=("a",))).startswith(
        "Perturbation importance by time step:")
    grouped = toy_result()
    grouped.settings["groups"] = {"g": ["a"]}
    assert repr(grouped).startswith("Perturbation importance by group:")


def test_repr_truncates_long_tables():
    names = [f"f{i}" for i in range(20)]
    text = repr(toy_result(np.arange(40, dtype=float).reshape(20, 2), names=names))
    assert len(text.splitlines()) == 4 + 15 + 1  # summary (3 lines), header, 15 rows, footer
    assert text.splitlines()[-1] == "... 5 more rows (use .to_frame())"


def _one_number_mse(y_true, y_pred):
    """A custom loss that returns one number for the whole batch (not per row)."""
    return float(np.mean((np.asarray(y_true).ravel() - np.asarray(y_pred).ravel()) ** 2))


@pytest.mark.parametrize(("rows", "options", "line"), [
    (40, dict(block_size=4), "Interval: 95% interval for the population the rows come from (rows and perturbations) "
                             "(block length 4 rows)"),
    (40, dict(ci="repeats"), "Interval: 95% t-interval over repeats, conditional on this data set"),
    (40, dict(loss=_one_number_mse), "Interval: 95% t-interval over repeats, conditional on this data set; the "
                                     "loss is not a mean over rows (custom callable or several rmse heads): interval "
                                     "over repeats"),
    (40, dict(method="zero", ci="repeats"), "Interval: none; deterministic method: no interval over repeats"),
    (2, {}, "Interval: none; fewer than 3 rows: no interval"),
])
def test_the_interval_line_describes_the_interval_the_run_reports(rows, options, line, recwarn):
    from pyimportance import perturbation_importance

    X = np.random.default_rng(4).normal(size=(rows, 3))
    options = {"method": "permute", **options}
    result = perturbation_importance(lambda x: x[:, 0] - x[:, 1], X, X[:, 0], n_repeats=3, random_state=0, **options)
    assert result.summary().splitlines()[1] == line
    assert sum(line.count(kind) for kind in ("for the population", "t-interval over repeats", "none;")) == 1
