"""Build the documentation site into site/: the generated pages first, then mkdocs (strict).

    python scripts/build_docs.py          (run by `make docs`, after `make render`)

Generated into docs/ (ignored by git) and out/docs/, so the site always shows the code as it is:

- ``out/docs/cli_help.md``: the ``pyimportance`` command's ``--help`` and each subcommand's;
- ``out/docs/bench_results.md``: the includes of every ``bench/RESULTS*.md``, which ``benchmarks.md`` includes;
- ``out/docs/examples.json`` and ``examples/*.png``: what every example of the pages prints and draws
  (scripts/docs_examples.py; the hook shows it under each example; a failing example stops the build);
- ``notebooks/quickstart.md``: the notebook, executed with nbclient (scripts/docs_notebook.py);
- ``reference/r/``: the R package's help topics, from r_wrapper/man (scripts/docs_r_reference.R);
- ``articles/*.html``: the vignettes and the report template, as ``make render`` rendered them
  (``out/vignettes/``), less the MathJax loader R Markdown adds (a script from the web; no article has math).

Prints the seconds each step took; exits non-zero when any step fails.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
RENDERED_VIGNETTES = ROOT / "out" / "vignettes"
BENCHMARK_INCLUDES = ROOT / "out" / "docs" / "bench_results.md"
CLI_SECTIONS = ROOT / "out" / "docs" / "cli_help.md"
ARTICLES = ("lstm-importance", "python-and-r", "importance-report")
MATHJAX_LOADER = re.compile(r"<!-- dynamically load mathjax[^>]*-->\s*<script>.*?mathjax.*?</script>\s*", re.DOTALL)

def cli_help() -> None:
    """The command's help and each subcommand's (as ``pyimportance --help`` lists them), as a terminal of 80
    columns shows them: the sections the command-line reference includes."""
    command = str(Path(sys.executable).parent / "pyimportance")  # the entry point, installed next to Python

    def shown(*arguments: str) -> str:
        return subprocess.run([command, *arguments, "--help"], capture_output=True, text=True, check=True,
                              env={**os.environ, "COLUMNS": "80"}).stdout

    top = shown()
    subcommands = re.findall(r"^    ([a-z][\w-]*)  ", top.split("\ncommands:", 1)[-1], flags=re.MULTILINE)
    sections = [("pyimportance", top)] + [(f"pyimportance {name}", shown(name)) for name in subcommands]
    CLI_SECTIONS.parent.mkdir(parents=True, exist_ok=True)
    CLI_SECTIONS.write_text("".join(f"## `{title}`\n\n```text\n{text.rstrip()}\n```\n\n" for title, text in sections),
                            encoding="utf-8")


def benchmarks() -> None:
    """The list of every benchmark file that docs/benchmarks.md includes, so a new one appears without edits."""
    files = sorted((ROOT / "bench").glob("RESULTS*.md"), key=lambda path: (path.name != "RESULTS.md", path.name))
    BENCHMARK_INCLUDES.parent.mkdir(parents=True, exist_ok=True)
    BENCHMARK_INCLUDES.write_text("\n".join(f'--8<-- "bench/{path.name}"\n' for path in files), encoding="utf-8")


def examples() -> None:
    subprocess.run([sys.executable, str(ROOT / "scripts" / "docs_examples.py")], check=True)


def notebook() -> None:
    subprocess.run([sys.executable, str(ROOT / "scripts" / "docs_notebook.py"),
                    str(DOCS / "notebooks" / "quickstart.ipynb")], check=True)


def r_reference() -> None:
    subprocess.run(["Rscript", str(ROOT / "scripts" / "docs_r_reference.R"), str(ROOT / "r_wrapper"),
                    str(DOCS / "reference" / "r")], check=True)


def articles() -> None:
    """The rendered vignettes, copied as they are (self-contained HTML)."""
    missing = [name for name in ARTICLES if not (RENDERED_VIGNETTES / f"{name}.html").exists()]
    if missing:
        raise SystemExit(f"build_docs: {', '.join(missing)} not rendered in {RENDERED_VIGNETTES}: run `make render`")
    for name in ARTICLES:
        html = (RENDERED_VIGNETTES / f"{name}.html").read_text(encoding="utf-8")
        (DOCS / "articles" / f"{name}.html").write_text(without_mathjax(html, name), encoding="utf-8")


def without_mathjax(html: str, name: str) -> str:
    """The document without the MathJax loader that R Markdown adds to every HTML document, math or not: it
    fetches a script from the web, which the site must not need. A document with math stops the build."""
    if 'class="math' in html:
        raise SystemExit(f"build_docs: {name} has math, which needs MathJax from the web: give the site a local copy")
    return MATHJAX_LOADER.sub("", html)


def mkdocs() -> None:
    subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet", "--config-file",
                    str(ROOT / "mkdocs.yml")], check=True, cwd=ROOT,
                   env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})  # material's notice about its future, each build


def main() -> None:
    started = time.perf_counter()
    for step in (cli_help, benchmarks, examples, notebook, r_reference, articles, mkdocs):
        step_started = time.perf_counter()
        step()
        print(f"docs: {step.__name__:<12} {time.perf_counter() - step_started:6.1f} s", flush=True)
    print(f"docs: site/ built in {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
