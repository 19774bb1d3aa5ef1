"""mkdocs hooks of the documentation site (mkdocs.yml ``hooks:``).

The docstrings cross-reference with Sphinx roles (``:func:`perturbation_importance```), which the NumPy
docstring parser of mkdocstrings leaves as text: the rendered reference would read ``:func:perturbation_importance``.
The role prefix is dropped; the name stays as code.
"""

from __future__ import annotations

import re

SPHINX_ROLE = re.compile(r":(?:py:)?(?:func|class|mod|meth|attr|data|exc|obj):(?=<code)")


def on_page_content(html: str, **_) -> str:
    return SPHINX_ROLE.sub("", html)
