"""The RAMESES reporting map of a theory: for each item of the RAMESES reporting standards
that concerns the programme theory, where this site shows it, with links, or that it does not.

A realist paper reports against RAMESES II (realist evaluations; Wong et al., 2016) or the
RAMESES publication standards (realist syntheses; Wong et al., 2013). The items on the
programme theory (where the initial theory came from, the evidence, how it was refined, what
changed and why, the final theory) are what a theory site holds; the page lets an author cite
it as a supplementary file. Item numbers and short names are those of the standards; what
each asks is said in our own words, never quoted. An item the site has nothing for says so
("Not recorded in this site") and says what the author would add: never a placeholder.

Everything is read through `Site`, which chooses what a build publishes: a public build's map
never counts a draft version, an internal record or evidence that bears only on a draft.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from markupsafe import Markup

from .. import models as m
from ..citations.formatting import Citer
from ..citing import csl_item
from ..history import diff_versions
from .markup import text
from .paths import (
    CONSULTATIONS,
    CONTEXTS,
    EVIDENCE_MAP,
    REFERENCES,
    SOURCES,
    cmoc_path,
    compare_path,
    history_path,
    rameses_path,
    relative,
    round_path,
    source_path,
    version_path,
)
from .site import Site
from .words import MODES, RELATIONS, SOURCE_KINDS, evidence_kind

NOT_RECORDED = "Not recorded in this site"


@dataclass(frozen=True)
class Standard:
    """One of the RAMESES reporting standards: the items this site can speak to (number,
    short name as published, what it asks in our words, which facts answer it) and the items
    about the paper itself."""

    name: str
    short: str  # for the page title: "RAMESES II"
    reference: str  # plain text, with the DOI
    doi: str
    items: tuple[tuple[int, str, str, str], ...]
    paper_items: tuple[tuple[int, str], ...]


EVALUATIONS = Standard(
    name="RAMESES II reporting standards for realist evaluations",
    short="RAMESES II",
    reference="Wong, G. et al. (2016) RAMESES II reporting standards for realist evaluations. "
              "BMC Medicine, 14, 96.",
    doi="10.1186/s12916-016-0643-1",
    items=(
        (4, "Programme theory", "The initial programme theory and what it was built from.",
         "initial"),
        (8, "Environment surrounding the evaluation", "The setting the programme and the "
         "evaluation sat in.", "environment"),
        (10, "Describe and justify the evaluation design", "The design: what was planned and "
         "done, in what order, and why.", "design"),
        (11, "Data collection methods", "How the data were gathered, and from whom or what.",
         "collection"),
        (12, "Recruitment process and sampling strategy", "How participants were recruited "
         "and sampled.", "recruitment"),
        (13, "Data analysis", "How the data were analysed, and how the analysis tested and "
         "refined the programme theory.", "analysis"),
        (14, "Details of participants", "Who took part.", "participants"),
        (15, "Main findings", "The findings as configurations of context, mechanism and "
         "outcome, and how they changed the programme theory.", "findings"),
    ),
    paper_items=((1, "Title"), (2, "Summary or abstract"), (3, "Rationale for evaluation"),
                 (5, "Evaluation questions, objectives and focus"), (6, "Ethical approval"),
                 (7, "Rationale for using realist evaluation"),
                 (9, "Describe the programme evaluated"), (16, "Summary of findings"),
                 (17, "Strengths, limitations and future research directions"),
                 (18, "Comparison with existing literature"),
                 (19, "Conclusion and recommendations"), (20, "Funding and conflict of interest")),
)

SYNTHESES = Standard(
    name="RAMESES publication standards: realist syntheses",
    short="RAMESES",
    reference="Wong, G., Greenhalgh, T., Westhorp, G., Buckingham, J. and Pawson, R. (2013) "
              "RAMESES publication standards: realist syntheses. BMC Medicine, 11, 21.",
    doi="10.1186/1741-7015-11-21",
    items=(
        (7, "Scoping the literature", "The first, exploratory scoping of the literature, "
         "from which the initial programme theory is built.", "initial"),
        (8, "Searching processes", "How the literature was searched, iteratively, and where.",
         "searching"),
        (9, "Selection and appraisal of documents", "How documents were judged for inclusion "
         "and for the data they gave (relevance and rigour).", "appraisal"),
        (10, "Data extraction", "What data were taken from the included documents.",
         "extraction"),
        (11, "Analysis and synthesis processes", "How the data were analysed and synthesised "
         "to test and refine the programme theory.", "synthesis"),
        (12, "Document flow diagram", "How many documents were assessed and included, with "
         "reasons for exclusion at each stage.", "flow"),
        (13, "Document characteristics", "What the included documents are.", "documents"),
        (14, "Main findings", "The key findings, with a focus on building and testing the "
         "programme theory.", "findings"),
    ),
    paper_items=((1, "Title"), (2, "Abstract"), (3, "Rationale for review"),
                 (4, "Objectives and focus of review"), (5, "Changes in the review process"),
                 (6, "Rationale for using realist synthesis"), (15, "Summary of findings"),
                 (16, "Strengths, limitations and future research directions"),
                 (17, "Comparison with existing literature"),
                 (18, "Conclusion and recommendations"), (19, "Funding")),
)


def standards_for(design: str | None) -> list[Standard]:
    """The standards a project's `design` reports against: a review or synthesis the
    publication standards, an evaluation RAMESES II, a study that was both (a review, then
    an evaluation) both; any other design RAMESES II, the nearest for primary realist work."""
    words = set(re.findall(r"[a-z]+", (design or "").lower()))
    review = bool(words & {"review", "reviews", "synthesis", "syntheses"})
    evaluation = bool(words & {"evaluation", "evaluations"})
    if review and not evaluation:
        return [SYNTHESES]
    return [EVALUATIONS, SYNTHESES] if review else [EVALUATIONS]


@dataclass
class Item:
    number: int
    name: str
    asks: str
    shown: list[Markup] = field(default_factory=list)  # what the site records, with links
    missing: list[str] = field(default_factory=list)  # what it does not, and what to add

    @property
    def status(self) -> str:
        if not self.shown:
            return NOT_RECORDED
        return "Partly" if self.missing else "Shown"

    @property
    def anchor(self) -> str:
        return f"item-{self.number}"


def _n(count: int, one: str, many: str | None = None) -> str:
    return f"{count} {one if count == 1 else many or one + 's'}"


def _and(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


class _Facts:
    """What the site records about one theory, as Markdown lines with links from the page."""

    def __init__(self, site: Site, theory: m.Theory, page: str):
        self.site, self.theory, self.page = site, theory, page
        self.versions = site.versions(theory)
        # Evidence on the theory as this site shows it (each released version as released).
        self.records: dict[str, tuple[m.Evidence, list[m.BearsOn]]] = {}
        for version in self.versions:
            for cmoc in version.cmocs:
                for ev, target in site.evidence_on(cmoc.id, version.number):
                    self.records.setdefault(ev.id, (ev, []))[1].append(target)
        for ev, on in site.evidence_on_theory(theory.id):  # and on the theory as a whole
            self.records.setdefault(ev.id, (ev, []))[1].extend(on)
        ids = dict.fromkeys(r.source for ev, _ in self.records.values() for r in ev.refs)
        self.sources = [site.sources[s] for s in ids if s in site.sources]
        self.rounds = site.rounds(theory)

    def link(self, label: str, target: str) -> str:
        return f"[{text(label)}]({relative(self.page, target)})"

    def version(self, v: m.Version) -> str:
        parts = [v.stage] + ([str(v.date)] if v.date else [])
        parts += [] if v.status == m.Status.released.value else ["draft"]
        return self.link(f"Version {v.number}", version_path(self.theory.id, v.number)) + \
            f" ({text(', '.join(parts))})"

    def of_kind(self, kind: str) -> list[m.Source]:
        return self.site.naturally([s for s in self.sources if s.kind == kind])

    def sources_link(self, kind: str, count: int) -> str:
        """'Participants: 6', linked to that section of the Sources page."""
        anchor = SOURCE_KINDS[kind].lower().replace(" ", "-")
        return self.link(f"{SOURCE_KINDS[kind]}: {count}", f"{SOURCES}#{anchor}")

    def history(self) -> str:
        return self.link("history page", history_path(self.theory.id))


def _initial(f: _Facts, item: Item) -> None:
    first = f.versions[0]
    item.shown.append(Markup(
        f"The initial theory as published: {f.version(first)}, with "
        f"{_n(len(first.cmocs), 'CMOC')}" + (" and its theory statement." if first.statement
                                             else ".")))
    came_from = []
    if first.evidence_base:
        came_from.append(f"its evidence base, as the version states it: "
                         f"{text(first.evidence_base)}")
    theories = [st for st in f.site.substantive_theories
                if st.id in f.theory.substantive_theories]
    if theories:
        came_from.append("the substantive theory it draws on: " + ", ".join(
            f.link(st.title, f"{CONTEXTS}#{st.id}") for st in theories))
    if first.published_in:
        came_from.append("the publication that reports it: " + f.link(
            "Published in", version_path(f.theory.id, first.number) + "#published-in"))
    if came_from:
        item.shown.append(Markup("Where it came from: " + "; ".join(came_from) + "."))
    else:
        item.missing.append("Where the initial theory came from. The author would say what "
                            "it was built from (documents, key-informant interviews, a "
                            "scoping of the literature, substantive theory) as the first "
                            "version's evidence base.")


def _refinement(f: _Facts, item: Item) -> None:
    """How the theory was refined, version by version, and what changed and why."""
    if len(f.versions) < 2:
        item.missing.append("Refinement: only one version is published here, so no "
                            "change is shown yet. The site shows how the theory was refined "
                            "once a later version is released.")
        return
    steps = " → ".join(f.version(v) for v in f.versions)
    item.shown.append(Markup(f"The versions, in order: {steps}."))
    relations: Counter = Counter()
    moved = reasons = cited = 0  # CMOC changes (lineage), with a reason, citing evidence
    notes = noted = 0  # the versions' notes of what changed, with a reason
    for a, b in zip(f.versions, f.versions[1:], strict=False):
        for c in diff_versions(f.site.g, f.theory, a, b).cmocs:
            relations[c.relation] += 1
            if c.relation not in ("kept", "not-known", "fate-not-known", "removed"):
                moved += 1
                reasons += bool(c.reason)
                cited += bool(c.evidence)
        notes += len(b.changes)
        noted += sum(bool(ch.reason) for ch in b.changes)
    told = [f"{relations[k]} {RELATIONS[k].lower()}" for k in RELATIONS if relations[k]]
    pairs = ", ".join(f.link(f"version {a.number} with {b.number}",
                             compare_path(f.theory.id, a.number, b.number))
                      for a, b in zip(f.versions, f.versions[1:], strict=False))
    item.shown.append(Markup(
        f"What happened to each CMOC from one version to the next ({text(_and(told))}), "
        f"drawn as a lineage diagram with word-by-word changes on the {f.history()}; "
        f"side by side: {pairs}."))
    if moved or notes:
        told = [f"{_n(moved, 'CMOC change')} (new, refined, merged, split, dropped or "
                f"incorporated), {reasons} with a reason and {cited} citing evidence"] \
            if moved else []
        told += [f"{_n(notes, 'further change')} described, {noted} with a reason"] \
            if notes else []
        item.shown.append(Markup(f"Changes and why, on the {f.history()}: "
                                 + text("; ".join(told)) + "."))
    if moved > reasons:
        item.missing.append(f"The reason for {moved - reasons} of the {_n(moved, 'CMOC change')}."
                            " The author would say why each CMOC was added, refined, merged or "
                            "dropped, and on what evidence, in the later version's file.")
    unknown = relations["not-known"] + relations["fate-not-known"]
    if unknown:
        item.missing.append(f"Where {_n(unknown, 'CMOC')} came from or went: the published "
                            "record does not say, and the site says so rather than guess.")


def _evidence(f: _Facts, item: Item) -> None:
    """The evidence behind the theory: records by kind and role, and where the map is."""
    if not f.records:
        item.missing.append("Evidence: no evidence record bears on this theory. The author "
                            "would add the extracts, studies or feedback each CMOC rests on.")
        return
    kinds = Counter(f.site.g.evidence_kind(ev) for ev, _ in f.records.values())
    roles = Counter(t.role for _, ts in f.records.values() for t in ts)
    links = Counter(t.aspect for _, ts in f.records.values() for t in ts
                    if t.aspect in ("C-M", "M-O", "C-O"))
    kinds_told = ", ".join(f"{n} {evidence_kind(k, n)}" for k, n in kinds.most_common())
    roles_told = _and([f"{n} {r}" for r, n in roles.most_common()])
    current = f.versions[-1]
    item.shown.append(Markup(
        f"{_n(len(f.records), 'evidence record')} bear{'s' if len(f.records) == 1 else ''} "
        f"on this theory ({text(kinds_told)}): "
        f"{text(roles_told)}; by source and CMOC in the "
        + f.link("evidence map", EVIDENCE_MAP) + " and in the evidence section of "
        + f.link(f"version {current.number}", version_path(f.theory.id, current.number)
                 + "#evidence")
        + (f"; {_n(sum(links.values()), 'record')} "
           f"bear{'s' if sum(links.values()) == 1 else ''} on one link of a CMOC "
           f"(context–mechanism, mechanism–outcome or context–outcome)" if links else "")
        + "."))


def _consultation(f: _Facts, item: Item) -> None:
    shown = {v.number for v in f.versions}  # a round that reviewed a draft only is not told
    rounds = list({r.id: r for n, rs in sorted(f.rounds.items()) if n in shown
                   for r in rs}.values())
    if rounds:
        item.shown.append(Markup(
            "Stakeholders reviewed versions in consultation rounds: " + ", ".join(
                f.link(f.site.source_name(r), round_path(r.id)) for r in rounds)
            + " (" + f.link("all rounds", CONSULTATIONS) + ")."))
    panels = f.of_kind("panel")
    if panels:
        item.shown.append(Markup("A standing stakeholder panel commented: " + ", ".join(
            f.link(f.site.source_name(p), source_path(p.id)) for p in panels) + "."))


def _final(f: _Facts, item: Item) -> None:
    last = f.versions[-1]
    names = ", ".join(f.link(f.site.name(c), cmoc_path(c.id)) for c in last.cmocs)
    item.shown.append(Markup(
        f"The theory as it now stands: {f.version(last)}"
        + (", with its theory statement" if last.statement else "")
        + (f"; its CMOCs: {names}" if names else "") + ". Each CMOC's page gives its "
        "context, mechanism and outcome and the evidence for it."))
    bare = [c for c in last.cmocs if not f.site.evidence_on(c.id, last.number)]
    if bare:
        it = "it" if len(bare) == 1 else "them"
        item.missing.append(f"Evidence for {_n(len(bare), 'CMOC')} of the latest version: "
                            f"none is recorded; the author would add what bears on {it}, or "
                            f"say in the paper that {it} await{'s' if it == 'it' else ''} "
                            "testing.")


def _item_initial(f: _Facts, item: Item) -> None:
    _initial(f, item)


def _item_environment(f: _Facts, item: Item) -> None:
    contexts = f.site.contexts
    if contexts:
        item.shown.append(Markup("Overarching contexts that bear on every theory: " + ", ".join(
            f.link(c.title, f"{CONTEXTS}#{c.id}") for c in contexts) + "."))
    last = f.versions[-1]
    n = sum(len(c.contexts) for c in last.cmocs)
    if n:
        item.shown.append(Markup(
            f"The contexts of each CMOC: {_n(n, 'context')} in "
            + f.link(f"version {last.number}", version_path(f.theory.id, last.number)) + "."))
    if not contexts:
        item.missing.append("The wider setting of the evaluation. The author would describe "
                            "it in the paper, or record it here as overarching contexts.")


def _item_design(f: _Facts, item: Item) -> None:
    design = f.site.g.corpus.project.design
    if design:
        item.shown.append(Markup(f"The study design, as the project states it: "
                                 f"{text(design)}."))
    stages = " → ".join(text(v.stage) for v in f.versions)
    item.shown.append(Markup(f"The stages the theory went through: {stages} (dates and "
                             f"evidence bases on the {f.history()})."))
    item.missing.append("Why this design was chosen, and any change to what was planned. The "
                        "author would give them in the paper.")


def _item_collection(f: _Facts, item: Item) -> None:
    kinds = Counter(s.kind for s in f.sources)
    told = []
    for kind in SOURCE_KINDS:
        if kinds[kind]:
            modes = Counter(MODES.get(s.mode, s.mode) for s in f.of_kind(kind) if s.mode)
            how = f" ({text(_and([f'{md} {n}' for md, n in modes.most_common()]))})" \
                if modes else ""
            told.append(f.sources_link(kind, kinds[kind]) + how)
    if told:
        item.shown.append(Markup("Where the evidence comes from, on the Sources page: "
                                 + ", ".join(told) + "."))
    _consultation(f, item)
    if not item.shown:
        item.missing.append("The sources of the data. The author would list the "
                            "participants, meetings, documents or studies the evidence "
                            "comes from.")


def _item_recruitment(f: _Facts, item: Item) -> None:
    participants = f.of_kind("participant")
    if participants:
        sites = sorted({s.site for s in participants if s.site})
        item.shown.append(Markup(
            "Who was included, on the Sources page: "
            + f.sources_link("participant", len(participants))
            + (f" (from {text(_and(sites))})" if sites else "") + "."))
    item.missing.append("How participants were recruited, and the sampling strategy. The "
                        "author would give them in the paper: the site records who took "
                        "part, not how they were chosen.")


def _item_analysis(f: _Facts, item: Item) -> None:
    _evidence(f, item)
    _refinement(f, item)


def _item_participants(f: _Facts, item: Item) -> None:
    participants = f.of_kind("participant")
    if not participants:
        item.missing.append("Participants: none is recorded for this theory. The author "
                            "would list them by anonymised code and role.")
        return
    roles = Counter(s.role or "role not stated" for s in participants)
    told = _and([f"{r} {n}" for r, n in roles.most_common()])
    item.shown.append(Markup(
        "By anonymised code" + (f" and role ({text(told)})" if any(s.role for s in participants)
                                else "") + ", on the Sources page: "
        + f.sources_link("participant", len(participants)) + "."))
    if not all(s.role for s in participants):
        unknown = roles["role not stated"]
        of = f"all {len(participants)}" if unknown == len(participants) else \
            f"{unknown} of the {len(participants)}"
        item.missing.append(f"The role of {of} participant{'s' if len(participants) > 1 else ''}."
                            " The author would add each participant's role (never a name).")


def _item_findings(f: _Facts, item: Item) -> None:
    _final(f, item)
    if len(f.versions) > 1:
        item.shown.append(Markup(
            f"How the findings changed the theory, and why: the {f.history()}."))


def _item_searching(f: _Facts, item: Item) -> None:
    item.missing.append("How the literature was searched: databases, search terms, dates "
                        "and further iterative searches. The author would give the search "
                        "strategy in the paper or a supplementary file.")


def _item_appraisal(f: _Facts, item: Item) -> None:
    studies = f.of_kind("study")
    appraised = [s for s in studies if s.appraisal]
    if appraised:
        item.shown.append(Markup(
            f"{len(appraised)} of {_n(len(studies), 'included study', 'included studies')} "
            "carry an appraisal (relevance, rigour, richness) on their pages: "
            + ", ".join(f.link(f.site.source_name(s), source_path(s.id)) for s in appraised)
            + "."))
    if len(appraised) < len(studies):
        item.missing.append(f"An appraisal of {len(studies) - len(appraised)} included "
                            f"{'study' if len(studies) - len(appraised) == 1 else 'studies'}."
                            " The author would record each study's relevance and rigour.")
    item.missing.append("How documents were selected for inclusion (the criteria, and who "
                        "screened). The author would give them in the paper.")


def _item_extraction(f: _Facts, item: Item) -> None:
    _evidence(f, item)


def _item_synthesis(f: _Facts, item: Item) -> None:
    _refinement(f, item)
    _consultation(f, item)
    examples = [e for e in f.site.examples.values() if e.theory.id == f.theory.id]
    if examples:
        item.shown.append(Markup(
            f"{_n(len(examples), 'example configuration')} drawn from single studies, "
            "shown with the CMOCs they illustrate: " + ", ".join(
                f.link(f.site.name(e.cmoc), cmoc_path(e.cmoc.id)) for e in examples) + "."))


def _item_flow(f: _Facts, item: Item) -> None:
    studies = f.of_kind("study")
    if studies:
        item.shown.append(Markup("The documents included, on the Sources page: "
                                 + f.sources_link("study", len(studies)) + "."))
    item.missing.append("How many documents were found, screened and excluded, with reasons, "
                        "at each stage. The author would give a document flow diagram in the "
                        "paper.")


def _item_documents(f: _Facts, item: Item) -> None:
    studies = f.of_kind("study")
    if not studies:
        item.missing.append("The included documents. The author would list each study, with "
                            "its reference.")
        return
    item.shown.append(Markup(
        f"{_n(len(studies), 'included study', 'included studies')}, each with its reference "
        "and the evidence drawn from it: " + ", ".join(
            f.link(f.site.source_name(s), source_path(s.id)) for s in studies)
        + " (full references on the " + f.link("references page", REFERENCES) + ")."))


FACTS: dict[str, Callable[[_Facts, Item], None]] = {
    "initial": _item_initial, "environment": _item_environment, "design": _item_design,
    "collection": _item_collection, "recruitment": _item_recruitment,
    "analysis": _item_analysis, "participants": _item_participants,
    "findings": _item_findings, "searching": _item_searching, "appraisal": _item_appraisal,
    "extraction": _item_extraction, "synthesis": _item_synthesis, "flow": _item_flow,
    "documents": _item_documents,
}


def rameses_map(site: Site, theory: m.Theory, citer: Citer | None = None) -> dict[str, Any]:
    """The page's values: the standards with their items, the versions covered, the page's
    title and address, and its citation (when a version is released)."""
    page = rameses_path(theory.id)
    facts = _Facts(site, theory, page)
    standards = standards_for(site.g.corpus.project.design)
    mapped = []
    for standard in standards:
        items = []
        for number, name, asks, key in standard.items:
            item = Item(number, name, asks)
            FACTS[key](facts, item)
            items.append(item)
        mapped.append((standard, items))
    versions = facts.versions
    covers = (f"version {versions[0].number}" if len(versions) == 1 else
              f"versions {versions[0].number} and {versions[1].number}" if len(versions) == 2
              else f"versions {versions[0].number} to {versions[-1].number}")
    title = f"{theory.title}: {' and '.join(s.short for s in standards)} reporting map"
    return {"standards": mapped, "versions": versions, "covers": covers, "title": title,
            "drafts": [v for v in versions if v.status != m.Status.released.value],
            "url": site.url(page), "cite": _cite(site, theory, title, covers, citer),
            "design": site.g.corpus.project.design, "NOT_RECORDED": NOT_RECORDED}


def _cite(site: Site, theory: m.Theory, title: str, covers: str,
          citer: Citer | None) -> Markup | None:
    """The page cited as a supplementary file: credited to the project's authors as they are
    now (the map is made now; a released version keeps those it was released with), dated as
    the latest released version it covers, with its own title and address."""
    latest = site.latest_released(theory)
    if latest is None or latest not in site.versions(theory):
        return None
    url = site.url(rameses_path(theory.id))
    item = csl_item(site.g.corpus.project, theory, latest, url, None,
                    date=site.project.lock.date_of(theory.id, latest.number),
                    site_name=site.options.site_name)
    item.pop("version", None)
    item.pop("DOI", None)  # the version's, not the map's
    item.update(id=f"{theory.id}-rameses", title=f"{title}, {covers}",
                genre="Supplementary file")
    return Markup(citer.format_item(item)) if citer else text(item["title"])
