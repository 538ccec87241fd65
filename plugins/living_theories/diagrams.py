"""Mermaid flowcharts of CMOCs in the realist grammar: M(resource) + C -> M(reasoning) = O.

A CMOC is drawn as its contexts and mechanism resources converging on the mechanism
reasoning, which generates the outcome: never as a line C -> M -> O (a logic model, which
says the context causes the resource). An element the source does not state is a dashed
"not stated" node, never silently left out. A sign is drawn as the label the study prints
beside the text, "(M−) text", and as a border, never as a rewording of the text.

Labels carry their full text on one line: Mermaid wraps them (once), nothing is cut. Colours
are not written into the diagram: each node gets a class (its kind, and its sign or
'none'), and the site's stylesheet colours the classes for the light and the dark palette,
the legend beside each diagram included (`legend_html`).

Node ids are generated, never taken from text (`end` as an id breaks Mermaid), and every label
is quoted and entity-encoded, so no text from YAML can break or inject into a diagram. Links
are not written into the diagram (Mermaid's `click` needs its unsafe 'loose' mode): the page
script attaches them to nodes by id from the `links` map.
"""

from __future__ import annotations

import html
import itertools
import re
import textwrap
from collections.abc import Callable, Mapping
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


def _plain(text: str) -> str:
    return " ".join(_MARKDOWN_CITE.sub(lambda mt: "", text).split()) or "(no text)"


def _escape(text: str) -> str:
    return "".join(_ENTITIES.get(ch, ch) for ch in text)


@lru_cache(maxsize=1 << 15)
def label(text: str) -> str:
    """Text as a safe, quoted Mermaid label: the whole text, on one line (Mermaid wraps it)."""
    # (cached: a CMOC's elements are drawn on its page and on each version page with it)
    return '"' + _escape(_plain(text)) + '"'


def title(text: str) -> str:
    """A box's title as a safe label, broken into lines here: Mermaid wraps node text but
    not box titles (a long title would widen its box beyond a phone's screen)."""
    return '"' + "<br>".join(_escape(line) for line in textwrap.wrap(_plain(text), 40)) + '"'


# (class, Mermaid shape) for the four kinds of element, in the order of m.ELEMENTS.
# (An outcome is a rounded box, not a parallelogram: Mermaid slants a parallelogram by its
# height, so a long outcome became twice as wide as its text.)
_KINDS = (("ctx", ("[", "]")), ("res", ("([", "])")), ("rea", ("{{", "}}")),
          ("out", ("(", ")")))
_SHAPE = dict(_KINDS)
_SIGN_CSS = {"positive": "plus", "negative": "minus"}
_NOT_STATED = {"ctx": "Context not stated", "res": "Mechanism (resource) not stated",
               "rea": "Mechanism (reasoning) not stated", "out": "Outcome not stated"}


@dataclass
class Diagram:
    source: str
    links: dict[str, str] = field(default_factory=dict)  # node id -> page path (.md)
    # What the legend beside the diagram explains (keys of LEGEND), in drawing order.
    keys: list[str] = field(default_factory=list)
    # Direction on a narrow screen ('TB': the page script lays the CMOC out top-down there
    # rather than shrink it); None keeps the layout (the lineage: versions stay columns).
    narrow: str | None = "TB"


