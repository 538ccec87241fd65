"""Sources, and the evidence from them that bears on CMOCs, theories and contexts."""

from __future__ import annotations

from enum import Enum
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, PrivateAttr, model_validator

from .base import BibKey, Id, PartialDate, Record, Strict, Text


class SourceKind(str, Enum):
    participant = "participant"
    meeting = "meeting"
    document = "document"
    study = "study"
    consultation = "consultation"
    panel = "panel"
    other = "other"


class Mode(str, Enum):
    """How the data were collected from a source."""

    interview = "interview"
    focus_group = "focus-group"
    observation = "observation"
    document = "document"
    survey = "survey"
    workshop = "workshop"
    other = "other"


# The words of an appraisal that a CMOC page counts, highest first. A judgement is one of
# them, optionally followed by its justification ('high: set in two ICSs'); any other text
# is shown as written but not counted.
APPRAISAL_LEVELS = ("high", "moderate", "low")


class Appraisal(Strict):
    """A realist appraisal: is the evidence relevant to the theory (does it speak to this
    context, mechanism or outcome), and is it rigorous (is the method trustworthy enough for
    the claim it supports)? Richness, where a team uses it: does it say enough about how and
    why to help build the theory?"""

    relevance: Text | None = Field(None, description="high, moderate or low (counted on the "
                                   "CMOC page), optionally followed by ': why'; or any text.")
    rigour: Text | None = Field(None, description="high, moderate or low (counted on the "
                                "CMOC page), optionally followed by ': why'; or any text.")
    richness: Text | None = Field(None, description="Where a team uses it: high, moderate or "
                                  "low, optionally followed by ': why'; or any text.")
    note: Text | None = Field(None, description="Why it was judged so (Markdown, may cite).")

    def level(self, criterion: str) -> str | None:
        """The level a judgement states ('high', 'moderate', 'low'), or None when it states
        none (free text, or not judged)."""
        return appraisal_level(getattr(self, criterion))


def appraisal_level(value: str | None) -> str | None:
    """'High: two sites' -> 'high'; 'moderate' -> 'moderate'; other text -> None."""
    if not value:
        return None
    first = value.split(":", 1)[0].split(None, 1)[0].strip(" .,;").lower()
    return first if first in APPRAISAL_LEVELS else None


class VersionRef(Strict):
    theory: Id
    version: int = Field(ge=1)


class Question(Strict):
    text: Text
    theory: Id | None = None
    cmoc: Id | None = None


# Sources whose evidence is stakeholder feedback.
FEEDBACK_SOURCES = (SourceKind.consultation.value, SourceKind.panel.value)


class Source(Record):
    """Where evidence comes from: a participant, meeting, document, study, consultation round,
    or a standing stakeholder panel (an advisory group that comments throughout)."""

    kind: SourceKind
    title: str | None = Field(None, description="A readable name, e.g. 'ICB meeting, "
                              "September 2022'.")
    code: str | None = Field(None, description="The code used when citing it, e.g. 'P2/20' "
                             "or 'September 22'.")
    role: str | None = Field(None, description="Participants: a role, never a name, e.g. "
                             "'ICB member'.")
    date: PartialDate | None = None
    site: str | None = Field(None, description="The case or setting it belongs to, e.g. "
                             "'Site A' or 'ICS North' (source ids stay unique across sites).")
    mode: Mode | None = Field(None, description="How the data were collected: interview, "
                              "focus-group, observation, document, survey, workshop or other "
                              "(e.g. a participant who was observed, not interviewed).")
    reference: BibKey | None = Field(None, description="BibTeX key (required for a study).")
    appraisal: Appraisal | None = Field(
        None, description="Studies: relevance, rigour, richness (and a note). Evidence from "
        "the study without an appraisal of its own is counted with this one.")
    groups: list[str] = Field(default_factory=list, description="Consultations and panels: "
                              "stakeholder groups, never names.")
    format: str | None = Field(None, description="Consultations: how the round was held, "
                               "e.g. 'online workshop' or 'Delphi survey'.")
    participants: int | None = Field(None, ge=1, description="Consultations and panels: how "
                                     "many people took part.")
    decisions: Text | None = Field(None, description="Consultations and panels: what the "
                                   "team decided as a result (Markdown, may cite).")
    reviewed: list[VersionRef] = Field(default_factory=list, description="Consultations: "
                                       "the theory versions under review.")
    questions: list[Question] = Field(default_factory=list)
    description: Text | None = None

    @model_validator(mode="after")
    def _kind_fields(self) -> Source:
        if self.kind == SourceKind.study.value and not self.reference:
            raise ValueError("a study needs the key of its paper in references.bib; add a line "
                             "'reference: KEY'")
        if self.kind == SourceKind.participant.value and not self.code:
            raise ValueError("a participant needs an anonymised code; add a line such as "
                             "'code: P2/20'")
        if self.kind not in (SourceKind.participant.value,) and not (self.title or self.code
                                                                   or self.reference):
            raise ValueError("the source has no name; add a line 'title: ...' (or 'code: ...')")
        return self

    @property
    def name(self) -> str:
        return self.title or self.code or self.reference or self.id


