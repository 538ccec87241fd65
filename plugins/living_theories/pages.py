"""The site's generated pages, as Markdown, from the theory graph. No MkDocs here.

Every page is a Jinja2 template in `templates/pages/`. Text from YAML is escaped by default
(see `text`): HTML and Markdown syntax in a title or quote is shown, never obeyed. Narrative
fields go through `md`, which keeps Markdown and citations but escapes raw HTML and shows links
the URL policy drops (links.py: only http, https, mailto, relative links and anchors) as
text. Links between pages are relative `.md` paths that MkDocs checks.
"""

from __future__ import annotations

import functools
import html
import json
import posixpath
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Container
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from . import consultations, links
from . import models as m
from .citations.formatting import Citer
from .citations.markdown import anchor as ref_anchor
from .citations.syntax import BRACKETED, Cite, parse_group
from .citing import bibtex, citation_cff, csl_item, dumps, ris, theory_json
from .diagrams import Diagram, cmoc_diagram, legend_html, lineage_diagram, theory_diagram
from .graph import Occurrence
from .history import changed, diff_versions
from .project import Project
from .releases import doi_added_later
from .wayfinding import (
    Crumb,
    breadcrumbs,
    has_elements,
    linked,
    named_ids,
    positional_names,
    stated,
)
from .wayfinding import cmoc_name as _cmoc_name
from .wayfinding import short_name as _short_name

TEMPLATES = Path(__file__).parent / "templates" / "pages"
ROLE_SYMBOL = {"supports": "✓", "challenges": "✗", "refines": "↻", "informs": "○"}
ASPECT_NAMES = {
    "whole": "The whole CMOC", "C": "Context", "M-res": "Mechanism (resource)",
    "M-rea": "Mechanism (reasoning)", "O": "Outcome", "C-M": "Context → mechanism",
    "M-O": "Mechanism → outcome", "C-O": "Context → outcome",
}
EVIDENCE_KINDS = {
    "interview": "interview extracts", "meeting": "meeting extracts",
    "document": "document extracts", "study": "published studies",
    "feedback": "stakeholder feedback", "other": "other",
}
SOURCE_KINDS = {
    "participant": "Participants", "meeting": "Meetings", "document": "Documents",
    "study": "Included studies", "consultation": "Consultation rounds",
    "panel": "Stakeholder panels", "other": "Other sources",
}
MODES = {
    "interview": "interview", "focus-group": "focus group", "observation": "observation",
    "document": "document", "survey": "survey", "workshop": "workshop", "other": "other",
}
RELATIONS = {
    "kept": "Kept", "refined": "Refined", "merged": "Merged", "split": "Split",
    "new": "New", "not-known": "Not known", "dropped": "Dropped",
    "fate-not-known": "Fate not known", "removed": "Not in the later version",
    "incorporated": "Incorporated",
}


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

    @property
    def content(self) -> str:
        if callable(self.body):
            self.body = self.body()
        return self.body

    def markdown(self, keep: bool = True) -> str:
        """The page as a Markdown file, its title in front matter. Themes print the title in
        <title> through `striptags`, which removes tags and then decodes entities: so the
        title holds no '<', '>' or entity. With `keep=False` the rendered body is not kept
        (for a caller that keeps its own copy)."""
        title = self.title.replace("<", "\u2039").replace(">", "\u203a")
        title = re.sub(r"&(?=#?\w+;)", "\uff06", title)
        body = self.content if keep or not callable(self.body) else self.body()
        trail = breadcrumbs(self.crumbs, lambda target: relative(self.path, target), text) \
            if self.crumbs else ""
        return f"---\ntitle: {json.dumps(title)}\n---\n\n{trail}{body}"


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
    comments: dict[str, str] = field(default_factory=dict)  # review builds: mailto / form


# --- Escaping ----------------------------------------------------------------------------------

# Characters Markdown may read as syntax, written as numeric references so they show as-is.
_MD_SPECIALS = {c: f"&#{ord(c)};" for c in "\\`*_{}[]#|~^=!@$"}
_MD_SPECIALS.update({"<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;"})
_LINE_START = {c: f"&#{ord(c)};" for c in "-+.:0123456789"}
_ESCAPE = str.maketrans(_MD_SPECIALS)


def text(value: Any) -> Markup:
    """Any value as literal text inside Markdown: no HTML, no Markdown, no citations."""
    if isinstance(value, Markup):
        return value
    if value is None:
        return Markup("")
    if isinstance(value, (int, float)):
        return Markup(str(value))
    return _text(str(value))


@functools.lru_cache(maxsize=1 << 16)
def _text(value: str) -> Markup:
    # Ids, names and titles are written on many pages.
    s = " ".join(value.split())
    out = s.translate(_ESCAPE)
    if s and s[0] in _LINE_START:  # "1. x" or "- x" must not become a list
        out = _LINE_START[s[0]] + out[1:]
    return Markup(out)


def quote_lines(value: str | None) -> Markup:
    """A verbatim quote inside a Markdown blockquote, escaped, its line breaks kept (a quote
    is shown character for character, as the source has it)."""
    lines = (value or "").strip().split("\n")
    return Markup("<br>\n> ".join(_text(line) for line in lines))


def md(value: str | None) -> Markup:
    """A Markdown field: formatting and citations kept; raw HTML and attribute lists shown as
    text; a link the URL policy drops (links.py) shown as text, or if that cannot be done,
    the whole field as plain text. validate reports such links at file:line."""
    if not value:
        return Markup("")
    s = links.field_source(value)
    if links.unsafe(s):
        safe = links.disarmed(s)
        return Markup(safe) if safe is not None else text(value)
    return Markup(s)


def segments(segs: list[tuple[str, str]]) -> Markup:
    """A word diff (history.word_diff) as text with <ins> and <del>. `text` squeezes white
    space, so the spaces around a segment are written outside it."""
    out = []
    for op, value in segs:
        body = _cited_text(value)
        if op in _DIFF_TAGS:
            body = f"<{_DIFF_TAGS[op]}>{body}</{_DIFF_TAGS[op]}>"
        out.append((" " if value[:1].isspace() else "") + body
                   + (" " if value[-1:].isspace() else ""))
    return Markup("".join(out))


