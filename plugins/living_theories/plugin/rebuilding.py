"""(`living-theories serve`) The MkDocs side of rebuilding only what an edit changed, exactly
as a full build would (serving.py holds the plain-data side, and says why each step is
needed): which pages this build writes, the titles of the pages it does not read again,
Material's search index put together from every page's entries, and the HTML and search
entries of pages whose Markdown is unchanged, kept rather than made again.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from mkdocs.commands.build import _populate_page
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.plugins import get_plugin_logger
from mkdocs.structure.files import File, Files, InclusionLevel
from mkdocs.structure.pages import Page
from mkdocs.utils import clean_directory

from .. import serving
from ..citations.markdown import CitationsExtension
from ..links import LinkPolicyExtension
from .files import RenderedFile

log = get_plugin_logger(__name__)

# Markdown extensions whose HTML depends on nothing but the page's Markdown and mkdocs.yml.
# Any other (pymdownx.snippets and b64 read other files; a plugin's own extension may keep
# what it sees) and pages are converted again in every build, as MkDocs does.
_PURE_PREFIXES = ("markdown.extensions.", "pymdownx.", "material.extensions.")
_PURE_NAMES = frozenset({
    "abbr", "admonition", "attr_list", "codehilite", "def_list", "extra", "fenced_code",
    "footnotes", "legacy_attrs", "legacy_em", "md_in_html", "meta", "nl2br", "sane_lists",
    "smarty", "tables", "toc", "wikilinks"})
_IMPURE = frozenset({"pymdownx.snippets", "pymdownx.b64"})


class Rebuilds:
    """What the last build wrote, and what this one must."""

    def __init__(self) -> None:
        self.served: serving.Served | None = None
        self.files: Files | None = None
        self.frame: tuple[Any, ...] = ()
        self.everything = True  # this build rebuilds every page
        self.why = ""
        # Pages' HTML and search entries, by source path and by address (serving.py).
        self.converted: dict[str, serving.Converted] = {}
        self.indexed: dict[str, serving.Indexed] = {}
        self.settings: tuple[Any, ...] | None = None  # None: convert every page again
        self.conversions = 0  # pages converted in this build

    def forget(self) -> None:
        """(After a failed build) The next build writes everything again."""
        self.served = None

    def plan(self, config: MkDocsConfig, files: Files, watched: list[Path], citer: Any,
             edited: bool) -> None:
        """(on_nav) Everything is built again unless only pages changed that an edit can
        change alone (`edited`: rebuilds.py) and the settings and list of files are as
        before."""
        self.files = files
        self.frame = (serving.settings_signature(config.config_file_path, watched),
                      tuple((file.src_uri, file.inclusion.name) for file in files))
        served = self.served
        self.everything = served is None or served.frame != self.frame or not edited
        self.settings = (self.frame[0], citer) if _pure(config) else None
        self.conversions = 0
        self._index(config)
        if self.everything:
            self.why = "the first build" if served is None else \
                "the files, mkdocs.yml or what every page may show changed" \
                if served.frame != self.frame else "a change that may show on any page"
            clean_directory(config.site_dir)  # as a full build does: nothing stale is left
            for file in files:
                if isinstance(file, RenderedFile):
                    file.unchanged = False

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
            elif os.path.isfile(page.file.abs_dest_path):
                os.remove(page.file.abs_dest_path)  # MkDocs writes a page with no output again

    def convert(self, page: Page, config: MkDocsConfig, files: Files, *, generated: bool) -> None:
        """(In place of `page.render`) Convert the page's Markdown to HTML, or keep the HTML
        the same Markdown was converted to before, if nothing else it was made from changed.
        A page whose conversion said anything (a link that finds no page) is converted again
        next time, so that it says so again."""
        if self.settings is None:
            Page.render(page, config, files)
            self.conversions += 1
            return
        assert page.markdown is not None
        key = (page.file.url, serving.digest(page.markdown), generated, self.settings)
        known = self.converted.get(page.file.src_uri)
        if known is not None and known.still(
                key, lambda path: _found(files.get_file_from_path(path))):
            page.content, page.toc = known.content, known.toc
            page._title_from_render = known.title
            page.present_anchor_ids = known.anchors
            if known.links_to_anchors is not None:
                page.links_to_anchors = {
                    target: links for path, links in known.links_to_anchors.items()
                    if (target := files.get_file_from_path(path)) is not None}
            return
        looking = _Looking(files)
        with _said() as said:
            Page.render(page, config, looking)  # type: ignore[arg-type]
        self.conversions += 1
        self.converted.pop(page.file.src_uri, None)
        if not said and page.content is not None:
            self.converted[page.file.src_uri] = serving.Converted(
                key, looking.seen, page.content, page.toc, page._title_from_render,
                page.present_anchor_ids,
                None if page.links_to_anchors is None else
                {file.src_uri: links for file, links in page.links_to_anchors.items()})

    def _index(self, config: MkDocsConfig) -> None:
        """Material's search indexes each page's HTML as the page is laid out: a page whose
        HTML, title, metadata and headings are as before gets the entries it had."""
        search = _search(config)
        if search is None:
            return
        index = search.search_index
        add = index.add_entry_from_context
        known = self.indexed

        def indexed(page: Page) -> None:
            key = (page.title, repr(page.meta), serving.digest(page.content or ""),
                   _headings(page.toc), self.frame[0])
            start = len(index.entries)
            before = known.get(page.url)
            if before is not None and before.key == key:
                index.entries.extend(before.entries)
            else:
                add(page)
            known[page.url] = serving.Indexed(key, index.entries[start:])

        index.add_entry_from_context = indexed

    def remember(self, config: MkDocsConfig) -> None:
        """(on_post_build) Keep what the pages built showed, and put Material's search index
        together from every page's entries (a dirty build indexes only the pages it built)."""
        assert self.files is not None
        pages = _pages(self.files)
        served = serving.Served(self.frame, titles={
            page.file.src_uri: (page.title, dict(page.meta)) for page in pages})
        built = sum(page.content is not None for page in pages)
        search = _search(config)
        if search is not None:
            urls = [page.url for page in pages]
            self.indexed = {url: self.indexed[url] for url in urls if url in self.indexed}
            search.search_index.entries = [entry for url in urls if url in self.indexed
                                           for entry in self.indexed[url].entries]
            search.search_index_prev = None  # (else Material merges it in its own way)
        sources = {page.file.src_uri for page in pages}
        self.converted = {k: v for k, v in self.converted.items() if k in sources}
        if self.served is not None:
            again = f" ({self.conversions} converted again)" if self.settings is not None \
                else ""
            log.info(f"rebuilt all {len(pages)} pages{again}: {self.why}" if self.everything
                     else f"rebuilt {built} of {len(pages)} pages")
        self.served, self.files = served, None


