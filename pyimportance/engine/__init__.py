"""The run loop of every estimator, and perturbation importance's jobs on it.

Every estimator is prepared by one check of the options they share and the evaluated rows
(:mod:`.preparation`; the model checked with its data: :mod:`.model_data`) and runs on one loop
(:mod:`.runner`): the predict function, the checks, the baseline, the row blocks and the stopping
rule, the intervals, the same tasks on an executor (:mod:`.distributed`) and the progress bar
(:mod:`.progress`). What an estimator supplies is the seam of :mod:`.estimator`. Perturbation
importance's estimator (:mod:`.perturbation`) is the plan of jobs (:mod:`.plan`), rows packed into
model calls (:mod:`.packing`), calls overlapped with packing (:mod:`.pipeline`), jobs through the
model (:mod:`.evaluate`) and their scores added up (:mod:`.tally`); Shapley importance's is in
:mod:`pyimportance.shapley`.

Every task's draws are fixed by the seed before anything runs, so how the work is batched, ordered
or spread over workers never changes a number.
"""
