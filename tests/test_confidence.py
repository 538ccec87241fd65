"""Confidence per CMOC across versions: a level of the project's scale with its rationale,
shown as a badge beside the CMOC, and how it moved from version to version.

The `confidence` project rates its CMOCs on a GRADE-CERQual scale it declares in
project.yaml (very low, low, moderate, high): one rises, one falls and is then not rated,
one is first rated in version 2.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from conftest import article, built_project, copied_project, edit


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    return built_project(tmp_path_factory, "confidence")


def _rows(table_html: str) -> list[list[str]]:
    return [[html.unescape(re.sub(r"<[^>]+>", "", cell)).strip()
             for cell in re.findall(r"<t[dh]>(.*?)</t[dh]>", row, re.S)]
            for row in re.findall(r"<tr>(.*?)</tr>", table_html, re.S)]


def test_history_tabulates_confidence_cmoc_by_version_with_arrows(site):
    page = article(site / "theories" / "teams" / "history" / "index.html")
    section = page[page.index("Confidence in each CMOC"):page.index("Lineage of the CMOCs")]
    assert _rows(section[:section.index("</table>")]) == [
        ["CMOC", "Version 1", "Version 2", "Version 3"],
        ["CMOC 1: Debriefs", "very low", "moderate ↑", "moderate ="],
        ["CMOC 2: Coaching", "high", "low ↓", "not stated"],
        ["CMOC 3: Time to learn", "not stated", "low", "high ↑"]]
    assert "The scale, lowest first: very low, low, moderate, high." in section


def test_the_version_page_shows_a_badge_with_its_rationale(site):
    page = article(site / "theories" / "teams" / "v2" / "index.html")
    start = page.index("CMOC 2: Coaching</a></h3>")  # (the diagram above names CMOCs too)
    coaching = page[start:page.index("CMOC 3: Time to learn", start)]
    assert re.search(r'<p class="lt-confidence-line"><span class="lt-confidence '
                     r'lt-confidence--middle">Confidence: low</span> The trials were at high '
                     r"risk of bias.</p>", coaching)
    # the lowest and highest levels of the scale are told apart from the rest
    v1 = article(site / "theories" / "teams" / "v1" / "index.html")
    assert 'lt-confidence--lowest">Confidence: very low</span>' in v1
    assert 'lt-confidence--highest">Confidence: high</span> Two trials' in v1
    # a CMOC the version does not rate has no badge
    v3 = article(site / "theories" / "teams" / "v3" / "index.html")
    start = v3.index("CMOC 2: Coaching</a></h3>")
    coaching = v3[start:v3.index("CMOC 3: Time to learn", start)]
    assert "lt-confidence" not in coaching


def test_the_cmoc_page_shows_its_confidence_and_in_each_version(site):
    page = article(site / "cmocs" / "team-coach" / "index.html")
    assert "lt-confidence" not in page[:page.index("In each version")]  # not rated now
    table = page[page.index("In each version"):]
    assert [row[-1] for row in _rows(table[:table.index("</table>")])] == \
        ["Confidence", "high", "low", "not stated"]
    debrief = article(site / "cmocs" / "team-debrief" / "index.html")
    assert 'lt-confidence--middle">Confidence: moderate</span> No new studies.' in debrief


def test_the_history_says_how_each_cmoc_was_re_rated(site):
    page = article(site / "theories" / "teams" / "history" / "index.html")
    assert "<strong>Confidence:</strong> high → low (lower). The trials were at high risk " \
        "of bias." in page
    assert "<strong>Confidence:</strong> moderate (unchanged). No new studies." in page
    assert "<strong>Confidence:</strong> low → not stated" in page


def test_a_theory_that_rates_confidence_has_a_reporting_page(site):
    page = article(site / "theories" / "teams" / "refinement" / "index.html")
    rows = _rows(page[page.index("Every change at a glance"):])
    assert ["3", "CMOC 2: Coaching: kept", "—", "—", "low → not stated"] in rows


V4 = """stage: final
status: draft
cmocs:
  - id: team-debrief
    title: Debriefs
    confidence: {level}
"""


def _draft(tmp_path: Path, name: str, level: str) -> tuple[Path, int]:
    root = copied_project(tmp_path, name)
    folder = root / "theories" / ("teams" if name == "confidence" else "huddles")
    number = len(list(folder.glob("v*.yaml"))) + 1
    text = V4.format(level=level)
    if name == "reasoning":
        text = text.replace("team-debrief", "huddle-voice") + \
            "dropped:\n  - cmoc: huddle-safety\n    reason: Not borne out.\n"
    (folder / f"v{number}.yaml").write_text(text, encoding="utf-8")
    return root, number


def test_validate_rejects_a_level_off_the_declared_scale(tmp_path, cli):
    root, n = _draft(tmp_path, "confidence", "medium")
    code, _, err = cli("validate", str(root))
    assert code == 1
    assert (f"theories/teams/v{n}.yaml:6: the confidence 'medium' is not on the project's "
            "scale (very low, low, moderate, high) - use one of: very low, low, moderate, "
            "high (the 'confidence_scale' declared in theories/project.yaml)") in err
    # the same with 'level:' written out points at that line
    root, n = _draft(tmp_path / "long", "confidence", "\n      level: medium\n      rationale: x")
    err = cli("validate", str(root))[2]
    assert f"theories/teams/v{n}.yaml:7: the confidence 'medium'" in err


def test_validate_lists_the_default_scale_and_says_how_to_declare_another(tmp_path, cli):
    root, n = _draft(tmp_path, "reasoning", "very low")
    code, _, err = cli("validate", str(root))
    assert code == 1
    assert (f"theories/huddles/v{n}.yaml:6: the confidence 'very low' is not on the project's "
            "scale (low, moderate, high) - use one of: low, moderate, high; or declare your "
            "team's own scale, lowest first, as 'confidence_scale:' in theories/project.yaml"
            ) in err


def test_a_scale_lists_each_level_once(tmp_path, cli):
    root = copied_project(tmp_path, "confidence")
    edit(root / "theories/project.yaml", "[very low, low, moderate, high]",
         "[low, moderate, Moderate, high]")
    code, _, err = cli("validate", str(root))
    assert code == 1
    assert "theories/project.yaml:2: " in err and "'Moderate' is listed twice" in err
