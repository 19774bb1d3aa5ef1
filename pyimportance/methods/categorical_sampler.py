"""Categorical units under ``method="conditional"``: a classifier's class probabilities, a sampled class.

A residual permuted onto an integer code or a one-hot column gives a value no row has (code 2.7,
one-hot 0.4/0.6). A categorical unit is therefore sampled, not split: for each of its categorical
variables a classifier predicts the class probabilities ``p_k(x)`` from every column outside the
unit, and each job draws a class per row from its row's probabilities (the job's own generator);
the class replaces the value: the code itself, or the one-hot columns of that class.

Which units are categorical is the detector's business (:func:`pyimportance.data.categorical.
categorical_features`: integer-typed data, a model's integer input, one-hot runs) plus the
features the caller declares (``categorical=``). The variables of a unit:

- each cell (time step) of an integer-coded feature is one variable, its classes the codes seen;
- each time step of a one-hot run (the unit is the run's group) is one variable, its classes the
  run's columns.

A unit mixing categorical and continuous features, or holding part of a one-hot run, is refused.

The probabilities come out of fold (5 folds of consecutive rows, as :mod:`.learners`), or from the
classifier fitted on ``reference``; everything is fitted and predicted when the sampler is made.
The classifier: ``learner={"categorical": classifier}`` (``fit``/``predict_proba``/``classes_``),
default scikit-learn's ``LogisticRegression(max_iter=1000)`` (multinomial).

No donors: a row's new class comes from its own probabilities, so the data interval counts the
row's recipient term only, as for the noise methods.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .. import terms
from ..data.categorical import CategoricalFeatures
from ..data.inputs import Inputs
from ..data.units import Unit
from ..errors import MethodFailedError
from .learners import fold_bounds, fresh_copy


def default_classifier():
    """scikit-learn's multinomial logistic regression (its import says how to install it when missing)."""
    try:
        from sklearn.linear_model import LogisticRegression
    except ImportError as error:  # pragma: no cover - scikit-learn is in the test environment
        raise ImportError("categorical units of method='conditional' need a classifier: pass "
                          "learner={'categorical': ...} or install scikit-learn") from error
    return LogisticRegression(max_iter=1000)


@dataclass(frozen=True)
class CategoricalVariable:
    """One categorical variable of a unit: its columns in the flattened row and how a class is written."""

    block: int  # the unit's block
    step: int  # position among the block's time steps
    features: tuple[int, ...]  # positions among the block's features: one (a code) or a one-hot run
    classes: np.ndarray  # the codes (one column) or the run's column positions (one-hot)
    probabilities: np.ndarray  # (n_rows, n_classes), rows in the evaluated rows' order

    @property
    def one_hot(self) -> bool:
        return len(self.features) > 1


@dataclass(frozen=True)
class CategoricalDraw:
    """A categorical unit's variables for some rows; :meth:`sample` writes a drawn class into each."""

    variables: tuple[CategoricalVariable, ...]
    rows: np.ndarray

    def sample(self, blocks: Sequence[np.ndarray], rng: np.random.Generator) -> list[np.ndarray]:
        """The unit's blocks with every variable's value replaced by a class drawn from its row's probabilities."""
        new = [np.array(block, dtype=np.float64, copy=True) for block in blocks]
        for variable in self.variables:
            cumulative = np.cumsum(variable.probabilities[self.rows], axis=1)
            draws = rng.random(len(self.rows))[:, None] * cumulative[:, -1:]
            chosen = np.minimum((draws >= cumulative).sum(axis=1), len(variable.classes) - 1)
            if variable.one_hot:
                values = np.zeros((len(self.rows), len(variable.features)))
                values[np.arange(len(self.rows)), chosen] = 1.0
                new[variable.block][:, variable.step, list(variable.features)] = values
            else:
                new[variable.block][:, variable.step, variable.features[0]] = variable.classes[chosen]
        return new


def _fit_probabilities(classifier, x: np.ndarray, labels: np.ndarray, classes: np.ndarray,
                       new: np.ndarray) -> np.ndarray:
    """``predict_proba`` of the classifier fitted on ``(x, labels)`` for ``new``, columns in ``classes``' order."""
    fitted = fresh_copy(classifier)
    try:
        fitted.fit(x, labels)
        given = np.asarray(fitted.predict_proba(new), dtype=np.float64)
    except Exception as error:
        raise MethodFailedError(f"learner (categorical) failed: {type(error).__name__}: {error}") from error
    known = list(np.asarray(fitted.classes_))
    probabilities = np.zeros((new.shape[0], classes.size))
    for k, label in enumerate(classes):
        if label in known:
            probabilities[:, k] = given[:, known.index(label)]
    if not (np.isfinite(probabilities).all() and (probabilities >= 0).all()):
        raise MethodFailedError("learner (categorical) must predict finite, non-negative class probabilities")
    totals = probabilities.sum(axis=1, keepdims=True)
    return np.where(totals > 0, probabilities / np.where(totals > 0, totals, 1.0), 1.0 / classes.size)


