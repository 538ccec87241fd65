"""The programme-theory data model: the single source of truth.

Every YAML file a researcher writes is validated against one of the `*File` models at the
bottom of this module, and the JSON Schemas that editors use for autocompletion are generated
from them (see `schema.py`). Field descriptions here become the editor's hover help, so they
are written for researchers, not programmers.

Vocabulary follows realist evaluation (see docs/format.md): a theory has versions; a version
has CMOCs (Context, Mechanism resource, Mechanism reasoning, Outcome); evidence from sources
bears on CMOCs, on one link of a CMOC, or on an overarching context.
"""

from __future__ import annotations

from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    model_validator,
)

# --- Small types -------------------------------------------------------------------------

# Ids become file names and web addresses (cmocs/<id>/): the length is capped well below the
# 255 bytes a file name may have, so that what validates also builds.
MAX_ID_LENGTH = 100
ID_PATTERN = rf"^[a-z0-9][a-z0-9-]{{0,{MAX_ID_LENGTH - 1}}}$"
ID_HINT = "use lower-case letters, digits and hyphens, e.g. 'being-purpose'"


def id_problem(value: object) -> tuple[str, str]:
    """What is wrong with an id that does not match ID_PATTERN, and how to fix it."""
    if isinstance(value, str) and len(value) > MAX_ID_LENGTH:
        return (f"the id '{value[:30]}...' is {len(value):,} characters long; an id may have "
                f"at most {MAX_ID_LENGTH}", "use a shorter id (ids become file names and web "
                "addresses)")
    return f"{value!r} is not a valid id", ID_HINT


class Markdown(str):
    """Marker: a field of this type is Markdown and may cite references with Pandoc syntax."""


def _is_markdown(metadata: list[Any]) -> bool:
    return any(m is Markdown for m in metadata)


# `Annotated[str, Markdown]` keeps the value a plain `str` while marking the field, so the
# citation checker can find every narrative field by walking the models (see `markdown_fields`).
Text = Annotated[str, Markdown, Field(min_length=1)]
Id = Annotated[str, Field(pattern=ID_PATTERN, description="A stable identifier: " + ID_HINT)]


def _real_date(value: str) -> str:
    import datetime as dt

    parts = [int(p) for p in value.split("-")]
    try:
        dt.date(parts[0], parts[1] if len(parts) > 1 else 1, parts[2] if len(parts) > 2 else 1)
    except ValueError:
        raise ValueError(f"{value} is not a real date; check the month and day") from None
    return value


def _date_to_text(value: Any) -> Any:
    # YAML turns 2024-01-26 into a date and 2024 into a number; keep dates as text so that
    # "2024", "2024-01" and "2024-01-26" all work.
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value.isoformat() if hasattr(value, "isoformat") else value


PartialDate = Annotated[
    str,
    BeforeValidator(_date_to_text),
    Field(
        pattern=r"^\d{4}(-\d{2}(-\d{2})?)?$",
        description="A date as YYYY-MM-DD, YYYY-MM or YYYY.",
        examples=["2024-01-26", "2023-09", "2023"],
    ),
    AfterValidator(_real_date),
]


def _unique(values: list[str]) -> list[str]:
    seen: set[str] = set()
    for v in values:
        if v in seen:
            raise ValueError(f"'{v}' is listed twice; remove one of them")
        seen.add(v)
    return values


IdList = Annotated[list[Id], AfterValidator(_unique)]

# BibTeX keys follow BibTeX's rules, not ours: any text without spaces, commas or braces.
BibKey = Annotated[str, Field(pattern=r"^[^\s,{}]+$", description="A BibTeX key.")]
BibKeyList = Annotated[list[BibKey], AfterValidator(_unique)]


class Visibility(str, Enum):
    public = "public"
    internal = "internal"


class Strict(BaseModel):
    """Base for every model: unknown fields are errors, so a typo never vanishes silently."""

    # validate_default: defaults become plain values too (e.g. "present", not an Enum member).
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, use_enum_values=True,
                              validate_default=True)

    if not TYPE_CHECKING:
        def __getattr__(self, name: str) -> Any:
            # Private attributes (`_where`, `_id`, ...) straight from their dict: Pydantic's
            # own lookup is ten times slower, and pages and checks read them very often.
            try:
                return object.__getattribute__(self, "__pydantic_private__")[name]
            except (AttributeError, KeyError, TypeError):
                return super().__getattr__(name)


