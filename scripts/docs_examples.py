"""Run every code example of the site's pages as a reader would, and keep what each one printed and drew.

    python scripts/docs_examples.py             (run by scripts/build_docs.py, before mkdocs)

The site shows, under each example, its output and figures as they came out when the site was built
(``scripts/mkdocs_hooks.py`` inserts them), so what a page shows is what the code gives today. The pages:
README.md and every page of docs/ but those the build generates. On each page:

- its ```python blocks run in one namespace, in order, in a fresh working directory; what a block prints
  is kept, and so is the value of a last bare expression (as a notebook shows it, figures and axes aside);
  each figure a block leaves open is saved as a PNG and closed;
- its ```bash blocks (the ``pyimportance`` command) run in the same working directory; their standard
  output is kept;
- its ```r blocks run in one R session after them, each block's console output kept (``source()`` with
  ``print.eval``, as the console prints) and its plots drawn on a PNG device of its own.

Written (both ignored by git): ``out/docs/examples.json``, ``{page: [{"block", "language", "output",
"figures", "error"}]}`` with ``block`` the 1-based position among the page's fenced blocks (``text`` blocks
included, as the hook counts them), and the figures in ``docs/examples/``. Nothing here is a library's job:
markdown-exec runs Python and shell blocks but not R, and the pages' blocks share a namespace and a folder.

Exits non-zero when any example fails, naming the page and the block: the build stops (tests/docs/test_examples.py
then reads the record to say which page).
"""

from __future__ import annotations

import ast
import contextlib
import io
import json
import os
import re
import subprocess
import sys
import tempfile
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
RECORD = ROOT / "out" / "docs" / "examples.json"
FIGURES = DOCS / "examples"
# Pages the build writes (the notebook is executed by nbclient; the rest holds no examples).
GENERATED = ("docs/notebooks/", "docs/reference/r/", "docs/examples/")
BLOCK = re.compile(r"^```(\w+)[^\n]*\n(.*?)^```\s*$", re.MULTILINE | re.DOTALL)
RUN = ("python", "bash", "r")
#: Longest output a page shows of one block, in lines: the first and last halves, the middle elided.
MAX_LINES = 40


def pages() -> list[str]:
    """README.md and the site's pages, relative to the repository."""
    found = (str(path.relative_to(ROOT)) for path in sorted(DOCS.rglob("*.md")))
    return ["README.md", *(page for page in found if not page.startswith(GENERATED))]


def blocks(text: str) -> list[tuple[str, str]]:
    """(language, code) of each fenced block of a page's text, in order."""
    return [(language.lower(), code) for language, code in BLOCK.findall(text)]


def environment() -> dict[str, str]:
    """The Makefile's settings, with this Python's bin (the ``pyimportance`` command) first on the PATH."""
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env.setdefault("RETICULATE_PYTHON", sys.executable)
    env.setdefault("PYIMPORTANCE_PYTHON", sys.executable)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    env["MPLBACKEND"] = "Agg"
    return env


def shortened(text: str) -> str:
    """At most :data:`MAX_LINES` lines, trailing blank lines dropped."""
    lines = text.rstrip().splitlines()
    if len(lines) <= MAX_LINES:
        return "\n".join(lines)
    half = MAX_LINES // 2
    return "\n".join([*lines[:half], f"... ({len(lines) - 2 * half} lines left out)", *lines[-half:]])


def slug(page: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", page.lower().removesuffix(".md")).strip("-")


def _shown_value(value) -> str | None:
    """What a notebook shows of a last bare expression: its repr, unless None, a matplotlib object or a
    repr that says nothing (``<... object at 0x...>``, e.g. Keras' ``History`` of ``model.fit``)."""
    if value is None or type(value).__module__.startswith("matplotlib"):
        return None
    shown = repr(value)
    return None if re.fullmatch(r"<.* at 0x[0-9a-f]+>", shown, flags=re.DOTALL) else shown


def run_python(code: str, where: str, namespace: dict) -> str:
    """Run one block in ``namespace``; its printed output, and the repr of a last bare expression."""
    tree = ast.parse(code, where)
    last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(tree, where, "exec"), namespace)  # noqa: S102 (the page's own example)
        value = eval(compile(ast.Expression(last.value), where, "eval"), namespace) if last else None  # noqa: S307
        shown = _shown_value(value)
        if shown is not None:
            print(shown)
    return printed.getvalue()


def saved_figures(page: str, number: int) -> list[str]:
    """Each open matplotlib figure saved as ``docs/examples/<page>-<block>-<k>.png``, then closed."""
    import matplotlib.pyplot as plt

    names = []
    for k, figure_number in enumerate(plt.get_fignums(), start=1):
        name = f"{slug(page)}-{number}-{k}.png"
        plt.figure(figure_number).savefig(FIGURES / name, dpi=80, bbox_inches="tight")
        names.append(name)
    plt.close("all")
    return names


