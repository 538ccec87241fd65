"""Triangulation at a glance (issue 23, part 4): per CMOC element or link, how many sources and
which kinds of data bear on it, on the CMOC page and in the evidence map.

The `appraisal` project's version 1 is released; the record from P3 (a focus group) was added
after its release, so it counts on the CMOC page but never on version 1's pages. An internal
record and a record from an internal source must never be counted.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from conftest import article, built_project
from test_appraisal import cell_text, plain, table_after


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    return built_project(tmp_path_factory, "appraisal")


def test_cmoc_page_counts_sources_and_kinds_of_data_per_element_and_link(site):
    rows = table_after(article(site / "cmocs" / "care-trust" / "index.html"),
                       "Sources and kinds of data")
    assert rows == [
        ["The whole CMOC", "2", "2", "study (1), feedback (1)"],
        # P1 was interviewed, P2 observed (the source's mode); the internal records and P9
        # (an internal source) are not counted
        ["Context", "2", "2", "interview (1), observation (1)"],
        ["Mechanism (reasoning)", "1", "1 ⚠", "document (1)"],
        ["Context → mechanism", "1", "1 ⚠", "focus group (1)"],
        ["Mechanism → outcome", "1", "1 ⚠", "study (1)"],
        ["All evidence on this CMOC", "7", "7",
         "interview (1), focus group (1), observation (1), document (1), study (2), "
         "feedback (1)"],
    ]


def test_a_cmoc_on_one_source_is_marked_thin(site):
    rows = table_after(article(site / "cmocs" / "care-thin" / "index.html"),
                       "Sources and kinds of data")
    assert rows == [["The whole CMOC", "1", "1 ⚠", "document (1)"]]
    text = plain(article(site / "evidence-map" / "index.html"))
    assert "One source only: Shared data (Trust between partners)" in text
    assert "One source only: Meeting builds trust" not in text


def _map_row(page: str, name: str) -> list[str]:
    """The cells of one row of the evidence map, after its name."""
    start = page.index('class="lt-evidence-map"')
    body = page[start:page.index("</table>", start)]
    for row in re.findall(r"<tr>(.*?)</tr>", body, re.S):
        cells = [cell_text(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
        if cells and cells[0] == name:
            return cells[1:]
    raise AssertionError(f"no row {name!r}")


@pytest.mark.parametrize("page", ["evidence-map/index.html", "theories/care/v1/index.html"])
def test_evidence_map_counts_only_what_the_released_version_showed(site, page):
    html_page = article(site / page)
    # columns: Meeting builds trust, Shared data. P3's record came after the release.
    assert _map_row(html_page, "N") == ["6", "1"]
    assert _map_row(html_page, "Sources") == ["6", "1"]
    assert _map_row(html_page, "Kinds of data") == [
        "interview (1), observation (1), document (1), study (2), feedback (1)",
        "document (1)"]
    assert "P3" not in plain(html_page) and "P9" not in plain(html_page)


def test_the_map_rows_count_the_records_the_snapshot_holds(site):
    snapshot = json.loads((Path(__file__).parent / "projects" / "appraisal" / "releases"
                           / "care" / "v1.json").read_text(encoding="utf-8"))
    on_trust = [e for e, rec in snapshot["evidence"].items()
                if any(t.get("cmoc") == "care-trust" for t in rec["bears_on"])]
    internal = {"p1-secret", "p9-trust"}  # (the snapshot is kept in the project, not published)
    shown = _map_row(article(site / "theories" / "care" / "v1" / "index.html"), "N")
    assert int(shown[0]) == len(set(on_trust) - internal) == 6
