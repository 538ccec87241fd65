"""Values as Markdown: literal text escaped, narrative fields kept as Markdown under the URL
policy (links.py), word diffs with their citations."""

from __future__ import annotations

import functools
import re
from typing import Any

from markupsafe import Markup

from .. import links
from ..citations.syntax import BRACKETED, parse_group

# --- Escaping ----------------------------------------------------------------------------------

# Characters Markdown may read as syntax, written as numeric references so they show as-is.
_MD_SPECIALS = {c: f"&#{ord(c)};" for c in "\\`*_{}[]#|~^=!@$"}
_MD_SPECIALS.update({"<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;"})
_LINE_START = {c: f"&#{ord(c)};" for c in "-+.:0123456789"}
_ESCAPE = str.maketrans(_MD_SPECIALS)


def text(value: Any) -> Markup:
    """Any value as literal text inside Markdown: no HTML, no Markdown, no citations."""
    if isinstance(value, Markup):
        return value
    if value is None:
        return Markup("")
    if isinstance(value, (int, float)):
        return Markup(str(value))
    return _text(str(value))


@functools.lru_cache(maxsize=1 << 16)
def _text(value: str) -> Markup:
    # Ids, names and titles are written on many pages.
    s = " ".join(value.split())
    out = s.translate(_ESCAPE)
    if s and s[0] in _LINE_START:  # "1. x" or "- x" must not become a list
        out = _LINE_START[s[0]] + out[1:]
    return Markup(out)


def quote_lines(value: str | None) -> Markup:
    """A verbatim quote inside a Markdown blockquote, escaped, its line breaks kept (a quote
    is shown character for character, as the source has it)."""
    lines = (value or "").strip().split("\n")
    return Markup("<br>\n> ".join(_text(line) for line in lines))


def md(value: str | None) -> Markup:
    """A Markdown field: formatting and citations kept; raw HTML and attribute lists shown as
    text; a link the URL policy drops (links.py) shown as text, or if that cannot be done,
    the whole field as plain text. validate reports such links at file:line."""
    if not value:
        return Markup("")
    s = links.field_source(value)
    if links.unsafe(s):
        safe = links.disarmed(s)
        return Markup(safe) if safe is not None else text(value)
    return Markup(s)


def segments(segs: list[tuple[str, str]]) -> Markup:
    """A word diff (history.word_diff) as text with <ins> and <del>. `text` squeezes white
    space, so the spaces around a segment are written outside it."""
    out = []
    for op, value in segs:
        body = _cited_text(value)
        if op in _DIFF_TAGS:
            body = f"<{_DIFF_TAGS[op]}>{body}</{_DIFF_TAGS[op]}>"
        out.append((" " if value[:1].isspace() else "") + body
                   + (" " if value[-1:].isspace() else ""))
    return Markup("".join(out))


_DIFF_TAGS = {"insert": "ins", "delete": "del"}
_SAFE_CITATION = re.compile(r"^[^<>`*_\\|]*$")


def _cited_text(value: str) -> Markup:
    """A piece of a word diff as text, its whole bracketed citations ([@key, p. 4]) kept for
    the citations extension to format: a reader sees (Author, 2024), never [@key]."""
    out, last = [], 0
    for found in BRACKETED.finditer(value):
        cites = parse_group(found["body"])
        if not cites or not all(_PLAIN_KEY.match(c.key) for c in cites) \
                or not _SAFE_CITATION.match(found["body"]):
            continue
        out.append(_spaced(value[last:found.start()]))
        out.append(" ".join(found.group(0).split()))
        last = found.end()
    if not out:
        return text(value)
    out.append(_spaced(value[last:]))
    return Markup("".join(out))


def _spaced(value: str) -> str:
    """`text`, keeping one space where the value starts or ends with some."""
    if not value.strip():
        return " " if value else ""
    return ((" " if value[:1].isspace() else "") + text(value)
            + (" " if value[-1:].isspace() else ""))
_PLAIN_KEY = re.compile(r"^[\w](?:[\w:.#$%&\-+?<>~/]*[\w])?$")




def cite(key: str) -> Markup:
    """A BibTeX key as a citation the Markdown extension formats (keys are validated)."""
    return Markup(f"[@{key}]") if _PLAIN_KEY.match(key) else text(key)


def md_inline(value: str | None) -> Markup:
    """A Markdown field on one line (a list item or table cell)."""
    return md(" ".join((value or "").split()))
