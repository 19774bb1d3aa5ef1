"""One version: ``pyimportance.__version__`` (pyproject.toml reads it); the R package's DESCRIPTION repeats it."""

from __future__ import annotations

import re
from pathlib import Path

import pyimportance

REPO = Path(__file__).resolve().parents[2]


def test_the_r_package_has_the_engines_version():
    description = (REPO / "r_wrapper" / "DESCRIPTION").read_text()
    assert re.search(r"^Version: (.+)$", description, re.M).group(1) == pyimportance.__version__


def test_pyproject_takes_the_version_from_the_package():
    pyproject = (REPO / "pyproject.toml").read_text()
    assert 'dynamic = ["version"]' in pyproject
    assert 'version = { attr = "pyimportance.__version__" }' in pyproject
    assert not re.search(r'^version = "', pyproject, re.M)


def test_news_starts_with_this_version():
    news = (REPO / "NEWS.md").read_text()
    assert news.splitlines()[0] == f"# pyimportance {pyimportance.__version__}"
