"""Pydantic's validation errors in words: what is wrong, at which YAML path, and how to fix
it (a misspelt field gets a did-you-mean). `problems` turns the path into a line with
`reading.locate`."""

from __future__ import annotations

import difflib
import re
import types
import typing
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from . import models as m
from .problems import Problems, YamlPath

# --- Validation errors in words --------------------------------------------------------------


def _unwrap(annotation: Any) -> Any:
    """The model class behind Optional[...], list[...], Annotated[...], if there is one."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType, list):
        for arg in typing.get_args(annotation):
            found = _unwrap(arg)
            if isinstance(found, type) and issubclass(found, BaseModel):
                return found
    return annotation


def _model_at(model: type[BaseModel], loc: YamlPath) -> type[BaseModel] | None:
    current: Any = model
    for step in loc:
        if isinstance(step, int):
            continue
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return None
        info = _field_by_name(current, step)
        if info is None:
            return None
        current = _unwrap(info.annotation)
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _field_by_name(model: type[BaseModel], name: str) -> Any:
    for fname, info in model.model_fields.items():
        if name in (fname, info.alias):
            return info
    return None


def _field_names(model: type[BaseModel]) -> list[str]:
    return [info.alias or name for name, info in model.model_fields.items()]


# How a list item with an id is named in messages: "in CMOC 'being-purpose'".
_ITEM_NAMES = {"cmocs": "CMOC", "evidence": "evidence", "sources": "source",
               "overarching_contexts": "overarching context",
               "substantive_theories": "substantive theory", "domains": "domain"}


def _place(data: Any, loc: YamlPath, owner: str = "") -> str:
    """Where in a file a path points, in words: "CMOC 'x', field 'lineage: from', item 1"."""
    fields: list[str] = []
    item: int | None = None
    node = data
    for i, step in enumerate(loc):
        if isinstance(step, int):
            parent = next((s for s in reversed(loc[:i]) if isinstance(s, str)), "")
            child = node[step] if isinstance(node, list) and step < len(node) else None
            if isinstance(child, dict) and isinstance(child.get("id"), str):
                owner = f"{_ITEM_NAMES.get(parent, parent)} '{child['id']}'"
                fields, item = [], None
            else:
                item = step + 1
            node = child
        else:
            fields.append(step)
            item = None
            node = node.get(step) if isinstance(node, dict) else None
    parts = [owner] if owner else []
    if fields:
        parts.append("field '" + ": ".join(fields) + "'")
    if item:
        parts.append(f"item {item}")
    return ", ".join(parts)


def kind_of(value: Any) -> str:
    if isinstance(value, str):
        return "text"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, dict):
        return "a block of fields"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "nothing"
    # explicit YAML tags (!!set, !!binary, !!timestamp) make values these files do not use
    if isinstance(value, (set, frozenset)):
        return "a set (written with '!!set')"
    if isinstance(value, bytes):
        return "binary data (written with '!!binary')"
    if hasattr(value, "isoformat"):
        return "a date and time (written with '!!timestamp')"
    return f"a value of the type '{type(value).__name__}'"


def explain(error: dict[str, Any], model: type[BaseModel], data: Any = None,
            owner: str = "") -> tuple[str, str]:
    """One Pydantic error as (what is wrong, how to fix it), in a researcher's words."""
    loc: YamlPath = tuple(error["loc"])
    kind = error["type"]
    value = error.get("input")
    name = next((s for s in reversed(loc) if isinstance(s, str)), "")
    ctx = error.get("ctx") or {}
    where = _place(data, loc, owner)
    inside = _place(data, loc[:-1], owner)  # a missing or unknown field: the block it is in

    def at(text: str, place: str = where) -> str:
        return f"{text} (in {place})" if place else text

    if kind == "missing":
        return at(f"the field '{name}' is missing", inside), f"add a line '{name}: ...'"
    if kind == "extra_forbidden":
        owner = _model_at(model, loc[:-1])
        allowed = _field_names(owner) if owner else []
        close = difflib.get_close_matches(str(name), allowed, n=1, cutoff=0.6)
        hint = f"did you mean '{close[0]}'?" if close else (
            "the fields allowed here are: " + ", ".join(allowed) if allowed else "remove it")
        return at(f"unknown field '{name}'", inside), hint
    if kind in ("enum", "literal_error"):
        expected = ctx.get("expected", "")
        close = difflib.get_close_matches(str(value), re.findall(r"'([^']*)'", expected),
                                          n=1, cutoff=0.6)
        return at(f"{value!r} is not allowed"), (f"did you mean '{close[0]}'? " if close
                                                  else "") + f"use one of {expected}"
    if kind == "string_pattern_mismatch":
        pattern = ctx.get("pattern", "")
        if pattern == m.ID_PATTERN:
            message, hint = m.id_problem(value)
            return at(message), hint
        if "\\d{4}" in pattern:
            return at(f"{value!r} is not a date"), "write it as YYYY-MM-DD (e.g. 2025-01-15), " \
                "YYYY-MM or YYYY"
        if pattern.startswith("^10"):
            return at(f"{value!r} is not a DOI"), "write it as 10.xxxx/..., without " \
                "https://doi.org/"
        if "\\s,{}" in pattern:
            return at(f"{value!r} is not a BibTeX key"), "use the key from references.bib"
        return at(f"{value!r} has the wrong form"), f"it must match {pattern}"
    if kind == "string_type":
        if isinstance(value, dict):
            return at("this should be text, but YAML read it as 'field: value'"), \
                "put text containing ': ' in quotes, e.g. 'Outcome: staff stay'"
        hint = "put it in quotes" if isinstance(value, (int, float, bool)) else "write it as text"
        return at(f"this should be text, but is {kind_of(value)}"), hint
    if kind == "list_type":
        return (at(f"this should be a list, but is {kind_of(value)}"),
                "write one '- item' per line, or [a, b]")
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return (at(f"this should be a block of 'field: value' lines, but is {kind_of(value)}"),
                "check the indentation")
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return at(f"this should be a whole number, but is {value!r}"), "write a number like 2"
    if kind in ("bool_type", "bool_parsing"):
        return at(f"this should be true or false, but is {value!r}"), "write true or false"
    if kind == "too_short":
        return at(f"this needs at least {ctx.get('min_length', 1)} item(s)"), "add one"
    if kind == "string_too_short":
        return at("this is empty"), "write some text or remove the line"
    if kind == "greater_than_equal":
        return at(f"this must be at least {ctx.get('ge')}"), "correct the number"
    if kind == "value_error":
        text = str(ctx.get("error", error.get("msg", "")))
        what, _, how = text.partition("; ")
        return at(what), how or "correct it"
    return at(error.get("msg", kind)), "correct the value"


def validate(model: type[m.Strict], data: Any, path: Path, problems: Problems,
             base: YamlPath = ()) -> Any:
    """Validate data against a model; report errors at their YAML paths; None if invalid."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors()
        # A misspelt field gives "unknown 'stag'" and "missing 'stage'": keep the first only.
        guessed = set()
        for error in errors:
            if error["type"] == "extra_forbidden":
                owner = _model_at(model, tuple(error["loc"])[:-1])
                close = difflib.get_close_matches(str(error["loc"][-1]),
                                                  _field_names(owner) if owner else [], n=1,
                                                  cutoff=0.6)
                if close:
                    guessed.add(tuple(error["loc"])[:-1] + (close[0],))
        owner = ""  # a record validated on its own is named by its id
        if len(base) >= 2 and isinstance(base[-1], int) and isinstance(data, dict) \
                and isinstance(data.get("id"), str):
            owner = f"{_ITEM_NAMES.get(base[-2], base[-2])} '{data['id']}'"
        for error in errors:
            if error["type"] == "missing" and tuple(error["loc"]) in guessed:
                continue
            message, hint = explain(error, model, data, owner)
            problems.add(path, message, hint, path=base + tuple(error["loc"]))
        return None
