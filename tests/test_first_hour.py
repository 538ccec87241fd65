"""A researcher's first hour: a new site, CMOC tables from Excel, and back again."""

from __future__ import annotations

import csv
from pathlib import Path

import openpyxl
import yaml
from conftest import build_site


def test_new_makes_a_site_that_builds_straight_away(tmp_path, cli):
    code, out, err = cli("new", str(tmp_path / "site-src"), "--name", "Nursing theories")
    assert code == 0, err
    root = tmp_path / "site-src"
    for name in ["mkdocs.yml", "README.md", "references.bib", "living-theories.lock",
                 "theories/example/v1.yaml", "theories/example/v2.yaml",
                 "evidence/interviews.yaml", ".github/workflows/publish.yml",
                 ".vscode/settings.json", "schema/version.schema.json", "cmoc-table.xlsx",
                 "requirements.txt"]:
        assert (root / name).exists(), name
    assert "site_name: Nursing theories" in (root / "mkdocs.yml").read_text()
    assert cli("validate", str(root))[0] == 0
    workflow = yaml.safe_load((root / ".github/workflows/publish.yml").read_text())
    steps = [s.get("run", s.get("uses", "")) for s in workflow["jobs"]["build"]["steps"]]
    assert "living-theories validate" in steps and "mkdocs build --strict" in steps
    assert any(s.startswith("actions/deploy-pages") for s in
               [x.get("uses", "") for x in workflow["jobs"]["deploy"]["steps"]])
    assert (root / "requirements.txt").read_text().splitlines()[-1] == \
        "./wheels/living_theories-0.1.0-py3-none-any.whl"  # installable now: see test_install
    assert (root / "wheels/living_theories-0.1.0-py3-none-any.whl").is_file()
    assert build_site(root, tmp_path / "out").returncode == 0
    # The example's versions are drafts (test_zenodo.py): a review build shows them.
    run = build_site(root, tmp_path / "review", env={"LIVING_THEORIES_REVIEW": "1"})
    assert run.returncode == 0, run.stderr
    assert (tmp_path / "review/theories/example/v2/index.html").exists()
    assert (tmp_path / "review/theories/example/history/index.html").exists()


def test_new_never_overwrites(tmp_path, cli):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine/notes.txt").write_text("precious")
    code, _, err = cli("new", str(tmp_path / "mine"))
    assert code == 1 and "not an empty folder" in err
    assert (tmp_path / "mine/notes.txt").read_text() == "precious"


def workbook(path: Path, rows: list[list], sheet: str = "CMOCs") -> Path:
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = sheet
    ws.append(["Theory", "Version", "CMOC id", "Label", "Context", "Mechanism resource",
               "Mechanism reasoning", "Outcome", "Outcome direction", "Evidence ids"])
    for row in rows:
        ws.append(row)
    notes = book.create_sheet("Notes")
    notes.append(["Anything else in the workbook is left alone"])
    book.save(path)
    return path


def test_import_cmocs_from_excel(project, cli, tmp_path):
    path = workbook(tmp_path / "cmocs.xlsx", [
        ["trust", 1, "trust-meetings", "CMOC 1", "Partners new to each other\nDifferent funding",
         "Frequent face-to-face meetings", "Trust", "Joint decisions", "", "p1-trust"],
        ["trust", 1, "trust-silos", "CMOC 2", "Money gets tight", "", "",
         "Retreat into organisations", "negative", ""],
    ])
    code, out, err = cli("import-cmocs", str(path), "--dir", str(project))
    assert code == 0, err
    assert "imported 2 CMOCs" in out
    data = yaml.safe_load((project / "theories/trust/v1.yaml").read_text())
    assert data["status"] == "draft" and data["stage"] == "initial"
    first, second = data["cmocs"]
    assert first["contexts"] == ["Partners new to each other", "Different funding"]
    assert first["evidence"] == ["p1-trust"]
    assert second["outcome"] == "negative" and "mechanism_resources" not in second
    assert cli("validate", str(project))[0] == 0


