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
them first.) With ``reference`` the learner is fitted on those rows (and on each half of them)
and predicts the evaluated rows, which it never saw.

The learner's own error. With ``ĝ`` the fitted value, ``g`` the true conditional mean and ``e``
the true conditional noise, the residual is ``r = e - d`` (``d = ĝ - g``, the learner's error),
so a perturbation ``ĝ_j + r_k`` moves a row by ``r_k - r_j``, of variance ``2 var(e) + 2 var(d)``
instead of ``2 var(e)``: the importance comes out too large by about ``2 var(d)`` times the
model's squared sensitivity (+16% with ``HistGradientBoostingRegressor()`` in
``bench/coverage.py``'s conditional case). So each column also gets two learners fitted on the
two halves of the same training rows (consecutive halves: overlapping windows share values only
across the one cut between them; with ``reference``, the halves of the reference rows), and the
fitted values' error variance ``v`` is taken as the larger of two bounds, each a lower bound
when a learner's error falls no faster than ``1 / n`` (the rate of a parametric fit):

- the learning curve, ``var(x - ĝ_half) - var(x - ĝ)`` (the halves' mean): error that halves
  when the rows double, bias included (gradient boosting's error in the tails, which two halves
  share);
- the disagreement, ``mean((ĝ_A - ĝ_B)²) / 4`` (``var(d_half) / 2``): the fit's variance, also
  when it does not fall with ``n`` (a few neighbours' mean).

The permuted residual is shrunk, ``ĝ_j + λ r_k`` with ``λ² = max(var(r) - 2 v, 0) / var(r)``
(per column), so a row moves by ``2 var(e)`` on average and the perturbed values spread around
the true conditional mean by ``var(e)``: the conditional noise's first two moments, not its
shape. What no bound sees is error that does not shrink with more rows and that both halves
share (a learner that cannot represent the dependence, like ridge on a curve, or neighbours
among many distractor columns): it stays in the importance, which is then too large, never too
small when the error falls no faster than ``1 / n`` (up to the noise of ``v``'s estimate: the
larger of two estimates leans a few percent towards shrinking too much when both are near). A
learner must fit half the training rows (``KNeighborsRegressor(n_neighbors=k)`` needs ``k``
rows in a half). The fitted values themselves are the learner's on all the training rows, as
before. With fewer than :data:`MIN_HALF_ROWS` rows in a half, one learner is fitted and
``λ = 1`` (the error then shows as a larger importance).

Everything is fitted and predicted here, when the sampler is made, in the calling thread and
before the run: the jobs only read the stored fitted values and (shrunk) residuals. So an R
learner is never called from the pipeline's thread or an executor's workers, and what travels to
workers is arrays, not the learner. The cost: ``3 N_FOLDS`` fits per column of every unit (one on
all the training rows and one on each half; three with ``reference``): 2.8-3 times the fitting time
of one learner a fold for gradient boosting, whose fit on half the rows costs nearly a whole one
(its cost is mostly per iteration), 2.4 times for neighbours; and two float64 arrays of the
evaluated rows' size (``bench/RESULTS_conditional.md``).
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
#: Fewest rows in each half of a training set for two learners (fewer: one learner, no shrinkage).
MIN_HALF_ROWS = 50


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


def _held_out(bounds: list[tuple[int, int]], n_rows: int):
    """Each fold's ``(start, stop)`` with the rows of the other folds (its training rows), in order."""
    for start, stop in bounds:
        yield start, stop, np.r_[0:start, stop:n_rows]


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
    for start, stop, kept in _held_out(bounds, x.shape[0]):
        fitted[start:stop] = _predict(_fit(learner, x[kept], y[kept]), x[start:stop])
    return fitted


def halves(n_rows: int) -> tuple[slice, slice] | None:
    """The first and second half of ``n_rows`` training rows (consecutive), or None when a half would have fewer
    than :data:`MIN_HALF_ROWS` rows.

    Examples
    --------
    >>> halves(200)
    (slice(0, 100, None), slice(100, 200, None))
    >>> halves(99) is None
    True
    """
    middle = n_rows // 2
    if middle < MIN_HALF_ROWS:
        return None
    return slice(0, middle), slice(middle, n_rows)


def _paired(learner, x_train: np.ndarray, y_train: np.ndarray, x_new: np.ndarray,
            split: tuple[slice, slice]) -> tuple[np.ndarray, np.ndarray]:
    """Predictions for ``x_new`` by the learner fitted on each half of the training rows."""
    return tuple(_predict(_fit(learner, x_train[half], y_train[half]), x_new) for half in split)


def paired_out_of_fold(learner, x: np.ndarray, y: np.ndarray,
                       n_folds: int = N_FOLDS) -> tuple[np.ndarray, np.ndarray] | None:
    """Each row's predictions by two learners, fitted on the two halves of the folds that leave the row's fold
    out (:func:`halves` of those rows, in order); None when the rows are too few for two halves.

    Examples
    --------
    >>> from sklearn.linear_model import LinearRegression
    >>> x = np.arange(500.0).reshape(-1, 1)
    >>> first, second = paired_out_of_fold(LinearRegression(), x, 2 * x[:, 0] + 1)
    >>> bool(np.allclose(first, 2 * x[:, 0] + 1) and np.allclose(second, first))
    True
    """
    bounds = fold_bounds(x.shape[0], n_folds)
    largest = max(stop - start for start, stop in bounds)
    if len(bounds) == 1 or halves(x.shape[0] - largest) is None:
        return None
    first, second = np.empty(x.shape[0]), np.empty(x.shape[0])
    for start, stop, kept in _held_out(bounds, x.shape[0]):
        first[start:stop], second[start:stop] = _paired(learner, x[kept], y[kept], x[start:stop],
                                                        halves(len(kept)))
    return first, second


def error_variance(target: np.ndarray, fitted: np.ndarray, first: np.ndarray, second: np.ndarray) -> float:
    """The full learner's error variance on these rows, from two learners fitted on halves of its rows: the larger
    of the learning-curve bound ``var(x - ĝ_half) - var(x - ĝ)`` (the two halves' mean) and the variance bound
    ``mean((ĝ_A - ĝ_B)²) / 4`` (module docstring); never below 0.

    Examples
    --------
    >>> target, error = np.array([0.0, 1.0, 0.0, 1.0]), np.array([0.5, -0.5, 0.5, -0.5])
    >>> float(error_variance(target, target, target + error, target + error))  # the halves agree: 0.25 - 0
    0.25
    >>> float(error_variance(target, target + 0.8 * error, target + error, target - error))  # 1 / 4 > 0.25 - 0.16
    0.25
    >>> round(error_variance(target, target + 0.8 * error, target + error, target + error), 6)  # 0.25 - 0.16
    0.09
    """
    spread = float(np.var(target - fitted))
    halves_spread = (float(np.var(target - first)) + float(np.var(target - second))) / 2
    disagreement = float(np.mean((first - second) ** 2)) / 4
    return max(halves_spread - spread, disagreement, 0.0)


def shrinkage(residual: np.ndarray, error: float | None) -> float:
    """λ, the factor on a column's permuted residual: the square root of ``max(var(r) - 2 v, 0) / var(r)``, with
    ``v`` the fitted values' error variance (:func:`error_variance`; module docstring).

    1 without an error variance (one learner: too few rows) or when the residuals do not vary.

    Examples
    --------
    >>> residual = np.array([-1.0, 1.0, -1.0, 1.0])  # var(r) = 1
    >>> float(shrinkage(residual, 0.25))  # λ² = (1 - 0.5) / 1
    0.7071067811865476
    >>> float(shrinkage(residual, None)), float(shrinkage(residual, 0.75))
    (1.0, 0.0)
    """
    spread = float(np.var(residual))
    if error is None or spread == 0:
        return 1.0
    return float(np.sqrt(max(spread - 2 * error, 0.0) / spread))


class LearnedConditional:
    """Per unit, the out-of-fold ``(fitted, residual)`` of every evaluated row, computed once (module docstring).

    The same ``parts(unit_index, rows)`` as the ridge sampler (:class:`~.conditional.ConditionalSampler`). The
    residual handed out is already shrunk (``λ r``, one λ per column: :attr:`shrinkage`), so the perturbation
    ``fitted + residual[donors]`` is the same as ridge's.
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
        #: Per unit, λ of each of its columns (flattened order of its blocks); None for a skipped unit.
        self.shrinkage: list[np.ndarray | None] = []
        for index, (unit, columns_of_blocks) in enumerate(zip(units, block_columns)):
            if index in skipped:
                self._parts.append(None)
                self.shrinkage.append(None)
                continue
            columns = np.concatenate(columns_of_blocks)
            others = np.setdiff1d(np.arange(rows.shape[1]), columns)
            fitted = np.empty((rows.shape[0], columns.size))
            factors = np.ones(columns.size)
            for k, column in enumerate(columns):
                fitted[:, k], error = self._fitted(learner, source, rows, others, column, reference is None)
                factors[k] = shrinkage(rows[:, column] - fitted[:, k], error)
            residual = (rows[:, columns] - fitted) * factors
            self._parts.append(self._by_block(unit, columns_of_blocks, fitted, residual))
            self.shrinkage.append(factors)

    @staticmethod
    def _fitted(learner, source: np.ndarray, rows: np.ndarray, others: np.ndarray, column: int,
                in_sample: bool) -> tuple[np.ndarray, float | None]:
        """One column's fitted values on the evaluated rows (out of fold, or from the reference rows), and their
        error variance (:func:`error_variance`; None: too few rows for halves)."""
        target = source[:, column]
        if others.size == 0 or np.ptp(target) == 0:  # nothing to condition on, or nothing to explain
            return np.full(rows.shape[0], target.mean()), None
        features = rows[:, others]  # the evaluated rows' predictors, copied once for all the fits
        if in_sample:
            fitted = out_of_fold(learner, features, target)
            pair = paired_out_of_fold(learner, features, target)
        else:
            training = source[:, others]
            fitted = _predict(_fit(learner, training, target), features)
            split = halves(source.shape[0])
            pair = None if split is None else _paired(learner, training, target, features, split)
        if pair is None:
            return fitted, None
        return fitted, error_variance(rows[:, column], fitted, *pair)

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
