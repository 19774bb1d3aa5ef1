"""The figures of a result (pyimportance.plotting): bars with error bars by feature (none for one
repeat), a line with its band over time steps, a feature by time step heatmap for cells, drawn
into a given axes or a new figure, from a hand-made result and a real run.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from helpers import RESULT_IMPORTANCES, toy_result  # noqa: E402

from pyimportance import perturbation_importance  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_plot_by_feature_is_bars_with_error_bars():
    figure = toy_result().plot()
    assert isinstance(figure, matplotlib.figure.Figure)
    ax = figure.axes[0]
    bars = next(c for c in ax.containers if isinstance(c, matplotlib.container.BarContainer))
    assert len(bars.patches) == 3
    assert sorted(bar.get_width() for bar in bars.patches) == pytest.approx([0.0, 0.2, 2.0])
    assert [label.get_text() for label in ax.get_yticklabels()] == ["c", "a", "b"]  # most important on top
    assert bars.errorbar is not None
    assert ax.get_xlabel() == "increase of mse"


def test_plot_bars_without_intervals_for_one_repeat():
    ax = toy_result(RESULT_IMPORTANCES[:, :1]).plot().axes[0]
    assert [type(c).__name__ for c in ax.containers] == ["BarContainer"]
    assert ax.containers[0].errorbar is None


def test_plot_by_timestep_is_a_line_over_steps():
    importances = np.array([[0.1, 0.2], [0.5, 0.4], [0.3, 0.3], [1.0, 1.2]])
    figure = toy_result(importances, by="timestep", n_timesteps=4).plot()
    ax = figure.axes[0]
    assert len(ax.lines) == 1
    np.testing.assert_array_equal(ax.lines[0].get_xdata(), [0, 1, 2, 3])
    np.testing.assert_allclose(ax.lines[0].get_ydata(), [0.15, 0.45, 0.3, 1.1])
    assert len(ax.collections) == 1  # the 95% band


def test_plot_by_cell_is_a_feature_by_timestep_heatmap():
    importances = np.arange(12, dtype=float).reshape(6, 2)  # 3 steps x 2 features
    figure = toy_result(importances, by="cell", names=("a", "b"), n_timesteps=3).plot()
    ax = figure.axes[0]
    image = ax.images[0].get_array()
    assert image.shape == (2, 3)
    np.testing.assert_allclose(image, [[0.5, 4.5, 8.5], [2.5, 6.5, 10.5]])
    assert [label.get_text() for label in ax.get_yticklabels()] == ["a", "b"]
    assert len(figure.axes) == 2  # with a colour bar


def test_plot_draws_into_a_given_axes():
    figure, ax = plt.subplots()
    assert toy_result().plot(ax=ax) is figure


def test_result_of_a_real_run_plots():
    X = np.random.default_rng(0).normal(size=(30, 3, 2))
    result = perturbation_importance(lambda x: x[:, -1, 0], X, by="cell", n_repeats=2, random_state=0)
    assert result.plot().axes[0].images[0].get_array().shape == (2, 3)


def _two_losses_result():
    """Heads on very different scales: a 2-column regression head ("sales", mse ~1e4) and a log_loss head."""
    X = np.random.default_rng(0).normal(size=(200, 4, 3))

    def model(X):
        return {"sales": 100 * X[:, -1, 1:3], "churn": 1 / (1 + np.exp(-3 * X[:, -1, 0]))}

    y = {"churn": (X[:, -1, 0] > 0).astype(float), "sales": 100 * X[:, -1, 1:3] + 1}
    return perturbation_importance(model, X, y, loss={"churn": "log_loss"}, per_output=True, method="permute",
                                   random_state=0)


def test_a_multi_output_heatmap_has_one_colour_scale_per_head():
    result = _two_losses_result()
    assert result.output == ["churn", "sales[0]", "sales[1]"]
    figure = result.plot()
    panels = [ax for ax in figure.axes if ax.images]
    assert [ax.get_title() for ax in panels] == ["churn", "sales"]
    frame = result.to_frame().set_index(["output", "feature"])["importance"]
    for ax, outputs in zip(panels, (["churn"], ["sales[0]", "sales[1]"])):
        values = frame.loc[outputs].to_numpy()
        assert ax.images[0].get_clim() == (values.min(), values.max())
        assert ax.images[0].get_array().shape == (3, len(outputs))
    assert panels[0].images[0].get_clim()[1] < 10 < panels[1].images[0].get_clim()[1]  # ~1 vs ~2e4


def test_a_multi_output_heatmap_drawn_into_given_axes_takes_its_place():
    figure, (left, right) = plt.subplots(1, 2)
    _two_losses_result().plot(ax=right)
    assert left in figure.axes and right not in figure.axes
    assert len([ax for ax in figure.axes if ax.images]) == 2


def test_row_importances_plot_over_the_rows_one_smoothed_line_per_unit_most_important_first():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(500, 3))
    scale = np.linspace(0.0, 2.0, 500)  # x1 matters more and more along the rows
    result = perturbation_importance(lambda x: x[:, 0] + 0.2 * x[:, 1], X, scale * X[:, 0] + 0.2 * X[:, 1],
                                     method="permute", n_repeats=2, random_state=0)
    ax = result.plot_rows(units=["x1", 1]).axes[0]
    assert [line.get_label() for line in ax.get_lines() if not line.get_label().startswith("_")] == ["x1", "x2"]
    smooth = ax.get_lines()[1].get_ydata()
    assert smooth[400:490].mean() > 2 * smooth[10:100].mean()  # the rows where y follows x1 more closely
    assert len(result.plot_rows().axes[0].get_legend().get_texts()) == 3
