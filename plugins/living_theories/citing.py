"""Citing a theory version: CSL-JSON, BibTeX, RIS, a machine-readable theory.json, and the
site's CITATION.cff.

Every output is a pure function of the released version and the project's metadata, written
with sorted keys and fixed layout, so that a released version's files are byte-identical in
every build (see tests/test_history.py).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from . import models as m
from .graph import TheoryGraph, cited_evidence

THEORY_JSON_FORMAT = "living-theories/theory-version/1"


def cite_key(theory: m.Theory, version: m.Version) -> str:
    return f"{theory.id}-v{version.number}"


def version_title(theory: m.Theory, version: m.Version) -> str:
    return f"{version.title or theory.title}, version {version.number}"


def is_organisation(person: m.Person) -> bool:
    """An author with a family name only is an organisation (or a one-name author): cited by
    the whole name, never split into initials."""
    return not person.given


def csl_author(person: m.Person) -> dict[str, str]:
    if is_organisation(person):
        return {"literal": person.family}
    return {"family": person.family, "given": person.given or ""}


def csl_date(date: str) -> dict[str, Any]:
    return {"date-parts": [[int(x) for x in date.split("-")]]}


def plain_text(markdown: str) -> str:
    """Markdown as one line of plain text, for metadata that is not Markdown (CITATION.cff,
    .zenodo.json, <meta> tags): citations left out, links as their text, no emphasis marks."""
    text = re.sub(r"\s*\[[^\]]*@[^\]]*\]", "", " ".join(markdown.split()))
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    return re.sub(r"[*_`]", "", text)


def csl_item(project: m.ProjectFile, theory: m.Theory, version: m.Version,
             url: str | None, content_hash: str | None, *, date: str | None = None,
             site_name: str | None = None) -> dict[str, Any]:
    """The version as a CSL-JSON item (type report: a programme theory is a research output).

    `date` is the date it is cited with: its own date, else the date it was released (kept in
    the lock, see releases.py); `site_name` publishes it when the project names no publisher."""
    item: dict[str, Any] = {
        "id": cite_key(theory, version),
        "type": "report",
        "title": version_title(theory, version),
        "genre": f"{version.stage.capitalize()} programme theory",
        "version": str(version.number),
    }
    publisher = project.publisher or site_name or project.title
    if project.authors:
        item["author"] = [csl_author(p) for p in project.authors]
    elif publisher:  # (released before authors were required) else the title is printed twice
        item["author"] = [{"literal": publisher}]
    if date := version.date or date:
        item["issued"] = csl_date(date)
    if publisher:
        item["publisher"] = publisher
    if project.title:
        item["collection-title"] = project.title
    if version.doi:
        item["DOI"] = version.doi
    if url:
        item["URL"] = url
    if content_hash:
        item["note"] = f"Content hash {content_hash}"
    return item


def _bibtex_escape(value: str) -> str:
    return re.sub(r"([&%$#_{}])", r"\\\1", value).replace("~", r"\textasciitilde{}")


def _bibtex_name(author: dict[str, str]) -> str:
    """One name of a BibTeX author list. An organisation is one brace group, so that BibTeX
    neither splits it into names nor abbreviates it ({World Health Organization}); a family
    name with ' and ' or a comma in it is braced for the same reason."""
    if "literal" in author or not author.get("given"):
        return "{" + _bibtex_escape(author.get("literal") or author.get("family", "")) + "}"
    family = _bibtex_escape(author["family"])
    if re.search(r"\band\b|,", family, re.I):
        family = "{" + family + "}"
    return f"{family}, {_bibtex_escape(author['given'])}"


def bibtex(item: dict[str, Any]) -> str:
    fields: list[tuple[str, str]] = []
    if "author" in item:  # (already escaped, name by name)
        fields.append(("author", " and ".join(_bibtex_name(a) for a in item["author"])))
    fields.append(("title", item["title"]))
    if item.get("collection-title"):
        fields.append(("series", item["collection-title"]))
    fields.append(("type", item["genre"]))
    fields.append(("version", item["version"]))
    if "issued" in item:
        parts = item["issued"]["date-parts"][0]
        fields.append(("year", str(parts[0])))
        if len(parts) > 1:
            fields.append(("month", str(parts[1])))
    for key, name in (("publisher", "publisher"), ("DOI", "doi"), ("URL", "url"),
                      ("note", "note")):
        if item.get(key):
            fields.append((name, item[key]))
    body = ",\n".join(f"  {k} = {{{v if k in ('url', 'doi', 'author') else _bibtex_escape(v)}}}"
                      for k, v in fields)
    return f"@misc{{{item['id']},\n{body}\n}}\n"


def ris(item: dict[str, Any]) -> str:
    lines = ["TY  - GEN"]
    for a in item.get("author", []):  # an organisation: its whole name, as one author
        lines.append(f"AU  - {a['family']}, {a['given']}" if a.get("given")
                     else f"AU  - {a.get('literal') or a.get('family', '')}")
    lines.append(f"TI  - {item['title']}")
    if item.get("collection-title"):
        lines.append(f"T2  - {item['collection-title']}")
    lines.append(f"M3  - {item['genre']}")
    lines.append(f"ET  - {item['version']}")
    if "issued" in item:
        parts = item["issued"]["date-parts"][0]
        lines.append(f"PY  - {parts[0]}")
        lines.append("DA  - " + "/".join(f"{p:02d}" if i else str(p)
                                         for i, p in enumerate(parts)))
    for key, tag in (("publisher", "PB"), ("DOI", "DO"), ("URL", "UR"), ("note", "N1")):
        if item.get(key):
            lines.append(f"{tag}  - {item[key]}")
    lines.append("ER  - ")
    return "\r\n".join(lines) + "\r\n"


def dumps(data: Any) -> str:
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def theory_json(graph: TheoryGraph, theory: m.Theory, version: m.Version,
                content_hash: str | None,
                address: Callable[[str], str | None]) -> dict[str, Any]:
    """The version for machines. Field names are stable (see docs/data.md); it holds what the
    released version itself says, with the theory as released (see releases.py), and the
    addresses of its pages: `address("self" | "cmoc:<id>" | "evidence:<id>")`."""
    version_data = version.model_dump(mode="json", by_alias=True, exclude_defaults=True)
    cmocs = []
    for cmoc, data in zip(version.cmocs, version_data.get("cmocs", []), strict=True):
        lineage = graph.lineage(version, cmoc)
        data = {**data, "page": address(f"cmoc:{cmoc.id}")}
        data["lineage"] = _lineage(lineage) if lineage else None
        data["mechanism"], data["outcome"] = cmoc.mechanism, cmoc.outcome
        # The label shown beside each element (its own sign, else the CMOC's shorthand).
        data["sign_labels"] = {f: [label or None for _, label in cmoc.labelled(f)]
                               for f, _, _ in m.ELEMENTS if getattr(cmoc, f)}
        cmocs.append(data)
    evidence_ids = sorted(cited_evidence(version))
    return {
        "format": THEORY_JSON_FORMAT,
        "theory": {"id": theory.id, "title": theory.title, "domain": theory.domain},
        "version": version.number,
        "stage": version.stage,
        "status": version.status,
        "date": version.date,
        "doi": version.doi,
        "content_hash": content_hash,
        "statement": version.statement,
        "evidence_base": version.evidence_base,
        "cmocs": cmocs,
        "changes": version_data.get("changes", []),
        "dropped": version_data.get("dropped", []),
        # (only where recorded, so that theory.json of other versions is unchanged)
        **({"incorporated": version_data["incorporated"]} if version.incorporated else {}),
        **({"confidence_scale": list(graph.corpus.project.confidence_levels)}
           if any(c.confidence for c in version.cmocs) else {}),
        "evidence_links": {eid: address(f"evidence:{eid}") for eid in evidence_ids},
        "url": address("self"),
    }


def _lineage(lineage: m.Lineage) -> dict[str, Any]:
    # Every field of the lineage, but the reasoning only where it is recorded: theory.json
    # of a version that records none is as it was before reasoning could be recorded.
    data = lineage.model_dump(mode="json", by_alias=True)
    for name in m.Reasoning.model_fields:
        if not data[name]:
            del data[name]
    return data


def _cff_quote(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)  # a JSON string is a valid YAML scalar


CFF_HEADER = "# Generated by Living Theories from theories/project.yaml."


def citation_cff(project: m.ProjectFile, title: str, url: str | None,
                 released: list[tuple[m.Theory, m.Version]], version: str | None = None) -> str:
    """CITATION.cff (Citation File Format 1.2.0) for the whole site; with `version` (a
    release's tag), for the one released version in `released` and titled as it is cited
    (the repository's CITATION.cff, in step with its .zenodo.json: see zenodo.py)."""
    if version:
        (theory, one), = released
        title = version_title(theory, one)
    lines = [
        CFF_HEADER,
        "cff-version: 1.2.0",
        'message: "If you use these programme theories, please cite the version you used; '
        'each version page gives its own citation."',
        f"title: {_cff_quote(title if version else project.title or title)}",
        "type: dataset",
        "authors:",
    ]
    for p in project.authors:
        if is_organisation(p):  # an organisation is one name, not a family name
            lines.append(f"  - name: {_cff_quote(p.family)}")
            continue
        lines.append(f"  - family-names: {_cff_quote(p.family)}")
        if p.given:
            lines.append(f"    given-names: {_cff_quote(p.given)}")
        if p.orcid:
            lines.append(f"    orcid: {_cff_quote('https://orcid.org/' + p.orcid)}")
        if p.affiliation:
            lines.append(f"    affiliation: {_cff_quote(p.affiliation)}")
    if not project.authors:  # CFF requires an author: credit the publisher or the site
        lines.append(f"  - name: {_cff_quote(project.publisher or title)}")
    if project.description:
        lines.append(f"abstract: {_cff_quote(plain_text(project.description))}")
    if url:
        lines.append(f"url: {_cff_quote(url)}")
    if project.doi:
        lines.append(f"doi: {_cff_quote(project.doi)}")
    if project.license:
        lines.append(f"license: {_cff_quote(project.license)}")
    if version:
        lines.append(f"version: {_cff_quote(version)}")
    dates = sorted(v.date for _, v in released if v.date and len(v.date) == 10)
    if dates:
        lines.append(f"date-released: {_cff_quote(dates[-1])}")
    lines.append("keywords:")
    for word in ("realist evaluation", "programme theory", "CMOC"):
        lines.append(f"  - {_cff_quote(word)}")
    return "\n".join(lines) + "\n"
