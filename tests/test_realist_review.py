"""A realist review as its papers print it: a papers-by-mechanisms matrix (a tick = the paper
informs the mechanism, no stance, with N per mechanism), a standing stakeholder panel, sources
with a site and a mode of data collection, and the study design on the home page."""

from __future__ import annotations

import html
import re
import shutil
from pathlib import Path

import pytest
from conftest import PROJECTS, article, build_site, edit


@pytest.fixture(scope="module")
def review_site(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("review")
    shutil.copytree(PROJECTS / "review", root / "project")
    run = build_site(root / "project", root / "site")
    assert run.returncode == 0, run.stderr
    return root / "site"


@pytest.fixture
def review(tmp_path: Path) -> Path:
    dest = tmp_path / "review"
    shutil.copytree(PROJECTS / "review", dest)
    return dest


def words(page: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def _table(page: str) -> list[list[str]]:
    rows = re.findall(r"<tr>(.*?)</tr>", page, re.S)
    return [[words(c) for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", r, re.S)] for r in rows]


def test_home_page_states_the_design(review_site):
    assert "Study design: realist review" in words(article(review_site / "index.html"))


def test_matrix_shows_informs_and_n_per_mechanism(review_site):
    rows = _table(article(review_site / "evidence-map" / "index.html"))
    by_source = {r[0]: r[1:] for r in rows}
    assert by_source["Source"] == ["M1", "M2"]
    # a tick in the matrix: informs; the synthesis record from both studies counts in each row
    assert by_source["Smith (2019)"] == ["✓1 •1", "•1"]
    assert by_source["Jones (2021)"] == ["✓1 •1", ""]
    assert by_source["N"] == ["3", "3"]  # records per mechanism, each counted once
    assert "• informs" in words(article(review_site / "evidence-map" / "index.html"))


def test_cmoc_page_lists_informing_evidence_apart(review_site):
    text = words(article(review_site / "cmocs" / "eng-time" / "index.html"))
    assert "• Informs (1)" in text and "✓ Supports (1)" in text
    text = words(article(review_site / "cmocs" / "eng-voice" / "index.html"))
    assert "• Informs (2)" in text


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
    edit(review / "theories" / "engagement" / "v1.yaml", "status: released", "status: draft")
    code, _, err = cli("validate", str(review))
    assert code == 0  # a warning, not an error: another word is allowed
    assert re.search(r"warning: theories/engagement/v1\.yaml:1: the stage 'intial' is not "
                     r"a common stage - did you mean 'initial'\?", err), err
    edit(review / "theories" / "engagement" / "v1.yaml", "stage: intial", "stage: scoping")
    assert "warning" not in cli("validate", str(review))[2]