_DIFF_TAGS = {"insert": "ins", "delete": "del"}
_SAFE_CITATION = re.compile(r"^[^<>`*_\\|]*$")


def _cited_text(value: str) -> Markup:
    """A piece of a word diff as text, its whole bracketed citations ([@key, p. 4]) kept for
    the citations extension to format: a reader sees (Author, 2024), never [@key]."""
    out, last = [], 0
    for found in BRACKETED.finditer(value):
        cites = parse_group(found["body"])
        if not cites or not all(_PLAIN_KEY.match(c.key) for c in cites) \
                or not _SAFE_CITATION.match(found["body"]):
            continue
        out.append(_spaced(value[last:found.start()]))
        out.append(" ".join(found.group(0).split()))
        last = found.end()
    if not out:
        return text(value)
    out.append(_spaced(value[last:]))
    return Markup("".join(out))


def _spaced(value: str) -> str:
    """`text`, keeping one space where the value starts or ends with some."""
    if not value.strip():
        return " " if value else ""
    return ((" " if value[:1].isspace() else "") + text(value)
            + (" " if value[-1:].isspace() else ""))
_PLAIN_KEY = re.compile(r"^[\w](?:[\w:.#$%&\-+?<>~/]*[\w])?$")


def source_details(source: m.Source) -> str:
    """What the Sources index says about a source besides its name: role, site, how the
    data were collected, date."""
    mode = MODES.get(source.mode or "", source.mode)
    return " · ".join(str(p) for p in (source.role, source.site, mode, source.date) if p)


def cite(key: str) -> Markup:
    """A BibTeX key as a citation the Markdown extension formats (keys are validated)."""
    return Markup(f"[@{key}]") if _PLAIN_KEY.match(key) else text(key)


def md_inline(value: str | None) -> Markup:
    """A Markdown field on one line (a list item or table cell)."""
    return md(" ".join((value or "").split()))


# --- Paths ------------------------------------------------------------------------------------


def theory_path(tid: str) -> str:
    return f"theories/{tid}/index.md"


def version_path(tid: str, n: int) -> str:
    return f"theories/{tid}/v{n}.md"


def version_dir(tid: str, n: int) -> str:
    """Where a version's downloads live: beside its page, at theories/<id>/v<N>/."""
    return f"theories/{tid}/v{n}/"


def history_path(tid: str) -> str:
    return f"theories/{tid}/history.md"


def compare_path(tid: str, a: int, b: int) -> str:
    return f"theories/{tid}/compare/v{a}-v{b}.md"


def page_url(path: str) -> str:
    """The address of a page source under MkDocs' directory URLs."""
    if path.endswith("index.md"):
        return path[: -len("index.md")]
    return path[: -len(".md")] + "/"


def cmoc_path(cid: str) -> str:
    return f"cmocs/{cid}.md"


def source_path(sid: str) -> str:
    return f"sources/{sid}.md"


def evidence_path(ev: m.Evidence) -> str:
    """Where a record is shown: on its (first) source's page."""
    return f"{source_path(ev.refs[0].source)}#{ev.id}"


SOURCES, CONTEXTS, REFERENCES, EVIDENCE_MAP, THEORIES, CONSULTATIONS = (
    "sources/index.md", "contexts/index.md", "references/index.md", "evidence-map/index.md",
    "theories/index.md", "consultations/index.md",
)


def round_path(rid: str) -> str:
    return f"consultations/{rid}.md"


def pack_path(rid: str) -> str:
    return f"consultations/{rid}/pack.md"


def template_path(rid: str) -> str:
    return f"consultations/{rid}/feedback-template.csv"


def relative(from_path: str, to_path: str) -> str:
    """A relative link between two page sources (MkDocs turns it into the right URL)."""
    target, _, frag = to_path.partition("#")
    if not target:
        return "#" + frag
    rel = _relpath(target, posixpath.dirname(from_path))
    return rel + ("#" + frag if frag else "")


def _relpath(target: str, start: str) -> str:
    """posixpath.relpath for the site's own normalised paths, without its abspath and
    getcwd calls (tens of thousands of links on a big site)."""
    if ".." in target or ".." in start or "./" in target or "./" in start:
        return posixpath.relpath(target, start or ".")
    to, at = target.split("/"), start.split("/") if start else []
    common = 0
    for a, b in zip(to, at, strict=False):
        if a != b:
            break
        common += 1
    return "/".join([".."] * (len(at) - common) + to[common:]) or "."


_FRONT_TITLE = re.compile(r"\A---\s*\n(?:.*\n)*?title:\s*(.+?)\s*\n(?:.*\n)*?---\s*\n")
_HEADING = re.compile(r"^#\s+(.+?)\s*#*\s*$", re.M)


def page_title(markdown: str, path: str) -> str:
    """A hand-written page's title as MkDocs shows it: front matter, first heading, or name."""
    found = _FRONT_TITLE.match(markdown) or _HEADING.search(markdown)
    if found:
        return found.group(1).strip("'\"")
    stem = posixpath.splitext(posixpath.basename(path))[0]
    if stem == "index":
        stem = posixpath.basename(posixpath.dirname(path)) or "Home"
    return stem.replace("-", " ").replace("_", " ").capitalize()


# --- What the site shows ----------------------------------------------------------------------


