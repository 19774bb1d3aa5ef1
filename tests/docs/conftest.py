"""The documentation site's tests run in `make docs`, after the build (scripts/build_docs.py): every test
here is marked ``docs``, which `make test-python` and `make test-numpy2` leave out."""

from __future__ import annotations

import functools
import http.server
import threading
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SITE = ROOT / "site"
CHROMIUM = "/usr/bin/chromium"  # Debian's (scripts/ensure_docs.sh); playwright's own download is not used


def pytest_ignore_collect(collection_path, config):
    """With ``-m "not docs"`` (make test-python, test-numpy2) the folder is not even imported: its modules need
    the docs extra (playwright) and the R layer, which the NumPy 2 environment does not have."""
    return "not docs" in (config.getoption("markexpr") or "") or None


def pytest_collection_modifyitems(items):
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(pytest.mark.docs)


@pytest.fixture(scope="session")
def site_url():
    """The built site served over HTTP on a free local port (the search runs in a web worker: not from file://)."""
    assert (SITE / "index.html").exists(), "site/ is not built: run `make docs` (scripts/build_docs.py)"
    handler = functools.partial(_QuietHandler, directory=str(SITE))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 (the base class's name)
        pass


@pytest.fixture(scope="session")
def browser():
    """Headless chromium, driven by playwright."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield launched
        launched.close()
