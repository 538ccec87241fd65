"""Frozen releases: a content hash per released version, kept in `living-theories.lock`.

A paper that cites "Being, version 2" must find it unchanged forever. The hash is taken over a
canonical serialisation of the validated version - sorted keys, no insignificant whitespace,
defaults left out - so it is the same on every machine and unchanged by YAML key order, quoting,
comments or line wrapping, but changes with any change of content.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from . import models as m
from .problems import Problems

LOCK_NAME = "living-theories.lock"
_HEADER = (
    "Written by `living-theories release`. Do not edit by hand: it holds the content hash of "
    "every released theory version, so that an edit to a released version is caught."
)


def canonical(version: m.Version) -> bytes:
    data = version.model_dump(mode="json", by_alias=True, exclude_defaults=True)
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def content_hash(version: m.Version) -> str:
    return "sha256:" + hashlib.sha256(canonical(version)).hexdigest()


def version_key(theory_id: str, number: int) -> str:
    return f"{theory_id}/v{number}"


@dataclass
class Lock:
    path: Path
    versions: dict[str, dict[str, str]] = field(default_factory=dict)

    def hash_of(self, theory_id: str, number: int) -> str | None:
        entry = self.versions.get(version_key(theory_id, number))
        return entry.get("hash") if entry else None

    def record(self, version: m.Version) -> None:
        self.versions[version_key(version.theory_id, version.number)] = {
            "hash": content_hash(version),
            **({"date": version.date} if version.date else {}),
        }

    def save(self) -> None:
        data = {"comment": _HEADER, "versions": dict(sorted(self.versions.items()))}
        text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(self.path)  # never a half-written lock file


def load_lock(root: Path, problems: Problems) -> Lock:
    lock = Lock(root / LOCK_NAME)
    if not lock.path.exists():
        return lock
    try:
        data = json.loads(lock.path.read_text(encoding="utf-8"))
        versions = data["versions"]
        if not isinstance(versions, dict) or not all(
            isinstance(v, dict) and isinstance(v.get("hash"), str) for v in versions.values()
        ):
            raise ValueError("bad entries")
    except (ValueError, KeyError, TypeError) as exc:
        line = getattr(exc, "lineno", None)
        problems.add(lock.path, "the lock file is damaged",
                     "restore it from version control (git checkout living-theories.lock); "
                     "it is written by the tool, not by hand", line=line)
        return lock
    lock.versions = versions
    return lock


def check_frozen(theories: dict[str, m.Theory], lock: Lock, problems: Problems) -> None:
    """Released versions must match their lock entry; locked versions must still exist."""
    seen: set[str] = set()
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
            elif content_hash(version) != locked:
                problems.add(
                    where,
                    f"version {version.number} of '{theory.id}' was released and is frozen, "
                    "but its content has changed",
                    "put back the released text (from your backup, or with git checkout) and "
                    f"make the change in a new version: copy v{theory.versions[-1].number}.yaml "
                    f"to v{theory.versions[-1].number + 1}.yaml and set 'status: draft'",
                    line=1,
                )
    for key in sorted(set(lock.versions) - seen):
        theory_id, _, number = key.partition("/")
        folder = lock.path.parent / "theories" / theory_id
        if any((folder / f"{number}{ext}").exists() for ext in (".yaml", ".yml")):
            continue  # present but failed validation: already reported
        problems.add(folder / f"{number}.yaml", f"version {number[1:]} of '{theory_id}' was "
                     "released, but its file is missing",
                     "released versions must never disappear: put the file back (from your "
                     "backup, or with git checkout)")
