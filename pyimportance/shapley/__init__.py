"""Shapley global importance (SAGE): the model's explained loss split fairly among the units.

v(S) = loss(prediction knowing no unit) - loss(prediction knowing only the units in S), the absent
units integrated out by averaging the prediction over draws from other rows (:mod:`.imputation`,
with the bias of a finite number of draws removed) or, ``imputer="conditional"``, drawn given the
known units from a Gaussian model of the inputs (:mod:`.gaussian_imputation`); each row follows
seeded random unit orders, antithetic in pairs (:mod:`.draws`); the coalitions of an order are stacked into the model's
compiled calls (:mod:`.coalitions`); the loss drop when a unit joins is its contribution, row by
row (:mod:`.contributions`); the rows' contributions give the values and their intervals about the
population, with the engine's row accumulator, intervals and stopping rule: a piece is a task of
the engine's run loop (:mod:`.shapley_estimator`), computed here or on an executor. :mod:`.recipe` is
the public function, :mod:`.shapley_result` its result.
"""

from .imputation import IMPUTERS
from .recipe import ShapleySettings, shapley_importance
from .shapley_result import ShapleyResult

__all__ = ["IMPUTERS", "ShapleyResult", "ShapleySettings", "shapley_importance"]
