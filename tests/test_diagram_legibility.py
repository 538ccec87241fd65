"""Diagrams in a real browser, on a desktop (1280 px) and a phone (390 px): node text never
below 12 CSS px (diagrams scroll or turn top-down, never shrink), nothing cut with '…', a
legend beside each, redrawn in dark colours when the palette is switched, readable names for
screen readers, and a lineage of 20 CMOCs per version still legible. Every kind of diagram:
a CMOC, the whole theory (themes and overarching contexts around CMOCs, chains), the
lineage, and the consultation pack."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import PROJECTS, build_site

pytestmark = pytest.mark.browser

WIDTHS = (1280, 390)
# (version 1 pages draw no diagram: the paper prints none of those CMOCs' text)
PAGES = ("theories/being/", "theories/being/v2/", "theories/delivering/",
         "cmocs/delivering-acute-stability/", "cmocs/being-patient-stories/",
         "theories/being/history/")

# For each drawn diagram: its scale on screen (1 = natural size), the smallest node text in
# CSS px as rendered, and its words.
MEASURE = """() => [...document.querySelectorAll('.lt-diagram svg')].map(svg => {
  const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
  const sizes = [...svg.querySelectorAll('g.node .nodeLabel')]
    .map(t => parseFloat(getComputedStyle(t).fontSize) * scale);
  const text = [...svg.querySelectorAll('g.node, g.cluster-label, .edgeLabel')]
    .map(e => e.textContent).join(' ');
  return {scale, smallest: Math.min(...sizes), nodes: sizes.length, text};
})"""


# Box titles that overlap a node (a title of two lines once covered the box's first node).
OVERLAPS = """() => {
  const boxes = sel => [...document.querySelectorAll(sel)].map(e => [e.textContent,
    e.getBoundingClientRect()]);
  const titles = boxes('.lt-diagram g.cluster-label'), nodes = boxes('.lt-diagram g.node');
  return titles.flatMap(([t, a]) => nodes.filter(([n, b]) => a.left < b.right &&
    b.left < a.right && a.top < b.bottom && b.top < a.bottom).map(([n]) => [t, n]));
}"""


def open_page(browser, url: str, width: int):
    page = browser.new_page(viewport={"width": width, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url)
    page.wait_for_selector("html[data-lt-diagrams=done]", timeout=30_000)
    return page, errors


@pytest.mark.parametrize("width", WIDTHS)
def test_node_text_is_never_shrunk_below_12px_nor_cut(browser, serve, bundled_site, width):
    base = serve(bundled_site)
    for path in PAGES:
        page, errors = open_page(browser, base + path, width)
        diagrams = page.evaluate(MEASURE)
        assert diagrams and errors == [], (path, errors)
        for d in diagrams:
            assert d["nodes"] > 0, path
            assert d["smallest"] >= 12, (path, width, d["smallest"], d["scale"])
            assert "…" not in d["text"], path
        assert page.evaluate(OVERLAPS) == [], path
        # every diagram has its legend right after it, as HTML
        legends = page.locator(".lt-diagram + .lt-legend, .lt-diagram + .lt-diagram-links + "
                               ".lt-legend")
        assert legends.count() == len(diagrams), path
        # a wide diagram scrolls in its own box: the page itself never scrolls sideways
        assert page.evaluate("document.scrollingElement.scrollWidth") <= width, path
        page.close()


@pytest.fixture(scope="module")
def kinds_site(tmp_path_factory) -> Path:
    """A study with themes and an overarching context, whose draft version 2 is reviewed in
    a consultation round: every kind of diagram (published in a review build)."""
    root = tmp_path_factory.mktemp("kinds")
    project = root / "project"
    shutil.copytree(PROJECTS / "thematic", project)
    with (project / "theories/project.yaml").open("a", encoding="utf-8") as f:
        f.write("overarching_contexts:\n  - id: staffing\n    title: Chronic understaffing "
                "after the pandemic, felt on every ward\n")

    def cmoc(cid: str, theme: str, extra: str = "") -> str:
        return (f"  - id: {cid}\n    title: {cid.replace('-', ' ').capitalize()}\n"
                f"    theme: {theme}\n    overarching_contexts: [staffing]\n"
                f"    contexts: [Wards where staff rarely see senior leaders in person]\n"
                f"    mechanism_resources: [Leaders visit the hub and talk with staff]\n"
                f"    mechanism_reasonings: [Staff feel that the organisation notices them]\n"
                f"    outcomes: [Staff report feeling valued and stay in post]\n{extra}")

    (project / "theories/wellbeing/v2.yaml").write_text(
        "stage: refined\nthemes:\n  - id: feeling-valued\n    title: Feeling valued\n"
        "  - id: space-to-recover\n    title: Space to recover\ncmocs:\n"
        + cmoc("hub-recognition", "feeling-valued", "    leads_to: [hub-retention]\n")
        + cmoc("hub-retention", "feeling-valued") + cmoc("hub-quiet-room", "space-to-recover"),
        encoding="utf-8")
    (project / "evidence/round.yaml").write_text(
        "sources:\n  - id: round-1\n    kind: consultation\n    title: Consultation round 1\n"
        "    date: 2025-09\n    groups: [ward staff]\n    reviewed:\n"
        "      - {theory: wellbeing, version: 2}\n", encoding="utf-8")
    run = build_site(project, root / "site", env={"LIVING_THEORIES_REVIEW": "1"})
    assert run.returncode == 0, run.stderr
    return root / "site"


KINDS = {"theories/wellbeing/": "whole theory", "cmocs/hub-recognition/": "CMOC",
         "theories/wellbeing/history/": "lineage", "consultations/round-1/pack/": "pack"}


@pytest.mark.parametrize("width", WIDTHS)
def test_every_kind_of_diagram_stays_legible(browser, serve, kinds_site, width):
    base = serve(kinds_site)
    for path, kind in KINDS.items():
        page, errors = open_page(browser, base + path, width)
        diagrams = page.evaluate(MEASURE)
        assert diagrams and errors == [], (kind, errors)
        for d in diagrams:
            assert d["smallest"] >= 12, (kind, width, d["smallest"], d["scale"])
            assert "…" not in d["text"], kind
        assert page.evaluate(OVERLAPS) == [], kind
        assert page.evaluate("document.scrollingElement.scrollWidth") <= width, kind
        if kind in ("whole theory", "pack"):  # the themes around their CMOCs, in the context
            assert page.locator(".lt-diagram g.cluster.theme").count() == 2, kind
            assert "Overarching contexts: Chronic" in diagrams[0]["text"], kind
        page.close()


def test_a_cmoc_too_wide_for_a_phone_is_laid_out_top_down(browser, serve, bundled_site):
    base = serve(bundled_site)
    page, _ = open_page(browser, base + "cmocs/delivering-acute-stability/", 390)
    assert page.locator(".lt-diagram").get_attribute("data-lt-direction") == "TB"
    # the reasoning sits below the context and the resource that converge on it
    tops = page.evaluate("""() => Object.fromEntries([...document.querySelectorAll(
        '.lt-diagram g.node')].map(n => [n.getAttribute('class').split(' ').pop(),
        n.getBoundingClientRect().top]))""")
    assert tops["ctx"] < tops["reanone"] < tops["outminus"]
    assert tops["res"] < tops["reanone"]
    page.close()


def test_palette_switch_redraws_diagrams_in_dark_colours(browser, serve, bundled_site):
    base = serve(bundled_site)
    page, errors = open_page(browser, base + "theories/being/", 1280)
    count = page.locator(".lt-diagram").count()
    assert count >= 1

    def luminance(css_colour: str) -> float:
        r, g, b = (int(x) for x in css_colour[css_colour.index("(") + 1:-1].split(",")[:3])
        return (0.299 * r + 0.587 * g + 0.114 * b) / 255

    def colours() -> tuple[str, str]:
        return page.evaluate("""() => {
          const svg = document.querySelector('.lt-diagram svg');
          const edge = svg.querySelector('.flowchart-link');
          const node = svg.querySelector('g.node .label-container');
          return [getComputedStyle(edge).stroke, getComputedStyle(node).fill]; }""")

    edge, node = colours()
    assert luminance(edge) < 0.5 and luminance(node) > 0.7  # light palette: dark lines
    page.evaluate("document.querySelector('.lt-diagram svg').setAttribute('data-old', '1')")
    page.locator('form[data-md-component="palette"] label:not([hidden])').click()
    assert page.evaluate("document.body.getAttribute('data-md-color-scheme')") == "slate"
    page.wait_for_function(f"document.querySelectorAll('.lt-diagram[data-lt-theme=dark]')"
                           f".length === {count}", timeout=30_000)
    assert page.locator("svg[data-old]").count() == 0  # drawn again, not only restyled
    edge, node = colours()
    assert luminance(edge) > 0.5 and luminance(node) < 0.3, (edge, node)
    assert errors == []
    page.close()


def test_node_names_for_screen_readers_keep_their_spaces(browser, serve, bundled_site):
    base = serve(bundled_site)
    page, _ = open_page(browser, base + "theories/being/", 1280)
    names = page.locator('.lt-diagram g.node[role="link"]').evaluate_all(
        "ns => ns.map(n => n.getAttribute('aria-label'))")
    assert "Open: A feeling of mutual respect where all opinions were considered of value" \
        in names
    page.close()


@pytest.fixture(scope="module")
def wide_site(tmp_path_factory) -> Path:
    """A generated project: a theory of three versions with 20 CMOCs each, kept, refined,
    new, merged and dropped."""
    root = tmp_path_factory.mktemp("wide")
    project = root / "project"
    shutil.copytree(PROJECTS / "minimal", project)
    folder = project / "theories" / "wide"
    folder.mkdir()
    (folder / "theory.yaml").write_text("title: A theory of twenty CMOCs\n")

    def cmoc(cid: str, extra: str = "") -> str:
        return (f"  - id: {cid}\n    title: Leaders and partners configuration {cid} with a "
                f"title of some length\n    contexts: [A context for {cid}]\n"
                f"    outcomes: [An outcome for {cid}]\n{extra}")

    (folder / "v1.yaml").write_text("stage: initial\ncmocs:\n" + "".join(
        cmoc(f"w{i}") for i in range(20)))
    v2 = [cmoc(f"w{i}") for i in range(16)]
    v2 += [cmoc("w16", "    lineage: {relation: merged, from: [w16, w17]}\n")]
    v2 += [cmoc(f"x{i}", "    lineage: {relation: new}\n") for i in range(3)]
    (folder / "v2.yaml").write_text("stage: refined\ncmocs:\n" + "".join(v2) + (
        "dropped:\n  - cmoc: w18\n    reason: Lacked evidence.\n"
        "  - cmoc: w19\n    reason: Lacked evidence.\n"))
    (folder / "v3.yaml").write_text("stage: final\ncmocs:\n" + "".join(
        cmoc(c) for c in [f"w{i}" for i in range(17)] + [f"x{i}" for i in range(3)]))
    # drafts (the versions are not released) are published in a review build
    run = build_site(project, root / "site", env={"LIVING_THEORIES_REVIEW": "1"})
    assert run.returncode == 0, run.stderr
    return root / "site"


@pytest.mark.parametrize("width", WIDTHS)
def test_a_lineage_of_20_cmocs_per_version_stays_legible(browser, serve, wide_site, width):
    base = serve(wide_site)
    page, errors = open_page(browser, base + "theories/wide/history/", width)
    (d,) = page.evaluate(MEASURE)
    assert errors == []
    assert d["nodes"] == 60
    assert d["smallest"] >= 12, (width, d)
    # a column per version: the nodes stand in three columns, one below another
    columns = page.evaluate("""() => [...document.querySelectorAll('.lt-diagram g.node')]
        .map(n => Math.round(n.getBoundingClientRect().left))""")
    assert len(set(columns)) == 3, sorted(set(columns))
    box = page.locator(".lt-diagram svg").bounding_box()
    assert box["height"] > 2 * box["width"]  # tall columns to scroll, not a strip
    page.close()
