"""Perturbation (permutation) variable importance for Keras models, above all recurrent ones."""

from .api import perturbation_importance
from .predict import ModelOutputError
from .result import ImportanceResult
from .runner import ModelFailedError

__all__ = ["ImportanceResult", "ModelFailedError", "ModelOutputError", "perturbation_importance"]
__version__ = "0.1.0"

if "rpytools" in __import__("sys").modules:  # embedded in R by reticulate
    from .interop import prefer_own_libpython

    prefer_own_libpython()  # worker processes started from R must load this Python's libpython
