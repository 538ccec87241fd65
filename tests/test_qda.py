"""REFI-QDA: coded segments of a .qdpx become evidence records (import-qdpx), and a theory
version becomes a codebook (export-codebook). Fixtures are built in code (tests/refi.py) and
validated against the published XSDs, as is every exported codebook."""

from __future__ import annotations

import html
import re
import shutil
import zipfile
from pathlib import Path

import pytest
import xmlschema
import yaml
from conftest import PROJECTS, article, build_site, edit
from refi import Source, guid, project_xml, segment, write_qdpx

XSD = Path(__file__).parent / "data" / "refi-qda"
PROJECT_XSD = xmlschema.XMLSchema(XSD / "Project.xsd")
CODEBOOK_XSD = xmlschema.XMLSchema(XSD / "Codebook.xsd")

# Accents, an emoji (outside the Basic Multilingual Plane), right-to-left text, and lines.
P01 = ("Interviewer: What made the difference?\n"
       "P01: Meeting face to face built trust — c'était très important 😀.\n"
       "P01: In Hebrew we say שלום עליכם; it sets the tone.\n"
       "Interviewer: Thank you.")
P02 = "P02: Nobody saw the leaders, so morale fell.\nP02: Ça a duré deux ans."
MINUTES = "Board minutes. We met monthly and resolved tensions; trust grew (see item 4*)."
MAP = """codes:
  "Trust/Meetings":
    cmoc: demo-trust
    aspect: M-res
  Trust:
    cmoc: demo-trust
  Visibility:
    cmoc: demo-trust
    role: challenges
"""


def sources(p01: str = P01) -> list[Source]:
    return [
        Source("Interview P01", p01, [
            segment(p01, "Meeting face to face built trust — c'était très important 😀",
                    "Trust/Meetings", "Emotion"),
            # overlaps the first, on another code, across a line break
            segment(p01, "très important 😀.\nP01: In Hebrew we say שלום עליכם", "Trust"),
            segment(p01, "Thank you", "Unmapped/Politeness"),
        ], case="P01"),
        Source("Interview P02", P02, [segment(P02, "Nobody saw the leaders, so morale fell",
                                              "Visibility")], case="P02"),
        Source("Board minutes", MINUTES, [segment(MINUTES, "resolved tensions; trust grew "
                                                  "(see item 4*)", "Trust")], embedded=True),
    ]


@pytest.fixture
def site(tmp_path: Path) -> Path:
    dest = tmp_path / "project"
    shutil.copytree(PROJECTS / "minimal", dest)
    (dest / "qdpx-map.yaml").write_text(MAP, encoding="utf-8")
    return dest


def imported(site: Path) -> dict[str, dict]:
    data = yaml.safe_load((site / "evidence" / "qda-leadership-study.yaml").read_text("utf-8"))
    return {r["id"]: r for r in data["evidence"]}


def test_fixtures_follow_the_published_schema():
    PROJECT_XSD.validate(project_xml("Leadership study", sources()))


def test_coded_segments_become_evidence_with_the_exact_text(site: Path, tmp_path: Path, cli):
    qdpx = write_qdpx(tmp_path / "study.qdpx", "Leadership study", sources())
    code, out, err = cli("import-qdpx", str(qdpx), "--map", str(site / "qdpx-map.yaml"),
                         "--dir", str(site))
    assert code == 0, err
    assert "3 new" not in out and "4 new, 0 updated" in out
    assert "not imported: code 'Unmapped/Politeness' (1 segment) is not in the map" in err
    assert "not imported: code 'Emotion'" in err
    records = imported(site)
    assert len(records) == 4
    by_text = {}
    for src in sources():
        for seg in src.segments[:2] if src.name == "Interview P01" else src.segments:
            rid = "qda-" + guid("selection", f"{src.name}/{seg.start}/{seg.end}")
            assert records[rid]["quote"] == src.text[seg.start:seg.end]
            by_text[src.text[seg.start:seg.end]] = records[rid]
    first = by_text["Meeting face to face built trust — c'était très important 😀"]
    assert first["locator"] == "L2" and first["source"] == "qda-p01"
    assert first["codes"] == ["Trust/Meetings", "Emotion"]
    assert first["bears_on"] == [{"cmoc": "demo-trust", "aspect": "M-res", "role": "supports"}]
    overlap = by_text["très important 😀.\nP01: In Hebrew we say שלום עליכם"]
    assert overlap["locator"] == "L2-3"
    minutes = by_text["resolved tensions; trust grew (see item 4*)"]
    assert minutes["source"] == "qda-board-minutes" and minutes["locator"] == "chars 35-77"
    text = (site / "evidence" / "qda-leadership-study.yaml").read_text("utf-8")
    assert "Real Name" not in text  # the QDA user who coded it is never written
    sources_written = {s["id"]: s for s in yaml.safe_load(text)["sources"]}
    assert sources_written["qda-p02"] == {"id": "qda-p02", "kind": "participant",
                                          "code": "P02", "mode": "interview"}
    assert cli("validate", str(site))[0] == 0

    built = build_site(site, tmp_path / "built")
    assert built.returncode == 0, built.stderr
    for quote in by_text:
        page = html.unescape(re.sub(r"<[^>]+>", "", article(
            tmp_path / "built" / "sources" / by_text[quote]["source"] / "index.html")))
        # Character for character, line breaks included
        assert f"“{quote}”" in page


