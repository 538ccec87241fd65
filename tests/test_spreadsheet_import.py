"""Importing CMOC spreadsheets: formulas without a saved value, dates, CSVs from Excel in
European locales."""

from __future__ import annotations

import csv
import datetime as dt
import zipfile

import openpyxl
import yaml
from living_theories.spreadsheets import COLUMNS, read_rows


def test_formula_without_a_saved_value_is_reported_not_read_as_empty(tmp_path):
    book = openpyxl.Workbook()  # openpyxl saves formulas without calculating them
    sheet = book.active
    sheet.title = "CMOCs"
    sheet.append(COLUMNS)
    sheet.append(["demo", 3, "demo-new", "=A2", "", "C", "M", "R", "O", "", "", ""])
    book.save(tmp_path / "t.xlsx")
    _, problems = read_rows(tmp_path / "t.xlsx")
    assert [p.format("t.xlsx") for p in problems] == [
        "t.xlsx: sheet 'CMOCs', row 2, column 'label': this cell holds a formula (=A2) with "
        "no saved value - open the file in Excel and save it, or type the value"]


def test_formula_whose_saved_value_is_empty_text_is_an_empty_cell(tmp_path):
    book = openpyxl.Workbook()
    book.active.append(COLUMNS)
    book.active.append(["demo", 3, "demo-new", '=IF(1,"","x")', "", "C", "M", "R", "O", "", "",
                        ""])
    book.save(tmp_path / "raw.xlsx")
    # Excel saves a formula that gives "" as type "str" with an empty value
    with zipfile.ZipFile(tmp_path / "raw.xlsx") as raw, \
            zipfile.ZipFile(tmp_path / "t.xlsx", "w") as out:
        for item in raw.infolist():
            data = raw.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b'<c r="D2">', b'<c r="D2" t="str">')
            out.writestr(item, data)
    rows, problems = read_rows(tmp_path / "t.xlsx")
    assert not problems and rows[0].cells["label"] == ""


def test_import_with_an_unsaved_formula_writes_nothing(project, cli, tmp_path):
    book = openpyxl.Workbook()
    book.active.append(COLUMNS)
    book.active.append(["trust", 1, "trust-a", "", "", "=F3", "M", "R", "O", "", "", ""])
    book.save(tmp_path / "t.xlsx")
    code, _, err = cli("import-cmocs", str(tmp_path / "t.xlsx"), "--dir", str(project))
    assert code == 1 and "formula (=F3) with no saved value" in err
    assert "nothing was written" in err and not (project / "theories/trust").exists()


def test_date_cells_read_as_iso_dates(tmp_path):
    book = openpyxl.Workbook()
    book.active.append(COLUMNS)
    book.active.append(["demo", 3, "demo-new", dt.datetime(2024, 1, 1), dt.date(2024, 3, 5),
                        dt.datetime(2024, 1, 1, 9, 30), "M", "R", "O", "", "", ""])
    book.save(tmp_path / "t.xlsx")
    rows, problems = read_rows(tmp_path / "t.xlsx")
    assert not problems
    cells = rows[0].cells
    assert (cells["label"], cells["title"], cells["context"]) == (
        "2024-01-01", "2024-03-05", "2024-01-01 09:30")


def test_csv_from_excel_in_a_european_locale_just_works(project, cli, tmp_path):
    path = tmp_path / "cmocs.csv"
    with path.open("w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out, delimiter=";")
        writer.writerow(COLUMNS)
        writer.writerow(["trust", "1", "trust-a", "CMOC 1", "", "Funding, and governance",
                         "Meetings", "Trust", "Joint decisions", "", "", "p1-trust"])
    code, out, err = cli("import-cmocs", str(path), "--dir", str(project))
    assert code == 0, err
    cmoc = yaml.safe_load((project / "theories/trust/v1.yaml").read_text())["cmocs"][0]
    assert cmoc["contexts"] == ["Funding, and governance"] and cmoc["evidence"] == ["p1-trust"]