@dataclass
class Site:
    """The published view of a project: public records; drafts only in a review build."""

    project: Project
    options: Options = field(default_factory=Options)
    # Hand-written pages: path -> (title, cited keys), for the references' "cited on" links.
    extra_citations: dict[str, tuple[str, list[str]]] = field(default_factory=dict)
    _source_names: dict[str, str] = field(default_factory=dict, init=False, repr=False)
    # Formatted references by BibTeX key (HTML), for "Published in" (set by `generate`).
    references: dict[str, str] = field(default_factory=dict, init=False, repr=False)

    @property
    def g(self):
        return self.project.graph

    @cached_property
    def theories(self) -> list[m.Theory]:
        """Public theories with something to show, in framework-domain order."""
        framework = self.g.corpus.project.framework
        order = {d.id: i for i, d in enumerate(framework.domains)} if framework else {}
        shown = [t for t in self.g.theories.values()
                 if t.visibility == m.Visibility.public.value and self.versions(t)]
        return sorted(shown, key=lambda t: (order.get(t.domain or "", len(order)), t.id))

    @property
    def version_count(self) -> int:
        return sum(len(self.versions(t)) for t in self.theories)

    def versions(self, theory: m.Theory) -> list[m.Version]:
        if self.options.include_drafts:
            return list(theory.versions)
        return [v for v in theory.versions if v.status == m.Status.released.value]

    def current(self, theory: m.Theory) -> m.Version:
        return self.versions(theory)[-1]

    def latest_released(self, theory: m.Theory) -> m.Version | None:
        released = [v for v in theory.versions if v.status == m.Status.released.value]
        return released[-1] if released else None

    @cached_property
    def cmocs(self) -> dict[str, list[Occurrence]]:
        """Published CMOC ids -> the published versions they appear in."""
        shown = {(t.id, v.number) for t in self.theories for v in self.versions(t)}
        out: dict[str, list[Occurrence]] = {}
        for cid, occurrences in self.g.cmocs.items():
            visible = [o for o in occurrences if (o.theory.id, o.version.number) in shown]
            if visible:
                out[cid] = visible
        return out

    @cached_property
    def examples(self) -> dict[str, Occurrence]:
        """Published example configurations by their own id."""
        shown = {(t.id, v.number) for t in self.theories for v in self.versions(t)}
        return {o.cmoc.id: o for os in self.g.examples.values() for o in os
                if (o.theory.id, o.version.number) in shown and o.cmoc.illustrates in self.cmocs}

    def examples_of(self, cid: str) -> list[Occurrence]:
        return [o for o in self.examples.values() if o.cmoc.illustrates == cid]

    def became(self, occ: Occurrence) -> dict[str, Any] | None:
        """What a CMOC became in the next published version, when it is not in it: the
        relation ('merged', 'dropped', 'incorporated', ... or 'fate-not-known'), the CMOCs it
        went into, and the reason given."""
        following = [v for v in self.versions(occ.theory) if v.number == occ.version.number + 1]
        if not following or following[0].cmoc(occ.cmoc.id):
            return None
        nxt = following[0]
        for drop in nxt.dropped:
            if drop.cmoc == occ.cmoc.id:
                return {"version": nxt, "relation": "dropped", "into": [], "reason": drop.reason}
        for inc in nxt.incorporated:
            if inc.cmoc == occ.cmoc.id:
                return {"version": nxt, "relation": "incorporated",
                        "into": [nxt.cmoc(i) for i in inc.into], "reason": inc.reason}
        heirs = [(c, self.g.lineage(nxt, c)) for c in nxt.cmocs]
        heirs = [(c, lin) for c, lin in heirs if lin and occ.cmoc.id in lin.from_]
        if heirs:
            return {"version": nxt, "relation": heirs[0][1].relation,
                    "into": [c for c, _ in heirs], "reason": None}
        return {"version": nxt, "relation": "fate-not-known", "into": [], "reason": None}

    def as_in(self, cid: str, number: int) -> m.CMOC | None:
        """A published CMOC as it was in one version (its predecessor's wording and name)."""
        return next((o.cmoc for o in self.cmocs.get(cid, []) if o.version.number == number),
                    None)

    @cached_property
    def _positional(self) -> dict[int, str]:
        return positional_names(v for t in self.g.theories.values() for v in t.versions)

    def name(self, cmoc: m.CMOC) -> str:
        """How pages name a CMOC: never by its id, never by a placeholder (wayfinding.py)."""
        return _cmoc_name(cmoc, self._positional)

    def short_name(self, cmoc: m.CMOC) -> str:
        return _short_name(cmoc, self._positional)

    def abbreviated(self, cmocs: list[m.CMOC]) -> list[m.CMOC]:
        """CMOCs whose column heading (short_name) is not their whole name."""
        return [c for c in cmocs if self.short_name(c) != self.name(c)]

    def named(self, cid: str) -> str:
        """A published CMOC named with its theory, where the page does not say which:
        'CMOC 3 · Relating & Communicating'."""
        occ = self.cmocs[cid][-1]
        return f"{self.name(occ.cmoc)} · {occ.theory.title}"

    def prose(self, value: str | None, page: str) -> Markup:
        """A Markdown field (md) in which ids written as code spans are links, named."""
        def resolve(rid: str) -> tuple[str, str] | None:
            if rid in self.cmocs:
                return text(self.name(self.cmocs[rid][-1].cmoc)), relative(page, cmoc_path(rid))
            if rid in self.sources:
                return text(self.source_name(self.sources[rid])), relative(page,
                                                                            source_path(rid))
            return None
        return md(named_ids(value, resolve)) if value else Markup("")

    @cached_property
    def sources(self) -> dict[str, m.Source]:
        return {k: s for k, s in self.g.corpus.sources.items()
                if s.visibility == m.Visibility.public.value}

    @cached_property
    def evidence(self) -> dict[str, m.Evidence]:
        """Public evidence from public sources that bears on something published (evidence
        about a draft CMOC only would tell of the draft)."""
        theories = {t.id for t in self.theories}
        contexts = {c.id for c in self.contexts}

        def published(t: m.BearsOn) -> bool:
            return (t.cmoc in self.cmocs if t.cmoc else t.theory in theories if t.theory
                    else t.context in contexts)

        return {k: e for k, e in self.g.corpus.evidence.items()
                if e.visibility == m.Visibility.public.value
                and all(r.source in self.sources for r in e.refs)
                and any(published(t) for t in e.bears_on)}

    @cached_property
    def contexts(self) -> list[m.OverarchingContext]:
        return [c for c in self.g.corpus.project.overarching_contexts
                if c.visibility == m.Visibility.public.value]

    @cached_property
    def substantive_theories(self) -> list[m.SubstantiveTheory]:
        return [s for s in self.g.corpus.project.substantive_theories
                if s.visibility == m.Visibility.public.value]

    def evidence_on(self, cid: str, version: int | None = None
                    ) -> list[tuple[m.Evidence, m.BearsOn]]:
        """Published evidence on a CMOC; with `version`, only what bears on that version's
        CMOC (evidence that names another version tested that version's wording), and for a
        released version only what it showed at release (its snapshot)."""
        frozen = None
        if version is not None and cid in self.g.cmocs:
            snap = self.project.snapshots.get((self.g.cmocs[cid][0].theory.id, version))
            frozen = snap.evidence_ids if snap else None
        return [(e, b) for e, b in self.g.evidence_on_cmoc.get(cid, []) if e.id in self.evidence
                and (version is None or b.version in (None, version))
                and (frozen is None or e.id in frozen)]

    def added_later(self, theory: m.Theory, version: m.Version) -> list[str]:
        """What a released version's citation shows that was filled in after its release."""
        locked = self.project.lock.hash_of(theory.id, version.number)
        out = ["DOI"] if doi_added_later(version, locked) else []
        snap = self.project.snapshots.get((theory.id, version.number))
        if snap and not snap.data.get("address") and self.url(version_path(theory.id, 1)):
            out.append("address")
        return out

    def corrections(self, theory: m.Theory, version: m.Version) -> list[dict[str, str]]:
        """Dated corrections of a released version (`living-theories correct`)."""
        snap = self.project.snapshots.get((theory.id, version.number))
        return snap.corrections if snap else []

    def by_aspect_and_role(self, items: list[tuple[m.Evidence, m.BearsOn]]
                           ) -> list[tuple[str, list[tuple[str, list[Any]]]]]:
        """Evidence on a CMOC as its page lists it: (aspect name, [(role, items)]), in the
        order of ASPECT_NAMES and ROLE_SYMBOL."""
        groups: dict[tuple[str, str], list[Any]] = defaultdict(list)
        for ev, target in items:
            groups[(target.aspect, target.role)].append((ev, target))
        out = []
        for aspect, name in ASPECT_NAMES.items():
            roles = [(role, groups[(aspect, role)]) for role in ROLE_SYMBOL
                     if (aspect, role) in groups]
            if roles:
                out.append((name, roles))
        return out

    def evidence_in(self, ids: list[str]) -> list[m.Evidence]:
        return [self.evidence[i] for i in ids if i in self.evidence]

    @cached_property
    def citing_pages(self) -> dict[str, list[tuple[str, str]]]:
        """BibTeX key -> [(page path, page title)] of the pages that cite it. Every record is
        read through the same properties (`theories`, `versions`, `sources`, `evidence`,
        `contexts`, `substantive_theories`) that choose what the pages show: a reference cited
        only by an internal or draft record is never formatted, listed or indexed."""
        from .citations.syntax import cited_keys
        from .graph import iter_markdown

        out: dict[str, dict[str, str]] = defaultdict(dict)

        def add(keys: list[str], path: str, title: str) -> None:
            for key in keys:
                out[key].setdefault(path, title)

        for theory in self.theories:
            for version in self.versions(theory):
                keys = [k for _, t in iter_markdown(version) for k in cited_keys(t)]
                add(keys + list(version.published_in), version_path(theory.id, version.number),
                    f"{theory.title}, version {version.number}")
            add([k for _, t in iter_markdown(theory) for k in cited_keys(t)],
                theory_path(theory.id), theory.title)
        for source in self.sources.values():
            keys = [source.reference] if source.reference else []
            keys += [k for _, t in iter_markdown(source) for k in cited_keys(t)]
            for ev in self.evidence_from(source.id):
                keys += [k for _, t in iter_markdown(ev) for k in cited_keys(t)]
            add(keys, source_path(source.id), self.source_name(source))
        ctx_keys = [k for c in self.contexts for _, t in iter_markdown(c) for k in cited_keys(t)]
        add(ctx_keys, CONTEXTS, "Overarching contexts")
        for st in self.substantive_theories:
            add(list(st.references) + [k for _, t in iter_markdown(st) for k in cited_keys(t)],
                CONTEXTS, "Substantive theory")
        for path, (title, keys) in self.extra_citations.items():
            add(keys, path, title)
        return {k: sorted(v.items(), key=lambda kv: kv[1]) for k, v in out.items()}

    def url(self, path: str) -> str | None:
        """A page's full address, when the site's address is known."""
        base = self.options.base_url
        return base.rstrip("/") + "/" + page_url(path) if base else None

    def address(self, path: str) -> str:
        """A page's full address, or its address relative to the site's root."""
        return self.url(path) or page_url(path)

    def as_released(self, theory: m.Theory, version: m.Version
                    ) -> tuple[m.Theory, m.ProjectFile]:
        """The theory and project as a released version was released with (its title and
        authors stay as they were cited); for drafts and older locks, as they are now."""
        project = self.g.corpus.project
        was = self.project.lock.released_as(theory.id, version.number)
        if not was:
            return theory, project
        return (theory.model_copy(update={"title": was["theory_title"],
                                          "domain": was.get("theory_domain")}),
                project.model_copy(update={
                    "authors": [m.Person(**a) for a in was.get("authors", [])],
                    "publisher": was.get("publisher"), "title": was.get("project_title")}))

    def citation_item(self, theory: m.Theory, version: m.Version) -> dict[str, Any]:
        corrections = self.corrections(theory, version)
        theory, project = self.as_released(theory, version)
        item = csl_item(project, theory, version,
                        self.url(version_path(theory.id, version.number)),
                        self.project.lock.hash_of(theory.id, version.number))
        if corrections:  # a corrected version is cited as corrected
            item["note"] = "; ".join([item.get("note", "")] + [
                f"Corrected on {c['date']}: {c['reason']}" for c in corrections]).strip("; ")
        return item

    def cite(self, theory: m.Theory, version: m.Version, page: str,
             citer: Citer | None) -> dict[str, Any] | None:
        """The cite box of a released version (drafts are not for citation)."""
        if version.status != m.Status.released.value:
            return None
        item = self.citation_item(theory, version)
        html_text = citer.format_item(item) if citer else text(item["title"])
        return {"html": Markup(html_text),
                "hash": self.project.lock.hash_of(theory.id, version.number),
                "base": version_dir(theory.id, version.number)}

    @cached_property
    def consultation_rounds(self) -> list[m.Source]:
        return [r for r in consultations.rounds(self.g) if r.id in self.sources]

    def is_feedback(self, ev: m.Evidence) -> bool:
        return self.g.evidence_kind(ev) == m.EvidenceKind.feedback.value

    def reviewed(self, round_: m.Source) -> list[dict[str, Any]]:
        """Each version a round reviewed: published or not, and its diff since the last round."""
        out = []
        for ref in round_.reviewed:
            theory = self.g.theories.get(ref.theory)
            version = self.g.version(ref.theory, ref.version)
            shown = theory in self.theories and version in self.versions(theory)
            before = consultations.previous_review(self.g, round_, ref.theory)
            diff = None
            if shown and before and before < ref.version and \
                    self.g.version(ref.theory, before) in self.versions(theory):
                diff = diff_versions(self.g, theory, theory.versions[before - 1], version)
            out.append({"theory": theory, "version": version, "number": ref.version,
                        "shown": shown, "before": before, "diff": diff})
        return out

    def is_open(self, round_: m.Source) -> bool:
        """A round still taking feedback: some version it reviewed is not superseded by a
        later released version. A historic round offers no feedback template."""
        for ref in round_.reviewed:
            theory = self.g.theories.get(ref.theory)
            latest = self.latest_released(theory) if theory else None
            if latest is None or latest.number <= ref.version:
                return True
        return False

    def comment_link(self, theory_id: str, version: m.Version, cid: str) -> str | None:
        """'Comment on this', in a review build when the site is set up for it."""
        if not self.options.include_drafts or not self.options.comments:
            return None
        reviewing = [r.id for r in self.consultation_rounds
                     if any(v.theory == theory_id and v.version == version.number
                            for v in r.reviewed)]
        return consultations.comment_link(self.options.comments, theory_id, version.number,
                                          cid, reviewing[-1] if reviewing else "")

    def rounds(self, theory: m.Theory) -> dict[int, list[m.Source]]:
        """Consultation rounds that reviewed each version of a theory."""
        out: dict[int, list[m.Source]] = defaultdict(list)
        for source in self.consultation_rounds:
            for ref in source.reviewed:
                if ref.theory == theory.id:
                    out[ref.version].append(source)
        return out

    def evidence_summary(self, version: m.Version) -> dict[str, Any]:
        """Evidence on a version's CMOCs: distinct records, links by role, records by kind."""
        records: dict[str, m.Evidence] = {}
        roles: Counter = Counter()
        for cmoc in version.cmocs:
            for ev, target in self.evidence_on(cmoc.id, version.number):
                records[ev.id] = ev
                roles[target.role] += 1
        kinds = Counter(self.g.evidence_kind(ev) for ev in records.values())
        return {"total": len(records), "roles": roles, "kinds": kinds}

    def source_name(self, source: m.Source) -> str:
        """How a source is named on pages: a study by its short citation, e.g. 'Bell et al.
        (2022)'; anything else by its title or code."""
        if source.title:
            return source.title
        if source.id not in self._source_names:  # names are parsed from the BibTeX entry
            self._source_names[source.id] = self._source_name(source)
        return self._source_names[source.id]

    def _source_name(self, source: m.Source) -> str:
        bib = self.project.bibliography
        if source.reference and source.reference in bib:
            ref = bib[source.reference]
            families = [n.family for n in ref.names("author") or ref.names("editor")]
            who = (families[0] if len(families) == 1 else " and ".join(families)
                   if len(families) == 2 else f"{families[0]} et al." if families
                   else ref.field("title") or source.reference)
            return f"{who} ({ref.field('year') or 'n.d.'})"
        return source.name

    def domain_column(self) -> dict[str, str]:
        """Theory id -> its framework domain's title, when some domain's title says more than
        its theory's own title (else the Theories index has no Domain column)."""
        framework = self.g.corpus.project.framework
        titles = {d.id: d.title for d in framework.domains} if framework else {}
        out = {t.id: titles[t.domain] for t in self.theories if t.domain in titles}
        differs = any(out[t.id].casefold() != t.title.casefold() for t in self.theories
                      if t.id in out)
        return out if differs else {}

    def naturally(self, sources: list[m.Source]) -> list[m.Source]:
        """Sources in the order a reader expects: P2/9 before P2/22."""
        return sorted(sources, key=lambda s: _natural(self.source_name(s)))

    def record_headings(self, source: m.Source) -> dict[str, str]:
        """A heading for each record on a source's page that tells them apart: where the
        source cites it, when that is more than the source's own name (a meeting's line, a
        document's page), and what it bears on; never an id, never one heading repeated."""
        name = self.source_name(source)
        out: dict[str, str] = {}
        for ev in self.evidence_from(source.id):
            ref = ev.ref_for(source.id)
            where = ref.cited_as if ref and ref.cited_as and ref.cited_as != name else None
            where = where or (ref.locator if ref else None)
            on = self._bears_on_name(ev)
            if where and on:
                on = on[0].lower() + on[1:]  # "p. 4 · on M1: Having a voice"
            out[ev.id] = " · ".join(p for p in (where, on) if p) or name
        seen: Counter = Counter(out.values())
        taken: Counter = Counter()
        for eid, heading in out.items():
            if seen[heading] > 1:
                taken[heading] += 1
                out[eid] = f"{heading} ({taken[heading]} of {seen[heading]})"
        return out

    def _bears_on_name(self, ev: m.Evidence) -> str | None:
        names = []
        for t in ev.bears_on:
            if t.cmoc and t.cmoc in self.cmocs:
                names.append(self.name(self.cmocs[t.cmoc][-1].cmoc))
            elif t.context and t.context in self.g.contexts:
                names.append(self.g.contexts[t.context].title)
            elif t.theory and t.theory in self.g.theories:
                names.append(self.g.theories[t.theory].title)
        names = list(dict.fromkeys(names))
        if not names:
            return None
        return "On " + (names[0] if len(names) == 1 else ", ".join(names[:-1])
                        + " and " + names[-1])

    def evidence_from(self, sid: str) -> list[m.Evidence]:
        return [e for e in self.g.evidence_from_source.get(sid, []) if e.id in self.evidence]


