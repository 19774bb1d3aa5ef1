"""How messages name things: in Python's terms, in R's, or in the command line's.

The engine's error messages name arguments, positions and literal values. A Python user reads
``X[2, 3, 1]``, ``random_state`` and ``True``; an R user of the same engine (the R package or
the rpy2 layer) passed ``x``, ``seed`` and ``TRUE`` and counts from 1; a user of the command
line passed ``--x`` and ``--seed``. Every message that names one of these goes through this
module, and the R entry points (and the command line, for the rules of
:mod:`pyimportance.settings`) switch the vocabulary for the duration of a call with
:func:`speaking`. The choice lives in a :class:`contextvars.ContextVar`, so concurrent calls
from other threads keep their own terms.

This module owns how each interface names the arguments (``random_state`` is ``seed`` in R and
``--seed`` on the command line); :mod:`pyimportance.settings` lists which interface offers which.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Terms:
    """A vocabulary for messages.

    Attributes
    ----------
    language : str
        ``"Python"``, ``"R"`` or ``"CLI"`` (the command line).
    arguments : mapping of str to str
        Engine argument name -> the name the caller used (absent: ``style(name)``).
    style : callable, optional
        How the caller spells the other argument names (the command line: ``--n-repeats``).
    index_base : int
        0 (Python) or 1 (R): added to 0-based positions, time steps and class codes shown.
    true, false, none : str
        How the literals ``True``, ``False`` and ``None`` are written.
    """

    language: str
    arguments: Mapping[str, str] = field(default_factory=dict)
    style: Callable[[str], str] | None = None
    index_base: int = 0
    true: str = "True"
    false: str = "False"
    none: str = "None"

    def name_of(self, name: str) -> str:
        """An engine argument's name in this vocabulary."""
        if name in self.arguments:
            return self.arguments[name]
        return self.style(name) if self.style is not None else name


def _option(name: str) -> str:
    return "--" + name.replace("_", "-")


PYTHON = Terms("Python")
R = Terms(
    "R",
    arguments={"X": "x", "random_state": "seed"},
    index_base=1,
    true="TRUE",
    false="FALSE",
    none="NULL",
)
CLI = Terms("CLI", arguments={"X": "--x", "groups": "--group", "random_state": "--seed"}, style=_option)

_CURRENT: contextvars.ContextVar[Terms] = contextvars.ContextVar("pyimportance_terms", default=PYTHON)


def current() -> Terms:
    """The vocabulary of the call being served."""
    return _CURRENT.get()


@contextlib.contextmanager
def speaking(terms: Terms) -> Iterator[Terms]:
    """Use ``terms`` for every message raised inside the block (this thread/context only)."""
    token = _CURRENT.set(terms)
    try:
        yield terms
    finally:
        _CURRENT.reset(token)


def arg(name: str) -> str:
    """An argument's name as the caller wrote it (``"X"`` -> ``"x"`` in R, ``"--x"`` on the command line)."""
    return current().name_of(name)


def index(position: int) -> int:
    """A 0-based position as the caller counts it (+1 in R)."""
    return int(position) + current().index_base


def position(name: str, where: tuple[int, ...]) -> str:
    """``name[i, j, k]`` for a 0-based index tuple, in the caller's terms (``x[3, 4, 2]`` in R)."""
    return f"{arg(name)}[{', '.join(str(index(i)) for i in where)}]"


def literal(value) -> str:
    """A value as the caller writes it: ``True``/``TRUE``, ``None``/``NULL``, ``'a'``/``"a"``, numbers."""
    terms = current()
    if value is None:
        return terms.none
    if isinstance(value, (bool, np.bool_)):
        return terms.true if value else terms.false
    if terms.language == "R" and isinstance(value, str):
        return f'"{value}"'
    if terms.language == "CLI" and isinstance(value, str):
        return value
    if terms.language == "R" and isinstance(value, (int, float, np.integer, np.floating)):
        return number(value)
    return repr(value)


# R's NA_real_ is the NaN whose low 32 bits are 1954 (R's own marker); any other NaN prints as NaN.
_R_NA_LOW_WORD = 1954


def number(value) -> str:
    """A number as the caller reads it: in R ``-1`` (not ``-1.0``), ``Inf``, ``-Inf``, ``NaN`` or ``NA``."""
    value = float(value) if not isinstance(value, (int, np.integer)) else int(value)
    if current().language != "R":
        return str(value)
    if isinstance(value, int):
        return str(value)
    if np.isnan(value):
        low_word = int(np.array(value, dtype=np.float64).view(np.uint64)) & 0xFFFFFFFF
        return "NA" if low_word == _R_NA_LOW_WORD else "NaN"
    if np.isinf(value):
        return "Inf" if value > 0 else "-Inf"
    return str(int(value)) if value.is_integer() and abs(value) < 1e15 else f"{value:.15g}"


def vector(values) -> str:
    """Several values as the caller writes them: ``['a', 'b']`` in Python, ``c("a", "b")`` in R."""
    values = list(values)
    if current().language != "R":
        return repr([value.item() if isinstance(value, np.generic) else value for value in values])
    return "c(" + ", ".join(literal(value) for value in values) + ")"


def element(name: str, key) -> str:
    """One element of a list or dict argument: ``groups['g']`` / ``x[0]``; in R ``groups[["g"]]`` / ``x[[1]]``."""
    shown = index(key) if isinstance(key, (int, np.integer)) else key
    if current().language == "R":
        return f"{name}[[{literal(shown)}]]"
    return f"{name}[{literal(shown) if isinstance(shown, str) else shown}]"


def shape(dims) -> str:
    """An array's shape: ``shape (10, 4, 3)``; in R ``dim c(10, 4, 3)``."""
    dims = tuple(int(d) for d in dims)
    if current().language == "R":
        return f"dim c({', '.join(str(d) for d in dims)})"
    return f"shape {dims}"


def setting(name: str, value) -> str:
    """An argument set to a value: ``by='cell'``; in R ``by = "cell"``; on the command line ``--by cell``."""
    language = current().language
    if language == "R":
        return f"{arg(name)} = {literal(value)}"
    if language == "CLI":
        return f"{arg(name)} {literal(value)}"
    return f"{arg(name)}={literal(value)}"


def either(python: str, r: str, cli: str | None = None) -> str:
    """The wording for the caller's language, e.g. how a callable argument is written (the command
    line reads Python's wording unless it has its own)."""
    language = current().language
    if language == "R":
        return r
    if language == "CLI" and cli is not None:
        return cli
    return python


def choices(values) -> str:
    """Allowed literal values as a phrase: ``True, False or None`` (``TRUE, FALSE or NULL`` in R)."""
    words = [literal(value) for value in values]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


_R_TYPE_WORDS = {"O": "character", "U": "character", "S": "character", "b": "logical", "c": "complex"}


def type_word(dtype) -> str:
    """The caller's word for an array's element type (``object`` -> ``character`` in R)."""
    dtype = np.dtype(dtype)
    if current().language == "R":
        return _R_TYPE_WORDS.get(dtype.kind, "numeric")
    return f"dtype {dtype}"
