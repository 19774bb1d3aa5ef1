"""What is scored: the model's output heads, their targets, and the outputs importance is reported for.

A model returns one array or several (output heads: a list or dict). Predictions reach this
module as a list of ``(n, c_h)`` float64 arrays, one per head, with each head's per-row shape.

- With one ``y`` array (or none) every head's columns are scored together, as one block
  (the columns of all heads side by side), as a one-output model would be.
- With ``y`` a list or dict (one target per head) each head gets its own loss (one loss for
  all heads or one per head) and the total is the sum of the heads' losses, as Keras sums them.

An *output unit* is what one importance number is reported for: everything (the default), or
with ``per_output=True`` each head, or each column of a regression head (a forecast horizon, a
time step x channel of a sequence output). ``output=`` restricts scoring to some heads/columns.
"""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np

from . import terms
from .scoring import PREDICTION_CHANGE, Loss, custom_value, resolve_loss, row_wise_custom

ALL_OUTPUTS = "(all)"
_PROBABILITY_SLACK = 1e-6
_SUM_SLACK = 1e-3


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

    def restricted(self, chosen: np.ndarray) -> Head:
        """The head scored on its columns ``chosen`` only (positions within the head)."""
        target = self.target
        if target is not None and self.per_column and target.ndim >= 2:
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

    def __init__(self, heads: Sequence[Head], outputs: Sequence[OutputUnit]):
        self.heads = list(heads)
        self.outputs = list(outputs)
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
        return head.loss.per_row(head.target[rows], y_pred)

    def with_row_wise_custom_losses(self, predictions: np.ndarray, rows) -> Scoring:
        """This scoring, with custom losses that return one value per row (seen on ``rows``) used row-wise."""
        heads, changed = list(self.heads), False
        for h, head in enumerate(heads):
            if head.target is not None and not head.loss.decomposable and predictions.shape[0] > 1:
                _, per_row = custom_value(head.loss.rows(head.target[rows], predictions[:, head.columns]),
                                          predictions.shape[0])
                if per_row is not None:
                    heads[h], changed = replace(head, loss=row_wise_custom(head.loss)), True
        return Scoring(heads, self.outputs) if changed else self

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
                value = head.loss.rows(head.target[rows], predictions[:, head.columns])
                scores[index], _ = custom_value(value, predictions.shape[0])
        return scores

    def scores(self, part_sums: np.ndarray, count: int | np.ndarray, custom: np.ndarray | None = None) -> np.ndarray:
        """Score of each output unit (K,) from per-part sums of row-wise values over ``count`` rows."""
        means = part_sums / np.maximum(count, 1)
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


# ----------------------------------------------------------------------------- building a Scoring


def _column_labels(name: str, shape: tuple[int, ...]) -> list[str]:
    """Labels of a head's columns: ``name`` for one column, ``name[j]`` or ``name[t, j]`` for more."""
    if int(np.prod(shape, dtype=int)) <= 1:
        return [name]
    grid = np.indices(shape).reshape(len(shape), -1).T
    return [f"{name}[{', '.join(str(terms.index(i)) for i in where)}]" for where in grid]


def build_scoring(
    head_shapes: Sequence[tuple[str, tuple[int, ...]]],
    targets: list[tuple[str | None, np.ndarray]] | None,
    loss,
    *,
    output=None,
    per_output: bool = False,
) -> Scoring:
    """The :class:`Scoring` for the model's heads (name, per-row shape), the targets and the options."""
    model_heads = _model_heads(head_shapes)
    if targets is None or len(targets) == 1:
        target = None if targets is None else targets[0][1]
        if isinstance(loss, (list, tuple, Mapping)):
            loss = _one_loss(loss)
        scored = resolve_loss(loss, target is not None)
        name = model_heads[0][0] if len(model_heads) == 1 else "output"
        shape = head_shapes[0][1] if len(model_heads) == 1 else (sum(len(c) for _, c, _ in model_heads),)
        columns = np.concatenate([columns for _, columns, _ in model_heads])
        labels = tuple(label for _, _, head_labels in model_heads for label in head_labels)
        heads = [Head(name, columns, labels, shape, scored, target)]
    else:
        heads = _heads_per_target(head_shapes, model_heads, targets, loss)
    if output is not None:
        heads = _select(heads, model_heads, output)
    return Scoring(heads, _output_units(heads, per_output))


