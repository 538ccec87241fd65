"""The evidence map: sources x CMOCs, counted by role, one table per version."""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from markupsafe import Markup

from .. import models as m
from .site import Site, natural
from .triangulation import Spread
from .words import ROLE_SYMBOL, SOURCE_KINDS


def evidence_map(site: Site, versions: list[tuple[m.Theory, m.Version]] | None = None
                 ) -> dict[str, Any]:
    """Sources x CMOCs of each theory's current version, or of the versions given (one table
    per version, so a table never grows with the whole corpus): counts by role, records per
    CMOC (N), its sources and kinds of data (triangulation), and the CMOCs that stand out.
    Evidence that names the version it tested counts for that version only."""
    cells: dict[tuple[str, str], Counter] = defaultdict(Counter)
    totals: dict[str, Counter] = defaultdict(Counter)
    records: dict[str, set[str]] = defaultdict(set)  # CMOC -> ids of the records on it
    spread: dict[str, Spread] = {}  # CMOC -> its sources and kinds of data (triangulation)
    sections, unsupported, challenged, thin = [], [], [], []
    kind_order = {k: i for i, k in enumerate(SOURCE_KINDS)}
    if versions is None:
        versions = [(theory, site.current(theory)) for theory in site.theories]
    for theory, version in versions:
        row_ids: set[str] = set()
        for cmoc in version.cmocs:
            spread[cmoc.id] = Spread("")
            for ev, target in site.evidence_on(cmoc.id, version.number):
                spread[cmoc.id].add(ev, site.sources)
                for ref in ev.refs:  # a record from several sources counts in each row
                    cells[(ref.source, cmoc.id)][target.role] += 1
                    row_ids.add(ref.source)
                totals[cmoc.id][target.role] += 1
                records[cmoc.id].add(ev.id)
            if not totals[cmoc.id]:
                unsupported.append((theory, cmoc))
            elif set(totals[cmoc.id]) == {"challenges"}:
                challenged.append((theory, cmoc))
            if spread[cmoc.id].thin:
                thin.append((theory, cmoc))
        rows = sorted((site.sources[s] for s in row_ids),  # (ids last: names may be alike)
                      key=lambda s: (kind_order.get(s.kind, len(kind_order)),
                                     natural(site.source_name(s)), s.id))
        sections.append({"theory": theory, "version": version, "columns": version.cmocs,
                         "rows": rows})
    # Counts as "✓3 ✗1 ", worked out here: the map has a cell per source and CMOC.
    return {"sections": sections, "cells": {k: _counts(v) for k, v in cells.items()},
            "totals": {k: _counts(v) for k, v in totals.items()},
            "records": {k: len(v) for k, v in records.items()},
            "unsupported": unsupported, "challenged": challenged, "thin": thin,
            "sources": {k: len(v.sources) for k, v in spread.items()},
            "kinds": {k: v.by_kind for k, v in spread.items()},
            "unsupported_ids": {c.id for _, c in unsupported}}


def _counts(by_role: Counter) -> Markup:
    return Markup("".join(f"{symbol}{by_role[role]} " for role, symbol in ROLE_SYMBOL.items()
                          if by_role[role]))
