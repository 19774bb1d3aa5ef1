"""The settings of a run: one table that the Python signature, the command line and R agree on.

Each argument of :func:`pyimportance.perturbation_importance` is one line of :data:`SETTINGS`:
its name, its default, and whether R (the R package and the rpy2 layer) and the command line
offer it; how each of them spells it is :mod:`pyimportance.terms`' business (``random_state``
is ``seed`` in R, ``--seed`` on the command line). Tests check the Python signature, the
command line's parser and the R package's formals against this table.

What a single value must be is checked where it is used (:mod:`pyimportance.data.arguments`
and the layers). A combination of settings that cannot work is one line of :data:`RULES`: the
engine applies them (:func:`check_rules`), and so does the command line, before it reads a
file (:func:`rule_problem`, a usage error), so one rule gives one answer everywhere, in each
caller's terms.

:class:`RunSettings` is what a result keeps of the settings (``ImportanceResult.settings``), a typed
record each estimator extends with its own fields.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any

from . import terms


@dataclass(frozen=True)
class Setting:
    """One argument of the run.

    Attributes
    ----------
    name : str
        The Python keyword (``X`` and ``y`` are positional, after ``model``).
    default : object
        The default of the Python signature (and of R's, unless ``r_default``).
    in_r, in_cli : bool
        Whether R and the command line offer it.
    r_default : str, optional
        R's default as R code, where it is not the Python default written in R.
    """

    name: str
    default: Any = None
    in_r: bool = True
    in_cli: bool = True
    r_default: str | None = None


REQUIRED = object()  # the default of an argument that has none

SETTINGS: tuple[Setting, ...] = (
    Setting("model", REQUIRED),
    Setting("X", REQUIRED),
    Setting("y", None),
    Setting("method", "gaussian"),
    Setting("scale", 0.1),
    Setting("relative_scale", True),  # the command line's --absolute-scale sets it to False
    Setting("loss", None),
    Setting("n_repeats", 5),
    Setting("by", "feature"),
    Setting("groups", None),
    Setting("feature_names", None),
    Setting("max_samples", None),
    Setting("sample_weight", None),  # one weight per row; the command line names a column of the CSV
    Setting("batch_size", None),
    Setting("random_state", None),
    Setting("progress", None, r_default="interactive()"),  # None: when stderr is a terminal
    Setting("ci", "data"),
    Setting("block_size", None),
    Setting("tolerance", None),
    Setting("output", None),
    Setting("per_output", False),
    Setting("mask_value", "auto"),  # the command line: --mask-value V, or --no-mask for None
    Setting("reference", None),
    Setting("learner", None, in_cli=False),  # a Python object or an R function: no command-line spelling
    Setting("categorical", None, in_cli=False),  # feature names declared integer-coded
    Setting("jit_compile", "auto", in_r=False, in_cli=False),
    Setting("executor", None, in_cli=False),
    Setting("task_size", None, in_r=False, in_cli=False),
)

DEFAULTS: dict[str, Any] = {setting.name: setting.default for setting in SETTINGS if setting.default is not REQUIRED}

#: The settings every estimator shares, with one meaning: checked once, for every estimator, by
#: :func:`pyimportance.engine.preparation.prepare`. An estimator's own settings (``n_repeats`` among them:
#: its default and meaning differ) are its own to check.
SHARED: tuple[str, ...] = ("model", "X", "y", "loss", "by", "groups", "feature_names", "max_samples",
                           "sample_weight", "batch_size", "random_state", "progress", "ci", "block_size", "tolerance",
                           "output", "per_output", "mask_value", "jit_compile", "executor", "task_size")

#: The settings :func:`pyimportance.shapley_importance` shares (same meaning, same spelling in R and on the
#: command line), in its signature's order, with its own: ``n_draws`` (draws per coalition), ``imputer``
#: and ``n_repeats`` meaning unit orders per row (default 2: one antithetic pair).
SHAPLEY_OWN: tuple[Setting, ...] = (Setting("n_repeats", 2), Setting("n_draws", 8), Setting("imputer", "marginal"))
_SHAPLEY_ORDER = ("model", "X", "y", "loss", "n_repeats", "n_draws", "imputer", "by", "groups", "feature_names",
                  "max_samples", "sample_weight", "batch_size", "random_state", "progress", "ci", "block_size",
                  "tolerance", "output", "per_output", "mask_value", "jit_compile", "executor", "task_size")
SHAPLEY_SETTINGS: tuple[Setting, ...] = tuple(
    next(s for s in (*SHAPLEY_OWN, *SETTINGS) if s.name == name) for name in _SHAPLEY_ORDER
)


#: The settings :func:`pyimportance.sensitivity_importance` takes, in its signature's order: the shared ones
#: and its own, ``method`` (its gradient methods), ``n_steps`` (path points of integrated gradients),
#: ``baselines`` (the path's start) and ``attribution_rows`` (the rows whose per-row maps the result keeps).
SENSITIVITY_OWN: tuple[Setting, ...] = (Setting("method", "integrated_gradients"), Setting("n_steps", 50),
                                        Setting("baselines", "mean"),
                                        Setting("attribution_rows", None))
_SENSITIVITY_ORDER = ("model", "X", "y", "loss", "method", "n_steps", "baselines", "attribution_rows", "by", "groups",
                      "feature_names", "max_samples", "sample_weight", "batch_size", "random_state", "progress", "ci",
                      "block_size", "tolerance", "output", "per_output", "mask_value", "jit_compile", "executor",
                      "task_size")
SENSITIVITY_SETTINGS: tuple[Setting, ...] = tuple(
    next(s for s in (*SENSITIVITY_OWN, *SETTINGS) if s.name == name) for name in _SENSITIVITY_ORDER
)

# ----------------------------------------------------------------------------- rules


@dataclass(frozen=True)
class Rule:
    """Settings that cannot go together: ``broken(values)`` says whether they do, ``message(values)`` why."""

    names: tuple[str, ...]
    broken: Callable[[Mapping[str, Any]], bool]
    message: Callable[[Mapping[str, Any]], str]


def _given_loss(loss):
    """The first loss given (``loss`` may be one, a list or a dict of them), or None."""
    losses = loss.values() if isinstance(loss, Mapping) else loss if isinstance(loss, (list, tuple)) else [loss]
    return next((one for one in losses if one is not None), None)


def _loss_needs_y(values) -> str:
    loss = _given_loss(values["loss"])
    shown = terms.setting("loss", loss) if isinstance(loss, str) else f"loss={loss!r}"
    y = terms.arg("y")
    in_code = f"{shown} needs y (the true targets); pass y or leave {terms.setting('loss', None)}"  # Python and R
    on_the_command_line = f"{shown} needs {y} (the true targets); without {y} the importance is the prediction change"
    return terms.either(in_code, in_code, cli=on_the_command_line)


def _groups_need_units(values) -> str:
    return (
        f"{terms.arg('groups')} cannot be used with {terms.setting('by', 'timestep')}, which perturbs all features "
        f"of a time step together; use {terms.setting('by', 'cell')} for each group at each time step, or "
        f"{terms.setting('by', 'feature')}"
    )


RULES: tuple[Rule, ...] = (
    Rule(("loss", "y"), lambda v: v["y"] is None and _given_loss(v["loss"]) is not None, _loss_needs_y),
    Rule(("groups", "by"), lambda v: v["groups"] is not None and v["by"] == "timestep", _groups_need_units),
    Rule(("task_size", "executor"), lambda v: v["task_size"] is not None and v["executor"] is None,
         lambda v: f"task_size needs an executor, got {terms.setting('executor', None)}"),
    Rule(("block_size", "ci"), lambda v: v["block_size"] is not None and v["ci"] != "data",
         lambda v: f"{terms.arg('block_size')} applies to {terms.setting('ci', 'data')} (the block bootstrap "
                   f"over rows), got {terms.setting('ci', v['ci'])}"),
    Rule(("reference", "method"), lambda v: v["reference"] is not None and v["method"] != "conditional",
         lambda v: f"{terms.arg('reference')} is used by {terms.setting('method', 'conditional')} only, got "
                   f"{terms.setting('method', v['method'])}"),
    Rule(("learner", "method"), lambda v: v["learner"] is not None and v["method"] != "conditional",
         lambda v: f"{terms.arg('learner')} is the conditional model of {terms.setting('method', 'conditional')}, "
                   f"got {terms.setting('method', v['method'])}"),
)


def rule_problem(values: Mapping[str, Any], rules: Sequence[Rule] = RULES) -> str | None:
    """What the first broken rule says about ``values`` (settings by Python name), in the caller's terms.

    Rules whose settings are not all in ``values`` (the command line has no executor) are skipped.
    """
    for rule in rules:
        if all(name in values for name in rule.names) and rule.broken(values):
            return rule.message(values)
    return None


def check_rules(values: Mapping[str, Any]) -> None:
    """Raise ``ValueError`` with the first broken rule's message."""
    problem = rule_problem(values)
    if problem is not None:
        raise ValueError(problem)


# ----------------------------------------------------------------------------- what a result records


@dataclass(frozen=True, eq=False, repr=False)
class RunSettings(Mapping):
    """The settings a result records (``result.settings``; R's ``attr(result, "settings")``).

    A typed record that reads as a mapping (``result.settings["mask_value"]``, ``.get``, ``.items()``) and
    equals any mapping with the same items: these fields every estimator has, in this order; an
    estimator extends it with its own fields (:class:`pyimportance.api.PerturbationSettings`,
    :class:`pyimportance.shapley.ShapleySettings`), which come after. ``estimator`` names the
    estimator that ran (:mod:`pyimportance.registry`), so no reader infers it from another setting.
    ``groups`` maps group names to feature names; ``random_state`` is what the caller passed or, for
    anything but an int, the seed drawn from it (``RootSeed.describe()``).
    """

    estimator: str
    loss: str
    by: str
    groups: dict[str, list[str]] | None
    n_repeats: int
    n_samples: int
    random_state: Any
    feature_names: list[str]
    inputs: list[str]
    ci: str
    ci_note: str | None
    block_size_used: int | None
    tolerance: float | None
    per_output: bool
    mask_value: dict[str, float] | None

    def __getitem__(self, key: str) -> Any:
        if key not in self._keys():
            raise KeyError(key)
        return getattr(self, key)

    def __iter__(self):
        return iter(self._keys())

    def __len__(self) -> int:
        return len(self._keys())

    @classmethod
    def _keys(cls) -> tuple[str, ...]:
        return tuple(item.name for item in fields(cls))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({dict(self)!r})"
