"""The reasoning behind each refinement, and confidence in each CMOC across versions.

Realist reports say what changed between versions, rarely why this evidence justified that
change. A team may record, with each change, the kind of inference, the rival explanations it
set aside and what would overturn the change, and per CMOC its confidence on the project's
scale. This module gives the pages what they show of it: the confidence table of the history
page, the badge beside a CMOC, and the reporting page (`theories/<id>/refinement/`): every
change with its reasoning, confidence and evidence, version by version, to attach to a report
as a supplementary file. A theory that records none of it has no reporting page, and its
pages are as they were before any of this existed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .. import models as m
from ..graph import reasoned
from ..history import CmocDiff, VersionDiff, confidence_step, diff_versions
from .site import Site

ARROWS = {"up": "↑", "down": "↓", "same": "="}


def records_reasoning(site: Site, theory: m.Theory) -> bool:
    """Whether a published version of the theory records reasoning or confidence (only then
    is there a reporting page, and links to it)."""
    key = ("records-reasoning", theory.id, site.options.include_drafts)
    if key not in site.g.memo:
        versions = site.versions(theory)
        site.g.memo[key] = any(c.confidence for v in versions for c in v.cmocs) or any(
            r.reasoned for v in versions for _, r in reasoned(v))
    return site.g.memo[key]


def confidence_rank(site: Site, level: str) -> str:
    """Where a level sits on the project's scale, for the badge's colour: lowest, highest or
    middle."""
    levels = site.g.corpus.project.confidence_levels
    if level not in levels:
        return "middle"
    i = levels.index(level)
    return "lowest" if i == 0 else "highest" if i == len(levels) - 1 else "middle"


def _predecessor(site: Site, version: m.Version, cmoc: m.CMOC) -> m.CMOC | None:
    """The CMOC of the previous version this one continues (same id, or its only source)."""
    previous = site.g.previous(version)
    lineage = site.g.lineage(version, cmoc)
    if previous is None or lineage is None or len(lineage.from_) != 1:
        return None
    return previous.cmoc(lineage.from_[0])


@dataclass
class Rated:
    """A CMOC's confidence in one version, and how it moved since the CMOC it continues."""

    level: str | None
    was: str | None
    step: str | None  # up / down / same, None when there is nothing to compare

    @property
    def arrow(self) -> str:
        return ARROWS.get(self.step or "", "")

    @property
    def moved(self) -> bool:
        return self.level != self.was


def moved(site: Site, before: m.CMOC | None, cmoc: m.CMOC | None) -> Rated | None:
    """How confidence moved from `before` to `cmoc`; None when neither is rated."""
    was = before.confidence.level if before and before.confidence else None
    now = cmoc.confidence.level if cmoc and cmoc.confidence else None
    if was is None and now is None:
        return None
    return Rated(now, was, confidence_step(site.g.corpus.project.confidence_levels, was, now))


def rated(site: Site, version: m.Version, cmoc: m.CMOC) -> Rated | None:
    """A CMOC's confidence in a version, against the CMOC it continues."""
    return moved(site, _predecessor(site, version, cmoc), cmoc)


def confidence_rows(site: Site, theory: m.Theory) -> list[dict[str, Any]]:
    """The history page's table, CMOC x version: each CMOC (as last named) with its
    confidence in each version it is in (None where it is not); empty when no version rates
    any CMOC."""
    versions = site.versions(theory)
    if not any(c.confidence for v in versions for c in v.cmocs):
        return []
    latest: dict[str, m.CMOC] = {}
    for version in versions:
        for cmoc in version.cmocs:
            latest[cmoc.id] = cmoc
    return [{"cmoc": cmoc, "cells": [_cell(site, v, v.cmoc(cid)) for v in versions]}
            for cid, cmoc in latest.items()]


def _cell(site: Site, version: m.Version, cmoc: m.CMOC | None) -> Rated | str | None:
    """A cell of the confidence table: the rating, 'not stated', or None (not in it)."""
    if cmoc is None:
        return None
    return rated(site, version, cmoc) or "not stated"



@dataclass
class Step:
    """One version's refinement: the CMOCs that changed (or whose change is reasoned or
    re-rated), each with how its confidence moved, and those kept as they were."""

    diff: VersionDiff
    cmocs: list[tuple[CmocDiff, Rated | None]] = field(default_factory=list)
    kept: list[CmocDiff] = field(default_factory=list)

    @property
    def version(self) -> m.Version:
        return self.diff.new

    @property
    def shown(self) -> list[CmocDiff]:
        return [c for c, _ in self.cmocs]


def refinement(site: Site, theory: m.Theory) -> dict[str, Any]:
    """The reporting page: the first version's CMOCs with their confidence, then each
    version's changes, in the order the team made them, and a table of them all."""
    versions = site.versions(theory)
    steps = []
    for old, new in zip(versions, versions[1:], strict=False):
        step = Step(diff_versions(site.g, theory, old, new))
        for c in step.diff.cmocs:
            rating = moved(site, c.old, c.new) if c.new is not None else None
            reasoned_ = c.reasoning is not None and c.reasoning.reasoned
            if c.changed or reasoned_ or (rating is not None and rating.moved):
                step.cmocs.append((c, rating))
            else:
                step.kept.append(c)
        steps.append(step)
    first = versions[0]
    return {"versions": versions, "first": first,
            "first_rated": [(c, rated(site, first, c)) for c in first.cmocs],
            "steps": steps, "summary": _summary(steps)}


def _summary(steps: list[Step]) -> list[dict[str, Any]]:
    """One row per change, in the order of the page."""
    rows = []
    for step in steps:
        for c, rating in step.cmocs:
            rows.append({"version": step.version, "diff": c, "change": None,
                         "reasoning": c.reasoning, "rating": rating})
        for change in step.diff.changes:
            rows.append({"version": step.version, "diff": None, "change": change,
                         "reasoning": change, "rating": None})
    return rows
