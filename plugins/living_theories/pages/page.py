"""A generated page, a published file beside the pages, and the options of a build."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from ..wayfinding import (
    Crumb,
    breadcrumbs,
)
from .markup import text
from .paths import relative


@dataclass
class Page:
    path: str  # where the page lives in the site, e.g. "cmocs/being-clear-vision.md"
    title: str
    # The Markdown, or how to render it: rendered when first asked for, so that a rebuild can
    # reuse an unchanged page's Markdown instead (see `site_files`).
    body: str | Callable[[], str]
    source: str | None = None  # the YAML file it was generated from (for an edit link)
    in_nav: bool = False
    canonical: str | None = None  # the page search engines should prefer (a newer version)
    # Where it sits (a trail from Home to the page) and the nav page of its section, which the
    # sidebar highlights: generated pages are off the nav.
    crumbs: list[Crumb] = field(default_factory=list)
    section: str | None = None
    # Tags for the page's <head> (a released version's citation metadata: metadata.py),
    # worked out when the page is written.
    head: Callable[[], str] | None = None

    @property
    def content(self) -> str:
        if callable(self.body):
            self.body = self.body()
        return self.body

    def rendered_body(self) -> str:
        """The body, rendered now if it is not yet and not kept (a worker renders pages
        ahead with this, see ahead.py)."""
        return self.body() if callable(self.body) else self.body

    def markdown(self, keep: bool = True, body: str | None = None) -> str:
        """The page as a Markdown file, its title in front matter. Themes print the title in
        <title> through `striptags`, which removes tags and then decodes entities: so the
        title holds no '<', '>' or entity. With `keep=False` the rendered body is not kept
        (for a caller that keeps its own copy). `body` is the body rendered elsewhere."""
        title = self.title.replace("<", "\u2039").replace(">", "\u203a")
        title = re.sub(r"&(?=#?\w+;)", "\uff06", title)
        if body is None:
            body = self.content if keep else self.rendered_body()
        elif keep:
            self.body = body
        trail = breadcrumbs(self.crumbs, lambda target: relative(self.path, target), text) \
            if self.crumbs else ""
        return f"---\ntitle: {json.dumps(title)}\n---\n\n{trail}{body}"

    def as_before(self, before: Page) -> bool:
        """Is this page, rendered, what `before` was: the same Markdown (title, trail and
        body), in the same place, with the same <head> tags? (Then its HTML is the same, if
        its links find the same pages: see plugin/rebuilding.py.)"""
        if (self.title, self.crumbs, self.in_nav, self.canonical, self.section) != \
                (before.title, before.crumbs, before.in_nav, before.canonical, before.section):
            return False
        if callable(self.body) or callable(before.body) or self.body != before.body:
            return False
        return (self.head() if self.head else None) == (before.head() if before.head else None)


@dataclass
class Download:
    """A file published beside the pages (citations, data)."""

    path: str
    content: str


@dataclass
class Options:
    include_drafts: bool = False  # a review build shows draft versions; the public one never
    home: bool = True  # generate index.md (off when docs/ has its own)
    base_url: str | None = None  # the published site's address, for citations
    site_name: str | None = None  # publishes the versions when the project names no publisher
    comments: dict[str, str] = field(default_factory=dict)  # review builds: mailto / form
