"""The RAMESES reporting map of each theory (pages/rameses.py): the items of RAMESES II (realist
evaluations) or of the RAMESES publication standards (realist syntheses) that concern the
programme theory, each with links to where the site shows it or "Not recorded in this site"
and what the author would add; only published versions and public records; a citable page
that says which versions it covers."""

from __future__ import annotations

import html
import posixpath
import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from conftest import article, build_site, built_project, copied_project, edit
from living_theories.pages.rameses import EVALUATIONS, SYNTHESES, standards_for


@pytest.fixture(scope="module")
def minimal(tmp_path_factory) -> Path:
    return built_project(tmp_path_factory, "minimal")


@pytest.fixture(scope="module")
def review(tmp_path_factory) -> Path:
    return built_project(tmp_path_factory, "review")


def words(fragment: str) -> str:
    blocks = re.sub(r"</?(p|h\d|li|ul|tr|td|th|table|div)\b[^>]*>", " ", fragment)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", blocks)).split())


def rameses(site: Path, theory: str) -> str:
    return article(site / "theories" / theory / "rameses" / "index.html")


def item(page: str, anchor: str) -> str:
    """The words of one item's section: from its heading to the next heading."""
    start = page.index(f'id="{anchor}"')
    end = page.find("<h", page.index("</h3>", start))
    return words(page[start - 4: end if end > 0 else None])


