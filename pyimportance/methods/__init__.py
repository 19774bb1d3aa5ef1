"""What happens to a unit's values: the perturbations and their table (:mod:`.perturbations`), what
they get and return (:mod:`.context`), the feature statistics noise is scaled by
(:mod:`.feature_stats`), padded steps through any perturbation (:mod:`.padding`), and the
conditional method: its sampler and perturbation (:mod:`.conditional`), its ridge algebra
(:mod:`.ridge`), any learner in ridge's place, out of fold (:mod:`.learners`), and the classifier
sampler of categorical units (:mod:`.categorical_sampler`).

Each perturbation is a pure function of the unit's values, a random generator and a context;
it never sees the model, the loss or the other units.
"""
