"""What every command shares: the one-line failure messages, a valid project's theory, one
writer at a time."""

from __future__ import annotations

import argparse
import contextlib
import errno
import sys
from collections.abc import Iterator
from pathlib import Path

from .. import files
from .. import models as m
from ..problems import Problems
from ..project import CACHE, Project, load_project


def _fail(problems: Problems, action: str = "") -> int:
    errors = problems.errors
    print(problems.report(), file=sys.stderr)
    n = len(errors)
    print(f"\n{n} problem{'s' if n != 1 else ''} found{action}.", file=sys.stderr)
    if problems.unreadable:
        print("Some files could not be read at all: fix those first. The checks of links "
              "between records run once every file can be read.", file=sys.stderr)
    return 1


def _no_folder(folder: str) -> int | None:
    path = Path(folder)
    if path.is_dir():
        return None
    what = "is a file, not a folder" if path.exists() else "does not exist"
    print(f"error: '{folder}' {what} - give the folder that holds theories/ and evidence/",
          file=sys.stderr)
    return 1


def _cannot_write(exc: OSError | files.FileProblem, folder: Path) -> int:
    """A folder that cannot be created or written: say why in one line (not a bug)."""
    if isinstance(exc, files.FileProblem):
        print(f"error: cannot write to '{folder}': {exc.message} - {exc.hint}", file=sys.stderr)
        return 1
    place = Path(exc.filename) if exc.filename else folder
    blocker = next((p for p in [place, *place.parents] if p.exists() and not p.is_dir()), None)
    if blocker is not None:
        why = f"'{blocker}' is a file, not a folder"
    elif exc.errno in (errno.EACCES, errno.EPERM):
        why = "you do not have permission to write there"
    elif exc.errno == errno.ENOENT:
        why = "a folder cannot be created there"
    elif exc.errno == errno.EROFS:
        why = "that place is read-only"
    elif exc.errno == errno.ENOSPC:
        why = "the disk is full"
    else:
        why = (exc.strerror or str(exc)).lower()
    print(f"error: cannot write to '{folder}': {why} - choose a folder you can write to, "
          "e.g. one inside your home folder", file=sys.stderr)
    return 1


def _valid_theory(args: argparse.Namespace) -> tuple[Project, m.Theory] | int:
    """The project in `args.dir`, valid, and its theory `args.theory`; else the exit code,
    the problems printed."""
    if (code := _no_folder(args.dir)) is not None:
        return code
    project, problems = load_project(args.dir)
    if problems:
        return _fail(problems)
    theory = project.graph.theories.get(args.theory)
    if theory is None:
        return _no_theory(project, args.theory)
    return project, theory


def _no_theory(project: Project, theory_id: str) -> int:
    known = ", ".join(sorted(project.graph.theories)) or "none"
    print(f"error: there is no theory '{theory_id}' - known theories: {known}", file=sys.stderr)
    return 1


@contextlib.contextmanager
def _one_at_a_time(root: Path) -> Iterator[None]:
    """Commands that read, change and write the project's files (release, imports) run one at
    a time: two releases at once would each write a lock file without the other's entry.
    What an earlier one killed mid-write left behind is swept away first."""
    with files.exclusive(root / CACHE / "writing.lock"):
        files.sweep([root, root / "evidence", *(root / "theories").glob("*"),
                     *(root / "releases").glob("*")])
        yield
