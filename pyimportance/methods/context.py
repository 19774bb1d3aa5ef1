"""What a perturbation gets besides the values (:class:`UnitContext`), and what it returns (:class:`Perturbed`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np


class Perturbed(NamedTuple):
    """New values of each block; ``donors[i]``: the row whose values row ``i`` received (or None)."""

    blocks: list[np.ndarray]
    donors: np.ndarray | None = None


@dataclass(frozen=True)
class UnitContext:
    """What a perturbation may use besides the values; per block, broadcastable to it."""

    mean: list[np.ndarray]  # (1, 1, n_block_features) each
    noise_sd: list[np.ndarray]  # (1, 1, n_block_features) each
    conditional: list[tuple[np.ndarray, np.ndarray]] | None = None  # (fitted, residual) per block
