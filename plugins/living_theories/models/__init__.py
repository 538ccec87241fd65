"""The programme-theory data model: the single source of truth.

Every YAML file a researcher writes is validated against one of the `*File` models below, and
the JSON Schemas that editors use for autocompletion are generated from them (see `schema.py`).
Field descriptions become the editor's hover help, so they are written for researchers, not
programmers.

Vocabulary follows realist evaluation (see docs/format.md): a theory has versions; a version
has CMOCs (Context, Mechanism resource, Mechanism reasoning, Outcome); evidence from sources
bears on CMOCs, on one link of a CMOC, or on an overarching context. The modules: `base` (ids,
dates, Markdown text), `project` (project.yaml), `theory` (theories, versions, CMOCs),
`evidence` (sources and evidence).
"""

from __future__ import annotations

from pydantic import Field

from .base import (
    ID_HINT,
    ID_PATTERN,
    MAX_ID_LENGTH,
    BibKey,
    BibKeyList,
    Id,
    IdList,
    Markdown,
    PartialDate,
    Record,
    Strict,
    Text,
    Visibility,
    id_problem,
    markdown_fields,
)
from .evidence import (
    APPRAISAL_LEVELS,
    EVIDENCE_KIND_OF_SOURCE,
    FEEDBACK_SOURCES,
    Appraisal,
    Aspect,
    BearsOn,
    Evidence,
    EvidenceKind,
    Mode,
    Question,
    Role,
    Source,
    SourceKind,
    SourceRef,
    VersionRef,
    appraisal_level,
)
from .project import (
    DEFAULT_CONFIDENCE_SCALE,
    Domain,
    Framework,
    MechanismPart,
    MechanismTheory,
    OverarchingContext,
    Person,
    ProjectFile,
    SubstantiveTheory,
    TheoryRelation,
)
from .theory import (
    CMOC,
    COMMON_STAGES,
    ELEMENTS,
    INFERENCE_NOUNS,
    INFERENCES,
    Change,
    Confidence,
    Direction,
    Dropped,
    Element,
    Incorporated,
    Lineage,
    Mechanism,
    Reasoning,
    Relation,
    Rival,
    Sign,
    Status,
    Theme,
    Theory,
    Version,
    inference_meaning,
    sign_label,
)

# --- File kinds: what each YAML file holds ---------------------------------------------------


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

__all__ = [
    "APPRAISAL_LEVELS",
    "appraisal_level",
    "Appraisal",
    "Aspect",
    "BearsOn",
    "BibKey",
    "BibKeyList",
    "Change",
    "CMOC",
    "Confidence",
    "DEFAULT_CONFIDENCE_SCALE",
    "COMMON_STAGES",
    "Direction",
    "Domain",
    "Dropped",
    "Element",
    "ELEMENTS",
    "Evidence",
    "EVIDENCE_KIND_OF_SOURCE",
    "EvidenceFile",
    "EvidenceKind",
    "FEEDBACK_SOURCES",
    "FILE_MODELS",
    "Framework",
    "Id",
    "ID_HINT",
    "ID_PATTERN",
    "IdList",
    "Incorporated",
    "INFERENCE_NOUNS",
    "INFERENCES",
    "inference_meaning",
    "Lineage",
    "Markdown",
    "MAX_ID_LENGTH",
    "id_problem",
    "markdown_fields",
    "Mechanism",
    "MechanismPart",
    "MechanismTheory",
    "Mode",
    "OverarchingContext",
    "PartialDate",
    "Person",
    "ProjectFile",
    "Question",
    "Reasoning",
    "Record",
    "Relation",
    "Rival",
    "Role",
    "Sign",
    "sign_label",
    "Source",
    "SourceKind",
    "SourceRef",
    "Status",
    "Strict",
    "SubstantiveTheory",
    "Text",
    "Theme",
    "Theory",
    "TheoryRelation",
    "TheoryFile",
    "Version",
    "VersionFile",
    "VersionRef",
    "Visibility",
]
