"""Every generated page and download of a site, and the reuse of unchanged pages on a rebuild."""

from __future__ import annotations

import functools
from collections.abc import Callable, Container, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from .. import consultations
from .. import models as m
from ..citations.formatting import Citer
from ..citing import bibtex, citation_cff, dumps, ris, theory_json
from ..diagrams import cmoc_diagram, lineage_diagram, theory_diagram
from ..graph import Occurrence
from ..history import diff_versions
from ..project import Project
from ..wayfinding import (
    Crumb,
)
from .evidence_map import evidence_map
from .metadata import version_head
from .page import Download, Options, Page
from .paths import (
    CONSULTATIONS,
    CONTEXTS,
    EVIDENCE_MAP,
    REFERENCES,
    SOURCES,
    THEORIES,
    cmoc_path,
    compare_path,
    history_path,
    pack_path,
    rameses_path,
    refinement_path,
    round_path,
    source_path,
    template_path,
    theory_path,
    version_dir,
    version_path,
)
from .rameses import rameses_map
from .refinement import records_reasoning, refinement
from .render import Deferred, Renderer
from .site import Site


def _where(record: Any) -> str | None:
    where = getattr(record, "_where", None)
    return where[0] if where else None


def generate(project: Project, options: Options | None = None,
             extra_citations: dict[str, tuple[str, list[str]]] | None = None,
             bibliography: Mapping[str, str] | None = None,
             citer: Citer | None = None, site: Site | None = None) -> list[Page]:
    """Every generated page. `bibliography` is the formatted reference list (key -> HTML, in
    style order); `citer` formats the citation of each version (plain text without it); `site`
    reuses what a caller already worked out about the published view."""
    site = site or Site(project, options or Options(), extra_citations or {})
    bibliography = {} if bibliography is None else bibliography  # (not formatted here)
    site.references = bibliography
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
            diagram_of=Deferred(theory_diagram, current, link_of, contexts, site.name)),
            _where(theory),
            crumbs=theories + [Crumb(theory.title, None)], section=THEORIES,
            head=functools.partial(version_head, site, theory, current)))
        for version in site.versions(theory):
            path = version_path(theory.id, version.number)
            superseded = latest is not None and latest.number > version.number
            frozen, _ = site.as_released(theory, version)  # as it was released
            pages.append(Page(
                path, f"{frozen.title}, version {version.number}", r.later(
                    "version.md.j2", path, theory=frozen, version=version, is_index=False,
                    em=Deferred(evidence_map, site, [(theory, version)]),
                    latest=latest, cite=site.cite(theory, version, path, citer),
                    diagram_of=Deferred(theory_diagram, version, link_of, contexts, site.name)),
                _where(version),
                canonical=version_path(theory.id, latest.number) if superseded else None,
                # (as released: the trail to a frozen page names the theory as it did)
                crumbs=theories + [Crumb(frozen.title, theory_path(theory.id)),
                                   Crumb(f"Version {version.number}", None)],
                section=THEORIES, head=functools.partial(version_head, site, theory, version)))
        versions = site.versions(theory)
        path = history_path(theory.id)
        pairs = [(a.number, b.number) for i, a in enumerate(versions) for b in versions[i + 1:]]
        pages.append(Page(path, f"{theory.title}: history", r.later(
            "history.md.j2", path, theory=theory, versions=versions,
            rounds=site.rounds(theory),
            lineage=Deferred(lineage_diagram, versions, site.g.lineage, link_of, site.name),
            diffs=Deferred(_diffs, site, theory, versions),
            pairs=pairs), crumbs=at_theory + [Crumb("History", None)], section=THEORIES))
        path = rameses_path(theory.id)
        pages.append(Page(path, f"{theory.title}: RAMESES reporting map", r.later(
            "rameses.md.j2", path, theory=theory,
            r=Deferred(rameses_map, site, theory, citer)),
            crumbs=at_theory + [Crumb("RAMESES reporting map", None)], section=THEORIES))
        if records_reasoning(site, theory):
            path = refinement_path(theory.id)
            pages.append(Page(path, f"{theory.title}: the reasoning behind each refinement",
                              r.later("refinement.md.j2", path, theory=theory,
                                      view=Deferred(refinement, site, theory)),
                              _where(theory), crumbs=at_theory + [
                                  Crumb("The reasoning behind each refinement", None)],
                              section=THEORIES))
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
            theory_diagram=theory_diagram, contexts=contexts, hash_of=project.lock.hash_of),
            _where(round_),
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
    at_contexts = home + [Crumb("Overarching contexts", CONTEXTS)]
    for st in site.substantive_theories:
        path = r.substantive_page(st.id)
        if path:  # once some mechanism links to a substantive theory (pages/middle_range.py)
            pages.append(Page(path, st.title, r.later("substantive.md.j2", path, st=st),
                              _where(st), crumbs=at_contexts + [Crumb(st.title, None)],
                              section=CONTEXTS))
    pages.append(Page(EVIDENCE_MAP, "Evidence map", r.later(
        "evidence_map.md.j2", EVIDENCE_MAP, em=Deferred(evidence_map, site)), in_nav=True,
        crumbs=home + [Crumb("Evidence map", None)], section=EVIDENCE_MAP))
    pages.append(Page(REFERENCES, "References", r.later(
        "references.md.j2", REFERENCES, bibliography=bibliography), in_nav=True,
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
            # (CITATION.cff's date-released: the date each version is cited with)
            cited = project.lock.date_of(theory.id, version.number)
            released.append((theory, version.model_copy(update={"date": version.date or cited})))
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
    bibliography: Mapping[str, str]  # every cited reference: key -> formatted HTML


class References(Mapping[str, str]):
    """The site's reference list (key -> HTML, in the style's order), formatted when a page
    first shows it: in a big build, on the core that renders the pages (ahead.py), not while
    this one makes the list of pages."""

    def __init__(self, make: Callable[[], list[tuple[str, str]]]) -> None:
        self._make = make

    @functools.cached_property
    def _entries(self) -> dict[str, str]:
        return dict(self._make())

    def __getitem__(self, key: str) -> str:
        return self._entries[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)


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
        bibliography = References(functools.partial(citer.bibliography_list, keys)) \
            if keys else {}
    # One Site for all: which records are published, and who cites what, is worked out once.
    pages = generate(project, options, extra_citations, bibliography, citer, site)
    if previous is None or changed is None:
        return Generated(pages, downloads(project, options, site_name, site), bibliography)
    before = {page.path: page for page in previous.pages}
    for page in pages:
        if page.path not in changed and page.path in before:
            page.body = before[page.path].content
    return Generated(pages, previous.downloads, bibliography)
