"""The examples in the docstrings that the Python reference shows (reference/python.md: the package's public
names, pyimportance.datasets, pyimportance.rbridge) run and print what they say, so the reference cannot rot."""

from __future__ import annotations

import doctest
import importlib

import pytest

# The modules the reference page documents, each with its public names (``__all__``).
DOCUMENTED = ("pyimportance", "pyimportance.datasets", "pyimportance.rbridge")


def _examples() -> list[doctest.DocTest]:
    finder = doctest.DocTestFinder()
    found = []
    for module_name in DOCUMENTED:
        module = importlib.import_module(module_name)
        for name in module.__all__:
            value = getattr(module, name)
            if callable(value) or isinstance(value, type):
                found += [test for test in finder.find(value, f"{module_name}.{name}", module=False,
                                                         globs=dict(vars(module))) if test.examples]
    return found


EXAMPLES = _examples()


def test_the_reference_has_examples():
    names = {test.name for test in EXAMPLES}
    assert {"pyimportance.perturbation_importance", "pyimportance.ImportanceResult.to_frame"} & names


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda test: test.name)
def test_every_docstring_example_runs_and_prints_what_it_says(example):
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    report: list[str] = []
    runner.run(example, out=report.append)
    assert runner.failures == 0, "".join(report)
