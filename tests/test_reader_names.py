"""What readers see (issue 17): names, never ids or placeholders, nor one thing said twice.

The project `unprinted` is a paper that names two initial CMOCs without printing them, then a
refined and a final version, released as an author would (`living-theories release`)."""

from __future__ import annotations

import html
import json
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest
from conftest import PROJECTS, article, build_site
from living_theories.cli import main
from living_theories.project import load_project


class _Text(HTMLParser):
    """The text a reader sees: no scripts, styles or diagram sources."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style", "pre"):
            self._skip += 1

    def handle_endtag(self, tag):
        if tag in ("script", "style", "pre") and self._skip:
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def seen(fragment: str) -> str:
    parser = _Text()
    parser.feed(fragment)
    return " ".join("".join(parser.parts).split())


def link_texts(fragment: str) -> list[str]:
    return [seen(t) for t in re.findall(r"<a\b[^>]*>(.*?)</a>", fragment, re.S)]


@pytest.fixture(scope="module")
def unprinted(tmp_path_factory) -> tuple[Path, Path]:
    """(project, site): the project released, then built."""
    root = tmp_path_factory.mktemp("unprinted")
    project = root / "project"
    shutil.copytree(PROJECTS / "unprinted", project)
    assert main(["release", "engaging", "--dir", str(project)]) == 0
    run = build_site(project, root / "site")
    assert run.returncode == 0, run.stderr
    return project, root / "site"


@pytest.fixture(scope="module")
def site(unprinted) -> Path:
    return unprinted[1]


def generated_pages(site: Path) -> list[Path]:
    return sorted(p for p in site.rglob("index.html")
                  if p.parent.name not in ("about", "search") and p.parent != site)


def test_no_record_id_is_shown_on_any_generated_page(unprinted):
    project, site = unprinted
    loaded, _ = load_project(project)
    g = loaded.graph
    ids = set(g.cmocs) | set(g.corpus.sources) | set(g.corpus.evidence)
    assert {"eng-voice", "eng-irpt-b", "p1-voice", "p1-22"} <= ids
    pages = generated_pages(site) + [site / "index.html"]
    assert len(pages) > 12
    for page in pages:
        text = seen(article(page))
        shown = {i for i in ids if re.search(rf"(?<![\w/-]){re.escape(i)}(?![\w-])", text)}
        assert not shown, (page, shown)


def test_a_cmoc_the_paper_does_not_print_is_named_by_its_place_and_said_once(site):
    v1 = article(site / "theories/engaging/v1/index.html")
    headings = [seen(h) for h in re.findall(r"<h3[^>]*>(.*?)</h3>", v1, re.S)]
    assert headings == ["Initial CMOC (a)", "Initial CMOC (b)"]
    text = seen(v1)
    assert "number not stated" not in text and "not printed in the paper" not in text
    assert "Not stated" not in text  # no table of empty rows
    assert text.count("prints none of their text") == 1
    assert "lt-mermaid" not in v1  # nothing to draw: no diagram of placeholders
    own = article(site / "cmocs/eng-irpt-b/index.html")
    assert seen(re.search(r"<h1[^>]*>(.*?)</h1>", own, re.S).group(1)) == \
        "Initial CMOC (b) · Engaging"
    assert "prints none of its text" in seen(own) and "Not stated" not in seen(own)


def test_a_cmoc_page_names_its_theory_in_title_tab_and_search(site):
    page = (site / "cmocs/eng-voice/index.html").read_text()
    assert "<title>Having a voice · Engaging - Unprinted theories</title>" in page
    docs = json.loads((site / "search/search_index.json").read_text())["docs"]
    titles = {d["location"]: d["title"] for d in docs}
    assert titles["cmocs/eng-irpt-a/"] == "Initial CMOC (a) · Engaging"
    p1 = seen(article(site / "sources/p1-22/index.html"))
    assert "✓ Supports Having a voice · Engaging" in p1  # the CMOC with its theory


def test_changes_lineage_and_drops_name_cmocs_and_cite_evidence_as_the_study_does(site):
    v2 = article(site / "theories/engaging/v2/index.html")
    text = seen(v2)
    assert "Not known from Initial CMOC (a)" in text
    assert "Having a voice was refined from the initial CMOCs. (CMOC 1)" in text
    assert "Dropped Initial CMOC (b): Lacked evidence." in text
    assert "Evidence: P1/22" in text
    # an id an author wrote in a code span is a link, named
    assert "one CMOC remained; Initial CMOC (b) was dropped." in text
    v1 = article(site / "theories/engaging/v1/index.html")
    assert 'see <a href="../../../cmocs/eng-voice/">Having a voice</a> for what followed' in v1
    history_page = article(site / "theories/engaging/history/index.html")
    history = seen(history_page)
    # a predecessor under the name it had: CMOC 1 in version 2, retitled in version 3
    assert "Having a voice: refined (in version 2: CMOC 1)" in history
    # the lineage diagram names them as the pages do, never by a placeholder title
    lineage = html.unescape(re.search(r'<pre class="lt-mermaid[^>]*>(.*?)</pre>',
                                      history_page, re.S).group(1))
    assert "Initial CMOC #40;a#41;" in lineage and "not printed in the paper" not in lineage


def test_a_source_page_tells_its_records_apart(site):
    p1 = article(site / "sources/p1-22/index.html")
    assert [seen(h) for h in re.findall(r"<h3[^>]*>(.*?)</h3>", p1, re.S)] == [
        "On Having a voice (1 of 2)", "On Having a voice (2 of 2)"]
    study = article(site / "sources/study-pawson1997/index.html")
    assert [seen(h) for h in re.findall(r"<h3[^>]*>(.*?)</h3>", study, re.S)] == [
        "p. 4 · on Having a voice"]


def test_history_word_diffs_format_citations(site):
    history = article(site / "theories/engaging/history/index.html")
    assert "[@" not in history and "&#64;" not in history
    assert re.search(r"<td>Staff <ins>often</ins> asked for their ideas <span class=\"lt-cite\">"
                     r"<a [^>]*>\(Pawson and Tilley, 1997\)</a>", history), history


def test_dois_and_urls_are_links_and_published_in_shows_the_reference(site):
    refs = article(site / "references/index.html")
    assert '<a href="https://doi.org/10.1108/JICA-01-2024-0001">' in refs
    assert '<a href="https://example.org/realistic-evaluation">' in refs
    v3 = article(site / "theories/engaging/index.html")
    cite_box = re.search(r'<p class="lt-citation">(.*?)</p>', v3, re.S).group(1)
    assert '<a href="https://doi.org/10.5281/zenodo.1234">' in cite_box
    v2 = article(site / "theories/engaging/v2/index.html")
    published = seen(v2[v2.index('id="published-in"'):v2.index('id="cite-this-version"')])
    assert "Knight, L. and Tucker, M. (2024) “A rapid realist review”, Journal of Integrated " \
           "Care" in published
    assert re.search(r'<a href="https://doi.org/10.1108/JICA-01-2024-0001">', v2)


def test_index_columns_say_something_and_sources_sort_naturally(site):
    theories = article(site / "theories/index.html")
    assert "<th>Domain</th>" not in theories  # the domain's title is the theory's
    sources = article(site / "sources/index.html")
    assert "Details" not in sources  # no participant has a role, site or mode
    text = seen(sources)
    assert text.index("P1/9") < text.index("P1/22")
    emap = seen(article(site / "evidence-map/index.html"))
    assert emap.index("P1/9") < emap.index("P1/22")


def test_home_says_when_a_version_prints_no_statement_and_shows_its_cmocs(site):
    home = seen(article(site / "index.html"))
    assert "The published record gives no statement for this version. Its CMOCs: " \
           "Having a voice." in home


def test_feedback_is_shown_once_and_a_closed_round_offers_no_template(tmp_path):
    project = tmp_path / "project"
    shutil.copytree(PROJECTS / "minimal", project)
    with (project / "evidence/consultation.yaml").open("a") as f:
        f.write("  - id: round-2-icb-visibility\n    source: round-2\n    group: ICB members\n"
                "    quote: Seeing the chief executive on the wards changed how we felt.\n"
                "    summary: 'Answer: agree.'\n    bears_on:\n"
                "      - cmoc: demo-visibility\n        role: supports\n")
    assert main(["release", "demo", "--dir", str(project)]) == 0  # version 2 supersedes 1
    run = build_site(project, tmp_path / "site")
    assert run.returncode == 0, run.stderr
    site = tmp_path / "site"
    round_2 = seen(article(site / "consultations/round-2/index.html"))
    assert round_2.count("Seeing the chief executive") == 1
    assert "Answer:" not in round_2  # the role (✓ supports) says it
    assert (site / "consultations/round-2/feedback-template.csv").exists()
    round_1 = article(site / "consultations/round-1/index.html")
    assert "feedback-template.csv" not in round_1  # round 1 reviewed a superseded version
    assert not (site / "consultations/round-1/feedback-template.csv").exists()
    assert "This round is closed" in seen(round_1)
    cmoc = seen(article(site / "cmocs/demo-visibility/index.html"))
    assert cmoc.count("Seeing the chief executive") == 1 and "Answer:" not in cmoc
