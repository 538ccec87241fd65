"""A cited version never changes: snapshots of what a released version shows, a sealed lock,
and corrections as the one dated way to change a released version."""

from __future__ import annotations

import html
import json
import re
import shutil
from pathlib import Path

import pytest
from conftest import PROJECTS, article, build_site, edit


@pytest.fixture
def released(tmp_path: Path, cli) -> Path:
    """The minimal project with both versions released (and snapshotted)."""
    dest = tmp_path / "project"
    shutil.copytree(PROJECTS / "minimal", dest)
    code, out, err = cli("release", "demo", "--dir", str(dest))
    assert code == 0, err
    assert "released demo version 2" in out
    assert "took a snapshot of demo version 1 (released before snapshots existed)" in out
    return dest


def test_release_writes_a_snapshot_of_what_the_version_shows(released):
    lock = json.loads((released / "living-theories.lock").read_text())
    assert lock["seal"].startswith("sha256:")
    snap = json.loads((released / "releases/demo/v1.json").read_text())
    assert lock["versions"]["demo/v1"]["snapshot"].startswith("sha256:")
    assert snap["evidence"]["p1-trust"]["quote"] == \
        "We trust each other because we meet every week."
    assert snap["evidence"]["p1-trust"]["sources"] == [{"source": "p1", "cited_as": "P1/1"}]
    assert snap["sources"]["p1"]["code"] == "P1/1"


@pytest.mark.parametrize("file,old,new,message", [
    ("evidence/interviews.yaml", "    cited_as: P1/1\n", "    cited_as: P1/2\n",
     r"interviews\.yaml:5: the evidence 'p1-trust' is shown by released version 1 of 'demo', "
     r"but its sources changed since release"),
    ("evidence/interviews.yaml", "because we meet every week.", "because we meet.",
     r"interviews\.yaml:4: the evidence 'p1-trust' is shown by released version 1 of 'demo', "
     r"but its quote changed since release - put it back as it was; to correct released "
     r"version 1 of 'demo' itself, run 'living-theories correct demo 1"),
    ("evidence/sources.yaml", "    code: P1/1\n", "    code: P1/9\n",
     r"sources\.yaml:4: the source 'p1' is shown by released version 1 of 'demo', but its "
     r"code changed"),
])
def test_a_change_a_released_page_would_show_is_reported_at_its_line(released, cli, file, old,
                                                                     new, message):
    edit(released / file, old, new)
    code, _, err = cli("validate", str(released))
    assert code == 1
    assert re.search(message, err), err


def test_an_emptied_released_version_is_an_error(released, cli):
    for empty in ("", "# nothing\n", "null\n"):
        (released / "theories/demo/v2.yaml").write_text(empty)
        code, _, err = cli("validate", str(released))
        assert code == 1, empty
        assert "v2.yaml:1: version 2 of 'demo' was released, but its file is empty" in err


def test_the_lock_protects_itself(released, cli):
    lock_path = released / "living-theories.lock"
    original = lock_path.read_text()
    lock = json.loads(original)
    lock["versions"]["demo/v2"]["released_as"]["theory_title"] = "Something else"
    lock_path.write_text(json.dumps(lock))
    code, _, err = cli("validate", str(released))
    assert code == 1 and "living-theories.lock was edited by hand" in err
    # an entry deleted (and the version set back to draft)
    lock = json.loads(original)
    del lock["versions"]["demo/v2"]
    lock_path.write_text(json.dumps(lock))
    edit(released / "theories/demo/v2.yaml", "status: released", "status: draft")
    code, _, err = cli("validate", str(released))
    assert code == 1
    assert "v2.json: version 2 of 'demo' was released (this is its snapshot), but " \
        "living-theories.lock has no entry for it" in err
    # the lock deleted
    lock_path.unlink()
    code, _, err = cli("validate", str(released))
    assert code == 1 and "living-theories.lock has no entry for it" in err


def test_a_snapshot_edited_by_hand_is_an_error(released, cli):
    path = released / "releases/demo/v1.json"
    path.write_text(path.read_text().replace("every week", "every day"))
    code, _, err = cli("validate", str(released))
    assert code == 1 and "v1.json: the snapshot of released version 1 of 'demo' was edited" in err


