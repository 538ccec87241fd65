"""How a theory changed: word-level diffs between versions, CMOC by CMOC, and its lineage.

Pure functions over the theory graph, used by the history and compare pages, by the lineage
diagram, and by `living-theories diff`.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from functools import lru_cache

from . import models as m
from .graph import TheoryGraph

# Words (with inner apostrophes and hyphens) and single punctuation marks, each with the
# spaces after it: few tokens keep the diff fast on long narratives.
# A sign label, "(M−)", is one token: a changed sign reads as one changed label.
_TOKENS = re.compile(r"\([CMO][+−]\)\s*|[\w'’-]+\s*|[^\w\s]\s*|\s+")
Segment = tuple[str, str]  # ("equal" | "insert" | "delete", text)


def word_diff(old: str, new: str) -> list[Segment]:
    """The words of `new` against `old`: equal runs, insertions and deletions, in order."""
    if old == new:
        return [("equal", new)] if new else []
    return list(_word_diff(old, new))


@lru_cache(maxsize=1 << 14)
def _word_diff(old: str, new: str) -> tuple[Segment, ...]:
    # The same texts are compared for the history, compare and round pages, and twice for a
    # CMOC whose relation is worked out from its wording.
    a, b = _TOKENS.findall(old or ""), _TOKENS.findall(new or "")
    # Compare words without the spaces after them: the last word of a text has none, so
    # "decisions" and "decisions " (followed by more words) must still match.
    matcher = difflib.SequenceMatcher(None, [t.rstrip() for t in a], [t.rstrip() for t in b],
                                      autojunk=False)
    out: list[Segment] = []

    def add(op: str, text: str) -> None:
        if not text:
            return
        if out and out[-1][0] == op:
            out[-1] = (op, out[-1][1] + text)
        else:
            out.append((op, text))

    opcodes = matcher.get_opcodes()
    for n, (op, i1, i2, j1, j2) in enumerate(opcodes):
        if op == "equal":
            text = "".join(b[j1:j2])
            if n + 1 < len(opcodes) and opcodes[n + 1][0] == "delete":
                # "A B" -> "A": keep the space the old text had before the deleted words
                text = text.rstrip() + a[i2 - 1][len(a[i2 - 1].rstrip()):]
            add("equal", text)
            continue
        if op in ("delete", "replace"):
            deleted = "".join(a[i1:i2])
            if op == "replace" and re.match(r"\w", deleted[-1:]) and re.match(r"\w", b[j1]):
                deleted += " "  # "clear" then "shared" at a text's end must not run together
            add("delete", deleted)
        if op in ("insert", "replace"):
            add("insert", "".join(b[j1:j2]))
    return tuple(out)


def changed(segments: list[Segment]) -> bool:
    return any(op != "equal" for op, _ in segments)


@dataclass
class ElementDiff:
    name: str
    segments: list[Segment]

    @property
    def changed(self) -> bool:
        return changed(self.segments)


@dataclass
class CmocDiff:
    id: str
    old: m.CMOC | None
    new: m.CMOC | None
    # kept / refined / merged / split / new / not-known / dropped / incorporated / removed
    relation: str
    sources: list[str] = field(default_factory=list)  # predecessor ids (lineage `from`)
    reason: str | None = None
    evidence: list[str] = field(default_factory=list)
    elements: list[ElementDiff] = field(default_factory=list)
    into: list[str] = field(default_factory=list)  # incorporated: this version's CMOCs
    # The record of the change (lineage, drop, incorporation), which may give its reasoning.
    reasoning: m.Reasoning | None = None

    @property
    def changed(self) -> bool:
        return any(e.changed for e in self.elements) or self.relation not in ("kept",)

    @property
    def changed_elements(self) -> list[ElementDiff]:
        return [e for e in self.elements if e.changed]


@dataclass
class VersionDiff:
    theory: m.Theory
    old: m.Version
    new: m.Version
    statement: list[Segment]
    cmocs: list[CmocDiff]
    consecutive: bool

    @property
    def changes(self) -> list[m.Change]:
        return self.new.changes if self.consecutive else []


def _text(cmoc: m.CMOC | None, attr: str) -> str:
    # An element's sign label is part of what is compared: M+ -> M− is a change of meaning.
    if cmoc is None:
        return ""
    return "; ".join(f"({label}) {text}" if label else text
                     for text, label in cmoc.labelled(attr))


def _elements(old: m.CMOC | None, new: m.CMOC | None) -> list[ElementDiff]:
    out = [ElementDiff("Narrative", word_diff(old.narrative or "" if old else "",
                                              new.narrative or "" if new else ""))]
    out += [ElementDiff(name, word_diff(_text(old, attr), _text(new, attr)))
            for attr, _, name in m.ELEMENTS]
    return out


def diff_versions(graph: TheoryGraph, theory: m.Theory, old: m.Version,
                  new: m.Version) -> VersionDiff:
    """What changed from `old` to `new` (any two versions of one theory)."""
    # Pages show the same diff in several places (history, compare, consultation rounds).
    key = ("diff", theory.id, old.number, new.number)
    if key not in graph.memo:
        graph.memo[key] = _diff_versions(graph, theory, old, new)
    return graph.memo[key]


def _diff_versions(graph: TheoryGraph, theory: m.Theory, old: m.Version,
                   new: m.Version) -> VersionDiff:
    consecutive = new.number == old.number + 1
    old_cmocs = {c.id: c for c in old.cmocs}
    new_ids = {c.id for c in new.cmocs}
    diffs: list[CmocDiff] = []
    accounted: set[str] = set()
    for cmoc in new.cmocs:
        previous = old_cmocs.get(cmoc.id)
        if consecutive:
            lineage = graph.lineage(new, cmoc) or m.Lineage(relation=m.Relation.new)
            sources = list(lineage.from_)
            relation = lineage.relation
            if relation == m.Relation.kept.value and previous is not None and any(
                    e.changed for e in _elements(previous, cmoc)):
                relation = m.Relation.refined.value  # "kept" but the wording differs
            reason, evidence = lineage.reason, list(lineage.evidence)
            reasoning: m.Reasoning | None = lineage
        else:
            sources = [cmoc.id] if previous else []
            relation = (m.Relation.new.value if previous is None else
                        m.Relation.kept.value if not any(
                            e.changed for e in _elements(previous, cmoc))
                        else m.Relation.refined.value)
            reason, evidence, reasoning = None, [], None
        accounted.update(sources)
        base = previous or (old_cmocs.get(sources[0]) if len(sources) == 1 else None)
        diffs.append(CmocDiff(cmoc.id, base, cmoc, relation, sources, reason, evidence,
                              _elements(base, cmoc), reasoning=reasoning))
    dropped = {d.cmoc: d for d in new.dropped} if consecutive else {}
    incorporated = {i.cmoc: i for i in new.incorporated} if consecutive else {}
    for cmoc in old.cmocs:
        if cmoc.id in new_ids or cmoc.id in accounted:
            continue
        fate = dropped.get(cmoc.id) or incorporated.get(cmoc.id)
        relation = ("removed" if not consecutive else "fate-not-known" if fate is None else
                    "dropped" if cmoc.id in dropped else "incorporated")
        diffs.append(CmocDiff(cmoc.id, cmoc, None, relation, [],
                              fate.reason if fate else None, list(fate.evidence) if fate else [],
                              _elements(cmoc, None),
                              into=list(getattr(fate, "into", [])), reasoning=fate))
    return VersionDiff(theory, old, new, word_diff(old.statement or "", new.statement or ""),
                       diffs, consecutive)


# --- In a terminal -------------------------------------------------------------------------


def format_terminal(diff: VersionDiff, colour: bool) -> str:
    """The diff as text: [-deleted-] {+inserted+}, or red/green when `colour`."""

    def seg(segments: list[Segment]) -> str:
        out = []
        for op, text in segments:
            if op == "equal":
                out.append(text)
            elif colour:
                code = "31;9" if op == "delete" else "32"
                out.append(f"\x1b[{code}m{text.rstrip()}\x1b[0m" + text[len(text.rstrip()):])
            else:
                mark = ("[-", "-]") if op == "delete" else ("{+", "+}")
                out.append(f"{mark[0]}{text.rstrip()}{mark[1]}" + text[len(text.rstrip()):])
        return "".join(out).rstrip()

    bold = (lambda s: f"\x1b[1m{s}\x1b[0m") if colour else (lambda s: s)
    lines = [bold(f"{diff.theory.title}: version {diff.old.number} ({diff.old.stage}) -> "
                  f"version {diff.new.number} ({diff.new.stage})"), ""]
    if changed(diff.statement):
        lines += [bold("Statement"), "  " + seg(diff.statement), ""]
    for c in diff.cmocs:
        name = (c.new or c.old).label or (c.new or c.old).title or c.id  # type: ignore[union-attr]
        head = f"CMOC {c.id} ({name}): {c.relation}"
        if c.sources and c.sources != [c.id]:
            head += " from " + ", ".join(c.sources)
        if c.into:
            head += " into " + ", ".join(c.into)
        lines.append(bold(head))
        if c.reason:
            lines.append("  Why: " + " ".join(c.reason.split()))
        lines += _reasoning_lines(c.reasoning)
        moved = confidence_moved(c.old, c.new)
        if moved:
            lines.append("  Confidence: " + moved)
        for element in c.elements:
            if element.changed:
                lines.append(f"  {element.name}: {seg(element.segments)}")
        lines.append("")
    for change in diff.changes:
        lines.append(bold("Change: ") + " ".join(change.summary.split()))
        if change.reason:
            lines.append("  Why: " + " ".join(change.reason.split()))
        lines += _reasoning_lines(change)
    return "\n".join(lines).rstrip() + "\n"


def _reasoning_lines(record: m.Reasoning | None) -> list[str]:
    if record is None:
        return []
    out = [f"  Inference: {record.inference}"] if record.inference else []
    for rival in record.rivals:
        out.append("  Rival explanation: " + " ".join(rival.explanation.split()))
        out.append("    Set aside: " + " ".join(rival.set_aside.split())
                   + (f" (evidence: {', '.join(rival.evidence)})" if rival.evidence else ""))
    if record.overturn:
        out.append("  What would overturn it: " + " ".join(record.overturn.split()))
    return out


def confidence_moved(old: m.CMOC | None, new: m.CMOC | None) -> str:
    """'low -> moderate', 'moderate (unchanged)', 'not stated -> high', or '' when neither
    version rates the CMOC."""
    was = old.confidence.level if old and old.confidence else None
    now = new.confidence.level if new and new.confidence else None
    if was is None and now is None:
        return ""
    if was == now:
        return f"{now} (unchanged)"
    return f"{was or 'not stated'} -> {now or 'not stated'}"


def confidence_step(levels: tuple[str, ...], was: str | None, now: str | None) -> str | None:
    """How confidence moved on the scale (lowest first): 'up', 'down', 'same', or None when
    either level is not stated or not on the scale."""
    if was not in levels or now not in levels:
        return None
    a, b = levels.index(was), levels.index(now)  # type: ignore[arg-type]
    return "up" if b > a else "down" if b < a else "same"
