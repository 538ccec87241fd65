"""Screenshots of the bundled site's main pages at 1280 and 390 px, kept for a person to look
at before a release (the folder is printed), and the checks a first look would make: the page
is drawn (not blank, every diagram drawn), its body never scrolls sideways on a phone (a wide
diagram or table scrolls in its own box), and no link, heading or diagram shows a record's id
or text cut with '…'. Set LIVING_THEORIES_SCREENSHOTS=DIR to keep the images in DIR."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from conftest import REPO
from living_theories.project import load_project

pytestmark = pytest.mark.browser

PAGES = {"home": "", "theory": "theories/being/", "version": "theories/being/v2/",
         "cmoc": "cmocs/being-clear-vision/", "history": "theories/being/history/",
         "evidence-map": "evidence-map/", "source": "sources/p2-20/",
         "references": "references/"}

# What a reader reads as names: link texts, headings, diagram nodes and box titles.
NAMES = """() => [...document.querySelectorAll('article a, article h1, article h2, article h3, '
  + '.lt-diagram g.node, .lt-diagram g.cluster-label, nav.lt-breadcrumbs a')]
  .map(e => e.textContent.replace(/\\s+/g, ' ').trim()).filter(t => t)"""


@pytest.fixture(scope="module")
def shots(tmp_path_factory, request):
    # pytest keeps only its last three temporary folders: LIVING_THEORIES_SCREENSHOTS=DIR
    # keeps the images where they stay
    kept = os.environ.get("LIVING_THEORIES_SCREENSHOTS")
    folder = Path(kept) if kept else tmp_path_factory.mktemp("screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    with capture.global_and_fixture_disabled():  # shown even when the test passes
        print(f"\nscreenshots of the bundled site: {folder}")
    return folder


@pytest.fixture(scope="module")
def record_id() -> re.Pattern[str]:
    """Any record's id, as a word of its own (one pattern: there are hundreds)."""
    loaded, _ = load_project(REPO)
    g = loaded.graph
    ids = set(g.cmocs) | set(g.corpus.sources) | set(g.corpus.evidence)
    assert "being-clear-vision" in ids
    alternatives = "|".join(map(re.escape, sorted(ids, key=len, reverse=True)))
    return re.compile(rf"(?<![\w/-])(?:{alternatives})(?![\w-])")


@pytest.mark.parametrize("width", [1280, 390])
def test_screenshots_of_the_main_pages(browser, serve, bundled_site, shots, record_id, width):
    base = serve(bundled_site)
    blank = browser.new_page(viewport={"width": width, "height": 900})
    blank.set_content("<html><body style='background:#fff'></body></html>")
    empty = len(blank.screenshot(full_page=True))
    blank.close()
    problems: dict[str, list] = {}
    for name, path in PAGES.items():
        page = browser.new_page(viewport={"width": width, "height": 900})
        errors: list[str] = []
        page.on("pageerror", lambda e, errors=errors: errors.append(str(e)))
        page.goto(base + path)
        if page.locator("pre.lt-mermaid").count():
            page.wait_for_selector("html[data-lt-diagrams=done]", timeout=30_000)
        png = page.screenshot(path=shots / f"{name}-{width}.png", full_page=True)
        found = []
        if len(png) < 5 * empty:
            found.append(f"nearly blank ({len(png)} bytes; a blank page {empty})")
        if len(page.locator("article").inner_text()) < 200:
            found.append("almost no text")
        if page.locator("pre.lt-mermaid").count():
            found.append("a diagram was not drawn")
        overflow = page.evaluate("document.scrollingElement.scrollWidth")
        if overflow > width:
            found.append(f"the page scrolls sideways ({overflow} px)")
        for text in page.evaluate(NAMES):
            shown = record_id.findall(text)
            if "…" in text or shown:
                found.append(f"{text[:80]!r} {shown}")
        if errors or found:
            problems[name] = errors + found
        page.close()
    assert not problems, problems
    assert len(list(shots.glob(f"*-{width}.png"))) == len(PAGES)