# --- Rendering ---------------------------------------------------------------------------------


def _environment() -> jinja2.Environment:
    # Compiled templates are kept between runs, in Jinja2's own per-user folder (it checks
    # them against the source): it saves half a second on every build.
    try:
        bytecode_cache: jinja2.BytecodeCache | None = jinja2.FileSystemBytecodeCache()
    except (OSError, RuntimeError):
        bytecode_cache = None
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        bytecode_cache=bytecode_cache,
        extensions=["jinja2.ext.do"],
        # Every {{ value }} goes through `text` (finalize): HTML and Markdown escaped. Values
        # already safe (filters `md`, `safe`, macro output) are Markup and pass unchanged.
        autoescape=True,
        finalize=text,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,  # package files: no need to look at them again for every page
    )
    env.filters.update(md=md, md_inline=md_inline, text=text, quote_lines=quote_lines,
                       cite=cite, segments=segments,
                       linked=linked, has_elements=has_elements, source_details=source_details,
                       evidence_count=lambda cid, site: len(site.evidence_on(cid)))
    env.tests.update(stated=stated)
    env.globals.update(ROLE_SYMBOL=ROLE_SYMBOL, ASPECT_NAMES=ASPECT_NAMES, ELEMENTS=m.ELEMENTS,
                       MODES=MODES,
                       EVIDENCE_KINDS=EVIDENCE_KINDS,
                       SOURCE_KINDS=SOURCE_KINDS, RELATIONS=RELATIONS)
    return env


