"""How ``log_loss`` and ``accuracy`` read a head's target: one class per row or per step, or several 0/1 labels.

``log_loss`` and ``accuracy`` take every label form Keras users bring, and each head's target
decides, on all its rows, once:

| the head's output | ``y`` | read as |
|---|---|---|
| one column (sigmoid) | 0/1 | binary cross-entropy / binary accuracy |
| ``(K,)`` or ``(T, K)`` (softmax) | labels ``(n,)`` / ``(n, T)``, or one-hot | categorical, per row or per step |
| ``(L,)`` or ``(T, L)`` (sigmoids) | 0/1 of the output's shape, some row not one-hot | binary, per label |

A 0/1 target of the output's shape with exactly one 1 per row (or step) is read as one-hot; for
independent sigmoid labels that happen to be so, name the loss (``"binary_crossentropy"``,
``"binary_accuracy"``): the check of the targets says so when the predictions do not sum to 1.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from .losses import CLASSIFICATION_FORMS, LOSSES, Loss


def for_head(loss: Loss, target: np.ndarray | None, shape: tuple[int, ...]) -> Loss:
    """``loss`` as it reads a head of per-row ``shape`` and its ``target``: ``log_loss`` and ``accuracy``
    become the binary or the categorical loss of the target's label form (keeping their names)."""
    if target is None or loss.kind != "classification":
        return loss
    form = "binary" if is_multi_label(target, shape) or int(np.prod(shape, dtype=int)) == 1 else "categorical"
    chosen = LOSSES[CLASSIFICATION_FORMS[loss.name.split(" ")[0]][form]]  # "log_loss (from logits)": log_loss
    return replace(loss, rows=chosen.rows, kind=chosen.kind, label_form=form)


def is_multi_label(target: np.ndarray, shape: tuple[int, ...]) -> bool:
    """Whether ``target`` holds several independent 0/1 labels per row (or per step) of an output of ``shape``:
    0/1 values of the output's size per row, with some row (or step) not exactly one-hot."""
    width = int(np.prod(shape, dtype=int))
    if width <= 1 or target.size != target.shape[0] * width or not np.isin(target, (0.0, 1.0)).all():
        return False
    per_class = target.reshape(target.shape[0], -1, shape[-1] if shape else 1)
    return bool((per_class.sum(axis=-1) != 1).any())
