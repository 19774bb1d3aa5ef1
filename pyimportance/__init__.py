"""Perturbation (permutation) variable importance for Keras models, above all recurrent ones.

The public names are here: :func:`perturbation_importance`, its :class:`ImportanceResult`,
:func:`shapley_importance` (Shapley global importance, SAGE) with its :class:`ShapleyResult`,
:func:`sensitivity_importance` (gradient attributions) with its :class:`SensitivityResult`, and
the exceptions (:mod:`.errors`). The package reads in layers, the data flowing one way:

- :mod:`.api`: perturbation importance's recipe (prepare, plan, run, wrap); :mod:`.registry`:
  the estimators, which the command line and R offer; :mod:`.settings`: the tables of their
  settings, the rules between them and the record a result keeps;
  :mod:`.terms`: how messages name things, in Python's, R's or the command line's terms;
  :mod:`.result` and :mod:`.plotting`: the result, its table and its figures;
- :mod:`.data`: what the rows and units are (inputs, padding, units, rows, seeds, checks);
- :mod:`.model`: turning any model into a fast batched call;
- :mod:`.methods`: what happens to a unit's values (perturbations, the conditional sampler);
- :mod:`.scoring`: what is scored (losses, heads, output units, target checks);
- :mod:`.stats`: how sure we are (per-row sums, intervals, p-values);
- :mod:`.engine`: the run loop of every estimator (preparation, runner, executors) and
  perturbation importance's jobs (plan, packing, pipeline, tally);
- :mod:`.shapley`: Shapley global importance, an estimator on the same run loop;
- :mod:`.sensitivity`: sensitivity importance from the model's gradients, another estimator on it;
- :mod:`.cli`: the ``pyimportance`` command; :mod:`.rlayer`: every R convention, for the R
  package and the rpy2 layer (:mod:`.rbridge`) alike; :mod:`.datasets` and :mod:`.demo`: the
  demo data and the demo.
"""

from .api import perturbation_importance
from .errors import LossFailedError, MethodFailedError, ModelFailedError, ModelOutputError, NotRowWiseError
from .result import ImportanceResult
from .sensitivity import SensitivityResult, sensitivity_importance
from .shapley import ShapleyResult, shapley_importance

__all__ = [
    "ImportanceResult",
    "LossFailedError",
    "MethodFailedError",
    "ModelFailedError",
    "ModelOutputError",
    "NotRowWiseError",
    "SensitivityResult",
    "ShapleyResult",
    "perturbation_importance",
    "sensitivity_importance",
    "shapley_importance",
]
__version__ = "0.2.0"

if "rpytools" in __import__("sys").modules:  # embedded in R by reticulate
    from .rlayer.embedding import prefer_own_libpython

    prefer_own_libpython()  # worker processes started from R must load this Python's libpython