_ENV = _environment()


class Deferred(functools.partial):
    """A value for a page that is worked out only if the page is rendered."""


class Renderer:
    def __init__(self, site: Site):
        self.site = site

    def later(self, template: str, path: str, **context: Any) -> Callable[[], str]:
        """The page's rendering, to run when its Markdown is needed; values given as
        `Deferred(...)` (diagrams, diffs) are worked out then too."""
        def render() -> str:
            return self.render(template, path, **{
                k: v() if isinstance(v, Deferred) else v for k, v in context.items()})
        return render

    def render(self, template: str, path: str, **context: Any) -> str:
        def url(target: str) -> Markup:
            return Markup(relative(path, target))

        def diagram(d: Diagram | None) -> Markup:
            if d is None:
                return Markup("")
            source = html.escape(d.source, quote=False)
            links = " ".join(f"[{nid}]({relative(path, target)})" for nid, target in
                             d.links.items())
            narrow = f' data-lt-narrow="{d.narrow}"' if d.narrow else ""
            out = f'<pre class="lt-mermaid"{narrow}>{source}</pre>\n'
            if links:
                out += f"\n{links}\n{{: .lt-diagram-links }}\n"
            return Markup(out + "\n" + legend_html(d) + "\n")

        return _ENV.get_template(template).render(
            site=self.site, g=self.site.g, url=url, diagram=diagram, page_path=path,
            source_name=self.site.source_name, history_path=history_path,
            compare_path=compare_path, changed=changed, round_path=round_path,
            pack_path=pack_path, template_path=template_path, CONSULTATIONS=CONSULTATIONS,
            summary_of=consultations.summary_of,
            cmoc_path=cmoc_path, source_path=source_path, evidence_path=evidence_path,
            theory_path=theory_path,
            version_path=version_path, ref_anchor=ref_anchor, CONTEXTS=CONTEXTS,
            SOURCES=SOURCES, REFERENCES=REFERENCES, EVIDENCE_MAP=EVIDENCE_MAP,
            THEORIES=THEORIES, **context,
        )


