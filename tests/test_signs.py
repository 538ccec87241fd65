"""Signs per element: the site shows the label a study prints (M+, M−, O−), never a rewording.

The `signs` project holds the case that once reversed a paper's meaning: "leader asks for
suggestions (M+, resource) but overrides them (M−, reasoning) -> upsets the team (O−)". Its
version 1 writes the same box with the older CMOC-level shorthand (`mechanism: absent`).
"""

from __future__ import annotations

import csv
import html
import json
import re
from pathlib import Path

import pytest
from conftest import article, built_project, copied_project, edit

MINUS = "\u2212"


@pytest.fixture(scope="module")
def signs_site(tmp_path_factory) -> Path:
    return built_project(tmp_path_factory, "signs")


def _labels_beside_text(page: str) -> list[tuple[str, str]]:
    """(label, the text right after it) for every sign label on a page."""
    return [(html.unescape(lab), html.unescape(text).strip()) for lab, text in re.findall(
        r'<span class="lt-sign[^"]*"[^>]*>([^<]+)</span>\s*([^<]*)', page)]


def _diagram(page: str) -> str:
    found = re.search(r'<pre class="lt-mermaid[^>]*>(.*?)</pre>', page, re.S)
    assert found, "no diagram on the page"
    return html.unescape(found.group(1))


def test_cmoc_page_shows_each_elements_own_sign(signs_site):
    page = article(signs_site / "cmocs" / "overridden-suggestions" / "index.html")
    assert _labels_beside_text(page) == [
        ("M+", "Leader asks for suggestions"), (f"M{MINUS}", "but overrides them"),
        (f"O{MINUS}", "Upsets the team")]
    # the context has no sign in the study: nothing is asserted
    assert "A team used to top-down decisions" in page
    for reworded in ("Absent", "No: ", "Negative (O"):
        assert reworded not in page


def test_shorthand_is_shown_as_the_same_labels(signs_site):
    # version 1 writes `mechanism: absent` and `outcome: negative`: every mechanism element
    # and outcome without a sign of its own is labelled M− / O−, with its text unchanged
    page = article(signs_site / "theories" / "participation" / "v1" / "index.html")
    labels = _labels_beside_text(page)
    assert (f"M{MINUS}", "Leader asks for suggestions") in labels
    assert (f"M{MINUS}", "Staff feel their views were not wanted") in labels
    assert (f"O{MINUS}", "Upsets the team") in labels
    # the second box states no sign, so none is shown for it
    assert not any(text in ("Leader acts on suggestions", "Staff offer more ideas")
                   for _, text in labels)


def test_no_page_rewords_a_sign(signs_site):
    for page in signs_site.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        assert "No: Leader" not in text and "Absent (M" not in text, page


def test_diagram_labels_each_node_with_its_sign(signs_site):
    source = _diagram(article(signs_site / "cmocs" / "overridden-suggestions" / "index.html"))
    nodes = dict(re.findall(r'^\s*(n\d+)\W+"([^"]*)"', source, re.M))
    texts = {nid: text.replace("<br>", " ").replace("#40;", "(").replace("#41;", ")")
             for nid, text in nodes.items()}
    assert sorted(texts.values()) == sorted([
        "A team used to top-down decisions", "(M+) Leader asks for suggestions",
        f"(M{MINUS}) but overrides them", f"(O{MINUS}) Upsets the team"])
    classes = dict(re.findall(r"^\s*(n\d+)\W.*:::(\w+)$", source, re.M))
    by_text = {texts[nid]: classes[nid] for nid in texts}
    assert by_text["(M+) Leader asks for suggestions"] == "resplus"
    assert by_text[f"(M{MINUS}) but overrides them"] == "reaminus"
    assert by_text["A team used to top-down decisions"] == "ctx"
    assert "-.->" not in source  # an M− is not drawn as a mechanism that did not fire