def summary(page: str) -> dict[str, str]:
    """The table at the top: item -> 'Shown', 'Partly' or 'Not recorded in this site'."""
    rows = re.findall(r"<tr>(.*?)</tr>", page, re.S)
    cells = [[words(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", r, re.S)] for r in rows]
    return {c[0]: c[1] for c in cells if len(c) == 2}


def test_an_evaluation_maps_the_rameses_ii_items_on_programme_theory(minimal):
    page = rameses(minimal, "demo")
    text = words(page)
    assert "RAMESES II reporting standards for realist evaluations" in text
    assert "https://doi.org/10.1186/s12916-016-0643-1" in page
    table = summary(page)
    assert list(table) == [f"{n}. {name}" for n, name, _, _ in EVALUATIONS.items]
    assert table["4. Programme theory"] == "Shown"
    assert table["12. Recruitment process and sampling strategy"] == "Partly"
    # the initial theory and where it came from, as the records say
    initial = item(page, "rameses-ii-item-4")
    assert "Version 1 (initial, 2023-01), with 2 CMOCs" in initial
    assert "5 key-informant interviews" in initial and "Systems leadership theory" in initial
    participants = item(page, "rameses-ii-item-14")
    assert "ICB member 1" in participants
    # items about the paper itself are named, not mapped
    assert "6. Ethical approval" in text and "20. Funding and conflict of interest" in text
    assert "rameses-ii-item-6" not in page


def test_a_review_maps_the_publication_standards_for_realist_syntheses(review):
    page = rameses(review, "engagement")
    text = words(page)
    assert "RAMESES publication standards: realist syntheses" in text
    assert "RAMESES II" not in text
    assert list(summary(page)) == [f"{n}. {name}" for n, name, _, _ in SYNTHESES.items]
    assert "covers versions 1 and 2 of the theory" in text
    synthesis = item(page, "rameses-item-11")
    assert "1 refined, 1 new and 1 incorporated" in synthesis
    assert "Stakeholder advisory panel" in synthesis
    assert "CMO box 1: Consultation without follow-up" in synthesis
    documents = item(page, "rameses-item-13")
    assert "Jones (2021)" in documents and "Smith (2019)" in documents
    extraction = item(page, "rameses-item-10")
    assert "7 evidence records bear on this theory" in extraction


def test_what_the_site_does_not_record_is_said_with_what_to_add(review, minimal):
    page = rameses(review, "engagement")
    table = summary(page)
    assert table["8. Searching processes"] == "Not recorded in this site"
    assert "Not recorded in this site: How the literature was searched" in \
        item(page, "rameses-item-8")
    # no evidence base, substantive theory or publication for the first version
    assert table["7. Scoping the literature"] == "Partly"
    assert "Not recorded in this site: Where the initial theory came from. The author would " \
        "say what it was built from" in item(page, "rameses-item-7")
    assert "Not recorded in this site: An appraisal of 2 included studies" in \
        item(page, "rameses-item-9")
    # a new CMOC with no reason given: counted, not hidden
    assert "The reason for 1 of the 3 CMOC changes" in item(page, "rameses-item-11")
    # one published version: no refinement to show yet, and the page says so
    assert "only one version is published here" in item(rameses(minimal, "demo"),
                                                        "rameses-ii-item-13")
    for site, theory in ((review, "engagement"), (minimal, "demo")):
        assert not re.search(r"TODO|TBD|lorem|\?\?|None\b|\{\{", words(rameses(site, theory)))


def test_theory_and_history_pages_link_to_the_map_frozen_versions_do_not(minimal):
    for page in ("theories/demo/index.html", "theories/demo/history/index.html"):
        assert 'href="../rameses/"' in article(minimal / page) or \
            'href="rameses/"' in article(minimal / page), page
    assert "rameses" not in (minimal / "theories/demo/v1/index.html").read_text().lower()
    crumbs = (minimal / "theories/demo/rameses/index.html").read_text()
    trail = re.search(r'<nav aria-label="Breadcrumb".*?</nav>', crumbs, re.S).group(0)
    assert words(trail) == "Home › Theories › Relationships build trust › RAMESES reporting map"


def _targets(site: Path, page: Path, fragment: str) -> list[tuple[Path, str]]:
    """Every local link of a page: (the file it opens, its anchor)."""
    out = []
    base = "/" + page.parent.relative_to(site).as_posix() + "/"
    for href in re.findall(r'href="([^"]+)"', fragment):
        parts = urlsplit(html.unescape(href))
        if parts.scheme or href.startswith("mailto:"):
            continue
        path = posixpath.normpath(posixpath.join(base, unquote(parts.path))) if parts.path \
            else base + "index.html"
        target = site / path.lstrip("/")
        out.append((target / "index.html" if target.is_dir() else target, parts.fragment))
    return out


@pytest.mark.parametrize("project,theory", [("minimal", "demo"), ("review", "engagement"),
                                            ("thematic", "wellbeing")])
def test_every_link_of_the_map_opens_a_page_of_the_site(tmp_path_factory, project, theory):
    site = built_project(tmp_path_factory, project)
    page = site / "theories" / theory / "rameses" / "index.html"
    links = _targets(site, page, article(page))
    assert len(links) >= 8
    for target, anchor in links:
        assert target.is_file(), target
        if anchor:
            assert f'id="{anchor}"' in target.read_text(encoding="utf-8"), (target, anchor)


def test_a_public_map_tells_nothing_of_drafts_or_internal_records(tmp_path):
    project = copied_project(tmp_path, "confidential")
    run = build_site(project, tmp_path / "site")
    assert run.returncode == 0, run.stderr
    page = (tmp_path / "site/theories/demo/rameses/index.html").read_text(encoding="utf-8")
    assert not re.search(r"zq(internal|draft)", page, re.I)
    text = words(article(tmp_path / "site/theories/demo/rameses/index.html"))
    assert "covers version 1 of the theory" in text
    assert "Version 2" not in text and "v2/" not in page and "draft" not in text.lower()
    # the round that reviewed only the draft version is not told; the one that reviewed v1 is
    assert "Consultation round 1" in text and "Consultation round 2" not in text
    assert not (tmp_path / "site/theories/secret").exists()


def test_a_review_build_shows_the_draft_as_a_draft(tmp_path):
    project = copied_project(tmp_path, "minimal")
    run = build_site(project, tmp_path / "site", env={"LIVING_THEORIES_REVIEW": "1"})
    assert run.returncode == 0, run.stderr
    text = words(rameses(tmp_path / "site", "demo"))
    assert "covers versions 1 and 2 of the theory" in text
    assert "version 2 is a draft, shown in this review build only" in text
    assert "Version 2 (refined, 2024-02-01, draft)" in text


def test_the_map_is_cited_at_its_own_address_with_the_versions_it_covers(tmp_path):
    project = copied_project(tmp_path, "minimal")
    edit(project / "mkdocs.yml", "site_url: https://minimal.example.org/",
         "site_url: https://example.org/demo/")
    edit(project / "theories/project.yaml", "  - family: Rivera\n    given: Ana",
         "  - family: Example\n    given: Ada")
    edit(project / "theories/project.yaml", "framework:",
         "design: realist review and realist evaluation\nframework:")
    run = build_site(project, tmp_path / "site")
    assert run.returncode == 0, run.stderr
    page = rameses(tmp_path / "site", "demo")
    cite = words(re.search(r'<p class="lt-citation">.*?</p>', page, re.S).group(0))
    assert cite.startswith("Example, A.")
    assert "Relationships build trust: RAMESES II and RAMESES reporting map, version 1" in cite
    assert "https://example.org/demo/theories/demo/rameses/" in cite
    # a design that names both: both standards, each with its own items
    assert "rameses-ii-item-4" in page and "rameses-item-7" in page


def test_the_design_chooses_the_standard():
    assert standards_for("realist review") == [SYNTHESES]
    assert standards_for("Rapid realist review") == [SYNTHESES]
    assert standards_for("realist synthesis") == [SYNTHESES]
    assert standards_for("realist evaluation") == [EVALUATIONS]
    assert standards_for("rapid realist review and realist evaluation") == [EVALUATIONS,
                                                                             SYNTHESES]
    assert standards_for(None) == [EVALUATIONS]
    assert standards_for("realist-informed study") == [EVALUATIONS]
    assert standards_for("preview study") == [EVALUATIONS]  # words, not letters
