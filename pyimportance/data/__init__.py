"""What the rows and units are: the model's inputs, their padding, the units perturbed together,
the evaluated rows and their blocks, the random streams, and the checks of ``X``, ``y`` and the
single argument values at the public boundary.

Nothing here calls a model or perturbs a value; every other layer reads what this one checked.
"""