def _where(record: Any) -> str | None:
    where = getattr(record, "_where", None)
    return where[0] if where else None


def generate(project: Project, options: Options | None = None,
             extra_citations: dict[str, tuple[str, list[str]]] | None = None,
             bibliography: list[tuple[str, str]] | None = None,
             citer: Citer | None = None, site: Site | None = None) -> list[Page]:
    """Every generated page. `bibliography` is the formatted (key, HTML) list, in style order;
    `citer` formats the citation of each version (plain text without it); `site` reuses what
    a caller already worked out about the published view."""
    site = site or Site(project, options or Options(), extra_citations or {})
    site.references = dict(bibliography or [])
    r = Renderer(site)
    pages: list[Page] = []
    home = [Crumb("Home", "index.md")]
    theories = home + [Crumb("Theories", THEORIES)]
    if site.options.home:
        pages.append(Page("index.md", "Home", r.later("home.md.j2", "index.md"), in_nav=True))
    pages.append(Page(THEORIES, "Theories", r.later("theories.md.j2", THEORIES), in_nav=True,
                      crumbs=home + [Crumb("Theories", None)], section=THEORIES))
    link_of = {cid: cmoc_path(cid) for cid in site.cmocs}
    contexts = {c.id: c.title for c in site.contexts}  # drawn around the CMOCs
    for theory in site.theories:
        current, latest = site.current(theory), site.latest_released(theory)
        path = theory_path(theory.id)
        at_theory = theories + [Crumb(theory.title, path)]
        pages.append(Page(path, theory.title, r.later(
            "version.md.j2", path, theory=theory, version=current, is_index=True,
            em=Deferred(evidence_map, site, [(theory, current)]),
            latest=latest, cite=site.cite(theory, current, path, citer),
            diagram_of=Deferred(theory_diagram, current, link_of, contexts)), _where(theory),
            crumbs=theories + [Crumb(theory.title, None)], section=THEORIES))
        for version in site.versions(theory):
            path = version_path(theory.id, version.number)
            superseded = latest is not None and latest.number > version.number
            frozen, _ = site.as_released(theory, version)  # as it was released
            pages.append(Page(
                path, f"{frozen.title}, version {version.number}", r.later(
                    "version.md.j2", path, theory=frozen, version=version, is_index=False,
                    em=Deferred(evidence_map, site, [(theory, version)]),
                    latest=latest, cite=site.cite(theory, version, path, citer),
                    diagram_of=Deferred(theory_diagram, version, link_of, contexts)),
                _where(version),
                canonical=version_path(theory.id, latest.number) if superseded else None,
                # (as released: the trail to a frozen page names the theory as it did)
                crumbs=theories + [Crumb(frozen.title, theory_path(theory.id)),
                                   Crumb(f"Version {version.number}", None)],
                section=THEORIES))
        versions = site.versions(theory)
        path = history_path(theory.id)
        pairs = [(a.number, b.number) for i, a in enumerate(versions) for b in versions[i + 1:]]
        pages.append(Page(path, f"{theory.title}: history", r.later(
            "history.md.j2", path, theory=theory, versions=versions,
            rounds=site.rounds(theory),
            lineage=Deferred(lineage_diagram, versions, site.g.lineage, link_of),
            diffs=Deferred(_diffs, site, theory, versions),
            pairs=pairs), crumbs=at_theory + [Crumb("History", None)], section=THEORIES))
        for a, b in pairs:
            path = compare_path(theory.id, a, b)
            d = Deferred(diff_versions, site.g, theory, versions[a - 1], versions[b - 1])
            pages.append(Page(path, f"{theory.title}: version {a} and version {b}",
                              r.later("compare.md.j2", path, theory=theory, d=d),
                              crumbs=at_theory + [Crumb("History", history_path(theory.id)),
                                                  Crumb(f"Versions {a} and {b}", None)],
                              section=THEORIES))
    feedback_ids = {e.id for e in site.evidence.values() if site.is_feedback(e)}
    for cid, occurrences in site.cmocs.items():
        latest = occurrences[-1]
        path = cmoc_path(cid)
        pages.append(Page(path, site.named(cid), r.later(
            "cmoc.md.j2", path, cid=cid, occurrences=occurrences, occ=latest,
            feedback_ids=feedback_ids,
            diagram_of=Deferred(cmoc_diagram, latest.cmoc),
            lineage=site.g.lineage(latest.version, latest.cmoc)),
            _where(latest.version), crumbs=_in_version(theories, latest) + [
                Crumb(site.name(latest.cmoc), None)], section=THEORIES))
    for eid, occ in site.examples.items():
        path = cmoc_path(eid)
        pages.append(Page(path, f"Example: {site.name(occ.cmoc)} · {occ.theory.title}",
                          r.later("example.md.j2", path, occ=occ,
                                  diagram_of=Deferred(cmoc_diagram, occ.cmoc)),
                          _where(occ.version), crumbs=_in_version(theories, occ) + [
                              Crumb(f"Example: {site.name(occ.cmoc)}", None)],
                          section=THEORIES))
    rounds = home + [Crumb("Consultation rounds", CONSULTATIONS)]
    if site.consultation_rounds:  # a project with no rounds has no such page, nor a link
        pages.append(Page(CONSULTATIONS, "Consultation rounds",
                          r.later("consultations.md.j2", CONSULTATIONS), in_nav=True,
                          crumbs=home + [Crumb("Consultation rounds", None)],
                          section=CONSULTATIONS))
    for round_ in site.consultation_rounds:
        path = round_path(round_.id)
        feedback = site.evidence_from(round_.id)
        pages.append(Page(path, site.source_name(round_), r.later(
            "round.md.j2", path, round=round_, reviewed=site.reviewed(round_),
            feedback=feedback,
            changed_because=consultations.changes_citing(site.g, {e.id for e in feedback},
                                                            site.name)),
            _where(round_), crumbs=rounds + [Crumb(site.source_name(round_), None)],
            section=CONSULTATIONS))
        path = pack_path(round_.id)
        pages.append(Page(path, f"{site.source_name(round_)}: consultation pack", r.later(
            "pack.md.j2", path, round=round_, reviewed=site.reviewed(round_), link_of={},
            theory_diagram=theory_diagram, hash_of=project.lock.hash_of), _where(round_),
            crumbs=rounds + [Crumb(site.source_name(round_), round_path(round_.id)),
                             Crumb("Consultation pack", None)], section=CONSULTATIONS))
    pages.append(Page(SOURCES, "Sources", r.later("sources.md.j2", SOURCES), in_nav=True,
                      crumbs=home + [Crumb("Sources", None)], section=SOURCES))
    for source in site.sources.values():
        path = source_path(source.id)
        pages.append(Page(path, site.source_name(source), r.later("source.md.j2", path,
                                                                    source=source),
                          _where(source), crumbs=home + [Crumb("Sources", SOURCES),
                                                         Crumb(site.source_name(source), None)],
                          section=SOURCES))
    pages.append(Page(CONTEXTS, "Overarching contexts", r.later("contexts.md.j2", CONTEXTS),
                      _where(site.g.corpus.project) or None, in_nav=True,
                      crumbs=home + [Crumb("Overarching contexts", None)], section=CONTEXTS))
    pages.append(Page(EVIDENCE_MAP, "Evidence map", r.later(
        "evidence_map.md.j2", EVIDENCE_MAP, em=Deferred(evidence_map, site)), in_nav=True,
        crumbs=home + [Crumb("Evidence map", None)], section=EVIDENCE_MAP))
    pages.append(Page(REFERENCES, "References", r.later(
        "references.md.j2", REFERENCES, bibliography=bibliography or []), in_nav=True,
        crumbs=home + [Crumb("References", None)], section=REFERENCES))
    return pages


