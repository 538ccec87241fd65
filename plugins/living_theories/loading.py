"""Reading a project's YAML files into validated models, with errors at YAML lines.

Each file is decoded as UTF-8, parsed with libyaml when available (5x faster than pure Python),
and validated against the model for its kind, which follows from where it lives:

    theories/project.yaml        -> ProjectFile
    theories/<theory>/theory.yaml -> TheoryFile
    theories/<theory>/v<N>.yaml   -> VersionFile
    evidence/**/*.yaml            -> EvidenceFile

Pydantic reports errors by path (`cmocs.2.lineage.from.0`); `locate` turns a path back into
the line and column of the YAML text, re-reading the file only when there is an error to show.
"""

from __future__ import annotations

import difflib
import marshal
import re
import types
import typing
from collections.abc import Container
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from . import ahead, files
from . import models as m
from .cache import MISSING, ParseCache, Stamp, stamp
from .problems import Problems, YamlPath

YamlLoader: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
VERSION_FILE = re.compile(r"^v([1-9][0-9]*)\.ya?ml$")


@dataclass
class Corpus:
    """Everything read from a project, before cross-references are checked."""

    root: Path
    project: m.ProjectFile = field(default_factory=m.ProjectFile)
    project_file: Path | None = None
    # Ids of records that failed validation: references to them are not reported again.
    invalid_ids: set[str] = field(default_factory=set)
    invalid_versions: set[tuple[str, int]] = field(default_factory=set)
    theories: dict[str, m.Theory] = field(default_factory=dict)
    sources: dict[str, m.Source] = field(default_factory=dict)
    evidence: dict[str, m.Evidence] = field(default_factory=dict)


# --- YAML ------------------------------------------------------------------------------------


class _Loader(YamlLoader):  # type: ignore[misc, valid-type]
    """A safe loader that records duplicate keys instead of silently keeping the last one."""

    def __init__(self, stream: str):
        super().__init__(stream)
        self.duplicates: list[tuple[str, Any]] = []

    # Dates stay text ("2024-01-26"): the models check them, and an impossible date such as
    # 2024-02-30 becomes a clear error instead of a crash inside the YAML reader.
    yaml_implicit_resolvers = {
        first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
        for first, resolvers in YamlLoader.yaml_implicit_resolvers.items()
    }

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        if not isinstance(node, yaml.MappingNode):  # '!!map [a]': PyYAML's error says so
            return super().construct_mapping(node, deep=deep)
        seen: set[Any] = set()
        for key_node, _ in node.value:
            if isinstance(key_node.value, str):  # (a list as a key: PyYAML's error says so)
                self.note_key(key_node.value, seen, key_node)
                seen.add(key_node.value)
        return super().construct_mapping(node, deep=deep)

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        # PyYAML's constructors crash on some explicitly tagged values ('!!timestamp x' gives
        # an AttributeError, '!!int x' a ValueError): a YAML error at the value's line instead
        try:
            return super().construct_object(node, deep=deep)
        except (ValueError, TypeError, AttributeError, KeyError, IndexError,
                OverflowError) as exc:
            tag = str(node.tag).replace(_TAG, "!!")
            raise yaml.constructor.ConstructorError(
                None, None, f"this value cannot be read as '{tag}' ({exc})",
                node.start_mark) from None

    def note_key(self, key: Any, seen: Container[Any], node: yaml.Node | yaml.Event) -> None:
        """Record a duplicate if `key` is in `seen`, the keys of its mapping so far (`node`:
        the key's node or event, whose text and line are reported)."""
        if key in seen:
            self.duplicates.append((node.value, node.start_mark))


# Characters YAML does not allow in a file (C0 and C1 controls except tab and line ends,
# surrogates, U+FFFE/U+FFFF): PyYAML's own error gives neither line nor column.
_NOT_PRINTABLE = re.compile("[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd"
                            "\U00010000-\U0010ffff]")


def read_text(path: Path, problems: Problems) -> str | None:
    """A YAML file's text, or None after reporting why it cannot be read (not a regular
    file, not UTF-8, control characters)."""
    try:
        data = files.read_bytes(path)
    except files.FileProblem as exc:
        problems.add(path, exc.message, exc.hint)
        return None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        problems.add(
            path,
            f"the file is not UTF-8 text (byte 0x{data[exc.start]:02x} cannot be read)",
            "save it with UTF-8 encoding (in most editors: Save As, Encoding: UTF-8)",
            line=line,
            column=column,
        )
        return None
    if (bad := _NOT_PRINTABLE.search(text)) is not None:
        start = bad.start()
        line = text.count("\n", 0, start) + 1
        column = start - (text.rfind("\n", 0, start) + 1) + 1
        problems.add(path, "the file contains an invisible control character "
                     f"(U+{ord(bad.group()):04X}) at column {column}",
                     "delete it (it often comes with text copied from a PDF or a word processor)",
                     line=line, column=column)
        return None
    return text


