"""Errors a researcher can act on: no follow-on errors, advice that can be followed for public
records leaning on internal ones, unwritable folders, files given as folders, usage errors."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from conftest import edit


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
