"""The bibliography: `references.bib` read with bibtexparser 2.x.

Parsing is cheap; decoding LaTeX is not (see docs/performance.md), so fields are decoded one
at a time, on first use, and only for the entries a page shows. Names are split before they
are decoded: decoding first would turn `{World Health Organization}` into a person.
"""

from __future__ import annotations

import logging
import marshal
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from .. import ahead, files
from ..cache import MISSING, ParseCache, Stamp, stamp
from ..problems import Problems

# bibtexparser logs its own account of a failed block; we report every failed block ourselves.
logging.getLogger("bibtexparser").setLevel(logging.CRITICAL)

# bibtexparser and pylatexenc are imported when first needed: a build that finds the .bib
# in the parse cache and its citations formatted (see formatting.py) does without them.
@lru_cache(maxsize=1)
def _latex() -> Any:
    from pylatexenc.latex2text import LatexNodes2Text

    return LatexNodes2Text(strict_latex_spaces=True)


@lru_cache(maxsize=65536)
def decode(value: str) -> str:
    """LaTeX to Unicode text: `Koz{\\l}owska` -> `Kozłowska`, `{NHS}` -> `NHS`."""
    if not any(ch in value for ch in "\\{}$~"):
        return value.replace("--", "\u2013")
    try:
        return _latex().latex_to_text(value).strip()
    except (Exception, RecursionError):  # pylatexenc fails on e.g. \href{a} or deep braces
        return _plain(value)


def _plain(value: str) -> str:
    """LaTeX markup dropped rather than decoded: commands, braces, math dollars."""
    text = re.sub(r"\\([a-zA-Z]+\*?|.)", lambda m: m.group(1) if not m.group(1).isalpha()
                  else "", value)
    return " ".join(re.sub(r"[{}$]", "", text).replace("--", "\u2013").replace("~", " ").split())


@dataclass(frozen=True)
class Name:
    family: str
    given: str = ""
    particle: str = ""  # "van der"
    suffix: str = ""  # "Jr."
    literal: bool = False  # a corporate author written in braces: {NHS England}


def parse_names(value: str) -> list[Name]:
    from bibtexparser.middlewares.names import (
        parse_single_name_into_parts,
        split_multiple_persons_names,
    )

    names = []
    for raw in split_multiple_persons_names(value):
        raw = raw.strip()
        if raw.startswith("{") and raw.endswith("}") and raw.count("{") == 1:
            names.append(Name(decode(raw), literal=True))
            continue
        try:
            parts = parse_single_name_into_parts(raw)
        except Exception:  # e.g. unbalanced braces (InvalidNameError): shown as written
            names.append(Name(decode(raw), literal=True))
            continue
        names.append(Name(
            family=decode(" ".join(parts.last)),
            given=decode(" ".join(parts.first)),
            particle=decode(" ".join(parts.von)),
            suffix=decode(" ".join(parts.jr)),
        ))
    return names


@dataclass
class Reference:
    key: str
    type: str  # article, book, ...
    raw: dict[str, str]
    line: int  # 1-based line of the entry in the .bib file

    def field(self, name: str) -> str | None:
        value = self.raw.get(name)
        return decode(value) if value is not None else None

    def names(self, role: str = "author") -> list[Name]:
        value = self.raw.get(role)
        return parse_names(value) if value else []


@dataclass
class Bibliography:
    path: Path | None = None
    entries: dict[str, Reference] = field(default_factory=dict)
    unreadable: bool = False  # the file is not text: no key can be checked against it

    def __contains__(self, key: str) -> bool:
        return key in self.entries

    def __getitem__(self, key: str) -> Reference:
        return self.entries[key]


def _explain_failed(block: Any) -> tuple[str, str]:
    from bibtexparser import model as bm

    if isinstance(block, bm.DuplicateBlockKeyBlock):
        return (f"the key '{block.key}' is used by two entries",
                "give one of them another key, or delete the duplicate")
    if isinstance(block, bm.DuplicateFieldKeyBlock):
        fields = ", ".join(sorted(block.duplicate_keys))
        return (f"the entry '{block.ignore_error_block.key}' has the field {fields} twice",
                "keep one of them")
    first = block.raw.strip().splitlines()[0] if block.raw.strip() else ""
    return (f"this entry cannot be read: {first[:60]}",
            "check for a missing comma after the key or a field, or an unbalanced { or \"")


# The last clean bibliography read from each file, by size, modification and change times: an
# unchanged .bib is not parsed again, and formatted citations of it stay valid. `cache` (a
# `ParseCache`, see cache.py) keeps its entries on disk for the next run.
_READ: dict[str, tuple[Stamp, Bibliography]] = {}


