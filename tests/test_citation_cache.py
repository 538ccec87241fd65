"""Formatted citations kept on disk between runs (citations/formatting.py, `Citer`'s cache):
an unchanged bibliography is formatted once, not once per build; a changed cited entry or
another style is formatted again."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import PROJECTS, build_site, edit
from living_theories.citations.bibtex import load_bibliography
from living_theories.citations.formatting import Citer
from living_theories.citations.syntax import Cite
from living_theories.problems import Problems

KEYS = ["pawson1997", "kozlowska2020"]
GROUPS = [((Cite("pawson1997", locator="p. 4"),), False), ((Cite("kozlowska2020"),), True)]
VERSION = {"id": "demo-v1", "type": "report", "title": "Demo theory, version 1",
           "issued": {"date-parts": [[2024, 1, 26]]}}


@pytest.fixture
def bib(tmp_path: Path) -> Path:
    path = tmp_path / "references.bib"
    shutil.copy(PROJECTS / "minimal/references.bib", path)
    return path


@pytest.fixture
def citeproc_runs(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every bibliography citeproc-py is asked to build (the costly step), by style."""
    import citeproc

    runs: list[str] = []
    real = citeproc.CitationStylesBibliography

    class Counted(real):  # type: ignore[misc, valid-type]
        def __init__(self, style, *args, **kwargs):
            runs.append(style.root.find(".//{http://purl.org/net/xbiblio/csl}id").text)
            super().__init__(style, *args, **kwargs)

    monkeypatch.setattr(citeproc, "CitationStylesBibliography", Counted)
    return runs


def run(bib: Path, cache: Path, style: str = "harvard-cite-them-right") -> str:
    """One build's worth of formatting, as the plugin does it: prepare, format, save."""
    problems = Problems(bib.parent)
    citer = Citer(load_bibliography(bib, problems), style, cache_dir=cache)
    assert not problems.items
    citer.prepare(KEYS)
    formatted = citer.format(GROUPS)
    item = citer.format_item(VERSION)
    citer.save()
    return "\n".join([*formatted.citations, *(text for _, text in formatted.references), item])


def test_a_second_run_formats_nothing_again(bib, tmp_path, citeproc_runs):
    cache = tmp_path / "cache"
    first = run(bib, cache)
    assert "Pawson and Tilley, 1997, p. 4" in first and "Demo theory, version 1" in first
    assert citeproc_runs  # formatted
    (kept,) = cache.glob("citations-*.json")
    citeproc_runs.clear()
    assert run(bib, cache) == first
    assert citeproc_runs == []  # all from the file
    # and it really is the file that was read
    kept.write_text(kept.read_text(encoding="utf-8").replace("Realistic Evaluation",
                                                             "Kept Evaluation"), "utf-8")
    assert "Kept Evaluation" in run(bib, cache) and citeproc_runs == []


def test_a_changed_cited_entry_is_formatted_again(bib, tmp_path, citeproc_runs):
    cache = tmp_path / "cache"
    run(bib, cache)
    citeproc_runs.clear()
    edit(bib, "title = {Realistic Evaluation}", "title = {Realistic Evaluation, Revised}")
    again = run(bib, cache)
    assert "Realistic Evaluation, Revised" in again
    assert citeproc_runs
    assert len(list(cache.glob("citations-*.json"))) == 1  # the out-of-date one is gone


def test_an_edit_to_an_entry_nobody_cites_keeps_the_cache(bib, tmp_path, citeproc_runs):
    cache = tmp_path / "cache"
    first = run(bib, cache)
    citeproc_runs.clear()
    edit(bib, "title = {The Dawn of System Leadership}", "title = {Dawn}")
    assert run(bib, cache) == first and citeproc_runs == []


def test_another_style_is_formatted_again(bib, tmp_path, citeproc_runs):
    cache = tmp_path / "cache"
    harvard = run(bib, cache)
    citeproc_runs.clear()
    vancouver = run(bib, cache, "vancouver")
    assert vancouver != harvard and "Pawson R, Tilley N" in vancouver
    assert "Pawson and Tilley" not in vancouver
    assert citeproc_runs and "harvard" not in " ".join(citeproc_runs)


def test_a_build_keeps_its_formatted_citations_for_the_next(project, tmp_path):
    run_ = build_site(project, tmp_path / "site")
    assert run_.returncode == 0, run_.stderr
    (kept,) = (project / ".cache/living-theories").glob("citations-*.json")
    kept.write_text(kept.read_text(encoding="utf-8").replace("Realistic Evaluation",
                                                             "Kept Evaluation"), "utf-8")
    run_ = build_site(project, tmp_path / "again")
    assert run_.returncode == 0, run_.stderr
    references = (tmp_path / "again/references/index.html").read_text(encoding="utf-8")
    assert "Kept Evaluation" in references and "Realistic Evaluation" not in references


@pytest.mark.parametrize("style", ["harvard-cite-them-right", "vancouver"])
def test_citations_formatted_in_another_process_are_taken_as_formatted_here(bib, style):
    """A worker rendering pages ahead formats their citations and hands them on (ahead.py):
    the citations extension then finds them formatted."""
    def citer() -> Citer:
        made = Citer(load_bibliography(bib, Problems(bib.parent)), style)
        made.prepare(KEYS)
        return made

    worker, here, alone = citer(), citer(), citer()
    made = worker.format(GROUPS)
    assert worker.formatted == len(GROUPS)
    here.learn(worker.learned())
    assert worker.learned() == ""  # each citation is handed on once
    assert here.format(GROUPS) == made == alone.format(GROUPS)
    assert here.formatted == 0 and alone.formatted == len(GROUPS)
    # (and the reference list entries the page shows)
    assert worker.entries_formatted == alone.entries_formatted == len(KEYS)
    assert here.entries_formatted == 0
    # Keys registered again since (here or there): what was formatted before is not taken.
    worker.format([((Cite("kozlowska2020", locator="p. 9"),), False)])
    later = citer()
    later.prepare(list(reversed(KEYS)))
    later.learn(worker.learned())
    later.format([((Cite("kozlowska2020", locator="p. 9"),), False)])
    assert later.formatted == 1


@pytest.mark.parametrize("style", ["harvard-cite-them-right", "vancouver"])
def test_reference_list_entries_are_formatted_when_asked_and_kept(bib, tmp_path, style):
    """Each entry is formatted when a page first shows it; a cache holding some of them
    gives those, and the others are formatted as if none were kept."""
    def citer() -> Citer:
        made = Citer(load_bibliography(bib, Problems(bib.parent)), style,
                     cache_dir=tmp_path / "cache")
        made.prepare(KEYS)
        return made

    first = citer()
    shown = first.entry(KEYS[1])
    assert first.entries_formatted == 1
    first.save()
    again = citer()
    assert again.entry(KEYS[1]) == shown and again.entries_formatted == 0
    fresh = Citer(load_bibliography(bib, Problems(bib.parent)), style)
    fresh.prepare(KEYS)
    assert again.bibliography_list(KEYS) == fresh.bibliography_list(KEYS)
    assert again.entries_formatted == len(KEYS) - 1
