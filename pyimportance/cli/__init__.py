"""The command line: ``pyimportance demo`` and a subcommand per estimator (``run``, ``shapley``).

The estimators' subcommands and their options follow :data:`pyimportance.registry.ESTIMATORS`:
:mod:`.command` (the entry point, the commands, exit statuses), :mod:`.options` (the parser: an
option per setting an estimator offers the command line), :mod:`.usage` (option combinations that
cannot work), :mod:`.runfiles` (the files of a subcommand, read into what the estimator's function
takes), :mod:`.files` (one file in, safely; results out, atomically), :mod:`.modelfile` (which
Keras saved a model file; tf-keras files loaded with tf-keras) and :mod:`.csvfile` (CSV and its
header rule).
"""

from .command import main

__all__ = ["main"]
