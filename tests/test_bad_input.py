"""One small broken project per kind of error: exit code 1, file and line named, no traceback.

Each case edits the minimal valid project; the expected line is where a researcher would look.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from conftest import PROJECTS, edit

V1 = "theories/demo/v1.yaml"
V2 = "theories/demo/v2.yaml"
THEORY = "theories/demo/theory.yaml"
PROJ = "theories/project.yaml"
SRC = "evidence/sources.yaml"
EV = "evidence/interviews.yaml"
BIB = "references.bib"


def replace(file: str, old: str, new: str):
    return lambda root: edit(root / file, old, new)


def write(file: str, text: str | bytes):
    def do(root: Path) -> None:
        path = root / file
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, encoding="utf-8")
    return do


def append(file: str, text: str):
    return lambda root: (root / file).open("a", encoding="utf-8").write(text)


# (name, change, file named, line named, words the message must contain)
CASES = [
    ("yaml syntax", replace(V2, "stage: refined", "stage: [refined"), V2, 1, "not closed"),
    ("unquoted colon", replace(SRC, "title: ICB meeting, September 2022",
                               "title: ICB meeting: September 2022"), SRC, 9, "':'"),
    ("tab indentation", replace(EV, "    source: p1\n", "\tsource: p1\n"), EV, 3, "tab"),
    ("not utf-8", write(EV, "evidence:\n  - id: x\n    quote: caf\xe9\n".encode("latin-1")),
     EV, 3, "UTF-8"),
    ("duplicate yaml key", replace(V2, "stage: refined", "stage: refined\nstage: final"),
     V2, 2, "appears twice"),
    ("file not a mapping", write(THEORY, "- just\n- a list\n"), THEORY, 1, "field: value"),
    ("wrong type number", replace(THEORY, "title: Relationships build trust", "title: 42"),
     THEORY, 1, "should be text"),
    ("wrong type list", replace(V2, "contexts: [Organisations with different histories, "
                                "funding and governance]", "contexts: just one"),
     V2, 8, "should be a list"),
    ("missing field", replace(V2, "stage: refined\n", ""), V2, 1, "the field 'stage' is missing"),
    ("missing evidence source", replace(EV, "    source: p1\n", ""), EV, 2,
     "the evidence names no source"),
    ("unknown field with suggestion", replace(V2, "    label: CMOC 1\n", "    lable: CMOC 1\n"),
     V2, 7, "did you mean 'label'"),
    ("unknown top-level key", append(EV, "evidense: []\n"), EV, 23, "unknown field"),
    ("bad enum", replace(EV, "role: supports", "role: supported"), EV, 9, "supports"),
    ("bad id", replace(SRC, "id: p1\n", "id: P1/1\n"), SRC, 2, "not a valid id"),
    ("bad date", replace(V2, "date: 2024-02-01", "date: 1st Feb 2024"), V2, 3, "not a date"),
    ("duplicate evidence id", replace(EV, "id: sept-cooperation", "id: p1-trust"), EV, 10,
     "used twice"),
    ("duplicate cmoc id in version", replace(V2, "id: demo-visibility", "id: demo-trust"),
     V2, 18, "used twice"),
    ("evidence -> unknown cmoc", replace(EV, "cmoc: demo-trust", "cmoc: demo-trsut"), EV, 7,
     "CMOC 'demo-trsut' does not exist"),
    ("evidence -> unknown source", replace(EV, "source: p1\n", "source: p9\n"), EV, 3,
     "source 'p9' does not exist"),
    ("evidence -> unknown context", replace(EV, "context: covid-legacy", "context: covid"),
     EV, 16, "overarching context 'covid'"),
    ("source -> unknown bibtex key", replace(SRC, "reference: pawson1997",
                                             "reference: pawson1998"), SRC, 12, "pawson1998"),
    ("lineage -> unknown cmoc", replace(V2, "from: [demo-trust]", "from: [demo-trusted]"),
     V2, 15, "demo-trusted"),
    ("lineage evidence -> unknown", replace(V2, "evidence: [p1-trust]\n  - id",
                                            "evidence: [nope]\n  - id"), V2, 17,
     "evidence 'nope'"),
    ("bad lineage shape", replace(V2, "relation: refined\n      from: [demo-trust]",
                                  "relation: merged\n      from: [demo-trust]"), V2, 13,
     "at least two"),
    ("lineage in first version", replace(V1, "    outcomes: [Better targeting]\n",
                                         "    outcomes: [Better targeting]\n    lineage: "
                                         "{relation: refined, from: [x]}\n"), V1, 18,
     "no previous version"),
    ("dropped cmoc not in previous", replace(V2, "cmoc: demo-data", "cmoc: demo-gone"), V2, 32,
     "demo-gone"),
    ("unknown domain", replace(THEORY, "domain: relating", "domain: relate"), THEORY, 2,
     "domain 'relate'"),
    ("unknown substantive theory", replace(THEORY, "[systems-leadership]", "[systems]"),
     THEORY, 3, "substantive theory 'systems'"),
    ("unknown overarching context on cmoc", replace(V2, "overarching_contexts: [covid-legacy]",
                                                    "overarching_contexts: [covid]"), V2, 12,
     "covid"),
    ("unknown citation key", replace(V2, "as @senge2015 argued", "as @senge2016 argued"), V2,
     4, "@senge2016"),
    ("unknown citation in a list item", replace(V2, "[Trust and understanding]\n    outcomes: "
                                                "[Collaborative decisions and",
                                                "\n      - Trust [@nobody2020]\n    outcomes: "
                                                "[Collaborative decisions and"), V2, 11,
     "@nobody2020"),
    ("versions out of order", replace(V2, "date: 2024-02-01", "date: 2022-02-01"), V2, 3,
     "date order"),
    ("version gap", lambda root: (root / V2).rename(root / "theories/demo/v3.yaml"),
     "theories/demo/v3.yaml", 1, "gap"),
    ("released after draft", lambda root: (
        edit(root / V1, "status: released", "status: draft"),
        edit(root / V2, "status: draft", "status: released")),
     V1, 2, "cannot go back to draft"),
    ("edited released version", replace(V1, "5 key-informant interviews",
                                        "6 key-informant interviews"), V1, 1,
     "released and is frozen"),
    ("deleted released version", lambda root: (
        (root / V1).unlink(), edit(root / V2, "lineage:\n      relation: refined\n      from: "
                                   "[demo-trust]", "lineage:\n      relation: new"),
        edit(root / V2, "dropped:\n  - cmoc: demo-data\n    reason: Lacked evidence.\n", "")),
     V1, None, "was released, but its file is missing"),
    ("released but not locked", lambda root: (root / "living-theories.lock").unlink(), V1, 2,
     "not in living-theories.lock"),
    ("internal source behind public evidence", replace(SRC, "    role: ICB member\n",
                                                       "    role: ICB member\n    visibility: "
                                                       "internal\n"), EV, 3, "internal source"),
    ("internal evidence behind public version", replace(EV, "  - id: p1-trust\n",
                                                        "  - id: p1-trust\n    visibility: "
                                                        "internal\n"), V2, 17, "internal evidence"),
    ("evidence kind contradicts source", replace(EV, "    source: p1\n",
                                                 "    source: p1\n    kind: study\n"), EV, 4,
     "kind 'study'"),
    ("evidence without quote or summary", replace(EV, "    summary: Realist evaluation asks what "
                                                  "works, for whom, in what circumstances.\n", ""),
     EV, 17, "quote"),
    ("bibtex duplicate key", append(BIB, "\n@book{senge2015,\n  title = {Again},\n}\n"), BIB,
     25, "used by two entries"),
    ("bibtex unparsable entry", append(BIB, "\n@article{broken\n  title = {x},\n}\n"), BIB, 25,
     "cannot be read"),
    ("bibtex keys differ in case", append(BIB, "\n@book{Senge2015,\n  title = {Again},\n}\n"),
     BIB, 25, "differ only in capitals"),
    ("a list as a field name", append(THEORY, "? [a, b]\n: x\n"), THEORY, 4,
     "used as a field name"),
    ("unexpected file in theories", write("theories/demo/notes.yaml", "a: 1\n"),
     "theories/demo/notes.yaml", None, "unexpected file"),
    ("theory folder without theory.yaml", write("theories/other/v1.yaml", "stage: initial\n"),
     "theories/other", None, "no theory.yaml"),
]


@pytest.mark.parametrize("change,file,line,words", [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_bad_input_is_reported_with_file_and_line(project, cli, change, file, line, words):
    change(project)
    code, out, err = cli("validate", str(project))
    assert code == 1, out + err
    assert "Traceback" not in out + err
    assert out == ""
    where = f"{file}:{line}:" if line is not None else f"{file}:"
    matching = [row for row in err.splitlines() if row.startswith(where) and words in row]
    assert matching, f"expected a line starting {where!r} containing {words!r} in:\n{err}"
    # every problem line says what to do about it
    for row in err.splitlines():
        if row and not row.endswith("found.") and not row.startswith("Some files could not"):
            assert " - " in row, row


def kind(row: str) -> str:
    """A problem's message with its place and its particulars (names, numbers) taken out."""
    message = row.split(": ", 1)[1] if re.match(r"[^ ]+:(\d+:)? ", row) else row
    message = re.sub(r"'[^']*'|\"[^\"]*\"|@[\w:.-]+", "X", message)
    return re.sub(r"\d+", "N", message)


