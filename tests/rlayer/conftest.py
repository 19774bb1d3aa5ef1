"""Fixtures of the R layer's tests: an R array ``x`` as a binding mirrors it (the RValue helpers are in helpers.py)."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import double


@pytest.fixture
def x3d():
    """A double array c(60, 4, 3) whose third dimension is named signal, weak, noise."""
    values = np.random.default_rng(0).normal(size=(60, 4, 3))
    return double(values, dimnames=[None, None, ["signal", "weak", "noise"]])