# Parsed files by (path, size, modification and change times): `mkdocs serve` re-reads only
# what changed, and `cache` (a `ParseCache`, see cache.py) keeps them on disk for the next run.
# Parsing is most of the cost of loading (validating is fast); callers must not change the data.
_PARSED: dict[str, tuple[Stamp, Any]] = {}


def parse_yaml(path: Path, problems: Problems, cache: ParseCache | None = None) -> Any:
    """Parse one YAML file; on a syntax error, report it and return None."""
    if (target := files.outside(path, problems.root)) is not None:
        problems.add(path, f"this is a link to '{target}', outside the project",
                     "copy the file into the project instead of linking to it")
        problems.unreadable.add(str(path))
        return None
    when = stamp(path)
    cached = _PARSED.get(str(path))
    blob = None  # the data marshalled, when a worker parsed it (see ahead.py)
    if when is not None and cached is not None and cached[0] == when:
        data = cached[1]
    else:
        data = cache.get("yaml", path, when) if cache is not None else MISSING
        if data is MISSING and (blob := ahead.result("yaml", path, when)) is not None:
            data = marshal.loads(blob)
        elif data is MISSING:
            before = len(problems.items)
            data = _parse_yaml(path, problems)
            if data is None or when is None or len(problems.items) != before:
                return data  # only clean files are kept: their problems must show again
        _PARSED[str(path)] = (when, data)
    if cache is not None:
        cache.put("yaml", path, when, data, blob)
    return data


def parse_quietly(path: Path) -> Any:
    """A clean file's data (for `ahead`, in another process); raises on any problem at all,
    which `parse_yaml` will then find and report."""
    data, duplicates = _plain_data(files.read_bytes(path).decode("utf-8-sig"))
    if duplicates:
        raise ValueError("duplicate keys")
    return data


