"""What a complete citation of a released version needs: who to credit, a date and an address.

`release` refuses a version that would be cited without authors or without an address (unless
`--no-url` says it has none, which its cite box then states); `validate` and the site's build
warn, at the line to change, when released versions would be cited without an address or a
date. The date a version is cited with is its own, else the day it was released (kept in the
lock: releases.py), never "no date".
"""

from __future__ import annotations

import re
from pathlib import Path

from . import models as m
from .problems import Problems
from .project import Project
from .releases import version_key

EXAMPLE_URL = "https://your-name.github.io/your-repository/"
ADDRESS_FIX = (f"set site_url in mkdocs.yml (e.g. site_url: {EXAMPLE_URL}), or url in "
               "theories/project.yaml, to the address the site is published at")
AUTHORS_FIX = ("add who to credit to theories/project.yaml, e.g. 'authors: [{family: Smith, "
               "given: Jo, orcid: 0000-0002-1825-0097}]' (an organisation as its name alone: "
               "'- family: World Health Organization')")


def released(project: Project) -> list[tuple[m.Theory, m.Version]]:
    """Released versions of public theories: what a public site asks readers to cite."""
    return [(t, v) for t in project.graph.theories.values()
            if t.visibility == m.Visibility.public.value
            for v in t.versions if v.status == m.Status.released.value]


def refusals(project: Project, theory_id: str, address: str | None,
             no_url: bool) -> list[str]:
    """Why `release` must not freeze a version yet, each with how to fix it (empty: go on)."""
    out = []
    if not project.graph.corpus.project.authors:
        out.append("theories/project.yaml names no authors, so the version would be cited "
                   f"without them - {AUTHORS_FIX}; then run 'living-theories release "
                   f"{theory_id}' again")
    if address is None and not no_url:
        out.append("the site has no web address, so the version would be cited without one - "
                   f"{ADDRESS_FIX}; then run 'living-theories release {theory_id}' again (or, "
                   f"for a site that will not be on the web, 'living-theories release "
                   f"{theory_id} --no-url': its cite box then says it has no address)")
    return out


def check(project: Project, address: str | None, config_file: Path,
          problems: Problems) -> None:
    """Warnings for released versions that are cited without an address or a date."""
    shown = released(project)
    lock = project.lock
    unaddressed = [(t, v) for t, v in shown if not (lock.versions.get(
        version_key(t.id, v.number)) or {}).get("no_url")]
    if address is None and unaddressed:
        n = len(unaddressed)
        problems.add(config_file, f"the site has no web address, so {n} released "
                     f"version{'s are' if n != 1 else ' is'} cited without one", ADDRESS_FIX,
                     line=_setting_line(config_file), warning=True, code="no-address")
    for theory, version in shown:
        if version.date or lock.date_of(theory.id, version.number) \
                or lock.hash_of(theory.id, version.number) is None:
            continue
        where = version._where[0] if version._where else config_file
        problems.add(where, f"released version {version.number} of '{theory.id}' has no date "
                     "(it was released before release dates were kept), so it is cited "
                     "without a year", f"run 'living-theories release {theory.id}' to record "
                     "today as its release date (its file stays as released)", line=1,
                     warning=True, code=f"undated:{theory.id}")


def _setting_line(config_file: Path) -> int | None:
    """The line where site_url is (or is commented out), else the site's name."""
    try:
        text = config_file.read_text(encoding="utf-8")
    except (OSError, ValueError):
        return None
    for pattern in (r"^#?\s*site_url\s*:", r"^site_name\s*:"):
        found = re.search(pattern, text, re.M)
        if found:
            return text.count("\n", 0, found.start()) + 1
    return None