class _Builder:
    def __init__(self, direction: str = "LR") -> None:
        self.lines = [f"flowchart {direction}"]
        self.links: dict[str, str] = {}
        self.keys: list[str] = []
        self.count = 0

    def key(self, *keys: str) -> None:
        self.keys += [k for k in keys if k not in self.keys]

    def node(self, kind: str, text: str, css: str, link: str | None = None,
             indent: str = "  ") -> str:
        self.count += 1
        nid = f"n{self.count}"
        open_, close = _SHAPE[kind]
        self.lines.append(f"{indent}{nid}{open_}{label(text)}{close}:::{css}")
        if link:
            self.links[nid] = link
        return nid

    def cmoc(self, cmoc: m.CMOC, link: str | None, indent: str = "  ") -> bool:
        """Draws one CMOC; False (nothing drawn) if it states no element at all."""
        if not any(getattr(cmoc, attr) for attr, _, _ in m.ELEMENTS):
            return False
        nodes: dict[str, list[str]] = {}
        for (attr, letter, _), (kind, _) in zip(m.ELEMENTS, _KINDS, strict=True):
            self.key(kind)
            nodes[kind] = []
            for text, sign in cmoc.signed(attr):
                lab = m.sign_label(letter, sign)
                css = kind + _SIGN_CSS.get(sign or "", "")
                if sign:
                    self.key(_SIGN_CSS[sign])
                nodes[kind].append(self.node(kind, f"({lab}) {text}" if lab else text, css,
                                             link, indent))
            if not nodes[kind]:  # shown, so that a reader sees what the source leaves out
                self.key("none")
                nodes[kind].append(self.node(kind, _NOT_STATED[kind], kind + "none", link,
                                             indent))
        # Context and resource converge on the reasoning, which generates the outcome.
        for reasoning in nodes["rea"]:
            for source in nodes["ctx"] + nodes["res"]:
                self.lines.append(f"{indent}{source} --> {reasoning}")
            for outcome in nodes["out"]:
                self.lines.append(f"{indent}{reasoning} --> {outcome}")
        return True

    def finish(self, narrow: str | None = "TB") -> Diagram:
        return Diagram("\n".join(self.lines), self.links, self.keys, narrow)


def cmoc_diagram(cmoc: m.CMOC) -> Diagram | None:
    """One CMOC in the realist grammar; None for a CMOC told only in words (its page shows
    the narrative: a diagram would only repeat it, or show four 'not stated' boxes)."""
    builder = _Builder()
    return builder.finish() if builder.cmoc(cmoc, None) else None


def _name(cmoc: m.CMOC) -> str:
    return cmoc.title or cmoc.label or cmoc.id


def theory_diagram(version: m.Version, link_of: dict[str, str],
                   contexts: Mapping[str, str] | None = None,
                   name: Callable[[m.CMOC], str] = _name) -> Diagram:
    """The whole theory, as the programme theory figures of the papers draw it: each CMOC in
    a box (its chain C + M-res -> M-rea -> O), the study's themes as boxes around their
    CMOCs, the overarching contexts around those they bear on, and the chains between CMOCs
    ('leads to'). Nodes link to the CMOC pages.

    `contexts` gives the titles of the overarching contexts that may be drawn (public ones);
    `name` names a CMOC as the pages do (never by a placeholder title).
    """
    b = _Builder("TB")  # one row per CMOC, stacked in order
    contexts = contexts or {}
    themes = {t.id: t for t in version.themes}
    drawn = [c for _, cmocs in version.by_theme() for c in cmocs]  # theme by theme
    group = {cmoc.id: f"g{i}" for i, cmoc in enumerate(drawn, start=1)}
    # CMOCs under the same overarching contexts share one surrounding box, in CMOC order.
    bands: dict[tuple[str, ...], list[m.CMOC]] = {}
    for cmoc in drawn:
        bands.setdefault(tuple(c for c in cmoc.overarching_contexts if c in contexts),
                         []).append(cmoc)
    boxes = 0
    for around, cmocs in bands.items():
        indent = "  "
        if around:
            b.key("overarching")
            boxes += 1
            heading = "Overarching contexts: " + "; ".join(contexts[c] for c in around)
            b.lines.append(f"  subgraph oc{boxes}[{title(heading)}]")
            b.lines.append("    direction TB")
            indent = "    "
        for theme_id, members in itertools.groupby(
                cmocs, key=lambda c: c.theme if c.theme in themes else None):
            inner = indent
            if theme_id:
                b.key("theme")
                boxes += 1
                b.lines.append(f"{indent}subgraph th{boxes}"
                               f"[{title('Theme: ' + themes[theme_id].title)}]")
                b.lines.append(f"{indent}  direction TB")
                inner = indent + "  "
            for cmoc in members:
                b.lines.append(f"{inner}subgraph {group[cmoc.id]}[{title(name(cmoc))}]")
                b.lines.append(f"{inner}  direction LR")
                link = link_of.get(cmoc.id)
                if not b.cmoc(cmoc, link, inner + "  "):  # told in words, or not printed
                    b.key("narrative")
                    text = cmoc.narrative or ("The source does not print this CMOC's text"
                                              if cmoc.title or cmoc.label else cmoc.id)
                    b.node("ctx", text, "narrative", link, inner + "  ")
                b.lines.append(f"{inner}end")
            if theme_id:
                b.lines.append(f"{indent}end")
                b.lines.append(f"{indent}class th{boxes} theme")
        if around:
            b.lines.append("  end")
    if len(drawn) > 1:  # invisible links keep the boxes stacked in order
        b.lines.append("  " + " ~~~ ".join(group[c.id] for c in drawn))
    for cmoc in drawn:  # chains: this CMOC's outcome feeds the next one
        for target in cmoc.leads_to:
            if target in group:
                b.key("chain")
                b.lines.append(f"  {group[cmoc.id]} -->|leads to| {group[target]}")
    return b.finish()


