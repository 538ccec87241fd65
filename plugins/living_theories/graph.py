"""The theory graph: every record with its cross-references resolved.

Theories -> versions -> CMOCs <- evidence -> sources -> references, and back again. Pages,
diagrams and history are all read off this graph; integrity.py checks it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from pydantic import BaseModel

from . import models as m
from .citations.bibtex import Bibliography
from .loading import Corpus
from .problems import YamlPath


@dataclass
class Occurrence:
    """A CMOC as it appears in one version (CMOC ids are stable across versions)."""

    theory: m.Theory
    version: m.Version
    cmoc: m.CMOC
    index: int  # position in the version's list


@dataclass
class TheoryGraph:
    corpus: Corpus
    bibliography: Bibliography
    cmocs: dict[str, list[Occurrence]] = field(default_factory=lambda: defaultdict(list))
    # Example configurations by the CMOC id they illustrate (each with its own version).
    examples: dict[str, list[Occurrence]] = field(default_factory=lambda: defaultdict(list))
    evidence_on_cmoc: dict[str, list[tuple[m.Evidence, m.BearsOn]]] = field(
        default_factory=lambda: defaultdict(list))
    evidence_on_context: dict[str, list[tuple[m.Evidence, m.BearsOn]]] = field(
        default_factory=lambda: defaultdict(list))
    evidence_on_theory: dict[str, list[tuple[m.Evidence, m.BearsOn]]] = field(
        default_factory=lambda: defaultdict(list))
    evidence_from_source: dict[str, list[m.Evidence]] = field(
        default_factory=lambda: defaultdict(list))
    memo: dict[tuple, Any] = field(default_factory=dict)  # results worked out once per graph

    @property
    def theories(self) -> dict[str, m.Theory]:
        return self.corpus.theories

    @property
    def contexts(self) -> dict[str, m.OverarchingContext]:
        return {c.id: c for c in self.corpus.project.overarching_contexts}

    @property
    def substantive(self) -> dict[str, m.SubstantiveTheory]:
        return {s.id: s for s in self.corpus.project.substantive_theories}

    def version(self, theory_id: str, number: int) -> m.Version | None:
        theory = self.theories.get(theory_id)
        if theory is None or not 1 <= number <= len(theory.versions):
            return None
        return theory.versions[number - 1]

    def previous(self, version: m.Version) -> m.Version | None:
        return self.version(version.theory_id, version.number - 1)

    def lineage(self, version: m.Version, cmoc: m.CMOC) -> m.Lineage | None:
        """The lineage as written, or as implied: kept if the id was in the previous version."""
        if cmoc.lineage is not None:
            return cmoc.lineage
        prev = self.previous(version)
        if prev is None:
            return None
        if any(c.id == cmoc.id for c in prev.cmocs):
            return m.Lineage(relation=m.Relation.kept, **{"from": [cmoc.id]})
        return m.Lineage(relation=m.Relation.not_known)

    def evidence_kind(self, evidence: m.Evidence) -> str:
        if evidence.kind:
            return evidence.kind
        # A record from several sources takes its kind from the first.
        source = self.corpus.sources.get(evidence.refs[0].source)
        return m.EVIDENCE_KIND_OF_SOURCE[source.kind] if source else "other"


def build(corpus: Corpus, bibliography: Bibliography) -> TheoryGraph:
    graph = TheoryGraph(corpus, bibliography)
    for theory in corpus.theories.values():
        for version in theory.versions:
            for i, cmoc in enumerate(version.cmocs):
                graph.cmocs[cmoc.id].append(Occurrence(theory, version, cmoc, i))
            for i, example in enumerate(version.examples):
                graph.examples[example.illustrates].append(Occurrence(theory, version,
                                                                      example, i))
    # Evidence a CMOC table lists for a CMOC supports it as a whole, unless the evidence
    # record already says how it bears on that CMOC.
    listed: dict[str, list[str]] = defaultdict(list)
    for occurrences in graph.cmocs.values():
        for occ in occurrences:
            for eid in occ.cmoc.evidence:
                if occ.cmoc.id not in listed[eid]:
                    listed[eid].append(occ.cmoc.id)
    for ev in corpus.evidence.values():
        for ref in ev.refs:
            graph.evidence_from_source[ref.source].append(ev)
        own = {t.cmoc for t in ev.bears_on if t.cmoc}
        for cid in listed.get(ev.id, []):
            if cid not in own:
                graph.evidence_on_cmoc[cid].append((ev, m.BearsOn(cmoc=cid)))
        for target in ev.bears_on:
            if target.cmoc:
                graph.evidence_on_cmoc[target.cmoc].append((ev, target))
            elif target.context:
                graph.evidence_on_context[target.context].append((ev, target))
            elif target.theory:
                graph.evidence_on_theory[target.theory].append((ev, target))
    return graph


def reasoned(version: m.Version) -> Iterator[tuple[YamlPath, m.Reasoning]]:
    """Each record of a change in a version, which may give its reasoning, with its path:
    the CMOCs' lineage, then changes, drops and incorporations, in the file's order."""
    for i, cmoc in enumerate(version.cmocs):
        if cmoc.lineage is not None:
            yield (cmoc._path or ("cmocs", i)) + ("lineage",), cmoc.lineage
    for key in ("changes", "dropped", "incorporated"):
        for i, record in enumerate(getattr(version, key)):
            yield (key, i), record


def cited_evidence(version: m.Version) -> set[str]:
    """Ids of the evidence a version cites for its lineage, changes and dropped CMOCs, and
    for setting aside the rival explanations of any change."""
    ids = {e for c in version.cmocs if c.lineage for e in c.lineage.evidence}
    ids |= {e for ch in version.changes for e in ch.evidence}
    ids |= {e for _, r in reasoned(version) for rival in r.rivals for e in rival.evidence}
    return ids | {e for d in version.dropped for e in d.evidence}


@cache
def _fields(model: type[BaseModel]) -> tuple[tuple[str, str, bool], ...]:
    """(name, YAML key, holds Markdown) of each field of a model class that can hold
    Markdown, itself or in a model inside it (the rest need not be looked at)."""
    md = m.markdown_fields(model)
    return tuple((name, info.alias or name, name in md)
                 for name, info in model.model_fields.items()
                 if name in md or _may_hold_markdown(info.annotation))


def _may_hold_markdown(annotation: Any) -> bool:
    if isinstance(annotation, type):
        return issubclass(annotation, BaseModel) and bool(_fields(annotation))
    return any(_may_hold_markdown(arg) for arg in getattr(annotation, "__args__", ()))


def iter_markdown(model: BaseModel, path: YamlPath = ()) -> Iterator[tuple[YamlPath, str]]:
    """Every Markdown text inside a model, with its path (for error lines)."""
    values = model.__dict__
    for name, key, is_markdown in _fields(type(model)):
        value = values[name]
        if value is None:
            continue
        if is_markdown:
            if isinstance(value, str):
                yield path + (key,), value
            elif isinstance(value, list):
                for i, item in enumerate(value):
                    yield path + (key, i), item
        elif isinstance(value, BaseModel):
            yield from iter_markdown(value, path + (key,))
        elif isinstance(value, list):
            for i, item in enumerate(value):
                if isinstance(item, BaseModel):
                    # (an example CMOC keeps the place it was written: see CMOC._path)
                    where = item._path if isinstance(item, m.CMOC) and item._path else (key, i)
                    yield from iter_markdown(item, path + where)


def markdown_texts(graph: TheoryGraph) -> Iterator[tuple[Any, YamlPath, str]]:
    """(where, path, text) for every Markdown text in the project."""
    project = graph.corpus.project
    if project.description:
        yield (str(graph.corpus.project_file), ()), ("description",), project.description
    for ctx in project.overarching_contexts:
        for sub, text in iter_markdown(ctx):
            yield ctx._where, sub, text
    for st in project.substantive_theories:
        for sub, text in iter_markdown(st):
            yield st._where, sub, text
    if project.framework:
        for sub, text in iter_markdown(project.framework):
            yield (str(graph.corpus.project_file), ()), ("framework",) + sub, text
    for theory in graph.theories.values():
        for sub, text in iter_markdown(theory):
            yield theory._where, sub, text
        for version in theory.versions:
            for sub, text in iter_markdown(version):
                yield version._where, sub, text
    for record in list(graph.corpus.sources.values()) + list(graph.corpus.evidence.values()):
        for sub, text in iter_markdown(record):
            yield record._where, sub, text