def test_theory_json_gives_the_labels(signs_site):
    data = json.loads((signs_site / "theories" / "participation" / "v2" / "theory.json")
                      .read_text(encoding="utf-8"))
    box = next(c for c in data["cmocs"] if c["id"] == "overridden-suggestions")
    assert box["mechanism_resources"] == [{"text": "Leader asks for suggestions",
                                           "sign": "positive"}]
    assert box["sign_labels"] == {"contexts": [None], "mechanism_resources": ["M+"],
                                  "mechanism_reasonings": [f"M{MINUS}"],
                                  "outcomes": [f"O{MINUS}"]}


def test_cli_diff_shows_a_changed_sign_as_a_changed_label(cli, tmp_path):
    project = copied_project(tmp_path, "signs")
    code, out, _ = cli("diff", "participation", "1", "2", "--dir", str(project))
    assert code == 0
    assert f"Mechanism (resource): [-(M{MINUS})-] {{+(M+)+}} Leader asks for suggestions" in out
    assert f"Context: {{+(C{MINUS})+}} A team used to top-down decisions" in out


def test_spreadsheet_round_trip_keeps_signs(cli, tmp_path):
    project = copied_project(tmp_path, "signs")
    table = tmp_path / "cmocs.csv"
    assert cli("export-cmocs", str(table), "--dir", str(project))[0] == 0
    with table.open(encoding="utf-8", newline="") as f:
        rows = [r for r in csv.DictReader(f) if r["version"] == "2"]
    box = next(r for r in rows if r["cmoc_id"] == "overridden-suggestions")
    assert box["mechanism_resource"] == "(M+) Leader asks for suggestions"
    assert box["outcome"] == f"(O{MINUS}) Upsets the team"
    assert box["mechanism"] == ""  # no shorthand in version 2
    # the same rows as a new draft version 3 give back the same signed elements
    for r in rows:
        r["version"] = "3"
    with table.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    code, _, err = cli("import-cmocs", str(table), "--dir", str(project))
    assert code == 0, err
    from living_theories.project import load_project

    loaded, problems = load_project(project)
    assert not problems
    v2, v3 = loaded.graph.theories["participation"].versions[1:3]
    for old, new in zip(v2.cmocs, v3.cmocs, strict=True):
        for field in ("contexts", "mechanism_resources", "mechanism_reasonings", "outcomes"):
            assert [(str(e), e.sign) for e in getattr(new, field)] == \
                [(str(e), e.sign) for e in getattr(old, field)]


def test_a_bad_sign_is_reported_at_its_line(cli, tmp_path):
    project = copied_project(tmp_path, "signs")
    (project / "living-theories.lock").unlink()
    for v in ("v1", "v2"):
        edit(project / "theories" / "participation" / f"{v}.yaml", "status: released",
             "status: draft")
    edit(project / "theories" / "participation" / "v2.yaml", "sign: positive", "sign: plus")
    code, _, err = cli("validate", str(project))
    assert code == 1
    assert re.search(r"v2\.yaml:1\d: the sign 'plus' is not allowed \(in CMOC "
                     r"'overridden-suggestions', field 'mechanism_resources', item 1\) - use "
                     r"positive or negative", err), err


def test_editor_schema_offers_signed_elements_with_help():
    from jsonschema import Draft202012Validator
    from living_theories.schema import schema_for

    schema = schema_for("version")
    contexts = schema["$defs"]["CMOC"]["properties"]["contexts"]
    assert "C+ or C-" in contexts["description"]
    signed = schema["$defs"]["SignedText"]
    assert set(signed["properties"]) == {"text", "sign"}
    assert "nothing is asserted" in signed["properties"]["sign"]["description"]
    validator = Draft202012Validator(schema)
    ok = {"stage": "initial", "cmocs": [{"id": "a", "contexts": [
        "plain", {"text": "signed", "sign": "negative"}]}]}
    assert not list(validator.iter_errors(ok))
    bad = {"stage": "initial", "cmocs": [{"id": "a", "contexts": [{"text": "x", "sign": "-"}]}]}
    assert list(validator.iter_errors(bad))