EDGES = {"kept": "-->|kept|", "refined": "-->|refined|", "merged": "==>|merged|",
         "split": "-->|split|", "not-known": "-.->|not known|",
         "incorporated": "-.->|incorporated into|"}


def lineage_diagram(versions: list[m.Version], lineage_of: Callable[..., m.Lineage | None],
                    link_of: dict[str, str], name: Callable[[m.CMOC], str] = _name) -> Diagram:
    """Every CMOC of every version, a column per version (CMOCs one below another, so that
    a version of 20 CMOCs is a tall column to scroll, never a strip shrunk to fit), joined by
    their lineage.

    `lineage_of(version, cmoc)` gives the effective lineage (see graph.TheoryGraph.lineage).
    Relations are told apart by edge labels and line styles, not by colour alone.
    """
    b = _Builder("LR")
    b.key("lineage")
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
        # No 'direction' in the box: Mermaid would lay out a box of unlinked CMOCs across
        # the page. The flowchart's own LR makes each version a column.
        b.lines.append(f"  subgraph v{version.number}"
                       f"[{title(f'Version {version.number}: {version.stage}')}]")
        for cmoc in version.cmocs:
            b.count += 1
            nid = f"n{b.count}"
            ids[(version.number, cmoc.id)] = nid
            fate = fates.get((version.number, cmoc.id))
            origin = fates.get((version.number, cmoc.id + "#origin"))
            css = (fate if fate in ("dropped", "incorporated") else
                   "faded" if fate is None and version.number != last else
                   origin if origin else "cmoc")
            b.key(css)
            prefix = {"dropped": "✕ dropped: ", "incorporated": "incorporated: ",
                      "new": "new: ", "unknown": "? origin not known: ",
                      "faded": "? fate not known: "}.get(css, "")
            b.lines.append(f"    {nid}[{label(prefix + name(cmoc))}]:::{css}")
            if cmoc.id in link_of:
                b.links[nid] = link_of[cmoc.id]
        b.lines.append("  end")
    linked: set[str] = set()
    edges: list[str] = []
    for version in versions:
        for cmoc in version.cmocs:
            lineage = lineage_of(version, cmoc)
            if not lineage:
                continue
            target = ids[(version.number, cmoc.id)]
            for src in lineage.from_:
                source = ids.get((version.number - 1, src))
                if source:
                    edges.append(f"  {source} {EDGES.get(lineage.relation, '-->')} {target}")
                    linked.add(target)
        for inc in version.incorporated:  # one previous CMOC folded into several
            source = ids.get((version.number - 1, inc.cmoc))
            for into in inc.into:
                if source and (version.number, into) in ids:
                    edges.append(f"  {source} {EDGES['incorporated']} "
                                 f"{ids[(version.number, into)]}")
                    linked.add(ids[(version.number, into)])
    b.key(*(kind for kind, edge in EDGES.items() if any(edge in e for e in edges)))
    # Invisible links from the previous column put every CMOC without a drawn origin in its
    # own version's column (Mermaid would otherwise put it in the first one).
    for previous, version in zip(versions, versions[1:], strict=False):
        anchor = next((ids[(previous.number, c.id)] for c in previous.cmocs), None)
        for cmoc in version.cmocs:
            nid = ids[(version.number, cmoc.id)]
            if anchor and nid not in linked:
                edges.append(f"  {anchor} ~~~ {nid}")
    b.lines += edges
    return b.finish(narrow=None)