def _probabilities(classifier, source: np.ndarray, labels: np.ndarray, rows: np.ndarray, classes: np.ndarray,
                   in_sample: bool) -> np.ndarray:
    """Out-of-fold class probabilities of the evaluated rows, or from the classifier fitted on the reference."""
    if classes.size == 1 or source.shape[1] == 0:  # one class, or nothing to condition on: the frequencies
        frequencies = np.array([(labels == label).mean() for label in classes])
        return np.tile(frequencies, (rows.shape[0], 1))
    if not in_sample:
        return _fit_probabilities(classifier, source, labels, classes, rows)
    probabilities = np.empty((rows.shape[0], classes.size))
    for start, stop in fold_bounds(rows.shape[0]):
        kept = np.r_[0:start, stop : rows.shape[0]]
        probabilities[start:stop] = _fit_probabilities(classifier, rows[kept], labels[kept], classes,
                                                       rows[start:stop])
    return probabilities


def categorical_kind(unit: Unit, categorical: CategoricalFeatures, inputs: Inputs) -> str | None:
    """"categorical" when every feature of the unit is a code or a whole one-hot run, None when none is; else a
    ValueError saying what to do."""
    features = [(block.input, f) for block in unit.blocks for f in block.features]
    kinds = [categorical.kind(feature) for feature in features]
    if all(kind is None for kind in kinds):
        return None
    runs = {categorical.one_hot_run(feature) for feature in features} - {None}
    whole_runs = all(all(member in features for member in run) for run in runs)
    if all(kind is not None for kind in kinds) and whole_runs:
        return "categorical"
    names = [inputs.parts[i].feature_names[f] for i, f in features]
    raise ValueError(
        f"{terms.setting('method', 'conditional')} cannot perturb {terms.literal(unit.feature)} "
        f"({terms.vector(names)}): a unit must be all categorical (integer codes, or whole one-hot runs) or all "
        f"continuous; perturb one-hot columns as one group, and categorical features apart from continuous ones"
    )


def categorical_variables(unit: Unit, categorical: CategoricalFeatures, inputs: Inputs, flat: np.ndarray,
                          source: np.ndarray, columns_of_blocks, classifier,
                          in_sample: bool) -> tuple[CategoricalVariable, ...]:
    """Every categorical variable of the unit, with the evaluated rows' class probabilities."""
    unit_columns = np.concatenate(columns_of_blocks)
    others = np.setdiff1d(np.arange(flat.shape[1]), unit_columns)
    variables = []
    for b, (block, columns) in enumerate(zip(unit.blocks, columns_of_blocks)):
        part = inputs.parts[block.input]
        steps, features = block.columns(part.n_timesteps)
        grid = np.asarray(columns).reshape(len(steps), len(features))
        groups, seen = [], set()
        for position, f in enumerate(features):
            run = categorical.one_hot_run((block.input, int(f)))
            if run is None:
                groups.append((position,))
            elif run not in seen:
                seen.add(run)
                groups.append(tuple(int(np.flatnonzero(features == member)[0]) for _, member in run))
        for s in range(len(steps)):
            for group in groups:
                target = source[:, grid[s, list(group)]]
                if len(group) > 1:
                    labels, classes = target.argmax(axis=1), np.arange(len(group))
                else:
                    labels = target[:, 0]
                    classes = np.unique(np.concatenate([labels, flat[:, grid[s, group[0]]]]))
                probabilities = _probabilities(classifier, source[:, others], labels, flat[:, others], classes,
                                               in_sample)
                variables.append(CategoricalVariable(b, s, group, classes, probabilities))
    return tuple(variables)


DECLARED = "declared"  # the kind of a feature the caller names in ``categorical=``


def declare_categorical(found: CategoricalFeatures, names, inputs: Inputs) -> CategoricalFeatures:
    """The detected features plus those the caller declares integer-coded (``categorical=``: feature names)."""
    if names is None:
        return found
    if isinstance(names, str) or not all(isinstance(name, str) for name in names):
        raise TypeError(f"{terms.arg('categorical')} must be a list of feature names, got {terms.literal(names)}")
    positions = {name: feature for feature, name in zip(inputs.features, inputs.feature_names)}
    unknown = [name for name in names if name not in positions]
    if unknown:
        raise ValueError(f"{terms.arg('categorical')} must name features of {terms.arg('X')} "
                         f"({terms.vector(list(inputs.feature_names))}), got {terms.literal(unknown[0])}")
    kinds = dict(found.kinds)
    for name in names:
        kinds.setdefault(positions[name], DECLARED)
    return CategoricalFeatures(kinds, found.one_hot, found.model_dtypes)
