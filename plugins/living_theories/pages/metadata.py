"""What reference managers and search engines read from a released version's page, in its
`<head>`: Highwire Press `citation_*` tags (read by Zotero's "Embedded Metadata" translator and
Google Scholar), Dublin Core, and schema.org JSON-LD.

All three are worked out from the version's citation item (Site.citation_item), so they say
what its cite box and cite files say. Only released versions carry them: a draft is not for
citation, and a public build shows no draft or confidential record at all.
"""

from __future__ import annotations

import json
import re
from typing import Any

from markupsafe import escape

from .. import models as m
from ..citations.bibtex import Reference
from ..citing import is_organisation, plain_text
from ..releases import version_citations
from .paths import theory_path, version_path

DUBLIN_CORE = "http://purl.org/dc/elements/1.1/"
SCHEMA_ORG = "https://schema.org"
# BibTeX entry types as schema.org types (anything else is a CreativeWork).
SCHEMA_TYPES = {"article": "ScholarlyArticle", "book": "Book", "incollection": "Chapter",
                "inbook": "Chapter", "phdthesis": "Thesis", "mastersthesis": "Thesis",
                "report": "Report", "techreport": "Report", "online": "WebPage"}


def version_metadata(site: Any, theory: m.Theory, version: m.Version) -> dict[str, Any] | None:
    """The metadata of a released version: {"meta": [(name, content)], "jsonld": {...}};
    None for a draft."""
    if version.status != m.Status.released.value:
        return None
    item = site.citation_item(theory, version)
    frozen, project = site.as_released(theory, version)
    date = _iso(item["issued"]["date-parts"][0]) if "issued" in item else None
    statement = plain_text(version.statement) if version.statement else None
    return {"meta": _tags(item, date, project, statement),
            "jsonld": _jsonld(site, frozen, version, item, date, project, statement)}


def _iso(parts: list[int]) -> str:
    return "-".join(f"{p:02d}" if i else str(p) for i, p in enumerate(parts))


def _author_names(item: dict[str, Any]) -> list[str]:
    """Each author as Zotero and Google Scholar read one `citation_author`: "Family, Given",
    an organisation by its whole name. Zotero splits a value into authors at ';' and a name
    into family and given at ',': neither is left inside a name."""
    def one(name: str, separators: str) -> str:
        return " ".join(re.sub(f"[{separators}]", " ", name).split())

    return [f"{one(a['family'], ';,')}, {one(a['given'], ';,')}" if a.get("given")
            else one(a.get("literal") or a.get("family", ""), ";,")
            for a in item.get("author", [])]


def _tags(item: dict[str, Any], date: str | None, project: m.ProjectFile,
          statement: str | None) -> list[tuple[str, str]]:
    tags: list[tuple[str, str]] = [("citation_title", item["title"])]
    tags += [("citation_author", name) for name in _author_names(item)]
    if date:  # Google Scholar asks for 2024/02/01; Zotero reads both
        tags += [("citation_publication_date", date.replace("-", "/")),
                 ("citation_date", date.replace("-", "/"))]
    if item.get("publisher"):  # (the institution makes Zotero save it as a report)
        tags += [("citation_technical_report_institution", item["publisher"]),
                 ("citation_publisher", item["publisher"])]
    if item.get("DOI"):
        tags.append(("citation_doi", item["DOI"]))
    if item.get("URL"):
        tags += [("citation_public_url", item["URL"]),
                 ("citation_abstract_html_url", item["URL"])]
    if statement:
        tags.append(("citation_abstract", statement))
    tags.append(("DC.title", item["title"]))
    tags += [("DC.creator", name) for name in _author_names(item)]
    if date:
        tags.append(("DC.date", date))
    if item.get("URL"):
        tags.append(("DC.identifier", item["URL"]))
    if item.get("DOI"):
        tags.append(("DC.identifier", f"https://doi.org/{item['DOI']}"))
    if item.get("publisher"):
        tags.append(("DC.publisher", item["publisher"]))
    tags.append(("DC.type", "Text"))  # (the DCMI Type Vocabulary's term for a document)
    if project.license:
        tags.append(("DC.rights", project.license))
    return tags


