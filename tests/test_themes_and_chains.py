"""A realist-informed study: themes that group CMOCs, CMOCs told only as narratives, chains
from primary to secondary effects, and evidence with the analysis codes it was coded with."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pytest
from conftest import article, built_project, copied_project, edit


@pytest.fixture(scope="module")
def thematic_site(tmp_path_factory) -> Path:
    return built_project(tmp_path_factory, "thematic")


@pytest.fixture
def thematic(tmp_path: Path) -> Path:
    dest = copied_project(tmp_path, "thematic")
    (dest / "living-theories.lock").unlink()  # edits below go to a draft
    edit(dest / "theories" / "wellbeing" / "v1.yaml", "status: released", "status: draft")
    return dest


def words(page: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def test_version_page_groups_cmocs_by_theme(thematic_site):
    page = article(thematic_site / "theories" / "wellbeing" / "index.html")
    headings = [(level, words(text)) for level, text in
                re.findall(r"<h([34])[^>]*>(.*?)</h\1>", page, re.S)]
    assert headings == [("3", "Feeling valued"), ("4", "Recognition"), ("4", "Staying in post"),
                        ("3", "Space to recover"), ("4", "A quiet room")]
    assert "How a hub tells staff that the organisation cares." in words(page)
    # one record is one extract (not "1 interview extracts")
    assert "1 evidence record bears on the CMOCs of this version (1 interview extract)" \
        in words(page)


def test_a_narrative_only_cmoc_shows_no_empty_elements(thematic_site):
    page = article(thematic_site / "cmocs" / "hub-quiet-room" / "index.html")
    assert "Not stated" not in page
    assert "theme: Space to recover" in words(page)


def test_chains_link_both_ways_and_are_drawn(thematic_site):
    first = article(thematic_site / "cmocs" / "hub-recognition" / "index.html")
    second = article(thematic_site / "cmocs" / "hub-retention" / "index.html")
    assert re.search(r'Leads to:</strong> <a href="\.\./hub-retention/">Staying in post</a>',
                     first), first
    assert re.search(r'Follows from:</strong> <a href="\.\./hub-recognition/">Recognition</a>',
                     second), second
    version = article(thematic_site / "theories" / "wellbeing" / "index.html")
    diagram = html.unescape(re.search(r'<pre class="lt-mermaid[^>]*>(.*?)</pre>', version,
                                      re.S).group(1))
    groups = dict(re.findall(r'subgraph (g\d+)\["([^"]+)"\]', diagram))
    chains = re.findall(r"(g\d+) -->\|leads to\| (g\d+)", diagram)
    assert [(groups[a], groups[b]) for a, b in chains] == [("Recognition", "Staying in post")]


def test_codes_are_shown_and_searchable(thematic_site):
    for page in ("cmocs/hub-recognition/index.html", "sources/s07/index.html"):
        text = " ".join(html.unescape(re.sub(r"<[^>]+>", "", article(thematic_site / page)))
                        .split())
        assert "Codes: Feeling valued/Recognition; Leadership visibility" in text, page
    index = json.loads((thematic_site / "search" / "search_index.json").read_text())
    assert any("Leadership visibility" in doc["text"] for doc in index["docs"])


@pytest.mark.parametrize("old,new,message", [
    ("theme: space-to-recover", "theme: space", "the theme 'space' does not exist"),
    ("leads_to: [hub-retention]", "leads_to: [hub-recognition]",
     "the CMOC 'hub-recognition' leads to itself"),
    ("leads_to: [hub-retention]", "leads_to: [nowhere]", "the CMOC 'nowhere' does not exist"),
])
def test_bad_themes_and_chains_are_reported(thematic, cli, old, new, message):
    edit(thematic / "theories" / "wellbeing" / "v1.yaml", old, new)
    code, _, err = cli("validate", str(thematic))
    assert code == 1
    assert re.search(r"theories/wellbeing/v1\.yaml:\d+: " + re.escape(message), err), err
