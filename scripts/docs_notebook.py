"""Execute a notebook with nbclient and write it as a Markdown page of the documentation site.

    python scripts/docs_notebook.py docs/notebooks/quickstart.ipynb

writes ``quickstart.md`` next to the notebook, with every output as the notebook showed it: rich
HTML displays (a result's table) as HTML, figures as PNG files in ``quickstart_files/``. A cell
that raises stops the build (nbclient's CellExecutionError), so the notebook cannot rot.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbconvert import MarkdownExporter


def render(notebook_path: Path) -> Path:
    """Run every cell in a fresh kernel (working directory: the notebook's) and write ``<name>.md``."""
    notebook = nbformat.read(notebook_path, as_version=4)
    os.environ.pop("MPLBACKEND", None)  # the kernel's own inline backend shows the figures, as in Jupyter
    NotebookClient(notebook, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(notebook_path.parent)}}).execute()
    for cell in notebook.cells:  # TensorFlow's start-up logs on stderr are not the notebook's output
        if cell.cell_type == "code":
            cell.outputs = [out for out in cell.outputs if not (out.output_type == "stream" and out.name == "stderr")]
    files_dir = f"{notebook_path.stem}_files"
    body, resources = MarkdownExporter().from_notebook_node(notebook, resources={"output_files_dir": files_dir})
    for name, data in resources["outputs"].items():
        target = notebook_path.parent / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    source_link = f"[Download the notebook]({notebook_path.name}) (executed when this site was built).\n\n"
    page = notebook_path.with_suffix(".md")
    page.write_text(body.replace("\n", "\n\n" + source_link, 1) if body.startswith("# ") else source_link + body,
                    encoding="utf-8")
    return page


if __name__ == "__main__":
    for argument in sys.argv[1:]:
        started = time.perf_counter()
        written = render(Path(argument))
        print(f"notebook {argument} -> {written} ({time.perf_counter() - started:.1f} s)")