def test_there_are_at_least_25_error_kinds(tmp_path, cli):
    # Counted from what validate says about each broken project, not from this file's list:
    # 25 kinds of mistake must get 25 different explanations.
    kinds = set()
    for i, (_, change, file, line, _words) in enumerate(CASES):
        root = shutil.copytree(PROJECTS / "minimal", tmp_path / str(i))
        change(root)
        code, _, err = cli("validate", str(root))
        where = f"{file}:{line}:" if line is not None else f"{file}:"
        rows = [row for row in err.splitlines() if row.startswith(where)]
        assert code == 1 and rows, err
        kinds.update(kind(row) for row in rows)
    assert len(kinds) >= 25, sorted(kinds)


def test_all_problems_are_reported_at_once(project, cli):
    edit(project / EV, "cmoc: demo-trust", "cmoc: nope-1")
    edit(project / SRC, "reference: pawson1997", "reference: nope1997")
    edit(project / THEORY, "domain: relating", "domain: nope")
    code, _, err = cli("validate", str(project))
    assert code == 1
    assert "nope-1" in err and "nope1997" in err and "'nope'" in err
    assert "3 problems found." in err


def test_valid_project_prints_summary(project, cli):
    code, out, err = cli("validate", str(project))
    assert code == 0, err
    assert out.strip() == ("ok: 1 theory, 2 versions, 3 CMOCs, 5 evidence records, 5 sources, "
                           "3 references")


def test_an_invalid_record_does_not_cascade_into_dangling_references(project, cli):
    edit(project / EV, "role: supports", "role: supported")  # p1-trust becomes invalid
    code, _, err = cli("validate", str(project))
    assert code == 1
    assert "supported" in err
    assert "evidence 'p1-trust' does not exist" not in err
    assert "1 problem found." in err
