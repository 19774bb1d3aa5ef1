"""The neutral mirror of R objects (pyimportance.rlayer.values): an RValue normalises what
reticulate gives, and values are described as an R user writes them.
"""

from __future__ import annotations

import numpy as np
from helpers import double, na_scalar, scalar

from pyimportance import rlayer
from pyimportance.rlayer import RValue


def test_rvalue_normalises_what_reticulate_gives():
    value = RValue("character", values="a", dimnames=[None, "b"], names="n", na=[False])
    assert value.values.shape == (1,)
    assert value.dimnames == (None, ("b",))
    assert value.names == ("n",)
    assert value.na is None  # no NA anywhere: no mask
    assert RValue("list", items=None).items == ()


def test_describe_speaks_r():
    assert rlayer.describe(na_scalar("integer")) == "NA"
    assert rlayer.describe(scalar(True)) == "TRUE"
    assert rlayer.describe(scalar("a")) == '"a"'
    assert rlayer.describe(scalar(2.5)) == "2.5"
    assert rlayer.describe(double([1, 2])) == "a numeric vector of length 2"
    assert rlayer.describe(double(np.zeros((2, 3)))) == "a numeric array with dim c(2, 3)"
    assert rlayer.describe(RValue("factor", values=np.array([1, 2], np.int32), levels=["a", "b"])) == (
        "a factor of length 2")
    assert rlayer.describe(None) == "NULL"
