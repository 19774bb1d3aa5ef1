"""How sure we are: what a run keeps of each row (:mod:`.accumulator`), the intervals and p-values,
about the population or over repeats, and which of them a run reports (:mod:`.intervals`), the
closed-form circular block bootstrap and its block length (:mod:`.block_bootstrap`),
Benjamini-Hochberg adjusted p-values (:mod:`.p_values`), selection at an FDR or FWER
(:mod:`.selection`), and each row's share of the importance (:mod:`.row_values`).

Nothing here calls a model: everything works on the per-row sums and per-repeat importances a
run has already computed.
"""
