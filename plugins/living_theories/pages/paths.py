"""Where each generated page lives in the site, and relative links between pages."""

from __future__ import annotations

import posixpath
import re

from .. import models as m

# --- Paths ------------------------------------------------------------------------------------


def theory_path(tid: str) -> str:
    return f"theories/{tid}/index.md"


def version_path(tid: str, n: int) -> str:
    return f"theories/{tid}/v{n}.md"


def version_dir(tid: str, n: int) -> str:
    """Where a version's downloads live: beside its page, at theories/<id>/v<N>/."""
    return f"theories/{tid}/v{n}/"


def history_path(tid: str) -> str:
    return f"theories/{tid}/history.md"


def refinement_path(tid: str) -> str:
    """The reporting page: the reasoning behind each refinement (pages/refinement.py)."""
    return f"theories/{tid}/refinement.md"


def compare_path(tid: str, a: int, b: int) -> str:
    return f"theories/{tid}/compare/v{a}-v{b}.md"


def rameses_path(tid: str) -> str:
    """The theory's RAMESES reporting map (pages/rameses.py): one stable address per theory."""
    return f"theories/{tid}/rameses.md"


def page_url(path: str) -> str:
    """The address of a page source under MkDocs' directory URLs."""
    if path.endswith("index.md"):
        return path[: -len("index.md")]
    return path[: -len(".md")] + "/"


def cmoc_path(cid: str) -> str:
    return f"cmocs/{cid}.md"


def source_path(sid: str) -> str:
    return f"sources/{sid}.md"


def substantive_path(sid: str) -> str:
    """A substantive theory's page (made once a mechanism links to one: middle_range.py)."""
    return f"substantive-theories/{sid}.md"


def evidence_path(ev: m.Evidence) -> str:
    """Where a record is shown: on its (first) source's page."""
    return f"{source_path(ev.refs[0].source)}#{ev.id}"


SOURCES, CONTEXTS, REFERENCES, EVIDENCE_MAP, THEORIES, CONSULTATIONS = (
    "sources/index.md", "contexts/index.md", "references/index.md", "evidence-map/index.md",
    "theories/index.md", "consultations/index.md",
)


def round_path(rid: str) -> str:
    return f"consultations/{rid}.md"


def pack_path(rid: str) -> str:
    return f"consultations/{rid}/pack.md"


def template_path(rid: str) -> str:
    return f"consultations/{rid}/feedback-template.csv"


def relative(from_path: str, to_path: str) -> str:
    """A relative link between two page sources (MkDocs turns it into the right URL)."""
    target, _, frag = to_path.partition("#")
    if not target:
        return "#" + frag
    rel = _relpath(target, posixpath.dirname(from_path))
    return rel + ("#" + frag if frag else "")


def _relpath(target: str, start: str) -> str:
    """posixpath.relpath for the site's own normalised paths, without its abspath and
    getcwd calls (tens of thousands of links on a big site)."""
    if ".." in target or ".." in start or "./" in target or "./" in start:
        return posixpath.relpath(target, start or ".")
    to, at = target.split("/"), start.split("/") if start else []
    common = 0
    for a, b in zip(to, at, strict=False):
        if a != b:
            break
        common += 1
    return "/".join([".."] * (len(at) - common) + to[common:]) or "."


_FRONT_TITLE = re.compile(r"\A---\s*\n(?:.*\n)*?title:\s*(.+?)\s*\n(?:.*\n)*?---\s*\n")
_HEADING = re.compile(r"^#\s+(.+?)\s*#*\s*$", re.M)


def page_title(markdown: str, path: str) -> str:
    """A hand-written page's title as MkDocs shows it: front matter, first heading, or name."""
    found = _FRONT_TITLE.match(markdown) or _HEADING.search(markdown)
    if found:
        return found.group(1).strip("'\"")
    stem = posixpath.splitext(posixpath.basename(path))[0]
    if stem == "index":
        stem = posixpath.basename(posixpath.dirname(path)) or "Home"
    return stem.replace("-", " ").replace("_", " ").capitalize()
