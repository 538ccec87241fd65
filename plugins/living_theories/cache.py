"""Parsed files kept on disk between runs, in the project's `.cache/living-theories/`.

Parsing is most of the cost of reading a big project (YAML above all, then BibTeX): an
unchanged file is not parsed again by the next `validate` or build. What is kept is plain data
(dicts, lists, text, numbers), written with `marshal` (fast, and loading it never runs code),
one entry per file, keyed by the file's path relative to the project, size, modification and
change times, and the digest of its content: a file whose times changed but not its content (a
fresh clone or checkout, such as a publishing workflow that keeps the cache between runs) is
recognised by its content and not parsed again. The whole cache is one file, written
atomically (a temporary file, then a rename), with a checksum; a cache that cannot be read, is
damaged or was written by another version of the readers is ignored, and the files are parsed
as if it were not there.

Only files that parsed without a problem are kept, so a file's problems are reported on every
run. A file modified less than `RACY_NS` before the cache was written is not trusted by its
time stamp (it could also be that of a later edit of the same size; git calls these "racily
clean"): its content is compared instead.
"""

from __future__ import annotations

import functools
import hashlib
import marshal
import os
from pathlib import Path
from typing import Any

from .files import atomic_write, sweep

FORMAT = 2
MAGIC = b"LTPC"  # Living Theories parse cache
RACY_NS = 2_000_000_000
_DIGEST = 32
Stamp = tuple[int, int, int]
MISSING = object()


def stamp(path: Path) -> Stamp | None:
    """What says a file is unchanged: size, modification and change times (ns)."""
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_size, st.st_mtime_ns, st.st_ctime_ns)


@functools.cache
def _salt() -> bytes:
    """The readers that produced the data: another version of any of them, another cache."""
    from importlib.metadata import version

    import yaml

    from . import __version__

    here = Path(__file__).parent
    digest = hashlib.sha256(f"{FORMAT} {__version__} {yaml.__version__} "
                            f"{getattr(yaml, '__with_libyaml__', False)} "
                            f"{version('bibtexparser')}".encode())
    for source in ("cache.py", "reading.py", "citations/bibtex.py"):
        try:
            digest.update((here / source).read_bytes())
        except OSError:  # pragma: no cover - an installation without sources
            digest.update(source.encode())
    return digest.digest()


class ParseCache:
    """Parsed data by file, for one project; `save` writes what this run used or parsed."""

    NAME = "parsed.marshal"

    def __init__(self, folder: Path | None, root: Path):
        self.folder = folder
        self.root = root.resolve()
        self._old: dict[str, tuple[Stamp, bytes, bytes]] | None = None  # read on first use
        self._new: dict[str, tuple[Stamp, bytes, bytes]] = {}
        self._written_ns = 0
        self._dirty = False
        self.hits = 0  # for tests and timings
        self._keys: dict[tuple[str, Path], str] = {}
        self._digests: dict[tuple[Path, Stamp], bytes | None] = {}

    def _key(self, kind: str, path: Path) -> str:
        key = self._keys.get((kind, path))
        if key is None:  # (resolving a path asks the file system about every folder on it)
            try:
                name = path.resolve().relative_to(self.root).as_posix()
            except (ValueError, OSError):
                name = str(path)
            key = self._keys[kind, path] = f"{kind}:{name}"
        return key

    def _digest(self, path: Path, when: Stamp) -> bytes | None:
        """The digest of a file's content as it is at `when`, or None if it changed meanwhile
        (or cannot be read)."""
        found = self._digests.get((path, when), MISSING)
        if found is MISSING:
            try:
                found = _checksum(path.read_bytes())
            except OSError:
                found = None
            if stamp(path) != when:
                found = None
            self._digests[path, when] = found
        return found  # type: ignore[return-value]

    def _entry(self, kind: str, path: Path, when: Stamp | None) -> tuple[str, Any]:
        """The key, and the entry kept for the file as it is at `when` (None if none): by its
        time stamp, or else by its content."""
        key = self._key(kind, path)
        if when is None or self.folder is None:
            return key, None
        entry = self._load().get(key)
        if not _valid(entry):
            return key, None
        if entry[0] == when and when[1] < self._written_ns - RACY_NS:
            return key, entry
        if key in self._new and self._new[key][0] == when:
            return key, self._new[key]  # (recognised by content earlier in this run)
        if entry[0][0] == when[0] and self._digest(path, when) == entry[2]:
            self._new[key] = (when, entry[1], entry[2])  # its new stamp, for the next run
            self._dirty = True
            return key, self._new[key]
        return key, None

    def _load(self) -> dict[str, tuple[Stamp, bytes, bytes]]:
        if self._old is not None:
            return self._old
        self._old = {}
        if self.folder is None:
            return self._old
        file = self.folder / self.NAME
        try:
            with file.open("rb") as handle:
                blob = handle.read()
                self._written_ns = os.fstat(handle.fileno()).st_mtime_ns
        except OSError:
            return self._old
        head = len(MAGIC) + _DIGEST
        body = blob[head:]
        if blob[: len(MAGIC)] != MAGIC or blob[len(MAGIC):head] != _checksum(body):
            return self._old  # damaged, or not ours
        try:
            salt, entries = marshal.loads(body)
        except (ValueError, EOFError, TypeError):
            return self._old
        if salt != _salt() or not isinstance(entries, dict):
            return self._old
        self._old = entries
        return self._old

    def get(self, kind: str, path: Path, when: Stamp | None) -> Any:
        """The data kept for this file at this stamp, or MISSING."""
        key, entry = self._entry(kind, path, when)
        if entry is None:
            return MISSING
        try:
            data = marshal.loads(entry[1])
        except (ValueError, EOFError, TypeError):
            return MISSING
        self._new[key] = entry
        self.hits += 1
        return data

    def has(self, kind: str, path: Path, when: Stamp | None) -> bool:
        """Whether `get` would find this file's data."""
        return self._entry(kind, path, when)[1] is not None

    def put(self, kind: str, path: Path, when: Stamp | None, data: Any,
            blob: bytes | None = None) -> None:
        """Keep a file's data (parsed without problems) for the next run; `blob` is the data
        marshalled already, if it is at hand."""
        if when is None or self.folder is None:
            return
        key, entry = self._entry(kind, path, when)
        if entry is not None:
            self._new[key] = entry  # already kept, unchanged
            return
        digest = self._digest(path, when)
        if digest is None:  # changed since it was parsed: the next run parses it
            return
        try:
            blob = blob if blob is not None else marshal.dumps(data)
        except ValueError:  # e.g. a date from an explicit !!timestamp tag: just not kept
            return
        self._new[key] = (when, blob, digest)
        self._dirty = True

    def save(self) -> None:
        """Write the entries used or parsed in this run (deleted files drop out); remove what
        a run killed while writing them left behind."""
        if self.folder is None:
            return
        sweep([self.folder])
        if not (self._dirty or set(self._new) != set(self._load())):
            return
        body = marshal.dumps((_salt(), self._new))
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            atomic_write(self.folder / self.NAME, MAGIC + _checksum(body) + body, durable=False)
        except OSError:
            return  # a read-only checkout: just no cache
        self._old, self._dirty = dict(self._new), False


def _checksum(body: bytes) -> bytes:
    return hashlib.blake2b(body, digest_size=_DIGEST).digest()


def _valid(entry: Any) -> bool:
    """(stamp, marshalled data, digest of the file's content)"""
    return (isinstance(entry, tuple) and len(entry) == 3 and isinstance(entry[0], tuple)
            and len(entry[0]) == 3 and isinstance(entry[1], bytes) and isinstance(entry[2], bytes))
