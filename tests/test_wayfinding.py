"""Finding your way (issue 17): every generated page has a breadcrumb trail and its section
highlighted in the sidebar; no page is built for what a project does not have."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from test_reader_names import generated_pages, seen, unprinted  # noqa: F401 - the fixture


@pytest.fixture(scope="module")
def site(unprinted) -> Path:  # noqa: F811
    return unprinted[1]


def trail(page: Path) -> tuple[str, list[tuple[str, str]]]:
    """The breadcrumb trail's text, and its links (href, text)."""
    found = re.search(r'<nav aria-label="Breadcrumb" class="lt-breadcrumbs">(.*?)</nav>',
                      page.read_text(), re.S)
    assert found, page
    return seen(found.group(1)), [(h, seen(t)) for h, t in
                                  re.findall(r'<a href="([^"]+)">(.*?)</a>', found.group(1))]


def active_sections(page: Path) -> list[str]:
    """The links of the primary sidebar's items marked active."""
    sidebar = page.read_text().split('data-md-type="navigation"', 1)[1]
    sidebar = sidebar.split('<div class="md-sidebar md-sidebar--secondary"', 1)[0]
    return re.findall(r'<li class="md-nav__item md-nav__item--active">\s*<a href="([^"]+)"',
                      sidebar)


def test_every_generated_page_has_a_trail_from_home_whose_links_lead_somewhere(site):
    pages = generated_pages(site)
    assert len(pages) > 12
    for page in pages:
        text, links = trail(page)
        assert text.startswith("Home ›"), (page, text)
        assert "›" in text and not text.endswith("›")
        for href, _ in links:
            assert (page.parent / href / "index.html").resolve().exists(), (page, href)


@pytest.mark.parametrize("path, expected", [
    ("cmocs/eng-voice", "Home › Theories › Engaging › Version 3 › Having a voice"),
    ("cmocs/eng-irpt-a", "Home › Theories › Engaging › Version 1 › Initial CMOC (a)"),
    ("theories/engaging/v2", "Home › Theories › Engaging › Version 2"),
    ("theories/engaging/compare/v1-v3", "Home › Theories › Engaging › History › Versions 1 "
                                        "and 3"),
    ("sources/p1-22", "Home › Sources › P1/22"),
    ("references", "Home › References"),
])
def test_the_trail_names_where_a_page_sits(site, path, expected):
    assert trail(site / path / "index.html")[0] == expected


@pytest.mark.parametrize("path, section", [
    ("cmocs/eng-voice", "../../theories/"),
    ("theories/engaging/history", "../../"),
    ("theories/engaging/v1", "../../"),
    ("sources/study-pawson1997", "../"),
    ("evidence-map", None),  # in the nav itself: Material marks it as the page
])
def test_a_generated_page_marks_its_section_in_the_sidebar(site, path, section):
    page = site / path / "index.html"
    assert active_sections(page) == ([section] if section else [])


def test_no_consultations_page_without_rounds(site):
    assert not (site / "consultations").exists()
    for page in site.rglob("*.html"):
        assert "consultations/" not in page.read_text(), page


def test_a_new_site_builds_strictly_without_rounds(tmp_path, cli):
    from conftest import build_site

    assert cli("new", str(tmp_path / "new"))[0] == 0
    with (tmp_path / "new/mkdocs.yml").open("a") as f:  # as the guide sets it first
        f.write("site_url: https://example.org/new/\n")
    run = build_site(tmp_path / "new", tmp_path / "site")
    assert run.returncode == 0, run.stderr
    assert not (tmp_path / "site/consultations").exists()