class EvidenceKind(str, Enum):
    interview = "interview"
    meeting = "meeting"
    document = "document"
    study = "study"
    feedback = "feedback"
    other = "other"


# What kind of evidence each kind of source gives, when the record does not say.
EVIDENCE_KIND_OF_SOURCE = {
    "participant": "interview",
    "meeting": "meeting",
    "document": "document",
    "study": "study",
    "consultation": "feedback",
    "panel": "feedback",
    "other": "other",
}


class Aspect(str, Enum):
    """What part of a CMOC a piece of evidence bears on."""

    whole = "whole"
    context = "C"
    resource = "M-res"
    reasoning = "M-rea"
    outcome = "O"
    cm = "C-M"
    mo = "M-O"
    co = "C-O"


class Role(str, Enum):
    """How evidence bears on what it names. 'informs' is relevant with no stance: a review's
    tick in a papers-by-mechanisms matrix."""

    supports = "supports"
    challenges = "challenges"
    refines = "refines"
    informs = "informs"


class BearsOn(Strict):
    """One thing a piece of evidence bears on: a CMOC (or one link of it), a theory, or an
    overarching context. Give exactly one of `cmoc`, `theory`, `context`."""

    cmoc: Id | None = None
    theory: Id | None = None
    context: Id | None = Field(None, description="Id of an overarching context.")
    aspect: Aspect = Field(
        Aspect.whole, description="whole, or one element (C, M-res, M-rea, O) or link (C-M, "
        "M-O, C-O) of the CMOC."
    )
    role: Role = Field(Role.supports, description="supports / challenges / refines, or "
                       "informs (relevant, with no stance).")
    version: int | None = Field(
        None, ge=1, description="The version of the CMOC's theory whose wording this evidence "
        "tested (CMOC ids persist across versions). Counted for that version only; leave out "
        "when it bears on the CMOC in every version.")

    @model_validator(mode="after")
    def _one_target(self) -> BearsOn:
        targets = [t for t in (self.cmoc, self.theory, self.context) if t]
        if len(targets) != 1:
            raise ValueError("each item under 'bears_on' names one thing; write exactly one of "
                             "'cmoc: ...', 'theory: ...' or 'context: ...'")
        if self.aspect != Aspect.whole.value and not self.cmoc:
            raise ValueError("'aspect' only applies to a CMOC; remove it, or bear on a CMOC")
        if self.version is not None and not self.cmoc:
            raise ValueError("'version' only applies to a CMOC; remove it, or bear on a CMOC")
        return self


class SourceRef(Strict):
    """One source of a piece of evidence, with where in it and how the study cites it."""

    source: Id = Field(description="Id of the source.")
    locator: str | None = Field(None, description="Where in the source: 'L69', 'p. 4'.")
    cited_as: str | None = Field(None, description="The code exactly as printed: 'P2/20'.")


