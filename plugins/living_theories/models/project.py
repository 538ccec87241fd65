"""Project-wide records: framework, overarching contexts, substantive theories, authors."""

from __future__ import annotations

from enum import Enum
from typing import Annotated

from pydantic import AfterValidator, Field

from .base import BibKeyList, Id, Record, Strict, Text

# Confidence in a CMOC, lowest first, unless project.yaml declares the team's own scale.
DEFAULT_CONFIDENCE_SCALE = ("low", "moderate", "high")


def _scale(levels: list[str]) -> list[str]:
    seen: set[str] = set()
    for level in levels:
        if level.casefold() in seen:
            raise ValueError(f"the level '{level}' is listed twice; list each level once, "
                             "lowest first")
        seen.add(level.casefold())
    return levels


Scale = Annotated[list[Annotated[str, Field(min_length=1)]], Field(min_length=2),
                  AfterValidator(_scale)]


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


class TheoryRelation(str, Enum):
    """How a mechanism stands to a substantive theory."""

    supports = "supports"
    extends = "extends"
    contradicts = "contradicts"
    draws_on = "draws-on"


class MechanismPart(str, Enum):
    resource = "resource"
    reasoning = "reasoning"


class MechanismTheory(Strict):
    """A CMOC's mechanism linked to a substantive (middle-range) theory: the mechanism
    supports, extends, contradicts or draws on it."""

    theory: Id = Field(description="Id of a substantive theory in theories/project.yaml.")
    relation: TheoryRelation = Field(description="supports (the evidence for this mechanism "
                                     "bears the theory out), extends (adds to it), contradicts "
                                     "(runs against it) or draws-on (the mechanism was framed "
                                     "with it).")
    mechanism: MechanismPart | None = Field(
        None, description="resource or reasoning: the part of the mechanism that relates to "
        "the theory. Leave out for the mechanism as a whole.")
    note: Text | None = Field(None, description="How it relates (Markdown, may cite).")


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
    design: str | None = Field(
        None, description="The study design, shown on the home page: e.g. 'realist review', "
        "'realist evaluation', 'realist-informed study', 'rapid realist review'.",
        examples=["realist review", "realist evaluation", "realist-informed study"])
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
    confidence_scale: Scale | None = Field(
        None, description="The levels of confidence your team gives CMOCs, lowest first, e.g. "
        "[very low, low, moderate, high] (GRADE-CERQual). Leave out to use low, moderate, high.",
        examples=[["very low", "low", "moderate", "high"]])

    @property
    def confidence_levels(self) -> tuple[str, ...]:
        """The confidence scale, lowest first."""
        return tuple(self.confidence_scale or DEFAULT_CONFIDENCE_SCALE)


