"""Triangulation at a glance: how many sources, and which kinds of data, bear on each element
or link of a CMOC. A claim seen across several sources and kinds of data is a demi-regularity;
one that rests on a single source is thinly supported."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from .. import models as m
from .words import ASPECT_NAMES, DATA_KINDS


def data_kind(ev: m.Evidence, source: m.Source) -> str:
    """The kind of data a record is, from one of its sources: a study or stakeholder feedback
    by what it is; otherwise how the source's data were collected (an observed participant is
    observation, not interview), else the record's kind."""
    kind = ev.kind or m.EVIDENCE_KIND_OF_SOURCE[source.kind]
    if kind in (m.EvidenceKind.study.value, m.EvidenceKind.feedback.value) or not source.mode:
        return kind
    return source.mode


@dataclass
class Spread:
    """The evidence on one element or link (or the whole CMOC): records, sources, kinds."""

    name: str
    records: set[str] = field(default_factory=set)
    sources: set[str] = field(default_factory=set)
    kinds: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))

    def add(self, ev: m.Evidence, sources: dict[str, m.Source]) -> None:
        self.records.add(ev.id)
        for ref in ev.refs:
            source = sources.get(ref.source)
            if source is not None:  # (published evidence has only published sources)
                self.sources.add(source.id)
                self.kinds[data_kind(ev, source)].add(source.id)

    @property
    def by_kind(self) -> list[tuple[str, int]]:
        """(kind of data, number of its sources), in the order of DATA_KINDS."""
        return [(DATA_KINDS[k], len(self.kinds[k])) for k in DATA_KINDS if self.kinds.get(k)]

    @property
    def thin(self) -> bool:
        return len(self.sources) == 1


def triangulation(items: list[tuple[m.Evidence, m.BearsOn]], sources: dict[str, m.Source]
                  ) -> dict[str, object]:
    """Per element or link the evidence names (in the order of ASPECT_NAMES), and for all of
    it: records, distinct sources, and sources by kind of data."""
    rows = {aspect: Spread(name) for aspect, name in ASPECT_NAMES.items()}
    total = Spread("All evidence on this CMOC")
    for ev, target in items:
        rows[target.aspect].add(ev, sources)
        total.add(ev, sources)
    return {"rows": [r for r in rows.values() if r.records], "total": total}