class Record(Strict):
    """A record that can be linked to, and may be kept off the public site."""

    id: Id
    visibility: Visibility = Field(
        Visibility.public,
        description="'internal' records are validated but never published. A public record "
        "may not depend on an internal one.",
    )
    # Where the record was read from: (file, path inside the YAML). Set by `loading`.
    _where: tuple[str, tuple[Any, ...]] | None = PrivateAttr(None)


# --- Project-wide records: framework, overarching contexts, substantive theories ----------


class Domain(Strict):
    id: Id
    title: str = Field(min_length=1)
    description: Text | None = None


class Framework(Strict):
    title: str = Field(min_length=1, description="The organising framework, e.g. 'Doing Things "
                       "Differently'.")
    description: Text | None = None
    domains: list[Domain] = Field(default_factory=list,
                                  description="The framework's domains, in display order.")


class OverarchingContext(Record):
    """A context that bears on every theory, e.g. the post-COVID-19 legacy."""

    title: str = Field(min_length=1)
    description: Text | None = None


class SubstantiveTheory(Record):
    """Established theory a programme theory is related to, cited from the bibliography."""

    title: str = Field(min_length=1)
    description: Text | None = Field(None, description="Markdown; cite with [@key].")
    references: BibKeyList = Field(
        default_factory=list, description="BibTeX keys of the works that state this theory."
    )


# --- CMOCs, versions and theories ----------------------------------------------------------


class Mechanism(str, Enum):
    present = "present"
    absent = "absent"


class Direction(str, Enum):
    positive = "positive"
    negative = "negative"


class Relation(str, Enum):
    """How a CMOC relates to the CMOCs of the previous version."""

    kept = "kept"
    refined = "refined"
    merged = "merged"
    split = "split"
    new = "new"
    not_known = "not-known"


class Lineage(Strict):
    relation: Relation = Field(
        description="kept / refined (wording changed) / merged (from several) / split (from "
        "one) / new (emerged from data) / not-known (the published record does not say)."
    )
    from_: IdList = Field(
        default_factory=list,
        alias="from",
        description="Ids of CMOCs of the previous version this CMOC comes from.",
    )
    reason: Text | None = None
    evidence: IdList = Field(default_factory=list, description="Evidence ids behind the change.")

    model_config = ConfigDict(populate_by_name=True)

    @model_validator(mode="after")
    def _sources_fit_relation(self) -> Lineage:
        n = len(self.from_)
        need = {
            Relation.merged.value: (n >= 2, "list at least two CMOCs under 'from'"),
            Relation.split.value: (n == 1, "list exactly one CMOC under 'from'"),
            Relation.new.value: (n == 0, "remove 'from' (a new CMOC has no predecessor)"),
            Relation.kept.value: (n <= 1, "list at most one CMOC under 'from'"),
            Relation.refined.value: (n <= 1, "list one CMOC under 'from', or use 'merged'"),
        }.get(self.relation)
        if need and not need[0]:
            raise ValueError(f"a '{self.relation}' CMOC has {n} CMOC(s) under 'from'; {need[1]}")
        return self


class CMOC(Strict):
    """A Context-Mechanism-Outcome configuration: M(resource) + C -> M(reasoning) = O."""

    id: Id = Field(description="Stable across versions: keep the id when a CMOC is kept or "
                   "refined. Unique in the whole project.")
    label: str | None = Field(None, description="How the source numbers it, e.g. 'CMOC 1'.")
    title: str | None = Field(None, description="A short name, e.g. 'Patient stories'.")
    narrative: Text | None = Field(
        None, description="The CMOC written out as a sentence (Markdown, may cite)."
    )
    contexts: list[Text] = Field(default_factory=list, description="C: one or more contexts.")
    mechanism_resources: list[Text] = Field(
        default_factory=list, description="M (resource): what the programme offers or does."
    )
    mechanism_reasonings: list[Text] = Field(
        default_factory=list, description="M (reasoning): how people respond to it."
    )
    outcomes: list[Text] = Field(default_factory=list, description="O: one or more outcomes.")
    mechanism: Mechanism = Field(
        Mechanism.present, description="'absent' describes what happens without the mechanism "
        "(M-)."
    )
    outcome: Direction = Field(Direction.positive, description="'negative' for an unwanted "
                               "outcome (O-).")
    overarching_contexts: IdList = Field(default_factory=list)
    evidence: IdList = Field(
        default_factory=list, description="Ids of evidence that supports this CMOC as a whole, "
        "as listed in a CMOC table (evidence records can also say what they bear on)."
    )
    lineage: Lineage | None = Field(
        None,
        description="Where this CMOC comes from. Leave out in a first version. In later "
        "versions, if left out: 'kept' when the previous version has a CMOC with this id, "
        "otherwise 'not-known'.",
    )
    notes: Text | None = None

    @model_validator(mode="after")
    def _says_something(self) -> CMOC:
        parts = (self.narrative, self.contexts, self.mechanism_resources,
                 self.mechanism_reasonings, self.outcomes, self.title, self.label)
        if not any(parts):
            raise ValueError(
                "the CMOC has no text; add a label, a title, a narrative or an element (where "
                "the published record gives no text, add its label and say so in 'notes')"
            )
        return self


