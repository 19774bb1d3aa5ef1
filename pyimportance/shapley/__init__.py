"""Shapley global importance (SAGE): the model's explained loss split fairly among the units.

v(S) = loss(prediction knowing no unit) - loss(prediction knowing only the units in S), the absent
units integrated out by averaging the prediction over draws from other rows (:mod:`.imputation`,
with the bias of a finite number of draws removed) or, ``imputer="conditional"``, drawn given the
known units from a Gaussian model of the inputs (:mod:`.conditional`); each row follows seeded random unit orders,
antithetic in pairs (:mod:`.draws`); the coalitions of an order are stacked into the model's
compiled calls (:mod:`.coalitions`); the loss drop when a unit joins is its contribution, row by
row (:mod:`.contributions`); the rows' contributions give the values and their intervals about the
population, with the engine's row accumulator, intervals and stopping rule (:mod:`.estimator`,
here or on an executor: :mod:`.distributed`). :mod:`.recipe` is the public function,
:mod:`.result` its result.
"""

from .recipe import shapley_importance
from .result import ShapleyResult

__all__ = ["ShapleyResult", "shapley_importance"]
