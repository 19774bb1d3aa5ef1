"""Running a run: the plan of jobs (:mod:`.plan`), rows packed into model calls (:mod:`.packing`),
calls overlapped with packing (:mod:`.pipeline`), jobs through the model (:mod:`.evaluate`),
their scores added up (:mod:`.tally`), the baseline, the row blocks and the stopping rule
(:mod:`.runner`), the same jobs on an executor (:mod:`.distributed`), and the progress bar
(:mod:`.progress`); before all that, the model checked with its data (:mod:`.model_data`).

A plan fixes every perturbation from the seed before anything runs, so how the work is batched,
ordered or spread over workers never changes a number.
"""
