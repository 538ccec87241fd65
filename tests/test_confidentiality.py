"""Confidential stays confidential: nothing that only internal or draft records use reaches a
public build, its search index, cite files, CITATION.cff or export-markdown; a review build
shows drafts but never internal records.

The `confidential` project plants canaries: unique words `zqinternal-...` in internal records
(an internal overarching context, substantive theory, theory, source and evidence) and
`zqdraft-...` in draft-only records, each citing BibTeX entries (`zqinternal...ref`,
`zqdraft...ref`) that nothing public cites. Every file written is scanned for them.
"""

from __future__ import annotations

import gzip
import re
import shutil
from pathlib import Path

import pytest
from conftest import PROJECTS, build_site

CANARY = re.compile(rb"zq(?:internal|draft)[a-z-]*", re.I)


@pytest.fixture
def confidential(tmp_path: Path) -> Path:
    dest = tmp_path / "project"
    shutil.copytree(PROJECTS / "confidential", dest)
    return dest


def planted(project: Path) -> set[str]:
    """Every canary written into the project's files (text, BibTeX keys, titles, journals)."""
    found: set[str] = set()
    for path in project.rglob("*"):
        if path.is_file() and ".cache" not in path.parts:
            found |= {m.decode().lower() for m in CANARY.findall(path.read_bytes())}
    return found


def found_in(folder: Path) -> set[str]:
    """Canaries in every file under folder, whatever its kind (gzip files are opened)."""
    found: set[str] = set()
    files = [p for p in folder.rglob("*") if p.is_file()]
    assert files, f"nothing was written to {folder}"
    for path in files:
        data = path.read_bytes()
        if path.suffix == ".gz":
            data = gzip.decompress(data)
        found |= {m.decode().lower() for m in CANARY.findall(data)}
    return found


def test_the_project_plants_canaries_in_every_kind_of_record(confidential):
    canaries = planted(confidential)
    for kind in ("ctx", "st", "theory", "source", "evidence", "cmoc"):
        assert any(c.startswith(f"zqinternal-{kind}") for c in canaries), kind
    assert {"zqdraft-statement", "zqdraft-cmoc-text", "zqdraft-evidence-text",
            "zqinternalstref", "zqdraftref"} <= canaries
    assert len(canaries) >= 30


def test_a_public_build_carries_no_canary_in_any_file(confidential, tmp_path):
    canaries = planted(confidential)
    run = build_site(confidential, tmp_path / "site")
    assert run.returncode == 0, run.stderr
    leaked = found_in(tmp_path / "site")
    assert leaked == set(), f"{len(leaked)} of {len(canaries)} canaries leaked: {sorted(leaked)}"
    # The site was built at all: the public records and their references are there.
    references = (tmp_path / "site/references/index.html").read_text(encoding="utf-8")
    assert "Realistic Evaluation" in references and "Dawn of System Leadership" in references


def test_a_public_export_carries_no_canary_in_any_file(confidential, tmp_path, cli):
    code, _, err = cli("export-markdown", str(tmp_path / "export"), "--dir", str(confidential))
    assert code == 0, err
    assert found_in(tmp_path / "export") == set()


def test_a_review_build_shows_drafts_but_never_internal_records(confidential, tmp_path, cli):
    run = build_site(confidential, tmp_path / "site", env={"LIVING_THEORIES_REVIEW": "1"})
    assert run.returncode == 0, run.stderr
    code, _, err = cli("export-markdown", str(tmp_path / "export"), "--dir", str(confidential),
                       "--review")
    assert code == 0, err
    for folder in (tmp_path / "site", tmp_path / "export"):
        shown = found_in(folder)
        assert {c for c in shown if c.startswith("zqinternal")} == set()
        # Drafts and the references only they cite are what a review build is for.
        assert {"zqdraft-statement", "zqdraft-cmoc-text", "zqdraft-evidence-text",
                "zqdraftref-bib-title", "zqdraftevref-bib-title"} <= shown


def test_a_public_substantive_theory_lists_the_references_its_description_cites(
        confidential, tmp_path):
    # The same walk that keeps internal records out must still count public ones in full.
    project_yaml = confidential / "theories/project.yaml"
    text = project_yaml.read_text(encoding="utf-8")
    project_yaml.write_text(text.replace(
        "    references: [senge2015]\n",
        "    references: [senge2015]\n    description: As argued by @meadows2008.\n", 1),
        encoding="utf-8")
    with (confidential / "references.bib").open("a", encoding="utf-8") as bib:
        bib.write("\n@book{meadows2008,\n  author = {Meadows, Donella},\n"
                  "  title = {Thinking in Systems},\n  year = {2008}\n}\n")
    run = build_site(confidential, tmp_path / "site")
    assert run.returncode == 0, run.stderr
    references = (tmp_path / "site/references/index.html").read_text(encoding="utf-8")
    entry = references.split('id="ref-meadows2008"')[1].split('class="lt-reference"')[0]
    assert "Thinking in Systems" in entry and "Substantive theory" in entry
