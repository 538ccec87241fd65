"""Pages' HTML kept between builds, in the project's `.cache/living-theories/html/`.

Converting Markdown to HTML and indexing the HTML for search are most of a build (two thirds
and a quarter of it at 4,000 pages), and from one build to the next most pages' Markdown is
the same. The same Markdown converts to the same HTML when the same code converts it with the
same settings and its links find the same files; the same HTML, title, metadata and headings
give the same search entries. So what each page was converted to is kept with what it was
made from, and used again only if all of that is as it was:

- `Converted.key`: the page's address, a digest of its Markdown, whether it is a generated
  page, and a digest of the settings and the code (mkdocs.yml's Markdown settings; the versions
  of MkDocs, Python-Markdown, its extensions and Pygments; our own code; the citation style,
  locale and references);
- `Converted.lookups`: each path the page's links looked up, and the file each found;
- `Indexed.key`: the page's address, title, metadata, HTML (a digest), headings, and the
  settings.

Kept as plain data written with `marshal` (as the parse cache: fast, and loading it never runs
code), one file per page, named by a digest of the page's source path, written atomically
(a temporary file, then a rename) with a checksum: a build writes only the pages it converted
or indexed. A file that cannot be read, is damaged or was written in another format is
ignored, and the page is converted as if it were not there. tests/test_kept_html.py.
"""

from __future__ import annotations

import hashlib
import marshal
from collections.abc import Callable, Collection
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from .files import atomic_write, sweep

FORMAT = 1
MAGIC = b"LTHC"  # Living Theories HTML cache
_DIGEST = 16
_SUFFIX = ".marshal"
Lookup = tuple[str, str] | None  # the address and inclusion of the file a link found


def digest(text: str | bytes) -> bytes:
    data = text if isinstance(text, bytes) else text.encode("utf-8", "surrogatepass")
    return hashlib.blake2b(data, digest_size=_DIGEST).digest()


@dataclass
class Converted:
    """A page's Markdown as converted to HTML, and what the conversion looked up."""

    key: tuple[Any, ...]
    lookups: dict[str, Lookup]
    content: str
    toc: list[dict[str, Any]]  # the headings, as Python-Markdown's toc tokens
    title: str | None  # the page's first heading
    anchors: frozenset[str] | None
    links_to_anchors: dict[str, dict[str, str]] | None  # by the source path linked to

    def still(self, key: tuple[Any, ...], lookup: Callable[[str], Lookup]) -> bool:
        """Would the page convert to the same HTML now?"""
        return key == self.key and all(lookup(path) == found
                                       for path, found in self.lookups.items())


@dataclass
class Indexed:
    """A page's entries in the search index, and what they were made from."""

    key: tuple[Any, ...]
    entries: list[dict[str, Any]]


@dataclass
class Kept:
    """What an earlier build made of a page."""

    converted: Converted | None = None
    indexed: Indexed | None = None


class KeptPages:
    """The pages kept in a folder (None: nothing is kept), read when first asked for."""

    def __init__(self, folder: Path | None):
        self.folder = folder
        self._pages: dict[str, Kept] = {}
        self._changed: set[str] = set()

    def get(self, path: str) -> Kept:
        kept = self._pages.get(path)
        if kept is None:
            kept = self._pages[path] = self._read(path)
        return kept

    def keep(self, path: str, kept: Kept, *, written: bool = False) -> None:
        """Use `kept` for the page `path` in this build, and write it with the others
        (`save`) unless it is `written` already (`write`)."""
        self._pages[path] = kept
        if written:
            self._changed.discard(path)
        else:
            self._changed.add(path)

    def write(self, path: str, data: bytes) -> bool:
        """Write the page's record (`pack`) now (the worker rendering pages ahead writes what
        it converted, so that this process need not); False if it could not be written."""
        if self.folder is None:
            return False
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            atomic_write(self._file(path), data, durable=False)
        except OSError:
            return False
        return True

    def _file(self, path: str) -> Path:
        assert self.folder is not None
        return self.folder / (digest(path).hex() + _SUFFIX)

    def _read(self, path: str) -> Kept:
        if self.folder is None:
            return Kept()
        try:
            return unpack(path, self._file(path).read_bytes())
        except OSError:
            return Kept()

    def save(self, paths: Collection[str]) -> None:
        """Write the pages this build converted or indexed, and forget the pages that are
        no longer in the site (`paths`: the source paths of its pages)."""
        if self.folder is None:
            return
        for path in sorted(self._changed & set(paths)):
            data = pack(path, self._pages[path])
            if data is not None and not self.write(path, data):
                return  # a read-only checkout, or a full disk: the pages are just not kept
        try:
            wanted = {self._file(path).name for path in paths}
            for old in self.folder.glob("*" + _SUFFIX):
                if old.name not in wanted:
                    old.unlink(missing_ok=True)
            sweep([self.folder])  # (what a worker stopped while writing left)
        except OSError:
            return  # a read-only checkout, or a full disk: the pages are just not kept
        self._changed.clear()


def pack(path: str, kept: Kept) -> bytes | None:
    """A page's record as bytes (for its file, or a worker's pipe), or None if marshal cannot
    write something in it (then it is just not kept)."""
    try:
        body = marshal.dumps((FORMAT, path, _values(kept.converted), _values(kept.indexed)))
    except ValueError:
        return None
    return MAGIC + digest(body) + body


def unpack(path: str, data: bytes) -> Kept:
    """The record `pack` made of the page `path`; nothing if it is damaged or not ours."""
    try:
        head, check, body = data[:4], data[4:4 + _DIGEST], data[4 + _DIGEST:]
        if head != MAGIC or digest(body) != check:
            return Kept()
        form, name, converted, indexed = marshal.loads(body)
        if form != FORMAT or name != path:
            return Kept()
        return Kept(None if converted is None else Converted(*converted),
                    None if indexed is None else Indexed(*indexed))
    except (ValueError, EOFError, TypeError):
        return Kept()  # converted as if it were not there


def _values(record: Converted | Indexed | None) -> tuple[Any, ...] | None:
    return None if record is None else tuple(getattr(record, f.name) for f in fields(record))

