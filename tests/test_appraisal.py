"""Appraisal per piece of evidence, rolled up per CMOC (issue 23, part 3).

The `appraisal` project: records on 'Meeting builds trust' judged on their own (relevance,
rigour, richness), one that takes its study's appraisal, one from a study appraised in words
only, and an internal record judged 'high' that must never be counted on the public site.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from conftest import article, build_site, built_project, copied_project, edit


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    return built_project(tmp_path_factory, "appraisal")


def cell_text(cell: str) -> str:
    """A table cell's text, its lines (<br>) joined with commas."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", re.sub(r"<br ?/?>", ", ", cell)))
                    .split())


def table_after(page: str, heading: str) -> list[list[str]]:
    """The rows (cells as text) of the first table after a heading."""
    at = page.index(f">{heading}<")
    body = page[at:page.index("</table>", at)]
    return [[cell_text(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
            for row in re.findall(r"<tr>(.*?)</tr>", body, re.S) if "<td" in row]


def plain(page: str) -> str:
    """A page's words, one space between them (none before punctuation)."""
    words = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())
    return re.sub(r" ([:.,;)])", r"\1", words)


def test_cmoc_page_counts_relevance_and_rigour_per_element_and_role(site):
    page = article(site / "cmocs" / "care-trust" / "index.html")
    rows = table_after(page, "Appraisal of the evidence")
    assert rows == [
        ["The whole CMOC", "✓ supports", "1", "1 not graded", "1 not graded", "1 not graded"],
        ["The whole CMOC", "✗ challenges", "1", "1 not graded", "1 not graded",
         "1 not graded"],
        # P1 judged on its own; P2 not appraised; the internal record (high, high) not counted
        ["Context", "✓ supports", "2", "1 high, 1 not graded", "1 low, 1 not graded",
         "2 not graded"],
        ["Mechanism (reasoning)", "↻ refines", "1", "1 moderate", "1 high", "1 low"],
        ["Context → mechanism", "✓ supports", "1", "1 not graded", "1 not graded",
         "1 not graded"],
        # Adams' record has no appraisal of its own: it is counted with its study's
        ["Mechanism → outcome", "✓ supports", "1", "1 high", "1 moderate", "1 not graded"],
    ]
    text = plain(page)
    assert ("2 records appraised on their own, 1 counted with its study's appraisal "
            "(marked “Its study's appraisal” below), 4 not appraised.") in text


def test_each_record_shows_its_appraisal_and_says_when_it_is_its_studys(site):
    text = plain(article(site / "cmocs" / "care-trust" / "index.html"))
    assert "Appraisal: relevance high · rigour low. One short interview answer." in text
    assert ("Board members who met often reported more trust and joint decisions. — Adams "
            "and Brown (2021) Its study's appraisal: relevance high: set in two integrated "
            "care boards · rigour moderate") in text
    # a study appraised in words only is shown on its own page, never counted as a level
    assert "Not reported by the review" not in text
    assert "The chair never reads the papers" not in text  # internal


def test_source_page_shows_a_records_own_appraisal_and_the_studys_note(site):
    text = plain(article(site / "sources" / "strategy" / "index.html"))
    assert "Appraisal: relevance moderate · rigour high · richness low" in text
    study = plain(article(site / "sources" / "study-adams" / "index.html"))
    assert "A small qualitative study, well reported." in study


def test_cmoc_without_appraised_evidence_shows_no_appraisal(site):
    page = article(site / "cmocs" / "care-thin" / "index.html")
    assert "Appraisal" not in page and "Sources and kinds of data" in page


def test_richness_column_only_where_a_team_uses_it(tmp_path):
    project = copied_project(tmp_path, "appraisal")
    edit(project / "evidence" / "records.yaml", "      richness: low\n", "")
    run = build_site(project, tmp_path / "site")
    assert run.returncode == 0, run.stderr
    page = article(tmp_path / "site" / "cmocs" / "care-trust" / "index.html")
    at = page.index(">Appraisal of the evidence<")
    head = page[at:page.index("</thead>", at)]
    assert ">Relevance<" in head and ">Rigour<" in head and "Richness" not in head


def test_a_misspelt_level_is_a_warning_with_did_you_mean(tmp_path, cli):
    project = copied_project(tmp_path, "appraisal")
    edit(project / "evidence" / "records.yaml", "rigour: low", "rigour: lwo")
    code, _, err = cli("validate", str(project))
    assert code == 0, err
    assert ("warning: evidence/records.yaml:8: the rigour 'lwo' is not a level the CMOC pages "
            "can count - did you mean 'low'?") in err