def test_a_dry_run_writes_nothing(site: Path, tmp_path: Path, cli):
    qdpx = write_qdpx(tmp_path / "study.qdpx", "Leadership study", sources())
    code, out, _ = cli("import-qdpx", str(qdpx), "--map", str(site / "qdpx-map.yaml"),
                       "--dir", str(site), "--dry-run")
    assert code == 0
    assert out.count("would add qda-") == 4 and "nothing was written" in out
    assert not (site / "evidence" / "qda-leadership-study.yaml").exists()


def newer_sources():
    """What the team changed in the QDA program since `sources()`: P02's segment gets longer
    (same GUID), the minutes' segment is deleted, a new one is coded, and a line is added
    above P01's segments (their positions and lines move)."""
    p01 = "Consent recorded.\n" + P01
    newer = sources(p01)
    old_p02 = sources()[1].segments[0]
    newer[1].segments = [segment(P02, "Nobody saw the leaders, so morale fell.\nP02: Ça a "
                                 "duré", "Visibility")]
    newer[1].segments[0].key = f"Interview P02/{old_p02.start}/{old_p02.end}"  # same GUID
    shift = len(p01) - len(P01)
    for seg in newer[0].segments:  # the same selections at new positions
        seg.key = f"Interview P01/{seg.start - shift}/{seg.end - shift}"
    newer[2].segments = [segment(MINUTES, "We met monthly", "Trust")]
    return newer


def test_a_newer_export_updates_in_place_and_leaves_released_records(site: Path,
                                                                     tmp_path: Path, cli):
    qdpx = write_qdpx(tmp_path / "study.qdpx", "Leadership study", sources())
    assert cli("import-qdpx", str(qdpx), "--map", str(site / "qdpx-map.yaml"), "--dir",
               str(site))[0] == 0
    before = imported(site)
    cited = next(r for r in before.values() if r["source"] == "qda-p02")
    v2 = site / "theories" / "demo" / "v2.yaml"
    text = v2.read_text("utf-8")
    v2.write_text(text.replace("    overarching_contexts: [covid-legacy]\n",
                               f"    overarching_contexts: [covid-legacy]\n"
                               f"    evidence: [{cited['id']}]\n", 1), encoding="utf-8")
    code, out, err = cli("release", "demo", "--dir", str(site))
    assert code == 0, err

    newer = newer_sources()
    qdpx2 = write_qdpx(tmp_path / "study-2.qdpx", "Leadership study", newer)
    PROJECT_XSD.validate(project_xml("Leadership study", newer))
    code, out, err = cli("import-qdpx", str(qdpx2), "--map", str(site / "qdpx-map.yaml"),
                         "--dir", str(site))
    assert code == 0, err
    # Every earlier record is shown by a released version (its snapshot): none is updated or
    # removed, whatever the newer export says; the new segment is added
    assert "1 new, 0 updated, 0 unchanged, 0 removed" in out
    assert f"left as it is: {cited['id']}: cited by the released demo version 2" in err
    after = imported(site)
    assert len(after) == 5  # no duplicates: the four released records and the new one
    assert all(after[rid] == record for rid, record in before.items())  # released wording
    assert any(r["quote"] == "We met monthly" for r in after.values())
    assert cli("validate", str(site))[0] == 0