def _model_heads(head_shapes) -> list[tuple[str, np.ndarray, tuple[str, ...]]]:
    """(name, columns in the concatenated predictions, column labels) of each of the model's heads."""
    found, start = [], 0
    for name, shape in head_shapes:
        width = int(np.prod(shape, dtype=int)) if len(shape) else 1
        found.append((name, np.arange(start, start + width), tuple(_column_labels(name, shape))))
        start += width
    return found


def _one_loss(loss):
    if isinstance(loss, Mapping) or len(loss) != 1:
        raise ValueError("loss may be one loss per output head only when y has one target per head")
    return loss[0]


def _heads_per_target(head_shapes, model_heads, targets, loss) -> list[Head]:
    names = [name for name, _, _ in model_heads]
    if len(targets) != len(head_shapes):
        raise ValueError(
            f"y must have one target per model output head ({len(head_shapes)}: {terms.vector(names)}), "
            f"got {len(targets)}"
        )
    if all(key is not None for key, _ in targets):
        unknown = [key for key, _ in targets if key not in names]
        if unknown:
            raise ValueError(f"y names unknown output heads {terms.vector(unknown)}; the model's heads are "
                             f"{terms.vector(names)}")
        by_name = dict(targets)
        ordered = [by_name[name] for name in names]
    else:
        ordered = [value for _, value in targets]
    losses = _losses_per_head(loss, names)
    return [
        Head(name, columns, labels, shape, resolve_loss(one_loss, True), target)
        for (name, columns, labels), (_, shape), target, one_loss in zip(model_heads, head_shapes, ordered, losses)
    ]


def _losses_per_head(loss, names: list[str]) -> list:
    if isinstance(loss, Mapping):
        unknown = [key for key in loss if key not in names]
        if unknown:
            raise ValueError(f"loss names unknown output heads {terms.vector(unknown)}; the model's heads are "
                             f"{terms.vector(names)}")
        return [loss.get(name) for name in names]
    if isinstance(loss, (list, tuple)):
        if len(loss) != len(names):
            raise ValueError(f"loss must be one loss or one per output head ({len(names)}), got {len(loss)}")
        return list(loss)
    return [loss] * len(names)


def _select(heads: list[Head], model_heads, output) -> list[Head]:
    """The heads (and columns) ``output`` names: heads by name or position, or ``{head: [columns]}``."""
    wanted = dict(output) if isinstance(output, Mapping) else {
        item: None for item in (output if isinstance(output, (list, tuple)) else [output])}
    names = [name for name, _, _ in model_heads]
    chosen: dict[int, list[int]] = {}  # head of ``heads`` -> its columns (positions within it)
    for item, columns in wanted.items():
        position = _head_position(item, names)
        _, model_columns, _ = model_heads[position]
        within = np.arange(len(model_columns))
        if columns is not None:
            within = np.atleast_1d(np.asarray(columns, dtype=int))
            if within.min() < 0 or within.max() >= len(model_columns):
                raise ValueError(
                    f"{terms.element('output', item)} selects columns out of range "
                    f"{terms.index(0)}..{terms.index(len(model_columns) - 1)}"
                )
        if len(heads) == 1:  # one target for all heads: the columns within the joint head
            chosen.setdefault(0, []).extend((model_columns[within] - model_columns[0] + _offset(model_heads,
                                                                                                 position)).tolist())
        else:
            chosen.setdefault(position, []).extend(within.tolist())
    return [heads[h].restricted(np.asarray(columns)) for h, columns in chosen.items()]


