"""Problems found in a project, reported as `file:line:column: what is wrong - how to fix it`.

Checks never stop at the first problem: they add to a `Problems` list and carry on, so a
researcher sees everything at once. A problem may name a place inside a YAML file by its path
(`("cmocs", 2, "lineage", "from", 0)`) instead of a line: the line is looked up only when the
report is printed, so the happy path never pays for it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

YamlPath = tuple[Any, ...]


# Line breaks and control characters, which a message may quote from a file: shown escaped,
# so that every problem stays one line (Python's splitlines also breaks at \x1c-\x1e, \x85).
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def one_line(text: str) -> str:
    return _UNPRINTABLE.sub(lambda m: repr(m.group())[1:-1], text)


@dataclass
class Problem:
    file: str
    message: str
    hint: str = ""
    line: int | None = None  # 1-based
    column: int | None = None  # 1-based
    path: YamlPath | None = None  # place inside a YAML file, resolved to a line on output
    warning: bool = False
    code: str = ""  # a stable name for problems that commands treat specially

    def format(self) -> str:
        where = self.file
        if self.line is not None:  # the column is kept for sorting; people read lines
            where += f":{self.line}"
        text = f"{where}: {self.message}"
        if self.hint:
            text += f" - {self.hint}"
        return one_line(("warning: " if self.warning else "") + text)


@dataclass
class Problems:
    """An ordered collection of problems; `root` makes file names relative for display."""

    root: Path
    items: list[Problem] = field(default_factory=list)
    # Finds the line of a YAML path in a file; set by `loading` (avoids a circular import).
    locate: Callable[[Path, YamlPath], tuple[int, int] | None] | None = None
    # Files that could not be read at all: cross-checks wait until they can be.
    unreadable: set[str] = field(default_factory=set)

    def add(
        self,
        file: Path | str,
        message: str,
        hint: str = "",
        *,
        line: int | None = None,
        column: int | None = None,
        path: YamlPath | None = None,
        warning: bool = False,
        code: str = "",
    ) -> None:
        self.items.append(
            Problem(self.display(file), message, hint, line, column, path, warning, code)
        )

    def display(self, file: Path | str) -> str:
        p = Path(file)
        try:  # (a link is named where it is, not where it leads)
            return Path(os.path.abspath(p)).relative_to(os.path.abspath(self.root)).as_posix()
        except ValueError:
            pass
        try:
            return p.resolve().relative_to(self.root.resolve()).as_posix()
        except ValueError:
            return str(file)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.items if not p.warning]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.items if p.warning]

    def __bool__(self) -> bool:
        return bool(self.errors)

    def __iter__(self) -> Iterator[Problem]:
        return iter(self.items)

    def resolved(self) -> list[Problem]:
        """Problems in file and line order, with YAML paths turned into lines."""
        if self.locate:
            for p in self.items:
                if p.line is None and p.path is not None:
                    found = self.locate(self.root / p.file, p.path)
                    if found:
                        p.line, p.column = found
        return sorted(self.items, key=lambda p: (p.file, p.line or 0, p.column or 0))

    def report(self) -> str:
        return "\n".join(p.format() for p in self.resolved())


class ProjectError(Exception):
    """Raised by entry points (CLI, plugin) when a project has errors; carries them all."""

    def __init__(self, problems: Problems):
        self.problems = problems
        n = len(problems.errors)
        super().__init__(f"{n} problem{'s' if n != 1 else ''} found:\n{problems.report()}")
