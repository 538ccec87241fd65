"""What Zenodo's GitHub integration reads to give each released version a DOI.

Zenodo archives a repository at every GitHub release and mints a DOI for it, describing it
with the repository's `.zenodo.json` (else its CITATION.cff) as they are at the release's
tag. `living-theories release` therefore rewrites both for the version it released (title,
authors with ORCID, version, licence, date: the same in both), and the workflow that `new`
writes (`.github/workflows/zenodo-release.yml`) makes a GitHub release, tagged with the
`version` below, for every commit that changed `.zenodo.json`.

The version is the release's tag, `<theory>-v<N>`: the name GitHub's integration gives a
version by default, and unique across theories (a repository is one Zenodo record, and each
of its theories' versions is a version of it). `.zenodo.json` follows Zenodo's deposit
metadata (its legacy JSON format, which the integration still reads).
"""

from __future__ import annotations

import datetime as dt
import html
import json
from pathlib import Path
from typing import Any

from . import models as m
from .citing import CFF_HEADER, citation_cff, plain_text, version_title
from .pages.paths import page_url, version_path

ZENODO_JSON = ".zenodo.json"
CITATION_CFF = "CITATION.cff"
KEYWORDS = ["realist evaluation", "programme theory", "CMOC"]


def tag(theory: m.Theory, version: m.Version) -> str:
    return f"{theory.id}-v{version.number}"


def version_address(site: str | None, theory: m.Theory, version: m.Version) -> str | None:
    """The released version's permanent page, on the site at `site` (None if unknown)."""
    return f"{site.rstrip('/')}/{page_url(version_path(theory.id, version.number))}" \
        if site else None


def _creator(person: m.Person) -> dict[str, str]:
    name = f"{person.family}, {person.given}" if person.given else person.family
    return {"name": name, **({"orcid": person.orcid} if person.orcid else {}),
            **({"affiliation": person.affiliation} if person.affiliation else {})}


def zenodo_metadata(project: m.ProjectFile, theory: m.Theory | None = None,
                    version: m.Version | None = None, site: str | None = None,
                    previous: m.Version | None = None,
                    today: str | None = None) -> dict[str, Any]:
    """`.zenodo.json` for a released version (Zenodo reads it at the release's tag), or,
    without one, for the project as a whole (what a new site starts with)."""
    today = today or dt.date.today().isoformat()
    if theory is not None and version is not None:
        address = version_address(site, theory, version)
        about = (f"Version {version.number} ({version.stage}) of the programme theory "
                 f"\"{theory.title}\"" + (f", part of {project.title}" if project.title else "")
                 + (f". Its permanent page: {address}" if address else "") + ".")
        paragraphs = [plain_text(version.statement)] if version.statement else []
        head: dict[str, Any] = {
            "title": version_title(theory, version), "version": tag(theory, version),
            "publication_date": version.date if version.date and len(version.date) == 10
            else today}
    else:
        address = site
        about = "Realist programme theories, version by version, with their evidence" + (
            f": {address}" if address else "") + "."
        paragraphs = [plain_text(project.description)] if project.description else []
        head = {"title": project.title or "Programme theories", "publication_date": today}
    data: dict[str, Any] = {
        **head,
        "upload_type": "publication",
        "publication_type": "report",  # as its citations say (CSL type "report")
        # Zenodo reads the description as HTML: the text is escaped.
        "description": "".join(f"<p>{html.escape(p)}</p>" for p in [*paragraphs, about]),
        "creators": [_creator(p) for p in project.authors],
        "access_right": "open",
        "keywords": KEYWORDS,
    }
    if project.license:
        data["license"] = project.license
    if project.publisher:
        data["imprint_publisher"] = project.publisher
    related = []
    if address:
        related.append({"identifier": address, "relation": "isIdenticalTo", "scheme": "url"})
    if previous is not None and previous.doi:
        related.append({"identifier": previous.doi, "relation": "isNewVersionOf",
                        "scheme": "doi"})
    if related:
        data["related_identifiers"] = related
    return data


def deposit_files(root: Path, project: m.ProjectFile, theory: m.Theory,
                  version: m.Version, site: str | None,
                  today: str | None = None) -> tuple[dict[Path, str], list[str]]:
    """The repository's `.zenodo.json` and CITATION.cff for a released version, and notes
    for the user (a CITATION.cff written by hand is left as it is, and said so)."""
    earlier = [v for v in theory.versions if v.number < version.number]
    data = zenodo_metadata(project, theory, version, site,
                           earlier[-1] if earlier else None, today)
    out = {root / ZENODO_JSON: json.dumps(data, indent=2, ensure_ascii=False) + "\n"}
    notes = []
    cff = root / CITATION_CFF
    if cff.is_file() and not cff.read_text(encoding="utf-8").startswith(CFF_HEADER):
        notes.append(f"{CITATION_CFF} was not written by Living Theories, so it was left as "
                     f"it is: Zenodo reads {ZENODO_JSON} first, but GitHub's \"Cite this "
                     f"repository\" shows {CITATION_CFF} (delete it to have it kept in step)")
    else:
        dated = version if version.date else version.model_copy(
            update={"date": data["publication_date"]})
        out[cff] = citation_cff(project, theory.title, version_address(site, theory, version),
                                [(theory, dated)], version=tag(theory, version))
    return out, notes
