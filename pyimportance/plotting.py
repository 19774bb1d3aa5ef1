"""Matplotlib figures for an ImportanceResult (matplotlib is imported only here, when used)."""

from __future__ import annotations

import numpy as np


def _axes(ax, size):
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=size, layout="constrained")
    return ax


def _ylabel(result) -> str:
    loss = result.settings.get("loss")
    if result.settings.get("estimator") == "shapley":  # a share of what the model explains
        return f"Shapley value (share of the {'|change of prediction|' if loss == 'prediction_change' else loss})"
    if result.settings.get("estimator") == "sensitivity":  # read from the gradients
        of = "prediction" if loss in (None, "prediction_change") else loss
        if result.settings.get("method") == "derivative":
            return f"mean (d {of} / dx)^2 var(x) (DGSM)"
        return f"mean |integrated gradients| of the {of}"
    if loss in (None, "prediction_change"):
        return "mean |change of prediction|"
    return f"drop of {loss}" if str(loss).endswith("accuracy") else f"increase of {loss}"


def _title(result) -> str:
    if result.settings.get("estimator") == "shapley":
        return f"Shapley importance (SAGE, {result.importances.shape[1]} orders per row)"
    if result.settings.get("estimator") == "sensitivity":
        method = result.settings.get("method")
        return "Sensitivity importance (" + (f"integrated gradients, {result.settings.get('n_steps')} steps)"
                                             if method == "integrated_gradients" else "derivative measure, DGSM)")
    return f"Perturbation importance ({result.settings.get('method')}, {result.importances.shape[1]} repeats)"


def _frame(result, output, sort: bool = True):
    """The result's table, for one output when the result has several."""
    frame = result.to_frame(sort=sort)
    if "output" in frame:
        chosen = result.output[0] if output is None else output
        frame = frame[frame["output"] == chosen].reset_index(drop=True)
    return frame


def plot_bars(result, ax=None, max_features: int = 30, output=None):
    """Horizontal bars, most important on top, with 95% intervals as error bars."""
    frame = _frame(result, output).head(max_features).iloc[::-1]
    ax = _axes(ax, (6.5, 0.9 + 0.32 * len(frame)))
    error = np.vstack([frame["importance"] - frame["ci_low"], frame["ci_high"] - frame["importance"]])
    error = None if np.isnan(error).all() else np.nan_to_num(error)
    ax.barh(frame["feature"], frame["importance"], xerr=error, color="#3b75af", ecolor="#333333", capsize=3)
    ax.axvline(0.0, color="#777777", linewidth=0.8)
    ax.set_xlabel(_ylabel(result))
    ax.set_title(_title(result))
    return ax.figure


def plot_timesteps(result, ax=None, output=None):
    """Importance of each time step (all features perturbed together), with a 95% band."""
    frame = _frame(result, output, sort=False)
    frame = frame[frame["timestep"].notna()]
    ax = _axes(ax, (7, 3.5))
    ax.plot(frame["timestep"], frame["importance"], marker="o", color="#3b75af")
    if not frame["ci_low"].isna().all():
        ax.fill_between(frame["timestep"], frame["ci_low"], frame["ci_high"], color="#3b75af", alpha=0.2)
    ax.set_xlabel("time step (0 = oldest)")
    ax.set_ylabel(_ylabel(result))
    ax.set_title("Importance by time step")
    return ax.figure


