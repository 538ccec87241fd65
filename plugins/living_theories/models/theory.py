"""Theories, their versions, and the CMOCs in each version."""

from __future__ import annotations

from enum import Enum
from typing import Annotated, Any

from pydantic import (
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    PrivateAttr,
    WrapValidator,
    model_validator,
)

from .base import BibKeyList, Id, IdList, Markdown, PartialDate, Strict, Text, Visibility
from .project import MechanismTheory

# --- Elements and their signs --------------------------------------------------------------


class Sign(str, Enum):
    """The sign a study prints beside an element: C+ / C-, M+ / M-, O+ / O-."""

    positive = "positive"
    negative = "negative"


class Element(str):
    """One context, mechanism or outcome: its text, and the sign the study prints, if any.

    A `str`, so that everything that reads an element's text (Markdown, citations, diffs,
    search) works unchanged; `sign` is None when the study prints no sign (nothing asserted).
    """

    sign: str | None

    def __new__(cls, text: str, sign: str | None = None) -> Element:
        obj = super().__new__(cls, text)
        obj.sign = sign
        return obj


_SIGN_HINT = ("write the element as text, or as 'text: ...' with 'sign: positive' or "
              "'sign: negative' (leave 'sign' out where the study prints none)")


def _element(value: Any, handler: Any) -> Element:
    if isinstance(value, Element):
        return value
    if not isinstance(value, dict):
        return Element(handler(value))
    unknown = [k for k in value if k not in ("text", "sign")]
    if unknown:
        raise ValueError(f"unknown field '{unknown[0]}' in an element; {_SIGN_HINT}")
    sign = value.get("sign")
    if sign is not None and sign not in (Sign.positive.value, Sign.negative.value):
        raise ValueError(f"the sign {sign!r} is not allowed; use positive or negative "
                         "(leave 'sign' out where the study prints none)")
    if "text" not in value:
        raise ValueError(f"the element has no text; {_SIGN_HINT}")
    return Element(handler(value["text"]), sign)


def _dump_element(value: str) -> Any:
    # An element without a sign is stored as plain text, exactly as before signs existed, so
    # content hashes of versions released then are unchanged.
    sign = getattr(value, "sign", None)
    return {"text": str(value), "sign": sign} if sign else str(value)


class SignedText(Strict):
    """How an element with a sign is written (used for the JSON Schema's help)."""

    text: Text = Field(description="The element's text, exactly as the study prints it.")
    sign: Sign | None = Field(
        None, description="The sign the study prints beside it: positive (C+, M+, O+) or "
        "negative (C-, M-, O-). Leave out where the study prints none: nothing is asserted.")


# An element is Markdown text, or {text, sign}; the value is always an `Element`.
ElementText = Annotated[
    str, Markdown, Field(min_length=1),
    WrapValidator(_element, json_schema_input_type=str | SignedText),
    PlainSerializer(_dump_element),
]

# (field, letter of its sign label, name) for the four kinds of element, in realist order.
ELEMENTS: tuple[tuple[str, str, str], ...] = (
    ("contexts", "C", "Context"),
    ("mechanism_resources", "M", "Mechanism (resource)"),
    ("mechanism_reasonings", "M", "Mechanism (reasoning)"),
    ("outcomes", "O", "Outcome"),
)


_LETTER = {field: letter for field, letter, _ in ELEMENTS}


def sign_label(letter: str, sign: str | None) -> str:
    """'M+' or 'M−' (a true minus sign, as papers print it); '' for no sign."""
    return f"{letter}{'+' if sign == Sign.positive.value else '−'}" if sign else ""


# --- CMOCs ---------------------------------------------------------------------------------


def _asserts_nothing(default: str) -> Any:
    # 'present' and 'positive' were these fields' defaults before signs existed, so files
    # that spell them out never asserted a sign: read them as unset (also keeps their hash).
    return BeforeValidator(lambda v: None if v == default else v)


class Mechanism(str, Enum):
    """CMOC-level shorthand: 'absent' marks every mechanism element without a sign as M-."""

    present = "present"
    absent = "absent"


class Direction(str, Enum):
    """CMOC-level shorthand: 'negative' marks every outcome without a sign as O-."""

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


# --- The reasoning behind a change -----------------------------------------------------------

