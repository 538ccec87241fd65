"""The MkDocs side of keeping pages' HTML between builds (conversions.py says what is kept and
why it is exact): a page's conversion (`Page.render`) and Material's indexing of it for search
either run and are kept, or are replaced by what was kept.

The worker that renders generated pages ahead (ahead.py) converts and indexes them too, where
nothing is kept for them yet (a first build, or after an upgrade): it hands what it made back
with the page's Markdown (`ahead_of`), and this process uses it exactly as it uses what an
earlier build kept (`offer`): only if its Markdown, settings and links are still the same here
(another plugin may change a page's Markdown, or add files). So the two cores share the
conversions, and the site is the same as if this process had made them all.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import File, Files, set_exclusions
from mkdocs.structure.pages import Page
from mkdocs.structure.toc import get_toc
from mkdocs.utils.meta import get_data

from ..citations.markdown import CitationsExtension
from ..conversions import Converted, Indexed, Kept, KeptPages, Lookup, digest, pack, unpack
from ..links import LinkPolicyExtension

# Markdown extensions whose HTML depends on nothing but the page's Markdown and mkdocs.yml.
# With any other (pymdownx.snippets and b64 read other files; a plugin's own extension may
# keep what it sees), every page is converted in every build, as MkDocs does.
_PURE_PREFIXES = ("markdown.extensions.", "pymdownx.", "material.extensions.")
_PURE_NAMES = frozenset({
    "abbr", "admonition", "attr_list", "codehilite", "def_list", "extra", "fenced_code",
    "footnotes", "legacy_attrs", "legacy_em", "md_in_html", "meta", "nl2br", "sane_lists",
    "smarty", "tables", "toc", "wikilinks"})
_IMPURE = frozenset({"pymdownx.snippets", "pymdownx.b64"})
# What converts Markdown to HTML, besides our own code.
_DISTRIBUTIONS = ("mkdocs", "markdown", "pymdown-extensions", "mkdocs-material", "pygments")


class Converter:
    """One build's conversions: kept ones used, new ones kept."""

    def __init__(self, config: MkDocsConfig, files: Files, citer: Any, folder: Path) -> None:
        self.files = files
        self.settings = _settings(config, citer) if pure(config) else None
        self.kept = KeptPages(folder if self.settings is not None else None)
        self.converted = 0  # pages converted in this build (the others' HTML was kept)
        self.pages = 0  # and pages in all
        self.ahead = 0  # pages whose HTML the worker made in this build
        self._offered: set[str] = set()
        self.indexed: dict[str, list[dict[str, Any]]] = {}  # search entries, by address
        # The paths each page's links looked up, by the page's source path (not for a page
        # whose conversion said anything: it is converted again).
        self.links: dict[str, frozenset[str]] = {}
        search = search_plugin(config)
        self._search_index: Any = None
        if search is not None:
            # (search's options, such as Chinese word segmentation, shape its entries)
            self._search_settings = digest(repr((self.settings, _stable(search.config))))
            index = self._search_index = search.search_index
            index.add_entry_from_context = functools.partial(
                self._index, index, index.add_entry_from_context)

    def convert(self, page: Page, config: MkDocsConfig, files: Files, *, generated: bool) -> None:
        """(In place of `page.render`) Convert the page's Markdown to HTML, or use the HTML
        it was converted to before if nothing it is made from changed. A page whose
        conversion said anything (a link that finds no page) is converted again next time,
        so that it says so again."""
        self.pages += 1
        if self.settings is None:
            Page.render(page, config, files)
            self.converted += 1
            return
        assert page.markdown is not None
        key = (page.file.url, digest(page.markdown), generated, self.settings)
        kept = self.kept.get(page.file.src_uri)
        known = kept.converted
        if known is not None and known.still(
                key, lambda path: _found(files.get_file_from_path(path))):
            if page.file.src_uri in self._offered:
                self.ahead += 1
            self.links[page.file.src_uri] = frozenset(known.lookups)
            page.content, page.toc = known.content, get_toc(known.toc)
            page._title_from_render = known.title
            page.present_anchor_ids = set(known.anchors) if known.anchors is not None else None
            if known.links_to_anchors is not None:
                page.links_to_anchors = {
                    target: dict(links) for path, links in known.links_to_anchors.items()
                    if (target := files.get_file_from_path(path)) is not None}
            return
        looking = _Looking(files)
        with _said() as said:
            Page.render(page, config, looking)  # type: ignore[arg-type]
        self.converted += 1
        converted = None
        if not said and page.content is not None:
            converted = Converted(
                key, looking.seen, page.content, _tokens(page.toc), page._title_from_render,
                None if page.present_anchor_ids is None else frozenset(page.present_anchor_ids),
                None if page.links_to_anchors is None else
                {file.src_uri: links for file, links in page.links_to_anchors.items()})
            self.links[page.file.src_uri] = frozenset(looking.seen)
        self.kept.keep(page.file.src_uri, Kept(converted, kept.indexed))
        self._index_now(page)

    def offer(self, path: str, data: bytes) -> None:
        """What the worker made of the page `path` (`ahead_of`), to be used as what an
        earlier build kept is: only if it is still right."""
        if self.settings is None:
            return
        written, made = data[:1] == b"w", unpack(path, data[1:])
        if made.converted is None:  # (its conversion said something: converted here again)
            return
        self.kept.keep(path, made, written=written)
        self._offered.add(path)

    def ahead_of(self, path: str, source: str, config: MkDocsConfig,
                 prepare: Callable[[str, str], None]) -> bytes | None:
        """(In the worker rendering pages ahead) Convert and index the generated page `path`,
        its Markdown file being `source`, as this process would in the build (`prepare`: as
        the plugin prepares a page's conversion), unless what is kept is still right: what
        was made, packed for `offer`, or None."""
        file = self.files.get_file_from_path(path)
        if self.settings is None or file is None:
            return None
        page = Page(None, file, config)
        page.markdown, page.meta = get_data(source)
        prepare(path, page.markdown)
        before = self.kept.get(path)
        converted = self.converted
        self.convert(page, config, self.files, generated=True)
        if self.converted == converted:  # (its HTML was kept: are its entries still right?)
            self._index_now(page)
        made = self.kept.get(path)
        data = pack(path, made) if made is not before else None
        if data is None:
            return None
        # (written here, marked so: then the other process need not write it)
        return (b"w" if self.kept.write(path, data) else b"-") + data

    def _index(self, index: Any, add: Any, page: Page) -> None:
        """(In place of Material's `add_entry_from_context`) A page's search entries: those
        it had, if its address, HTML, title, metadata and headings are as they were."""
        start = len(index.entries)
        if self.settings is None:
            add(page)
            self.indexed[page.url] = index.entries[start:]
            return
        key = (page.url, page.title, repr(page.meta), digest(page.content or ""),
               repr(_tokens(page.toc)), self._search_settings)
        kept = self.kept.get(page.file.src_uri)
        if kept.indexed is not None and kept.indexed.key == key:
            index.entries.extend(kept.indexed.entries)
        else:
            add(page)
            self.kept.keep(page.file.src_uri,
                           Kept(kept.converted, Indexed(key, index.entries[start:])))
        self.indexed[page.url] = index.entries[start:]

    def _index_now(self, page: Page) -> None:
        """Index a page for search as soon as it is converted, not when MkDocs asks for it
        (`on_page_context`, where what is kept is found). So the search entries of the
        pages converted here are made while the worker converts others, and the two cores
        share that work too."""
        index = self._search_index
        if index is None or page.content is None:
            return
        start = len(index.entries)
        index.add_entry_from_context(page)
        del index.entries[start:]
        del self.indexed[page.url]

    def finish(self) -> None:
        """Keep what this build converted and indexed, for the next."""
        self.kept.save([file.src_uri for file in self.files.documentation_pages()])
        self.close()

    def close(self) -> None:
        """Give Material's search index its own method back (the wrapper ties the index to
        this build's pages)."""
        if self._search_index is not None:
            with contextlib.suppress(AttributeError):
                del self._search_index.add_entry_from_context
            self._search_index = None


