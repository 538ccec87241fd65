"""The published view of a project (which records show, and how each is named): the values
the page templates ask for."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from markupsafe import Markup

from .. import consultations
from .. import models as m
from ..citations.formatting import Citer
from ..citing import csl_item
from ..graph import Occurrence
from ..history import diff_versions
from ..project import Project
from ..releases import doi_added_later
from ..wayfinding import cmoc_name as _cmoc_name
from ..wayfinding import (
    named_ids,
    positional_names,
)
from ..wayfinding import short_name as _short_name
from .markup import md, text
from .page import Options
from .paths import (
    CONTEXTS,
    cmoc_path,
    page_url,
    relative,
    source_path,
    substantive_path,
    theory_path,
    version_dir,
    version_path,
)
from .words import ASPECT_NAMES, ROLE_SYMBOL

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
    references: Mapping[str, str] = field(default_factory=dict, init=False, repr=False)

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

    def evidence_on_theory(self, theory_id: str) -> list[tuple[m.Evidence, list[m.BearsOn]]]:
        """Published evidence on a theory as a whole, each record with what it says of it."""
        return self._on_theories.get(theory_id, [])

    @cached_property
    def _on_theories(self) -> dict[str, list[tuple[m.Evidence, list[m.BearsOn]]]]:
        out: dict[str, list[tuple[m.Evidence, list[m.BearsOn]]]] = {}
        for ev in self.evidence.values():  # (one pass for all theories: there may be 100s)
            on: dict[str, list[m.BearsOn]] = {}
            for target in ev.bears_on:
                if target.theory:
                    on.setdefault(target.theory, []).append(target)
            for theory_id, targets in on.items():
                out.setdefault(theory_id, []).append((ev, targets))
        return out

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
        from ..citations.syntax import cited_keys
        from ..graph import iter_markdown

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
        from .middle_range import has_pages, uses  # (it reads this view: imported here)

        own_pages = has_pages(self)
        for st in self.substantive_theories:
            keys = list(st.references) + [k for _, t in iter_markdown(st) for k in cited_keys(t)]
            add(keys, CONTEXTS, "Substantive theory")
            if own_pages:  # its page, with the notes of the mechanisms that use it
                keys += [k for u in uses(self, st.id) for k in cited_keys(u.link.note or "")]
                add(keys, substantive_path(st.id), st.title)
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
                        self.project.lock.hash_of(theory.id, version.number),
                        date=self.project.lock.date_of(theory.id, version.number),
                        site_name=self.options.site_name)
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
        return {"html": Markup(html_text), "no_address": "URL" not in item,
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
        return sorted(sources, key=lambda s: natural(self.source_name(s)))

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



def natural(text: str) -> list[Any]:
    """A sort key that puts P2/9 before P2/22."""
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", text)]