def test_export_codebook_follows_the_schema_and_its_map_brings_coding_back(
        site: Path, tmp_path: Path, cli):
    long = ("Integrated care boards whose members came from organisations with very different "
            "histories")
    edit(site / "theories" / "demo" / "v2.yaml", "funding and governance]",
         f"funding and governance, {long}]")
    book = tmp_path / "demo.qdc"
    code, out, err = cli("export-codebook", "demo", str(book), "--dir", str(site))
    assert code == 0, err
    CODEBOOK_XSD.validate(str(book))
    again = tmp_path / "again.qdc"
    assert cli("export-codebook", "demo", str(again), "--dir", str(site))[0] == 0
    assert again.read_bytes() == book.read_bytes()  # stable GUIDs
    tree = CODEBOOK_XSD.to_dict(str(book))
    names = [c["@name"] for c in tree["Codes"]["Code"]]
    assert names == ["CMOC 1", "Leadership visibility"]
    children = [c["@name"] for c in tree["Codes"]["Code"][0]["Code"]]
    assert children[0] == "C: Organisations with different histories"
    assert "M-res: Frequent face-to-face meetings" in children
    cut = next(c for c in tree["Codes"]["Code"][0]["Code"] if c["@name"].startswith("C: Int"))
    assert len(cut["@name"]) == 63 and cut["@name"].endswith("…")  # cut, QDA programs do
    assert cut["Description"] == long  # the whole text
    assert f'"CMOC 1/{cut["@name"]}":' in (tmp_path / "demo-map.yaml").read_text("utf-8")

    # A team codes a transcript with the codebook's codes, then brings it back.
    # The team keeps the codebook under a folder of their own, and adds a code of their own,
    # which they map by its GUID.
    text = "We meet every week, in person. It makes a difference. Or not."
    paths = ["Theory/CMOC 1/M-res: Frequent face-to-face meetings",
             "Theory/Leadership visibility", "Doubt"]
    qdpx = write_qdpx(tmp_path / "coded.qdpx", "Round two", [Source("Site visit", text, [
        segment(text, "We meet every week, in person.", paths[0]),
        segment(text, "It makes a difference.", paths[1]),
        segment(text, "Or not.", paths[2])])])
    with (tmp_path / "demo-map.yaml").open("a", encoding="utf-8") as f:
        f.write(f'  "{guid("code", "Doubt")}":\n    cmoc: demo-trust\n    role: challenges\n')
    code, out, err = cli("import-qdpx", str(qdpx), "--map", str(tmp_path / "demo-map.yaml"),
                         "--dir", str(site))
    assert code == 0, err
    records = yaml.safe_load((site / "evidence" / "qda-round-two.yaml").read_text("utf-8"))
    bears = {r["quote"]: r["bears_on"] for r in records["evidence"]}
    assert bears == {
        "We meet every week, in person.": [{"cmoc": "demo-trust", "aspect": "M-res",
                                            "role": "supports"}],
        "It makes a difference.": [{"cmoc": "demo-visibility", "role": "supports"}],
        "Or not.": [{"cmoc": "demo-trust", "role": "challenges"}]}


def test_the_map_names_sources_and_speakers_are_their_cases(site: Path, tmp_path: Path, cli):
    text = "Chair: We start.\nA: Protected time matters.\nB: Not on our ward."
    group = Source("Focus group 1", text, [
        segment(text, "Protected time matters.", "Trust"),
        segment(text, "Not on our ward.", "Visibility"),
        segment(text, "We start.", "Trust")])
    group.segments[0].case, group.segments[1].case = "FG1-A", "FG1-B"
    (site / "qdpx-map.yaml").write_text(MAP + """sources:
  "FG1-A":
    id: p1                      # already in evidence/sources.yaml
  "Focus group 1":
    id: fg1
    kind: meeting
    title: Focus group 1, May 2025
    mode: focus-group
""", encoding="utf-8")
    PROJECT_XSD.validate(project_xml("Groups", [group]))
    code, out, err = cli("import-qdpx", str(write_qdpx(tmp_path / "g.qdpx", "Groups", [group])),
                         "--map", str(site / "qdpx-map.yaml"), "--dir", str(site))
    assert code == 0, err
    data = yaml.safe_load((site / "evidence" / "qda-groups.yaml").read_text("utf-8"))
    by_quote = {r["quote"]: (r["source"], r["locator"]) for r in data["evidence"]}
    assert by_quote == {"Protected time matters.": ("p1", "Focus group 1, L2"),
                        "Not on our ward.": ("qda-fg1-b", "Focus group 1, L3"),
                        "We start.": ("fg1", "L1")}
    written = {s["id"]: s for s in data["sources"]}
    assert set(written) == {"qda-fg1-b", "fg1"}  # p1 is the project's own
    assert written["fg1"]["mode"] == "focus-group"
    assert cli("validate", str(site))[0] == 0


def test_without_a_map_codes_are_listed_and_nothing_written(site: Path, tmp_path: Path, cli):
    qdpx = write_qdpx(tmp_path / "study.qdpx", "Leadership study", sources())
    code, out, err = cli("import-qdpx", str(qdpx), "--dir", str(site))
    assert code == 0
    assert "nothing to import" in out
    for path in ("Trust/Meetings", "Trust", "Visibility", "Emotion", "Unmapped/Politeness"):
        assert f"not imported: code '{path}'" in err
    assert not (site / "evidence" / "qda-leadership-study.yaml").exists()


