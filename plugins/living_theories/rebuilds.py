"""What an edit changes: after an edit during `mkdocs serve`, which generated pages must be
rendered again. Pure functions over two loads of a project; no MkDocs here.

The common edit while entering data is the text of an evidence record: a quote corrected, a
summary reworded. Such an edit shows on a few pages only (the record's source, the CMOCs and
contexts it bears on, its consultation round, and the theories whose changes cite it), so
those are rendered again and every other page keeps its Markdown. Any other edit (a theory, a
source, a link between records, the bibliography, the lock) may show anywhere: everything is
rendered again. tests/test_rebuilds.py checks that both ways give the same site.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from . import models as m
from .citations.syntax import cited_keys
from .graph import cited_evidence
from .pages import CONTEXTS, cmoc_path, pack_path, round_path, source_path
from .project import Project

# Evidence fields that only show where the record itself is shown.
EVIDENCE_TEXT = frozenset({"quote", "summary", "locator", "cited_as", "group", "codes"})


@dataclass(frozen=True)
class Edit:
    """The pages an edit changes: these paths, and every page under these folders."""

    paths: frozenset[str]
    folders: frozenset[str]

    def __contains__(self, path: str) -> bool:
        return path in self.paths or path.startswith(tuple(self.folders))


def _links(ev: m.Evidence) -> str:
    """Everything about a record but its text (and the citations in its text)."""
    data = ev.model_dump(mode="json", exclude=set(EVIDENCE_TEXT))
    return json.dumps([data, cited_keys(ev.summary or "")], sort_keys=True)


def pages_changed(old: Project, new: Project) -> Edit | None:
    """The pages that show what changed between two loads of a project, or None when the
    change may show on any page."""
    before, after = old.graph.corpus, new.graph.corpus
    same_bib = old.bibliography is new.bibliography or \
        old.bibliography.entries == new.bibliography.entries
    if not same_bib or old.lock.versions != new.lock.versions \
            or before.project != after.project or before.sources != after.sources \
            or before.theories != after.theories or before.evidence.keys() != after.evidence.keys():
        return None  # (theories compare with their versions: `_versions` is compared too)
    edited = [ev for eid, ev in after.evidence.items() if ev != before.evidence[eid]]
    if any(_links(ev) != _links(before.evidence[ev.id]) for ev in edited):
        return None
    paths: set[str] = set()
    folders: set[str] = set()
    for ev in edited:
        for ref in ev.refs:
            paths |= {source_path(ref.source), round_path(ref.source), pack_path(ref.source)}
        paths |= {cmoc_path(t.cmoc) for t in ev.bears_on if t.cmoc}
        folders |= {f"theories/{t.theory}/" for t in ev.bears_on if t.theory}
        if any(t.context for t in ev.bears_on):
            paths.add(CONTEXTS)
    ids = {ev.id for ev in edited}
    for theory in after.theories.values():  # changes and lineage that cite the records
        if any(cited_evidence(version) & ids for version in theory.versions):
            folders.add(f"theories/{theory.id}/")
    return Edit(frozenset(paths), frozenset(folders))
