"""Rebuilds in `mkdocs serve`: after an edit, rendering only the pages it changes must give
exactly the site that rendering everything gives."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from conftest import REPO, edit
from living_theories.citations.formatting import Citer
from living_theories.pages import Generated, Options, site_files
from living_theories.project import load_project
from living_theories.rebuilds import pages_changed
from living_theories.releases import seal


def generate(root: Path, previous: Generated | None = None, changed=None) -> Generated:
    project, problems = load_project(root)
    assert not problems.errors, problems.report()
    citer = Citer(project.bibliography, "harvard-cite-them-right", root)
    return site_files(project, Options(), citer, {}, "Test", previous, changed)


def markdown(generated: Generated) -> dict[str, str]:
    return {page.path: page.markdown() for page in generated.pages}


@pytest.fixture
def repo_project(tmp_path: Path) -> Path:
    """The bundled project as released before snapshots existed: its evidence texts may be
    edited (with snapshots, an edit to evidence a released version shows is an error)."""
    for name in ("theories", "evidence"):
        shutil.copytree(REPO / name, tmp_path / name)
    shutil.copy(REPO / "references.bib", tmp_path / "references.bib")
    lock = json.loads((REPO / "living-theories.lock").read_text(encoding="utf-8"))
    for entry in lock["versions"].values():
        entry.pop("snapshot", None)
    lock["seal"] = seal(lock["versions"])
    (tmp_path / "living-theories.lock").write_text(json.dumps(lock), encoding="utf-8")
    return tmp_path


def first_text(path: Path) -> str:
    """The first line of the first quote or summary in an evidence file."""
    found = re.search(r"(?m)^    (?:quote|summary): (?:>-\n      )?(.+)$", path.read_text())
    assert found, path
    return found.group(1)


@pytest.mark.parametrize("evidence_file", ["evaluation.yaml", "review-studies.yaml"])
def test_an_evidence_text_edit_renders_only_its_pages_and_the_same_site(repo_project,
                                                                        evidence_file):
    before = load_project(repo_project)[0]
    first = generate(repo_project)
    path = repo_project / "evidence" / evidence_file
    text = first_text(path)
    edit(path, text, "Edited: " + text)
    after = load_project(repo_project)[0]
    changed = pages_changed(before, after)
    assert changed is not None
    rendered = [p.path for p in first.pages if p.path in changed]
    assert 0 < len(rendered) < len(first.pages) / 4
    incremental = generate(repo_project, first, changed)
    full = generate(repo_project)
    assert markdown(incremental) == markdown(full)
    assert [d.content for d in incremental.downloads] == [d.content for d in full.downloads]
    assert any("Edited: " in text for text in markdown(incremental).values())


@pytest.mark.parametrize("old,new,file", [
    ("role: supports", "role: challenges", "evidence/interviews.yaml"),  # a link, not text
    ("cmoc: demo-trust", "cmoc: demo-data", "evidence/interviews.yaml"),
    ("title: Relationships build trust", "title: Trust", "theories/demo/theory.yaml"),
    ("role: ICB member", "role: Place leader", "evidence/sources.yaml"),
])
def test_any_other_edit_renders_everything(project, old, new, file):
    before = load_project(project)[0]
    edit(project / file, old, new)
    after, problems = load_project(project)
    assert not problems.errors, problems.report()
    assert pages_changed(before, after) is None


def test_no_edit_renders_nothing(project):
    first = load_project(project)[0]
    changed = pages_changed(first, load_project(project)[0])
    assert changed is not None and not changed.paths and not changed.folders
