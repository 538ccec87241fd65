"""`living-theories serve`: after an edit, write only the files it changed, and give exactly the
site a full build gives. Plain Python over plain data; plugin/rebuilding.py applies it to
MkDocs' objects.

MkDocs' own dirty builds (`mkdocs serve --dirty`) write only the pages whose source changed, and
so leave three things behind that a full build would change:

- removed pages and files stay on disk, and the menu of unchanged pages still lists the old
  set: so a change to the set of files, to mkdocs.yml or to anything else every page may show
  (a theory's title, the bibliography: see rebuilds.py) clears the site folder and builds
  everything, as a full build does;
- a page's menu shows the other pages' titles, which MkDocs knows only for pages it read: the
  others keep the titles (and metadata) they had, and an edit that changed one rebuilds every
  page;
- Material's search index of a dirty build holds only the pages built: it is put together again
  from every page's entries, in the order a full build writes them.

When everything is built again, most pages' Markdown is still what it was, and converting
Markdown to HTML and indexing the HTML for search are most of a build (two thirds and a
quarter at 4,000 pages). A page whose Markdown is unchanged keeps the HTML it was converted to
if its links find the same files (`Converted`), and its search entries if its HTML, title and
headings are unchanged (`Indexed`); every page is still laid out again, with the new menu.

tests/test_serve.py compares the served folder with a fresh full build after each kind of edit.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


def stat_signature(paths: Iterable[Path]) -> tuple[tuple[str, int, int], ...]:
    """Names, sizes and modification times of files (folders: of every file under them):
    unchanged means nothing in them changed."""
    out = []
    for path in paths:
        found = sorted(path.rglob("*")) if path.is_dir() else [path]
        for p in found:
            try:
                st = p.stat()
            except OSError:
                continue
            out.append((str(p), st.st_size, st.st_mtime_ns))
    return tuple(out)


def settings_signature(config_file: str | None, watched: Sequence[Path]) -> tuple[Any, ...]:
    """What every page may show besides the project: mkdocs.yml's text, and the files of the
    theme's own folder and of any other folder it tells MkDocs to watch."""
    text = b""
    if config_file:
        with contextlib.suppress(OSError):
            text = Path(config_file).read_bytes()
    return hashlib.sha256(text).hexdigest(), stat_signature(watched)


@dataclass
class Served:
    """What the last build in `living-theories serve` wrote."""

    frame: tuple[Any, ...]  # settings and the list of files: changed, everything is rebuilt
    # Every page's title and metadata (by source path), as the menus of other pages show them.
    titles: dict[str, tuple[str | None, dict[str, Any]]] = field(default_factory=dict)


@dataclass
class Converted:
    """A page's Markdown as an earlier build converted it to HTML. The same Markdown converts
    to the same HTML when it is converted with the same settings and its links find the same
    files: `key` holds the first (the Markdown's hash, the page's address, the settings),
    `lookups` the second (each path a link looked up: the address and inclusion of the file
    found, or None)."""

    key: tuple[Any, ...]
    lookups: dict[str, tuple[str, str] | None]
    content: str
    toc: Any
    title: str | None
    anchors: set[str] | None
    links_to_anchors: dict[str, dict[str, str]] | None  # by the source path linked to

    def still(self, key: tuple[Any, ...],
              lookup: Callable[[str], tuple[str, str] | None]) -> bool:
        """Would the page convert to the same HTML now?"""
        return key == self.key and all(lookup(path) == found
                                       for path, found in self.lookups.items())


@dataclass
class Indexed:
    """A page's entries in Material's search index, and what they were made from."""

    key: tuple[Any, ...]
    entries: list[dict[str, Any]]


def digest(text: str) -> bytes:
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()