def _in_version(theories: list[Crumb], occ: Occurrence) -> list[Crumb]:
    """The trail down to the version a CMOC (or an example) is shown as."""
    return theories + [Crumb(occ.theory.title, theory_path(occ.theory.id)),
                       Crumb(f"Version {occ.version.number}",
                             version_path(occ.theory.id, occ.version.number))]


def _diffs(site: Site, theory: m.Theory, versions: list[m.Version]) -> list[Any]:
    """What changed between each version and the next."""
    return [diff_versions(site.g, theory, a, b) for a, b in zip(versions, versions[1:],
                                                                  strict=False)]


def _natural(text: str) -> list[Any]:
    """A sort key that puts P2/9 before P2/22."""
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", text)]


def evidence_map(site: Site, versions: list[tuple[m.Theory, m.Version]] | None = None
                 ) -> dict[str, Any]:
    """Sources x CMOCs of each theory's current version, or of the versions given (one table
    per version, so a table never grows with the whole corpus): counts by role, records per
    CMOC (N), and the CMOCs that stand out. Evidence that names the version it tested counts
    for that version only."""
    cells: dict[tuple[str, str], Counter] = defaultdict(Counter)
    totals: dict[str, Counter] = defaultdict(Counter)
    records: dict[str, set[str]] = defaultdict(set)  # CMOC -> ids of the records on it
    sections, unsupported, challenged = [], [], []
    kind_order = {k: i for i, k in enumerate(SOURCE_KINDS)}
    if versions is None:
        versions = [(theory, site.current(theory)) for theory in site.theories]
    for theory, version in versions:
        row_ids: set[str] = set()
        for cmoc in version.cmocs:
            for ev, target in site.evidence_on(cmoc.id, version.number):
                for ref in ev.refs:  # a record from several sources counts in each row
                    cells[(ref.source, cmoc.id)][target.role] += 1
                    row_ids.add(ref.source)
                totals[cmoc.id][target.role] += 1
                records[cmoc.id].add(ev.id)
            if not totals[cmoc.id]:
                unsupported.append((theory, cmoc))
            elif set(totals[cmoc.id]) == {"challenges"}:
                challenged.append((theory, cmoc))
        rows = sorted((site.sources[s] for s in row_ids),
                      key=lambda s: (kind_order.get(s.kind, len(kind_order)),
                                     _natural(site.source_name(s))))
        sections.append({"theory": theory, "version": version, "columns": version.cmocs,
                         "rows": rows})
    # Counts as "✓3 ✗1 ", worked out here: the map has a cell per source and CMOC.
    return {"sections": sections, "cells": {k: _counts(v) for k, v in cells.items()},
            "totals": {k: _counts(v) for k, v in totals.items()},
            "records": {k: len(v) for k, v in records.items()},
            "unsupported": unsupported, "challenged": challenged,
            "unsupported_ids": {c.id for _, c in unsupported}}


