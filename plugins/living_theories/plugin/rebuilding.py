"""(`living-theories serve`) The MkDocs side of rebuilding only what an edit changed, exactly
as a full build would (serving.py holds the plain-data side, and says why each step is
needed): which pages this build writes, the titles of the pages it does not read again,
and Material's search index put together from every page's entries.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from mkdocs.commands.build import _populate_page
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.plugins import get_plugin_logger
from mkdocs.structure.files import File, Files, InclusionLevel
from mkdocs.structure.nav import Navigation
from mkdocs.structure.pages import Page
from mkdocs.utils import clean_directory

from .. import serving
from ..conversions import digest
from .converting import Converter, search_plugin
from .files import DownloadFile, RenderedFile

log = get_plugin_logger(__name__)


class Rebuilds:
    """What the last build wrote, and what this one must."""

    def __init__(self) -> None:
        self.served: serving.Served | None = None
        self.files: Files | None = None
        self.frame: tuple[Any, ...] = ()
        self.menu: frozenset[str] = frozenset()  # the pages in the menu (nav), by source path
        self.written: frozenset[str] = frozenset()  # where this build writes (`_written`)
        self.everything = True  # this build rebuilds every page
        # Digests of the downloads the last build wrote, and of this build's.
        self.downloads: dict[str, bytes] = {}
        self._downloads: dict[str, bytes] = {}
        self.why = ""

    def forget(self) -> None:
        """(After a failed build) The next build writes everything again."""
        self.served = None
        self.downloads, self._downloads = {}, {}

    def download(self, file: DownloadFile, content: str) -> None:
        """A download is not written again if the last build wrote the same (unless this
        build writes everything: see `plan`)."""
        made = digest(content)
        file.unchanged = self.served is not None and self.downloads.get(file.src_uri) == made
        self._downloads[file.src_uri] = made

    def plan(self, config: MkDocsConfig, files: Files, nav: Navigation, watched: list[Path],
             converting: bytes | None, edited: bool) -> None:
        """(on_nav) What this build writes again:

        - every page, after a change to mkdocs.yml or the theme, to how Markdown is
          converted (`converting`: the references among it), to the menu, or to the
          hand-written files: any page may show those;
        - after an edit that shows on a few known pages (`edited`: rebuilds.py), those;
        - after any other edit (a theory's text; a source, CMOC or theory added, renamed or
          removed), the generated pages that are not as they were (each is rendered again
          and compared: `unchanged`, set by the plugin), those whose links look up a page
          added or removed, and the hand-written pages.

        The files the last build wrote and this one does not are removed; after a change to
        mkdocs.yml or the theme (what any plugin writes may change), the folder is cleared."""
        self.files = files
        self.menu = frozenset(page.file.src_uri for page in nav.pages)
        listing = tuple((file.src_uri, file.inclusion.name) for file in files)
        self.frame = (serving.settings_signature(config.config_file_path, watched), converting,
                      tuple(item for item, file in zip(listing, files, strict=True)
                            if not self._off_menu(file)), listing)
        self.written = frozenset(_written(files))
        served = self.served
        site = Path(config.site_dir)
        self.everything = True
        if served is None or served.frame[0] != self.frame[0]:
            self.why = "the first build" if served is None else "mkdocs.yml or the theme changed"
            clean_directory(config.site_dir)  # as a full build does: nothing stale is left
        elif not serving.stale(site, served.written, self.written):
            self.why = "a file the last build wrote could not be removed"
            clean_directory(config.site_dir)
        elif served.frame[1] != self.frame[1]:
            self.why = "the references or the Markdown settings changed"
        elif served.frame[2] != self.frame[2]:
            self.why = "the menu or the hand-written files changed"
        else:
            self.everything = False
        if self.everything:
            # (what the theme and MkDocs copied as it is is not copied again)
            for file in files:
                if isinstance(file, RenderedFile | DownloadFile):
                    file.unchanged = False
                elif file.is_documentation_page():
                    _write_again(file)
        elif served is not None and (not edited or served.frame[3] != listing):
            moved = {path for path, _ in set(listing) ^ set(served.frame[3])}
            for file in files:
                if isinstance(file, RenderedFile):
                    links = served.links.get(file.src_uri)
                    if links is None or not links.isdisjoint(moved):
                        file.unchanged = False
                elif file.is_documentation_page():
                    _write_again(file)

    def _off_menu(self, file: File) -> bool:
        """A generated file no menu shows: it may come and go without changing other pages
        (except those that link to it)."""
        return isinstance(file, DownloadFile) or \
            isinstance(file, RenderedFile) and file.src_uri not in self.menu

    def complete(self, config: MkDocsConfig, files: Files) -> None:
        """(on_env) Give the pages not read again the titles and metadata they had, which
        other pages' menus show; if a page read again shows elsewhere a new title or metadata,
        every page is built again."""
        if self.everything:
            return
        assert self.served is not None
        titles = self.served.titles
        pages = _pages(files)
        if not any(self._shows_elsewhere(page, titles.get(page.file.src_uri))
                   for page in pages if page.markdown is not None):
            for page in pages:
                if page.markdown is None and page.file.src_uri in titles:
                    page.title, page.meta = titles[page.file.src_uri]
            return
        self.everything, self.why = True, "a page's title or metadata changed"
        for page in pages:
            if page.markdown is None:
                _populate_page(page, config, files)  # as MkDocs reads a page
            if isinstance(page.file, RenderedFile):
                page.file.unchanged = False
            else:
                _write_again(page.file)

    def _shows_elsewhere(self, page: Page, before: tuple[str | None, dict[str, Any]] | None
                         ) -> bool:
        """Does a page read again show on other pages what it did not: a new title in the
        menu, or new metadata (which a plugin may list)? A page no menu shows, new or not,
        shows its title only on itself."""
        if before == (page.title, page.meta):
            return False
        if page.file.src_uri in self.menu:
            return True
        return _besides_title(page.meta) != (_besides_title(before[1]) if before else {})

    def remember(self, config: MkDocsConfig, converter: Converter) -> None:
        """(on_post_build) Keep what the pages built showed, and put Material's search index
        together from every page's entries (a dirty build indexes only the pages it built)."""
        assert self.files is not None
        pages = _pages(self.files)
        # (a page not built keeps what its links looked up; one built that said anything is
        # built again next time: see `plan`)
        links = self.served.links if self.served is not None else {}
        served = serving.Served(self.frame, titles={
            page.file.src_uri: (page.title, dict(page.meta)) for page in pages},
            written=self.written, links={
                page.file.src_uri: looked for page in pages if (looked := converter.links.get(
                    page.file.src_uri) if page.content is not None else links.get(
                    page.file.src_uri)) is not None})
        search = search_plugin(config)
        if search is not None:
            before = self.served.search if self.served is not None else {}
            served.search = {page.url: converter.indexed[page.url] if page.url in
                             converter.indexed else before.get(page.url, []) for page in pages}
            search.search_index.entries = [entry for entries in served.search.values()
                                           for entry in entries]
            search.search_index_prev = None  # (else Material merges it in its own way)
        if self.served is not None:
            built = sum(page.content is not None for page in pages)
            converted = converter.converted + converter.ahead  # (here, or by the worker)
            log.info(f"rebuilt all {len(pages)} pages ({converted} converted again): "
                     f"{self.why}" if self.everything else f"rebuilt {built} of {len(pages)} pages")
        self.served, self.files = served, None
        self.downloads, self._downloads = self._downloads, {}


def _written(files: Files) -> Iterator[str]:
    """Where `mkdocs serve` writes the files in the site folder (it leaves out excluded
    ones)."""
    return (file.dest_uri for file in files if file.inclusion.is_in_serve())


def _besides_title(meta: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in meta.items() if key != "title"}


def _write_again(file: File) -> None:
    """A hand-written page is read and written again: MkDocs' dirty build does that for a
    page with no output."""
    with contextlib.suppress(FileNotFoundError):
        os.remove(file.abs_dest_path)


def _pages(files: Files) -> list[Page]:
    """The pages `mkdocs serve` builds, in the order it builds them."""
    return [file.page for file in files.documentation_pages(inclusion=InclusionLevel.is_in_serve)
            if file.page is not None]


def no_dirty_warning(record: logging.LogRecord) -> bool:
    """MkDocs warns that dirty builds leave menus and links wrong: here they do not."""
    return not record.getMessage().startswith("A 'dirty' build is being performed")

