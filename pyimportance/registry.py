"""The estimators, one entry each: its name, public function, settings table and result class.

Everything that offers the estimators reads this table rather than naming them: the R layer (the R
package over reticulate and the rpy2 layer) calls an estimator by its name here, the command line
has one subcommand per entry, with the options its settings table offers the command line, and a
result names the estimator that made it (``result.settings["estimator"]``). A new estimator is one
entry (see ``docs/inside.md``, "Adding an estimator").

Each choice an estimator's settings take (methods, imputers, units, interval kinds) has one owner
in the package; :attr:`EstimatorEntry.choices` points at it, so help texts and errors read the owner.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from . import settings
from .api import ImportanceResult, perturbation_importance
from .data.units import BY_CHOICES
from .methods.perturbations import METHODS
from .sensitivity import METHODS as SENSITIVITY_METHODS
from .sensitivity import SensitivityResult, sensitivity_importance
from .settings import Setting
from .shapley import IMPUTERS, ShapleyResult, shapley_importance
from .stats.intervals import CI_CHOICES


@dataclass(frozen=True)
class EstimatorEntry:
    """One estimator as every interface offers it.

    Attributes
    ----------
    name : str
        Its name: ``result.settings["estimator"]``, the R layer's ``estimator`` argument.
    function : callable
        The public Python function (``model, X, y=None, **settings``); the R package's function has
        the same name.
    settings : tuple of Setting
        Its arguments in the signature's order, with which of them R and the command line offer
        (:mod:`pyimportance.settings`).
    result_class : type
        What ``function`` returns.
    command : str
        The command line's subcommand.
    title : str
        What it computes, in a few words (help texts, summaries).
    choices : mapping of setting name to the choices it takes (each from its owner)
    """

    name: str
    function: Callable
    settings: tuple[Setting, ...]
    result_class: type
    command: str
    title: str
    choices: Mapping[str, Sequence[str]]

    @property
    def r_function(self) -> str:
        """The R package's function (and the rpy2 layer's): the Python function's name."""
        return self.function.__name__

    def offered(self, interface: str) -> tuple[Setting, ...]:
        """The settings ``interface`` ("r" or "cli") offers, in the signature's order (model, X, y aside)."""
        wanted = {"r": "in_r", "cli": "in_cli"}[interface]
        return tuple(s for s in self.settings if s.name not in ("model", "X", "y") and getattr(s, wanted))

    def defaults(self) -> dict:
        """Each setting's default (required ones aside)."""
        return {s.name: s.default for s in self.settings if s.default is not settings.REQUIRED}


ESTIMATORS: tuple[EstimatorEntry, ...] = (
    EstimatorEntry("perturbation", perturbation_importance, settings.SETTINGS, ImportanceResult, "run",
              "perturbation importance", {"method": tuple(METHODS), "by": BY_CHOICES, "ci": CI_CHOICES}),
    EstimatorEntry("shapley", shapley_importance, settings.SHAPLEY_SETTINGS, ShapleyResult, "shapley",
              "Shapley importance (SAGE)", {"imputer": IMPUTERS, "by": BY_CHOICES, "ci": CI_CHOICES}),
    EstimatorEntry("sensitivity", sensitivity_importance, settings.SENSITIVITY_SETTINGS, SensitivityResult,
                   "sensitivity", "sensitivity importance (gradients)",
                   {"method": SENSITIVITY_METHODS, "by": BY_CHOICES, "ci": ("data",)}),
)

BY_NAME: dict[str, EstimatorEntry] = {entry.name: entry for entry in ESTIMATORS}


def estimator(name: str) -> EstimatorEntry:
    """The entry named ``name``; a ValueError names the estimators there are."""
    try:
        return BY_NAME[name]
    except (KeyError, TypeError):
        raise ValueError(f"estimator must be one of {', '.join(repr(n) for n in BY_NAME)}, got {name!r}") from None


def of_result(result) -> EstimatorEntry:
    """The entry of the estimator that made ``result`` (``result.settings["estimator"]``)."""
    return estimator(result.settings["estimator"])