class Change(Strict):
    """One change since the previous version, with the reason and the evidence behind it."""

    summary: Text
    cmocs: IdList = Field(default_factory=list, description="CMOCs the change concerns.")
    reason: Text | None = None
    evidence: IdList = Field(default_factory=list)


class Dropped(Strict):
    cmoc: Id = Field(description="Id of a CMOC of the previous version that was dropped.")
    reason: Text = Field(description="Why, e.g. 'lacked evidence'.")
    evidence: IdList = Field(default_factory=list)


class Status(str, Enum):
    draft = "draft"
    released = "released"


class Version(Strict):
    """One version of a theory (file `theories/<theory>/v<N>.yaml`)."""

    stage: str = Field(
        pattern=r"^[a-z][a-z-]*$",
        description="initial, refined or final (or another lower-case word).",
        examples=["initial", "refined", "final"],
    )
    status: Status = Field(Status.draft, description="'released' versions are frozen: "
                           "their content hash is kept in living-theories.lock.")
    date: PartialDate | None = None
    title: str | None = Field(None, description="Defaults to the theory's title.")
    statement: Text | None = Field(None, description="The theory's narrative statement.")
    evidence_base: str | None = Field(
        None, description="The evidence base in words, e.g. '18 empirical papers'."
    )
    doi: str | None = Field(None, pattern=r"^10\.\d{4,9}/\S+$")
    published_in: BibKeyList = Field(
        default_factory=list, description="BibTeX keys of the publications reporting it."
    )
    cmocs: list[CMOC] = Field(default_factory=list)
    changes: list[Change] = Field(
        default_factory=list, description="What changed since the previous version, and why."
    )
    dropped: list[Dropped] = Field(default_factory=list)
    notes: Text | None = None

    # Set by `loading` from the file name (v2.yaml -> 2) and folder (the theory id).
    _number: int = PrivateAttr(0)
    _theory: str = PrivateAttr("")
    _where: tuple[str, tuple[Any, ...]] | None = PrivateAttr(None)

    @property
    def number(self) -> int:
        return self._number

    @property
    def theory_id(self) -> str:
        return self._theory


class Theory(Strict):
    """A programme theory (file `theories/<theory>/theory.yaml`). Its id is the folder name."""

    title: str = Field(min_length=1)
    domain: Id | None = Field(None, description="Id of a framework domain in project.yaml.")
    summary: Text | None = None
    substantive_theories: IdList = Field(default_factory=list)
    visibility: Visibility = Visibility.public

    _id: str = PrivateAttr("")
    _versions: list[Version] = PrivateAttr(default_factory=list)
    _where: tuple[str, tuple[Any, ...]] | None = PrivateAttr(None)

    @property
    def id(self) -> str:
        return self._id

    @property
    def versions(self) -> list[Version]:
        return self._versions


# --- Sources and evidence ------------------------------------------------------------------


class SourceKind(str, Enum):
    participant = "participant"
    meeting = "meeting"
    document = "document"
    study = "study"
    consultation = "consultation"
    other = "other"


class Appraisal(Strict):
    relevance: Text | None = None
    rigour: Text | None = None
    richness: Text | None = None


class VersionRef(Strict):
    theory: Id
    version: int = Field(ge=1)


class Question(Strict):
    text: Text
    theory: Id | None = None
    cmoc: Id | None = None


