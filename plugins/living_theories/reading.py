"""A YAML file's text into plain data, with its problems at lines and columns.

Each file is decoded as UTF-8 and parsed with libyaml when available (5x faster than pure
Python), from the parser's events (PyYAML's composer and constructor only for what plain data
cannot hold). `parse_yaml` is the one seam to the speed machinery: parsed files kept in memory
and on disk (cache.py) and files parsed ahead in worker processes (ahead.py); nothing that calls
it knows about either. `locate` turns a path such as ("cmocs", 2, "id") back into a line.
"""

from __future__ import annotations

import marshal
import re
from collections.abc import Container
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from . import ahead, files
from .cache import MISSING, ParseCache, Stamp, stamp
from .problems import Problems, YamlPath

YamlLoader: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


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
