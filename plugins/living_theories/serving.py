"""`living-theories serve`: after an edit, write only the files it changed, and give exactly the
site a full build gives. Plain Python over plain data; plugin/rebuilding.py applies it to
MkDocs' objects.

MkDocs' own dirty builds (`mkdocs serve --dirty`) write only the pages whose source changed, and
so leave three things behind that a full build would change:

- removed pages and files stay on disk: the files the last build wrote and this one does not
  are removed (`stale`); a change to mkdocs.yml or the theme, which may change what any plugin
  writes, clears the site folder;
- a page's menu shows the other pages' titles, which MkDocs knows only for pages it read: the
  others keep the titles (and metadata) they had. A change to the menu (a hand-written page
  added, a menu page's new title), to mkdocs.yml or the theme, or to how Markdown is converted
  (the references among it) builds every page again, as a full build does;
- Material's search index of a dirty build holds only the pages built: it is put together again
  from every page's entries, in the order a full build writes them.

Which pages an edit changes: an evidence record's text shows on a few pages, known from the
record (rebuilds.py), and only they are rendered. Any other edit (a source, CMOC or theory
added, renamed or removed; a theory's text) may show anywhere: every generated page is rendered
again, and written again only if it is not as the last build wrote it (its Markdown, place and
<head> tags), or if its links looked up a page that was added or removed (a link found, or no
longer found: `Served.links`). Hand-written pages are written again. Generated pages other
than the indexes are not in the menu, so adding or removing one changes no other page's menu.

When every page is built again, most pages' Markdown is still what it was: their HTML and
search entries are kept (conversions.py), as in any build, and only laid out again.

tests/test_serve.py compares the served folder with a fresh full build after each kind of edit.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterable, Sequence
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
    # Material's search index, a page's entries by the page's address.
    search: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    # Where its files went in the site folder (MkDocs' dest_uri), pages included.
    written: frozenset[str] = frozenset()
    # The paths each page's links looked up (by source path): a page whose links find a page
    # added or removed is built again.
    links: dict[str, frozenset[str]] = field(default_factory=dict)


def stale(site: Path, before: Iterable[str], now: Iterable[str]) -> bool:
    """Remove from the site folder the files written `before` (paths in it) that are not
    written `now`, and the folders that leaves empty: what a full build, which starts from an
    empty folder, would not have. False if one could not be removed (then clear the folder)."""
    folders = set()
    for name in set(before) - set(now):
        path = site / name
        try:
            path.unlink()
        except FileNotFoundError:
            pass
        except OSError:  # (e.g. a folder there now)
            return False
        folders.update(path.parents)
    for folder in sorted(folders, key=lambda p: len(p.parts), reverse=True):
        if site in folder.parents:
            with contextlib.suppress(OSError):  # (not empty: kept)
                folder.rmdir()
    return True
