"""Sensitivity importance: how strongly the model's output moves with each unit, read from its gradients.

Integrated gradients (default) attribute each row's ``f(x) - f(x0)`` to its cells along the straight
path from a baseline row (:mod:`.paths`: Gauss-Legendre points); the derivative-based measure
(DGSM) sums ``(df/dx)^2 var(x)`` over a unit's cells. The gradients come from the model's backend,
chosen once per model (:mod:`.gradients`); what is differentiated is the prediction or each row's
loss (:mod:`.targets`); a task's rows become per-row unit values and maps (:mod:`.attributions`); the
rows' values give the importances and their intervals with the engine's row accumulator, intervals and
executors (:mod:`.sensitivity_estimator`). :mod:`.sensitivity_recipe` is the public function,
:mod:`.sensitivity_result` its result with the per-row maps.
"""

from .attributions import METHODS
from .paths import BASELINES
from .sensitivity_recipe import SensitivitySettings, sensitivity_importance
from .sensitivity_result import SensitivityResult

__all__ = ["BASELINES", "METHODS", "SensitivityResult", "SensitivitySettings", "sensitivity_importance"]
