"""The seam between the run loop and an estimator: what an estimator supplies, and nothing more.

The run loop (:func:`pyimportance.engine.runner.run_estimator`) owns everything estimators share:
the compiled predict function and its batch size, the row-wise, target and scoring checks, the
baseline predictions block by block, early stopping with ``tolerance``, the intervals
(:mod:`pyimportance.stats`), progress, and the executors (one ordered list of tasks, computed here
or on an executor's workers: :mod:`.distributed`). An :class:`Estimator` says only what is its own:

- the *tasks* of a step of a row block (:meth:`Estimator.tasks`): perturbation importance's
  (unit, repeat) jobs, Shapley importance's pieces (one unit order for every row of a block);
- how a list of tasks is computed into results (:meth:`Estimator.compute`), the same here and on a
  worker, so an executor never changes a number;
- how the results add up (:meth:`Estimator.sums`, a :class:`Sums`): per (unit, repeat) and, for
  the data interval, per row; what the result reports of them.

Estimator objects travel to workers with the run's model and scoring: keep them cheap to pickle
(the evaluated inputs aside).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np

#: Where the unperturbed predictions are made, as errors say it.
BASELINE = "on the unperturbed data"


class Step(NamedTuple):
    """One step of a run: these row blocks, each for these repeats; the stopping rule looks after each step."""

    blocks: list[int]
    repeats: list[int]


@dataclass(frozen=True)
class Reported:
    """What a result reports of the sums: the importances, their intervals, and any extra numbers."""

    importances: np.ndarray  # (n_units, n_repeats, n_outputs)
    intervals: Any  # stats.intervals.Intervals, (n_units, n_outputs)
    extra: dict = field(default_factory=dict)  # e.g. Shapley's v(all units) and its interval


class IntervalTerms(NamedTuple):
    """What :func:`~pyimportance.stats.intervals.run_intervals` needs of the sums besides the values."""

    statistics: Any  # the accumulator's per-row statistics (``ci="data"``), or None
    slot_sums: np.ndarray | None  # baseline row-wise values per accumulator slot (rmse), or None
    deterministic: bool  # the tasks draw nothing (one evaluation each)
    n_rows: int  # the rows the values rest on


class Sums(ABC):
    """The results of a run added up: the estimator's own, read by the run loop."""

    @abstractmethod
    def add_baseline(self, block: int, rows: np.ndarray, predictions: np.ndarray) -> None:
        """The unperturbed predictions of a row block (scoring failures are the loop's to report)."""

    @property
    @abstractmethod
    def baseline(self) -> Any:
        """What the tasks need of the baseline (shipped to workers)."""

    @abstractmethod
    def add(self, result) -> None:
        """One task result, in the tasks' order."""

    @abstractmethod
    def values(self) -> np.ndarray:
        """(n_series, n_repeats, n_outputs): the estimates the intervals are about."""

    @abstractmethod
    def interval_terms(self) -> IntervalTerms:
        """What the intervals of :meth:`values` need besides them, from the rows so far."""

    def reported(self, values: np.ndarray, intervals) -> Reported:
        """What the result reports (and the stopping rule reads) of the values and their intervals."""
        return Reported(values, intervals, {})

    @abstractmethod
    def baseline_score(self, blocks: Sequence[int]) -> np.ndarray:
        """Baseline score of each output on the rows of ``blocks``."""

    def row_statistics(self, aggregates: Sequence[str], ci: str) -> tuple[Any, str | None]:
        """The per-row sums a result keeps for its row importances, or (None, why not)."""
        return None, None


