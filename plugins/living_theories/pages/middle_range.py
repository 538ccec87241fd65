"""Middle-range theory at the mechanism level: the mechanisms of CMOCs that support, extend,
contradict or draw on a substantive theory, and the substantive theories' own pages that list
them. A project that links no mechanism to one keeps its substantive theories on the contexts
page, as before."""

from __future__ import annotations

from dataclasses import dataclass, field

from .. import models as m
from ..graph import Occurrence
from .site import Site


def has_pages(site: Site) -> bool:
    """Substantive theories get their own pages once some published mechanism links to one."""
    public = {s.id for s in site.substantive_theories}
    return any(link.theory in public for occs in site.cmocs.values() for o in occs
               for link in o.cmoc.substantive_theories)


@dataclass
class Use:
    """A CMOC's mechanism that relates to a substantive theory, in the versions it does so
    alike (same part, relation and note)."""

    occ: Occurrence  # the latest of those versions
    link: m.MechanismTheory
    versions: list[int] = field(default_factory=list)


def uses(site: Site, sid: str) -> list[Use]:
    """The published mechanisms that relate to a substantive theory, theory by theory in the
    site's order, CMOCs in their order of first appearance."""
    order = {t.id: i for i, t in enumerate(site.theories)}
    found: dict[tuple[str, str | None, str, str | None], Use] = {}
    for occs in site.cmocs.values():
        for occ in occs:
            for link in occ.cmoc.substantive_theories:
                if link.theory != sid:
                    continue
                key = (occ.cmoc.id, link.mechanism, link.relation, link.note)
                use = found.setdefault(key, Use(occ, link))
                use.occ = occ
                use.versions.append(occ.version.number)
    return sorted(found.values(), key=lambda u: (order.get(u.occ.theory.id, len(order)),
                                                 u.versions[0], u.occ.index))


def theories_relating(site: Site, sid: str) -> list[m.Theory]:
    """Published programme theories that name the substantive theory as a whole."""
    return [t for t in site.theories if sid in t.substantive_theories]