class Source(Record):
    """Where evidence comes from: a participant, meeting, document, study or consultation."""

    kind: SourceKind
    title: str | None = Field(None, description="A readable name, e.g. 'ICB meeting, "
                              "September 2022'.")
    code: str | None = Field(None, description="The code used when citing it, e.g. 'P2/20' "
                             "or 'September 22'.")
    role: str | None = Field(None, description="Participants: a role, never a name, e.g. "
                             "'ICB member'.")
    date: PartialDate | None = None
    reference: BibKey | None = Field(None, description="BibTeX key (required for a study).")
    appraisal: Appraisal | None = Field(None, description="Studies: relevance, rigour, "
                                        "richness.")
    groups: list[str] = Field(default_factory=list, description="Consultations: stakeholder "
                              "groups, never names.")
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
    supports = "supports"
    challenges = "challenges"
    refines = "refines"


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
    role: Role = Role.supports

    @model_validator(mode="after")
    def _one_target(self) -> BearsOn:
        targets = [t for t in (self.cmoc, self.theory, self.context) if t]
        if len(targets) != 1:
            raise ValueError("each item under 'bears_on' names one thing; write exactly one of "
                             "'cmoc: ...', 'theory: ...' or 'context: ...'")
        if self.aspect != Aspect.whole.value and not self.cmoc:
            raise ValueError("'aspect' only applies to a CMOC; remove it, or bear on a CMOC")
        return self


class Evidence(Record):
    """A piece of evidence: a verbatim quote and/or a summary, from a source."""

    source: Id
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
    bears_on: list[BearsOn] = Field(min_length=1)

    @model_validator(mode="after")
    def _has_content(self) -> Evidence:
        if not (self.quote or self.summary):
            raise ValueError("the evidence has no text; add 'quote: ...' (the exact words) or "
                             "'summary: ...', or both")
        return self


# --- File kinds: what each YAML file holds ---------------------------------------------------


class Person(Strict):
    family: str = Field(min_length=1, description="Family name, e.g. 'Neiva Ganga'.")
    given: str | None = Field(None, description="Given names, e.g. 'Rafaela'.")
    orcid: str | None = Field(None, pattern=r"^\d{4}-\d{4}-\d{4}-\d{3}[\dX]$",
                              description="ORCID iD, e.g. 0000-0002-1825-0097.")
    affiliation: str | None = None


class ProjectFile(Strict):
    """`theories/project.yaml`: what spans all theories, and how to cite them."""

    title: str | None = Field(None, description="The project's name, shown on the home page.")
    description: Text | None = Field(None, description="What the project is about (Markdown).")
    authors: list[Person] = Field(default_factory=list, description="Who to credit when a "
                                  "theory version is cited.")
    publisher: str | None = Field(None, description="e.g. the university publishing the site.")
    url: str | None = Field(None, pattern=r"^https?://\S+$", description="The published site's "
                            "address (defaults to site_url in mkdocs.yml).")
    doi: str | None = Field(None, pattern=r"^10\.\d{4,9}/\S+$", description="A concept DOI for "
                            "the whole project, if it has one.")
    license: str | None = Field(None, description="SPDX licence id, e.g. CC-BY-4.0.")
    framework: Framework | None = None
    overarching_contexts: list[OverarchingContext] = Field(default_factory=list)
    substantive_theories: list[SubstantiveTheory] = Field(default_factory=list)


class TheoryFile(Theory):
    """`theories/<theory>/theory.yaml`."""


class VersionFile(Version):
    """`theories/<theory>/v<N>.yaml`."""


class EvidenceFile(Strict):
    """Any `evidence/*.yaml`: sources, evidence, or both."""

    sources: list[Source] = Field(default_factory=list)
    evidence: list[Evidence] = Field(default_factory=list)

FILE_MODELS: dict[str, type[Strict]] = {
    "project": ProjectFile,
    "theory": TheoryFile,
    "version": VersionFile,
    "evidence": EvidenceFile,
}


def markdown_fields(model: type[BaseModel]) -> list[str]:
    """Names of a model's Markdown fields (single values or lists of them)."""
    cached = _MARKDOWN_FIELDS.get(model)
    if cached is None:
        cached = []
        for name, info in model.model_fields.items():
            ann = info.annotation
            meta = list(info.metadata)
            # list[Text]: the marker sits on the item type
            args = getattr(ann, "__args__", ()) or ()
            for arg in args:
                meta += list(getattr(arg, "__metadata__", ()))
            if _is_markdown(meta) or _is_markdown(list(getattr(ann, "__metadata__", ()))):
                cached.append(name)
        _MARKDOWN_FIELDS[model] = cached
    return cached


_MARKDOWN_FIELDS: dict[type[BaseModel], list[str]] = {}
