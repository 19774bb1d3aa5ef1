"""Any learner as the conditional model: a unit's columns predicted from all the others, out of fold.

:mod:`.ridge` is the default conditional model: linear, and fast because one pass over the rows
serves every unit. When a unit depends on the others nonlinearly (``x2 = sin(2 x1) + e``) a
linear fit leaves the nonlinear part in the residual, and permuting that residual breaks the
dependence the model relies on: the importance comes out nearly the marginal one. Here any
learner takes ridge's place (hidimstat's ``CFI(imputation_model_continuous=...)``):

- a scikit-learn regressor (anything with ``fit(X, y)`` and ``predict(X)``; a fresh
  ``sklearn.base.clone`` of it is fitted each time), or
- a function ``fit(x, y)`` returning a function ``predict(x)`` (R's learners arrive so).

Each of a unit's columns is one regression on every column outside the unit (the flattened
sample of :class:`~.conditional.ConditionalSampler`, padded cells at their feature's mean).

Out of fold. A flexible learner fitted on the rows it then predicts follows their noise and
shrinks their residuals, so the importance would come out too small. Without ``reference`` the
evaluated rows are cut into :data:`N_FOLDS` folds of consecutive rows; each fold's fitted
values come from the learner fitted on the other folds (cross-fitting). Consecutive rows,
because overlapping windows share values with their neighbours: a random fold would let a
window's neighbours, in the training folds, give its own values away. (Rows sorted by a
feature the learner must extrapolate along are the case this choice serves badly: shuffle
them first.) With ``reference`` the learner is fitted once on those rows and predicts the
evaluated rows, which it never saw.

Everything is fitted and predicted here, when the sampler is made, in the calling thread and
before the run: the jobs only read the stored fitted values and residuals. So an R learner is
never called from the pipeline's thread or an executor's workers, and what travels to workers
is arrays, not the learner. The cost: ``N_FOLDS`` fits per column of every unit (one with
``reference``), and two float64 arrays of the evaluated rows' size
(``bench/RESULTS_conditional.md``).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence

import numpy as np

from .. import terms
from ..data.inputs import Inputs
from ..data.units import Unit
from ..errors import MethodFailedError

#: Folds of consecutive rows for the out-of-fold fitted values (fewer when there are fewer rows).
N_FOLDS = 5


LEARNER_ROLES = ("continuous", "categorical")


def check_learner(learner):
    """``learner`` as given when it is None, an estimator with ``fit``/``predict``, a callable, or a dict of them
    by role (``{"continuous": regressor, "categorical": classifier}``); else a TypeError."""
    if isinstance(learner, dict):
        unknown = [key for key in learner if key not in LEARNER_ROLES]
        if unknown:
            raise TypeError(f"{terms.arg('learner')} as a dict takes the keys {terms.vector(list(LEARNER_ROLES))}, "
                            f"got {terms.literal(unknown[0])}")
        classifier = learner.get("categorical")
        if classifier is not None and not (callable(getattr(classifier, "fit", None))
                                           and callable(getattr(classifier, "predict_proba", None))):
            raise TypeError(f"{terms.arg('learner')}[{terms.literal('categorical')}] must be a classifier with fit "
                            f"and predict_proba, got {terms.literal(classifier)}")
        check_learner(learner.get("continuous"))
        return learner
    if learner is None or is_estimator(learner) or callable(learner):
        return learner
    expected = terms.either(
        "a scikit-learn regressor (with fit and predict) or a function fit(x, y) returning a predict function",
        "a Python regressor (with fit and predict, e.g. from reticulate) or an R function fit(x, y) returning a "
        "predict function",
    )
    raise TypeError(f"{terms.arg('learner')} must be {expected}, got {terms.literal(learner)}")


def split_learner(learner) -> tuple[object, object]:
    """(the continuous units' learner, the categorical units' classifier); None where not given."""
    if isinstance(learner, dict):
        return learner.get("continuous"), learner.get("categorical")
    return learner, None


def is_estimator(learner) -> bool:
    """Whether ``learner`` is an estimator object (``fit`` and ``predict``) rather than a fit function."""
    return callable(getattr(learner, "fit", None)) and callable(getattr(learner, "predict", None))


def learner_name(learner) -> str | None:
    """How the result's settings name the learner: its class or function name (None for ridge)."""
    if learner is None:
        return None
    if isinstance(learner, dict):
        return ", ".join(f"{role}={learner_name(learner[role])}" for role in LEARNER_ROLES if role in learner)
    if is_estimator(learner):
        return type(learner).__name__
    return getattr(learner, "__name__", "custom")


def fresh_copy(estimator):
    """An unfitted copy of an estimator: ``sklearn.base.clone``, else a deep copy; the caller's is never changed."""
    try:
        from sklearn.base import clone

        return clone(estimator)
    except (ImportError, TypeError, RuntimeError):  # not a scikit-learn estimator
        return copy.deepcopy(estimator)