# --- The legend beside a diagram (HTML, not Mermaid: readable, searchable, translatable) ---

# Swatches are tiny SVGs with the node's shape and class, coloured by the same stylesheet.
_SWATCH = {
    "rect": '<rect x="1" y="2" width="30" height="14" rx="1"/>',
    "stadium": '<rect x="1" y="2" width="30" height="14" rx="7"/>',
    "hexagon": '<polygon points="6,2 26,2 31,9 26,16 6,16 1,9"/>',
    "rounded": '<rect x="1" y="2" width="30" height="14" rx="4"/>',
    "arrow": '<line x1="1" y1="9" x2="24" y2="9"/><polygon points="24,4 31,9 24,14"/>',
    "dotted": '<line x1="1" y1="9" x2="24" y2="9" stroke-dasharray="3 3"/>'
              '<polygon points="24,4 31,9 24,14"/>',
    "thick": '<line x1="1" y1="9" x2="24" y2="9" stroke-width="4"/>'
             '<polygon points="24,3 31,9 24,15"/>',
    "box": '<rect x="1" y="1" width="30" height="16" rx="2"/>',
}

# key -> (swatch shape, CSS class of the swatch, what it means)
LEGEND: dict[str, tuple[str, str, str]] = {
    "ctx": ("rect", "ctx", "C: context"),
    "res": ("stadium", "res", "M (resource): what the programme offers or does"),
    "rea": ("hexagon", "rea", "M (reasoning): how people respond to it"),
    "out": ("rounded", "out", "O: outcome"),
    "plus": ("rect", "ctxplus", "Thick green border: the study prints + (C+, M+, O+)"),
    "minus": ("rect", "ctxminus", "Thick red border: the study prints − (C−, M−, O−)"),
    "none": ("rect", "ctxnone", "Dashed: not stated in the source"),
    "narrative": ("rect", "narrative", "A CMOC without elements: its narrative, or that the "
                  "source does not print it"),
    "chain": ("arrow", "edge", "leads to: this CMOC's outcome feeds the next CMOC"),
    "overarching": ("box", "cluster", "Overarching contexts around the CMOCs they bear on"),
    "theme": ("box", "theme", "Theme: a theme of the study, around its CMOCs"),
    "lineage": ("box", "cluster", "A column per version; arrows from each CMOC's "
                "predecessor"),
    "cmoc": ("rect", "cmoc", "A CMOC"),
    "new": ("rect", "new", "new: emerged from the data"),
    "dropped": ("rect", "dropped", "✕ dropped, with a reason"),
    "incorporated": ("rect", "incorporated", "incorporated: folded into other CMOCs"),
    "faded": ("rect", "faded", "? fate not known: the record does not say what it became"),
    "unknown": ("rect", "unknown", "? origin not known: the record does not say"),
    "kept": ("arrow", "edge", "kept"),
    "refined": ("arrow", "edge", "refined: wording changed"),
    "merged": ("thick", "edge", "merged (thick): from several CMOCs"),
    "split": ("arrow", "edge", "split: one CMOC became several"),
    "not-known": ("dotted", "edge", "not known (dotted): the record does not say how"),
}

_GRAMMAR = ("Follow the arrows: the context (C) and the mechanism resource converge on the "
            "mechanism reasoning, which generates the outcome (O): "
            "M (resource) + C → M (reasoning) = O.")


def legend_html(d: Diagram) -> str:
    """The legend beside a diagram: only what the diagram draws."""
    items = []
    for key in sorted(d.keys, key=list(LEGEND).index):
        shape, css, text = LEGEND[key]
        items.append(f'<li><svg class="lt-swatch lt-swatch--{css}" viewBox="0 0 32 18" '
                     f'width="32" height="18" aria-hidden="true">{_SWATCH[shape]}</svg> '
                     f"{html.escape(text)}</li>")
    grammar = f"<p>{html.escape(_GRAMMAR)}</p>" if "rea" in d.keys else ""
    return (f'<div class="lt-legend" role="note" aria-label="Legend">{grammar}'
            f'<ul>{"".join(items)}</ul></div>')
