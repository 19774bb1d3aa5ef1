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

Heads are known by their names (a dict output's keys, ``"output"`` for a single head, else the
model's output names) and by the names of the Keras layers they come from (``aliases``), so
``y``, ``loss`` and ``output`` may name a head either way; results are labelled by the name.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence

import numpy as np

from .. import terms
from .label_forms import for_head
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
    aliases: Mapping[str, str] | None = None,
) -> Scoring:
    """The :class:`Scoring` for the model's heads (name, per-row shape), the targets and the options.

    ``losses`` is the run's loss as :func:`.losses.resolve_losses` resolved it: one
    :class:`~.losses.Loss`, or a list or dict of them (one per head). ``aliases``: other names
    of the heads (alias -> name).
    """
    model_heads = _model_heads(head_shapes)
    known = _HeadNames([name for name, _ in head_shapes], dict(aliases or {}))
    keyed = targets is not None and all(key is not None for key, _ in targets)
    if targets is None or (len(targets) == 1 and not (keyed and len(model_heads) > 1)):
        if keyed:  # a dict y of one target must name the one head
            known.positions([targets[0][0]], "y")
        target = None if targets is None else targets[0][1]
        scored = _one_loss(losses, known) if isinstance(losses, (list, tuple, Mapping)) else losses
        name = model_heads[0][0] if len(model_heads) == 1 else "output"
        shape = head_shapes[0][1] if len(model_heads) == 1 else (sum(len(c) for _, c, _ in model_heads),)
        columns = np.concatenate([columns for _, columns, _ in model_heads])
        labels = tuple(label for _, _, head_labels in model_heads for label in head_labels)
        heads = [Head(name, columns, labels, shape, for_head(scored, target, shape), target)]
    else:
        heads = _heads_per_target(head_shapes, model_heads, targets, losses, known, output)
    if output is not None:
        heads = _select(heads, model_heads, output, known)
    return Scoring(heads, _output_units(heads, per_output))


class _HeadNames:
    """The model's head names and their aliases, and the positions of heads named or numbered by the caller."""

    def __init__(self, names: list[str], aliases: dict[str, str]):
        self.names, self.aliases = names, aliases

    def find(self, key: str) -> int | None:
        name = key if key in self.names else self.aliases.get(key)
        return None if name is None else self.names.index(name)

    def positions(self, keys, argument: str) -> list[int]:
        """Positions of the heads ``keys`` name (``argument`` names them: "y", "loss")."""
        unknown = [key for key in keys if self.find(key) is None]
        if unknown:
            raise ValueError(f"{argument} names unknown output heads {terms.vector(unknown)}; the model's heads are "
                             f"{self.described()}")
        return [self.find(key) for key in keys]

    def described(self) -> str:
        """The head names, and the layer names they are also known by."""
        if not self.aliases:
            return terms.vector(self.names)
        return f"{terms.vector(self.names)} (their layers: {terms.vector(list(self.aliases))})"


def _model_heads(head_shapes) -> list[tuple[str, np.ndarray, tuple[str, ...]]]:
    """(name, columns in the concatenated predictions, column labels) of each of the model's heads."""
    found, start = [], 0
    for name, shape in head_shapes:
        width = int(np.prod(shape, dtype=int)) if len(shape) else 1
        found.append((name, np.arange(start, start + width), tuple(_column_labels(name, shape))))
        start += width
    return found


def _one_loss(losses, known: _HeadNames):
    if isinstance(losses, Mapping) and len(known.names) == 1 and len(losses) == 1:
        known.positions(list(losses), terms.arg("loss"))
        return next(iter(losses.values()))
    if isinstance(losses, Mapping) or len(losses) != 1:
        raise ValueError("loss may be one loss per output head only when y has one target per head")
    return losses[0]


def _heads_per_target(head_shapes, model_heads, targets, losses, known: _HeadNames, output) -> list[Head]:
    names = known.names
    if all(key is not None for key, _ in targets):
        positions = known.positions([key for key, _ in targets], "y")
        ordered = [None] * len(names)
        for position, (_, value) in zip(positions, targets):
            ordered[position] = value
        missing = [name for name, value in zip(names, ordered) if value is None]
        if missing and not _leaves_out(output, missing, known):
            raise ValueError(
                f"y must have one target per model output head ({len(names)}: {known.described()}), got none for "
                f"{terms.vector(missing)}; give them one, or score only the heads y names with "
                f"{terms.arg('output')} {terms.vector([key for key, _ in targets])}"
            )
    elif len(targets) != len(head_shapes):
        raise ValueError(
            f"y must have one target per model output head ({len(head_shapes)}: {terms.vector(names)}), "
            f"got {len(targets)}"
        )
    else:
        ordered = [value for _, value in targets]
    per_head = _losses_per_head(losses, known)
    return [
        Head(name, columns, labels, shape, for_head(one_loss, target, shape), target)
        for (name, columns, labels), (_, shape), target, one_loss in zip(model_heads, head_shapes, ordered, per_head)
    ]


