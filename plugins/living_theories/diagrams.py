"""Mermaid flowcharts of CMOCs: context -> mechanism resource -> mechanism reasoning -> outcome.

An element's sign is drawn as the label the study prints beside it, "(M−) text", never as a
rewording of the text.

Node ids are generated, never taken from text (`end` as an id breaks Mermaid), and every label
is quoted and entity-encoded, so no text from YAML can break or inject into a diagram. Links
are not written into the diagram (Mermaid's `click` needs its unsafe 'loose' mode): the page
script attaches them to nodes by id from the `links` map.
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass, field
from functools import lru_cache

from . import models as m

# Mermaid's own entity codes (a numeric code without '&'), applied to every label character
# that could end a label, open markup, or start a directive.
_ENTITIES = {'"': "#quot;", "<": "#lt;", ">": "#gt;", "&": "#amp;", "[": "#91;", "]": "#93;",
             "#": "#35;", "{": "#123;", "}": "#125;", "(": "#40;", ")": "#41;", "|": "#124;",
             "%": "#37;", "`": "#96;", ";": "#59;", "\\": "#92;", "*": "#42;", "_": "#95;",
             "~": "#126;"}
_MARKDOWN_CITE = re.compile(r"\[?-?@\{?([\w:.#$%&\-+?<>~/]+)\}?[^\]]*\]?")


@lru_cache(maxsize=1 << 15)
def label(text: str, width: int = 28) -> str:
    """Text as a safe, quoted Mermaid label, wrapped onto short lines."""
    # (cached: a CMOC's elements are drawn on its page and on each version page with it)
    text = " ".join(_MARKDOWN_CITE.sub(lambda mt: "", text).split()) or "(no text)"
    if len(text) > 160:
        text = text[:157].rsplit(" ", 1)[0] + "…"
    lines = textwrap.wrap(text, width) or [text]
    escaped = ["".join(_ENTITIES.get(ch, ch) for ch in line) for line in lines]
    return '"' + "<br>".join(escaped) + '"'


_SHAPES = ("ctx", "res", "rea", "out")  # in the order of m.ELEMENTS
_FILLS = {"ctx": "#e8f0fe", "res": "#e6f4ea", "rea": "#fef7e0", "out": "#f3e8fd"}
_SIGN_CSS = {"positive": "plus", "negative": "minus"}


@dataclass
class Diagram:
    source: str
    links: dict[str, str] = field(default_factory=dict)  # node id -> page path (.md)


class _Builder:
    def __init__(self, direction: str = "LR") -> None:
        self.lines = [f"flowchart {direction}"]
        self.links: dict[str, str] = {}
        self.count = 0

    def node(self, shape: str, text: str, css: str, link: str | None = None) -> str:
        self.count += 1
        nid = f"n{self.count}"
        open_, close = {"ctx": ("[", "]"), "res": ("([", "])"), "rea": ("{{", "}}"),
                        "out": ("[/", "/]")}[shape]
        self.lines.append(f"  {nid}{open_}{label(text)}{close}:::{css}")
        if link:
            self.links[nid] = link
        return nid

    def cmoc(self, cmoc: m.CMOC, link: str | None, indent: str = "  ") -> None:
        groups = []
        for (attr, letter, _), shape in zip(m.ELEMENTS, _SHAPES, strict=True):
            # A sign is shown as the study's label beside the text, and as a border colour.
            groups.append([
                self.node(shape, f"({lab}) {text}" if (lab := m.sign_label(letter, sign))
                          else text, shape + _SIGN_CSS.get(sign or "", ""), link)
                for text, sign in cmoc.signed(attr)])
        groups = [g for g in groups if g]
        if not groups:  # a CMOC told as a narrative, or known only by its label
            text = cmoc.narrative or cmoc.title or cmoc.label or cmoc.id
            groups = [[self.node("ctx", text, "unknown", link)]]
        for left, right in zip(groups, groups[1:], strict=False):
            for a in left:
                for b in right:
                    self.lines.append(f"{indent}{a} --> {b}")

    def finish(self) -> Diagram:
        self.lines += [
            "  classDef ctx fill:#e8f0fe,stroke:#3367d6,color:#1a1a1a",
            "  classDef res fill:#e6f4ea,stroke:#188038,color:#1a1a1a",
            "  classDef rea fill:#fef7e0,stroke:#b06000,color:#1a1a1a",
            "  classDef out fill:#f3e8fd,stroke:#8430ce,color:#1a1a1a",
            *(f"  classDef {kind}{suffix} fill:{fill},stroke:{stroke},color:#1a1a1a,"
              "stroke-width:3px"
              for kind, fill in _FILLS.items()
              for suffix, stroke in (("plus", "#137333"), ("minus", "#b3261e"))),
            "  classDef unknown fill:#f1f3f4,stroke:#5f6368,color:#1a1a1a,stroke-dasharray:2 2",
        ]
        return Diagram("\n".join(self.lines), self.links)


def cmoc_diagram(cmoc: m.CMOC) -> Diagram:
    builder = _Builder()
    builder.cmoc(cmoc, None)
    return builder.finish()


def theory_diagram(version: m.Version, link_of: dict[str, str]) -> Diagram:
    """All CMOCs of one version, one box each; nodes link to the CMOC pages."""
    builder = _Builder("TB")  # one row per CMOC, stacked in order
    for i, cmoc in enumerate(version.cmocs, start=1):
        title = cmoc.title or cmoc.label or cmoc.id
        builder.lines.append(f"  subgraph g{i}[{label(title, 60)}]")
        builder.lines.append("    direction LR")
        builder.cmoc(cmoc, link_of.get(cmoc.id), indent="    ")
        builder.lines.append("  end")
    if len(version.cmocs) > 1:  # invisible links keep the boxes stacked in order
        builder.lines.append("  " + " ~~~ ".join(f"g{i}" for i in range(1, len(version.cmocs) + 1)))
    group = {cmoc.id: f"g{i}" for i, cmoc in enumerate(version.cmocs, start=1)}
    for cmoc in version.cmocs:  # chains: this CMOC's outcome feeds the next one
        for target in cmoc.leads_to:
            if target in group:
                builder.lines.append(f"  {group[cmoc.id]} -->|leads to| {group[target]}")
    return builder.finish()


EDGES = {"kept": "-->|kept|", "refined": "-->|refined|", "merged": "==>|merged|",
         "split": "-->|split|", "not-known": "-.->|not known|",
         "incorporated": "-.->|incorporated into|"}


def lineage_diagram(versions: list[m.Version], lineage_of, link_of: dict[str, str]) -> Diagram:
    """Every CMOC of every version, a column per version, joined by their lineage.

    `lineage_of(version, cmoc)` gives the effective lineage (see graph.TheoryGraph.lineage).
    Relations are told apart by edge labels and line styles, not by colour alone.
    """
    b = _Builder("LR")
    ids: dict[tuple[int, str], str] = {}
    fates: dict[tuple[int, str], str] = {}
    for version in versions:
        for cmoc in version.cmocs:
            lineage = lineage_of(version, cmoc)
            for src in (lineage.from_ if lineage else []):
                fates[(version.number - 1, src)] = "continued"
            if lineage and lineage.relation == m.Relation.new.value:
                fates[(version.number, cmoc.id + "#origin")] = "new"
            elif lineage and lineage.relation == m.Relation.not_known.value and \
                    not lineage.from_:
                fates[(version.number, cmoc.id + "#origin")] = "unknown"
        for drop in version.dropped:
            fates[(version.number - 1, drop.cmoc)] = "dropped"
        for inc in version.incorporated:
            fates[(version.number - 1, inc.cmoc)] = "incorporated"
    last = versions[-1].number if versions else 0
    for version in versions:
        title = label(f"Version {version.number}: {version.stage}", 60)
        b.lines.append(f"  subgraph v{version.number}[{title}]")
        b.lines.append("    direction TB")
        for cmoc in version.cmocs:
            b.count += 1
            nid = f"n{b.count}"
            ids[(version.number, cmoc.id)] = nid
            fate = fates.get((version.number, cmoc.id))
            origin = fates.get((version.number, cmoc.id + "#origin"))
            css = (fate if fate in ("dropped", "incorporated") else
                   "faded" if fate is None and version.number != last else
                   origin if origin else "cmoc")
            prefix = {"dropped": "✕ dropped: ", "incorporated": "incorporated: ",
                      "new": "new: ", "unknown": "? origin not known: ",
                      "faded": "? fate not known: "}.get(css, "")
            name = cmoc.title or cmoc.label or cmoc.id
            b.lines.append(f"    {nid}[{label(prefix + name, 24)}]:::{css}")
            if cmoc.id in link_of:
                b.links[nid] = link_of[cmoc.id]
        b.lines.append("  end")
    if len(versions) > 1:  # invisible links keep the version columns in order
        b.lines.append("  " + " ~~~ ".join(f"v{v.number}" for v in versions))
    for version in versions:
        for cmoc in version.cmocs:
            lineage = lineage_of(version, cmoc)
            if not lineage:
                continue
            target = ids[(version.number, cmoc.id)]
            for src in lineage.from_:
                source = ids.get((version.number - 1, src))
                if source:
                    b.lines.append(f"  {source} {EDGES.get(lineage.relation, '-->')} {target}")
        for inc in version.incorporated:  # one previous CMOC folded into several
            source = ids.get((version.number - 1, inc.cmoc))
            for into in inc.into:
                if source and (version.number, into) in ids:
                    b.lines.append(f"  {source} {EDGES['incorporated']} "
                                   f"{ids[(version.number, into)]}")
    b.lines += [
        "  classDef cmoc fill:#e8f0fe,stroke:#3367d6,color:#1a1a1a",
        "  classDef new fill:#e6f4ea,stroke:#188038,color:#1a1a1a,stroke-width:3px",
        "  classDef dropped fill:#fce8e6,stroke:#c5221f,color:#1a1a1a,stroke-dasharray:5 3",
        "  classDef incorporated fill:#e8f0fe,stroke:#3367d6,color:#1a1a1a,stroke-dasharray:5 3",
        "  classDef faded fill:#f1f3f4,stroke:#5f6368,color:#1a1a1a,stroke-dasharray:2 2",
        "  classDef unknown fill:#fef7e0,stroke:#b06000,color:#1a1a1a,stroke-dasharray:2 2",
    ]
    return Diagram("\n".join(b.lines), b.links)
