"""BibTeX (and biblatex) entries as CSL-JSON, the input of a CSL processor.

The mapping follows citation-js's biblatex mapping, which the citation oracle feeds to
citeproc-js (tests/oracle): the same .bib must give the same CSL item, or the two processors
cannot print the same reference. Every text value is HTML-escaped here, because citeproc-py's
HTML output does not escape what it is given.
"""

from __future__ import annotations

import html
import re
from typing import Any

from .bibtex import Name, Reference

# Entry types as citation-js maps them (biblatexTypes.json).
CSL_TYPES = {
    "article": "article-journal", "book": "book", "mvbook": "book", "inbook": "chapter",
    "bookinbook": "book", "booklet": "book", "collection": "book", "mvcollection": "book",
    "incollection": "chapter", "dataset": "dataset", "manual": "report", "misc": "document",
    "online": "webpage", "electronic": "webpage", "www": "webpage", "patent": "patent",
    "periodical": "periodical", "proceedings": "book", "mvproceedings": "book",
    "inproceedings": "paper-conference", "conference": "paper-conference", "reference": "book",
    "mvreference": "book", "inreference": "entry", "report": "report", "techreport": "report",
    "software": "software", "thesis": "thesis", "phdthesis": "thesis", "mastersthesis": "thesis",
    "unpublished": "manuscript", "standard": "standard", "legislation": "legislation",
}
# A thesis or report without a `type` field: biblatex's English name for its kind.
TYPE_STRINGS = {"techreport": "Technical report", "phdthesis": "PhD thesis",
                "mastersthesis": "Master's thesis"}
# BibTeX field -> CSL variable, the first field present winning (journaltitle over journal).
TEXT_FIELDS = [
    ("journaltitle", "container-title"), ("booktitle", "container-title"),
    ("journal", "container-title"), ("volume", "volume"), ("pages", "page"),
    ("address", "publisher-place"), ("location", "publisher-place"), ("edition", "edition"),
    ("note", "note"), ("doi", "DOI"), ("url", "URL"), ("isbn", "ISBN"), ("issn", "ISSN"),
    ("pmid", "PMID"), ("pmcid", "PMCID"), ("series", "collection-title"),
    ("chapter", "chapter-number"), ("language", "language"), ("abstract", "abstract"),
    ("shorttitle", "title-short"), ("eventtitle", "event-title"), ("venue", "event-place"),
]
# Publisher: a publisher, else an organisation, an institution or a school; else, for a work
# published in some other way, `howpublished` (unless it is an address).
PUBLISHER_FIELDS = ("publisher", "organization", "institution", "school")
# Entry types whose `number` is a series number, not an issue.
SERIES_NUMBERED = {"book", "mvbook", "inbook", "bookinbook", "suppbook", "collection",
                   "mvcollection", "incollection", "suppcollection", "manual",
                   "suppperiodical", "proceedings", "mvproceedings", "reference"}
MONTHS = {m: i for i, m in enumerate(
    ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], 1)}


def _escape(value: str) -> str:
    return html.escape(value, quote=False)


def names(people: list[Name]) -> list[dict[str, str]]:
    """Names as CSL name objects. A corporate author ({NHS England}) is a family name alone,
    as citation-js gives it: citeproc-js and citeproc-py then sort and print it as written."""
    out = []
    for n in people:
        item = {"family": _escape(n.family)}
        if n.given and not n.literal:
            item["given"] = _escape(n.given)
            if n.particle:
                item["non-dropping-particle"] = _escape(n.particle)
            if n.suffix:
                item["suffix"] = _escape(n.suffix)
        elif n.particle:
            item["non-dropping-particle"] = _escape(n.particle)
        out.append(item)
    return out


def _month(value: str | None) -> list[int]:
    """`nov`, `{Nov}`, `November`, `11` -> [11]; anything else -> []."""
    if not value:
        return []
    value = value.strip().lower()
    if value.isdigit() and 1 <= int(value) <= 12:
        return [int(value)]
    return [MONTHS[value[:3]]] if value[:3] in MONTHS else []


def date(value: str | None) -> dict[str, Any] | None:
    """An ISO date (`2023-03-10`, `2023-03`, `2023`, a range `2020/2021`) as CSL date-parts."""
    if not value:
        return None
    parts = []
    for part in value.strip().split("/"):
        match = re.match(r"^(-?\d{1,4})(?:-(\d{1,2}))?(?:-(\d{1,2}))?", part.strip())
        if not match:
            return {"literal": _escape(value)}
        parts.append([int(p) for p in match.groups() if p])
    return {"date-parts": parts}


def _issued(ref: Reference) -> dict[str, Any] | None:
    if ref.field("date"):
        return date(ref.field("date"))
    year = ref.field("year")
    if not year:
        return None
    if not year.strip().lstrip("-").isdigit():
        return {"literal": _escape(year)}
    month, day = ref.field("month"), ref.field("day")
    if month and day and month.strip().isdigit() and day.strip().isdigit():
        return {"date-parts": [[int(year), int(month), int(day)]]}
    return {"date-parts": [[int(year), *_month(month)]]}


def _title(ref: Reference) -> str | None:
    title = ref.field("title")
    if title and ref.field("subtitle"):
        title = f"{title}: {ref.field('subtitle')}"
    if title and ref.field("titleaddon"):
        title = f"{title}. {ref.field('titleaddon')}"
    return title


def csl_item(ref: Reference) -> dict[str, Any]:
    """A BibTeX entry as CSL-JSON, every value HTML-escaped."""
    kind = CSL_TYPES.get(ref.type, "document")
    item: dict[str, Any] = {"id": ref.key.lower(), "type": kind}
    genre = ref.field("type") or ref.field("entrysubtype") or TYPE_STRINGS.get(ref.type)
    if genre:
        item["genre"] = _escape(genre)
    title = _title(ref)
    if title:
        item["title"] = _escape(title)
    for bib_field, csl_field in TEXT_FIELDS:
        value = ref.field(bib_field)
        if value and csl_field not in item:
            if csl_field == "page":
                value = value.replace("\u2013", "-")
            item[csl_field] = _escape(value)
    publisher = next((ref.field(f) for f in PUBLISHER_FIELDS if ref.field(f)), None)
    how = ref.field("howpublished")
    if publisher:
        item["publisher"] = _escape(publisher)
    elif how and not how.startswith("http"):
        item["publisher"] = _escape(how)
    if how and how.startswith("http") and "URL" not in item:
        item["URL"] = _escape(how)
    number = ref.field("number")
    if number:
        if kind in ("report", "patent", "legislation"):
            item["number"] = _escape(number)
        elif ref.type in SERIES_NUMBERED:
            item["collection-number"] = _escape(number)
        else:
            item["issue"] = _escape(number)
    if ref.field("issue") and "issue" not in item:
        item["issue"] = _escape(ref.field("issue") or "")
    for role in ("author", "editor", "translator"):
        people = ref.names(role)
        if people:
            item[role] = names(people)
    issued = _issued(ref)
    if issued:
        item["issued"] = issued
    accessed = date(ref.field("urldate"))
    if accessed:
        item["accessed"] = accessed
    return item


def escape_item(item: Any) -> Any:
    """HTML-escape every string in a CSL-JSON item (citeproc-py's output does not)."""
    if isinstance(item, str):
        return _escape(item)
    if isinstance(item, list):
        return [escape_item(v) for v in item]
    if isinstance(item, dict):
        return {k: (v if k == "id" else escape_item(v)) for k, v in item.items()}
    return item
