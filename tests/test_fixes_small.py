"""Small fixes, one test (or two) each: M-/O- summaries, names in `new`, spreadsheet cells,
word diffs, follow-on errors, visibility advice, unwritable folders and usage errors."""

from __future__ import annotations

import csv
import datetime as dt
import html
import io
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import openpyxl
import pytest
import yaml
from conftest import article, build_site, edit
from living_theories.consultations import feedback_template
from living_theories.history import word_diff
from living_theories.project import load_project
from living_theories.spreadsheets import COLUMNS, read_rows

# --- 1. the feedback template labels an M- mechanism and an O- outcome -------------


def test_feedback_template_keeps_the_meaning_of_an_absent_negative_cmoc(project):
    loaded, _ = load_project(project)
    text = feedback_template(loaded.graph, loaded.graph.corpus.sources["round-2"])
    rows = {r["cmoc"]: r for r in csv.DictReader(io.StringIO(text))}
    assert rows["demo-visibility"]["cmoc_summary"] == (
        "M resource: (M−) Leaders are visible to the workforce; O: (O−) Lower morale")
    assert "−)" not in rows["demo-trust"]["cmoc_summary"]  # no sign stated: unmarked
    assert "+)" not in rows["demo-trust"]["cmoc_summary"]


# --- 2. `new` with names that mean something in YAML ----------------------------------------


@pytest.mark.parametrize("name", ["Leadership: a realist review", "Smith study #2",
                                  '"ICS" study \\ 2024', "yes", "- a list?"])
def test_new_keeps_any_name_exactly(tmp_path, cli, name):
    root = tmp_path / "site-src"
    code, _, err = cli("new", str(root), "--name", name)
    assert code == 0, err
    assert yaml.safe_load((root / "mkdocs.yml").read_text())["site_name"] == name
    assert yaml.safe_load((root / "theories/project.yaml").read_text())["title"] == name
    assert cli("validate", str(root))[0] == 0


def test_new_site_with_a_tricky_name_builds_and_shows_it(tmp_path, cli):
    name = 'Leadership: the "ICS" review #2 \\ draft'
    root = tmp_path / "site-src"
    assert cli("new", str(root), "--name", name)[0] == 0
    run = build_site(root, tmp_path / "out")
    assert run.returncode == 0, run.stderr
    page = html.unescape((tmp_path / "out/index.html").read_text())
    assert f"<title>Home - {name}</title>" in page
    assert name in html.unescape(article(tmp_path / "out/index.html"))


def test_new_in_a_folder_whose_name_has_a_colon(tmp_path, cli):
    root = tmp_path / "Leadership: review"
    code, _, err = cli("new", str(root))
    assert code == 0, err
    assert yaml.safe_load((root / "mkdocs.yml").read_text())["site_name"] == "Leadership: review"
    assert cli("validate", str(root))[0] == 0


def test_new_site_ignores_review_builds(tmp_path, cli):
    assert cli("new", str(tmp_path / "s"))[0] == 0
    ignored = (tmp_path / "s/.gitignore").read_text().split()
    guide = (Path(__file__).parent.parent / "docs/guide/consultation.md").read_text()
    assert "-d review-site" in guide and "review-site/" in ignored and "site/" in ignored


# --- 3. spreadsheet cells: formulas without a saved value, dates, ';' CSVs ------------------


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


# --- 4. word diffs mark only what changed ---------------------------------------------------


def test_appended_prepended_and_inserted_words_alone_are_marked():
    old = "Collaborative decisions"
    assert word_diff(old, "Collaborative decisions and resolved tensions") == [
        ("equal", "Collaborative decisions "), ("insert", "and resolved tensions")]
    assert word_diff("decisions", "Collaborative decisions") == [
        ("insert", "Collaborative "), ("equal", "decisions")]
    assert word_diff(old, "Collaborative, shared decisions") == [
        ("equal", "Collaborative"), ("insert", ", shared "), ("equal", "decisions")]
    assert word_diff("Collaborative decisions and resolved tensions", old) == [
        ("equal", "Collaborative decisions "), ("delete", "and resolved tensions")]
    assert word_diff("A B", "A") == [("equal", "A "), ("delete", "B")]
    assert word_diff("a clear", "a shared") == [
        ("equal", "a "), ("delete", "clear "), ("insert", "shared")]


def test_new_text_is_exactly_the_equal_and_inserted_words():
    pairs = [("Leaders build trust", "Leaders quickly build trust"),
             ("histories here", "histories; funding here"),
             ("a clear vision", "a shared, clear vision for all")]
    for old, new in pairs:
        segments = word_diff(old, new)
        assert "".join(t for op, t in segments if op != "delete") == new


def test_cli_diff_and_history_page_mark_only_the_appended_words(project, cli, tmp_path):
    code, out, _ = cli("diff", "demo", "1", "2", "--dir", str(project), "--colour", "never")
    assert code == 0
    assert "Outcome: Collaborative decisions {+and resolved tensions+}" in out
    edit(project / "mkdocs.yml", "  - living-theories\n",
         "  - living-theories:\n      include_drafts: true\n")  # v2 is a draft
    run = build_site(project, tmp_path / "site")
    assert run.returncode == 0, run.stderr
    page = article(tmp_path / "site/theories/demo/history/index.html")
    assert "<ins>and resolved tensions</ins>" in page
    assert "<del>decisions" not in page and "<ins>decisions" not in page


