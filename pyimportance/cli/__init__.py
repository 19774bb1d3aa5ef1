"""The command line: ``pyimportance demo`` and ``pyimportance run``.

:mod:`.command` (the entry point, the two commands, exit statuses), :mod:`.options` (the parser),
:mod:`.usage` (option combinations that cannot work), :mod:`.runfiles` (the files of ``run``,
read into what :func:`pyimportance.perturbation_importance` takes), :mod:`.files` (one file in,
safely; results out, atomically), :mod:`.modelfile` (which Keras saved a model file; tf-keras
files loaded with tf-keras) and :mod:`.csvfile` (CSV and its header rule).
"""

from .command import main

__all__ = ["main"]