def _head_position(item, names: list[str]) -> int:
    """Position of an output head given by name or by position (as the caller counts)."""
    if isinstance(item, str):
        if item not in names:
            raise ValueError(f"output names unknown output head {terms.literal(item)}; the model's heads are "
                             f"{terms.vector(names)}")
        return names.index(item)
    if isinstance(item, numbers.Integral) and not isinstance(item, bool):
        position = int(item)
        if not 0 <= position < len(names):
            raise ValueError(
                f"output head number {terms.index(position)} is out of range "
                f"{terms.index(0)}..{terms.index(len(names) - 1)}"
            )
        return position
    raise TypeError(f"output must name output heads (names or numbers), got {terms.literal(item)}")


def _offset(model_heads, position: int) -> int:
    """Where model head ``position``'s columns start in a joint head of all heads."""
    return sum(len(columns) for _, columns, _ in model_heads[:position])


def _output_units(heads: list[Head], per_output: bool) -> list[OutputUnit]:
    if not per_output:
        return [OutputUnit(ALL_OUTPUTS, tuple(Part(h, None) for h in range(len(heads))))]
    units = []
    for h, head in enumerate(heads):
        if head.per_column and len(head.columns) > 1:
            units.extend(OutputUnit(label, (Part(h, np.array([j])),)) for j, label in enumerate(head.labels))
        else:
            units.append(OutputUnit(head.labels[0] if len(head.columns) == 1 else head.name, (Part(h, None),)))
    return units


# ----------------------------------------------------------------------------- target checks


def _is_binary(values: np.ndarray) -> bool:
    return bool(np.isin(values, (0.0, 1.0)).all())


def _sample(values: np.ndarray) -> str:
    """A few distinct values, as the caller writes a vector."""
    return terms.vector(np.unique(values)[:5].tolist())


def check_targets(scoring: Scoring, predictions: np.ndarray) -> None:
    """Check each head's ``y`` (all rows) against its loss and the model's baseline predictions (some rows)."""
    for head in scoring.heads:
        if head.target is not None:
            _check_head(head, predictions[:, head.columns], len(scoring.heads) > 1)


def _check_head(head: Head, y_pred: np.ndarray, several: bool) -> None:
    loss, y, n_outputs = head.loss, head.target, y_pred.shape[1]
    where = f" for output head {terms.literal(head.name)}" if several else ""
    name = terms.setting("loss", loss.name)
    kind = loss.kind
    if kind == "classification":
        kind = "binary" if n_outputs == 1 else "categorical"
    if kind == "binary":
        y_columns = 1 if y.ndim == 1 else y.shape[1]
        if y_columns != n_outputs:
            raise ValueError(
                f"{name} needs y with one 0/1 column per model output ({n_outputs}){where}, got {y_columns} "
                f"columns" + (" (one-hot y for a one-output sigmoid model: pass the class labels 0/1 instead)"
                               if n_outputs == 1 and y_columns == 2 else "")
            )
        if not _is_binary(y):
            raise ValueError(
                f"{name} needs y with classes 0/1{where}, got values such as {_sample(y)} "
                f"(continuous y: use {terms.setting('loss', 'mse')})"
            )
    elif kind == "categorical":
        _check_categorical(name, y, n_outputs, where)
    elif kind == "regression":
        y_columns = 1 if y.ndim == 1 else int(np.prod(y.shape[1:]))
        if y_columns != n_outputs:
            shape = f" (the model returns an array of shape {head.shape} per row)" if len(head.shape) > 1 else ""
            raise ValueError(
                f"y must have one column per model output ({n_outputs}){where}, got {y_columns} column(s){shape}"
            )
        _warn_if_classifier(loss, y, y_pred)
    if loss.probabilities and not loss.from_logits:
        _check_probabilities(loss, y_pred, kind, where)