def converting_ahead(config: MkDocsConfig, files: Files, citer: Any, folder: Path,
                     sources: Mapping[str, Callable[[str], str]],
                     prepare: Callable[[str, str], None]) -> Callable[[str, str], bytes | None]:
    """For the worker rendering pages ahead: a function that converts and indexes the page of
    a path from its body (`sources`: each page's Markdown file from its body), see
    `Converter.ahead_of`. Made ready in the worker when first called."""
    converter: Converter | None = None

    def attach(path: str, body: str) -> bytes | None:
        nonlocal converter
        if converter is None:
            _heard_only_here()
            set_exclusions(files, config)  # (as MkDocs does once the plugins added files)
            converter = Converter(config, files, citer, folder)
        return converter.ahead_of(path, sources[path](body), config, prepare)

    return attach


def _heard_only_here() -> None:
    """(In a worker) What is logged is made again, so that a conversion that says anything is
    seen (`_said`), but written nowhere: the handlers are the parent's (see ahead.py)."""
    logging.disable(logging.NOTSET)
    for logger in [logging.getLogger(), *logging.Logger.manager.loggerDict.values()]:
        if isinstance(logger, logging.Logger):
            logger.handlers.clear()
    logging.lastResort = None  # type: ignore[assignment]


class _Looking:
    """The site's files, as a page's links look them up: what each found is noted."""

    def __init__(self, files: Files) -> None:
        self.files = files
        self.seen: dict[str, Lookup] = {}

    def get_file_from_path(self, path: str) -> File | None:
        found = self.files.get_file_from_path(path)
        self.seen[path] = _found(found)
        return found

    def __getattr__(self, name: str) -> Any:
        return getattr(self.files, name)


