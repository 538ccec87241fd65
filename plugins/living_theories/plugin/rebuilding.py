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

    def plan(self, config: MkDocsConfig, files: Files, watched: list[Path],
             edited: bool) -> None:
        """(on_nav) Everything is built again unless only pages changed that an edit can
        change alone (`edited`: rebuilds.py) and the settings and list of files are as
        before."""
        self.files = files
        self.frame = (serving.settings_signature(config.config_file_path, watched),
                      tuple((file.src_uri, file.inclusion.name) for file in files))
        served = self.served
        self.everything = served is None or served.frame != self.frame or not edited
        if self.everything:
            self.why = "the first build" if served is None else \
                "the files, mkdocs.yml or what every page may show changed" \
                if served.frame != self.frame else "a change that may show on any page"
            # (what the theme and MkDocs copied as it is is not copied again)
            if served is None or served.frame[0] != self.frame[0] or not serving.stale(
                    Path(config.site_dir), served.written, _written(files)):
                clean_directory(config.site_dir)  # as a full build does: nothing stale is left
            for file in files:
                if isinstance(file, RenderedFile | DownloadFile):
                    file.unchanged = False
                elif file.is_documentation_page():
                    _write_again(file)

    def complete(self, config: MkDocsConfig, files: Files) -> None:
        """(on_env) Give the pages not read again the titles and metadata they had, which
        other pages' menus show; if a page read again has a new title or metadata, every page
        is built again, as its title shows in every menu."""
        if self.everything:
            return
        assert self.served is not None
        titles = self.served.titles
        pages = _pages(files)
        if all(titles.get(page.file.src_uri) == (page.title, page.meta) for page in pages
               if page.markdown is not None):
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

    def remember(self, config: MkDocsConfig, converter: Converter) -> None:
        """(on_post_build) Keep what the pages built showed, and put Material's search index
        together from every page's entries (a dirty build indexes only the pages it built)."""
        assert self.files is not None
        pages = _pages(self.files)
        served = serving.Served(self.frame, titles={
            page.file.src_uri: (page.title, dict(page.meta)) for page in pages},
            written=frozenset(_written(self.files)))
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