def _counts(by_role: Counter) -> Markup:
    return Markup("".join(f"{symbol}{by_role[role]} " for role, symbol in ROLE_SYMBOL.items()
                          if by_role[role]))


def downloads(project: Project, options: Options | None = None,
              site_title: str = "", site: Site | None = None) -> list[Download]:
    """Citation files and data for each released version, and the site's CITATION.cff."""
    site = site or Site(project, options or Options())
    out: list[Download] = []
    released: list[tuple[m.Theory, m.Version]] = []
    for theory in site.theories:
        for version in site.versions(theory):
            if version.status != m.Status.released.value:
                continue
            released.append((theory, version))
            base = version_dir(theory.id, version.number)
            item = site.citation_item(theory, version)
            frozen, _ = site.as_released(theory, version)
            data = theory_json(site.g, frozen, version,
                               project.lock.hash_of(theory.id, version.number),
                               functools.partial(_address_of, site, theory.id, version.number))
            out += [Download(base + "cite.bib", bibtex(item)),
                    Download(base + "cite.ris", ris(item)),
                    Download(base + "cite.json", dumps([item])),
                    Download(base + "theory.json", dumps(data))]
    for round_ in filter(site.is_open, site.consultation_rounds):
        # Only published versions: a public build must not leak a draft's CMOCs.
        shown = [ref for ref, item in zip(round_.reviewed, site.reviewed(round_), strict=True)
                 if item["shown"]]
        out.append(Download(template_path(round_.id), consultations.feedback_template(
            site.g, round_.model_copy(update={"reviewed": shown}))))
    out.append(Download("CITATION.cff", citation_cff(project.graph.corpus.project, site_title,
                                                     site.options.base_url, released)))
    return out


def _address_of(site: Site, theory_id: str, number: int, what: str) -> str | None:
    """Addresses for theory.json: "self", "cmoc:<id>" or "evidence:<id>"."""
    kind, _, rid = what.partition(":")
    if kind == "self":
        return site.address(version_path(theory_id, number))
    if kind == "cmoc":
        return site.address(cmoc_path(rid))
    ev = site.evidence.get(rid)
    return site.address(source_path(ev.refs[0].source)) + f"#{ev.id}" if ev else None


@dataclass
class Generated:
    """Everything generated for a site."""

    pages: list[Page]
    downloads: list[Download]
    bibliography: list[tuple[str, str]]  # (key, formatted HTML) of every cited reference


def site_files(project: Project, options: Options, citer: Citer,
               extra_citations: dict[str, tuple[str, list[str]]], site_name: str = "",
               previous: Generated | None = None,
               changed: Container[str] | None = None) -> Generated:
    """Everything generated for a site: pages (with the bibliography of every cited
    reference) and downloads. Used by the MkDocs plugin and by export-markdown alike.

    With `previous` (the last build's) and `changed` (the pages an edit changed, see
    rebuilds.py), only the changed pages are rendered again; the rest, the bibliography and
    the downloads are the previous ones."""
    site = Site(project, options, extra_citations)
    if previous is not None and changed is not None:
        bibliography = previous.bibliography
    else:
        keys = list(site.citing_pages)  # format only what is cited: formatting is costly
        citer.prepare(keys)
        bibliography = list(citer.format([((Cite(k),), False) for k in keys]).references
                            if keys else ())
    # One Site for all: which records are published, and who cites what, is worked out once.
    pages = generate(project, options, extra_citations, bibliography, citer, site)
    if previous is None or changed is None:
        return Generated(pages, downloads(project, options, site_name, site), bibliography)
    before = {page.path: page for page in previous.pages}
    for page in pages:
        if page.path not in changed and page.path in before:
            page.body = before[page.path].content
    return Generated(pages, previous.downloads, bibliography)