# Kinds of inference realist teams name, explained for readers; another word is shown as
# written (a near miss of one of these is a validate warning). The nouns read the same.
INFERENCES: dict[str, str] = {
    "retroductive": "reasoning back from what was observed to the hidden mechanisms, and the "
                    "contexts that trigger them, that would have to be at work to produce it",
    "abductive": "a leap to the explanation that would best account for a surprising or "
                 "puzzling finding, put forward to be tested",
    "deductive": "the theory's expectations tested against the data: what should be seen if "
                 "the configuration holds",
    "inductive": "a pattern (a demi-regularity) generalised from the data themselves",
}
INFERENCE_NOUNS = {"retroduction": "retroductive", "abduction": "abductive",
                   "deduction": "deductive", "induction": "inductive"}


def inference_meaning(word: str | None) -> str | None:
    """What a known kind of inference means, for readers; None for another word."""
    key = (word or "").strip().lower()
    return INFERENCES.get(INFERENCE_NOUNS.get(key, key))


class Rival(Strict):
    """Another explanation the team considered for a change, and why it was set aside."""

    explanation: Text = Field(description="The rival explanation, in a sentence (Markdown, "
                              "may cite).")
    set_aside: Text = Field(description="Why it was set aside: what in the evidence speaks "
                            "against it (Markdown, may cite with [@key]).")
    evidence: IdList = Field(default_factory=list, description="Ids of the evidence that "
                             "set it aside.")


class Reasoning(Strict):
    """The reasoning behind a change: optional on lineage, changes, drops and incorporations.
    Left out, nothing is stored (released versions' content hashes are unchanged)."""

    inference: Annotated[str, Field(min_length=1)] | None = Field(
        None, description="The kind of inference that led to the change: retroductive, "
        "abductive, deductive, inductive, or another word your team uses.",
        examples=["retroductive", "abductive", "deductive"])
    rivals: list[Rival] = Field(
        default_factory=list, description="Other explanations considered, each with why it "
        "was set aside and the evidence for that.")
    overturn: Text | None = Field(
        None, description="What would overturn the change: the finding that would make the "
        "team think again (Markdown, may cite).")

    @property
    def reasoned(self) -> bool:
        """Whether any of the reasoning is recorded."""
        return bool(self.inference or self.rivals or self.overturn)


class Lineage(Reasoning):
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


# --- Confidence --------------------------------------------------------------------------


class Confidence(Strict):
    """How confident the team is in a CMOC, on the project's scale, and why."""

    level: Annotated[str, Field(min_length=1)] = Field(
        description="A level of the project's scale: low, moderate or high, unless "
        "theories/project.yaml declares its own 'confidence_scale'.",
        examples=["low", "moderate", "high"])
    rationale: Text | None = Field(None, description="Why this level: how much evidence, how "
                                   "consistent, how relevant and rigorous (Markdown, may cite).")


def _level_only(value: Any) -> Any:
    # `confidence: moderate` is short for `confidence: {level: moderate}`.
    return {"level": value} if isinstance(value, str) else value


ConfidenceField = Annotated[Confidence | None,
                            BeforeValidator(_level_only, json_schema_input_type=str | Confidence)]