def plot_heatmap(result, ax=None, output=None):
    """Time step x feature heatmap of importance (``by="cell"``)."""
    frame = _frame(result, output, sort=False)
    frame = frame[frame["timestep"].notna()]
    features = list(dict.fromkeys(frame["feature"]))
    steps = sorted(set(int(step) for step in frame["timestep"]))
    grid = frame.pivot(index="feature", columns="timestep", values="importance").loc[features, steps]
    ax = _axes(ax, (min(12, 2 + 0.35 * len(steps)), 1.2 + 0.35 * len(features)))
    image = ax.imshow(grid.to_numpy(), aspect="auto", cmap="viridis", interpolation="nearest")
    ax.set_yticks(range(len(features)), features)
    tick_every = max(1, len(steps) // 15)
    ax.set_xticks(range(0, len(steps), tick_every), [str(s) for s in steps[::tick_every]])
    ax.set_xlabel("time step (0 = oldest)")
    ax.figure.colorbar(image, ax=ax, label=_ylabel(result))
    ax.set_title("Importance by time step and feature")
    return ax.figure


def _heads(outputs) -> dict[str, list[str]]:
    """The result's outputs by output head: ``"sales"``, or a head's columns ``"sales[0]"``, ``"sales[1]"``."""
    heads: dict[str, list[str]] = {}
    for label in outputs:
        heads.setdefault(label.split("[", 1)[0], []).append(label)
    return heads


def plot_outputs(result, ax=None):
    """Output x feature heatmap (``per_output=True``): which inputs drive which output or horizon.

    Each output head gets its own panel and colour scale (heads have their own losses, so their
    importances are in different units); the columns of one head share theirs.
    """
    frame = result.to_frame(sort=False)
    features = list(dict.fromkeys(frame["feature"]))
    heads = _heads(result.output)
    grid = frame.pivot(index="feature", columns="output", values="importance").loc[features]
    widths = [len(outputs) for outputs in heads.values()]
    if len(heads) == 1:
        ax = _axes(ax, (min(12, 2.5 + 0.45 * widths[0]), 1.2 + 0.35 * len(features)))
        _output_panel(ax, grid[result.output], features, "output", _ylabel(result))
        ax.set_title("Importance by output and feature")
        return ax.figure
    panels = _panels(ax, (min(14, 1.5 + 1.7 * len(heads) + 0.45 * sum(widths)), 1.4 + 0.35 * len(features)), widths)
    for k, (panel, (head, outputs)) in enumerate(zip(panels, heads.items())):
        _output_panel(panel, grid[outputs], features if k == 0 else [], None, None)
        panel.set_title(head)
    panels[0].figure.suptitle("Importance by output and feature (a colour scale per output)")
    return panels[0].figure


def _output_panel(ax, grid, features: list[str], xlabel: str | None, scale_label: str | None) -> None:
    """One head's (or every output's) columns x features as a heatmap with its own colour bar."""
    outputs = list(grid.columns)
    image = ax.imshow(grid.to_numpy(), aspect="auto", cmap="viridis", interpolation="nearest")
    ax.set_yticks(range(len(grid)), features)
    several = len(outputs) > 1 or xlabel is not None
    ax.set_xticks(range(len(outputs)) if several else [], outputs if several else [],
                  rotation=45 if len(outputs) > 6 else 0, ha="right")
    if xlabel:
        ax.set_xlabel(xlabel)
    ax.figure.colorbar(image, ax=ax, label=scale_label)


def _panels(ax, size, widths: list[int]) -> list:
    """One axes per output head, side by side (in ``ax``'s place when given), as wide as its columns."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, axes = plt.subplots(1, len(widths), figsize=size, layout="constrained", width_ratios=widths)
        return list(axes)
    figure, place = ax.figure, ax.get_subplotspec().subgridspec(1, len(widths), width_ratios=widths)
    ax.remove()
    return [figure.add_subplot(place[0, k]) for k in range(len(widths))]


def plot_importance(result, ax=None, output=None, **kwargs):
    """The figure that suits the result: bars, a line over time steps, a heatmap, or output x feature.

    With ``per_output=True`` and ``by="feature"`` the figure is the output x feature heatmap;
    otherwise ``output=`` picks which output to draw (default: the first).
    """
    if result.per_output and result.by == "feature" and output is None and len(result.output) > 1:
        return plot_outputs(result, ax=ax)
    if result.by == "cell":
        return plot_heatmap(result, ax=ax, output=output)
    if result.by == "timestep":
        return plot_timesteps(result, ax=ax, output=output)
    return plot_bars(result, ax=ax, output=output, **kwargs)


def _unit_label(unit) -> str:
    """A unit as a legend names it: the feature (or group), with its 0-based time step."""
    return unit.feature if unit.timestep is None else f"{unit.feature}@t{unit.timestep}"


def plot_row_importances(result, units=None, ax=None, output: int = 0):
    """Each chosen unit's row importances over the rows (data order: over time for windows), smoothed.

    ``units``: unit positions or labels (``"x1"``, ``"x1@t3"``); default the 5 most important.
    The thin line is every row's value, the thick one its moving average over 2% of the rows.
    """
    values = result.row_importances.reshape(len(result.row_index), len(result.units), -1)[:, :, output]
    labels = [_unit_label(unit) for unit in result.units]
    if units is None:
        chosen = [int(u) for u in result.ranking[:5]]
    else:
        chosen = [labels.index(u) if isinstance(u, str) else int(u) for u in units]
    ax = _axes(ax, (8, 3.5))
    index = np.asarray(result.row_index)
    positions = index if np.issubdtype(index.dtype, np.number) or np.issubdtype(index.dtype, np.datetime64) else (
        np.arange(len(index)))
    window = max(1, len(index) // 50)
    for unit in chosen:
        line = ax.plot(positions, values[:, unit], linewidth=0.5, alpha=0.35)[0]
        filled = np.nan_to_num(values[:, unit])
        smooth = np.convolve(filled, np.ones(window) / window, mode="same")
        ax.plot(positions, smooth, color=line.get_color(), linewidth=1.8, label=labels[unit])
    ax.axhline(0.0, color="#777777", linewidth=0.8)
    ax.set_xlabel(str(getattr(result.row_index, "name", None) or "row"))
    ax.set_ylabel(_ylabel(result))
    ax.set_title("Importance over the rows")
    ax.legend(loc="best", fontsize="small")
    return ax.figure


def plot_attribution_map(values: np.ndarray, features: list[str], title: str, ax=None):
    """One row's (time steps x features) attributions as a heatmap, features down, time across; 0 is white."""
    grid = np.atleast_2d(values).T  # features x time steps
    features = list(features) or [f"x{i + 1}" for i in range(grid.shape[0])]
    ax = _axes(ax, (min(12, 2 + 0.35 * grid.shape[1]), 1.2 + 0.35 * grid.shape[0]))
    limit = float(np.max(np.abs(grid))) or 1.0
    image = ax.imshow(grid, aspect="auto", cmap="RdBu_r", vmin=-limit, vmax=limit, interpolation="nearest")
    ax.set_yticks(range(len(features)), features)
    tick_every = max(1, grid.shape[1] // 15)
    ax.set_xticks(range(0, grid.shape[1], tick_every), [str(s) for s in range(0, grid.shape[1], tick_every)])
    ax.set_xlabel("time step (0 = oldest)")
    ax.figure.colorbar(image, ax=ax, label="attribution")
    ax.set_title(title)
    return ax.figure
