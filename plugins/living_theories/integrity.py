"""The theory graph's integrity: `check` reports every reference that does not resolve, every
public record that leans on an internal one, citations of references that are not in the
BibTeX file, unsafe links, and versions out of order, each at its file and line.
"""

from __future__ import annotations

import difflib
from typing import Any

from . import links
from . import models as m
from .citations.syntax import cited_keys
from .graph import TheoryGraph, markdown_texts, reasoned
from .problems import Problems, YamlPath

PUBLIC = m.Visibility.public.value
EVIDENCE = "this evidence record"


def check(graph: TheoryGraph, problems: Problems) -> None:
    _Checker(graph, problems).run()


class _Checker:
    def __init__(self, graph: TheoryGraph, problems: Problems):
        self.g = graph
        self.problems = problems
        self.bib_unreadable = graph.bibliography.unreadable

    def at(self, where: tuple[str, YamlPath] | None, sub: YamlPath, message: str,
           hint: str, warning: bool = False) -> None:
        file, base = where if where else ("?", ())
        self.problems.add(file, message, hint, path=base + sub, warning=warning)

    def ref(self, where: Any, sub: YamlPath, kind: str, value: str, known: dict | set,
            hint: str) -> bool:
        if value in known:
            return True
        if known is self.g.bibliography.entries and self.bib_unreadable:
            return False  # the bibliography's own problem was reported; keys can't be checked
        if value in self.g.corpus.invalid_ids:
            return False  # the record itself failed validation and was reported
        self.at(where, sub, f"{kind} '{value}' does not exist", hint)
        return False

    def public_needs(self, where: Any, sub: YamlPath, owner_public: bool, record: Any,
                     what: str, owner: str) -> None:
        """A public record may not lean on an internal one. `owner` names the record that
        refers (e.g. "this evidence record"); "" for a version or CMOC, which has no
        visibility of its own (its theory's applies)."""
        if not owner_public or record is None or getattr(record, "visibility", PUBLIC) == PUBLIC:
            return
        name = f"{what} '{record.id}'"
        defined = getattr(record, "_where", None)
        if defined:
            name += f" (in {self.problems.display(defined[0])})"
        make_public = f"make the {what} public by removing its 'visibility: internal'"
        if owner:
            message = f"{owner} is public but refers to the internal {name}"
            hint = f"{make_public}, or set 'visibility: internal' on {owner}"
        else:
            message = f"this version of a public theory refers to the internal {name}"
            hint = f"remove this reference, or {make_public}"
        self.at(where, sub, message, hint)

    # Each check below covers one kind of record.

    def run(self) -> None:
        self.project()
        for theory in self.g.theories.values():
            self.theory(theory)
        self.sources()
        self.evidence()
        self.texts()

    def project(self) -> None:
        bib = self.g.bibliography.entries
        for st in self.g.corpus.project.substantive_theories:
            for i, key in enumerate(st.references):
                self.ref(st._where, ("references", i), "the reference", key, bib,
                         "add it to references.bib or correct the key")
        for kind, records in (("overarching context", self.g.corpus.project.overarching_contexts),
                              ("substantive theory", self.g.corpus.project.substantive_theories)):
            seen: set[str] = set()
            for record in records:
                if record.id in seen:
                    self.at(record._where, ("id",), f"the {kind} id '{record.id}' is used "
                            "twice", "give each its own id")
                seen.add(record.id)

    def theory(self, theory: m.Theory) -> None:
        where = theory._where
        public = theory.visibility == PUBLIC
        framework = self.g.corpus.project.framework
        domains = {d.id for d in framework.domains} if framework else set()
        if theory.domain:
            self.ref(where, ("domain",), "the framework domain", theory.domain, domains,
                     "add it to 'framework: domains:' in theories/project.yaml"
                     + (f" (known: {', '.join(sorted(domains))})" if domains else ""))
        for i, sid in enumerate(theory.substantive_theories):
            if self.ref(where, ("substantive_theories", i), "the substantive theory", sid,
                        self.g.substantive, "define it in theories/project.yaml"):
                self.public_needs(where, ("substantive_theories", i), public,
                                  self.g.substantive[sid], "substantive theory", "this theory")
        failed = any(t == theory.id for t, _ in self.g.corpus.invalid_versions)
        if not theory.versions and not failed:  # a version that failed was reported itself
            self.at(where, (), f"the theory '{theory.id}' has no versions",
                    f"add theories/{theory.id}/v1.yaml")
        self.version_order(theory)
        for version in theory.versions:
            self.version(theory, version, public)

    def mechanism_theories(self, where: Any, base: YamlPath, cmoc: m.CMOC,
                           public: bool) -> None:
        """A mechanism's links to substantive theories name theories of project.yaml."""
        known = self.g.substantive
        for j, link in enumerate(cmoc.substantive_theories):
            sub = base + ("substantive_theories", j, "theory")
            if link.theory in known:
                self.public_needs(where, sub, public, known[link.theory], "substantive theory",
                                  "")
                continue
            close = difflib.get_close_matches(link.theory, list(known), n=1, cutoff=0.6)
            listed = ", ".join(sorted(known))
            self.at(where, sub, f"the substantive theory '{link.theory}' does not exist",
                    (f"did you mean '{close[0]}'? " if close else "")
                    + ("use one of the ids under 'substantive_theories:' in "
                       f"theories/project.yaml: {listed}" if known else "define it under "
                       "'substantive_theories:' in theories/project.yaml"))

    def appraisal(self, where: Any, sub: YamlPath, appraisal: m.Appraisal | None) -> None:
        """A one-word judgement that is not a level is most likely a typo of one (it would be
        shown, but not counted); longer text is a judgement in words."""
        for criterion in ("relevance", "rigour", "richness"):
            value = getattr(appraisal, criterion) if appraisal else None
            if not value or len(value.split()) > 1 or m.appraisal_level(value):
                continue
            close = difflib.get_close_matches(value.lower(), m.APPRAISAL_LEVELS, n=1,
                                              cutoff=0.5)
            self.at(where, sub + (criterion,), f"the {criterion} '{value}' is not a level the "
                    "CMOC pages can count", (f"did you mean '{close[0]}'? " if close else "")
                    + "write high, moderate or low (optionally followed by ': why')",
                    warning=True)

    def version_order(self, theory: m.Theory) -> None:
        numbers = [v.number for v in theory.versions]
        for expected, version in enumerate(theory.versions, start=1):
            if version.number != expected and expected not in numbers:
                self.at(version._where, (), f"version {version.number} of '{theory.id}' "
                        f"follows a gap: there is no v{expected}.yaml",
                        "number versions 1, 2, 3, ... without gaps")
                break
        for before, after in zip(theory.versions, theory.versions[1:], strict=False):
            if before.date and after.date and after.date < before.date:
                self.at(after._where, ("date",), f"version {after.number} is dated "
                        f"{after.date}, before version {before.number} ({before.date})",
                        "versions must be in date order: correct the date")
            if (before.status == m.Status.draft.value
                    and after.status == m.Status.released.value):
                self.at(after._where, ("status",), f"version {after.number} is released but "
                        f"the earlier version {before.number} is still a draft",
                        "release versions in order")

    def version(self, theory: m.Theory, version: m.Version, public: bool) -> None:
        where = version._where
        if version.stage not in m.COMMON_STAGES:
            close = difflib.get_close_matches(version.stage, m.COMMON_STAGES, n=1, cutoff=0.75)
            if close:
                self.at(where, ("stage",), f"the stage '{version.stage}' is not a common "
                        "stage", f"did you mean '{close[0]}'? (any other word is kept as "
                        "written)", warning=True)
        bib = self.g.bibliography.entries
        prev = self.g.previous(version)
        prev_ids = {c.id for c in prev.cmocs} if prev else set()
        own_ids: set[str] = set()
        for i, key in enumerate(version.published_in):
            self.ref(where, ("published_in", i), "the reference", key, bib,
                     "add it to references.bib or correct the key")
        for example in version.examples:
            self.example(theory, version, example, public)
        for i, cmoc in enumerate(version.cmocs):
            base = cmoc._path or ("cmocs", i)
            if cmoc.id in own_ids:
                self.at(where, base + ("id",), f"the CMOC id '{cmoc.id}' is used twice in "
                        "this version", "give each CMOC its own id")
            own_ids.add(cmoc.id)
            other = {o.theory.id for o in self.g.cmocs.get(cmoc.id, [])} - {theory.id}
            if other:
                self.at(where, base + ("id",), f"the CMOC id '{cmoc.id}' is also used by the "
                        f"theory '{sorted(other)[0]}'", "CMOC ids must be unique across theories")
            for j, ctx in enumerate(cmoc.overarching_contexts):
                if self.ref(where, base + ("overarching_contexts", j), "the overarching "
                            "context", ctx, self.g.contexts, "define it in "
                            "theories/project.yaml"):
                    self.public_needs(where, base + ("overarching_contexts", j), public,
                                      self.g.contexts[ctx], "overarching context", "")
            self.evidence_refs(where, base + ("evidence",), cmoc.evidence, public)
            self.mechanism_theories(where, base, cmoc, public)
            if cmoc.theme:
                self.ref(where, base + ("theme",), "the theme", cmoc.theme,
                         {t.id for t in version.themes}, "name one of the themes listed "
                         "under 'themes:' in this version")
            for j, target in enumerate(cmoc.leads_to):
                if target == cmoc.id:
                    self.at(where, base + ("leads_to", j), f"the CMOC '{cmoc.id}' leads to "
                            "itself", "list other CMOCs of this version")
                else:
                    self.ref(where, base + ("leads_to", j), "the CMOC", target,
                             {c.id for c in version.cmocs}, "a chain links CMOCs of the "
                             "same version")
            if cmoc.confidence is not None:
                self.confidence(where, base + ("confidence",), cmoc.confidence)
            lineage = cmoc.lineage
            if lineage is None:
                continue
            if prev is None and lineage.relation not in (m.Relation.new.value,
                                                         m.Relation.not_known.value):
                self.at(where, base + ("lineage", "relation"), f"version {version.number} "
                        f"has no previous version, so CMOC '{cmoc.id}' cannot be "
                        f"'{lineage.relation}'", "remove 'lineage' from a first version")
            for j, src in enumerate(lineage.from_ if prev else []):
                self.ref(where, base + ("lineage", "from", j), "the previous version's CMOC",
                         src, prev_ids, f"'from' lists CMOC ids of version "
                         f"{version.number - 1}" + (f": {', '.join(sorted(prev_ids))}"
                                                    if prev_ids else ""))
            self.evidence_refs(where, base + ("lineage", "evidence"), lineage.evidence, public)
        theme_ids: set[str] = set()
        for i, theme in enumerate(version.themes):
            if theme.id in theme_ids:
                self.at(where, ("themes", i, "id"), f"the theme id '{theme.id}' is used twice",
                        "give each theme its own id")
            theme_ids.add(theme.id)
        for i, change in enumerate(version.changes):
            for j, cid in enumerate(change.cmocs):
                self.ref(where, ("changes", i, "cmocs", j), "the CMOC", cid,
                         own_ids | prev_ids, "list CMOCs of this version or the previous one")
            self.evidence_refs(where, ("changes", i, "evidence"), change.evidence, public)
        for i, drop in enumerate(version.dropped):
            known = self.ref(where, ("dropped", i, "cmoc"), "the previous version's CMOC",
                             drop.cmoc, prev_ids, "a dropped CMOC must be in the previous version")
            if known and drop.cmoc in own_ids:
                self.at(where, ("dropped", i, "cmoc"), f"the CMOC '{drop.cmoc}' is listed "
                        "as dropped but is still in this version",
                        "remove it from 'dropped' or from 'cmocs'")
            self.evidence_refs(where, ("dropped", i, "evidence"), drop.evidence, public)
        dropped = {d.cmoc for d in version.dropped}
        for i, inc in enumerate(version.incorporated):
            sub = ("incorporated", i)
            known = self.ref(where, sub + ("cmoc",), "the previous version's CMOC", inc.cmoc,
                             prev_ids, "an incorporated CMOC must be in the previous version")
            if known and (inc.cmoc in own_ids or inc.cmoc in dropped):
                also = "still in this version" if inc.cmoc in own_ids else "listed as dropped"
                self.at(where, sub + ("cmoc",), f"the CMOC '{inc.cmoc}' is listed as "
                        f"incorporated but is also {also}", "keep it in one place only")
            for j, cid in enumerate(inc.into):
                self.ref(where, sub + ("into", j), "the CMOC", cid, own_ids,
                         "list CMOCs of this version under 'into'")
            self.evidence_refs(where, sub + ("evidence",), inc.evidence, public)
        for sub, record in reasoned(version):
            self.reasoning(where, sub, record, public)

    def reasoning(self, where: Any, sub: YamlPath, record: m.Reasoning, public: bool) -> None:
        """The reasoning behind a change: a kind of inference close to a known one is
        probably misspelt; rivals name evidence that exists."""
        word = (record.inference or "").lower()
        known = list(m.INFERENCES) + list(m.INFERENCE_NOUNS)
        if word and word not in known:
            close = difflib.get_close_matches(word, known, n=1, cutoff=0.75)
            if close:
                self.at(where, sub + ("inference",), f"the inference '{record.inference}' is "
                        "not a kind this site explains", f"did you mean '{close[0]}'? (any "
                        "other word is kept as written)", warning=True)
        for i, rival in enumerate(record.rivals):
            self.evidence_refs(where, sub + ("rivals", i, "evidence"), rival.evidence, public)

    def confidence(self, where: Any, sub: YamlPath, confidence: m.Confidence) -> None:
        project = self.g.corpus.project
        levels = project.confidence_levels
        if confidence.level in levels:
            return
        scale = ", ".join(levels)
        self.at(where, sub + ("level",), f"the confidence '{confidence.level}' is not on the "
                f"project's scale ({scale})", f"use one of: {scale}" + (
                    " (the 'confidence_scale' declared in theories/project.yaml)"
                    if project.confidence_scale else "; or declare your team's own scale, "
                    "lowest first, as 'confidence_scale:' in theories/project.yaml"))

    def example(self, theory: m.Theory, version: m.Version, example: m.CMOC,
                public: bool) -> None:
        """An example configuration: it illustrates a CMOC of this theory (this version or an
        earlier one), is drawn from a known source, has no lineage, and its id (its page's
        address) is nobody else's."""
        where, base = version._where, example._path or ("examples",)
        earlier = {c.id for v in theory.versions if v.number <= version.number for c in v.cmocs}
        self.ref(where, base + ("illustrates",), "the CMOC", example.illustrates, earlier,
                 "an example illustrates a CMOC of this theory, in this version or an earlier "
                 "one")
        if example.source and self.ref(where, base + ("source",), "the source", example.source,
                                       self.g.corpus.sources, "define it under 'sources:' in "
                                       "an evidence/*.yaml file"):
            self.public_needs(where, base + ("source",), public,
                              self.g.corpus.sources[example.source], "source", "")
        if example.lineage is not None:
            self.at(where, base + ("lineage",), f"the example '{example.id}' has a lineage",
                    "remove it: an example has no lineage of its own")
        if example.id in self.g.cmocs or sum(
                o.cmoc.id == example.id for os in self.g.examples.values() for o in os) > 1:
            self.at(where, base + ("id",), f"the id '{example.id}' of an example is also "
                    "used by another CMOC or example", "give the example an id of its own")

    def evidence_refs(self, where: Any, sub: YamlPath, ids: list[str], public: bool) -> None:
        for j, eid in enumerate(ids):
            if self.ref(where, sub + (j,), "the evidence", eid, self.g.corpus.evidence,
                        "check the id against evidence/*.yaml"):
                self.public_needs(where, sub + (j,), public, self.g.corpus.evidence[eid],
                                  "evidence", "")

    def sources(self) -> None:
        bib = self.g.bibliography.entries
        for source in self.g.corpus.sources.values():
            where = source._where
            if source.reference:
                self.ref(where, ("reference",), "the reference", source.reference, bib,
                         "add it to references.bib or correct the key")
            for i, rv in enumerate(source.reviewed):
                if self.g.version(rv.theory, rv.version) is None and (rv.theory, rv.version) \
                        not in self.g.corpus.invalid_versions and \
                        rv.theory not in self.g.corpus.invalid_ids:
                    self.at(where, ("reviewed", i), f"version {rv.version} of the theory "
                            f"'{rv.theory}' does not exist", "check the theory id and number")
            for i, q in enumerate(source.questions):
                if q.theory:
                    self.ref(where, ("questions", i, "theory"), "the theory", q.theory,
                             self.g.theories, "check the theory id")
                if q.cmoc:
                    self.ref(where, ("questions", i, "cmoc"), "the CMOC", q.cmoc,
                             self.g.cmocs, "check the CMOC id")

    def source_of(self, ev: m.Evidence, sub: YamlPath, sid: str, public: bool) -> None:
        """One source of an evidence record: it exists, is public if the record is, and
        gives the kind of evidence the record says it is."""
        where = ev._where
        source = self.g.corpus.sources.get(sid)
        if self.ref(where, sub, "the source", sid, self.g.corpus.sources,
                    "define it under 'sources:' in an evidence/*.yaml file"):
            self.public_needs(where, sub, public, source, "source", EVIDENCE)
            groups = {g.lower() for g in source.groups}
            if ev.group and groups and ev.group.lower() not in groups:
                self.at(where, ("group",), f"'{ev.group}' is not one of the round's "
                        "stakeholder groups", "use one of: " + ", ".join(source.groups)
                        + " (a group, never a person's name)")
            expected = m.EVIDENCE_KIND_OF_SOURCE[source.kind]
            if ev.kind == m.EvidenceKind.feedback.value and \
                    source.kind not in m.FEEDBACK_SOURCES:
                self.at(where, ("kind",), f"the evidence is stakeholder feedback but its "
                        f"source '{source.id}' is a {source.kind}", "give it a source of "
                        "kind 'consultation' (a round) or 'panel' (a standing group), or "
                        "leave 'kind' out")
            elif ev.kind and ev.kind != expected and "other" not in (ev.kind, expected):
                self.at(where, ("kind",), f"the evidence is of kind '{ev.kind}' but its "
                        f"source '{source.id}' is a {source.kind}",
                        f"use kind '{expected}', or leave 'kind' out")

    def evidence(self) -> None:
        for ev in self.g.corpus.evidence.values():
            where = ev._where
            public = ev.visibility == PUBLIC
            self.appraisal(where, ("appraisal",), ev.appraisal)
            for j, ref in enumerate(ev.refs):
                self.source_of(ev, ("source",) if ev.source else ("sources", j), ref.source,
                               public)
            for i, target in enumerate(ev.bears_on):
                sub = ("bears_on", i)
                if target.cmoc and self.ref(where, sub + ("cmoc",), "the CMOC", target.cmoc,
                                            self.g.cmocs, "check the id against the CMOCs "
                                            "in theories/*/v*.yaml"):
                    theory = self.g.cmocs[target.cmoc][0].theory
                    self.public_needs(where, sub + ("cmoc",), public, theory, "theory", EVIDENCE)
                    numbers = [o.version.number for o in self.g.cmocs[target.cmoc]]
                    if target.version is not None and target.version not in numbers:
                        self.at(where, sub + ("version",), f"the CMOC '{target.cmoc}' is not "
                                f"in version {target.version} of '{theory.id}'", "use one of "
                                "the versions it is in: " + ", ".join(map(str, numbers)))
                if target.context and self.ref(where, sub + ("context",), "the overarching "
                                               "context", target.context, self.g.contexts,
                                               "define it in theories/project.yaml"):
                    self.public_needs(where, sub + ("context",), public,
                                      self.g.contexts[target.context], "overarching context",
                                      EVIDENCE)
                if target.theory and self.ref(where, sub + ("theory",), "the theory",
                                              target.theory, self.g.theories,
                                              "check the theory id"):
                    self.public_needs(where, sub + ("theory",), public,
                                      self.g.theories[target.theory], "theory", EVIDENCE)

    def texts(self) -> None:
        """Citations and links in every Markdown text, internal and draft ones included."""
        bib = None if self.bib_unreadable else self.g.bibliography.entries
        for where, sub, text in markdown_texts(self.g):
            if bib is not None:
                for key in cited_keys(text):
                    if key not in bib:
                        self.at(where, sub, f"the citation @{key} is not in references.bib",
                                "add the reference to references.bib, or correct the key")
            if links.may_link(text):
                for url in links.unsafe(links.field_source(text)):
                    file, base = where if where else ("?", ())
                    self.problems.add(
                        file, f"the link to '{links.shown(url)}' is not shown as a link: "
                        f"{links.RULE}", "write a web address starting with https://",
                        path=base + sub, warning=True, code=f"unsafe-link:{url}")