class CMOC(Strict):
    """A Context-Mechanism-Outcome configuration: M(resource) + C -> M(reasoning) = O."""

    id: Id = Field(description="Stable across versions: keep the id when a CMOC is kept or "
                   "refined. Unique in the whole project.")
    label: str | None = Field(None, description="How the source numbers it, e.g. 'CMOC 1'.")
    title: str | None = Field(None, description="A short name, e.g. 'Patient stories'.")
    narrative: Text | None = Field(
        None, description="The CMOC written out as a sentence (Markdown, may cite)."
    )
    contexts: list[ElementText] = Field(
        default_factory=list, description="C: one or more contexts. Each is text, or "
        "'text: ...' with 'sign: positive' or 'sign: negative' where the study prints C+ or C-.")
    mechanism_resources: list[ElementText] = Field(
        default_factory=list, description="M (resource): what the programme offers or does. "
        "Each is text, or 'text: ...' with 'sign:' where the study prints M+ or M-.")
    mechanism_reasonings: list[ElementText] = Field(
        default_factory=list, description="M (reasoning): how people respond to it. Each is "
        "text, or 'text: ...' with 'sign:' where the study prints M+ or M-.")
    outcomes: list[ElementText] = Field(
        default_factory=list, description="O: one or more outcomes. Each is text, or "
        "'text: ...' with 'sign:' where the study prints O+ or O-.")
    mechanism: Annotated[Mechanism | None, _asserts_nothing("present")] = Field(
        None, description="Shorthand: 'absent' shows M- beside every mechanism element that "
        "has no sign of its own. Leave out otherwise ('present' asserts nothing; to show M+, "
        "give the element a sign).")
    outcome: Annotated[Direction | None, _asserts_nothing("positive")] = Field(
        None, description="Shorthand: 'negative' shows O- beside every outcome that has no "
        "sign of its own. Leave out otherwise ('positive' asserts nothing; to show O+, give "
        "the outcome a sign).")
    overarching_contexts: IdList = Field(default_factory=list)
    substantive_theories: list[MechanismTheory] = Field(
        default_factory=list, description="Middle-range theory at the mechanism level: each "
        "item names a substantive theory of theories/project.yaml ('theory:'), how this "
        "CMOC's mechanism stands to it ('relation:' supports, extends, contradicts or "
        "draws-on), and optionally which part ('mechanism:' resource or reasoning) and a "
        "'note:'.")
    theme: Id | None = Field(None, description="Id of one of this version's themes: theory "
                             "and version pages group CMOCs by theme.")
    leads_to: IdList = Field(
        default_factory=list, description="CMOCs of this version whose context (or resource) "
        "this CMOC's outcome becomes: a chain, e.g. a primary effect that produces secondary "
        "ones. Diagrams draw the chain.")
    evidence: IdList = Field(
        default_factory=list, description="Ids of evidence that supports this CMOC as a whole, "
        "as listed in a CMOC table (evidence records can also say what they bear on)."
    )
    illustrates: Id | None = Field(
        None, description="Makes this an example configuration (e.g. a review's 'CMO box' "
        "drawn from one included study): the id of the CMOC it illustrates, of this version "
        "or an earlier one. Examples are shown with that CMOC, not counted among the "
        "version's CMOCs, and have no lineage.")
    source: Id | None = Field(
        None, description="Examples: the id of the source (e.g. the included study) the "
        "example is drawn from.")
    lineage: Lineage | None = Field(
        None,
        description="Where this CMOC comes from. Leave out in a first version. In later "
        "versions, if left out: 'kept' when the previous version has a CMOC with this id, "
        "otherwise 'not-known'.",
    )
    confidence: ConfidenceField = Field(
        None, description="How confident the team is in this CMOC in this version: a level of "
        "the project's scale ('confidence: moderate'), or 'level:' with a 'rationale:'.")
    notes: Text | None = None

    # Where it was written, ("cmocs", 2) or ("examples", 0): examples written among the CMOCs
    # are moved to `Version.examples`, and messages must still point at their lines.
    _path: tuple[Any, ...] | None = PrivateAttr(None)

    @model_validator(mode="after")
    def _says_something(self) -> CMOC:
        parts = (self.narrative, self.contexts, self.mechanism_resources,
                 self.mechanism_reasonings, self.outcomes, self.title, self.label)
        if not any(parts):
            raise ValueError(
                "the CMOC has no text; add a label, a title, a narrative or an element (where "
                "the published record gives no text, add its label and say so in 'notes')"
            )
        if self.source and not self.illustrates:
            raise ValueError("'source' names the study an example is drawn from, but this CMOC "
                             "is not an example; add 'illustrates: ID' or remove 'source'")
        return self

    def signed(self, field: str) -> list[tuple[Element, str | None]]:
        """The elements of one field, each with the sign shown beside it: its own, else the
        CMOC-level shorthand (M- for `mechanism: absent`, O- for `outcome: negative`)."""
        mechanism = field in ("mechanism_resources", "mechanism_reasonings")
        negative = (mechanism and self.mechanism == Mechanism.absent.value) or (
            field == "outcomes" and self.outcome == Direction.negative.value)
        shorthand = Sign.negative.value if negative else None
        return [(e, e.sign or shorthand) for e in getattr(self, field)]

    def labelled(self, field: str) -> list[tuple[Element, str]]:
        """The elements of one field with the label shown beside each: 'M+', 'O−' or ''."""
        letter = _LETTER[field]
        return [(e, sign_label(letter, sign)) for e, sign in self.signed(field)]


class Change(Reasoning):
    """One change since the previous version, with the reason and the evidence behind it."""

    summary: Text
    cmocs: IdList = Field(default_factory=list, description="CMOCs the change concerns.")
    reason: Text | None = None
    evidence: IdList = Field(default_factory=list)


