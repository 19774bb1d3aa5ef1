"""ImportanceResult: the numbers of one run, their intervals, a tidy table, a plot and a readable repr."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from html import escape
from typing import Any

import numpy as np

from . import terms
from .data.units import Unit
from .stats.accumulator import RowStatistics
from .stats.intervals import INTERVAL_KINDS, Intervals, interval_text

CI_DESCRIPTIONS = {kind: interval_text(kind) for kind in INTERVAL_KINDS}


@dataclass(frozen=True)
class ImportanceResult:
    """Perturbation importance of each unit (feature, group, time step or cell) and output.

    Attributes
    ----------
    importances : ndarray of shape (n_units, n_repeats), or (n_units, n_repeats, n_outputs)
        Importance of each unit in each repeat: increase of the loss (decrease of a score),
        or mean absolute change of the predictions when no ``y`` was given. The third axis
        exists with ``per_output=True`` (one column per reported output).
    importances_mean, importances_std : ndarray of shape (n_units,) or (n_units, n_outputs)
        Mean and sample standard deviation (ddof=1) over repeats (``std`` is NaN for 1 repeat
        and 0 for the deterministic methods ``"zero"``/``"mean"``, which are evaluated once).
    ci_low, ci_high, p_value, p_adjusted : ndarray like ``importances_mean``
        The 95% interval (:data:`~pyimportance.stats.intervals.CONFIDENCE`) chosen by ``ci``
        (``settings["ci"]``), the one-sided p-value of H0 "importance <= 0" (below 0.025
        exactly when ``ci_low > 0``) and its Benjamini-Hochberg adjustment over all units (and
        outputs) of the run.
    feature, timestep, output : lists
        Label of each unit; 0-based time step (None for ``by="feature"`` and static inputs);
        labels of the reported outputs.
    baseline_score : float (or ndarray per output)
        Loss (or score) of the unperturbed model on the rows used; 0.0 for the prediction change.
    n_rows_used, n_repeats_used, converged : int, int, bool or None
        Rows and repeats the numbers rest on; with ``tolerance``, whether the precision target
        was met before the rows ran out (None without ``tolerance``).
    settings : dict
        The options the run used (method, scale, loss, by, n_repeats, random_state, ci, ...).
    row_importances : ndarray of shape (n_rows, n_units), or (n_rows, n_units, n_outputs)
        Each evaluated row's share of the importance; its mean over the rows is
        ``importances_mean`` (:mod:`pyimportance.stats.row_values`). ``row_index`` labels the rows.
    """

    importances_all: np.ndarray  # (n_units, n_repeats, n_outputs)
    units: Sequence[Unit]
    baseline_scores: np.ndarray  # (n_outputs,)
    intervals: Intervals
    settings: dict[str, Any] = field(default_factory=dict)
    outputs: Sequence[str] = ("(all)",)
    n_rows_used: int = 0
    converged: bool | None = None
    precision: float | None = None
    row_statistics: RowStatistics | None = field(default=None, repr=False)  # per-row sums (row_importances)
    row_note: str | None = None  # why there are no row importances
    row_index: Any = None  # the evaluated rows' labels: X's DataFrame index, else their 0-based positions

    # ------------------------------------------------------------------ numbers

    def _shaped(self, values: np.ndarray) -> np.ndarray:
        """(n_units, n_outputs) values as (n_units,) for a single output."""
        return values[:, 0] if values.shape[1] == 1 and not self.per_output else values

    @property
    def per_output(self) -> bool:
        return bool(self.settings.get("per_output", False))

    @property
    def importances(self) -> np.ndarray:
        values = self.importances_all
        return values[:, :, 0] if values.shape[2] == 1 and not self.per_output else values

    @property
    def n_repeats_used(self) -> int:
        return self.importances_all.shape[1]

    @property
    def importances_mean(self) -> np.ndarray:
        return self._shaped(self.importances_all.mean(axis=1))

    @property
    def importances_std(self) -> np.ndarray:
        values = self.importances_all
        if self.settings.get("deterministic"):
            return self._shaped(np.zeros((values.shape[0], values.shape[2])))
        if values.shape[1] < 2:
            return self._shaped(np.full((values.shape[0], values.shape[2]), np.nan))
        return self._shaped(values.std(axis=1, ddof=1))

    mean = importances_mean
    std = importances_std

    @property
    def ci_low(self) -> np.ndarray:
        return self._shaped(self.intervals.ci_low)

    @property
    def ci_high(self) -> np.ndarray:
        return self._shaped(self.intervals.ci_high)

    @property
    def std_error(self) -> np.ndarray:
        return self._shaped(self.intervals.std_error)

    @property
    def p_value(self) -> np.ndarray:
        return self._shaped(self.intervals.p_value)

    @property
    def p_adjusted(self) -> np.ndarray:
        from .stats.p_values import adjust_p_values

        flat = self.intervals.p_value.reshape(-1)
        return self._shaped(adjust_p_values(flat).reshape(self.intervals.p_value.shape))

    @property
    def baseline_score(self):
        scores = self.baseline_scores
        return float(scores[0]) if len(scores) == 1 else scores

    @property
    def by(self) -> str:
        return self.settings.get("by", "feature")

    @property
    def feature(self) -> list[str]:
        return [unit.feature for unit in self.units]

    @property
    def timestep(self) -> list[int | None]:
        return [unit.timestep for unit in self.units]

    @property
    def output(self) -> list[str]:
        return list(self.outputs)

    @property
    def row_importances(self) -> np.ndarray:
        """Each evaluated row's importance, (n_rows, n_units) or (n_rows, n_units, n_outputs); NaN: not evaluated.

        For losses that are means over rows, with ``ci="data"``; the mean over the evaluated rows
        is ``importances_mean`` (to rounding; the weighted mean with ``sample_weight``). A row's value
        combines what it lost as a recipient of other rows' values and what it cost as a donor, as the
        data interval counts them (:mod:`pyimportance.stats.row_values`, which also says what they cost
        in memory).

        Raises
        ------
        ValueError
            Why there are none: rmse, a custom loss that gives one number, ``ci="repeats"``, or too many values.
        """
        from .stats.row_values import row_importances

        if self.row_statistics is None:
            raise ValueError(self.row_note or "this result has no row importances")
        values = row_importances(self.row_statistics)
        return values[:, :, 0] if values.shape[2] == 1 and not self.per_output else values

    def selected(self, alpha: float = 0.05, control: str = "fdr") -> np.ndarray:
        """Which units are important at level ``alpha``: a bool array like ``importances_mean``.

        ``control="fdr"``: the false discovery rate, by Benjamini-Hochberg (``p_adjusted <= alpha``);
        ``"fwer"``: the family-wise error rate, by Holm. One family: every unit (and output) of the
        run; units without a p-value are never selected.

        Examples
        --------
        >>> import numpy as np
        >>> from pyimportance import perturbation_importance
        >>> X = np.random.default_rng(0).normal(size=(300, 3))
        >>> result = perturbation_importance(lambda x: x[:, 0], X, X[:, 0], method="permute", random_state=0)
        >>> result.selected().tolist()
        [True, False, False]
        """
        from .stats.selection import selected

        return self._shaped(selected(self.intervals.p_value, alpha, control))

    @property
    def ranking(self) -> np.ndarray:
        """Unit indices by decreasing mean importance (ties keep unit order; NaN last); first output."""
        means = self.importances_all.mean(axis=1)[:, 0]
        return np.argsort(-means, kind="stable")

    # ------------------------------------------------------------------ views

    def to_frame(self, sort: bool = True, rows: bool = False):
        """Tidy :class:`pandas.DataFrame`, one row per unit (and output with ``per_output``).

        Columns: ``feature``, [``timestep``,] [``output``,] ``importance``, ``std``, ``ci_low``,
        ``ci_high``, ``p_value``, ``p_adjusted``; sorted by decreasing importance unless ``sort=False``.
        ``rows=True``: the :attr:`row_importances` in long form instead, one line per evaluated row
        and unit (and output): ``row`` (the row's label in ``X``'s index, else its 0-based
        position), ``feature``, [``timestep``,] [``output``,] ``importance``; units in the run's
        order, rows in the data's order within each.
        """
        import pandas as pd

        if rows:
            return self._row_frame()

        n_units, n_outputs = len(self.units), len(self.outputs)
        unit_index = np.repeat(np.arange(n_units), n_outputs)
        output_index = np.tile(np.arange(n_outputs), n_units)
        columns: dict[str, Any] = {"feature": [self.units[u].feature for u in unit_index]}
        if self.by in ("timestep", "cell"):
            steps = [self.units[u].timestep for u in unit_index]
            if any(step is None for step in steps):
                columns["timestep"] = pd.array(steps, dtype="Int64")
            else:
                columns["timestep"] = np.asarray(steps, dtype=np.int64)
        if self.per_output:
            columns["output"] = [self.outputs[k] for k in output_index]

        def flat(values: np.ndarray) -> np.ndarray:
            return np.asarray(values).reshape(n_units, n_outputs).reshape(-1)

        mean = self.importances_all.mean(axis=1)
        columns.update(
            importance=flat(mean),
            std=flat(self.importances_std),
            ci_low=flat(self.intervals.ci_low),
            ci_high=flat(self.intervals.ci_high),
            p_value=flat(self.intervals.p_value),
            p_adjusted=flat(self.p_adjusted),
        )
        frame = pd.DataFrame(columns)
        if sort:
            order = np.argsort(-frame["importance"].to_numpy(), kind="stable")
            frame = frame.iloc[order].reset_index(drop=True)
        return frame

    def _row_frame(self):
        """:meth:`to_frame` with ``rows=True``."""
        values = self.row_importances.reshape(len(self.row_index), len(self.units), -1)  # rows, units, outputs
        units = self.to_frame(sort=False).drop(
            columns=["importance", "std", "ci_low", "ci_high", "p_value", "p_adjusted"])
        per_entry = values.transpose(1, 2, 0).reshape(len(units), -1)  # (units x outputs), rows
        evaluated = ~np.isnan(per_entry)
        counts = evaluated.sum(axis=1)
        frame = units.loc[np.repeat(units.index, counts)].reset_index(drop=True)
        labels = np.asarray(self.row_index)
        frame.insert(0, "row", np.concatenate([labels[mask] for mask in evaluated]) if len(units) else labels[:0])
        frame["importance"] = per_entry[evaluated]
        return frame

    def plot_rows(self, units=None, ax=None):
        """Matplotlib figure: the row importances of ``units`` (labels; default the 5 most important) over
        the rows, in the data's order (over time for the windows of one series), with their mean."""
        from .plotting import plot_row_importances

        return plot_row_importances(self, units=units, ax=ax)

    def plot(self, ax=None, **kwargs):
        """Matplotlib figure: bars with 95% intervals, a line over time steps, or a heatmap."""
        from .plotting import plot_importance

        return plot_importance(self, ax=ax, **kwargs)

    def summary(self) -> str:
        """The header lines of the repr: what was measured, on how much data, how sure.

        In the caller's terms (:mod:`pyimportance.terms`): the R package prints these lines as its header.
        """
        settings = self.settings
        lines = [
            *self._measured_lines(),
            # the interval the run reports (not the ci asked for), in the one wording of stats.intervals
            f"Interval: {interval_text(self.intervals.method, self.intervals.block_size, settings.get('ci_note'))}",
        ]
        if settings.get("tolerance") is not None:
            status = "met" if self.converged else "not met (rows ran out)"
            lines.append(
                f"Stopping: tolerance {settings['tolerance']:g} {status}; precision "
                f"{self.precision if self.precision is not None else float('nan'):.3g} after {self.n_rows_used} of "
                f"{settings.get('n_samples')} rows"
            )
        lines.extend(self._selection_line())
        return "\n".join(lines)

    def _unit_word(self) -> str:
        """What a unit is, as the summary says it ("feature", "group", "cell (time step x feature)", ...)."""
        unit = {"feature": "feature", "timestep": "time step", "cell": "cell (time step x feature)"}.get(self.by)
        if self.settings.get("groups") and self.by == "feature":
            unit = "group"
        elif self.settings.get("groups") and self.by == "cell":
            unit = "cell (time step x group)"
        return unit

    def extra_numbers(self) -> dict[str, np.ndarray]:
        """Numbers an estimator reports beside the table (one per output each), by name; none here.

        The R layer keeps each as an attribute of R's data frame.
        """
        return {}

    def _measure_words(self) -> tuple[str, str]:
        """What was scored ("loss 'mse'", or the prediction change) and the "; baseline ..." it is measured from."""
        score = self.settings.get("loss")
        if score == "prediction_change":
            return "mean |change of prediction| (no y)", ""
        baseline = self.baseline_scores
        shown = f"{baseline[0]:.6g}" if len(baseline) == 1 else ", ".join(f"{v:.4g}" for v in baseline)
        return f"loss {terms.literal(score)}", f"; baseline {shown}"

    def _measured_lines(self) -> list[str]:
        """The summary's first line(s): what was measured, on how much data (a subclass says its own)."""
        settings = self.settings
        repeats = "evaluated once (deterministic method)" if settings.get("deterministic") else (
            f"{self.n_repeats_used} repeats")
        method = terms.literal(settings.get("method"))
        if settings.get("scale") is not None:
            method += f" (sd {settings['scale']:g}{' x feature sd' if settings.get('relative_scale') else ''})"
        measure, baseline = self._measure_words()
        return [f"Perturbation importance by {self._unit_word()}: method {method}, {measure}, {repeats}, "
                f"{self.n_rows_used} rows{baseline}"]

    def _selection_line(self) -> list[str]:
        """"N of M features selected at 5% FDR", or nothing where no unit has a p-value."""
        tested = int(np.isfinite(self.intervals.p_value).sum())
        if tested == 0:
            return []
        plural = {"feature": "features", "timestep": "time steps", "cell": "cells"}.get(self.by, "units")
        if self.settings.get("groups") and self.by == "feature":
            plural = "groups"
        if self.per_output and len(self.outputs) > 1:
            plural += " x outputs"
        count = int(np.sum(self.selected(0.05, "fdr")))
        return [f"{count} of {tested} {plural} selected at 5% FDR (Benjamini-Hochberg)"]

    def __repr__(self) -> str:
        frame = self.to_frame()
        shown = frame.head(_SHOWN_ROWS)
        formats = {name: _column_format(shown[name]) for name in shown.columns if shown[name].dtype.kind == "f"}
        table = shown.to_string(index=False, formatters=formats)
        more = len(frame) - _SHOWN_ROWS
        footer = f"\n... {more} more rows (use .to_frame())" if more > 0 else ""
        return f"{self.summary()}\n{table}{footer}"

    def _repr_html_(self) -> str:
        """Jupyter's rich display: the summary lines and the table, each row with a bar and its interval."""
        frame = self.to_frame()
        shown = frame.head(_SHOWN_ROWS)
        more = len(frame) - _SHOWN_ROWS
        footer = f"<p>... {more} more rows (use <code>.to_frame()</code>)</p>" if more > 0 else ""
        return (f'<div class="pyimportance-result"><pre style="white-space:pre-wrap">{escape(self.summary())}</pre>'
                f"{_html_table(shown)}{footer}</div>")


