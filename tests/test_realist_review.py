"""A realist review as its papers print it: a papers-by-mechanisms matrix (a tick = the paper
informs the mechanism, no stance, with N per mechanism), a standing stakeholder panel, sources
with a site and a mode of data collection, and the study design on the home page."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from conftest import PROJECTS, article, built_project, copied_project, edit


@pytest.fixture(scope="module")
def review_site(tmp_path_factory) -> Path:
    return built_project(tmp_path_factory, "review")


@pytest.fixture
def review(tmp_path: Path) -> Path:
    return copied_project(tmp_path, "review")


def words(page: str) -> str:
    """The page's text as a reader sees it: blocks apart, inline markup run together."""
    blocks = re.sub(r"</?(p|h\d|li|ul|tr|td|th|table|div|blockquote|br)\b[^>]*>", " ", page)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", blocks)).split())


def _table(page: str) -> list[list[str]]:
    rows = re.findall(r"<tr>(.*?)</tr>", page, re.S)
    return [[words(c) for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", r, re.S)] for r in rows]


def test_home_page_states_the_design(review_site):
    assert "Study design: realist review" in words(article(review_site / "index.html"))


def test_matrix_shows_informs_and_n_per_mechanism(review_site):
    # version 1's matrix, on its own page: its mechanisms M1 and M2
    rows = _table(article(review_site / "theories" / "engagement" / "v1" / "index.html"))
    by_source = {r[0]: r[1:] for r in rows}
    assert by_source["Source"] == ["M1", "M2"]
    # a tick in the matrix: informs; the synthesis record from both studies counts in each row
    assert by_source["Smith (2019)"] == ["✓1 ○1", "○1"]
    assert by_source["Jones (2021)"] == ["✓1 ○1", ""]
    assert by_source["N"] == ["3", "3"]  # records per mechanism, each counted once
    assert "○ informs" in words(article(review_site / "evidence-map" / "index.html"))


def test_evidence_that_names_its_version_counts_there_only(review_site):
    v1 = _table(article(review_site / "theories" / "engagement" / "v1" / "index.html"))
    v2 = _table(article(review_site / "theories" / "engagement" / "v2" / "index.html"))
    assert {r[0]: r[1:] for r in v1}["Jones (2021)"] == ["✓1 ○1", ""]
    assert {r[0]: r[1:] for r in v2}["Jones (2021)"] == ["✓1 ↻1 ○1", ""]
    # the map of the current version is version 2's, and links to the earlier one
    current = _table(article(review_site / "evidence-map" / "index.html"))
    assert {r[0]: r[1:] for r in current}["Jones (2021)"] == ["✓1 ↻1 ○1", ""]
    page = words(article(review_site / "cmocs" / "eng-voice" / "index.html"))
    assert "ideas vanished. — Jones (2021) (version 2)" in page


def test_cmoc_page_lists_informing_evidence_apart(review_site):
    text = words(article(review_site / "cmocs" / "eng-time" / "index.html"))
    assert "○ Informs (1)" in text and "✓ Supports (1)" in text
    text = words(article(review_site / "cmocs" / "eng-voice" / "index.html"))
    assert "○ Informs (2)" in text


def test_one_statement_from_several_sources_is_shown_once_with_all(review_site):
    page = article(review_site / "cmocs" / "eng-voice" / "index.html")
    statement = "staff took part when their expertise was asked for"
    assert page.count(statement) == 1
    line = next(li for li in re.findall(r"<li>(.*?)</li>", page, re.S) if statement in li)
    assert re.findall(r'<a href="([^"]+)">([^<]+)</a>', line) == [
        ("../../sources/smith2019/#synthesis-voice", "Smith (2019)"),
        ("../../sources/jones2021/#synthesis-voice", "Jones (2021)")]
    # each source's page lists the record, headed by its own locator where it has one
    jones = article(review_site / "sources" / "jones2021" / "index.html")
    assert re.search(r'<h3 id="synthesis-voice">p\. 4', jones), jones
    assert statement in article(review_site / "sources" / "smith2019" / "index.html")


def test_an_unknown_source_among_several_is_reported_at_its_line(review, cli):
    edit(review / "evidence" / "studies.yaml", "      - smith2019\n", "      - smith2091\n")
    code, _, err = cli("validate", str(review))
    assert code == 1
    line = (review / "evidence" / "studies.yaml").read_text().splitlines().index(
        "      - smith2091") + 1
    assert f"evidence/studies.yaml:{line}: the source 'smith2091' does not exist" in err, err


def test_panel_feedback_links_to_the_panel(review_site):
    page = article(review_site / "cmocs" / "eng-time" / "index.html")
    said = page[page.index("What stakeholders said"):]
    assert re.search(r'href="\.\./\.\./sources/advisory-panel/"[^>]*>Stakeholder advisory '
                     r'panel</a>', said), said
    panel = words(article(review_site / "sources" / "advisory-panel" / "index.html"))
    assert "Stakeholder panels" in panel
    assert "Format: quarterly online meetings · Participants: 9" in panel
    assert "Decisions The panel asked us to keep protected time" in panel


def test_source_shows_site_and_mode(review_site):
    text = words(article(review_site / "sources" / "ward-obs" / "index.html"))
    assert "Participants · ward nurse · Site B · observation" in text


def test_feedback_from_a_source_that_gives_none_is_an_error(review, cli):
    edit(review / "evidence" / "studies.yaml", "    source: ward-obs\n",
         "    source: ward-obs\n    kind: feedback\n")
    edit(review / "evidence" / "studies.yaml", "    kind: participant\n", "    kind: other\n")
    code, _, err = cli("validate", str(review))
    assert code == 1
    assert re.search(r"studies\.yaml:\d+: the evidence is stakeholder feedback but its source "
                     r"'ward-obs' is a other - give it a source of kind 'consultation'", err), err


def test_a_near_miss_of_a_common_stage_is_a_warning(review, cli):
    edit(review / "theories" / "engagement" / "v1.yaml", "stage: initial", "stage: intial")
    (review / "living-theories.lock").unlink()
    for v in ("v1", "v2"):
        edit(review / "theories" / "engagement" / f"{v}.yaml", "status: released",
             "status: draft")
    code, _, err = cli("validate", str(review))
    assert code == 0  # a warning, not an error: another word is allowed
    assert re.search(r"warning: theories/engagement/v1\.yaml:1: the stage 'intial' is not "
                     r"a common stage - did you mean 'initial'\?", err), err
    edit(review / "theories" / "engagement" / "v1.yaml", "stage: intial", "stage: scoping")
    assert "warning" not in cli("validate", str(review))[2]


def test_an_incorporated_mechanism_is_shown_plainly(review_site, cli):
    old = words(article(review_site / "cmocs" / "eng-time" / "index.html"))
    assert ("What it became In version 2: incorporated into M1: Having a voice, M3: Feedback "
            "on ideas: The included studies did not separate time from voice and feedback."
            ) in old
    version = words(article(review_site / "theories" / "engagement" / "v2" / "index.html"))
    assert "M2: Protected time incorporated into M1: Having a voice, M3: Feedback on ideas" \
        in version
    history = article(review_site / "theories" / "engagement" / "history" / "index.html")
    assert "M2: Protected time: incorporated into" in words(history)
    lineage = html.unescape(re.search(r'<pre class="lt-mermaid[^>]*>(.*?)</pre>', history,
                                      re.S).group(1))
    names = {nid: text.replace("<br>", " ")
             for nid, text in re.findall(r'(n\d+)\["([^"]+)"\]', lineage)}
    edges = [(names[a], names[b]) for a, b in
             re.findall(r"(n\d+) -\.->\|incorporated into\| (n\d+)", lineage)]
    # (named as the pages name them: the study's label, then the title)
    assert edges == [("incorporated: M2: Protected time", "M1: Having a voice"),
                     ("incorporated: M2: Protected time", "new: M3: Feedback on ideas")]


def test_cli_diff_names_what_a_cmoc_was_incorporated_into(cli):
    code, out, _ = cli("diff", "engagement", "1", "2", "--dir", str(PROJECTS / "review"))
    assert code == 0
    assert "CMOC eng-time (M2): incorporated into eng-voice, eng-feedback" in out


def test_an_example_box_is_shown_with_its_cmoc_not_among_the_cmocs(review_site):
    voice = article(review_site / "cmocs" / "eng-voice" / "index.html")
    examples = words(voice[voice.index('id="examples"'):voice.index('id="evidence"')])
    assert "CMO box 1: Consultation without follow-up An example configuration, drawn from " \
        "Jones (2021) (Engagement, version 2)" in examples
    assert "M+ Leader asks for suggestions" in examples and "O− Upsets the team" in examples
    own = words(article(review_site / "cmocs" / "eng-box-tokenism" / "index.html"))
    assert own.startswith("Example: CMO box 1: Consultation without follow-up")
    assert "illustrating M1: Having a voice" in own
    # not one of the version's CMOCs: not counted, not drawn, no column in the matrix
    v2 = article(review_site / "theories" / "engagement" / "v2" / "index.html")
    assert "· 2 CMOCs ·" in words(article(review_site / "index.html"))
    assert "Leader asks for suggestions" not in v2
    assert "CMO box 1" not in words(article(review_site / "evidence-map" / "index.html"))


@pytest.mark.parametrize("old,new,message", [
    ("    illustrates: eng-voice\n", "    illustrates: eng-nothing\n",
     "the CMOC 'eng-nothing' does not exist"),
    ("    source: jones2021\n    mechanism_resources:",
     "    source: jones2099\n    mechanism_resources:", "the source 'jones2099' does not exist"),
    ("  - cmoc: eng-time\n    into: [eng-voice, eng-feedback]",
     "  - cmoc: eng-time\n    into: [eng-voice, eng-other]", "the CMOC 'eng-other' does not exist"),
])
def test_bad_examples_and_incorporations_are_reported(review, cli, old, new, message):
    (review / "living-theories.lock").unlink()
    for v in ("v1", "v2"):
        edit(review / "theories" / "engagement" / f"{v}.yaml", "status: released",
             "status: draft")
    edit(review / "theories" / "engagement" / "v2.yaml", old, new)
    code, _, err = cli("validate", str(review))
    assert code == 1
    assert re.search(r"theories/engagement/v2\.yaml:\d+: " + re.escape(message), err), err