def _check_categorical(name: str, y: np.ndarray, n_outputs: int, where: str) -> None:
    if y.ndim == 2:
        if y.shape[1] != n_outputs:
            expected = terms.either(f"labels (n,) or one-hot (n, {n_outputs})",
                                    f"class labels (a vector or a factor) or a one-hot matrix of {n_outputs} columns")
            raise ValueError(f"{name} needs y as {expected}{where}, got {terms.shape(y.shape)}")
        if not _is_binary(y):
            raise ValueError(f"{name} needs one-hot y (0/1 columns){where}, got continuous values")
        ones = y.sum(axis=1)
        bad = np.flatnonzero(ones != 1)
        if len(bad):
            row = int(bad[0])
            what = "no class" if ones[row] == 0 else f"{int(ones[row])} classes"
            raise ValueError(
                f"{name} needs one-hot y with exactly one 1 per row{where}, got {len(bad)} rows that are not: "
                f"row {terms.index(row)} marks {what}"
            )
        return
    labels = y
    if not (np.all(labels == np.round(labels)) and labels.min() >= 0 and labels.max() < n_outputs):
        raise ValueError(
            f"{name} needs y as class labels 0..{n_outputs - 1} for a model with {n_outputs} outputs{where}, "
            f"got values such as {_sample(labels)}"
        )


def _check_probabilities(loss: Loss, y_pred: np.ndarray, kind: str, where: str) -> None:
    """Probability losses need probabilities: refuse logits and unnormalised scores with a fix."""
    if loss.name == "accuracy" and y_pred.shape[1] > 1:
        return  # argmax reads logits and probabilities alike
    low, high = float(y_pred.min()), float(y_pred.max())
    problem = None
    if low < -_PROBABILITY_SLACK or high > 1 + _PROBABILITY_SLACK:
        problem = f"values outside [0, 1] (from {low:.4g} to {high:.4g})"
    elif kind == "categorical" and y_pred.shape[1] > 1:
        sums = y_pred.sum(axis=1)
        worst = float(sums[np.argmax(np.abs(sums - 1.0))])
        if abs(worst - 1.0) > _SUM_SLACK:
            problem = f"rows that do not sum to 1 (one sums to {worst:.4g})"
    if problem is None:
        return
    keras_loss = {
        "binary": "BinaryCrossentropy", "categorical": "CategoricalCrossentropy",
    }.get(kind, "BinaryCrossentropy")
    fix = terms.either(f"loss=keras.losses.{keras_loss}(from_logits=True)",
                       f"loss = keras3::loss_{_snake(keras_loss)}(from_logits = TRUE)")
    raise ValueError(
        f"{terms.setting('loss', loss.name)} needs predicted probabilities{where}, but the model returned {problem}: "
        f"it seems to output logits. Add a {'sigmoid' if y_pred.shape[1] == 1 else 'softmax'} activation to its "
        f"last layer, or pass {fix}"
    )


def _snake(name: str) -> str:
    """``BinaryCrossentropy`` -> ``binary_crossentropy`` (keras3's R function names)."""
    return "".join(f"_{c.lower()}" if c.isupper() and i else c.lower() for i, c in enumerate(name))


def _warn_if_classifier(loss: Loss, y: np.ndarray, y_pred: np.ndarray) -> None:
    """A regression loss on class labels and a classifier's probabilities is usually a mistake."""
    labels_like = np.all(y == np.round(y)) and len(np.unique(y)) <= 20
    probabilities = y_pred.min() >= 0 and y_pred.max() <= 1
    if labels_like and probabilities and _is_binary(y):
        warnings.warn(
            f"{terms.setting('loss', loss.name)} on class labels and predicted probabilities measures the "
            f"Brier score; for a classifier, {terms.setting('loss', 'log_loss')} or {terms.literal('accuracy')} "
            "is usually meant",
            UserWarning,
            stacklevel=5,
        )

