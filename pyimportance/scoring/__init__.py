"""What is scored: the losses and their table (:mod:`.losses`), the run's :class:`~.scoring.Scoring`
of output heads and output units (:mod:`.scoring`), how it is built from the model's outputs,
the targets and ``output=`` (:mod:`.heads`), how ``log_loss`` and ``accuracy`` read a head's
label form (per row, per step, multi-label: :mod:`.label_forms`), Keras' own losses and loss
objects (:mod:`.keras_losses`), and the checks of the targets against the losses and the
predictions (:mod:`.target_checks`). Losses get the predictions in the model's output shape.

Every built-in measure is computed per row, so the data-level intervals (:mod:`pyimportance.stats`)
cost no extra model calls.
"""
