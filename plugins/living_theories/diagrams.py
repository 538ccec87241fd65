"""Mermaid flowcharts of CMOCs: context -> mechanism resource -> mechanism reasoning -> outcome.

Node ids are generated, never taken from text (`end` as an id breaks Mermaid), and every label
is quoted and entity-encoded, so no text from YAML can break or inject into a diagram. Links
are not written into the diagram (Mermaid's `click` needs its unsafe 'loose' mode): the page
script attaches them to nodes by id from the `links` map.
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass, field

from . import models as m

# Mermaid's own entity codes (a numeric code without '&'), applied to every label character
# that could end a label, open markup, or start a directive.
_ENTITIES = {'"': "#quot;", "<": "#lt;", ">": "#gt;", "&": "#amp;", "[": "#91;", "]": "#93;",
             "#": "#35;", "{": "#123;", "}": "#125;", "(": "#40;", ")": "#41;", "|": "#124;",
             "%": "#37;", "`": "#96;", ";": "#59;", "\\": "#92;", "*": "#42;", "_": "#95;",
             "~": "#126;"}
_MARKDOWN_CITE = re.compile(r"\[?-?@\{?([\w:.#$%&\-+?<>~/]+)\}?[^\]]*\]?")


def label(text: str, width: int = 28) -> str:
    """Text as a safe, quoted Mermaid label, wrapped onto short lines."""
    text = " ".join(_MARKDOWN_CITE.sub(lambda mt: "", text).split()) or "(no text)"
    if len(text) > 160:
        text = text[:157].rsplit(" ", 1)[0] + "…"
    lines = textwrap.wrap(text, width) or [text]
    escaped = ["".join(_ENTITIES.get(ch, ch) for ch in line) for line in lines]
    return '"' + "<br>".join(escaped) + '"'


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
        absent = cmoc.mechanism == m.Mechanism.absent.value
        negative = cmoc.outcome == m.Direction.negative.value
        res_css, out_css = ("absent" if absent else "res"), ("neg" if negative else "out")
        arrow = "-.->" if absent else "-->"
        prefix = "No: " if absent else ""
        groups = [
            [self.node("ctx", t, "ctx", link) for t in cmoc.contexts],
            [self.node("res", prefix + t, res_css, link) for t in cmoc.mechanism_resources],
            [self.node("rea", t, "rea", link) for t in cmoc.mechanism_reasonings],
            [self.node("out", ("(−) " if negative else "") + t, out_css, link)
             for t in cmoc.outcomes],
        ]
        groups = [g for g in groups if g]
        if not groups:  # a CMOC known only by its label
            groups = [[self.node("ctx", cmoc.title or cmoc.label or cmoc.id, "unknown", link)]]
        for left, right in zip(groups, groups[1:], strict=False):
            for a in left:
                for b in right:
                    self.lines.append(f"{indent}{a} {arrow} {b}")

    def finish(self) -> Diagram:
        self.lines += [
            "  classDef ctx fill:#e8f0fe,stroke:#3367d6,color:#1a1a1a",
            "  classDef res fill:#e6f4ea,stroke:#188038,color:#1a1a1a",
            "  classDef absent fill:#fce8e6,stroke:#c5221f,color:#1a1a1a,stroke-dasharray:5 3",
            "  classDef rea fill:#fef7e0,stroke:#b06000,color:#1a1a1a",
            "  classDef out fill:#f3e8fd,stroke:#8430ce,color:#1a1a1a",
            "  classDef neg fill:#fce8e6,stroke:#c5221f,color:#1a1a1a,stroke-width:3px",
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
    return builder.finish()
