"""The scoring of a run: row-wise values, scores and importances of the output units, for predictions of any rows.

A :class:`Scoring` is made of *heads* (blocks of prediction columns, each scored with one loss
against one target; :mod:`.heads` builds them from the model's outputs) and *output units*
(what one importance number is reported for: everything, a head, or a column of a regression
head). Each output unit is a sum of *parts*, each part the mean of some of a head's row-wise
values (:mod:`.losses`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace

import numpy as np

from .. import terms
from ..errors import LossFailedError
from .keras_losses import KERAS_LOSSES
from .losses import PREDICTION_CHANGE, Loss, custom_value, row_wise_custom

ALL_OUTPUTS = "(all)"


@dataclass(frozen=True)
class Head:
    """One block of output columns scored with one loss against one target."""

    name: str
    columns: np.ndarray  # positions in the concatenated prediction matrix
    labels: tuple[str, ...]  # one per column: "name", "name[j]" or "name[t, j]"
    shape: tuple[int, ...]  # per-row shape of the model's output the columns come from
    loss: Loss
    target: np.ndarray | None  # (n,) or (n, c); None: prediction change from the baseline

    @property
    def per_column(self) -> bool:
        """Whether the loss gives one value per column (regression-like) rather than per row."""
        return self.loss.kind in ("regression", "any") or (self.loss.kind == "binary" and len(self.columns) > 1)

    def model_shaped(self, y_pred: np.ndarray) -> np.ndarray:
        """The head's prediction columns (k, m) in the model's output shape (k, *shape), as losses take them."""
        return y_pred.reshape(y_pred.shape[0], *self.shape)

    def restricted(self, chosen: np.ndarray, target_chosen: bool = False) -> Head:
        """The head scored on its columns ``chosen`` only (positions within the head); ``target_chosen``:
        the target already holds only those columns."""
        target = self.target
        if target is not None and self.per_column and target.ndim >= 2 and not target_chosen:
            target = target.reshape(target.shape[0], -1)[:, chosen]
        return Head(self.name, self.columns[chosen], tuple(self.labels[j] for j in chosen), (len(chosen),),
                    self.loss, target)


@dataclass(frozen=True)
class Part:
    """One head's contribution to an output unit: the mean of some of its row-wise values."""

    head: int
    columns: np.ndarray | None  # columns of the head's (n, m) row-wise values; None = all


@dataclass(frozen=True)
class OutputUnit:
    """What one importance number is reported for."""

    label: str
    parts: tuple[Part, ...]


