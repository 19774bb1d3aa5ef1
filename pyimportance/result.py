"""ImportanceResult: the numbers of one run, a tidy table, a plot and a readable repr."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .units import Unit

CONFIDENCE = 0.95


def _t_quantile(n_repeats: int) -> float:
    from scipy.stats import t

    return float(t.ppf(0.5 + CONFIDENCE / 2, df=n_repeats - 1))


@dataclass(frozen=True)
class ImportanceResult:
    """Perturbation importance of each unit (feature, group, time step or cell).

    Attributes
    ----------
    importances : ndarray of shape (n_units, n_repeats)
        Importance of each unit in each repeat: increase of the loss (decrease of a score),
        or mean absolute change of the predictions when no ``y`` was given.
    importances_mean, importances_std : ndarray of shape (n_units,)
        Mean and sample standard deviation (ddof=1) over repeats (``std`` is NaN for 1 repeat).
    ci_low, ci_high : ndarray of shape (n_units,)
        95% t-interval of the mean over repeats (NaN for 1 repeat).
    feature : list of str
        Feature (or group) name of each unit; ``"(all)"`` for ``by="timestep"``.
    timestep : list of int or None
        0-based time step of each unit for ``by="timestep"``/``"cell"``, else None.
    baseline_score : float
        Loss (or score) of the unperturbed model; 0.0 for the prediction-change measure.
    settings : dict
        The options the run used (method, scale, loss, by, n_repeats, random_state, ...).
    """

    importances: np.ndarray
    units: Sequence[Unit]
    baseline_score: float
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def importances_mean(self) -> np.ndarray:
        return self.importances.mean(axis=1)

    @property
    def importances_std(self) -> np.ndarray:
        if self.importances.shape[1] < 2:
            return np.full(self.importances.shape[0], np.nan)
        return self.importances.std(axis=1, ddof=1)

    mean = importances_mean
    std = importances_std

    @property
    def ci_half_width(self) -> np.ndarray:
        n_repeats = self.importances.shape[1]
        if n_repeats < 2:
            return np.full(self.importances.shape[0], np.nan)
        return _t_quantile(n_repeats) * self.importances_std / np.sqrt(n_repeats)

    @property
    def ci_low(self) -> np.ndarray:
        return self.importances_mean - self.ci_half_width

    @property
    def ci_high(self) -> np.ndarray:
        return self.importances_mean + self.ci_half_width

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
    def ranking(self) -> np.ndarray:
        """Unit indices by decreasing mean importance (ties keep unit order; NaN last)."""
        return np.argsort(-self.importances_mean, kind="stable")

    def to_frame(self, sort: bool = True):
        """Tidy :class:`pandas.DataFrame`: ``feature``, [``timestep``,] ``importance``, ``std``,
        ``ci_low``, ``ci_high``; sorted by decreasing importance unless ``sort=False``."""
        import pandas as pd

        columns: dict[str, Any] = {"feature": self.feature}
        if self.by in ("timestep", "cell"):
            columns["timestep"] = np.asarray(self.timestep, dtype=np.int64)
        columns.update(
            importance=self.importances_mean,
            std=self.importances_std,
            ci_low=self.ci_low,
            ci_high=self.ci_high,
        )
        frame = pd.DataFrame(columns)
        if sort:
            frame = frame.iloc[self.ranking].reset_index(drop=True)
        return frame

    def plot(self, ax=None, **kwargs):
        """Matplotlib figure: bars with 95% intervals, a line over time steps, or a heatmap."""
        from .plotting import plot_importance

        return plot_importance(self, ax=ax, **kwargs)

    def __repr__(self) -> str:
        settings = self.settings
        header = (
            f"ImportanceResult(by={self.by!r}, method={settings.get('method')!r}, "
            f"score={settings.get('loss')!r}, n_units={len(self.units)}, "
            f"n_repeats={self.importances.shape[1]}, n_samples={settings.get('n_samples')}, "
            f"baseline_score={self.baseline_score:.6g})"
        )
        table = self.to_frame().head(15).to_string(index=False, float_format=lambda v: f"{v:.4g}")
        more = len(self.units) - 15
        footer = f"\n... {more} more units (use .to_frame())" if more > 0 else ""
        return f"{header}\n{table}{footer}"
