"""The reasoning behind a change: the kind of inference, the rival explanations set aside
(each with its evidence) and what would overturn it, recorded on lineage, changes, drops and
incorporations, shown beside the word diff, and gathered on the theory's reporting page.

The `reasoning` project is a realist evaluation of safety huddles whose version 2 records
each of these; the `minimal` project records none of them.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pytest
from conftest import article, built_project, copied_project, edit

RETRODUCTIVE = "retroductive (reasoning back from what was observed"


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    return built_project(tmp_path_factory, "reasoning")


def _section(page: str, heading: str) -> str:
    """A page from the heading that contains `heading` to the next heading of its level."""
    found = re.search(rf"<h(\d)[^>]*>(?:(?!</h\1>).)*{re.escape(heading)}.*?</h\1>", page, re.S)
    assert found, f"no heading with {heading!r}"
    end = re.search(rf"<h[1-{found.group(1)}][ >]", page[found.end():])
    return page[found.start(): found.end() + end.start() if end else len(page)]


def _plain(fragment: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", fragment)).strip()


def test_history_shows_the_reasoning_next_to_the_word_diff(site):
    page = article(site / "theories" / "huddles" / "history" / "index.html")
    voice = _section(page, "CMOC 1: Being heard</a>: refined")
    assert f"<strong>Inference:</strong> {RETRODUCTIVE}" in voice
    assert "<strong>Rival explanations considered:</strong>" in voice
    assert "Staff spoke up because attendance rose. <em>Set aside:</em> Attendance did not " \
        "differ" in voice
    # each rival's evidence is linked, and its citation formatted
    assert 'href="../../../sources/ward-audit/#audit-attendance"' in voice
    assert "(Hall and Moss, 2019, p. 12)" in voice and "@hall2019" not in voice
    assert "<strong>What would overturn it:</strong> Wards where risks are acted on" in voice
    # beside the word diff of the same CMOC
    assert "<del>A set time to raise risks</del>" in voice
    # a drop and an incorporation give theirs too; a known noun is explained like its adjective
    dropped = _section(page, "CMOC 2: Protected time</a>: dropped")
    assert "<strong>Inference:</strong> deductive (the theory" in dropped
    assert "An audit showing that protected time changed attendance" in dropped
    folded = _section(page, "CMOC 3: A fixed rota</a>: incorporated")
    assert "<strong>Inference:</strong> abduction (a leap to the explanation" in folded


def test_an_unknown_kind_of_inference_is_shown_as_written(site):
    page = article(site / "theories" / "huddles" / "history" / "index.html")
    changes = _section(page, "Changes recorded with version 2")
    assert "<strong>Inference:</strong> realist synthesis.</p>" in changes
    assert "Managers told staff to speak up. <em>Set aside:</em> No participant" in changes


def test_the_compare_page_shows_the_reasoning_too(site):
    page = article(site / "theories" / "huddles" / "compare" / "v1-v2" / "index.html")
    assert f"<strong>Inference:</strong> {RETRODUCTIVE}" in page
    assert "What would overturn it" in page


def test_the_cmoc_page_gives_the_reasoning_of_where_it_comes_from(site):
    page = article(site / "cmocs" / "huddle-voice" / "index.html")
    origin = _section(page, "Where it comes from")
    assert f"<strong>Inference:</strong> {RETRODUCTIVE}" in origin
    assert "A fixed rota made speaking up a habit." in origin


def test_the_reporting_page_gives_every_change_in_order(site):
    path = site / "theories" / "huddles" / "refinement" / "index.html"
    assert "<title>Safety huddles: the reasoning behind each refinement" in \
        path.read_text(encoding="utf-8")
    page = article(path)
    assert "https://example.org/huddles/theories/huddles/refinement/" in page
    covered = re.search(r"<strong>Versions covered:</strong>(.*?)·", page, re.S).group(1)
    assert " ".join(_plain(covered).split()) == \
        "version 1 (initial, 2024-01); version 2 (refined, 2024-09)"
    table = _section(page, "Every change at a glance")
    rows = [[_plain(cell) for cell in re.findall(r"<td>(.*?)</td>", row)]
            for row in re.findall(r"<tr>(.*?)</tr>", table, re.S)[1:]]
    assert rows == [
        ["2", "CMOC 1: Being heard: refined", "retroductive", "2", "low → moderate (higher)"],
        ["2", "CMOC 4: Visible follow-up: new", "abductive", "—", "high"],
        ["2", "CMOC 2: Protected time: dropped", "deductive", "—", "—"],
        ["2", "CMOC 3: A fixed rota: incorporated", "abduction", "—", "—"],
        ["2", "The mechanism moved from a set time to visible follow-up.",
         "realist synthesis", "1", "—"]]
    start = _section(page, "where it started")
    assert 'lt-confidence--lowest">Confidence: low</span>' in start
    step = _section(page, "Version 1 → version 2")
    assert step.index("Being heard") < step.index("Visible follow-up") \
        < step.index("Protected time") < step.index("Changes recorded with version 2")
    assert 'href="../../../sources/p3/#p3-heard"' in step  # the change's evidence, linked
    assert "(Hall and Moss, 2019, p. 12)" in step


def test_the_reporting_page_is_linked_from_the_theory_and_history_pages(site):
    for page in ("index.html", "history/index.html"):
        text = article(site / "theories" / "huddles" / page)
        assert re.search(r'<a href="(\.\./)?refinement/">The reasoning behind each refinement',
                         text), page


def test_a_project_that_records_none_of_it_shows_none_of_it(minimal_site, bundled_site):
    for site in (minimal_site, bundled_site):
        assert not list(site.rglob("refinement"))
        generated = [p for p in site.rglob("*.html") if p.relative_to(site).parts[0] in (
            "theories", "cmocs", "sources", "contexts", "evidence-map", "references",
            "consultations")]  # (hand-written pages, the guide among them, explain the fields)
        assert len(generated) > 10
        for page in generated:
            text = page.read_text(encoding="utf-8")
            for word in ("Inference:", "lt-confidence", "reasoning behind each refinement",
                         "Rival explanations"):
                assert word not in text, (page, word)
    # theory.json of a version that records none holds no empty reasoning fields
    for path in bundled_site.rglob("theory.json"):
        for cmoc in json.loads(path.read_text())["cmocs"]:
            lineage = cmoc["lineage"] or {}
            assert set(lineage) <= {"evidence", "from", "reason", "relation"}, path
            assert "confidence" not in cmoc


def test_theory_json_carries_the_reasoning(site):
    data = json.loads((site / "theories/huddles/v2/theory.json").read_text())
    lineage = data["cmocs"][0]["lineage"]
    assert lineage["inference"] == "retroductive"
    assert [r["evidence"] for r in lineage["rivals"]] == [["audit-attendance"], ["p7-rota"]]
    assert data["dropped"][0]["overturn"].startswith("An audit")
    assert data["incorporated"][0]["inference"] == "abduction"
    assert data["changes"][0]["rivals"][0]["set_aside"] == "No participant said they were told to."
    # a rival's evidence is linked like the rest of the version's evidence
    assert data["evidence_links"]["audit-attendance"].endswith(
        "sources/ward-audit/#audit-attendance")


def test_the_diff_command_prints_the_reasoning(cli):
    root = Path(__file__).parent / "projects" / "reasoning"
    code, out, _ = cli("diff", "huddles", "1", "2", "--dir", str(root), "--colour", "never")
    assert code == 0
    voice = out[out.index("CMOC huddle-voice"):out.index("CMOC huddle-safety")]
    assert "  Inference: retroductive\n" in voice
    assert "  Rival explanation: Staff spoke up because attendance rose.\n" \
        "    Set aside: Attendance did not differ between wards that did and did not speak " \
        "up. (evidence: audit-attendance)\n" in voice
    assert "  What would overturn it: Wards where risks" in voice
    assert "  Confidence: low -> moderate\n" in voice
    assert "  Inference: realist synthesis\n" in out[out.index("Change: "):]


V3 = """stage: final
status: draft
cmocs:
  - id: huddle-voice
    title: Being heard
    lineage:
      relation: kept
      from: [huddle-voice]
      inference: {inference}
      rivals:
        - explanation: Staff spoke up because attendance rose.
          set_aside: Attendance did not differ.
          evidence: [{evidence}]
