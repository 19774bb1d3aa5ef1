"""Engine errors in R's terms: R condition classes and R messages (no Python type names of
ours, no module paths). The messages themselves come from the engine in R's vocabulary
(:mod:`pyimportance.terms`).
"""

from __future__ import annotations

from collections.abc import Sequence

from ..errors import LossFailedError, MethodFailedError, ModelFailedError, ModelOutputError, NotRowWiseError


class RArgumentError(ValueError):
    """An argument given from R is not what it must be (checked here, in R's terms)."""


class RFunctionError(Exception):
    """An R function given as ``role`` (model, method or loss) failed.

    ``signalled`` is True when R signalled the error (the message is R's own), False when
    the function returned something unusable (the message says what).
    """

    def __init__(self, role: str, message: str, *, signalled: bool = False):
        super().__init__(message)
        self.role = role
        self.signalled = signalled


class RError(Exception):
    """An engine error in R's terms: R's message and R's condition classes.

    ``classes`` are the R condition classes, most specific first, ending with
    ``"pyimportance_error"``; ``python_type`` the engine's exception type (without module).
    """

    def __init__(self, message: str, classes: Sequence[str], python_type: str | None = None):
        super().__init__(message)
        self.message = message
        self.classes = tuple(classes)
        self.python_type = python_type


# Engine error kind -> R condition class; the first match for the error and for its cause counts.
CONDITION_CLASSES: tuple[tuple[type | tuple[type, ...], str], ...] = (
    (ModelFailedError, "pyimportance_model_error"),
    (ModelOutputError, "pyimportance_model_output_error"),
    (NotRowWiseError, "pyimportance_not_row_wise_error"),
    (MethodFailedError, "pyimportance_method_error"),
    (LossFailedError, "pyimportance_loss_error"),
    ((RArgumentError, TypeError, ValueError), "pyimportance_argument_error"),
)


def condition_classes(error: BaseException) -> tuple[str, ...]:
    """The R condition classes of an engine error (and of the error that caused it)."""
    classes: list[str] = []
    for part in (error, error.__cause__):
        if isinstance(part, RFunctionError):
            classes.append(f"pyimportance_{part.role}_error")
            continue
        for kinds, r_class in CONDITION_CLASSES:
            if part is not None and isinstance(part, kinds):
                classes.append(r_class)
                break
    return tuple(dict.fromkeys(classes + ["pyimportance_error"]))


def r_message(error: BaseException) -> str:
    """The message an R user reads: no Python type names of ours, no module paths."""
    if isinstance(error, RFunctionError):
        return f"{error.role} failed: {error}" if error.signalled else str(error)
    message = str(error)
    cause = error.__cause__
    if isinstance(cause, (RFunctionError, ModelOutputError)):  # our own kinds: no Python type name
        message = message.replace(f"{type(cause).__name__}: ", "", 1)
    if isinstance(error, (TypeError, ValueError, ModelFailedError, MethodFailedError, LossFailedError)):
        return message
    return f"{type(error).__name__}: {message}" if message else type(error).__name__


def as_r_error(error: Exception) -> RError:
    """``error`` (from the engine or from here) as an :class:`RError`."""
    if isinstance(error, RError):
        return error
    return RError(r_message(error), condition_classes(error), type(error).__name__)