class _Looking:
    """The site's files, as a page's links look them up: what each found is kept."""

    def __init__(self, files: Files) -> None:
        self.files = files
        self.seen: dict[str, tuple[str, str] | None] = {}

    def get_file_from_path(self, path: str) -> File | None:
        found = self.files.get_file_from_path(path)
        self.seen[path] = _found(found)
        return found

    def __getattr__(self, name: str) -> Any:
        return getattr(self.files, name)


def _found(file: File | None) -> tuple[str, str] | None:
    return None if file is None else (file.url, file.inclusion.name)


@contextmanager
def _said() -> Iterator[list[logging.LogRecord]]:
    """What MkDocs, Markdown and the plugins log meanwhile."""
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    keep = Keep(logging.INFO)
    loggers = [logging.getLogger(), logging.getLogger("mkdocs")]
    for logger in loggers:
        logger.addHandler(keep)
    try:
        yield records
    finally:
        for logger in loggers:
            logger.removeHandler(keep)


def _pure(config: MkDocsConfig) -> bool:
    """Does a page's HTML depend only on its Markdown, its links and mkdocs.yml?"""
    for extension in config.markdown_extensions:
        if isinstance(extension, str):
            if extension in _IMPURE or not (extension in _PURE_NAMES
                                             or extension.startswith(_PURE_PREFIXES)):
                return False
        elif not isinstance(extension, CitationsExtension | LinkPolicyExtension):
            return False
    return True


def _headings(toc: Any) -> tuple[Any, ...]:
    return tuple((item.url, item.title, item.level, _headings(item.children)) for item in toc)


def _search(config: MkDocsConfig) -> Any:
    """Material's search plugin, if the site uses it."""
    return next((p for p in config.plugins.values() if hasattr(p, "search_index_prev")
                 and hasattr(getattr(p, "search_index", None), "entries")), None)


def _pages(files: Files) -> list[Page]:
    """The pages `mkdocs serve` builds, in the order it builds them."""
    return [file.page for file in files.documentation_pages(inclusion=InclusionLevel.is_in_serve)
            if file.page is not None]


def no_dirty_warning(record: logging.LogRecord) -> bool:
    """MkDocs warns that dirty builds leave menus and links wrong: here they do not."""
    return not record.getMessage().startswith("A 'dirty' build is being performed")

