"""What each diagram draws: the realist grammar, M(resource) + C -> M(reasoning) = O.

Context and mechanism resource converge on the mechanism reasoning, which generates the
outcome; a missing element is a visible 'not stated' node; signs are labels and classes;
several contexts or outcomes each get their node; chains join CMOC boxes; overarching contexts
surround the CMOCs they bear on; the lineage puts each version in a column; the legend tells
what the diagram draws.
"""

from __future__ import annotations

import re

from living_theories import models as m
from living_theories.diagrams import cmoc_diagram, legend_html, lineage_diagram, theory_diagram

MINUS = "\u2212"
UNESCAPE = {"#40;": "(", "#41;": ")", "#59;": ";", "#35;": "#"}


def parse(source: str) -> tuple[dict[str, tuple[str, str]], set[tuple[str, str]]]:
    """Nodes {id: (text, class)} and visible edges {(from text, to text)} of a diagram."""
    nodes = {}
    for nid, text, css in re.findall(r'^\s*(n\d+)\W+"([^"]*)"\W*:::(\w+)$', source, re.M):
        for code, ch in UNESCAPE.items():
            text = text.replace(code, ch)
        nodes[nid] = (text, css)
    edges = {(nodes[a][0], nodes[b][0]) for a, b in
             re.findall(r"^\s*(n\d+) --> (n\d+)$", source, re.M)}
    return nodes, edges


def cmoc(**fields) -> m.CMOC:
    return m.CMOC.model_validate({"id": "c1", **fields})


def test_context_and_resource_converge_on_the_reasoning_which_generates_the_outcome():
    d = cmoc_diagram(cmoc(contexts=["C1"], mechanism_resources=["R1"],
                          mechanism_reasonings=["M1"], outcomes=["O1"]))
    nodes, edges = parse(d.source)
    assert sorted(nodes.values()) == [("C1", "ctx"), ("M1", "rea"), ("O1", "out"), ("R1", "res")]
    assert edges == {("C1", "M1"), ("R1", "M1"), ("M1", "O1")}
    assert ("C1", "R1") not in edges  # not a logic model: the context does not cause the resource


def test_a_missing_element_is_a_not_stated_node():
    # the bundled site's "Acute-sector stability" states no reasoning: once drawn M-res -> O
    d = cmoc_diagram(cmoc(contexts=["Risks of acute stability"],
                          mechanism_resources=["Funding flows"], outcomes=["Limited planning"]))
    nodes, edges = parse(d.source)
    assert ("Mechanism (reasoning) not stated", "reanone") in nodes.values()
    assert edges == {("Risks of acute stability", "Mechanism (reasoning) not stated"),
                     ("Funding flows", "Mechanism (reasoning) not stated"),
                     ("Mechanism (reasoning) not stated", "Limited planning")}
    assert "none" in d.keys and "Dashed: not stated in the source" in legend_html(d)


def test_every_missing_element_is_shown():
    nodes, edges = parse(cmoc_diagram(cmoc(outcomes=["O1"])).source)
    assert {css for _, css in nodes.values()} == {"ctxnone", "resnone", "reanone", "out"}
    assert len(edges) == 3


def test_several_contexts_and_outcomes_each_get_a_node():
    d = cmoc_diagram(cmoc(contexts=["C1", "C2"], mechanism_resources=["R1"],
                          mechanism_reasonings=["M1"], outcomes=["O1", "O2"]))
    _, edges = parse(d.source)
    assert edges == {("C1", "M1"), ("C2", "M1"), ("R1", "M1"), ("M1", "O1"), ("M1", "O2")}


def test_signs_are_labels_and_classes():
    d = cmoc_diagram(cmoc(
        contexts=[{"text": "Top-down habits", "sign": "negative"}],
        mechanism_resources=[{"text": "Asks for suggestions", "sign": "positive"}],
        mechanism_reasonings=["Overrides them"], outcomes=["Upsets the team"],
        outcome="negative"))
    nodes, _ = parse(d.source)
    assert sorted(nodes.values()) == sorted([
        (f"(C{MINUS}) Top-down habits", "ctxminus"), ("(M+) Asks for suggestions", "resplus"),
        ("Overrides them", "rea"), (f"(O{MINUS}) Upsets the team", "outminus")])
    legend = legend_html(d)
    assert "the study prints +" in legend and "the study prints −" in legend


def test_long_labels_are_whole_and_wrapped_only_by_mermaid():
    text = " ".join(["word"] * 60)  # 299 characters
    nodes, _ = parse(cmoc_diagram(cmoc(contexts=[text], outcomes=["O"])).source)
    assert (text, "ctx") in nodes.values()  # not cut, no <br> of ours: Mermaid wraps it


def test_a_cmoc_told_in_words_has_no_diagram_of_its_own():
    assert cmoc_diagram(cmoc(title="Recognition", narrative="A hub signals care.")) is None