def _r_script(codes: list[str], folder: Path, prefix: str) -> str:
    """One R script that runs each block in the global environment, keeping its console output in
    ``<folder>/out-<i>.txt`` and its plots in ``<folder>/<prefix>-<i>-<k>.png``; stops at the first error."""
    parts = []
    for i, code in enumerate(codes, start=1):
        source = folder / f"block-{i}.R"
        source.write_text(code, encoding="utf-8")
        parts.append(
            f'grDevices::png({str(FIGURES / f"{prefix}-r{i}-%d.png")!r}, width = 560, height = 400)\n'
            f'.pyi_out <- utils::capture.output(source({str(source)!r}, echo = FALSE, print.eval = TRUE, '
            f'local = globalenv()), type = "output")\n'
            f'invisible(grDevices::dev.off())\n'
            f'writeLines(.pyi_out, {str(folder / f"out-{i}.txt")!r})\n')
    return "options(width = 100)\n" + "".join(parts)


def run_r(codes: list[str], page: str, folder: Path) -> tuple[list[str], list[list[str]], str | None]:
    """Run a page's R blocks in one session: each block's output and figure names, and the error if any."""
    prefix = slug(page)
    script = folder / "examples.R"
    script.write_text(_r_script(codes, folder, prefix), encoding="utf-8")
    done = subprocess.run(["Rscript", str(script)], capture_output=True, text=True, env=environment(),
                          cwd=folder, timeout=900)
    outputs, figures = [], []
    for i in range(1, len(codes) + 1):
        out = folder / f"out-{i}.txt"
        outputs.append(out.read_text(encoding="utf-8") if out.exists() else "")
        figures.append(sorted(path.name for path in FIGURES.glob(f"{prefix}-r{i}-*.png")))
    error = None if done.returncode == 0 else f"the R blocks failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return outputs, figures, error


def run_page(page: str) -> list[dict]:
    """The record of every block of ``page`` that runs, in order."""
    import matplotlib.pyplot as plt

    plt.close("all")
    record: list[dict] = []
    r_blocks: list[tuple[int, str]] = []
    namespace: dict = {"__name__": f"docs_{Path(page).stem.replace('-', '_')}"}
    with tempfile.TemporaryDirectory(prefix="pyimportance-docs-") as folder, contextlib.chdir(folder):
        for number, (language, code) in enumerate(blocks((ROOT / page).read_text(encoding="utf-8")), start=1):
            where = f"{page}, block {number} ({language})"
            if language == "python":
                entry = {"block": number, "language": language, "output": "", "figures": [], "error": None}
                try:
                    entry["output"] = shortened(run_python(code, where, namespace))
                except Exception:  # noqa: BLE001 - recorded, and the build stops on it
                    entry["error"] = f"{where} failed:\n{traceback.format_exc()}"
                entry["figures"] = saved_figures(page, number)
                record.append(entry)
            elif language == "bash":
                done = subprocess.run(["bash", "-euo", "pipefail", "-c", code], capture_output=True, text=True,
                                      env=environment(), timeout=600)
                error = None if done.returncode == 0 else f"{where} failed:\n{done.stdout}\n{done.stderr}"
                record.append({"block": number, "language": language, "output": shortened(done.stdout),
                               "figures": [], "error": error})
            elif language == "r":
                r_blocks.append((number, code))
            if record and record[-1]["error"]:
                break
        if r_blocks and not any(entry["error"] for entry in record):
            outputs, figures, error = run_r([code for _, code in r_blocks], page, Path(folder))
            for (number, _), output, names in zip(r_blocks, outputs, figures):
                record.append({"block": number, "language": "r", "output": shortened(output), "figures": names,
                               "error": error})
    return sorted(record, key=lambda entry: entry["block"])


def main() -> int:
    FIGURES.mkdir(parents=True, exist_ok=True)
    for old in FIGURES.glob("*.png"):
        old.unlink()
    chosen = sys.argv[1:] or pages()
    record = {page: run_page(page) for page in chosen if any(lang in RUN for lang, _ in blocks(
        (ROOT / page).read_text(encoding="utf-8")))}
    RECORD.parent.mkdir(parents=True, exist_ok=True)
    RECORD.write_text(json.dumps(record, indent=1), encoding="utf-8")
    failed = [entry["error"] for entries in record.values() for entry in entries if entry["error"]]
    for error in dict.fromkeys(failed):
        print(error, file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