def _person(person: m.Person) -> dict[str, Any]:
    if is_organisation(person):
        return {"@type": "Organization", "name": person.family}
    out: dict[str, Any] = {"@type": "Person", "name": f"{person.given} {person.family}",
                           "givenName": person.given, "familyName": person.family}
    if person.orcid:
        out["@id"] = out["sameAs"] = f"https://orcid.org/{person.orcid}"
    if person.affiliation:
        out["affiliation"] = {"@type": "Organization", "name": person.affiliation}
    return out


def _jsonld(site: Any, theory: m.Theory, version: m.Version, item: dict[str, Any],
            date: str | None, project: m.ProjectFile, statement: str | None) -> dict[str, Any]:
    data: dict[str, Any] = {"@context": SCHEMA_ORG, "@type": "CreativeWork"}
    if item.get("URL"):
        data["@id"] = data["url"] = item["URL"]
    data["name"] = item["title"]
    data["version"] = str(version.number)
    data["genre"] = item["genre"]
    if statement:
        data["description"] = statement
    if project.authors:
        data["author"] = [_person(p) for p in project.authors]
    elif item.get("author"):  # (released before authors were required)
        data["author"] = [{"@type": "Organization", "name": a.get("literal", "")}
                          for a in item["author"]]
    if date:
        data["datePublished"] = date
    if item.get("publisher"):
        data["publisher"] = {"@type": "Organization", "name": item["publisher"]}
    if project.license:
        data["license"] = f"https://spdx.org/licenses/{project.license}"
    identifiers: list[Any] = [f"https://doi.org/{item['DOI']}"] if item.get("DOI") else []
    content_hash = site.project.lock.hash_of(theory.id, version.number)
    if content_hash:  # what the released version's content hashes to (releases.py)
        identifiers.append({"@type": "PropertyValue", "propertyID": "sha256",
                            "value": content_hash.removeprefix("sha256:")})
    if identifiers:
        data["identifier"] = identifiers
    data["isPartOf"] = _work("CreativeWork", theory.title, site.url(theory_path(theory.id)))
    before = next((v for v in site.versions(theory) if v.number == version.number - 1
                   and v.status == m.Status.released.value), None)
    if before is not None:
        data["isBasedOn"] = _work("CreativeWork", f"{theory.title}, version {before.number}",
                                  site.url(version_path(theory.id, before.number)),
                                  version=str(before.number))
    bibliography = site.project.bibliography
    cited = [_reference(bibliography[k]) for k in version_citations(version) if k in bibliography]
    if cited:
        data["citation"] = cited
    return data


def _work(kind: str, name: str, url: str | None, **more: str) -> dict[str, Any]:
    out: dict[str, Any] = {"@type": kind, "name": name, **more}
    if url:
        out["@id"] = out["url"] = url
    return out


def _reference(ref: Reference) -> dict[str, Any]:
    """A work the version cites, from references.bib."""
    out: dict[str, Any] = {"@type": SCHEMA_TYPES.get(ref.type.lower(), "CreativeWork"),
                           "name": (ref.field("title") or ref.key).replace("{", "")
                           .replace("}", "")}
    authors = [{"@type": "Organization", "name": n.family} if n.literal else
               {"@type": "Person", "name": " ".join(p for p in (n.given, n.particle, n.family)
                                                     if p)} for n in ref.names("author")]
    if authors:
        out["author"] = authors
    year = ref.field("year") or (ref.field("date") or "")[:4]
    if year:
        out["datePublished"] = year
    doi = ref.field("doi")
    if doi:
        out["@id"] = f"https://doi.org/{doi.removeprefix('https://doi.org/')}"
    elif (url := ref.field("url")) and url.startswith(("http://", "https://")):
        out["url"] = url
    return out


def version_head(site: Any, theory: m.Theory, version: m.Version) -> str:
    """The <head> tags of a version's page (and of its theory's page, which shows it)."""
    metadata = version_metadata(site, theory, version)
    return head_html(metadata) if metadata else ""


def head_html(metadata: dict[str, Any]) -> str:
    """The tags for a page's <head>: every value escaped for an attribute, and the JSON-LD
    safe inside <script> (no '</script>' or '<!--' can end or change it)."""
    lines = [f'<link rel="schema.DC" href="{DUBLIN_CORE}">']
    lines += [f'<meta name="{escape(name)}" content="{escape(value)}">'
              for name, value in metadata["meta"]]
    data = json.dumps(metadata["jsonld"], ensure_ascii=False, separators=(",", ":"))
    data = data.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    lines.append(f'<script type="application/ld+json">\n{data}\n</script>')
    return "\n".join(lines) + "\n"