def test_export_codebook_of_an_earlier_version_and_bad_requests(site: Path, tmp_path: Path,
                                                                 cli):
    book = tmp_path / "v1.qdc"
    assert cli("export-codebook", "demo", str(book), "--version", "1", "--dir", str(site))[0] == 0
    CODEBOOK_XSD.validate(str(book))
    names = [c["@name"] for c in CODEBOOK_XSD.to_dict(str(book))["Codes"]["Code"]]
    assert names == ["CMOC 1", "CMOC 2"]
    assert "cmoc: demo-data" in (tmp_path / "v1-map.yaml").read_text("utf-8")
    code, _, err = cli("export-codebook", "demo", str(book), "--version", "9", "--dir", str(site))
    assert code == 1 and "'demo' has no version 9" in err
    code, _, err = cli("export-codebook", "nope", str(book), "--dir", str(site))
    assert code == 1 and "there is no theory 'nope'" in err
    code, _, err = cli("export-codebook", "demo", str(tmp_path / "v1.xml"), "--dir", str(site))
    assert code == 1 and "must end in .qdc" in err


# --- Bad files -------------------------------------------------------------------------------


def _zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return path


def _fails(cli, site: Path, qdpx: Path, *expected: str) -> str:
    before = sorted(p.name for p in (site / "evidence").iterdir())
    code, out, err = cli("import-qdpx", str(qdpx), "--map", str(site / "qdpx-map.yaml"),
                         "--dir", str(site))
    assert code == 1, out + err
    assert "Traceback" not in err and "internal error" not in err
    for part in expected:
        assert part in err
    assert sorted(p.name for p in (site / "evidence").iterdir()) == before
    return err


def test_a_file_that_is_not_a_zip(site: Path, tmp_path: Path, cli):
    bad = tmp_path / "study.qdpx"
    bad.write_text("not a zip", encoding="utf-8")
    _fails(cli, site, bad, "study.qdpx is not a REFI-QDA project", "export the project")


def test_a_zip_without_project_qde(site: Path, tmp_path: Path, cli):
    bad = _zip(tmp_path / "study.qdpx", {"codebook.qdc": b"<CodeBook/>"})
    _fails(cli, site, bad, "has no project.qde")


def test_xml_that_breaks_the_schema(site: Path, tmp_path: Path, cli):
    xml = project_xml("Bad", [Source("S", "Some text here.", [segment("Some text here.",
                                                                      "text", "Trust")])])
    broken = re.sub(rb' startPosition="\d+"', b"", xml)
    with pytest.raises(xmlschema.XMLSchemaValidationError):
        PROJECT_XSD.validate(broken)  # the schema says so too
    _fails(cli, site, _zip(tmp_path / "a.qdpx", {"project.qde": broken, **_texts(xml)}),
           "breaks the REFI-QDA schema", "startPosition")
    bad_guid = xml.replace(b'name="S"', b'name="S" guid="nope"', 1)
    bad_guid = re.sub(rb'<TextSource guid="[^"]+" ', b"<TextSource ", bad_guid)
    _fails(cli, site, _zip(tmp_path / "b.qdpx", {"project.qde": bad_guid, **_texts(xml)}),
           "'nope', not a GUID")
    _fails(cli, site, _zip(tmp_path / "c.qdpx", {"project.qde": b"<Project name='x'>"}),
           "not well-formed XML")
    _fails(cli, site, _zip(tmp_path / "d.qdpx", {"project.qde": b"<Project name='x'/>"}),
           "is not a REFI-QDA project")


def _texts(xml: bytes) -> dict[str, bytes]:
    found = re.findall(rb'internal://([0-9a-f-]+\.txt)', xml)
    return {f"sources/{n.decode()}": b"Some text here." for n in found}


def test_entities_are_refused(site: Path, tmp_path: Path, cli):
    laughs = (b'<?xml version="1.0"?><!DOCTYPE Project [<!ENTITY a "aaaaaaaaaa">'
              b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
              b'<Project xmlns="urn:QDA-XML:project:1.0" name="&b;"/>')
    _fails(cli, site, _zip(tmp_path / "e.qdpx", {"project.qde": laughs}),
           "declares a DTD or entities", "refused as unsafe")


