"""A ``tf.data.Dataset`` as ``X``: its batches read once and concatenated into arrays, as Keras' ``evaluate`` takes it.

Each element is unpacked as Keras unpacks it (``keras.utils.unpack_x_y_sample_weight``): a tuple
``(x, y)`` or ``(x, y, sample_weight)``, or ``x`` alone (an array, or a dict of arrays for a model
with several inputs). The whole dataset is held in memory afterwards (about the size of ``X`` and
``y`` as arrays): a dataset is read once, in full, because a shuffled one gives another order on each
pass and a perturbation needs every row at hand.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from .. import terms


def is_dataset(value) -> bool:
    """Whether ``value`` is a ``tf.data.Dataset`` (without importing TensorFlow)."""
    return any(cls.__name__ in ("DatasetV2", "DatasetV1") and cls.__module__.startswith("tensorflow")
               for cls in type(value).__mro__)


def dataset_arrays(X, y):
    """``X`` and ``y`` as arrays when ``X`` is a ``tf.data.Dataset`` of ``(x, y)`` batches (or of ``x``); else as
    given. A dataset ``y``, a ``y`` given beside a dataset, weights in the dataset and an endless dataset are refused.
    """
    x_name, y_name = terms.arg("X"), terms.arg("y")
    if is_dataset(y):
        raise TypeError(f"{y_name} must be an array, got a tf.data.Dataset; pass the dataset as {x_name}, with "
                        f"(x, y) batches, as keras' evaluate takes it")
    if not is_dataset(X):
        return X, y
    if y is not None:
        raise ValueError(
            f"{y_name} must be left out when {x_name} is a tf.data.Dataset (as in keras' evaluate): the dataset's "
            f"(x, y) batches hold the targets, e.g. tf.data.Dataset.zip((x_dataset, y_dataset)); a shuffled dataset "
            f"gives its rows in another order on each pass, so a separate {y_name} could not be matched to them"
        )
    import tensorflow as tf

    if int(X.cardinality()) == int(tf.data.INFINITE_CARDINALITY):
        raise ValueError(f"{x_name} is an endless tf.data.Dataset (.repeat()); pass a finite one, e.g. "
                         f"{x_name}.take(n_batches)")
    xs, ys = [], []
    for element in X.as_numpy_iterator():
        x_part, y_part = _unpack(element, x_name)
        xs.append(x_part)
        ys.append(y_part)
    if not xs:
        raise ValueError(f"{x_name} is an empty tf.data.Dataset: it gave no batches")
    if any((part is None) != (ys[0] is None) for part in ys):
        raise ValueError(f"{x_name} is a tf.data.Dataset whose batches hold y in some batches only")
    return _concatenated(xs), None if ys[0] is None else _concatenated(ys)


def _unpack(element, x_name: str):
    """``(x, y)`` of one batch, as Keras unpacks it: a tuple is (x,), (x, y) or (x, y, sample_weight)."""
    if isinstance(element, list):
        element = tuple(element)
    if not isinstance(element, tuple):
        return element, None
    if len(element) == 1:
        return element[0], None
    if len(element) == 2:
        return element
    if len(element) == 3:
        raise ValueError(
            f"{x_name} is a tf.data.Dataset of (x, y, sample_weight) batches; sample weights from a dataset are "
            f"not taken: map them out, e.g. {x_name}.map(lambda x, y, w: (x, y)), and pass the weights apart "
            "where the function takes them"
        )
    raise ValueError(f"{x_name} is a tf.data.Dataset of {len(element)}-tuples; its batches must be x, (x, y) or "
                     "(x, y, sample_weight), as keras' evaluate takes them (several inputs: a dict {input name: x})")


def _concatenated(parts: list):
    """The batches joined along the rows: one array, or a dict/tuple of them in the batches' structure."""
    first = parts[0]
    if isinstance(first, Mapping):
        return {key: _concatenated([part[key] for part in parts]) for key in first}
    if isinstance(first, (tuple, list)):
        return [_concatenated([part[i] for part in parts]) for i in range(len(first))]
    return np.concatenate([np.asarray(part) for part in parts], axis=0)