class PredictionSums(Sums):
    """Sums that keep the unperturbed predictions of every evaluated row, block by block, and score them.

    For estimators whose tasks read the baseline predictions (Shapley's contributions, sensitivity's
    attributions of the loss): the predictions are the :attr:`baseline` shipped to workers, and
    :meth:`baseline_score` is the model's own loss on some blocks' rows, a weighted mean with the run's weights.
    """

    def __init__(self, n_samples: int, scoring) -> None:
        self._n_samples = n_samples
        self._scoring = scoring
        self._block_rows: dict[int, np.ndarray] = {}
        self._predictions: np.ndarray | None = None

    @property
    def baseline(self) -> np.ndarray:
        """The model's predictions of every evaluated row (those of the blocks predicted so far)."""
        return self._predictions

    def add_baseline(self, block: int, rows: np.ndarray, predictions: np.ndarray) -> None:
        if self._predictions is None:
            self._predictions = np.zeros((self._n_samples, predictions.shape[1]))
        self._predictions[rows] = predictions
        self._block_rows[block] = rows

    def baseline_score(self, blocks: Sequence[int]) -> np.ndarray:
        """The model's own loss on the rows of ``blocks`` (their row-wise values summed in row order, weighted)."""
        rows = np.sort(np.concatenate([self._block_rows[b] for b in sorted(blocks)]))
        scoring = self._scoring
        sums = scoring.row_sums(scoring.part_values(self._predictions[rows], rows, self._predictions), rows)
        return scoring.scores(sums, scoring.row_total(rows))


class Estimator(ABC):
    """What an estimator supplies to the run loop (see the module docstring)."""

    #: ``batch_rows`` is rounded up to a multiple of this when the caller gives no ``batch_size``.
    aligned_rows: int = 1

    @property
    @abstractmethod
    def inputs(self):
        """The evaluated rows (:class:`~pyimportance.data.inputs.Inputs`)."""

    @property
    @abstractmethod
    def row_blocks(self) -> Sequence[np.ndarray]:
        """Rows of each block (sorted); empty: one block of all rows."""

    @property
    def n_blocks(self) -> int:
        """Row blocks of the run (one without ``tolerance``)."""
        return len(self.row_blocks) or 1

    def block_rows(self, block: int) -> np.ndarray:
        """The rows of block ``block`` (sorted)."""
        return self.row_blocks[block] if self.row_blocks else np.arange(self.inputs.n_samples)

    @abstractmethod
    def model_rows_per_row(self) -> int:
        """Rows the model predicts per evaluated row over the whole run, the baseline aside."""

    def total_rows(self) -> int:
        """Rows the model predicts over the whole run, the baseline included (progress, compilation)."""
        return self.inputs.n_samples * (self.model_rows_per_row() + 1)

    @abstractmethod
    def steps(self, tolerance: float | None) -> list[Step]:
        """The run's steps, in order."""

    def check_scoring(self, scoring) -> None:
        """Refuse a scoring the estimator cannot use (raise ``ValueError``); any scoring by default."""
        return None

    @abstractmethod
    def sums(self, scoring, track_rows: bool) -> Sums:
        """Empty sums for a run with ``scoring`` (``track_rows``: per-row sums for ``ci="data"``)."""

    def local_context(self, predict, on_rows: Callable[[int], None], local: bool) -> Any:
        """What the run keeps for its own calls (e.g. prefix reuse); ``local``: no executor runs the tasks."""
        return None

    @abstractmethod
    def baseline_predictions(self, predict, rows: np.ndarray, on_rows: Callable[[int], None],
                             context: Any) -> np.ndarray:
        """The model's predictions of the unperturbed ``rows``."""

    @abstractmethod
    def tasks(self, block: int, repeats: Sequence[int]) -> list:
        """The tasks of one row block for ``repeats``, in order."""

    @abstractmethod
    def compute(self, predict, scoring, baseline, tasks: Sequence, on_rows: Callable[[int], None] = lambda rows: None,
                context: Any = None) -> list:
        """The results of ``tasks``, in order (here, or on a worker with ``context=None``)."""

    @abstractmethod
    def task_rows(self, task) -> int:
        """Model rows one task predicts (progress)."""

    @abstractmethod
    def describe_tasks(self, first, last) -> str:
        """Where a failed run of tasks ``first`` to ``last`` was, for error messages."""
