"""Appraisal per piece of evidence, rolled up per CMOC: how much relevant, rigorous evidence
supports, challenges or refines each element or link. A record judged on its own is counted
with its own appraisal; one without takes its study's (its single source's), and the page
says which."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass

from .. import models as m
from .words import APPRAISAL_LEVEL_NAMES, ASPECT_NAMES, ROLE_SYMBOL

CRITERIA = ("relevance", "rigour", "richness")


@dataclass(frozen=True)
class Judged:
    """The appraisal a record is counted with, and whether it is its study's."""

    appraisal: m.Appraisal
    inherited: bool


def judged(ev: m.Evidence, sources: dict[str, m.Source]) -> Judged | None:
    """A record's own appraisal; else its single source's, when that states a level (a study
    appraised in words only is shown on its page, not counted)."""
    if ev.appraisal is not None:
        return Judged(ev.appraisal, False)
    if len(ev.refs) != 1:
        return None
    source = sources.get(ev.refs[0].source)
    study = source.appraisal if source else None
    if study is not None and any(study.level(c) for c in CRITERIA):
        return Judged(study, True)
    return None


def rollup(items: list[tuple[m.Evidence, m.BearsOn]], sources: dict[str, m.Source]
           ) -> dict[str, object] | None:
    """Per element or link and role: records, and how many of them at each level of
    relevance and rigour (and richness where a team uses it). None when no record on the CMOC
    is appraised (the page then shows nothing new)."""
    rows: dict[tuple[str, str], list[Judged | None]] = defaultdict(list)
    records: dict[str, Judged | None] = {}
    for ev, target in items:
        records[ev.id] = judged(ev, sources)
        rows[(target.aspect, target.role)].append(records[ev.id])
    every = list(records.values())
    if not any(every):
        return None
    criteria = [c for c in CRITERIA if c != "richness"
                or any(j and j.appraisal.level(c) for j in every)]
    out = []
    for aspect, name in ASPECT_NAMES.items():
        for role in ROLE_SYMBOL:
            js = rows.get((aspect, role))
            if js:
                out.append({"aspect": name, "role": role, "records": len(js),
                            "levels": {c: _levels(js, c) for c in criteria}})
    own = sum(1 for j in every if j and not j.inherited)
    inherited = sum(1 for j in every if j and j.inherited)
    return {"rows": out, "criteria": criteria, "own": own, "inherited": inherited,
            "unjudged": sum(1 for j in every if j is None)}


def _levels(js: list[Judged | None], criterion: str) -> str:
    """'2 high, 1 moderate, 1 not graded' (not graded: no appraisal, or one in
    words only)."""
    counts: Counter = Counter(j.appraisal.level(criterion) if j else None for j in js)
    parts = [f"{counts[level]} {APPRAISAL_LEVEL_NAMES[level]}" for level in m.APPRAISAL_LEVELS
             if counts[level]]
    if counts[None]:
        parts.append(f"{counts[None]} not graded")
    return ", ".join(parts)