def test_a_text_outside_the_file(site: Path, tmp_path: Path, cli):
    xml = project_xml("Bad", [Source("S", "Some text here.", [])])
    outside = re.sub(rb'plainTextPath="internal://', b'plainTextPath="relative://', xml)
    _fails(cli, site, _zip(tmp_path / "j.qdpx", {"project.qde": outside}),
           "the text of the source 'S' is not inside the file", "sources included")
    _fails(cli, site, _zip(tmp_path / "k.qdpx", {"project.qde": xml}),
           "the text of the source 'S'", "is missing from the file")


def test_a_selection_outside_its_source(site: Path, tmp_path: Path, cli):
    text = "Short."
    src = Source("S", text, [segment(text, "Short", "Trust")])
    src.segments[0].end = 60
    xml = project_xml("Bad", [src])
    PROJECT_XSD.validate(xml)  # valid XML: only the text shows it is wrong
    _fails(cli, site, write_qdpx(tmp_path / "f.qdpx", "Bad", [src]),
           "runs from character 0 to 60, outside the source's 6 characters")


def test_unsafe_paths_in_the_zip(site: Path, tmp_path: Path, cli):
    xml = project_xml("Bad", [])
    for name in ("../evil.txt", "/etc/evil", "sources\\..\\evil", "C:/evil"):
        err = _fails(cli, site, _zip(tmp_path / "g.qdpx", {"project.qde": xml, name: b"x"}),
                     "unsafe paths")
        assert name in err


def test_a_damaged_member(site: Path, tmp_path: Path, cli):
    xml = project_xml("Bad", [])
    bad = _zip(tmp_path / "l.qdpx", {"project.qde": xml})
    data = bytearray(bad.read_bytes())
    at = data.index(b"PK\x03\x04") + 30 + len("project.qde") + 5  # inside its data
    data[at] ^= 0xFF
    bad.write_bytes(bytes(data))
    _fails(cli, site, bad, "'project.qde' cannot be unpacked")


def test_zip_bombs(site: Path, tmp_path: Path, cli, monkeypatch):
    from living_theories import qda

    xml = project_xml("Bad", [Source("S", "x" * 10, [])])
    monkeypatch.setattr(qda, "MAX_READ", 50_000)  # a small limit, not gigabytes of zeros
    big = {"project.qde": xml, **{k: b"\0" * 200_000 for k in _texts(xml)}}
    _fails(cli, site, _zip(tmp_path / "h.qdpx", big), "looks like a zip bomb")
    monkeypatch.setattr(qda, "MAX_MEMBERS", 5)
    many = {"project.qde": xml, **{f"sources/{i}.txt": b"x" for i in range(6)}}
    _fails(cli, site, _zip(tmp_path / "i.qdpx", many), "holds 7 files", "zip bomb")


def test_problems_in_the_map_and_a_result_that_would_not_validate(site: Path,
                                                                   tmp_path: Path, cli):
    qdpx = write_qdpx(tmp_path / "study.qdpx", "Leadership study", sources())
    (site / "qdpx-map.yaml").write_text(
        'codes:\n  Trust:\n    cmoc: no-such-cmoc\n    aspect: X\n', encoding="utf-8")
    err = _fails(cli, site, qdpx, "there is no CMOC 'no-such-cmoc'", "the aspect 'X'",
                 "2 problems found in the map")
    (site / "qdpx-map.yaml").write_text(
        MAP + 'sources:\n  "Board minutes":\n    kind: participant\n', encoding="utf-8")
    err = _fails(cli, site, qdpx, "qda-leadership-study.yaml", "anonymised code",
                 "nothing was written")
    assert err


def test_a_newer_export_updates_records_no_released_version_shows(site: Path, tmp_path: Path,
                                                                    cli):
    qdpx = write_qdpx(tmp_path / "study.qdpx", "Leadership study", sources())
    assert cli("import-qdpx", str(qdpx), "--map", str(site / "qdpx-map.yaml"), "--dir",
               str(site))[0] == 0
    before = imported(site)
    newer = newer_sources()
    qdpx2 = write_qdpx(tmp_path / "study-2.qdpx", "Leadership study", newer)
    code, out, err = cli("import-qdpx", str(qdpx2), "--map", str(site / "qdpx-map.yaml"),
                         "--dir", str(site))
    assert code == 0, err
    assert "1 new, 3 updated, 0 unchanged, 1 removed" in out, out + err
    after = imported(site)
    assert len(after) == 4  # updated in place: no duplicates
    p01_records = [r for r in after.values() if r["source"] == "qda-p01"]
    assert sorted(r["id"] for r in p01_records) == sorted(
        r["id"] for r in before.values() if r["source"] == "qda-p01")
    assert sorted(r["locator"] for r in p01_records) == ["L3", "L3-4"]
    assert cli("validate", str(site))[0] == 0
