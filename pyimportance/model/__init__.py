"""Turning any model into a fast batched call: Keras introspection (:mod:`.keras`), the compiled
predict function (:mod:`.predict`), the model's output as predictions (:mod:`.outputs`), the
row-wise check (:mod:`.row_wise`) and prefix reuse for recurrent models (:mod:`.prefix`).

Nothing here knows about units, perturbations or losses: a model is rows in, prediction rows out.
"""
