"""Frozen releases: a content hash per released version, kept in `living-theories.lock`.

A paper that cites "Being, version 2" must find it unchanged forever. The hash is taken over a
canonical serialisation of the validated version - sorted keys, no insignificant whitespace,
defaults left out - so it is the same on every machine and unchanged by YAML key order, quoting,
comments or line wrapping, but changes with any change of content.

A version's page and citation also show what lives outside its file: the theory's title, the
project's authors, and the references it cites. The lock keeps the first two as they were at
release (`released_as`: a theory may be renamed or gain authors later, its released versions
keep theirs), and a fingerprint of each cited reference, so a changed entry is caught.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import files
from . import models as m
from .citations.bibtex import Bibliography, Reference
from .citations.syntax import cited_keys
from .graph import iter_markdown
from .problems import Problems

LOCK_NAME = "living-theories.lock"
FOLDER = "releases"  # snapshots of released versions (snapshots.py)
_HEADER = (
    "Written by `living-theories release`. Do not edit by hand: it holds the content hash of "
    "every released theory version, so that an edit to a released version is caught."
)


def canonical(version: m.Version) -> bytes:
    data = version.model_dump(mode="json", by_alias=True, exclude_defaults=True)
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def content_hash(version: m.Version) -> str:
    return "sha256:" + hashlib.sha256(canonical(version)).hexdigest()


def doi_added_later(version: m.Version, locked: str | None) -> bool:
    """A DOI minted after release may be added to a released version: its content is what
    was released, but for the `doi:` line (shown as added later)."""
    return bool(version.doi) and locked == content_hash(version.model_copy(update={"doi": None}))


def version_key(theory_id: str, number: int) -> str:
    return f"{theory_id}/v{number}"


def released_as(project: m.ProjectFile, theory: m.Theory) -> dict[str, Any]:
    """What a version is shown and cited with, beyond its own file."""
    return {
        "theory_title": theory.title,
        "theory_domain": theory.domain,
        "authors": [p.model_dump(mode="json", exclude_defaults=True) for p in project.authors],
        "publisher": project.publisher,
        "project_title": project.title,
    }


# The BibTeX fields a formatted reference can show (citations/formatting.py: TEXT_FIELDS,
# names and dates). Fields no style prints (abstract, keywords, file) may change freely.
SHOWN_FIELDS = frozenset({
    "title", "journaltitle", "journal", "booktitle", "volume", "number", "pages", "publisher",
    "institution", "organization", "school", "address", "location", "edition", "note", "doi",
    "url", "isbn", "series", "author", "editor", "year", "date", "month",
})


def reference_hash(ref: Reference) -> str:
    data = {"@type": ref.type.lower(), **{k.lower(): " ".join(v.split())
                                          for k, v in ref.raw.items()
                                          if k.lower() in SHOWN_FIELDS}}
    digest = hashlib.sha256(json.dumps(data, sort_keys=True, ensure_ascii=False).encode())
    return "sha256:" + digest.hexdigest()[:16]


def version_citations(version: m.Version) -> list[str]:
    """The BibTeX keys a version cites: in its Markdown fields and where it was published."""
    keys = [k for _, text in iter_markdown(version) for k in cited_keys(text)]
    return sorted(set(keys) | set(version.published_in))


@dataclass
class Lock:
    path: Path
    versions: dict[str, dict[str, str]] = field(default_factory=dict)

    def hash_of(self, theory_id: str, number: int) -> str | None:
        entry = self.versions.get(version_key(theory_id, number))
        return entry.get("hash") if entry else None

    def date_of(self, theory_id: str, number: int) -> str | None:
        """The date a released version is cited with: its own, else the day it was released."""
        entry = self.versions.get(version_key(theory_id, number))
        return entry.get("date") if entry else None

    def released_as(self, theory_id: str, number: int) -> dict[str, Any] | None:
        entry = self.versions.get(version_key(theory_id, number))
        return entry.get("released_as") if entry else None

    def record(self, version: m.Version, theory: m.Theory, project: m.ProjectFile,
               bibliography: Bibliography, today: str | None = None) -> None:
        """Freeze a version. A version without a date of its own is cited with the day it is
        released (`today`), kept here: its file is frozen as it was."""
        keys = [k for k in version_citations(version) if k in bibliography]
        date = version.date or today or dt.date.today().isoformat()
        self.versions[version_key(version.theory_id, version.number)] = {
            "hash": content_hash(version),
            "date": date,
            "released_as": released_as(project, theory),
            "references": {k: reference_hash(bibliography[k]) for k in keys},
        }

    def save(self) -> None:
        data = {"comment": _HEADER, "seal": seal(self.versions),
                "versions": dict(sorted(self.versions.items()))}
        text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
        files.atomic_write(self.path, text)  # never a half-written lock file


def seal(versions: dict[str, Any]) -> str:
    """A hash over the lock's entries: an entry edited, re-hashed or deleted by hand no longer
    matches it (the lock protects itself; the tool writes it with every release)."""
    text = json.dumps(versions, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def _orphans(lock: Lock) -> list[Path]:
    """Snapshots of released versions that the lock has no entry for."""
    return sorted(p for p in (lock.path.parent / FOLDER).glob("*/v*.json")
                  if f"{p.parent.name}/{p.stem}" not in lock.versions)


def _unreleased(orphan: Path, problems: Problems) -> None:
    problems.add(orphan, f"version {orphan.stem[1:]} of '{orphan.parent.name}' was released "
                 "(this is its snapshot), but living-theories.lock has no entry for it",
                 "restore living-theories.lock from version control (git checkout "
                 "living-theories.lock): a released version cannot be un-released")


def check_lock_sealed(lock: Lock, sealed: str | None, problems: Problems) -> None:
    """A lock edited by hand, or deleted while released versions have snapshots."""
    if not lock.path.exists():
        for orphan in _orphans(lock):
            _unreleased(orphan, problems)
        return
    snapshotted = any(isinstance(e, dict) and e.get("snapshot") for e in lock.versions.values())
    if (sealed or snapshotted) and sealed != seal(lock.versions):
        problems.add(lock.path, "living-theories.lock was edited by hand: its entries no longer "
                     "match its seal", "restore it from version control (git checkout "
                     "living-theories.lock); only 'living-theories release' and 'living-theories "
                     "correct' may change it")


def load_lock(root: Path, problems: Problems) -> Lock:
    lock = Lock(root / LOCK_NAME)
    if not lock.path.exists() and not lock.path.is_symlink():
        check_lock_sealed(lock, None, problems)  # a deleted lock leaves snapshots behind
        return lock
    restore = ("restore it from version control (git checkout living-theories.lock); it is "
               "written by the tool, not by hand")
    try:
        data = json.loads(files.read_bytes(lock.path, root).decode("utf-8"))
    except files.FileProblem as exc:
        problems.add(lock.path, exc.message, exc.hint)
        problems.unreadable.add(str(lock.path))
        return lock
    except (ValueError, RecursionError) as exc:  # (UnicodeDecodeError is a ValueError)
        problems.add(lock.path, "the lock file is damaged: it is not JSON", restore,
                     line=getattr(exc, "lineno", None))
        problems.unreadable.add(str(lock.path))
        return lock
    versions = data.get("versions") if isinstance(data, dict) else None
    if not isinstance(versions, dict):
        problems.add(lock.path, "the lock file is damaged: it has no 'versions'", restore)
        problems.unreadable.add(str(lock.path))
        return lock
    for key, entry in versions.items():
        if (why := _bad_entry(key, entry)) is not None:
            problems.add(lock.path, f"the lock file is damaged: the entry '{key[:80]}' {why}",
                         restore, line=_line_of(lock.path, key))
            problems.unreadable.add(str(lock.path))
    if str(lock.path) not in problems.unreadable:
        lock.versions = versions
        check_lock_sealed(lock, data.get("seal") if isinstance(data.get("seal"), str)
                          else None, problems)
    return lock


_ENTRY_KEY = re.compile(r"^[a-z0-9][a-z0-9-]*/v[1-9][0-9]*$")


def _bad_entry(key: str, entry: Any) -> str | None:
    """Why a lock entry cannot be used (its shape, not its content), or None."""
    if not _ENTRY_KEY.match(key):
        return "is not of the form 'theory/vN'"
    if not isinstance(entry, dict) or not isinstance(entry.get("hash"), str):
        return "has no content hash"
    if not isinstance(entry.get("date", ""), str):
        return "has a date that is not text"
    if not isinstance(entry.get("no_url", False), bool):
        return "has a damaged no_url"
    if not isinstance(entry.get("snapshot", ""), str):
        return "has a damaged snapshot hash"
    refs = entry.get("references", {})
    if not isinstance(refs, dict) or not all(isinstance(v, str) for v in refs.values()):
        return "has a damaged list of references"
    was = entry.get("released_as")
    if was is None:
        return None
    if not isinstance(was, dict) or not isinstance(was.get("theory_title"), str) or not all(
            isinstance(was.get(k), str | None) for k in
            ("theory_domain", "publisher", "project_title")):
        return "has a damaged 'released_as'"
    authors = was.get("authors", [])
    try:
        if not isinstance(authors, list):
            raise TypeError
        for author in authors:
            m.Person.model_validate(author)
    except (TypeError, ValueError):  # (pydantic's ValidationError is a ValueError)
        return "has damaged authors in 'released_as'"
    return None


def _line_of(path: Path, key: str) -> int | None:
    """The line of `"key":` in a JSON file, for a damaged entry."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, ValueError):
        return None
    at = text.find(json.dumps(key, ensure_ascii=False) + ":")
    return text.count("\n", 0, at) + 1 if at >= 0 else None


