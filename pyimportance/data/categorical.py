"""Which features are integer or categorical codes, so that no method treats a code as a measurement.

One detector, :func:`categorical_features`, serves every method that must know: the noise
methods (a day-of-week code 2 plus noise is no day), the conditional sampler (a ridge residual
on codes is a value the model never saw) and a categorical sampler. It looks at each input and
finds three kinds of feature, conservatively (a feature is reported only when nothing else can
be meant):

``"model input"``
    The model reads the input as integers: a Keras input of an integer (or bool) dtype, e.g.
    ``keras.Input((T,), dtype="int32")`` feeding an ``Embedding``. Every feature of that input.
``"integer data"``
    The caller's data for the feature has an integer or bool dtype: a NumPy array of
    ``int*``/``uint*``/``bool``, a DataFrame column of such a dtype (nullable ``Int64`` and
    ``boolean`` too), an R integer or logical array.
``"one-hot"``
    Two or more *consecutive* features of one input that take only the values 0 and 1, each
    both values, and that sum to exactly 1 on every real (not padded) time step of every row:
    the columns of one dummy-coded category. The smallest such runs are reported; because every
    column is non-constant, the split into runs is unique (a longer run would need an all-zero
    column), so a group is never a guess. Any dtype.

Float data is never counted as integer codes by its values alone: whole numbers in a float
array (counts, ratings, a year) are as often measurements as codes, so ``2.0, 3.0`` in float
stays a measurement unless the model's dtype says otherwise (or it is part of a one-hot run).
Pass integer arrays (``X.astype("int32")``, R's ``storage.mode(x) <- "integer"``) to say that a
feature is coded.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .inputs import Inputs

MODEL_INPUT = "model input"
INTEGER_DATA = "integer data"
ONE_HOT = "one-hot"

Feature = tuple[int, int]  # (input position, feature position within the input)

_ROWS = 4096  # rows read at a time: the detector never copies the whole data


def is_integer_dtype(dtype) -> bool:
    """Whether a dtype (NumPy, pandas, a Keras dtype name such as ``"int32"``) holds integers or bools."""
    if dtype is None:
        return False
    kind = getattr(dtype, "kind", None)
    if not isinstance(kind, str):
        try:
            kind = np.dtype(dtype).kind
        except TypeError:  # a name NumPy does not know ("bfloat16") or a backend's dtype object
            kind = None
    if isinstance(kind, str):
        return kind in ("b", "i", "u")
    return str(getattr(dtype, "name", dtype)).lower().startswith(("int", "uint", "bool"))


@dataclass(frozen=True)
class CategoricalFeatures:
    """The integer / categorical features of the inputs.

    Attributes
    ----------
    kinds : dict of (input, feature) to str
        Every integer-coded feature and why: ``"model input"`` (the model reads integers; it wins
        over ``"integer data"``) or ``"integer data"``.
    one_hot : tuple of tuples of (input, feature)
        The one-hot runs, each the features of one dummy-coded category, in input and column order.
    model_dtypes : dict of int to str
        The integer dtype of each input the model reads as integers, by input position.
    """

    kinds: dict[Feature, str]
    one_hot: tuple[tuple[Feature, ...], ...] = ()
    model_dtypes: dict[int, str] | None = None

    def kind(self, feature: Feature) -> str | None:
        """``"model input"``, ``"integer data"``, ``"one-hot"`` or None (a measurement)."""
        if feature in self.kinds:
            return self.kinds[feature]
        if any(feature in run for run in self.one_hot):
            return ONE_HOT
        return None

    def one_hot_run(self, feature: Feature) -> tuple[Feature, ...] | None:
        """The one-hot run ``feature`` belongs to, or None."""
        return next((run for run in self.one_hot if feature in run), None)

    def __bool__(self) -> bool:
        return bool(self.kinds or self.one_hot)


def categorical_features(inputs: Inputs, model_dtypes: Sequence[object | None] | None = None) -> CategoricalFeatures:
    """Detect the integer / categorical features of ``inputs`` (see the module docstring for the rules).

    Parameters
    ----------
    inputs : Inputs
        The checked inputs; each :class:`~.inputs.ModelInput` keeps whether the caller's data was
        integer-typed (``integer_data``) and its padding mask (padded steps are left out).
    model_dtypes : sequence, optional
        The dtype of each model input, in the inputs' order (``keras_input_dtypes(model)``), or
        None where unknown (any model that is not Keras).

    Examples
    --------
    >>> import numpy as np
    >>> from pyimportance.data.check_x import check_X
    >>> X = np.zeros((4, 3)); X[[0, 2], 1] = 1; X[[1, 3], 2] = 1; X[:, 0] = [0.5, 1.5, 2.5, 3.5]
    >>> categorical_features(check_X(X)).one_hot
    (((0, 1), (0, 2)),)
    """
    kinds: dict[Feature, str] = {}
    integer_inputs: dict[int, str] = {}
    for i, part in enumerate(inputs.parts):
        dtype = model_dtypes[i] if model_dtypes is not None and i < len(model_dtypes) else None
        if dtype is not None and is_integer_dtype(dtype):
            integer_inputs[i] = str(getattr(dtype, "name", dtype))
            kinds.update({(i, f): MODEL_INPUT for f in range(part.n_features)})
            continue
        kinds.update({(i, f): INTEGER_DATA for f, coded in enumerate(part.integer_data or ()) if coded})
    runs = tuple(
        tuple((i, f) for f in run)
        for i, part in enumerate(inputs.parts)
        if i not in integer_inputs
        for run in _one_hot_runs(part.values, part.mask)
    )
    return CategoricalFeatures(kinds, runs, integer_inputs)


def _one_hot_runs(values: np.ndarray, mask: np.ndarray | None) -> list[tuple[int, ...]]:
    """The smallest runs of consecutive non-constant 0/1 features that sum to 1 on every real step."""
    binary = _binary_features(values, mask)
    runs, start = [], 0
    while start < values.shape[2]:
        end = start
        while binary[start] and end + 1 < values.shape[2] and binary[end + 1]:
            end += 1
            total = _run_totals(values, mask, start, end)
            if total.max(initial=0) > 1:
                break
            if total.min(initial=1) == 1:
                runs.append(tuple(range(start, end + 1)))
                break
        start = runs[-1][-1] + 1 if runs and runs[-1][0] == start else start + 1
    return runs


def _real_cells(values: np.ndarray, mask: np.ndarray | None, start: int) -> np.ndarray:
    """Rows ``start:start + _ROWS`` as (cells, features), the real (not padded) cells only."""
    block = values[start:start + _ROWS]
    if mask is None:
        return block.reshape(-1, block.shape[2])
    return block[mask[start:start + _ROWS]]


def _binary_features(values: np.ndarray, mask: np.ndarray | None) -> np.ndarray:
    """Per feature: only 0 and 1 on the real cells, and both (streamed over rows: no copy of the data)."""
    only, ones, zeros = np.ones(values.shape[2], bool), np.zeros(values.shape[2], bool), np.zeros(values.shape[2], bool)
    for start in range(0, values.shape[0], _ROWS):
        cells = _real_cells(values, mask, start)
        is_one, is_zero = cells == 1, cells == 0
        only &= np.all(is_one | is_zero, axis=0)
        ones |= np.any(is_one, axis=0)
        zeros |= np.any(is_zero, axis=0)
        if not only.any():
            break
    return only & ones & zeros


def _run_totals(values: np.ndarray, mask: np.ndarray | None, start: int, end: int) -> np.ndarray:
    """The sum of features ``start..end`` on every real cell."""
    return np.concatenate([_real_cells(values, mask, row)[:, start:end + 1].sum(axis=1)
                           for row in range(0, values.shape[0], _ROWS)])
