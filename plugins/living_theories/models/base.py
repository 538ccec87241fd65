"""Small types and base classes shared by every model: ids, dates, Markdown text."""

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
