"""What is scored: the losses and their table (:mod:`.losses`), the run's :class:`~.scoring.Scoring`
of output heads and output units (:mod:`.scoring`), how it is built from the model's outputs,
the targets and ``output=`` (:mod:`.heads`), and the checks of the targets against the losses
and the predictions (:mod:`.target_checks`).

Every built-in measure is computed per row, so the data-level intervals (:mod:`pyimportance.stats`)
cost no extra model calls.
"""
