"""Perturbation (permutation) variable importance for Keras models, above all recurrent ones."""

from .api import perturbation_importance
from .evaluate import ModelFailedError
from .perturbations import MethodFailedError
from .predict import ModelOutputError, NotRowWiseError
from .result import ImportanceResult
from .scoring import LossFailedError

__all__ = [
    "ImportanceResult",
    "LossFailedError",
    "MethodFailedError",
    "ModelFailedError",
    "ModelOutputError",
    "NotRowWiseError",
    "perturbation_importance",
]
__version__ = "0.2.0"

if "rpytools" in __import__("sys").modules:  # embedded in R by reticulate
    from .interop import prefer_own_libpython

    prefer_own_libpython()  # worker processes started from R must load this Python's libpython