def _source_item(value: Any) -> Any:
    return {"source": value} if isinstance(value, str) else value


# An item of `sources:`: a source id, or {source, locator, cited_as}.
SourceItem = Annotated[SourceRef, BeforeValidator(_source_item,
                                                  json_schema_input_type=Id | SourceRef)]


class Evidence(Record):
    """A piece of evidence: a verbatim quote and/or a summary, from one source or several."""

    source: Id | None = Field(None, description="Id of the source it comes from (use "
                              "'sources:' instead when one statement rests on several).")
    sources: list[SourceItem] = Field(
        default_factory=list, description="Several sources for one statement, e.g. the ten "
        "included studies a review cites for it: source ids, or items with 'source:', "
        "'locator:' and 'cited_as:'. The record is shown once, with all its sources.")
    kind: EvidenceKind | None = Field(
        None, description="Defaults from the source: participant -> interview, meeting -> "
        "meeting, document -> document, study -> study, consultation -> feedback."
    )
    quote: str | None = Field(None, description="Verbatim, exactly as published.")
    summary: Text | None = Field(None, description="A paraphrase (Markdown, may cite).")
    locator: str | None = Field(None, description="Where in the source: 'L69', 'p. 4'.")
    cited_as: str | None = Field(
        None, description="The code exactly as printed beside the quote: 'P2/20', "
        "'September 22/L69'."
    )
    group: str | None = Field(None, description="Stakeholder feedback: the group, never a "
                              "name.")
    codes: list[Annotated[str, Field(min_length=1)]] = Field(
        default_factory=list, description="The analysis codes this extract was coded with, "
        "as in your codebook, e.g. 'Feeling valued/Recognition'. Shown with the evidence and "
        "searchable.")
    appraisal: Appraisal | None = Field(
        None, description="This piece of evidence judged on its own: relevance, rigour "
        "(high, moderate or low) and a note; richness where your team uses it. Left out, it "
        "takes its study's appraisal, if the study has one.")
    bears_on: list[BearsOn] = Field(min_length=1)

    # Its sources as one list, whichever way the file gives them (set by `_one_way`).
    # (a default, which Pydantic copies, not `default_factory=list`: Pydantic 2.13 inspects a
    # factory's signature on every record, 0.14 ms each, 2.8 s of a first load of 20,000)
    _refs: list[SourceRef] = PrivateAttr([])

    @model_validator(mode="after")
    def _one_way(self) -> Evidence:
        if self.source and self.sources:
            raise ValueError("the evidence has both 'source' and 'sources'; keep one of them "
                             "(list every source under 'sources:')")
        if not self.source and not self.sources:
            raise ValueError("the evidence names no source; add 'source: ID', or 'sources:' "
                             "with one source id per line when it rests on several")
        if self.sources and (self.locator or self.cited_as):
            raise ValueError("with 'sources:', 'locator' and 'cited_as' belong to each source; "
                             "write the item as 'source: ID' with its own 'locator:' and "
                             "'cited_as:'")
        ids = [r.source for r in self.sources]
        if len(set(ids)) != len(ids):
            twice = next(i for i in ids if ids.count(i) > 1)
            raise ValueError(f"the source '{twice}' is listed twice; remove one of them")
        self._refs = list(self.sources) if self.sources else [
            SourceRef(source=self.source, locator=self.locator, cited_as=self.cited_as)]
        return self

    @property
    def refs(self) -> list[SourceRef]:
        """Every source of the record, in order (one for a record with 'source:')."""
        return self._refs

    def ref_for(self, source_id: str) -> SourceRef | None:
        return next((r for r in self._refs if r.source == source_id), None)

    @model_validator(mode="after")
    def _has_content(self) -> Evidence:
        if not (self.quote or self.summary):
            raise ValueError("the evidence has no text; add 'quote: ...' (the exact words) or "
                             "'summary: ...', or both")
        return self