class Scoring:
    """Row-wise values, scores and importances of the output units, for predictions of any rows."""

    def __init__(self, heads: Sequence[Head], outputs: Sequence[OutputUnit], row_weights: np.ndarray | None = None):
        self.heads = list(heads)
        self.outputs = list(outputs)
        self.row_weights = row_weights  # (n_evaluated,) weight of each evaluated row, or None: all 1
        self.parts = [part for output in self.outputs for part in output.parts]
        self.decomposable = all(head.loss.decomposable for head in self.heads)
        # parts are listed output by output: where each output's parts start, and each part's sign
        self._output_starts = np.cumsum([0] + [len(output.parts) for output in self.outputs[:-1]])
        self._signs = np.array([self.heads[part.head].loss.sign for part in self.parts])

    @property
    def rowwise(self) -> bool:
        """Whether some part has row-wise values (a built-in loss, or a custom one giving a value per row)."""
        return any(self.heads[part.head].loss.decomposable for part in self.parts)

    def by_output(self, part_values: np.ndarray) -> np.ndarray:
        """Values per part (last axis) summed over each output unit's parts: (..., n_parts) -> (..., K)."""
        return np.add.reduceat(part_values, self._output_starts, axis=-1)

    @property
    def labels(self) -> list[str]:
        return [output.label for output in self.outputs]

    @property
    def loss_name(self) -> str:
        names = list(dict.fromkeys(head.loss.name for head in self.heads))
        return names[0] if len(names) == 1 else "+".join(names)

    def output_aggregate(self, k: int) -> str:
        """How output unit ``k``'s row-wise values combine: "mean", "rmse" or "none" (not row-wise)."""
        parts = self.outputs[k].parts
        losses = [self.heads[part.head].loss for part in parts]
        if not all(loss.decomposable for loss in losses):
            return "none"
        if any(loss.aggregate == "rmse" for loss in losses):
            return "rmse" if len(parts) == 1 else "none"
        return "mean"

    def part_values(self, predictions: np.ndarray, rows, baseline: np.ndarray | None) -> np.ndarray:
        """(k, n_parts) row-wise values of each part for the predictions (k, columns) of ``rows`` (or a slice)."""
        values = np.empty((predictions.shape[0], len(self.parts)))
        cache: dict[int, np.ndarray] = {}
        for index, part in enumerate(self.parts):
            if part.head not in cache:
                cache[part.head] = self._head_rows(part.head, predictions, rows, baseline)
            head_values = cache[part.head]
            chosen = head_values if part.columns is None else head_values[:, part.columns]
            values[:, index] = chosen.mean(axis=1)
        return values

    def _head_rows(self, h: int, predictions: np.ndarray, rows: np.ndarray, baseline: np.ndarray | None):
        head = self.heads[h]
        y_pred = predictions[:, head.columns]
        if head.target is None:
            return PREDICTION_CHANGE.per_row(baseline[rows][:, head.columns], y_pred)
        return head.loss.per_row(head.target[rows], head.model_shaped(y_pred))

    def with_row_wise_custom_losses(self, predictions: np.ndarray, rows) -> Scoring:
        """This scoring, with custom losses that return one value per row (seen on ``rows``) used row-wise."""
        heads, changed = list(self.heads), False
        for h, head in enumerate(heads):
            if head.target is not None and not head.loss.decomposable and predictions.shape[0] > 1:
                y_pred = head.model_shaped(predictions[:, head.columns])
                _, per_row = custom_value(head.loss.rows(head.target[rows], y_pred), predictions.shape[0])
                if per_row is not None:
                    heads[h], changed = replace(head, loss=row_wise_custom(head.loss)), True
        return Scoring(heads, self.outputs, self.row_weights) if changed else self

    def with_weights(self, sample_weight: np.ndarray | None) -> Scoring:
        """This scoring with each evaluated row's weight: ``sample_weight`` times the rows' weights of a loss that
        counts only some label elements (``Loss.row_weights``, e.g. ``ignore_class``); itself when neither is."""
        weights = None if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
        counted = self._loss_row_weights()
        if counted is not None:
            weights = counted if weights is None else weights * counted
        if weights is None:
            return self
        unweighted = [head.loss.name for head in self.heads
                      if head.target is not None and not head.loss.decomposable and not head.loss.takes_weights]
        if unweighted:
            fix = ("use a loss with a value per row" if unweighted[0].split(" ")[0] in KERAS_LOSSES else
                   "return one value per row, or add a sample_weight parameter (f(y_true, y_pred, "
                   "sample_weight=None), as scikit-learn's metrics)")
            raise ValueError(
                f"loss ({unweighted[0]}) gives one number for a set of rows and takes no sample_weight, so it "
                f"cannot be weighted by {terms.arg('sample_weight')}; {fix}"
            )
        if not weights.sum() > 0:
            raise ValueError(f"every evaluated row has weight 0 ({terms.arg('sample_weight')} times the rows the "
                             f"loss counts): the means would divide by 0")
        return Scoring(self.heads, self.outputs, weights)

    def _loss_row_weights(self) -> np.ndarray | None:
        """The rows' weights the heads' losses give (how many label elements each row counts), or None.

        A loss that leaves label elements out (``ignore_class``) on one of several heads would need a mean of its
        own: refused unless every head counts the same rows.
        """
        counted = []
        for head in self.heads:
            row_weights = getattr(head.loss, "row_weights", None)
            found = None if head.target is None or row_weights is None else row_weights(head.target)
            found = None if found is None else np.asarray(found, dtype=np.float64).reshape(-1)
            if found is not None and found.size and found[0] > 0 and np.all(found == found[0]):
                found = None  # the same count for every row: no weight (a weighted mean does not see a constant)
            counted.append(found)
        given = [one for one in counted if one is not None]
        if not given:
            return None
        if len(given) < len(counted) or any(not np.array_equal(one, given[0]) for one in given[1:]):
            raise ValueError(
                "a loss that leaves label elements out (ignore_class) on one of several output heads cannot share "
                f"one mean over rows with the others; score that head alone ({terms.arg('output')})"
            )
        return given[0]

    def row_sums(self, values: np.ndarray, rows) -> np.ndarray:
        """Sums over ``rows`` of row-wise ``values`` (k, ...), each row times its weight."""
        if self.row_weights is None:
            return values.sum(axis=0)
        return np.tensordot(self.row_weights[rows], values, axes=1)

    def row_total(self, rows) -> float | int:
        """What ``rows`` count in a mean: their number, or the sum of their weights."""
        if self.row_weights is None:
            return len(rows) if not isinstance(rows, slice) else rows.stop - rows.start
        return float(self.row_weights[rows].sum())

    @property
    def custom(self) -> bool:
        """Whether a loss is the user's own (its failures are the user's, named as such)."""
        return any(head.loss.kind == "any" and head.target is not None for head in self.heads)

    def custom_scores(self, predictions: np.ndarray, rows) -> np.ndarray:
        """Scores (n_parts,) of non-decomposable (custom) losses on these rows; NaN for the others."""
        scores = np.full(len(self.parts), np.nan)
        for index, part in enumerate(self.parts):
            head = self.heads[part.head]
            if not head.loss.decomposable:
                # weighted runs reach here only with losses that take weights (with_weights refuses the others)
                weighted = {} if self.row_weights is None else {"sample_weight": self.row_weights[rows]}
                value = head.loss.rows(head.target[rows], head.model_shaped(predictions[:, head.columns]), **weighted)
                scores[index], _ = custom_value(value, predictions.shape[0])
        return scores

    def scores(self, part_sums: np.ndarray, count: int | np.ndarray, custom: np.ndarray | None = None) -> np.ndarray:
        """Score of each output unit (K,) from per-part sums of row-wise values over ``count`` rows (their weight)."""
        means = part_sums / np.where(np.asarray(count) > 0, count, 1)
        part_scores = np.empty(len(self.parts))
        for index, part in enumerate(self.parts):
            loss = self.heads[part.head].loss
            part_scores[index] = custom[index] if not loss.decomposable else float(loss.score(means[..., index]))
        return self._combine(part_scores)

    def _combine(self, part_scores: np.ndarray) -> np.ndarray:
        """Each output unit's score: the sum of its parts' (signed, when losses and scores are mixed)."""
        mixed = len(set(self._signs.tolist())) > 1
        return self.by_output(part_scores * self._signs if mixed else part_scores)

    def importance(self, baseline_scores: np.ndarray, perturbed_scores: np.ndarray) -> np.ndarray:
        """How much worse the perturbed scores are, per output unit."""
        signs = {head.loss.sign for head in self.heads}
        sign = signs.pop() if len(signs) == 1 else 1.0
        return sign * (perturbed_scores - baseline_scores)

    def row_increase(self, perturbed_parts: np.ndarray, baseline_parts: np.ndarray) -> np.ndarray:
        """(k, K) per-row increase of each output unit's loss (sum of its parts, signed)."""
        return self.by_output((perturbed_parts - baseline_parts) * self._signs)


@contextlib.contextmanager
def scoring_failures(scoring: Scoring, where: str) -> Iterator[None]:
    """Turn a custom loss's exception into a :class:`~pyimportance.errors.LossFailedError` that says ``where``."""
    try:
        yield
    except LossFailedError:
        raise
    except Exception as error:
        if not scoring.custom:
            raise
        raise LossFailedError(f"loss ({scoring.loss_name}) failed {where}: {type(error).__name__}: {error}") from error
