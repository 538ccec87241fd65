"""The bundled site in a browser: an automated accessibility check (axe-core, vendored for tests
only in tests/vendor/), and the breadcrumb and sidebar section at desktop and phone widths."""

from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

AXE = Path(__file__).parent / "vendor" / "axe-4.14.1.min.js"
# home, theory, version, CMOC, history, evidence map, source and references pages
PAGES = ["", "theories/being/", "theories/being/v2/", "cmocs/being-clear-vision/",
         "theories/being/history/", "evidence-map/", "sources/p2-20/", "references/"]


def open_page(browser, url: str, width: int):
    page = browser.new_page(viewport={"width": width, "height": 900})
    page.goto(url)
    if page.locator("pre.lt-mermaid").count():
        page.wait_for_selector("html[data-lt-diagrams=done]", timeout=30_000)
    return page


def dark(page) -> None:
    """Switch to Material's dark palette and wait until the diagrams are drawn again in it."""
    count = page.locator(".lt-diagram").count()
    page.locator('form[data-md-component="palette"] label:not([hidden])').click()
    page.wait_for_function(f"document.querySelectorAll('.lt-diagram[data-lt-theme=dark]')"
                           f".length === {count}", timeout=30_000)


# (colours do not change with the width: the dark palette is checked once)
@pytest.mark.parametrize("width,scheme", [(1280, "light"), (390, "light"), (1280, "dark")])
def test_no_serious_or_critical_accessibility_violations(browser, serve, bundled_site, width,
                                                         scheme):
    base = serve(bundled_site)
    found = {}
    for path in PAGES:
        page = open_page(browser, base + path, width)
        if scheme == "dark":
            dark(page)
        page.add_script_tag(content=AXE.read_text(encoding="utf-8"))
        # (diagrams included: their nodes, links and colours in both palettes)
        violations = page.evaluate("""async () => (await axe.run(
            document, {resultTypes: ['violations']})).violations
            .filter(v => v.impact === 'serious' || v.impact === 'critical')
            .map(v => v.id + ': ' + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(', '))""")
        if violations:
            found[path or "home"] = violations
        page.close()
    assert not found, found


def test_axe_is_vendored_for_tests_only():
    assert AXE.read_text(encoding="utf-8").startswith("/*! axe v4.14.1")
    assert (AXE.parent / "axe-LICENSE.txt").exists()
    package = Path(__file__).parent.parent / "plugins" / "living_theories"
    assert not [p for p in package.rglob("*") if "axe" in p.name.lower()]


@pytest.mark.parametrize("width", [1280, 390])
def test_breadcrumb_and_section_are_visible(browser, serve, bundled_site, width):
    base = serve(bundled_site)
    page = open_page(browser, base + "cmocs/being-clear-vision/", width)
    crumbs = page.locator("nav.lt-breadcrumbs")
    assert crumbs.is_visible()
    assert " ".join(crumbs.inner_text().split()) == \
        "Home › Theories › Being › Version 3 › Clear leadership and vision, and a sense of purpose"
    heading = page.locator("article h1").bounding_box()
    box = crumbs.bounding_box()
    assert box["y"] + box["height"] <= heading["y"]  # above the title
    assert box["x"] >= 0 and box["x"] + box["width"] <= width  # not cut off
    assert page.evaluate("document.scrollingElement.scrollWidth") <= width
    # the trail's links lead to the pages it names
    crumbs.get_by_role("link", name="Version 3").click()
    page.wait_for_url("**/theories/being/v3/")
    page.go_back()
    if width < 1220:  # Material's sidebar is a drawer on narrow screens: open it
        page.locator("label.md-header__button[for=__drawer]").click()
        page.wait_for_timeout(0)
    sidebar = page.locator(".md-sidebar--primary")
    theories = sidebar.locator("li.md-nav__item--active > a.md-nav__link")
    assert theories.count() == 1 and theories.inner_text().strip() == "Theories"
    theories.wait_for(state="visible")
    other = sidebar.locator("li.md-nav__item:not(.md-nav__item--active) > a.md-nav__link",
                            has_text="Sources").first
    style = "e => [getComputedStyle(e).color, getComputedStyle(e).fontWeight]"
    assert theories.evaluate(style) != other.evaluate(style)  # the section stands out
    page.close()