_SHOWN_ROWS = 15  # rows of the table a repr shows
_BAR_WIDTH = 120  # pixels of the inline bar of the HTML table
_CELL_PADDING = "padding:0.15em 0.6em;white-space:nowrap"


def _html_table(frame) -> str:
    """The table as HTML: labels escaped, numbers in one format per column, an SVG bar (importance) with the
    interval as a whisker, all bars on one scale that includes 0."""
    import pandas as pd

    labels = [name for name in frame.columns if frame[name].dtype.kind != "f"]
    numbers = [name for name in frame.columns if frame[name].dtype.kind == "f"]
    formats = {name: _column_format(frame[name]) for name in numbers}
    ends = np.concatenate([frame[name].to_numpy(dtype=np.float64) for name in ("importance", "ci_low", "ci_high")])
    ends = ends[np.isfinite(ends)]
    low, high = min(0.0, ends.min(initial=0.0)), max(0.0, ends.max(initial=0.0))
    span = (high - low) or 1.0

    def position(value: float) -> float:
        return round((value - low) / span * _BAR_WIDTH, 1)

    def bar(row) -> str:
        zero, parts = position(0.0), []
        if np.isfinite(row.importance):
            left, right = sorted((zero, position(row.importance)))
            parts.append(f'<rect x="{left}" y="3" width="{right - left}" height="10" fill="#4c72b0"/>')
        if np.isfinite(row.ci_low) and np.isfinite(row.ci_high):
            parts.append(f'<line x1="{position(row.ci_low)}" x2="{position(row.ci_high)}" y1="8" y2="8" '
                         'stroke="#222" stroke-width="1.5"/>')
        parts.append(f'<line x1="{zero}" x2="{zero}" y1="0" y2="16" stroke="#999"/>')
        return f'<svg width="{_BAR_WIDTH}" height="16" role="img">{"".join(parts)}</svg>'

    def cell(value, formatter, align: str) -> str:
        shown = "" if pd.isna(value) else escape(formatter(value))
        return f'<td style="text-align:{align};{_CELL_PADDING}">{shown}</td>'

    head = "".join(f'<th style="{_CELL_PADDING}">{escape(str(name))}</th>'
                   for name in [*labels, "importance and interval", *numbers])
    rows = []
    for row in frame.itertuples(index=False):
        values = row._asdict()
        rows.append("<tr>" + "".join(cell(values[name], str, "left") for name in labels)
                    + f'<td style="{_CELL_PADDING}">{bar(row)}</td>'
                    + "".join(cell(values[name], formats[name], "right") for name in numbers) + "</tr>")
    return f'<table class="pyimportance-table"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'


def _column_format(values):
    """One number format for a whole column: fixed decimals, or scientific when magnitudes span widely."""
    finite = np.abs(values.to_numpy(dtype=np.float64))
    finite = finite[np.isfinite(finite) & (finite > 0)]
    if len(finite) == 0:
        return lambda v: f"{v:.4g}"
    largest, smallest = finite.max(), finite.min()
    if largest >= 1e5 or largest < 1e-3 or largest / smallest > 1e4:
        return lambda v: f"{v:.3e}"
    decimals = int(np.clip(3 - np.floor(np.log10(largest)), 0, 6))
    return lambda v: f"{v:.{decimals}f}"
