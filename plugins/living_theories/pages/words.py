"""What readers read for each code in the records: roles, aspects, kinds, modes, lineage
relations."""

from __future__ import annotations

from .. import models as m

ROLE_SYMBOL = {"supports": "✓", "challenges": "✗", "refines": "↻", "informs": "○"}
ASPECT_NAMES = {
    "whole": "The whole CMOC", "C": "Context", "M-res": "Mechanism (resource)",
    "M-rea": "Mechanism (reasoning)", "O": "Outcome", "C-M": "Context → mechanism",
    "M-O": "Mechanism → outcome", "C-O": "Context → outcome",
}
EVIDENCE_KINDS = {
    "interview": "interview extracts", "meeting": "meeting extracts",
    "document": "document extracts", "study": "published studies",
    "feedback": "stakeholder feedback", "other": "other",
}
# One record of a kind ("1 published study", not "1 published studies").
EVIDENCE_KIND_ONE = {
    "interview": "interview extract", "meeting": "meeting extract",
    "document": "document extract", "study": "published study",
    "feedback": "stakeholder feedback", "other": "other",
}


def evidence_kind(kind: str, n: int) -> str:
    """What `n` evidence records of a kind are called: '1 published study', '2 ... studies'."""
    return (EVIDENCE_KIND_ONE if n == 1 else EVIDENCE_KINDS).get(kind, kind)


SOURCE_KINDS = {
    "participant": "Participants", "meeting": "Meetings", "document": "Documents",
    "study": "Included studies", "consultation": "Consultation rounds",
    "panel": "Stakeholder panels", "other": "Other sources",
}
MODES = {
    "interview": "interview", "focus-group": "focus group", "observation": "observation",
    "document": "document", "survey": "survey", "workshop": "workshop", "other": "other",
}
# Kinds of data, for triangulation (pages/triangulation.py): what a record is, or how its
# source's data were collected.
DATA_KINDS = {
    "interview": "interview", "focus-group": "focus group", "observation": "observation",
    "meeting": "meeting", "document": "document", "survey": "survey", "workshop": "workshop",
    "study": "study", "feedback": "feedback", "other": "other",
}
APPRAISAL_LEVEL_NAMES = {"high": "high", "moderate": "moderate", "low": "low"}
# How a mechanism stands to a substantive theory (models.TheoryRelation).
THEORY_RELATIONS = {
    "supports": "Supports", "extends": "Extends", "contradicts": "Contradicts",
    "draws-on": "Draws on",
}
MECHANISM_PARTS = {None: "Mechanism", "resource": "Mechanism (resource)",
                   "reasoning": "Mechanism (reasoning)"}
RELATIONS = {
    "kept": "Kept", "refined": "Refined", "merged": "Merged", "split": "Split",
    "new": "New", "not-known": "Not known", "dropped": "Dropped",
    "fate-not-known": "Fate not known", "removed": "Not in the later version",
    "incorporated": "Incorporated",
}




def source_details(source: m.Source) -> str:
    """What the Sources index says about a source besides its name: role, site, how the
    data were collected, date."""
    mode = MODES.get(source.mode or "", source.mode)
    return " · ".join(str(p) for p in (source.role, source.site, mode, source.date) if p)
