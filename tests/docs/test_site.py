"""The built site in a real browser (Debian's headless chromium): every page loads without console errors or
requests leaving the site, every image is drawn, links and anchors resolve, the search finds ``conditional``,
the notebook shows the rich result table, and the references cover every public function (Python and R)."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

ROOT = Path(__file__).resolve().parents[2]
SITE = ROOT / "site"

# The pages a reader reaches (not the theme's assets); the notebook and the articles have figures.
# Without a built site, the one page asked for fails to load (rather than an empty, skipped parametrization).
PAGES = sorted(str(page.relative_to(SITE)) for page in SITE.rglob("*.html") if "assets" not in page.parts) or [
    "index.html"]
PAGES_WITH_FIGURES = {"getting-started/python.html": 2, "getting-started/r.html": 2,
                      "notebooks/quickstart.html": 2, "articles/lstm-importance.html": 11,
                      "articles/python-and-r.html": 2, "articles/importance-report.html": 3}


class _Links(HTMLParser):
    """Every href, and every id (anchor target) of one page."""

    def __init__(self):
        super().__init__()
        self.hrefs, self.ids = [], set()

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if attributes.get("id"):
            self.ids.add(attributes["id"])
        if tag == "a" and attributes.get("name"):
            self.ids.add(attributes["name"])
        if tag in ("a", "link") and attributes.get("href"):
            self.hrefs.append(attributes["href"])


def _parsed(page: str) -> _Links:
    links = _Links()
    links.feed((SITE / page).read_text(encoding="utf-8"))
    return links


def test_the_site_has_every_page_of_the_nav():
    expected = {"index.html", "getting-started/python.html", "getting-started/r.html", "notebooks/quickstart.html",
                "guides/how-sure.html", "guides/correlated-inputs.html", "guides/inputs-outputs-padding.html",
                "guides/command-line.html", "guides/dask.html", "guides/reports.html", "articles/index.html",
                "reference/python.html", "reference/r/index.html", "reference/cli.html", "inside.html",
                "benchmarks.html",
                *PAGES_WITH_FIGURES}
    assert expected <= set(PAGES)


@pytest.mark.parametrize("page", PAGES)
def test_every_page_loads_without_errors_and_draws_every_image(browser, site_url, page):
    problems: list[str] = []
    context = browser.new_context()
    # Nothing may come from outside the site (it is read offline, and here there is no network).
    context.route(re.compile(r"^(?!http://127\.0\.0\.1:).*"),
                  lambda route: (problems.append(f"request outside the site: {route.request.url}"), route.abort()))
    tab = context.new_page()
    tab.on("console", lambda message: message.type == "error" and problems.append(f"console: {message.text}"))
    tab.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    tab.on("requestfailed", lambda request: problems.append(f"failed: {request.url}"))
    tab.on("response", lambda response: response.status >= 400 and problems.append(
        f"HTTP {response.status}: {response.url}"))
    response = tab.goto(f"{site_url}/{page}", wait_until="load")
    assert response.status == 200
    tab.wait_for_load_state("networkidle")
    images = tab.evaluate("""() => Array.from(document.images).map(
        image => ({src: image.currentSrc.slice(0, 80), complete: image.complete, width: image.naturalWidth}))""")
    context.close()
    assert problems == []
    assert [image for image in images if not (image["complete"] and image["width"] > 0)] == []
    assert len(images) >= PAGES_WITH_FIGURES.get(page, 0)


@pytest.mark.parametrize("page", PAGES)
def test_every_internal_link_and_anchor_resolves(page):
    broken = []
    for href in _parsed(page).hrefs:
        parts = urlsplit(href)
        if parts.scheme or parts.netloc or href.startswith(("mailto:", "javascript:")):
            continue
        # mkdocs' 404 page links from the site's root ("/assets/..."): it is served for any missing path
        target = unquote(urljoin(page, parts.path)).lstrip("/") if parts.path else page
        if target.endswith("/") or not Path(target).suffix:
            target = f"{target.rstrip('/')}/index.html" if target.rstrip("/") else "index.html"
        if not (SITE / target).is_file():
            broken.append(f"{href} -> {target} (no such file)")
        elif parts.fragment and target.endswith(".html") and unquote(parts.fragment) not in _parsed(target).ids:
            broken.append(f"{href} -> no anchor #{parts.fragment} in {target}")
    assert broken == []


def test_the_search_finds_conditional(browser, site_url):
    tab = browser.new_page()
    tab.goto(f"{site_url}/index.html")
    search = tab.locator("input.md-search__input")
    # The index is built in a web worker after the page loads; a query typed before it is ready finds nothing
    # until it is typed again.
    found: list[str] = []
    for _ in range(60):
        search.fill("")
        search.press_sequentially("conditional")
        try:
            tab.wait_for_selector(".md-search-result__item", timeout=1_000)
        except PlaywrightTimeout:
            continue
        found = tab.eval_on_selector_all(".md-search-result__item a", "links => links.map(link => link.href)")
        break
    tab.close()
    assert any("guides/correlated-inputs.html" in link for link in found), found


def test_the_guides_show_what_their_examples_print_and_draw(browser, site_url):
    tab = browser.new_page()
    tab.goto(f"{site_url}/getting-started/python.html")
    panels = tab.locator(".example-output")
    texts = panels.all_inner_texts()
    drawn = tab.locator(".example-output img").evaluate_all("images => images.map(image => image.naturalWidth)")
    tab.goto(f"{site_url}/guides/correlated-inputs.html")
    ratio = tab.locator(".example-output pre").first.inner_text()
    tab.close()
    assert any(text.startswith("OUTPUT") and "Perturbation importance by feature" in text for text in texts), texts
    assert len(drawn) >= 2 and min(drawn) > 100
    assert re.fullmatch(r"\[0\.1\d+ 0\.1\d+\]", ratio.strip()), ratio  # the page's 1 - rho^2 = 0.19


def test_the_notebook_shows_the_rich_result_table(browser, site_url):
    tab = browser.new_page()
    tab.goto(f"{site_url}/notebooks/quickstart.html")
    table = tab.locator(".pyimportance-result table")
    assert table.count() == 1 and table.is_visible()
    header = tab.locator(".pyimportance-result thead th").all_inner_texts()
    rows = tab.locator(".pyimportance-result tbody tr")
    summary = tab.locator(".pyimportance-result pre").inner_text()
    bars = tab.locator(".pyimportance-result tbody svg rect")
    widths = [float(bars.nth(i).get_attribute("width")) for i in range(bars.count())]
    features = [rows.nth(i).locator("td").first.inner_text() for i in range(rows.count())]
    tab.close()
    assert header[:2] == ["feature", "importance and interval"] and "p_adjusted" in header
    assert summary.startswith("Perturbation importance by feature: method 'permute', loss 'mse', 5 repeats")
    assert features == ["x1", "x2", "x3"]
    assert len(widths) == 3 and widths[0] > widths[1] > widths[2] >= 0  # x1, then x2, then the noise


def test_the_python_reference_documents_every_public_name():
    import pyimportance

    ids = _parsed("reference/python.html").ids
    assert [name for name in pyimportance.__all__ if f"pyimportance.{name}" not in ids] == []
    assert {"pyimportance.ImportanceResult.to_frame", "pyimportance.datasets.load_demo_sequences",
            "pyimportance.rbridge.perturbation_importance"} <= ids


def test_the_r_reference_has_a_page_for_every_help_topic():
    topics = sorted(path.stem for path in (ROOT / "r_wrapper" / "man").glob("*.Rd"))
    index = set(_parsed("reference/r/index.html").hrefs)
    assert [topic for topic in topics if not (SITE / "reference" / "r" / f"{topic}.html").is_file()] == []
    assert [topic for topic in topics if f"{topic}.html" not in index] == []
    arguments = (SITE / "reference" / "r" / "perturbation_importance.html").read_text(encoding="utf-8")
    assert "<h3>Arguments</h3>" in arguments and "block_size" in arguments


def test_the_benchmarks_page_includes_every_results_file():
    page = (SITE / "benchmarks.html").read_text(encoding="utf-8")
    for results in sorted((ROOT / "bench").glob("RESULTS*.md")):
        title = results.read_text(encoding="utf-8").splitlines()[0].lstrip("# ").strip()
        assert title.split("(")[0].strip().replace("`", "") in re.sub("<[^>]+>", "", page), results.name


def test_the_command_line_reference_has_every_command():
    import subprocess
    import sys

    top = subprocess.run([str(Path(sys.executable).parent / "pyimportance"), "--help"], capture_output=True,
                         text=True, check=True).stdout
    commands = re.findall(r"^    ([a-z][\w-]*)  ", top.split("\ncommands:", 1)[-1], flags=re.MULTILINE)
    page = re.sub("<[^>]+>", "", (SITE / "reference" / "cli.html").read_text(encoding="utf-8"))
    assert {"run", "demo"} <= set(commands)
    assert [name for name in commands if f"pyimportance {name}" not in page or f"usage: pyimportance {name}"
            not in page] == []
