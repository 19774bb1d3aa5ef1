"""Building the :class:`~.scoring.Scoring` of a run: the model's heads, their targets and losses, and the output units.

A model returns one array or several (output heads: a list or dict). Predictions reach the
scoring as one matrix, the heads' columns side by side, with each head's name and per-row shape.

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
from collections.abc import Mapping, Sequence

import numpy as np

from .. import terms
from .losses import LOSSES, Loss
from .scoring import ALL_OUTPUTS, Head, OutputUnit, Part, Scoring


def _column_labels(name: str, shape: tuple[int, ...]) -> list[str]:
    """Labels of a head's columns: ``name`` for one column, ``name[j]`` or ``name[t, j]`` for more."""
    if int(np.prod(shape, dtype=int)) <= 1:
        return [name]
    grid = np.indices(shape).reshape(len(shape), -1).T
    return [f"{name}[{', '.join(str(terms.index(i)) for i in where)}]" for where in grid]


def build_scoring(
    head_shapes: Sequence[tuple[str, tuple[int, ...]]],
    targets: list[tuple[str | None, np.ndarray]] | None,
    losses,
    *,
    output=None,
    per_output: bool = False,
) -> Scoring:
    """The :class:`Scoring` for the model's heads (name, per-row shape), the targets and the options.

    ``losses`` is the run's loss as :func:`.losses.resolve_losses` resolved it: one
    :class:`~.losses.Loss`, or a list or dict of them (one per head).
    """
    model_heads = _model_heads(head_shapes)
    if targets is None or len(targets) == 1:
        target = None if targets is None else targets[0][1]
        scored = _one_loss(losses) if isinstance(losses, (list, tuple, Mapping)) else losses
        name = model_heads[0][0] if len(model_heads) == 1 else "output"
        shape = head_shapes[0][1] if len(model_heads) == 1 else (sum(len(c) for _, c, _ in model_heads),)
        columns = np.concatenate([columns for _, columns, _ in model_heads])
        labels = tuple(label for _, _, head_labels in model_heads for label in head_labels)
        heads = [Head(name, columns, labels, shape, scored, target)]
    else:
        heads = _heads_per_target(head_shapes, model_heads, targets, losses)
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


def _one_loss(losses):
    if isinstance(losses, Mapping) or len(losses) != 1:
        raise ValueError("loss may be one loss per output head only when y has one target per head")
    return losses[0]


def _heads_per_target(head_shapes, model_heads, targets, losses) -> list[Head]:
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
    per_head = _losses_per_head(losses, names)
    return [
        Head(name, columns, labels, shape, one_loss, target)
        for (name, columns, labels), (_, shape), target, one_loss in zip(model_heads, head_shapes, ordered, per_head)
    ]


def _losses_per_head(losses, names: list[str]) -> list[Loss]:
    """One loss per head: the one loss, the list's, or the dict's by head name (heads it leaves out: mse)."""
    if isinstance(losses, Mapping):
        unknown = [key for key in losses if key not in names]
        if unknown:
            raise ValueError(f"loss names unknown output heads {terms.vector(unknown)}; the model's heads are "
                             f"{terms.vector(names)}")
        return [losses.get(name, LOSSES["mse"]) for name in names]
    if isinstance(losses, (list, tuple)):
        if len(losses) != len(names):
            raise ValueError(f"loss must be one loss or one per output head ({len(names)}), got {len(losses)}")
        return list(losses)
    return [losses] * len(names)


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