class Dropped(Reasoning):
    cmoc: Id = Field(description="Id of a CMOC of the previous version that was dropped.")
    reason: Text = Field(description="Why, e.g. 'lacked evidence'.")
    evidence: IdList = Field(default_factory=list)


class Incorporated(Reasoning):
    """A CMOC of the previous version not kept on its own but folded into several of this
    version's CMOCs (e.g. three mechanisms 'incorporated into the remaining seven')."""

    cmoc: Id = Field(description="Id of a CMOC of the previous version.")
    into: Annotated[IdList, Field(min_length=1)] = Field(
        description="Ids of the CMOCs of this version it was folded into.")
    reason: Text | None = None
    evidence: IdList = Field(default_factory=list)


# Stages realist studies commonly name; another word is allowed, a near miss is a warning.
COMMON_STAGES = ("initial", "rough", "refined", "revised", "final", "consolidated", "tested")


class Theme(Strict):
    """A theme or contribution of a (realist-informed) study, grouping its CMOCs."""

    id: Id
    title: str = Field(min_length=1, description="e.g. 'Feeling valued'.")
    description: Text | None = Field(None, description="Markdown; may cite.")


class Status(str, Enum):
    draft = "draft"
    released = "released"


class Version(Strict):
    """One version of a theory (file `theories/<theory>/v<N>.yaml`)."""

    stage: str = Field(
        pattern=r"^[a-z][a-z-]*$",
        description="initial, refined or final (or another lower-case word, e.g. rough, "
        "revised, consolidated).",
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
    themes: list[Theme] = Field(
        default_factory=list, description="Themes or contributions the study reports, in "
        "display order; each CMOC may name its 'theme'.")
    cmocs: list[CMOC] = Field(default_factory=list)
    examples: list[CMOC] = Field(
        default_factory=list, description="Example configurations, each with 'illustrates:' "
        "and 'source:' (they may also be written among the CMOCs, with 'illustrates:').")
    changes: list[Change] = Field(
        default_factory=list, description="What changed since the previous version, and why."
    )
    dropped: list[Dropped] = Field(default_factory=list)
    incorporated: list[Incorporated] = Field(
        default_factory=list, description="CMOCs of the previous version folded into several "
        "CMOCs of this one, rather than kept, merged one-to-one or dropped.")
    notes: Text | None = None

    # Set by `loading` from the file name (v2.yaml -> 2) and folder (the theory id).
    _number: int = PrivateAttr(0)
    _theory: str = PrivateAttr("")
    _where: tuple[str, tuple[Any, ...]] | None = PrivateAttr(None)

    @model_validator(mode="after")
    def _examples_apart(self) -> Version:
        for i, c in enumerate(self.cmocs):
            c._path = ("cmocs", i)
        for j, c in enumerate(self.examples):
            c._path = ("examples", j)
            if not c.illustrates:
                raise ValueError(f"the example '{c.id}' does not say what it illustrates; add "
                                 "'illustrates: ID' (the CMOC it is an example of)")
        if any(c.illustrates for c in self.cmocs):  # examples are not the theory's CMOCs
            self.examples = self.examples + [c for c in self.cmocs if c.illustrates]
            self.cmocs = [c for c in self.cmocs if not c.illustrates]
        return self

    @property
    def number(self) -> int:
        return self._number

    def cmoc(self, cid: str) -> CMOC | None:
        return next((c for c in self.cmocs if c.id == cid), None)

    def leading_to(self, cid: str) -> list[CMOC]:
        """The CMOCs of this version whose chains lead to `cid`."""
        return [c for c in self.cmocs if cid in c.leads_to]

    def by_theme(self) -> list[tuple[Theme | None, list[CMOC]]]:
        """CMOCs grouped by theme in the themes' order, those without one last; one group
        (None, all CMOCs) when the version has no themes."""
        if not self.themes:
            return [(None, self.cmocs)]
        groups = [(t, [c for c in self.cmocs if c.theme == t.id]) for t in self.themes]
        known = {t.id for t in self.themes}
        rest = [c for c in self.cmocs if c.theme not in known]
        return [(t, cs) for t, cs in groups if cs] + ([(None, rest)] if rest else [])

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
    _versions: list[Version] = PrivateAttr([])  # (see Evidence._refs)
    _where: tuple[str, tuple[Any, ...]] | None = PrivateAttr(None)

    @property
    def id(self) -> str:
        return self._id

    @property
    def versions(self) -> list[Version]:
        return self._versions


