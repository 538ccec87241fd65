"""The built site in a real browser: diagrams, links, search, no network, no injected script."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlparse

import pytest
from conftest import REPO
from test_escaping import hostile_site  # noqa: F401 - the fixture, shared

pytestmark = pytest.mark.browser


class Visit:
    """One page load, recording errors and every request that leaves 127.0.0.1."""

    def __init__(self, browser, url: str):
        self.page = browser.new_page()
        self.errors: list[str] = []
        self.outside: list[str] = []
        self.page.on("pageerror", lambda e: self.errors.append(f"pageerror: {e}"))
        self.page.on("console", lambda m: self.errors.append(f"console: {m.text}")
                     if m.type == "error" else None)
        self.page.on("request", lambda r: None if urlparse(r.url).hostname == "127.0.0.1"
                     or r.url.startswith(("data:", "blob:")) else self.outside.append(r.url))
        self.page.goto(url)
        self.page.wait_for_selector("html[data-lt-diagrams=done]", timeout=30_000)

    def close(self) -> None:
        self.page.close()


def diagram_pages(site: Path) -> list[str]:
    return sorted(str(p.relative_to(site).parent) for p in site.rglob("index.html")
                  if 'class="lt-mermaid"' in p.read_text())


def test_every_diagram_renders_without_errors_or_network(browser, serve, bundled_site):
    base = serve(bundled_site)
    paths = diagram_pages(bundled_site)
    # 4 theories x (index, v2, v3, history) + the 21 CMOCs whose text is printed: version 1
    # and its 9 CMOCs that the review names without printing draw nothing
    assert len(paths) >= 37
    for path in paths:
        visit = Visit(browser, base + path + "/")
        pre = visit.page.locator("pre.lt-mermaid").count()
        svgs = visit.page.locator(".lt-diagram svg").count()
        failed = visit.page.locator('svg[aria-roledescription="error"]').count()
        assert (pre, failed) == (0, 0), path
        assert svgs >= 1, path
        assert visit.errors == [], (path, visit.errors)
        assert visit.outside == [], (path, visit.outside)
        visit.close()


def test_home_and_index_pages_make_no_outside_requests(browser, serve, bundled_site):
    base = serve(bundled_site)
    for path in ["", "theories/", "sources/", "references/", "evidence-map/", "about/"]:
        visit = Visit(browser, base + path)
        assert visit.errors == [] and visit.outside == [], (path, visit.errors, visit.outside)
        visit.close()


def squeeze(text: str) -> str:
    return "".join(text.split())


def test_diagram_nodes_link_to_cmoc_pages(browser, serve, bundled_site):
    # Each CMOC of the theory's current version (read from its YAML, not from the site): a
    # node showing one of its own elements, clicked, opens that CMOC's page.
    from living_theories.project import load_project

    project, _ = load_project(REPO)
    theory = project.graph.theories["being"]
    cmocs = [v for v in theory.versions if v.status == "released"][-1].cmocs
    assert len(cmocs) >= 3
    base = serve(bundled_site)
    visit = Visit(browser, base + "theories/being/")
    nodes = visit.page.locator('.lt-diagram g.node[role="link"]')
    labels = [squeeze(t) for t in nodes.all_text_contents()]
    assert len(labels) >= 3 * len(cmocs)
    for cmoc in cmocs:
        elements = [squeeze(e) for e in cmoc.contexts + cmoc.mechanism_resources
                    + cmoc.mechanism_reasonings + cmoc.outcomes if "@" not in e]
        # an element only this CMOC has, shown by exactly one node
        others = {squeeze(e) for c in cmocs if c is not cmoc
                  for e in c.contexts + c.mechanism_resources + c.mechanism_reasonings
                  + c.outcomes}
        own = [e[:40] for e in elements if e not in others]
        index = next(i for i, label in enumerate(labels)
                     if any(e in label for e in own))
        nodes.nth(index).click()
        visit.page.wait_for_url(base + f"cmocs/{cmoc.id}/")
        visit.page.go_back()
        visit.page.wait_for_selector("html[data-lt-diagrams=done]", timeout=30_000)
    assert visit.errors == []
    visit.close()


def test_search_finds_a_cmoc(browser, serve, bundled_site):
    base = serve(bundled_site)
    visit = Visit(browser, base)
    search = visit.page.locator("input.md-search__input")
    search.focus()
    # The search index loads in a worker: a query typed while it says "Initializing search"
    # would be lost.
    visit.page.wait_for_function("document.querySelector('.md-search-result__meta')"
                                 "?.textContent.includes('Type to start searching')")
    search.press_sequentially("patient stories")  # Material searches on key presses
    result = visit.page.locator('.md-search-result__item a[href*="cmocs/being-patient-stories"]')
    result.first.wait_for(timeout=60_000)
    assert visit.errors == [] and visit.outside == []
    visit.close()


def test_no_injected_script_runs_and_hostile_diagrams_render(browser, serve, hostile_site):  # noqa: F811
    base = serve(hostile_site)
    paths = [str(p.relative_to(hostile_site).parent) for p in hostile_site.rglob("index.html")
             if "assets" not in p.parts and "search" not in p.parts]
    assert len(paths) > 10
    for path in paths:
        visit = Visit(browser, base + ("" if path == "." else path + "/"))
        assert visit.page.evaluate("window.__pwned") is None, path
        assert visit.page.locator('svg[aria-roledescription="error"]').count() == 0, path
        assert visit.page.locator("pre.lt-mermaid").count() == 0, path
        assert visit.errors == [], (path, visit.errors)
        visit.close()
