"""mkdocs hooks of the documentation site (mkdocs.yml ``hooks:``).

Under each example of a page, the output and figures it gave when the site was built
(``scripts/docs_examples.py`` runs the examples and records them in ``out/docs/examples.json``): a page
shows what its code prints and draws today, not what it printed when the page was written.

The docstrings cross-reference with Sphinx roles (``:func:`perturbation_importance```), which the NumPy
docstring parser of mkdocstrings leaves as text: the rendered reference would read ``:func:perturbation_importance``.
The role prefix is dropped; the name stays as code.
"""

from __future__ import annotations

import functools
import json
import os
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from docs_examples import BLOCK, RECORD, ROOT  # noqa: E402 - the blocks counted as the examples' run counts them

SPHINX_ROLE = re.compile(r":(?:py:)?(?:func|class|mod|meth|attr|data|exc|obj):(?=<code)")


def on_page_content(html: str, **_) -> str:
    return SPHINX_ROLE.sub("", html)


@functools.lru_cache(maxsize=1)
def _record() -> dict:
    if not RECORD.exists():
        raise SystemExit(f"mkdocs_hooks: {RECORD.relative_to(ROOT)} is missing: run scripts/docs_examples.py first "
                         "(scripts/build_docs.py does)")
    return json.loads(RECORD.read_text(encoding="utf-8"))


def _shown(entry: dict, page_folder: str) -> str:
    """The output panel of one example: its printed text and its figures (paths relative to the page)."""
    parts = []
    if entry["output"].strip():
        parts.append(f"```text\n{entry['output']}\n```")
    for k, name in enumerate(entry["figures"], start=1):
        src = os.path.relpath(f"examples/{name}", page_folder or ".")
        parts.append(f"![Figure {k} of the example above]({src})")
    if not parts:
        return ""
    body = "\n\n".join(parts)
    label = '<p class="example-output-label">Output</p>'
    return f'\n\n<div class="example-output" markdown>\n{label}\n\n{body}\n\n</div>\n'


def on_page_markdown(markdown: str, page, **_) -> str:
    """Each recorded example of the page followed by what it printed and drew."""
    entries = {entry["block"]: entry for entry in _record().get(f"docs/{page.file.src_uri}", [])}
    if not entries:
        return markdown
    folder = os.path.dirname(page.file.src_uri)
    pieces, start = [], 0
    for number, match in enumerate(BLOCK.finditer(markdown), start=1):
        if number in entries:
            pieces.append(markdown[start:match.end()])
            pieces.append(_shown(entries[number], folder))
            start = match.end()
    pieces.append(markdown[start:])
    return "".join(pieces)
