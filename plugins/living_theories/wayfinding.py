"""What a reader sees instead of ids and placeholders, and how they find their way: CMOC
names, breadcrumb trails, the nav section a generated page belongs to, and links in formatted
references. Plain Python; the pages (pages/) use it, the MkDocs adapter only marks the
section in the nav."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from string import ascii_lowercase

from markupsafe import Markup

from . import models as m

ELEMENT_FIELDS = ("contexts", "mechanism_resources", "mechanism_reasonings", "outcomes")


def stated(cmoc: m.CMOC) -> bool:
    """Whether the record gives any of a CMOC's text: a narrative or an element. A CMOC known
    only by a label, title or notes (a paper that names it but does not print it) is not."""
    return bool(cmoc.narrative) or any(getattr(cmoc, f) for f in ELEMENT_FIELDS)


def has_elements(cmoc: m.CMOC) -> bool:
    return any(getattr(cmoc, f) for f in ELEMENT_FIELDS)


def _letter(i: int) -> str:
    return ascii_lowercase[i] if i < 26 else str(i + 1)


def positional_names(versions: Iterable[m.Version]) -> dict[int, str]:
    """Names for CMOCs that have nothing better: a CMOC the record does not print (its title is
    then a placeholder, not a name), or one with no label and no title, is called by its place
    in its version, e.g. 'Initial CMOC (a)'. Keyed by the CMOC object's id()."""
    out: dict[int, str] = {}
    for version in versions:
        nameless = [c for c in version.cmocs + version.examples
                    if not stated(c) or not (c.label or c.title)]
        for i, c in enumerate(nameless):
            kind = "example" if c.illustrates else "CMOC"
            where = f" ({_letter(i)})" if len(nameless) > 1 else ""
            out[id(c)] = f"{version.stage.capitalize()} {kind}{where}"
    return out


def cmoc_name(cmoc: m.CMOC, positional: dict[int, str]) -> str:
    """'CMOC 1: Trust', 'Trust', 'CMOC 1', or the CMOC's place in its version."""
    if id(cmoc) in positional:
        return positional[id(cmoc)]
    if cmoc.label and cmoc.title:
        return f"{cmoc.label}: {cmoc.title}"
    return cmoc.title or cmoc.label or cmoc.id


def short_name(cmoc: m.CMOC, positional: dict[int, str]) -> str:
    """A column heading: the label the study numbers it with, else its name."""
    if id(cmoc) in positional:
        return positional[id(cmoc)]
    return cmoc.label or cmoc.title or cmoc.id


# --- Ids written in prose ----------------------------------------------------------------------

_CODE_ID = re.compile(r"(?<!`)`([a-z0-9][a-z0-9_-]*)`(?!`)", re.I)


def named_ids(markdown: str, resolve: Callable[[str], tuple[str, str] | None]) -> str:
    """A Markdown field in which a code span holding only a record's id (`lv-shared-vision`)
    becomes a link named as the record is named on its page: authors write ids in notes, a
    reader should see names. `resolve` gives (Markdown link text, target) or None."""
    if "`" not in markdown:
        return markdown

    def swap(found: re.Match) -> str:
        hit = resolve(found.group(1))
        return f"[{hit[0]}]({hit[1]})" if hit else found.group(0)

    return _CODE_ID.sub(swap, markdown)


# --- Links in formatted references -------------------------------------------------------------

_URL = re.compile(r"(?<![\"'=>/\w])(https?://[^\s<>\"]+)")


def linked(html_text: str) -> Markup:
    """A formatted reference (HTML from the citation style) whose DOI and URL addresses are
    links: styles print 'Available at: https://doi.org/...' as text. Addresses inside tags
    or already linked are left alone; a sentence's final full stop is not part of one."""
    if "<a " in html_text:
        return Markup(html_text)
    parts = re.split(r"(<[^>]*>)", html_text)
    for i, part in enumerate(parts):
        if not part.startswith("<"):
            parts[i] = _URL.sub(_anchor, part)
    return Markup("".join(parts))


def _anchor(found: re.Match) -> str:
    url = found.group(1)
    tail = ""
    while url and url[-1] in ".,;:)]":
        if url[-1] == ")" and url.count("(") >= url.count(")"):
            break
        url, tail = url[:-1], url[-1] + tail
    return f'<a href="{url}">{url}</a>{tail}'


# --- Breadcrumbs and sections ------------------------------------------------------------------


@dataclass(frozen=True)
class Crumb:
    title: str
    path: str | None  # None: the page itself


def breadcrumbs(crumbs: list[Crumb], link: Callable[[str], str],
                escape: Callable[[str], str]) -> str:
    """A breadcrumb trail as Markdown inside a <nav> landmark (md_in_html), so MkDocs checks
    and rewrites its links as any other; the last crumb is the page itself."""
    parts = []
    for crumb in crumbs:
        if crumb.path is None:
            parts.append(f'<span aria-current="page">{escape(crumb.title)}</span>')
        else:
            parts.append(f"[{escape(crumb.title)}]({link(crumb.path)})")
    sep = ' <span class="lt-crumb-sep" aria-hidden="true">›</span> '
    return ('<nav class="lt-breadcrumbs" aria-label="Breadcrumb" markdown="1">\n\n'
            + sep.join(parts) + "\n\n</nav>\n\n")


_SEARCH_DIALOG = '<div class="md-search" data-md-component="search" role="dialog">'


def accessible(page_html: str) -> str:
    """A built page with what the theme leaves out for screen readers: Material's search is a
    dialog with no name (axe-core: aria-dialog-name, serious)."""
    return page_html.replace(_SEARCH_DIALOG, _SEARCH_DIALOG[:-1] + ' aria-label="Search">', 1)