def test_import_cmocs_reports_every_bad_cell_and_writes_nothing(project, cli, tmp_path):
    path = workbook(tmp_path / "bad.xlsx", [
        ["Trust Theory", 1, "ok-id", "", "C", "M", "R", "O", "", ""],
        ["trust", "two", "trust-a", "", "C", "M", "R", "O", "", ""],
        ["trust", 1, "trust-b", "", "C", "M", "R", "O", "bad", "no-such-evidence"],
        ["demo", 1, "demo-new", "", "C", "M", "R", "O", "", ""],
        ["trust", 1, "trust-c", "", "", "", "", "", "", ""],
    ])
    def files() -> list[Path]:  # the project's own files (not the tool's .cache)
        return sorted(p.relative_to(project) for p in project.rglob("*")
                      if ".cache" not in p.relative_to(project).parts)

    before = files()
    code, out, err = cli("import-cmocs", str(path), "--dir", str(project))
    assert code == 1
    assert "bad.xlsx: sheet 'CMOCs', row 2, column 'theory': 'Trust Theory' is not a theory id" \
        in err
    assert "row 3, column 'version': 'two' is not a version number" in err
    assert "row 4, column 'outcome_direction': 'bad' is not allowed" in err
    assert "row 4, column 'evidence_ids': there is no evidence record 'no-such-evidence'" in err
    assert "row 5, column 'version': version 1 of 'demo' is released and frozen" in err
    assert "row 6, column 'context': the row has no context, mechanism or outcome" in err
    assert "nothing was written" in err and "Traceback" not in err
    assert files() == before


def test_import_cmocs_undoes_everything_if_the_project_would_not_validate(project, cli,
                                                                          tmp_path):
    # demo-trust is a CMOC id of the theory 'demo': another theory may not reuse it.
    path = workbook(tmp_path / "clash.xlsx", [
        ["other", 1, "demo-trust", "", "C", "M", "R", "O", "", ""]])
    code, _, err = cli("import-cmocs", str(path), "--dir", str(project))
    assert code == 1 and "also used by the theory" in err
    assert not (project / "theories/other").exists()


def test_import_cmocs_missing_column(project, cli, tmp_path):
    path = tmp_path / "cmocs.csv"
    path.write_text("theory,version,cmoc_id,context\ntrust,1,trust-a,C\n")
    code, _, err = cli("import-cmocs", str(path), "--dir", str(project))
    assert code == 1
    assert "cmocs.csv: row 1, column 'mechanism_resource': this column is missing" in err


def test_export_and_import_round_trip(project, cli, tmp_path):
    out = tmp_path / "all.xlsx"
    code, text, _ = cli("export-cmocs", str(out), "--dir", str(project))
    assert code == 0 and "wrote 4 CMOCs" in text
    rows = list(openpyxl.load_workbook(out).active.iter_rows(values_only=True))
    assert rows[0][:3] == ("theory", "version", "cmoc_id")
    assert ("demo", "2", "demo-visibility") in [r[:3] for r in rows]
    # the draft version's rows import back unchanged (the released one is refused)
    draft = tmp_path / "draft.csv"
    with draft.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(rows[0])
        w.writerows([r for r in rows[1:] if r[1] == "2"])
    before = yaml.safe_load((project / "theories/demo/v2.yaml").read_text())
    code, _, err = cli("import-cmocs", str(draft), "--dir", str(project))
    assert code == 0, err
    after = yaml.safe_load((project / "theories/demo/v2.yaml").read_text())
    assert [c["id"] for c in after["cmocs"]] == [c["id"] for c in before["cmocs"]]
    assert after["cmocs"][0]["lineage"] == before["cmocs"][0]["lineage"]  # kept
    assert after["cmocs"][0]["contexts"] == before["cmocs"][0]["contexts"]
    assert after["statement"] == before["statement"]


def test_template_ships_with_the_package(tmp_path, cli):
    code, out, _ = cli("export-cmocs", "--template", str(tmp_path / "t.csv"))
    assert code == 0
    rows = list(csv.reader((tmp_path / "t.csv").open(encoding="utf-8-sig")))
    assert rows[0][:3] == ["theory", "version", "cmoc_id"] and len(rows) >= 2