def test_a_correction_is_dated_and_shown(released, cli, tmp_path):
    edit(released / "evidence/interviews.yaml", "because we meet every week.",
         "because we meet each week.")
    assert cli("validate", str(released))[0] == 1
    code, out, err = cli("correct", "demo", "1", "--reason", "Transcription error in a quote.",
                         "--dir", str(released))
    assert code == 0, err
    assert "corrected demo version 1 on" in out
    # version 2 shows the same record: it is corrected on its own, or validate says so
    code, _, err = cli("validate", str(released))
    assert code == 1 and "released version 2 of 'demo'" in err
    assert "released version 1" not in err
    assert cli("correct", "demo", "2", "--reason", "Transcription error in a quote.", "--dir",
               str(released))[0] == 0
    code, _, err = cli("validate", str(released))
    assert code == 0, err
    run = build_site(released, tmp_path / "site")
    assert run.returncode == 0, run.stderr
    page = html.unescape(article(tmp_path / "site/theories/demo/v1/index.html"))
    assert re.search(r"Corrected on \d{4}-\d{2}-\d{2}.*Transcription error in a quote\.", page,
                     re.S), page
    bib = (tmp_path / "site/theories/demo/v1/cite.bib").read_text()
    assert "Corrected on" in bib and "Transcription error in a quote." in bib


def test_correct_needs_a_released_version_and_a_reason(released, cli):
    assert cli("correct", "demo", "7", "--reason", "x", "--dir", str(released))[0] == 1
    assert cli("correct", "demo", "1", "--reason", "  ", "--dir", str(released))[0] == 1


def test_evidence_added_later_stays_off_the_released_page(released, cli, tmp_path):
    def evidence_section(site: Path) -> str:
        page = html.unescape(article(site / "theories/demo/v1/index.html"))
        return page[page.index('id="evidence"'):page.index('id="cite-this-version"')]

    assert build_site(released, tmp_path / "before").returncode == 0
    with (released / "evidence/interviews.yaml").open("a") as f:
        f.write("  - id: p1-later\n    source: p1\n    quote: Added after the release.\n"
                "    bears_on:\n      - cmoc: demo-trust\n")
    assert cli("validate", str(released))[0] == 0
    run = build_site(released, tmp_path / "site")
    assert run.returncode == 0, run.stderr
    # version 1 was cited without it: its evidence counts and table are as they were; the
    # CMOC's own page (all versions) shows it
    assert evidence_section(tmp_path / "site") == evidence_section(tmp_path / "before")
    assert "Added after the release." in article(tmp_path / "site/cmocs/demo-trust/index.html")


def test_a_doi_minted_after_release_may_be_added(released, cli, tmp_path):
    edit(released / "theories/demo/v1.yaml", "stage: initial\n",
         "stage: initial\ndoi: 10.5281/zenodo.123456\n")
    code, _, err = cli("validate", str(released))
    assert code == 0, err
    assert build_site(released, tmp_path / "site").returncode == 0
    page = html.unescape(article(tmp_path / "site/theories/demo/v1/index.html"))
    assert "DOI added after the release; the content is as released." in page
    assert "10.5281/zenodo.123456" in page
    # anything else changed with it is still a change to a released version
    edit(released / "theories/demo/v1.yaml", "evidence_base: 5", "evidence_base: 6")
    assert cli("validate", str(released))[0] == 1


def test_a_cited_address_cannot_move(tmp_path, cli):
    project = tmp_path / "project"
    shutil.copytree(PROJECTS / "minimal", project)
    with (project / "theories/project.yaml").open("a") as f:
        f.write("url: https://theories.example.org/\n")
    assert cli("release", "demo", "--dir", str(project))[0] == 0
    snap = json.loads((project / "releases/demo/v2.json").read_text())
    assert snap["address"] == "https://theories.example.org/"
    edit(project / "theories/project.yaml", "https://theories.example.org/",
         "https://elsewhere.example.org/")
    code, _, err = cli("validate", str(project))
    assert code == 1
    assert re.search(r"project\.yaml:\d+: released version 2 of 'demo' is cited at "
                     r"https://theories\.example\.org/, but the project's url is now "
                     r"https://elsewhere\.example\.org/", err), err
