"""Every code example of the site's pages and of the README ran when the site was built, so none can rot, and the
site shows what each printed and drew.

``scripts/docs_examples.py`` (a step of the build) runs the ```python blocks of a page in one namespace, in order,
with its ```bash blocks (the ``pyimportance`` command) in the same working directory, and its ```r blocks in one R
session after them, and records each block's output, figures and error; a failing example stops the build. These
tests read that record against the pages as they are now. Blocks in other languages (```text) are output or
commands of the build itself. The README stays a short front page whose links resolve."""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("docs_examples", ROOT / "scripts" / "docs_examples.py")
docs_examples = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(docs_examples)
RUN = docs_examples.RUN


def blocks(page: str) -> list[tuple[str, str]]:
    return docs_examples.blocks((ROOT / page).read_text(encoding="utf-8"))


def _record() -> dict:
    assert docs_examples.RECORD.exists(), "the examples were not run: build the site (`make docs`)"
    return json.loads(docs_examples.RECORD.read_text(encoding="utf-8"))


def test_the_pages_have_examples_in_the_languages_that_run():
    languages = {language for page in docs_examples.pages() for language, _ in blocks(page)}
    assert set(RUN) <= languages
    assert languages - set(RUN) <= {"text"}, "a block in a language this test does not run"


PAGES_WITH_EXAMPLES = [page for page in docs_examples.pages() if any(lang in RUN for lang, _ in blocks(page))]


@pytest.mark.parametrize("page", PAGES_WITH_EXAMPLES)
def test_every_example_of_the_page_ran_without_error(page):
    recorded = {entry["block"]: entry for entry in _record().get(page, [])}
    expected = {number: language for number, (language, _) in enumerate(blocks(page), start=1) if language in RUN}
    assert {number: entry["language"] for number, entry in recorded.items()} == expected, (
        f"{page} changed since the examples ran: build the site again")
    assert [entry["error"] for entry in recorded.values() if entry["error"]] == []
    for entry in recorded.values():
        assert all((docs_examples.FIGURES / name).is_file() for name in entry["figures"])


def test_the_record_holds_what_the_examples_print_and_draw():
    record = _record()
    conditional = record["docs/guides/correlated-inputs.md"]
    ratio = [float(value) for value in re.findall(r"[\d.]+", conditional[0]["output"])]
    assert len(ratio) == 2 and all(abs(value - 0.19) < 0.05 for value in ratio)  # the page's (1 - rho^2)
    python = record["docs/getting-started/python.md"]
    assert any("Perturbation importance by feature" in entry["output"] for entry in python)
    assert sum(len(entry["figures"]) for entry in python) >= 2  # the bars and the heatmap
    r = record["docs/getting-started/r.md"]
    assert sum(len(entry["figures"]) for entry in r) >= 2  # plot(result) and plot(cells)
    assert any("importance" in entry["output"] for entry in r)


def test_a_long_output_is_shortened_in_the_middle():
    text = "\n".join(str(i) for i in range(100))
    shown = docs_examples.shortened(text).splitlines()
    assert len(shown) == docs_examples.MAX_LINES + 1
    assert shown[0] == "0" and shown[-1] == "99" and "60 lines left out" in shown[docs_examples.MAX_LINES // 2]


def test_the_readme_is_a_short_front_page_whose_links_resolve():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) < 120
    assert {language for language, _ in blocks("README.md")} == {"text", "python", "r"}
    targets = re.findall(r"\]\(([^)#\s]+)", readme)
    assert "docs/index.md" in targets
    assert [target for target in targets if "://" not in target and not (ROOT / target).exists()] == []