# --- 5. no follow-on errors -----------------------------------------------------------------


def test_a_version_with_a_schema_error_is_not_also_reported_missing(project, cli):
    for name in ("v1.yaml", "v2.yaml"):
        with (project / "theories/demo" / name).open("a", encoding="utf-8") as f:
            f.write("statment: a typo\n")
    code, _, err = cli("validate", str(project))
    assert code == 1
    assert err.count("unknown field 'statment'") == 2
    assert "has no versions" not in err
    assert "2 problems found" in err


def test_a_bibliography_that_is_not_utf8_is_one_problem(project, cli):
    bib = project / "references.bib"
    bib.write_bytes(bib.read_text(encoding="utf-8").encode("utf-8")
                    + "@misc{extra, title={Caf\xe9}}\n".encode("cp1252"))
    code, _, err = cli("validate", str(project))
    assert code == 1
    assert "references.bib" in err and "not UTF-8" in err
    assert "is not in references.bib" not in err and "reference '" not in err
    assert "1 problem found" in err


def test_a_missing_citation_is_still_reported(project, cli):
    edit(project / "theories/demo/v2.yaml", "@senge2015", "@nobody2020")
    code, _, err = cli("validate", str(project))
    assert code == 1 and "the citation @nobody2020 is not in references.bib" in err


# --- 6. public records leaning on internal ones: advice that can be followed ----------------


def test_internal_evidence_behind_a_version_names_it_and_advice_works(project, cli):
    evidence = project / "evidence/interviews.yaml"
    edit(evidence, "  - id: p1-trust\n", "  - id: p1-trust\n    visibility: internal\n")
    code, _, err = cli("validate", str(project))
    assert code == 1
    line = next(x for x in err.splitlines() if x.startswith("theories/demo/v2.yaml:17:"))
    assert "internal evidence 'p1-trust' (in evidence/interviews.yaml)" in line
    assert "remove this reference, or make the evidence public" in line
    assert "visibility: internal' on" not in err  # a version has no visibility field
    edit(evidence, "    visibility: internal\n", "")  # the advice, followed
    assert cli("validate", str(project))[0] == 0


def test_internal_source_behind_public_evidence_names_both(project, cli):
    edit(project / "evidence/sources.yaml", "    role: ICB member\n",
         "    role: ICB member\n    visibility: internal\n")
    code, _, err = cli("validate", str(project))
    assert code == 1
    assert re.search(r"evidence/interviews\.yaml:3: this evidence record is public but refers "
                     r"to the internal source 'p1' \(in evidence/sources\.yaml\) - make the "
                     r"source public .*, or set 'visibility: internal' on this evidence record",
                     err), err


# --- 7. folders that cannot be written, files given as folders, usage errors ----------------


def test_unwritable_folders_are_one_line_errors(cli, tmp_path):
    a_file = tmp_path / "notes.txt"
    a_file.write_text("x")
    for command, folder in (("schema", a_file / "schema"), ("new", a_file / "site")):
        code, _, err = cli(command, str(folder))
        assert code == 1, err
        assert err.strip() == (f"error: cannot write to '{folder}': '{a_file}' is a file, not "
                               "a folder - choose a folder you can write to, e.g. one inside "
                               "your home folder")
    assert a_file.read_text() == "x"


def test_new_failing_halfway_leaves_nothing_behind(cli, tmp_path, monkeypatch):
    import living_theories.scaffold as scaffold

    def disk_full(*_: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(scaffold, "write_table", disk_full)
    code, _, err = cli("new", str(tmp_path / "site"))
    assert code == 1 and "the disk is full" in err and "internal error" not in err
    assert not (tmp_path / "site").exists()
    (tmp_path / "empty").mkdir()
    assert cli("new", str(tmp_path / "empty"))[0] == 1
    assert list((tmp_path / "empty").iterdir()) == []


def test_new_in_a_place_where_folders_cannot_be_made(cli):
    if not Path("/proc/self").exists():
        pytest.fail("this test needs Linux's /proc")
    code, _, err = cli("new", "/proc/living-theories-test")
    assert code == 1 and "internal error" not in err
    assert "cannot write to '/proc/living-theories-test'" in err


def test_validate_a_file_says_it_is_a_file(cli, tmp_path):
    (tmp_path / "mkdocs.yml").write_text("site_name: x\n")
    code, _, err = cli("validate", str(tmp_path / "mkdocs.yml"))
    assert code == 1 and "is a file, not a folder" in err and "does not exist" not in err
    code, _, err = cli("diff", "demo", "1", "2", "--dir", str(tmp_path / "nowhere"))
    assert code == 1 and "'" + str(tmp_path / "nowhere") + "' does not exist" in err


def test_usage_errors_exit_1_with_argparse_message(cli, capsys):
    with pytest.raises(SystemExit) as exc:
        cli("diff", "demo", "one", "2")
    assert exc.value.code == 1
    assert "argument OLD: invalid int value: 'one'" in capsys.readouterr().err
    run = subprocess.run([sys.executable, "-m", "living_theories.cli", "no-such-command"],
                         capture_output=True, text=True)
    assert run.returncode == 1 and "invalid choice: 'no-such-command'" in run.stderr
    assert "usage: living-theories" in run.stderr and "Traceback" not in run.stderr
