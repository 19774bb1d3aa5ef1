"""ShapleyResult: an :class:`~pyimportance.result.ImportanceResult` that says it holds Shapley values, and v(all)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..result import ImportanceResult, Intervals


@dataclass(frozen=True, repr=False)
class ShapleyResult(ImportanceResult):
    """Shapley global importance (SAGE) of each unit: its fair share of the loss the model explains.

    The same table, plot and R data frame as :class:`~pyimportance.result.ImportanceResult`; the
    ``importance`` of a unit is its mean contribution to the loss drop along random unit orders
    (``importances``: one column per repeat, i.e. per order of every row). Also:

    Attributes
    ----------
    total : float (or ndarray per output)
        v(all units): the loss of the prediction knowing no unit (the marginal mean prediction)
        minus the model's loss, on the rows used; the values add up to it.
    total_ci_low, total_ci_high : float (or ndarray per output)
        Its 95% interval, of the same kind as the values'.
    """

    total_values: np.ndarray = field(default_factory=lambda: np.zeros(1))  # (n_outputs,)
    total_intervals: Intervals | None = None  # (1, n_outputs)

    @property
    def total(self):
        return float(self.total_values[0]) if len(self.total_values) == 1 and not self.per_output \
            else self.total_values

    def _total_bound(self, values: np.ndarray):
        values = values.reshape(-1)
        return float(values[0]) if len(values) == 1 and not self.per_output else values

    @property
    def total_ci_low(self):
        return self._total_bound(self.total_intervals.ci_low)

    @property
    def total_ci_high(self):
        return self._total_bound(self.total_intervals.ci_high)

    def extra_numbers(self) -> dict[str, np.ndarray]:
        """v(all units) and its interval, one per output: ``total``, ``total_ci_low``, ``total_ci_high``."""
        return {name: np.atleast_1d(np.asarray(getattr(self, name), dtype=np.float64))
                for name in ("total", "total_ci_low", "total_ci_high")}

    def _measured_lines(self) -> list[str]:
        """What was measured (Shapley values, how), on how much data, and v(all units) they add up to."""
        settings = self.settings
        measure, baseline = self._measure_words()
        total = ", ".join(f"{value:.4g} [{low:.4g}, {high:.4g}]" for value, low, high in zip(
            self.total_values, self.total_intervals.ci_low.reshape(-1), self.total_intervals.ci_high.reshape(-1)))
        ungrouped = settings.get("ungrouped")
        return [
            f"Shapley importance (SAGE) by {self._unit_word()}: {settings.get('imputer')} imputation, "
            f"{settings.get('n_draws')} draws per coalition (bias removed), {measure}, {self.n_repeats_used} unit "
            f"orders per row (antithetic pairs), {self.n_rows_used} rows{baseline}",
            *([f"Features outside every group, each a unit of its own: {', '.join(ungrouped)}"] if ungrouped else []),
            f"Explained in all (the values add up to it): {total}",
        ]
