"""Pages' HTML kept between builds (conversions.py): a build converts again only the pages
whose Markdown, links or settings changed, and gives exactly the site a build with nothing
kept gives."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

from conftest import build_site, edit, files_of
from living_theories.conversions import Converted, Indexed, Kept, KeptPages

TIMINGS = re.compile(r"Markdown converted to HTML for (\d+) of (\d+) pages .*, and for (\d+) on "
                     "another core")
ENV = {**os.environ, "LIVING_THEORIES_TIMINGS": "1", "SOURCE_DATE_EPOCH": "1700000000"}


def build(project: Path, dest: Path) -> tuple[int, int]:
    """Build; the pages converted (here or by the worker rendering pages ahead), of all
    pages."""
    run = build_site(project, dest, env=ENV)
    assert run.returncode == 0, run.stderr
    found = TIMINGS.search(run.stderr)
    assert found, run.stderr
    return int(found[1]) + int(found[3]), int(found[2])


def kept(project: Path) -> Path:
    return project / ".cache" / "living-theories" / "html"


def as_if_nothing_kept(project: Path, dest: Path) -> dict[str, bytes]:
    shutil.rmtree(kept(project), ignore_errors=True)
    converted, pages = build(project, dest)
    assert converted == pages
    return files_of(dest)


def test_a_build_converts_only_the_pages_whose_markdown_changed(project: Path, tmp_path: Path):
    converted, pages = build(project, tmp_path / "first")
    assert converted == pages > 10
    assert build(project, tmp_path / "again") == (0, pages)
    assert files_of(tmp_path / "again") == files_of(tmp_path / "first")
    # a quote shows on its source's page, its CMOCs' and its theory's version pages
    edit(project / "evidence" / "interviews.yaml", "because we meet every week",
         "because we meet every single week")
    converted, _ = build(project, tmp_path / "edited")
    assert 0 < converted <= pages / 3
    assert "every single week" in (tmp_path / "edited" / "sources").joinpath(
        "p1", "index.html").read_text(encoding="utf-8")
    assert files_of(tmp_path / "edited") == as_if_nothing_kept(project, tmp_path / "fresh")


def test_what_converts_every_page_changed_converts_every_page(project: Path, tmp_path: Path):
    settings = project / "mkdocs.yml"
    build(project, tmp_path / "first")
    # the citation style: any page's citations
    settings.write_text(settings.read_text(encoding="utf-8").replace(
        "  - living-theories\n", "  - living-theories:\n      csl_style: apa\n"), encoding="utf-8")
    converted, pages = build(project, tmp_path / "apa")
    assert converted == pages
    assert files_of(tmp_path / "apa") == as_if_nothing_kept(project, tmp_path / "apa-fresh")
    # the Markdown settings
    settings.write_text(settings.read_text(encoding="utf-8") + "markdown_extensions:\n"
                        "  - toc:\n      permalink: true\n", encoding="utf-8")
    converted, pages = build(project, tmp_path / "permalinks")
    assert converted == pages
    assert 'class="headerlink"' in (tmp_path / "permalinks" / "about" / "index.html").read_text(
        encoding="utf-8")


def test_a_page_that_warns_warns_in_every_build(project: Path, tmp_path: Path):
    about = project / "docs" / "about.md"
    about.write_text(about.read_text(encoding="utf-8") + "\nSee [the notes](notes.md).\n",
                     encoding="utf-8")
    for n in range(2):  # (its HTML is not kept: a strict build fails every time)
        run = build_site(project, tmp_path / f"site-{n}", env=ENV)
        assert run.returncode == 1, n
        assert "contains a link 'notes.md'" in run.stderr, n


def test_extensions_that_read_other_files_keep_nothing(project: Path, tmp_path: Path):
    settings = project / "mkdocs.yml"
    parts = project / "docs" / "parts"
    parts.mkdir()
    settings.write_text(settings.read_text(encoding="utf-8") + "markdown_extensions:\n"
                        f"  - pymdownx.snippets:\n      base_path: ['{parts}']\n",
                        encoding="utf-8")
    (parts / "note.txt").write_text("First wording.\n", encoding="utf-8")
    settings.write_text(settings.read_text(encoding="utf-8") + "exclude_docs: parts/\n",
                        encoding="utf-8")
    about = project / "docs" / "about.md"
    about.write_text(about.read_text(encoding="utf-8") + '\n--8<-- "note.txt"\n',
                     encoding="utf-8")
    converted, pages = build(project, tmp_path / "first")
    assert converted == pages
    assert "First wording." in (tmp_path / "first" / "about" / "index.html").read_text(
        encoding="utf-8")
    (parts / "note.txt").write_text("Second wording.\n", encoding="utf-8")
    converted, pages = build(project, tmp_path / "second")
    assert converted == pages
    assert "Second wording." in (tmp_path / "second" / "about" / "index.html").read_text(
        encoding="utf-8")
    assert not kept(project).exists()


def test_the_site_is_the_one_mkdocs_and_material_make_on_their_own(project: Path,
                                                                    tmp_path: Path):
    """Pages' HTML and search entries, made as soon as a page is converted (on either core),
    are those MkDocs and Material make themselves when an extension rules keeping out."""
    converted, pages = build(project, tmp_path / "kept")
    assert converted == pages
    assert kept(project).exists()
    shutil.rmtree(kept(project))
    settings = project / "mkdocs.yml"  # (snippets read other files: nothing is kept)
    settings.write_text(settings.read_text(encoding="utf-8") + "markdown_extensions:\n"
                        "  - pymdownx.snippets\n", encoding="utf-8")
    build(project, tmp_path / "plain")
    assert not kept(project).exists()
    search = Path("search", "search_index.json")
    assert (tmp_path / "kept" / search).read_bytes() == (tmp_path / "plain" / search).read_bytes()
    assert files_of(tmp_path / "kept") == files_of(tmp_path / "plain")


def test_damaged_kept_pages_are_converted_again(project: Path, tmp_path: Path):
    converted, pages = build(project, tmp_path / "first")
    files = sorted(kept(project).iterdir())
    assert len(files) == pages
    for n, file in enumerate(files):  # cut short, a word changed, or emptied
        data = file.read_bytes()
        file.write_bytes([data[: len(data) // 2], data.replace(b"</p>", b"</q>"), b""][n % 3])
    left = kept(project) / f".{files[0].name}.dead0bad.tmp"  # (as a stopped worker left it)
    left.write_bytes(data[:100])
    assert build(project, tmp_path / "second") == (pages, pages)
    assert not left.exists()
    assert files_of(tmp_path / "second") == files_of(tmp_path / "first")
    assert build(project, tmp_path / "third") == (0, pages)  # (kept again)


def test_a_folder_that_cannot_keep_pages_only_keeps_none(project: Path, tmp_path: Path):
    kept(project).parent.mkdir(parents=True)
    kept(project).write_text("a file where the folder belongs\n", encoding="utf-8")
    converted, pages = build(project, tmp_path / "first")
    assert build(project, tmp_path / "second") == (pages, pages)
    assert files_of(tmp_path / "second") == files_of(tmp_path / "first")


def test_kept_pages_are_read_back_as_written(tmp_path: Path):
    converted = Converted(("about/", b"\x01" * 16, False, b"\x02" * 16),
                          {"index.md": ("", "INCLUDED"), "gone.md": None}, "<p>Hi</p>",
                          [{"name": "Hi", "id": "hi", "level": 1, "children": []}], "Hi",
                          frozenset({"hi"}), {"index.md": {"top": "index.md#top"}})
    indexed = Indexed(("Hi",), [{"location": "about/", "title": "Hi", "text": "Hi"}])
    pages = KeptPages(tmp_path)
    pages.keep("about.md", Kept(converted, indexed))
    pages.keep("gone.md", Kept(None, indexed))
    pages.save(["about.md", "index.md"])  # gone.md is no longer a page: not written
    again = KeptPages(tmp_path)
    assert again.get("about.md") == Kept(converted, indexed)
    assert again.get("gone.md") == Kept() and again.get("index.md") == Kept()
    assert len(list(tmp_path.iterdir())) == 1


def test_pages_that_cannot_be_kept_are_just_not_kept(tmp_path: Path):
    """A full disk, or a file where the folder goes: the build goes on, nothing is kept, and
    what could not be written is written at the next save that can."""
    indexed = Indexed(("Hi",), [{"location": "about/", "title": "Hi", "text": "Hi"}])
    folder = tmp_path / "html"
    folder.write_text("a file", encoding="utf-8")
    pages = KeptPages(folder)
    pages.keep("about.md", Kept(None, indexed))
    assert not pages.write("about.md", b"LTHC")
    pages.save(["about.md"])
    assert folder.read_text(encoding="utf-8") == "a file"
    folder.unlink()
    pages.save(["about.md"])
    assert KeptPages(folder).get("about.md") == Kept(None, indexed)