def _where_to_change(theory: m.Theory) -> str:
    last = theory.versions[-1]
    if last.status == m.Status.draft.value:
        return f"make the change in the draft version, v{last.number}.yaml"
    return (f"make the change in a new version: copy v{last.number}.yaml to "
            f"v{last.number + 1}.yaml and set 'status: draft'")


def check_frozen(theories: dict[str, m.Theory], lock: Lock, problems: Problems,
                 bibliography: Bibliography | None = None) -> None:
    """Released versions must match their lock entry, and so must the references they cite;
    locked versions must still exist."""
    seen: set[str] = set()
    changed_refs: dict[str, list[str]] = {}
    ref_hashes: dict[str, str] = {}  # a reference is cited by many versions: hash it once
    for theory in theories.values():
        for version in theory.versions:
            key = version_key(theory.id, version.number)
            locked = lock.hash_of(theory.id, version.number)
            where = version._where[0] if version._where else key
            if locked is None:
                if version.status == m.Status.released.value:
                    problems.add(where, f"version {version.number} of '{theory.id}' is marked "
                                 "released but is not in living-theories.lock",
                                 f"run 'living-theories release {theory.id}' to freeze it",
                                 path=("status",), code=f"unlocked:{theory.id}")
                continue
            seen.add(key)
            if version.status != m.Status.released.value:
                problems.add(where, f"version {version.number} of '{theory.id}' was released "
                             "and cannot go back to draft", "set 'status: released' again",
                             path=("status",))
            elif content_hash(version) != locked and not doi_added_later(version, locked):
                problems.add(
                    where,
                    f"version {version.number} of '{theory.id}' was released and is frozen, "
                    "but its content has changed",
                    "put back the released text (from your backup, or with git checkout) and "
                    + _where_to_change(theory),
                    line=1, code=f"changed:{key}",
                )
            entry = lock.versions[key]
            for ref_key, ref_hash in (entry.get("references") or {}).items():
                if bibliography is None or ref_key not in bibliography:
                    continue
                if ref_key not in ref_hashes:
                    ref_hashes[ref_key] = reference_hash(bibliography[ref_key])
                if ref_hashes[ref_key] != ref_hash:
                    changed_refs.setdefault(ref_key, []).append(key)
    for ref_key, cited_by in sorted(changed_refs.items()):
        assert bibliography is not None and bibliography.path is not None
        problems.add(
            bibliography.path,
            f"the reference '{ref_key}' has changed since it was cited by released "
            f"version{'s' if len(cited_by) > 1 else ''} {', '.join(cited_by)}, whose page and "
            "citation would change",
            "put the entry back as it was (from your backup, or with git checkout); to "
            "correct it for new versions, add the corrected entry under a new key and cite "
            "that key in the draft version",
            line=bibliography[ref_key].line,
        )
    if lock.path.exists():
        # A snapshot the lock does not know: a release stopped before it wrote the lock (its
        # version is marked released: run release again), or an entry deleted by hand.
        for orphan in _orphans(lock):
            version = next((v for v in theories.get(orphan.parent.name, m.Theory(title="-"))
                            .versions if f"v{v.number}" == orphan.stem), None)
            if version is None or version.status != m.Status.released.value:
                _unreleased(orphan, problems)
    for key in sorted(set(lock.versions) - seen):
        theory_id, _, number = key.partition("/")
        folder = lock.path.parent / "theories" / theory_id
        present = [folder / f"{number}{ext}" for ext in (".yaml", ".yml")
                   if (folder / f"{number}{ext}").exists()]
        folder_shown = problems.display(folder) + "/"
        if present and any(p.file == problems.display(present[0])
                           or (theory_id not in theories and p.file.startswith(folder_shown))
                           for p in problems.items):
            continue  # present but it, or its theory, failed validation: already reported
        if present:
            problems.add(present[0], f"version {number[1:]} of '{theory_id}' was released, but "
                         "its file is empty or holds no version", "released versions must "
                         "never change: put the file back (from your backup, or with git "
                         "checkout)", line=1)
            continue
        problems.add(folder / f"{number}.yaml", f"version {number[1:]} of '{theory_id}' was "
                     "released, but its file is missing",
                     "released versions must never disappear: put the file back (from your "
                     "backup, or with git checkout)")