def _found(file: File | None) -> Lookup:
    return None if file is None else (file.url, file.inclusion.name)


def _tokens(toc: Any) -> list[dict[str, Any]]:
    """A page's headings as the toc tokens MkDocs makes them from."""
    return [{"name": item.title, "id": item.id, "level": item.level,
             "children": _tokens(item.children)} for item in toc]


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


def pure(config: MkDocsConfig) -> bool:
    """Does a page's HTML depend only on its Markdown, its links and mkdocs.yml?"""
    for extension in config.markdown_extensions:
        if isinstance(extension, str):
            if extension in _IMPURE or not (extension in _PURE_NAMES
                                             or extension.startswith(_PURE_PREFIXES)):
                return False
        elif not isinstance(extension, CitationsExtension | LinkPolicyExtension):
            return False
    return True


def _settings(config: MkDocsConfig, citer: Any) -> bytes:
    """A digest of what converts every page: mkdocs.yml's Markdown settings, the code, and
    the citations' style, locale and references."""
    links = logging.getLogger("mkdocs.structure.pages").getEffectiveLevel() > logging.DEBUG
    return digest(repr((
        _stable(config.markdown_extensions), _stable(config.mdx_configs),
        _stable(config.validation), config.use_directory_urls, links,
        citer.fingerprint if citer is not None else None, _code())))


@functools.cache
def _code() -> str:
    """The versions of what converts Markdown, and a digest of our own code (a development
    checkout changes without a new version number)."""
    versions = []
    for name in _DISTRIBUTIONS:
        try:
            versions.append(f"{name} {version(name)}")
        except PackageNotFoundError:
            versions.append(f"{name} -")
    ours = Path(__file__).parent.parent
    code = b"".join(path.read_bytes() for path in sorted(ours.rglob("*.py")))
    return f"{sys.version_info[:2]} {versions} {digest(code).hex()}"


def _stable(value: Any) -> Any:
    """A value's description that is the same in every run (a function or an object: its
    name, not its address in memory)."""
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, Mapping):
        return tuple(sorted((str(k), _stable(v)) for k, v in value.items()))
    if isinstance(value, list | tuple):
        return tuple(_stable(v) for v in value)
    if isinstance(value, set | frozenset):
        return tuple(sorted(repr(_stable(v)) for v in value))
    named = value if hasattr(value, "__qualname__") else type(value)
    return f"{getattr(named, '__module__', '')}.{named.__qualname__}"


def search_plugin(config: MkDocsConfig) -> Any:
    """Material's search plugin, if the site uses it."""
    return next((p for p in config.plugins.values() if hasattr(p, "search_index_prev")
                 and hasattr(getattr(p, "search_index", None), "entries")), None)