dropped:
  - cmoc: huddle-safety
    reason: Not borne out.
"""


def _draft_v3(tmp_path: Path, inference: str = "retroductive",
              evidence: str = "audit-attendance") -> tuple[Path, list[str]]:
    root = copied_project(tmp_path, "reasoning")
    text = V3.format(inference=inference, evidence=evidence)
    (root / "theories/huddles/v3.yaml").write_text(text, encoding="utf-8")
    return root, text.splitlines()


def test_a_misspelt_inference_is_a_warning_at_its_line(tmp_path, cli):
    root, lines = _draft_v3(tmp_path, inference="Retroductve")
    code, _, err = cli("validate", str(root))
    assert code == 0
    line = lines.index("      inference: Retroductve") + 1
    assert (f"warning: theories/huddles/v3.yaml:{line}: the inference 'Retroductve' is not a "
            "kind this site explains - did you mean 'retroductive'?") in err
    # another word is the team's own: kept as written, no warning
    root, _ = _draft_v3(tmp_path / "own", inference="configurational")
    assert "warning" not in cli("validate", str(root))[2]


def test_a_rival_names_evidence_that_exists(tmp_path, cli):
    root, lines = _draft_v3(tmp_path, evidence="audit-atendance")
    code, _, err = cli("validate", str(root))
    assert code == 1
    line = lines.index("          evidence: [audit-atendance]") + 1
    assert f"theories/huddles/v3.yaml:{line}: the evidence 'audit-atendance' does not exist" \
        in err


@pytest.mark.parametrize("old, new", [
    # what would overturn it, added to a lineage
    ("      relation: new\n", "      relation: new\n      overturn: A ward without a board.\n"),
    # a rival added to a drop
    ("    inference: deductive\n", "    inference: deductive\n    rivals:\n      - "
     "explanation: Time was never the point.\n        set_aside: Nobody said so.\n")])
def test_reasoning_added_to_a_released_version_is_a_change_to_it(tmp_path, cli, old, new):
    # Released versions keep what they recorded: the fields count in the content hash when
    # present (a version that records none hashes as before: the bundled lock still holds).
    root = copied_project(tmp_path, "reasoning")
    assert cli("validate", str(root))[0] == 0
    edit(root / "theories/huddles/v2.yaml", old, new)
    code, _, err = cli("validate", str(root))
    assert code == 1
    assert "theories/huddles/v2.yaml:1: version 2 of 'huddles' was released and is frozen, " \
        "but its content has changed" in err


@pytest.mark.browser
@pytest.mark.parametrize("width", [1280, 390])
def test_the_pages_that_show_it_pass_the_accessibility_check(browser, serve, site, width):
    from test_accessibility import AXE, open_page

    base = serve(site)
    found = {}
    for path in ("theories/huddles/refinement/", "theories/huddles/history/",
                 "theories/huddles/", "cmocs/huddle-voice/"):
        page = open_page(browser, base + path, width)
        page.add_script_tag(content=AXE.read_text(encoding="utf-8"))
        violations = page.evaluate("""async () => (await axe.run(
            {exclude: [['.lt-diagram']]}, {resultTypes: ['violations']})).violations
            .filter(v => v.impact === 'serious' || v.impact === 'critical')
            .map(v => v.id + ': ' + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(', '))""")
        if violations:
            found[path] = violations
        page.close()
    assert not found, found
