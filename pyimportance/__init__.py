"""Perturbation (permutation) variable importance for Keras models, above all recurrent ones."""

from .api import perturbation_importance
from .predict import ModelOutputError
from .result import ImportanceResult
from .runner import ModelFailedError

__all__ = ["ImportanceResult", "ModelFailedError", "ModelOutputError", "perturbation_importance"]
__version__ = "0.1.0"
