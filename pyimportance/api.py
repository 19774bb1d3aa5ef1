"""The public function of perturbation importance, as a recipe: prepare, plan the jobs, run them, wrap the result.

Every step is its layer's: the options every estimator shares, the model with its data and the
evaluated rows (:func:`pyimportance.engine.preparation.prepare`), this estimator's own options
(the method, its scale, ``n_repeats``, the conditional model of :mod:`pyimportance.methods`), the
plan of the jobs (:mod:`pyimportance.engine.plan`), the run with its intervals
(:class:`pyimportance.engine.perturbation.PerturbationEstimator` on the run loop) and what the
result records (:class:`PerturbationSettings`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass

import numpy as np

from .data.arguments import check_flag, check_positive_float, check_positive_int
from .data.categorical import categorical_features
from .data.units import build_units
from .engine.perturbation import PerturbationEstimator
from .engine.plan import Plan
from .engine.preparation import prepare
from .methods.categorical_sampler import declare_categorical
from .methods.conditional import fit_sampler
from .methods.feature_stats import feature_stats
from .methods.learners import check_learner, learner_name
from .methods.perturbations import check_categorical_units, resolve_method, warn_if_constant, warn_if_no_donors
from .model.keras import keras_input_dtypes
from .result import ImportanceResult
from .settings import RunSettings


def perturbation_importance(
    model,
    X,
    y=None,
    *,
    method: str | Callable = "gaussian",
    scale: float = 0.1,
    relative_scale: bool = True,
    loss: str | Callable | None = None,
    n_repeats: int = 5,
    by: str = "feature",
    groups: Mapping[str, Sequence[str | int]] | None = None,
    feature_names: Sequence[str] | None = None,
    max_samples: int | float | None = None,
    sample_weight=None,
    batch_size: int | None = None,
    random_state: int | np.random.Generator | np.random.SeedSequence | None = None,
    progress: bool | None = None,
    ci: str = "data",
    block_size: int | None = None,
    tolerance: float | None = None,
    output=None,
    per_output: bool = False,
    mask_value: float | str | None = "auto",
    reference=None,
    learner=None,
    categorical: Sequence[str] | None = None,
    jit_compile: bool | str = "auto",
    executor: Executor | None = None,
    task_size: int | None = None,
) -> ImportanceResult:
    """Perturbation (permutation) importance of each input variable of a model.

    Each unit (a feature over all its time steps by default) is perturbed ``n_repeats``
    times; the importance is how much the loss grows (with ``y``) or how much the
    predictions move (without ``y``).

    Parameters
    ----------
    model : keras.Model, object with ``.predict`` or callable
        Keras 3 / tf-keras models take a compiled fast path; anything else is called as
        ``model.predict(X_chunk)`` or ``model(X_chunk)``. The model must be *row-wise*: a
        row's prediction depends on that row only, not on the other rows of the call (no
        statistics over the batch, no stateful layers), and the same in every call.
        Stateful Keras layers are refused and a quick check refuses models that fail this.
    X : array (n_samples, n_timesteps, n_features) or (n_samples, n_features), DataFrame, or a list/dict of them
        Evaluation data; never modified. Several arrays for a model with several inputs, in
        the model's order (list) or by input name (dict); a callable then receives the list/dict.
        Nested lists are taken as ``np.asarray(X)``; a ``tf.data.Dataset`` of ``(x, y)`` batches (or
        of ``x``) as Keras' ``evaluate`` takes it, read once into arrays held in memory (``y`` then
        comes from the dataset).
    y : array of shape (n_samples,) or (n_samples, n_outputs), or a list / dict of them, optional
        True targets (class labels as integers 0..K-1 or one-hot; (n, 1) labels are flattened).
        A list/dict gives one target per output head. Without ``y`` the importance is the mean
        absolute change of the predictions.
    method : {"gaussian", "uniform", "permute", "resample", "conditional", "zero", "mean"} or callable
        How a unit is perturbed; a callable gets ``(values, rng)`` with a fresh copy of the
        unit's values, shape (n_samples, n_unit_timesteps, n_unit_features), and returns new
        values of that shape. ``"conditional"`` keeps the part of the unit that the rest of
        the sample predicts (ridge regression) and permutes only the residual.
    scale : float, default 0.1
        Noise standard deviation for "gaussian"/"uniform": a fraction of each feature's sd
        when ``relative_scale`` is True, otherwise an absolute sd.
    relative_scale : bool, default True
    loss : str, Keras loss object, callable, or a list/dict of them (one per output head)
        Used with ``y`` (default "mse"): "mse", "rmse", "mae", "log_loss",
        "binary_crossentropy", "categorical_crossentropy", "accuracy", "binary_accuracy", ..., or a
        Keras name or alias ("mean_squared_error", "MSE", "sparse_categorical_crossentropy", ...);
        any other Keras loss name ("huber", "log_cosh", "mape", "msle", "poisson", ...), computed by
        Keras' own function, per row; a Keras loss object, with its settings, such as
        ``keras.losses.BinaryCrossentropy(from_logits=True)``, ``CategoricalCrossentropy(label_smoothing=0.1)``
        or ``SparseCategoricalCrossentropy(ignore_class=0)`` (only the labels not ignored count); a callable
        ``(y_true, y_pred) -> float`` (or one value per row), which gets ``y`` as given and ``y_pred`` in the
        model's output shape (``(n, T, C)`` for a per-step softmax; ``(n,)`` for one column and a 1D ``y``).
        Class labels or one-hot, per row or per step ``(n, T)``, and multi-label 0/1 targets: see the
        guide "Several inputs and outputs".
    n_repeats : int, default 5
        Perturbations per unit (deterministic methods "zero"/"mean" are evaluated once).
    by : {"feature", "timestep", "cell"}, default "feature"
    groups : dict of {name: list of feature names or indices}, optional
        Features perturbed together, one unit per group (each scored on its own: features in no
        group are not reported; :func:`pyimportance.shapley_importance` makes each a unit of its own).
    feature_names : sequence of str (or one per input), optional
    max_samples : int or float, optional
        Evaluate on a random subset of this many rows (or this fraction); with ``tolerance``
        the most rows to use.
    sample_weight : array-like of shape (n_samples,), optional
        A non-negative weight per row of ``X`` (a pandas Series is aligned on ``X``'s index). Every
        score is the weighted mean ``sum(w * loss) / sum(w)`` (scikit-learn's convention), in the
        importances, the baseline and the data interval, under ``max_samples`` and ``tolerance``;
        the perturbations (donor rows, noise) do not depend on the weights. A custom loss returning
        one value per row is weighted by the engine; one returning one number gets the rows'
        weights through its ``sample_weight`` parameter, and is refused without one.
    batch_size : int, optional
        Rows per model call; a performance knob. The same settings give bit-identical
        results; different batch sizes agree to float32 rounding (see the README).
    random_state : int, numpy Generator or SeedSequence, optional
    progress : bool, optional
        Show a progress bar (default: when stderr is a terminal).
    ci : {"data", "repeats"}, default "data"
        "data": an interval for the importance in the population the rows come from, counting
        the rows (consecutive rows may be dependent: a circular block bootstrap with a
        data-chosen block length) and the perturbations. "repeats": the t-interval over
        repeats, conditional on this data set.
    block_size : int, optional
        Rows per block for ``ci="data"`` (default: chosen from the data, see the README);
        refused with ``ci="repeats"``, which has no blocks.
    tolerance : float in (0, 1), optional
        Stop as soon as every interval's half-width is at most ``tolerance`` times the largest
        importance: rows are evaluated in seeded random blocks of 1,000 until then (or until
        ``max_samples``/all rows). None (default): a fixed budget, all rows.
    output : str, int, list or dict, optional
        Output heads (names or positions) to score, or ``{head: [columns]}``; default all.
    per_output : bool, default False
        Report importance per output head, and per column of a regression head (forecast
        horizons, time steps of a sequence output).
    mask_value : float, "auto", dict or None, default "auto"
        Value marking padded time steps (all features of the step equal it). "auto": the
        ``mask_value`` of a Keras ``Masking`` layer reading an input, else none. Padded steps
        are never perturbed, never supply values to real steps and are left out of the
        feature statistics.
    reference : array (or list/dict like X), optional
        Rows on which ``method="conditional"`` fits its conditional model (e.g. the training
        windows); default: the evaluation rows.
    learner : scikit-learn regressor or callable, optional
        The conditional model of ``method="conditional"``: any regressor with ``fit``/``predict``
        (e.g. ``HistGradientBoostingRegressor()``), or a function ``fit(x, y)`` returning a
        function ``predict(x)``; each of a unit's columns is predicted from every other column,
        out of fold (5 folds of consecutive rows; fitted on ``reference`` when given). Default:
        ridge, linear and fast. See :mod:`pyimportance.methods.learners`. Categorical units
        (integer codes, one-hot groups) are sampled from a classifier's class probabilities:
        ``learner={"continuous": regressor, "categorical": classifier}`` (default classifier:
        scikit-learn's ``LogisticRegression``); see :mod:`pyimportance.methods.categorical_sampler`.
    categorical : list of str, optional
        Features that are integer codes although ``X`` holds them as floats; integer-typed data,
        a model's integer input and one-hot runs are detected
        (:func:`pyimportance.data.categorical.categorical_features`).
    jit_compile : bool or "auto", default "auto"
        XLA compilation of Keras models on TensorFlow; "auto" uses it for large work.
    executor : concurrent.futures.Executor, optional
        Run the perturbed jobs as tasks on this executor (e.g. a Dask client's executor);
        same numbers as the local run. See :mod:`pyimportance.engine.distributed`.
    task_size : int, optional
        Jobs per task with ``executor``.

    Returns
    -------
    ImportanceResult

    Examples
    --------
    >>> import numpy as np
    >>> X = np.random.default_rng(0).normal(size=(200, 10, 3))
    >>> model = lambda x: 2.0 * x[:, -1, 0] + 0.1 * x[:, -1, 1]
    >>> result = perturbation_importance(model, X, n_repeats=3, random_state=0)
    >>> result.to_frame()["feature"].tolist()
    ['x1', 'x2', 'x3']
    """
    resolved = None

    def own_checks() -> dict:
        """This estimator's own options; the values the rules between settings read."""
        nonlocal resolved, scale, relative_scale, n_repeats, learner
        resolved = resolve_method(method)
        scale = check_positive_float(scale, "scale")
        relative_scale = check_flag(relative_scale, "relative_scale")
        n_repeats = check_positive_int(n_repeats, "n_repeats")
        learner = check_learner(learner)
        return dict(reference=reference, learner=learner, method=resolved.name)

    # check: the model, the data and every setting, before any model call; the evaluated rows
    prepared = prepare(
        model, X, y, own_checks=own_checks,
        check_rows=lambda inputs, blocks: warn_if_no_donors(resolved, inputs.n_samples, blocks),
        loss=loss, by=by, groups=groups, feature_names=feature_names, max_samples=max_samples, batch_size=batch_size,
        sample_weight=sample_weight,
        random_state=random_state, progress=progress, ci=ci, block_size=block_size, tolerance=tolerance, output=output,
        per_output=per_output, mask_value=mask_value, jit_compile=jit_compile, executor=executor, task_size=task_size,
    )
    # plan: the units and every job's perturbation, fixed by the seed
    inputs = prepared.inputs
    repeats = 1 if resolved.deterministic else n_repeats
    units = build_units(prepared.by, inputs, prepared.groups)
    categorical = declare_categorical(categorical_features(inputs, keras_input_dtypes(model)), categorical, inputs)
    check_categorical_units(resolved, units, categorical, inputs)
    stats = [feature_stats(part.values, part.mask) for part in inputs.parts]
    warn_if_constant(resolved, bool(relative_scale), units, stats, inputs)
    plan = Plan(
        inputs=inputs,
        units=units,
        n_repeats=repeats,
        method=resolved,
        stats=stats,
        scale=scale,
        relative_scale=bool(relative_scale),
        root=prepared.root,
        row_blocks=prepared.row_blocks,
        conditional=fit_sampler(inputs, units, stats, reference, prepared.input_names, mask_value,
                                prepared.masking_layers, learner, categorical)
        if resolved.conditional
        else None,
    )
    # run: the baseline and the jobs, block by block, with the intervals the result reports
    outcome = prepared.run(PerturbationEstimator(plan), model)
    # wrap: the result and the settings it records
    recorded = prepared.settings(
        PerturbationSettings, "perturbation", outcome, n_repeats=repeats, method=resolved.name,
        scale=scale if resolved.uses_scale else None, relative_scale=bool(relative_scale),
        deterministic=resolved.deterministic, learner=learner_name(learner),
    )
    return ImportanceResult(units=units, settings=recorded, **prepared.result_fields(outcome))


@dataclass(frozen=True, eq=False, repr=False)
class PerturbationSettings(RunSettings):
    """The settings a perturbation importance result records: the shared ones (:class:`RunSettings`) and its own.

    ``scale`` is None for a method without noise; ``learner`` names the conditional model (None: ridge).
    """

    method: str
    scale: float | None
    relative_scale: bool
    deterministic: bool
    learner: str | None
