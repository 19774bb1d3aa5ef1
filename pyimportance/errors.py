"""Every public exception of pyimportance, importable from ``pyimportance`` too.

Argument errors are ``TypeError``/``ValueError`` (what scikit-learn raises). The classes here say
which part of a run failed, so a caller (and the R layer, which maps each to an R condition
class) can tell the user's model, method and loss apart from a wrong argument.
"""

from __future__ import annotations

__all__ = ["LossFailedError", "MethodFailedError", "ModelFailedError", "ModelOutputError", "NotRowWiseError"]


class ModelFailedError(RuntimeError):
    """The model raised: on the unperturbed data, or while a given unit and repeat were being evaluated.

    ``where`` says which ("on the unperturbed data", "while evaluating feature 'x2' (repeat 1 of
    5)"); ``cause`` is the model's own exception (also ``__cause__``).
    """

    def __init__(self, message: str, where: str | None = None):
        super().__init__(message)
        self.where = where

    @classmethod
    def raised(cls, error: Exception, where: str) -> ModelFailedError:
        """The error for ``error``, raised by the model ``where``; ``error`` is kept as the cause."""
        failure = cls(f"model failed {where}: {type(error).__name__}: {error}", where)
        failure.__cause__ = error
        return failure

    @property
    def cause(self) -> BaseException | None:
        return self.__cause__

    def __reduce__(self):  # keep ``where`` across processes (executors pickle exceptions)
        return type(self), (str(self), self.where)


class ModelOutputError(ValueError):
    """The model returned something that is not one finite prediction row per input row."""


class NotRowWiseError(ValueError):
    """The model's prediction for a row depends on the other rows of the call, or varies between identical calls
    (dropout or noise at prediction time)."""


class MethodFailedError(RuntimeError):
    """A custom ``method`` raised or returned something that is not new values of the right shape."""


class LossFailedError(RuntimeError):
    """A custom ``loss`` raised, or returned something that is not a finite number (or one per row)."""