def load_bibliography(path: Path, problems: Problems,
                      cache: ParseCache | None = None) -> Bibliography:
    """Read a .bib file; every unreadable entry is reported with its line."""
    when = stamp(path)
    if when is None:
        return Bibliography(path=path)
    cached = _READ.get(str(path))
    blob = None  # the entries marshalled, when a worker read them (see ahead.py)
    if cached and cached[0] == when:
        bib = cached[1]
    else:
        kept = cache.get("bib", path, when) if cache is not None else MISSING
        if kept is MISSING and (blob := ahead.result("bib", path, when)) is not None:
            kept = marshal.loads(blob)
        if kept is not MISSING:
            bib = Bibliography(path=path, entries={
                key: Reference(key, kind, raw, line) for key, kind, raw, line in kept})
        else:
            before = len(problems.items)
            bib = _load_bibliography(path, problems)
            if len(problems.items) != before:
                return bib  # only clean files are kept: their problems must show again
        _READ[str(path)] = (when, bib)
    if cache is not None:
        cache.put("bib", path, when, _kept(bib), blob)
    return bib


def _kept(bib: Bibliography) -> list[tuple[str, str, dict[str, str], int]]:
    """What the parse cache keeps of a bibliography."""
    return [(r.key, r.type, r.raw, r.line) for r in bib.entries.values()]


def parse_quietly(path: Path) -> list[tuple[str, str, dict[str, str], int]]:
    """A clean .bib file's entries as the parse cache keeps them (for `ahead`, in another
    process); raises on any problem at all, which `load_bibliography` will then report."""
    problems = Problems(path.parent)
    bib = _load_bibliography(path, problems)
    if problems.items:
        raise ValueError("the bibliography has problems")
    return _kept(bib)


def _load_bibliography(path: Path, problems: Problems) -> Bibliography:
    bib = Bibliography(path=path)
    if not path.exists() and not path.is_symlink():
        return bib
    try:
        data = files.read_bytes(path, problems.root)
        text = data.decode("utf-8-sig")
    except files.FileProblem as exc:
        problems.add(path, exc.message, exc.hint)
        bib.unreadable = True
        return bib
    except UnicodeDecodeError as exc:
        problems.add(path, f"the file is not UTF-8 text (byte 0x{data[exc.start]:02x})",
                     "export it from Zotero or EndNote with UTF-8 encoding",
                     line=data[: exc.start].count(b"\n") + 1)
        bib.unreadable = True
        return bib
    import bibtexparser

    library = bibtexparser.parse_string(text)
    for block in library.failed_blocks:
        message, hint = _explain_failed(block)
        problems.add(path, message, hint, line=block.start_line + 1)
    folded: dict[str, str] = {}
    for entry in library.entries:
        if not entry.key.strip():
            problems.add(path, f"this @{entry.entry_type} entry has no key",
                         "write its key after the '{', e.g. @book{pawson1997,",
                         line=entry.start_line + 1)
            continue
        for f in entry.fields:
            if (missing := _missing_comma(str(f.value))) is not None:
                problems.add(path, f"a comma is missing after the field '{f.key}' of "
                             f"'{entry.key}', so '{missing[1]}' was read as part of it",
                             "end every field with a comma: title = {...},",
                             line=f.start_line + 1 + missing[0])
        other = folded.get(entry.key.lower())
        if other is not None:
            problems.add(path, f"the keys '{other}' and '{entry.key}' differ only in capitals",
                         "citation styles ignore case: rename one of them",
                         line=entry.start_line + 1)
            continue
        folded[entry.key.lower()] = entry.key
        raw = {f.key.lower(): str(f.value) for f in entry.fields}
        bib.entries[entry.key] = Reference(entry.key, entry.entry_type.lower(), raw,
                                           entry.start_line + 1)
    return bib


_NEXT_FIELD = re.compile(r"\n\s*([A-Za-z][\w-]*)\s*=")


def _missing_comma(value: str) -> tuple[int, str] | None:
    """(line within the value, field name) if a value runs on into the next field: a line
    break followed by `name =` outside braces and quotes (`title = {x}` `year = 2015` with
    no comma between them is read by bibtexparser as one title)."""
    if "=" not in value:
        return None
    depth, quoted = 0, False
    for i, ch in enumerate(value):
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth = max(depth - 1, 0)
        elif ch == '"' and depth == 0:
            quoted = not quoted
        elif ch == "\n" and depth == 0 and not quoted \
                and (match := _NEXT_FIELD.match(value, i)) is not None:
            return value.count("\n", 0, i), match.group(1)
    return None