def _fit(learner, x: np.ndarray, y: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    """The learner fitted on ``(x, y)``, as a predict function; the caller's learner is never changed."""
    try:
        if is_estimator(learner):
            fresh = fresh_copy(learner)
            fresh.fit(x, y)
            return fresh.predict
        predict = learner(x, y)
    except Exception as error:
        raise MethodFailedError(f"learner failed to fit: {type(error).__name__}: {error}") from error
    if not callable(predict):
        raise MethodFailedError(
            f"learner must return a predict function from fit(x, y), got {type(predict).__name__}")
    return predict


def _predict(predict: Callable, x: np.ndarray) -> np.ndarray:
    """One finite prediction per row of ``x``, as float64."""
    try:
        values = np.asarray(predict(x), dtype=np.float64).reshape(-1)
    except Exception as error:
        raise MethodFailedError(f"learner failed to predict: {type(error).__name__}: {error}") from error
    if values.shape != (x.shape[0],):
        raise MethodFailedError(f"learner must predict one number per row ({x.shape[0]}), got {values.size}")
    if not np.isfinite(values).all():
        raise MethodFailedError(f"learner must predict finite numbers, got {values[~np.isfinite(values)][0]}")
    return values


def fold_bounds(n_rows: int, n_folds: int = N_FOLDS) -> list[tuple[int, int]]:
    """``[start, stop)`` of each fold of consecutive rows (at most ``n_rows`` folds, at least 2 rows left out)."""
    n_folds = max(1, min(n_folds, n_rows // 2))
    edges = np.linspace(0, n_rows, n_folds + 1).round().astype(int)
    return [(int(start), int(stop)) for start, stop in zip(edges[:-1], edges[1:])]


def out_of_fold(learner, x: np.ndarray, y: np.ndarray, n_folds: int = N_FOLDS) -> np.ndarray:
    """Each row's prediction by the learner fitted on the folds that leave the row's fold out.

    Examples
    --------
    >>> from sklearn.linear_model import LinearRegression
    >>> x = np.arange(10.0).reshape(-1, 1)
    >>> out_of_fold(LinearRegression(), x, 2 * x[:, 0] + 1).round(6).tolist()[:3]
    [1.0, 3.0, 5.0]
    """
    fitted = np.empty(x.shape[0])
    bounds = fold_bounds(x.shape[0], n_folds)
    if len(bounds) == 1:  # too few rows to leave any out: the mean of the others (leave-one-out)
        return (y.sum() - y) / max(len(y) - 1, 1)
    for start, stop in bounds:
        kept = np.r_[0:start, stop : x.shape[0]]
        fitted[start:stop] = _predict(_fit(learner, x[kept], y[kept]), x[start:stop])
    return fitted


class LearnedConditional:
    """Per unit, the out-of-fold ``(fitted, residual)`` of every evaluated row, computed once (module docstring).

    The same ``parts(unit_index, rows)`` as the ridge sampler (:class:`~.conditional.ConditionalSampler`).
    """

    def __init__(self, inputs: Inputs, units: Sequence[Unit], block_columns: Sequence[Sequence[np.ndarray]],
                 means: Sequence[np.ndarray], learner, reference: Inputs | None = None,
                 reference_means: Sequence[np.ndarray] | None = None, skipped: frozenset[int] = frozenset()):
        """``skipped``: units another sampler serves (categorical ones), left unfitted here."""
        rows = inputs.flat_rows(slice(None), means)
        source = rows if reference is None else reference.flat_rows(slice(None), reference_means)
        self._inputs = inputs
        self._units = units
        self._parts: list[list[tuple[np.ndarray, np.ndarray]] | None] = []
        for index, (unit, columns_of_blocks) in enumerate(zip(units, block_columns)):
            if index in skipped:
                self._parts.append(None)
                continue
            columns = np.concatenate(columns_of_blocks)
            others = np.setdiff1d(np.arange(rows.shape[1]), columns)
            fitted = np.empty((rows.shape[0], columns.size))
            for k, column in enumerate(columns):
                fitted[:, k] = self._fitted(learner, source, rows, others, column, reference is None)
            residual = rows[:, columns] - fitted
            self._parts.append(self._by_block(unit, columns_of_blocks, fitted, residual))

    @staticmethod
    def _fitted(learner, source: np.ndarray, rows: np.ndarray, others: np.ndarray, column: int,
                in_sample: bool) -> np.ndarray:
        """One column's fitted values on the evaluated rows: out of fold, or from the reference rows."""
        target = source[:, column]
        if others.size == 0 or np.ptp(target) == 0:  # nothing to condition on, or nothing to explain
            return np.full(rows.shape[0], target.mean())
        if in_sample:
            return out_of_fold(learner, rows[:, others], target)
        return _predict(_fit(learner, source[:, others], target), rows[:, others])

    def _by_block(self, unit: Unit, columns_of_blocks, fitted: np.ndarray, residual: np.ndarray):
        """(fitted, residual) of the unit's columns cut into its blocks, each (n, steps, features)."""
        result, start = [], 0
        for block, columns in zip(unit.blocks, columns_of_blocks):
            part = self._inputs.parts[block.input]
            steps, features = block.columns(part.n_timesteps)
            shape = (fitted.shape[0], len(steps), len(features))
            stop = start + len(columns)
            result.append((fitted[:, start:stop].reshape(shape), residual[:, start:stop].reshape(shape)))
            start = stop
        return result

    def parts(self, unit_index: int, rows: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
        """(fitted, residual) of each block of the unit for these rows, each (k, steps, features)."""
        return [(fitted[rows], residual[rows]) for fitted, residual in self._parts[unit_index] or ()]
