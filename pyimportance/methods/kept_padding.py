"""Padded time steps through a perturbation: they stay as they were, and never give their values to real steps.

Which steps are padded is found once per run (:mod:`pyimportance.data.padding`); here every
perturbation's new values are corrected for them, so a method need not know about padding.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def keep_padding(
    new_blocks: Sequence[np.ndarray],
    original_blocks: Sequence[np.ndarray],
    real: Sequence[np.ndarray | None],
    donors: np.ndarray | None,
    rng: np.random.Generator,
) -> list[np.ndarray]:
    """Padded steps stay as they were; real steps never receive a padded step's values.

    ``real[b]`` is (n_rows, n_block_steps) True on the recipient's real steps (None: no padding).
    A real step whose donor is padded there takes the values of another sample that is real at
    that step, drawn at random (the donor-based methods); noise and ablations change real steps only.
    """
    result = []
    for new, original, is_real in zip(new_blocks, original_blocks, real):
        if is_real is None:
            result.append(new)
            continue
        new = np.array(new, copy=True)
        if donors is not None:
            starved = is_real & ~is_real[donors]
            for step in np.flatnonzero(starved.any(axis=0)):
                candidates = np.flatnonzero(is_real[:, step])
                needy = np.flatnonzero(starved[:, step])
                new[needy, step] = original[rng.choice(candidates, size=len(needy)), step]
        padded = ~is_real
        new[padded] = original[padded]
        result.append(new)
    return result
