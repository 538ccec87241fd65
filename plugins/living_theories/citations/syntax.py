"""Pandoc citation syntax: `[@key]`, `[@key, p. 4]`, `@key`, `[-@key]`, `[see @a; @b, pp. 3-5]`.

Pure functions over strings: used by validation (which keys does this text cite?) and by the
Markdown extension that renders citations in pages.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

# Pandoc: a key starts with a letter, digit or _, may contain :.#$%&-+?<>~/ inside, and ends
# with a letter, digit or _; `@{...}` allows anything else.
KEY = r"(?:[\w](?:[\w:.#$%&\-+?<>~/]*[\w])?|\{[^{}]+\})"
_ITEM = re.compile(rf"^(?P<prefix>.*?)(?P<suppress>-?)@(?P<key>{KEY})(?P<suffix>.*)$", re.S)
# A bracketed group holding at least one @, not followed by ( or [ (then it is a link).
# "[@key]:" is a citation before a colon: Markdown's reference definitions are taken out
# before inline text is read, so they never reach this pattern.
BRACKETED = re.compile(r"(?<!\\)\[(?P<body>[^\[\]]*@[^\[\]]*)\](?![(\[])")
# In-text: @key not preceded by a word character (so e-mail addresses are not citations),
# optionally followed by a locator in brackets: @key [p. 33].
IN_TEXT = re.compile(rf"(?<![\w@\\\[])(?P<suppress>-?)@(?P<key>{KEY})(?:\s\[(?P<loc>[^\[\]@]*)\])?")
# Code, comments, link targets and bare URLs never hold citations: they are blanked out before
# searching (indented code blocks by `_indented_code`, which needs to see whole lines).
_NOT_TEXT = re.compile(
    r"<!--.*?-->|^[ \t]*(?P<fence>```|~~~).*?^[ \t]*(?P=fence)|(?P<tick>`+)(?:.+?)(?P=tick)"
    r"|(?<=\])\([^)\s]*\)|<?https?://[^\s>]+>?",
    re.S | re.M,
)
# What every match of _NOT_TEXT starts with, one of them at least: most texts hold none, and
# are searched without blanking anything out.
_MAY_HIDE = ("<!--", "`", "~~~", "](", "http")
# Lines after which an indented block is content (a list item's, an admonition's, a footnote's
# or a definition's), not code.
_OPENS_BLOCK = re.compile(r"^(?:[-*+]|\d+[.)]|!!!|\?\?\?\+?|\[\^[^\]]+\]:|:)(?:\s|$)")


def _indented_code(text: str) -> list[tuple[int, int]]:
    """Spans of Markdown's indented code blocks: lines indented by 4 spaces or a tab after a
    blank line, unless they continue a list item, an admonition or a footnote."""
    spans: list[tuple[int, int]] = []
    pos, blank_before, code, opener = 0, True, False, False
    for line in text.splitlines(keepends=True):
        stripped = line.strip()
        if not stripped:
            blank_before = True
        elif line.startswith(("    ", "\t")):
            if blank_before and not code:
                code = not opener  # a new indented chunk: code unless something opened it
            if code:
                spans.append((pos, pos + len(line)))
            blank_before = False
        else:
            code, blank_before = False, False
            opener = bool(_OPENS_BLOCK.match(stripped)) or (opener and not blank_before)
        pos += len(line)
    return spans


@dataclass(frozen=True)
class Cite:
    key: str
    prefix: str = ""
    locator: str = ""  # "p. 4", "pp. 3-5", "chap. 1": what follows the key's comma
    suppress_author: bool = False


@dataclass(frozen=True)
class Citation:
    cites: tuple[Cite, ...]
    in_text: bool
    start: int
    end: int


def _clean_key(key: str) -> str:
    return key[1:-1] if key.startswith("{") else key


def parse_group(body: str) -> tuple[Cite, ...] | None:
    """The cites of a bracketed group's body, or None if any item is not a citation."""
    cites = []
    for part in body.split(";"):
        match = _ITEM.match(part.strip())
        if not match:
            return None
        suffix = match["suffix"].strip()
        locator = suffix[1:].strip() if suffix.startswith(",") else suffix
        cites.append(Cite(_clean_key(match["key"]), match["prefix"].strip(), locator,
                          bool(match["suppress"])))
    return tuple(cites)


def find_citations(text: str) -> list[Citation]:
    """Every citation in a Markdown text, outside code (spans, fenced and indented blocks),
    HTML comments and links."""
    masked = text
    if any(start in text for start in _MAY_HIDE):
        masked = _NOT_TEXT.sub(lambda mt: " " * len(mt.group(0)), text)
    if "    " in masked or "\t" in masked:  # there may be indented code
        for a, b in _indented_code(masked):
            masked = masked[:a] + " " * (b - a) + masked[b:]
    found: list[Citation] = []
    taken: list[tuple[int, int]] = []
    for mt in BRACKETED.finditer(masked):
        cites = parse_group(mt["body"])
        if cites:
            found.append(Citation(cites, False, mt.start(), mt.end()))
            taken.append((mt.start(), mt.end()))
    for mt in IN_TEXT.finditer(masked):
        if any(a <= mt.start() < b for a, b in taken):
            continue
        cite = Cite(_clean_key(mt["key"]), "", (mt["loc"] or "").strip(), bool(mt["suppress"]))
        found.append(Citation((cite,), True, mt.start(), mt.end()))
    return sorted(found, key=lambda c: c.start)


def cited_keys(text: str) -> list[str]:
    return list(_cited_keys(text))


@lru_cache(maxsize=1 << 16)
def _cited_keys(text: str) -> tuple[str, ...]:
    # Every check and page asks again of the same texts (and `mkdocs serve` of unchanged ones).
    if "@" not in text:  # most texts cite nothing
        return ()
    return tuple(cite.key for c in find_citations(text) for cite in c.cites)