def _parse_yaml(path: Path, problems: Problems) -> Any:
    text = read_text(path, problems)
    if text is None:
        problems.unreadable.add(str(path))
        return None
    try:
        data, duplicates = _plain_data(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        if exc.context_mark and ("flow" in (exc.context or "")
                                 or "could not find expected ':'" in (exc.problem or "")):
            mark = exc.context_mark  # point at the line that opened the trouble
        message, hint = _explain_yaml_error(exc, text)
        if mark:
            message += f" (at column {mark.column + 1})"
        problems.add(path, message, hint, line=mark.line + 1 if mark else None,
                     column=mark.column + 1 if mark else None)
        problems.unreadable.add(str(path))
        return None
    except (yaml.YAMLError, RecursionError) as exc:  # not expected: _plain_data bounds depth
        problems.add(path, f"YAML cannot be read: {str(exc).splitlines()[0]}",
                     "check the file's syntax")
        problems.unreadable.add(str(path))
        return None
    for key, mark in duplicates:
        problems.add(path, f"the key '{key}' appears twice in the same block",
                     "keep one of them (YAML would silently use the last)",
                     line=mark.line + 1, column=mark.column + 1)
    return data


_TAG = "tag:yaml.org,2002:"
_STR, _SEQ, _MAP = _TAG + "str", _TAG + "seq", _TAG + "map"
# Tags of plain text that PyYAML turns into values: null, true/false, numbers.
_VALUE_TAGS = frozenset(_TAG + t for t in ("null", "bool", "int", "float"))


class _NotPlain(Exception):
    """The document uses a YAML feature the fast path leaves to PyYAML."""


# Bounds that no real file comes near, so that a hostile or broken one is an error at its
# line, not a crash (Python's recursion limit) or minutes of work: aliases (`*a` repeats the
# block `&a`) nested ten deep, ten at a time, make a billion values from a few lines.
MAX_DEPTH = 100  # blocks and lists inside each other
MAX_REPEATED = 100_000  # values that aliases may add beyond the file's own


class _TooComplex(yaml.MarkedYAMLError):
    """A document beyond MAX_DEPTH or MAX_REPEATED; `problem` and `note` say so in words."""


def _too_deep(mark: Any) -> _TooComplex:
    return _TooComplex(problem=f"blocks and lists are nested more than {MAX_DEPTH} levels "
                       "deep here", problem_mark=mark,
                       note="check the brackets and the indentation")


def _check_bounds(loader: _Loader, text: str) -> None:
    """Raise _TooComplex if the document nests too deep or its aliases expand too much;
    reads the parser's events only (nothing is built, nothing is expanded)."""
    limit = len(text) + MAX_REPEATED  # without aliases, a file has fewer values than bytes
    sizes: dict[str, int] = {}  # anchor -> values in the block it names, aliases expanded
    open_: list[list[Any]] = []  # per open block or list: [values so far, its anchor]
    starts, ends = (yaml.SequenceStartEvent, yaml.MappingStartEvent), \
        (yaml.SequenceEndEvent, yaml.MappingEndEvent)
    while not isinstance(event := loader.get_event(), yaml.StreamEndEvent):
        if isinstance(event, starts):
            if len(open_) >= MAX_DEPTH:
                raise _too_deep(event.start_mark)
            open_.append([1, event.anchor])
            continue
        if isinstance(event, ends):
            count, anchor = open_.pop()
            if anchor is not None:
                sizes[anchor] = count
        elif isinstance(event, yaml.ScalarEvent):
            count = 1
            if event.anchor is not None:
                sizes[event.anchor] = 1
        elif isinstance(event, yaml.AliasEvent):
            count = sizes.get(event.anchor, 1)  # (an unknown alias: PyYAML's error says so)
        else:
            continue
        if open_:
            open_[-1][0] += count
            if open_[-1][0] > limit:
                raise _TooComplex(
                    problem="the aliases ('*name') here repeat their blocks too often (the "
                    f"file would hold over {limit:,} values)", problem_mark=event.start_mark,
                    note="write the values out, or repeat fewer blocks with '*name'")


def _plain_data(text: str) -> tuple[Any, list[tuple[Any, Any]]]:
    """A document's data and its duplicate keys (key, mark), as PyYAML's `get_single_data`
    gives them, in a quarter of the time.

    PyYAML first composes a node for every value, resolving each one's type in Python, and
    then constructs the data from the nodes, keeping state for anchors and merge keys. These
    files are plain mappings, lists and text: their data is built straight from the parser's
    events instead. A document with anything else (anchors, tags, merge keys, several
    documents) is read again by PyYAML's own composer and constructor."""
    loader = _Loader(text)
    try:
        return _from_events(loader), loader.duplicates
    except _NotPlain:
        pass
    finally:
        loader.dispose()
    loader = _Loader(text)
    try:
        _check_bounds(loader, text)
    finally:
        loader.dispose()
    loader = _Loader(text)
    try:
        return loader.get_single_data(), loader.duplicates
    finally:
        loader.dispose()


def _from_events(loader: _Loader) -> Any:
    """The data of a plain document from `loader`'s events; raises _NotPlain otherwise."""
    next_event = loader.get_event
    resolvers = loader.yaml_implicit_resolvers
    if None in resolvers:  # resolvers for any first character: none in YAML 1.1's set
        raise _NotPlain
    values: dict[tuple[str, str], Any] = {}  # (tag, text) -> the value: few and repeated

    def scalar(event: yaml.ScalarEvent) -> Any:
        if event.anchor is not None or (event.tag is not None and event.tag != _STR):
            raise _NotPlain
        text = event.value
        if event.implicit[0] and event.tag is None:  # unquoted: may be a number, true, ...
            for tag, pattern in resolvers.get(text[:1], ()):
                if pattern.match(text):
                    if tag not in _VALUE_TAGS:
                        raise _NotPlain  # a merge key '<<', '='
                    if (tag, text) not in values:
                        values[tag, text] = loader.construct_object(yaml.ScalarNode(
                            tag, text, event.start_mark, event.end_mark, event.style))
                    return values[tag, text]
        return text

    def value(event: yaml.Event, depth: int = 0) -> Any:
        kind = type(event)
        if kind is yaml.ScalarEvent:
            return scalar(event)
        if event.anchor is not None:
            raise _NotPlain
        if depth >= MAX_DEPTH and kind in (yaml.MappingStartEvent, yaml.SequenceStartEvent):
            raise _too_deep(event.start_mark)
        if kind is yaml.MappingStartEvent and event.tag in (None, _MAP):
            data: dict[Any, Any] = {}
            while type(key_event := next_event()) is not yaml.MappingEndEvent:
                if type(key_event) is not yaml.ScalarEvent:
                    raise _NotPlain  # a list or mapping as a key: PyYAML's error says so
                key = scalar(key_event)
                loader.note_key(key, data, key_event)
                data[key] = value(next_event(), depth + 1)
            return data
        if kind is yaml.SequenceStartEvent and event.tag in (None, _SEQ):
            items = []
            while type(item := next_event()) is not yaml.SequenceEndEvent:
                items.append(value(item, depth + 1))
            return items
        raise _NotPlain  # an alias, or an explicit tag

    next_event()  # the stream's start
    if type(next_event()) is yaml.StreamEndEvent:  # an empty file
        return None
    data = value(next_event())
    next_event()  # the document's end
    if type(next_event()) is not yaml.StreamEndEvent:
        raise _NotPlain  # several documents: PyYAML's error says so
    return data


def _explain_yaml_error(exc: yaml.MarkedYAMLError, text: str) -> tuple[str, str]:
    if isinstance(exc, _TooComplex):
        return exc.problem or "", exc.note or ""
    problem = (exc.problem or "").strip()
    mark = exc.problem_mark
    line_text = text.splitlines()[mark.line] if mark and mark.line < len(text.splitlines()) else ""
    if "'\\t'" in problem or ("\t" in line_text[: (mark.column + 1) if mark else 0]):
        return ("a tab character is used for indentation",
                "YAML needs spaces: replace the tab with spaces")
    if "mapping values are not allowed" in problem:
        return ("a ':' appears where it is not expected",
                "if it is part of the text, put the text in quotes; otherwise check the line "
                "above (a '- item' or a field may lack its ':')")
    if "could not find expected ':'" in problem:
        return ("this line has no ':' after its field name",
                "write it as 'field: value', or line it up with the lines above it")
    if "expected <block end>" in problem:
        return ("the indentation is broken here",
                "line this up with the lines above it (use spaces, not tabs)")
    if "flow" in (exc.context or ""):
        return ("a '[' or '{' opened here is not closed properly",
                "close it with ']' or '}', or put text containing brackets or commas in quotes")
    if "found unhashable key" in problem:
        return ("a list or a block is used as a field name",
                "field names are single words followed by ':' (look for a stray '?' or '[')")
    if "cannot be read as '!!" in problem:
        return problem, "remove the '!!' tag: these files need no types, only text and numbers"
    if "found undefined alias" in problem or "found unknown escape" in problem:
        return (f"YAML cannot read this: {problem}",
                "put the text in quotes, or escape the '*' or '\\'")
    context = f" ({exc.context.strip()})" if exc.context else ""
    return (f"YAML syntax error: {problem}{context}",
            "check quotes, colons and indentation on this line and the one before")


# --- Locating a YAML path --------------------------------------------------------------------


@lru_cache(maxsize=64)
def _compose(path: Path, mtime: float) -> yaml.Node | None:
    try:
        return yaml.compose(path.read_text(encoding="utf-8-sig"), Loader=YamlLoader)
    except (yaml.YAMLError, UnicodeDecodeError):
        return None


def locate(path: Path, yaml_path: YamlPath) -> tuple[int, int] | None:
    """Line and column (1-based) of a path such as ("cmocs", 2, "id") in a YAML file.

    Goes as deep as the file allows: for a missing field, that is the block it is missing from.
    """
    try:
        node = _compose(path, path.stat().st_mtime)
    except OSError:
        return None
    if node is None:
        return None
    mark = node.start_mark
    for step in yaml_path:
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                if key_node.value == step:
                    mark, node = key_node.start_mark, value_node
                    break
            else:
                break
        elif isinstance(node, yaml.SequenceNode) and isinstance(step, int):
            if step >= len(node.value):
                break
            node = node.value[step]
            mark = node.start_mark
        else:
            break
    return mark.line + 1, mark.column + 1


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


def _kind(value: Any) -> str:
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
        return at(f"this should be text, but is {_kind(value)}"), hint
    if kind == "list_type":
        return (at(f"this should be a list, but is {_kind(value)}"),
                "write one '- item' per line, or [a, b]")
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return (at(f"this should be a block of 'field: value' lines, but is {_kind(value)}"),
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


# --- The project -----------------------------------------------------------------------------


def yaml_files(folder: Path) -> list[Path]:
    """Every *.yaml and *.yml under `folder`, files or not: the readers say what else is
    wrong with one (a folder where a file belongs, a pipe, a link leading out)."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.rglob("*") if p.suffix in (".yaml", ".yml"))


def project_files(root: Path) -> list[Path]:
    """Every YAML file of a project, in the order `load_corpus` reads them (about)."""
    return yaml_files(root / "theories") + yaml_files(root / "evidence")


def load_corpus(root: Path, problems: Problems, cache: ParseCache | None = None) -> Corpus:
    """Read every theory and evidence file; problems go to `problems`, nothing is raised.

    With a `cache`, unchanged files are not parsed again (the caller saves it)."""
    problems.locate = locate
    corpus = Corpus(root=root)
    theories_dir, evidence_dir = root / "theories", root / "evidence"
    if not theories_dir.exists():
        problems.add(root, "there is no 'theories' folder here",
                     "run the command in your project folder, or create theories/")
    for folder in (theories_dir, evidence_dir):
        if folder.exists() and not folder.is_dir():
            problems.add(folder, "this is a file, but a folder belongs here",
                         f"rename the file and make a folder '{folder.name}' for your records")
            problems.unreadable.add(str(folder))
        elif (target := files.outside(folder, root)) is not None:
            problems.add(folder, f"this is a link to '{target}', outside the project",
                         "move the folder into the project instead of linking to it")
            problems.unreadable.add(str(folder))
    # (nothing is read from a folder reported above)
    readable = theories_dir.is_dir() and str(theories_dir) not in problems.unreadable
    theory_files = yaml_files(theories_dir) if readable else []
    entries = list(theories_dir.glob("*")) if readable else []
    for path in theory_files:
        rel = path.relative_to(theories_dir).parts
        if rel in (("project.yaml",), ("project.yml",)):
            data = parse_yaml(path, problems, cache)
            if data is not None and (data := _mapping(data, path, problems)) is not None:
                project = validate(m.ProjectFile, data, path, problems)
                if project is not None:
                    for i, ctx in enumerate(project.overarching_contexts):
                        ctx._where = (str(path), ("overarching_contexts", i))
                    for i, st in enumerate(project.substantive_theories):
                        st._where = (str(path), ("substantive_theories", i))
                    corpus.project = project
                    corpus.project_file = path
        elif len(rel) == 2 and rel[1] in ("theory.yaml", "theory.yml"):
            _load_theory(path, rel[0], corpus, problems, cache)
        elif len(rel) == 2 and VERSION_FILE.match(rel[1]):
            pass  # read with their theory, below
        else:
            problems.add(path, "unexpected file in theories/",
                         "theories/ holds project.yaml and one folder per theory with "
                         "theory.yaml and v1.yaml, v2.yaml, ...")
    for entry in entries:
        if not entry.is_dir() and entry.suffix not in (".yaml", ".yml") \
                and re.match(m.ID_PATTERN, entry.name):
            problems.add(entry, "this is a file, but a theory's folder belongs here",
                         f"rename the file and make a folder '{entry.name}' with theory.yaml "
                         "and v1.yaml in it")
            problems.unreadable.add(str(entry))
    for theory_dir in sorted(p for p in entries if p.is_dir()):
        if theory_dir.name not in corpus.theories and not any(
            p.name.startswith("theory.") for p in theory_dir.iterdir()
        ):
            problems.add(theory_dir, f"the theory folder '{theory_dir.name}' has no "
                         "theory.yaml", "add theory.yaml with at least 'title: ...'")
    for theory in corpus.theories.values():
        _load_versions(root / "theories" / theory.id, theory, corpus, problems, cache)
    for theory_id in corpus.invalid_ids & {p.name for p in entries}:
        # a theory.yaml that failed: its CMOCs are not "missing" wherever they are used
        for path in _version_files(theories_dir / theory_id).values():
            data = parse_yaml(path, problems, cache)
            if isinstance(data, dict):
                corpus.invalid_ids.update(_ids_in(data.get("cmocs")))
    for path in yaml_files(evidence_dir) if str(evidence_dir) not in problems.unreadable \
            else []:
        _load_evidence(path, corpus, problems, cache)
    return corpus


def _mapping(data: Any, path: Path, problems: Problems) -> dict | None:
    if data is None:
        return {}
    if not isinstance(data, dict):
        problems.add(path, f"the file should hold 'field: value' lines, but holds {_kind(data)}",
                     "see docs/format.md for what this file contains", line=1)
        return None
    return data


def _load_theory(path: Path, theory_id: str, corpus: Corpus, problems: Problems,
                 cache: ParseCache | None = None) -> None:
    if not re.match(m.ID_PATTERN, theory_id):
        message, hint = m.id_problem(theory_id)
        problems.add(path.parent, f"the folder name is not a valid theory id: {message}",
                     "rename the folder: " + hint)
        return
    before = len(problems.items)
    data = parse_yaml(path, problems, cache)
    if data is None and len(problems.items) > before:
        return  # unreadable: reported
    # An empty theory.yaml is a theory without a title (an error), not no theory at all: its
    # versions must not silently vanish from the site.
    if (data := _mapping(data, path, problems)) is None:
        return
    theory = validate(m.TheoryFile, data, path, problems)
    if theory is None:
        corpus.invalid_ids.add(theory_id)
    else:
        theory._id = theory_id
        theory._where = (str(path), ())
        corpus.theories[theory_id] = theory


def _ids_in(data: Any) -> set[str]:
    """Every `id: ...` value in raw YAML data (of a record that failed validation)."""
    if isinstance(data, dict):
        found = {data["id"]} if isinstance(data.get("id"), str) else set()
        return found.union(*(_ids_in(v) for v in data.values()))
    if isinstance(data, list):
        return set().union(*(_ids_in(v) for v in data))
    return set()


def _version_files(folder: Path) -> dict[int, Path]:
    if not folder.is_dir():
        return {}
    return {int(match.group(1)): path for path in folder.iterdir()
            if (match := VERSION_FILE.match(path.name))}


def _load_versions(folder: Path, theory: m.Theory, corpus: Corpus,
                   problems: Problems, cache: ParseCache | None = None) -> None:
    found = _version_files(folder)
    for number in sorted(found):
        path = found[number]
        data = parse_yaml(path, problems, cache)
        if data is None or (data := _mapping(data, path, problems)) is None:
            continue
        version = validate(m.VersionFile, data, path, problems)
        if version is None:
            corpus.invalid_ids.update(_ids_in(data.get("cmocs")))
            corpus.invalid_versions.add((theory.id, number))
        else:
            version._number = number
            version._theory = theory.id
            version._where = (str(path), ())
            theory._versions.append(version)


# Valid records of each evidence file, by the parsed data they came from: `mkdocs serve`
# validates again only the files that changed (evidence is most of a big project).
_VALIDATED: dict[str, tuple[Any, list[tuple[str, Any]]]] = {}


def _load_evidence(path: Path, corpus: Corpus, problems: Problems,
                   cache: ParseCache | None = None) -> None:
    data = parse_yaml(path, problems, cache)
    if data is None or (data := _mapping(data, path, problems)) is None:
        return
    known = _VALIDATED.get(str(path))
    targets = {"sources": corpus.sources, "evidence": corpus.evidence}
    # (unless an id is now used in another file too: then check this one properly)
    if known is not None and known[0] is data and \
            not any(record.id in targets[key] for key, record in known[1]):
        for key, record in known[1]:
            targets[key][record.id] = record
        return
    before = len(problems.items)
    records: list[tuple[str, Any]] = []
    # Validate record by record, so one bad record does not hide the others' references.
    for key, model, target in (("sources", m.Source, corpus.sources),
                               ("evidence", m.Evidence, corpus.evidence)):
        items = data.get(key) or []
        if not isinstance(items, list):
            problems.add(path, f"'{key}' should be a list of records",
                         "write each record as a '- id: ...' block", path=(key,))
            continue
        for i, item in enumerate(items):
            record = validate(model, item, path, problems, base=(key, i))
            if record is None:
                corpus.invalid_ids.update(_ids_in(item))
                continue
            record._where = (str(path), (key, i))
            if record.id in target:
                first = target[record.id]._where
                problems.add(path, f"{key} id '{record.id}' is used twice",
                             f"ids must be unique; the first is in "
                             f"{problems.display(first[0]) if first else '?'}",
                             path=(key, i, "id"))
                continue
            target[record.id] = record
            records.append((key, record))
    rest = {k: v for k, v in data.items() if k not in ("sources", "evidence")}
    if rest:
        validate(m.EvidenceFile, rest, path, problems)  # reports the unknown top-level keys
    if len(problems.items) == before:
        _VALIDATED[str(path)] = (data, records)
