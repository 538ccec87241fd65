"""Reading and writing a project's files safely.

Reading: only regular files are read. A folder where a file belongs, a named pipe or a device
(a link to /dev/zero) would otherwise give a crash or block forever; a link that leads outside
the project would publish a file nobody meant to share. Each is a `FileProblem`, which the
readers report at the file like any other problem.

Writing: a file is written to a temporary file in its own folder and renamed over the old one,
so it is always either the old or the new content, even if the process is killed or the disk
fills up; the temporary file is removed on any failure. `Changes` writes several files as one:
all of them, or (after any error, including a file-system one) none. `exclusive` serialises
commands that read, change and write the same files (two `release` commands at once).
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import secrets
import shutil
import stat
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path


class FileProblem(Exception):
    """A project file that cannot be read: (what is wrong, how to fix it)."""

    def __init__(self, message: str, hint: str):
        super().__init__(message)
        self.message, self.hint = message, hint


def outside(path: Path, root: Path) -> str | None:
    """Where `path` leads if it is a link to a place outside `root`, else None (checked only
    for links: resolving every path would cost a file-system call per folder)."""
    try:
        if not stat.S_ISLNK(os.lstat(path).st_mode):
            return None
    except OSError:
        return None
    target = os.path.realpath(path)
    base = os.path.realpath(root)
    return None if target == base or target.startswith(base + os.sep) else target


def read_bytes(path: Path, root: Path | None = None) -> bytes:
    """The content of a regular file inside `root` (if given); `FileProblem` otherwise."""
    if root is not None and (target := outside(path, root)) is not None:
        raise FileProblem(f"this is a link to '{target}', outside the project",
                          "copy the file into the project instead of linking to it")
    try:
        # O_NONBLOCK: opening a named pipe must not wait for a writer (regular files ignore it)
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0))
    except OSError as exc:
        raise _problem(exc) from None
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise _problem(IsADirectoryError(errno.EISDIR, "Is a directory"))
        if not stat.S_ISREG(mode):
            raise FileProblem("this is not an ordinary file (a device, a pipe or a socket)",
                              "replace it with a text file, or remove it")
        with os.fdopen(fd, "rb", closefd=False) as handle:
            return handle.read()
    except OSError as exc:
        raise _problem(exc) from None
    finally:
        os.close(fd)


def _problem(exc: OSError) -> FileProblem:
    if exc.errno == errno.EISDIR:
        return FileProblem("this is a folder, but a file belongs here",
                           "move the folder away and put the file in its place")
    if exc.errno == errno.ENOTDIR:
        return FileProblem("a file is in the way: a folder on this path is a file",
                           "rename or remove the file that stands where a folder belongs")
    if exc.errno in (errno.EACCES, errno.EPERM):
        return FileProblem("you do not have permission to read this file",
                           "check the file's permissions")
    if exc.errno == errno.ENOENT:
        return FileProblem("the file does not exist (a broken link?)",
                           "put the file back, or remove the link")
    return FileProblem(f"the file cannot be read ({(exc.strerror or str(exc)).lower()})",
                       "check the file and the disk")


# --- Writing ---------------------------------------------------------------------------------


def _temporary(path: Path, same_suffix: bool = False) -> tuple[int, Path]:
    """A new hidden file next to `path` (same folder, so a rename replaces `path` in one
    step), created with the usual permissions (the umask applies). Its name ends in .tmp, so
    that no reader takes it for a project file, or (`same_suffix`) in `path`'s suffix, for
    writers that choose a format by it."""
    for _ in range(100):
        token = secrets.token_hex(4)
        tmp = path.with_name(f".{path.stem}.{token}.tmp{path.suffix}" if same_suffix
                             else f".{path.name}.{token}.tmp")
        try:
            return os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666), tmp
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, "no free temporary name", str(path))


def atomic_write(path: Path, data: bytes | str, durable: bool = True) -> None:
    """Replace `path` with `data` (text is written as UTF-8): old or new, never half.
    `durable`: on the disk before it replaces `path`; a cache, made again if it is lost,
    need not wait for the disk."""
    blob = data.encode("utf-8") if isinstance(data, str) else data
    with replacing(path, same_suffix=False) as tmp, open(tmp, "wb") as handle:
        handle.write(blob)
        if durable:
            handle.flush()
            os.fsync(handle.fileno())


@contextlib.contextmanager
def replacing(path: Path, same_suffix: bool = True) -> Iterator[Path]:
    """A temporary path to write a file to (by any library); on success it replaces `path`,
    on any failure it is removed and `path` is left as it was."""
    fd, tmp = _temporary(path, same_suffix=same_suffix)
    os.close(fd)
    try:
        yield tmp
        with contextlib.suppress(OSError):
            os.chmod(tmp, stat.S_IMODE(os.stat(path).st_mode))
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def replacing_folder(folder: Path) -> Iterator[Path]:
    """A new temporary folder next to `folder` to write into; on success it takes the place
    of `folder` (the old one is removed), on any failure it is removed."""
    tmp = folder.with_name(f".{folder.name}.{secrets.token_hex(4)}.tmp")
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp.mkdir()
    try:
        yield tmp
        old = None
        if folder.exists():
            old = folder.with_name(f".{folder.name}.{secrets.token_hex(4)}.old")
            os.rename(folder, old)
        try:
            os.rename(tmp, folder)
        except BaseException:
            if old is not None:
                os.rename(old, folder)
            raise
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


class Changes:
    """Files written as one change: `with Changes() as changes: changes.write(...)`. If the
    block fails (any exception, e.g. a full disk) or `undo` is called, every file written is
    put back as it was and the folders made are removed."""

    def __init__(self) -> None:
        self._undo: list[Callable[[], None]] = []
        self.written: list[Path] = []

    def write(self, path: Path, text: str) -> None:
        missing = [p for p in reversed(path.parents) if not p.exists()]
        for folder in missing:
            folder.mkdir()
            self._undo.append(folder.rmdir)
        old = read_bytes(path) if path.exists() else None
        atomic_write(path, text)
        self.written.append(path)
        self._undo.append((lambda: atomic_write(path, old)) if old is not None
                          else path.unlink)

    def undo(self) -> None:
        while self._undo:
            with contextlib.suppress(OSError):
                self._undo.pop()()
        self.written.clear()

    def __enter__(self) -> Changes:
        return self

    def __exit__(self, kind: object, *_: object) -> None:
        if kind is not None:
            self.undo()


_LEFT_BEHIND = re.compile(r"^\..+\.[0-9a-f]{8}\.tmp$")  # `_temporary`'s names (.tmp last)


def sweep(folders: Iterable[Path]) -> None:
    """Remove the temporary files a killed writer left in `folders` (kill -9 allows no
    cleaning up). In a project's folders, only while holding `exclusive`, when no other
    writer can be using one; in a cache's, at any time (a write it interrupts is just not
    kept)."""
    for folder in folders:
        with contextlib.suppress(OSError):
            for entry in os.scandir(folder):
                if _LEFT_BEHIND.match(entry.name) and entry.is_file(follow_symlinks=False):
                    os.unlink(entry.path)


@contextlib.contextmanager
def exclusive(lock_file: Path) -> Iterator[None]:
    """Hold an exclusive lock on `lock_file` (made if need be) while the block runs: another
    process asking for it waits. The lock goes with the process, even when it is killed."""
    import fcntl

    lock_file.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock_file, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


def csv_problem(text: str, delimiter: str = ",") -> tuple[int, str, str] | None:
    """(line, what is wrong, how to fix it) if Python's CSV reader cannot read `text` (a
    cell over its 131,072-character limit: in practice, a quote that is never closed)."""
    import csv
    import io

    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    try:
        for _ in reader:
            pass
    except csv.Error as exc:
        if "field larger than field limit" in str(exc):
            return (reader.line_num, f"a cell is longer than {csv.field_size_limit():,} "
                    "characters", "look for a quote (\") that opens a cell and is never "
                    "closed, or shorten the cell")
        return reader.line_num, f"the CSV cannot be read ({exc})", \
            "save it again from the spreadsheet as CSV (UTF-8)"
    return None
