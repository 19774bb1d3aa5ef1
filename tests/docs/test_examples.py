"""Every code example of the site's pages and of the README runs, so none can rot: the ```python blocks of a page
in one namespace, in order, with its ```bash blocks (the ``pyimportance`` command) in the same working directory;
its ```r blocks in one R session after them. Blocks in other languages (```text) are output or commands of the
build itself. The README stays a short front page whose links resolve."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Pages the build writes (the notebook is executed by nbclient; the rest holds no examples).
GENERATED = ("docs/notebooks/", "docs/reference/r/")
BLOCK = re.compile(r"^```(\w+)[^\n]*\n(.*?)^```\s*$", re.MULTILINE | re.DOTALL)
RUN = ("python", "bash", "r")


def _pages() -> list[str]:
    """README.md and the site's pages, relative to the repository."""
    pages = (str(path.relative_to(ROOT)) for path in sorted((ROOT / "docs").rglob("*.md")))
    return ["README.md", *(page for page in pages if not page.startswith(GENERATED))]


def blocks(page: str) -> list[tuple[str, str]]:
    """(language, code) of each fenced block of a page, in order."""
    return [(language.lower(), code) for language, code in BLOCK.findall((ROOT / page).read_text(encoding="utf-8"))]


def _environment() -> dict[str, str]:
    """The Makefile's settings, with this Python's bin (the ``pyimportance`` command) first on the PATH."""
    environment = dict(os.environ)
    environment["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{environment.get('PATH', '')}"
    environment.setdefault("RETICULATE_PYTHON", sys.executable)
    environment.setdefault("PYIMPORTANCE_PYTHON", sys.executable)
    environment.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    environment.setdefault("MPLBACKEND", "Agg")
    return environment


def test_the_pages_have_examples_in_the_languages_that_run():
    languages = {language for page in _pages() for language, _ in blocks(page)}
    assert set(RUN) <= languages
    assert languages - set(RUN) <= {"text"}, "a block in a language this test does not run"


@pytest.mark.parametrize("page", [page for page in _pages() if any(lang in RUN for lang, _ in blocks(page))])
def test_every_example_of_the_page_runs(page, tmp_path, monkeypatch):
    import matplotlib.pyplot as plt

    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": f"docs_{Path(page).stem.replace('-', '_')}"}
    r_code = []
    for number, (language, code) in enumerate(blocks(page), start=1):
        where = f"{page}, block {number} ({language})"
        if language == "python":
            exec(compile(code, where, "exec"), namespace)  # noqa: S102 (the page's own example)
        elif language == "bash":
            done = subprocess.run(["bash", "-euo", "pipefail", "-c", code], capture_output=True, text=True,
                                  env=_environment(), timeout=600)
            assert done.returncode == 0, f"{where} failed:\n{done.stdout}\n{done.stderr}"
        elif language == "r":
            r_code.append(code)
    plt.close("all")
    if r_code:
        script = tmp_path / "examples.R"
        script.write_text("\n".join(r_code), encoding="utf-8")
        done = subprocess.run(["Rscript", str(script)], capture_output=True, text=True, env=_environment(),
                              timeout=600)
        assert done.returncode == 0, f"{page}, the R blocks failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"


def test_the_readme_is_a_short_front_page_whose_links_resolve():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) < 120
    assert {language for language, _ in blocks("README.md")} == {"text", "python", "r"}
    targets = re.findall(r"\]\(([^)#\s]+)", readme)
    assert "docs/index.md" in targets
    assert [target for target in targets if "://" not in target and not (ROOT / target).exists()] == []