def version(cmocs: list[dict], **fields) -> m.Version:
    v = m.Version.model_validate({"stage": "final", "cmocs": cmocs, **fields})
    return v


def test_theory_view_boxes_chains_and_overarching_contexts():
    v = version([
        {"id": "a", "title": "First", "contexts": ["C"], "mechanism_resources": ["R"],
         "mechanism_reasonings": ["M"], "outcomes": ["O"], "leads_to": ["b"],
         "overarching_contexts": ["covid"]},
        {"id": "b", "title": "Second", "narrative": "Staff stay.",
         "overarching_contexts": ["covid"]},
        {"id": "c", "title": "Third", "outcomes": ["O3"]},
    ])
    d = theory_diagram(v, {"a": "cmocs/a.md"}, {"covid": "Post-pandemic legacy"})
    src = d.source
    groups = {k: t.replace("<br>", " ")  # a box's title is broken into lines by us
              for k, t in re.findall(r'subgraph (\w+)\["([^"]+)"\]', src)}
    assert groups == {"oc1": "Overarching contexts: Post-pandemic legacy", "g1": "First",
                      "g2": "Second", "g3": "Third"}
    # the overarching contexts surround the two CMOCs they bear on, not the third
    around = src[src.index("subgraph oc1"):src.index("subgraph g3")]
    assert "subgraph g1" in around and "subgraph g2" in around
    assert re.findall(r"(g\d+) -->\|leads to\| (g\d+)", src) == [("g1", "g2")]
    nodes, edges = parse(src)
    assert ("Staff stay.", "narrative") in nodes.values()  # told in words: its narrative
    assert ("C", "M") in edges and ("R", "M") in edges and ("M", "O") in edges
    assert {"overarching", "chain", "narrative", "none"} <= set(d.keys)
    assert set(d.links.values()) == {"cmocs/a.md"}


def test_themes_are_boxes_around_their_cmocs_inside_the_overarching_contexts():
    # as the papers' figures draw them: theme by theme, in the themes' order
    v = version([
        {"id": "a", "title": "First", "outcomes": ["O1"], "theme": "later",
         "overarching_contexts": ["covid"]},
        {"id": "b", "title": "Second", "outcomes": ["O2"], "theme": "sooner",
         "overarching_contexts": ["covid"]},
        {"id": "c", "title": "Third", "outcomes": ["O3"]},
    ], themes=[{"id": "sooner", "title": "Feeling valued"},
               {"id": "later", "title": "Space to recover"}])
    d = theory_diagram(v, {}, {"covid": "Post-pandemic legacy"})
    src = d.source
    opened = [(k, t.replace("<br>", " "))
              for k, t in re.findall(r'subgraph (\w+)\["([^"]+)"\]', src)]
    assert opened == [("oc1", "Overarching contexts: Post-pandemic legacy"),
                      ("th2", "Theme: Feeling valued"), ("g1", "Second"),
                      ("th3", "Theme: Space to recover"), ("g2", "First"), ("g3", "Third")]
    # each theme's box closes around its own CMOC, inside the overarching contexts' box
    theme = src[src.index("subgraph th2"):src.index("subgraph th3")]
    assert "subgraph g1" in theme and theme.count("end") == 2
    assert src.index("subgraph th3") < src.index("subgraph g3") and \
        src.index("class th3 theme") < src.index("subgraph g3")
    assert re.findall(r"class (th\d+) theme", src) == ["th2", "th3"]
    assert "theme" in d.keys and "Theme: a theme of the study" in legend_html(d)


def test_a_cmoc_without_printed_text_does_not_repeat_its_title():
    v = version([{"id": "a", "title": "Being: initial CMOC (a) of two"}])
    nodes, _ = parse(theory_diagram(v, {}).source)
    assert [text for text, _ in nodes.values()] == ["The source does not print this CMOC's text"]


def test_lineage_puts_each_version_in_a_column():
    v1 = version([{"id": f"c{i}", "title": f"CMOC {i}"} for i in range(20)])
    v2 = version([{"id": f"c{i}", "title": f"CMOC {i}"} for i in range(10)]
                 + [{"id": f"d{i}", "title": f"New {i}", "lineage": {"relation": "new"}}
                    for i in range(10)], stage="refined")
    v1._number, v2._number = 1, 2
    d = lineage_diagram([v1, v2], lambda ver, c: c.lineage or (
        m.Lineage(relation="kept", **{"from": [c.id]}) if ver.number == 2 else None), {})
    assert "direction" not in d.source  # a box with a direction is laid out across the page
    assert d.narrow is None  # versions stay columns on a phone
    kept = re.findall(r"^\s*n\d+ -->\|kept\| n\d+$", d.source, re.M)
    hidden = re.findall(r"^\s*n\d+ ~~~ n\d+$", d.source, re.M)
    assert len(kept) == 10 and len(hidden) == 10  # each new CMOC pinned to its version's column
    assert {"lineage", "new", "faded", "kept"} <= set(d.keys)