def _leaves_out(output, heads: list[str], known: _HeadNames) -> bool:
    """Whether ``output`` selects none of ``heads`` (so they need no target)."""
    if output is None:
        return False
    items = list(output) if isinstance(output, (Mapping, list, tuple)) else [output]
    left_out = {known.names.index(head) for head in heads}
    return not any(_head_position(item, known) in left_out for item in items)


def _losses_per_head(losses, known: _HeadNames) -> list[Loss]:
    """One loss per head: the one loss, the list's, or the dict's by head name (heads it leaves out: mse)."""
    names = known.names
    if isinstance(losses, Mapping):
        by_position = dict(zip(known.positions(list(losses), "loss"), losses.values()))
        return [by_position.get(position, LOSSES["mse"]) for position in range(len(names))]
    if isinstance(losses, (list, tuple)):
        if len(losses) != len(names):
            raise ValueError(f"loss must be one loss or one per output head ({len(names)}), got {len(losses)}")
        return list(losses)
    return [losses] * len(names)


def _select(heads: list[Head], model_heads, output, known: _HeadNames) -> list[Head]:
    """The heads (and columns) ``output`` names: heads by name or position, or ``{head: [columns]}``."""
    wanted = dict(output) if isinstance(output, Mapping) else {
        item: None for item in (output if isinstance(output, (list, tuple)) else [output])}
    chosen: dict[int, list[int]] = {}  # head of ``heads`` -> its columns (positions within it)
    for item, columns in wanted.items():
        position = _head_position(item, known)
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
    return [_restricted(heads[h], np.asarray(columns)) for h, columns in chosen.items()]


def _restricted(head: Head, chosen: np.ndarray) -> Head:
    """``head`` scored on its columns ``chosen``; its target holds all the head's columns or only those."""
    target = head.target
    if target is None or not head.per_column or len(chosen) == len(head.columns):
        return head.restricted(chosen, target_chosen=False)
    width = 1 if target.ndim == 1 else int(np.prod(target.shape[1:]))
    if width == len(head.columns):
        return head.restricted(chosen, target_chosen=False)
    if width == len(chosen):
        return head.restricted(chosen, target_chosen=True)
    where = "" if head.name in ("output", None) else f" of output head {terms.literal(head.name)}"
    raise ValueError(
        f"y must hold all {len(head.columns)} columns{where} or only the {len(chosen)} chosen by "
        f"{terms.arg('output')}, got {width} column(s)"
    )


def _head_position(item, known: _HeadNames) -> int:
    """Position of an output head given by name or by position (as the caller counts)."""
    names = known.names
    if isinstance(item, str):
        position = known.find(item)
        if position is None:
            raise ValueError(f"output names unknown output head {terms.literal(item)}; the model's heads are "
                             f"{known.described()}")
        return position
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


def _step_labels(head: Head) -> list[str]:
    """Labels of a sequence head's steps (``name[t]``), where its loss gives one value per step."""
    if head.loss.counted is not None:
        raise ValueError(
            f"{terms.arg('per_output')} over the steps of {terms.literal(head.name)} cannot weigh each step by its "
            f"labels not ignored ({terms.setting('loss', head.loss.name)}); pass "
            f"{terms.setting('per_output', False)}, or a loss without ignore_class"
        )
    return _column_labels(head.name, head.shape[:-1])


def _output_units(heads: list[Head], per_output: bool) -> list[OutputUnit]:
    if not per_output:
        return [OutputUnit(ALL_OUTPUTS, tuple(Part(h, None) for h in range(len(heads))))]
    units = []
    for h, head in enumerate(heads):
        if head.per_column and len(head.columns) > 1:
            units.extend(OutputUnit(label, (Part(h, np.array([j])),)) for j, label in enumerate(head.labels))
        elif head.target is not None and len(head.shape) > 1:  # a loss per row of each step: a unit per step
            units.extend(OutputUnit(label, (Part(h, np.array([t])),))
                         for t, label in enumerate(_step_labels(head)))
        else:
            units.append(OutputUnit(head.labels[0] if len(head.columns) == 1 else head.name, (Part(h, None),)))
    return units
