"""The random part of a Shapley run: each row's unit orders and donor rows, fixed by the seed.

A *piece* is one order (``repeat``) of every row of one row block. Orders come in antithetic
pairs: repeat ``2p + 1`` walks the units of repeat ``2p`` backwards, with the same donors, so a
unit that comes late in one comes early in the other (its contributions are negatively
correlated, which lowers the variance of their mean). Each pair's draws come from its own
generator (:func:`~pyimportance.data.seeding.shapley_rng`), so they do not depend on
``batch_size``, the executor or the task size.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..data.seeding import RootSeed, shapley_rng


@dataclass(frozen=True)
class PieceDraws:
    """The draws of one piece.

    Attributes
    ----------
    orders : int ndarray of shape (n_rows, n_units)
        Each row's order of the units (``orders[i, k]``: the unit that joins at step ``k + 1``).
    donors : int ndarray of shape (n_draws, n_rows)
        Local positions (into the block's rows) of the row each draw takes the absent units from;
        never the row itself.
    rng : numpy Generator
        The pair's generator after these draws (what the padding fill-ins draw from).
    """

    orders: np.ndarray
    donors: np.ndarray
    rng: np.random.Generator


def piece_draws(root: RootSeed, repeat: int, block: int, n_rows: int, n_units: int, n_draws: int) -> PieceDraws:
    """The orders and donors of repeat ``repeat`` on row block ``block`` (``n_rows`` rows, at least 2)."""
    rng = shapley_rng(root, repeat // 2, block)
    orders = rng.permuted(np.tile(np.arange(n_units), (n_rows, 1)), axis=1)
    # another row, uniformly: the row itself would reveal its own values
    donors = (np.arange(n_rows)[None, :] + rng.integers(1, n_rows, size=(n_draws, n_rows))) % n_rows
    if repeat % 2:
        orders = orders[:, ::-1]
    return PieceDraws(np.ascontiguousarray(orders), donors, rng)
