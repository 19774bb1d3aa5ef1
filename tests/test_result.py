"""ImportanceResult: statistics, the tidy table, repr and plots."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from scipy import stats  # noqa: E402

from pyimportance import ImportanceResult, perturbation_importance  # noqa: E402
from pyimportance.inference import Intervals, repeats_intervals  # noqa: E402
from pyimportance.inputs import Inputs, ModelInput  # noqa: E402
from pyimportance.units import build_units  # noqa: E402

IMPORTANCES = np.array([[0.1, 0.3, 0.2], [2.0, 2.5, 1.5], [-0.1, 0.0, 0.1]])


def _result(importances=IMPORTANCES, by="feature", names=("a", "b", "c"), n_timesteps=1):
    inputs = Inputs((ModelInput("input", np.zeros((2, n_timesteps, len(names))), tuple(names), n_timesteps > 1),))
    units = build_units(by, inputs)
    settings = {"by": by, "method": "permute", "loss": "mse", "n_samples": 50, "ci": "repeats"}
    values = np.asarray(importances, dtype=float)
    found = repeats_intervals(values)
    intervals = Intervals(*(np.asarray(a).reshape(-1, 1) for a in
                            (found.std_error, found.ci_low, found.ci_high, found.p_value)), None, "repeats")
    return ImportanceResult(values[:, :, None], units, np.array([0.75]), intervals, settings, n_rows_used=50)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_mean_and_std_over_repeats():
    result = _result()
    np.testing.assert_allclose(result.importances_mean, [0.2, 2.0, 0.0], atol=1e-15)
    np.testing.assert_allclose(result.importances_std, [0.1, 0.5, 0.1])
    np.testing.assert_array_equal(result.mean, result.importances_mean)
    np.testing.assert_array_equal(result.std, result.importances_std)


def test_one_repeat_gives_nan_std_and_intervals():
    result = _result(IMPORTANCES[:, :1])
    assert np.isnan(result.importances_std).all()
    assert np.isnan(result.ci_low).all() and np.isnan(result.ci_high).all()
    frame = result.to_frame()
    assert frame["std"].isna().all()
    assert frame["importance"].tolist() == [2.0, 0.1, -0.1]


def test_confidence_interval_is_the_t_interval_of_scipy():
    result = _result()
    for row, values in enumerate(IMPORTANCES):
        low, high = stats.t.interval(0.95, df=2, loc=values.mean(), scale=stats.sem(values))
        assert result.ci_low[row] == pytest.approx(low, rel=1e-12)
        assert result.ci_high[row] == pytest.approx(high, rel=1e-12)


def test_to_frame_columns_order_and_sorting():
    frame = _result().to_frame()
    assert list(frame.columns) == ["feature", "importance", "std", "ci_low", "ci_high", "p_value", "p_adjusted"]
    assert frame["feature"].tolist() == ["b", "a", "c"]
    assert frame.index.tolist() == [0, 1, 2]
    assert _result().to_frame(sort=False)["feature"].tolist() == ["a", "b", "c"]


def test_to_frame_for_cells_has_integer_timesteps():
    importances = np.arange(8, dtype=float).reshape(4, 2)
    frame = _result(importances, by="cell", names=("a", "b"), n_timesteps=2).to_frame()
    assert list(frame.columns) == [
        "feature", "timestep", "importance", "std", "ci_low", "ci_high", "p_value", "p_adjusted"
    ]
    assert frame["timestep"].dtype == np.int64
    assert list(zip(frame["feature"], frame["timestep"])) == [("b", 1), ("a", 1), ("b", 0), ("a", 0)]


def test_ties_keep_unit_order():
    frame = _result(np.ones((3, 2))).to_frame()
    assert frame["feature"].tolist() == ["a", "b", "c"]


def test_repr_shows_settings_and_the_table():
    text = repr(_result())
    assert text.splitlines()[0] == (
        "Perturbation importance by feature: method 'permute', loss 'mse', 3 repeats, 50 rows; baseline 0.75"
    )
    assert text.splitlines()[1] == "Interval: 95% t-interval over repeats, conditional on this data set"
    assert text.splitlines()[2].split() == [
        "feature", "importance", "std", "ci_low", "ci_high", "p_value", "p_adjusted"
    ]
    assert text.splitlines()[3].split()[:3] == ["b", "2.000", "0.5000"]
    assert "more rows" not in text


def test_repr_formats_each_column_one_way():
    values = np.array([[3.552, 3.551], [8.048e-6, 8.049e-6], [0.5, 0.4]])
    lines = repr(_result(values)).splitlines()[3:]
    importance = [line.split()[1] for line in lines]
    assert importance == ["3.551e+00", "4.500e-01", "8.048e-06"]  # magnitudes span widely: all scientific
    decimals = repr(_result(IMPORTANCES)).splitlines()[3:]
    assert [line.split()[1] for line in decimals] == ["2.000", "0.200", "0.000"]


def test_the_header_names_groups_timesteps_and_cells():
    assert repr(_result(by="timestep", n_timesteps=3, names=("a",))).startswith(
        "Perturbation importance by time step:")
    grouped = _result()
    grouped.settings["groups"] = {"g": ["a"]}
    assert repr(grouped).startswith("Perturbation importance by group:")


def test_repr_truncates_long_tables():
    names = [f"f{i}" for i in range(20)]
    text = repr(_result(np.arange(40, dtype=float).reshape(20, 2), names=names))
    assert len(text.splitlines()) == 3 + 15 + 1
    assert text.splitlines()[-1] == "... 5 more rows (use .to_frame())"


def test_plot_by_feature_is_bars_with_error_bars():
    figure = _result().plot()
    assert isinstance(figure, matplotlib.figure.Figure)
    ax = figure.axes[0]
    bars = next(c for c in ax.containers if isinstance(c, matplotlib.container.BarContainer))
    assert len(bars.patches) == 3
    assert sorted(bar.get_width() for bar in bars.patches) == pytest.approx([0.0, 0.2, 2.0])
    assert [label.get_text() for label in ax.get_yticklabels()] == ["c", "a", "b"]  # most important on top
    assert bars.errorbar is not None
    assert ax.get_xlabel() == "increase of mse"


def test_plot_bars_without_intervals_for_one_repeat():
    ax = _result(IMPORTANCES[:, :1]).plot().axes[0]
    assert [type(c).__name__ for c in ax.containers] == ["BarContainer"]
    assert ax.containers[0].errorbar is None


def test_plot_by_timestep_is_a_line_over_steps():
    importances = np.array([[0.1, 0.2], [0.5, 0.4], [0.3, 0.3], [1.0, 1.2]])
    figure = _result(importances, by="timestep", n_timesteps=4).plot()
    ax = figure.axes[0]
    assert len(ax.lines) == 1
    np.testing.assert_array_equal(ax.lines[0].get_xdata(), [0, 1, 2, 3])
    np.testing.assert_allclose(ax.lines[0].get_ydata(), [0.15, 0.45, 0.3, 1.1])
    assert len(ax.collections) == 1  # the 95% band


def test_plot_by_cell_is_a_feature_by_timestep_heatmap():
    importances = np.arange(12, dtype=float).reshape(6, 2)  # 3 steps x 2 features
    figure = _result(importances, by="cell", names=("a", "b"), n_timesteps=3).plot()
    ax = figure.axes[0]
    image = ax.images[0].get_array()
    assert image.shape == (2, 3)
    np.testing.assert_allclose(image, [[0.5, 4.5, 8.5], [2.5, 6.5, 10.5]])
    assert [label.get_text() for label in ax.get_yticklabels()] == ["a", "b"]
    assert len(figure.axes) == 2  # with a colour bar


def test_plot_draws_into_a_given_axes():
    figure, ax = plt.subplots()
    assert _result().plot(ax=ax) is figure


def test_result_of_a_real_run_plots():
    X = np.random.default_rng(0).normal(size=(30, 3, 2))
    result = perturbation_importance(lambda x: x[:, -1, 0], X, by="cell", n_repeats=2, random_state=0)
    assert result.plot().axes[0].images[0].get_array().shape == (2, 3)
