"""Work done ahead on the other cores: parsing files for a first run over a big project,
compiling the page templates for a first build, and rendering the pages of a build.

Reading YAML and BibTeX is most of the time of a first `validate` or build of a big project
(later runs find the files in the parse cache, see cache.py), and each file can be parsed on
its own. While a `parsing(...)` block runs, worker processes parse the files that are not known
yet; the readers (`reading.parse_yaml`, `citations.bibtex.load_bibliography`) ask for each
file's `result` before parsing it themselves. A worker hands back only the data of a clean
file, marshalled (as the parse cache keeps it); a file with any problem is parsed again by the
reader, which reports it as usual. So the results are the same with or without workers.

A build's pages are rendered in order by one forked worker (`rendering`) while MkDocs converts
the ones before them to HTML on this core; MkDocs asks for each page's Markdown as it goes and
gets the worker's text. The worker also formats the citations of each page it renders and
sends them with the page (its notes), so that the citations extension here finds them
formatted. If the worker fails or stops, the caller renders what is left itself. When this
process would wait for the worker (a build whose pages' HTML is kept converts faster than the
worker renders), it renders the next page nobody has started itself: the two take the pages
from one shared counter (`share`).

A first build (a fresh clone, or a publishing workflow without a cache) also compiles the
templates in a worker of its own (`meanwhile`) while this process loads the project: the
compiled templates are in the project's cache by the time pages are rendered.

Workers are forked, so they start at once with everything imported; that is done only on
Linux, with more than one core, and when there is enough work to be worth it.
`LIVING_THEORIES_WORKERS=0` in the environment keeps all the work in one process.

A forked process gets the memory but not the threads, whose locks might be held at the fork.
The parsing workers are forked only when no other thread runs. The rendering worker is forked
in `mkdocs serve` too (its server and file watcher are threads), where a structural edit
builds every page again: it touches nothing those threads use (they serve files and watch
folders), Python resets the locks of logging and imports in a forked child, and the worker
writes to no stream of the parent's (it gets its own, to /dev/null) and keeps no other file
of the parent's open (a connection the server closes is then closed at once).
"""

from __future__ import annotations

import contextlib
import logging
import marshal
import multiprocessing
import os
import select
import signal
import struct
import sys
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from .cache import ParseCache, Stamp, stamp

if TYPE_CHECKING:
    from concurrent.futures import Future

MIN_BYTES = 2_000_000  # below this, starting the workers costs more than they save
MAX_WORKERS = 8
MIN_PAGES = 50  # fewer pages render in less time than a fork takes to pay for itself

Job = tuple[str, Path, Callable[[Path], Any]]  # (kind, file, parser: data, or raises)

# (kind, path) -> a worker's future result: (stamp, marshalled data), or None
_AHEAD: dict[tuple[str, str], Future[tuple[Stamp, bytes] | None]] = {}
hits = 0  # files whose workers' data was used, for tests


def cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1


@contextmanager
def parsing(jobs: list[Job], cache: ParseCache | None) -> Iterator[None]:
    """Parse the files of `jobs` not in `cache` in worker processes, in order, while the
    block runs (if it is worth it, see the module's docstring)."""
    todo = [(kind, path, parser) for kind, path, parser in jobs
            if not (cache is not None and cache.has(kind, path, stamp(path)))]
    workers = min(cores(), MAX_WORKERS)
    if not may_fork() or sum(_size(path) for _, path, _ in todo) < MIN_BYTES:
        yield
        return
    import multiprocessing  # (only here: a build that needs no workers does not load them)
    from concurrent.futures import ProcessPoolExecutor

    executor = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"),
                                   initializer=die_with_parent, initargs=(os.getpid(),))
    try:
        for kind, path, parser in todo:
            _AHEAD[kind, str(path)] = executor.submit(_parse, parser, path)
        yield
    finally:
        _AHEAD.clear()
        executor.shutdown(cancel_futures=True)


def die_with_parent(parent: int) -> None:
    """In a worker: be killed when the process that forked it ends, however it ends (killed
    with SIGKILL too, when nothing can clean up): otherwise the workers of a `validate`
    stopped with kill -9 would keep running without it. Linux's prctl(PR_SET_PDEATHSIG)
    does this in the kernel (workers are forked only on Linux)."""
    import ctypes

    PR_SET_PDEATHSIG = 1  # noqa: N806 - the name in <sys/prctl.h>
    with contextlib.suppress(OSError, AttributeError):  # (not Linux's C library)
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the parent ended before prctl was called
        os._exit(0)


def only_thread() -> bool:
    return threading.active_count() == 1


def may_fork(threads: bool = False) -> bool:
    """Whether to fork workers here; `threads`: a worker that is safe while other threads run
    (see the module's docstring)."""
    return (sys.platform == "linux" and cores() >= 2 and (threads or only_thread())
            and os.environ.get("LIVING_THEORIES_WORKERS") != "0")


def result(kind: str, path: Path, when: Stamp | None) -> bytes | None:
    """A worker's marshalled data for this file as it is now (`when`), or None: then the
    caller parses the file itself."""
    future = _AHEAD.pop((kind, str(path)), None)
    if future is None:
        return None
    try:
        found = future.result()
    except Exception:  # a worker that died: the caller parses the file itself
        return None
    if found is None or found[0] != when:
        return None
    global hits
    hits += 1
    return found[1]


def _parse(parser: Callable[[Path], Any], path: Path) -> tuple[Stamp, bytes] | None:
    """In a worker: (the file's stamp before reading it, its data marshalled), or None for
    a file with any problem at all."""
    try:
        when = stamp(path)
        return (when, marshal.dumps(parser(path))) if when is not None else None
    except Exception:
        return None


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


# --- Rendering pages ahead --------------------------------------------------------------------

# A page on the pipe: the lengths of its key, text and notes, then the three (UTF-8).
_FRAME = struct.Struct("<III")


def rendering(jobs: list[tuple[str, Callable[[], str]]],
              notes: tuple[Callable[[], str], Callable[[str], None]] | None = None,
              share: bool = False) -> Rendered | None:
    """Texts of `jobs` (key, function) made in order by a forked worker, or None if that is
    not worth it here (see the module's docstring). `notes`: what the worker learned while
    making a text (in the worker: the first function gives it, e.g. the citations it
    formatted), handed to the second function here as the text arrives. `share`: while this
    process waits for a text, it makes the next one nobody has started itself."""
    if len(jobs) < MIN_PAGES or not may_fork(threads=True):
        return None
    return Rendered(jobs, notes, share)


class Rendered:
    """The worker's texts, asked for by key. `result` gives None for a text the worker did not
    make (it failed, or was stopped): the caller makes that one itself.

    Shared (`share`), the two processes take the jobs in order from one counter: the worker
    one after another, and this process whenever it would otherwise wait for the worker (a
    build whose pages' HTML is kept converts faster than the worker renders). It keeps what
    it made until asked for; a job that fails here is left to the caller, which makes it
    again and reports the error as usual."""

    def __init__(self, jobs: list[tuple[str, Callable[[], str]]],
                 notes: tuple[Callable[[], str], Callable[[str], None]] | None = None,
                 share: bool = False):
        self.jobs = jobs
        self.next: Any = None  # the next job nobody has started (shared)
        if share:
            with contextlib.suppress(OSError):  # (no shared memory here: not shared)
                self.next = multiprocessing.get_context("fork").Value("q", 1)  # (see _taken)
        read, write = os.pipe()
        parent = os.getpid()
        with warnings.catch_warnings():  # (Python 3.12 warns of forking beside threads)
            warnings.simplefilter("ignore", DeprecationWarning)
            pid = os.fork()
        if pid == 0:  # the worker
            _on_its_own(write)
            die_with_parent(parent)
            _render(jobs, write, notes[0] if notes else None, self.next)
        os.close(write)
        self.pid: int | None = pid
        self.count = len(jobs)
        self.pipe = os.fdopen(read, "rb", buffering=0)
        self.learn = notes[1] if notes else None
        self.early: dict[str, str] = {}  # texts made before the one asked for
        self.ended = False
        self.handed: set[str] = set()  # texts the worker made, handed on
        self.seconds = 0.0  # the worker's time spent rendering, for timings
        self.own: dict[str, str | None] = {}  # texts made here (None: failed), until asked
        self.made_here: set[str] = set()

    def result(self, key: str) -> str | None:
        if key in self.handed:  # asked again: the caller renders it (its text is not kept)
            return None
        if key in self.made_here:  # (None: it failed here, or was asked for before)
            return self.own.pop(key, None)
        text = self.early.pop(key, None)
        while text is None and not self.ended:
            if self.next is not None and not _readable(self.pipe) and self._make_next():
                if key in self.made_here:
                    return self.own.pop(key, None)
                continue
            frame = self._next()
            if frame is None:
                self.ended = True
            elif frame[0] == key:
                text = frame[1]
            else:
                self.early[frame[0]] = frame[1]
        if text is not None:
            self.handed.add(key)
        return text

    def _make_next(self) -> bool:
        """Make the next job nobody has started, here; False if there is none."""
        assert self.next is not None
        with self.next.get_lock():
            index = self.next.value
            if index >= self.count:
                return False
            self.next.value = index + 1
        key, job = self.jobs[index]
        self.made_here.add(key)
        with contextlib.suppress(Exception):  # (else the caller makes it, and reports it)
            self.own[key] = job()
        return True

    def _read(self, size: int) -> bytes:
        """`size` bytes from the pipe, or fewer if the worker stopped."""
        parts, left = [], size
        while left:
            part = self.pipe.read(left)
            if not part:
                break
            parts.append(part)
            left -= len(part)
        return b"".join(parts)

    def _next(self) -> tuple[str, str] | None:
        head = self._read(_FRAME.size)
        if len(head) < _FRAME.size:
            return None  # the worker stopped
        sizes = _FRAME.unpack(head)
        body = self._read(sum(sizes))
        if len(body) < sum(sizes):
            return None
        split, end = sizes[0], sizes[0] + sizes[1]
        key, text, notes = body[:split].decode(), body[split:end].decode(), body[end:].decode()
        if notes and self.learn is not None:
            self.learn(notes)
        if not key:  # the last frame: how long the worker spent rendering
            self.seconds = float(text)
            return None
        return key, text

    def close(self) -> None:
        """Stop the worker (if it still runs) and let it go."""
        if self.pid is None:
            return
        if self.next is not None and self.next.value >= self.count:
            while not self.ended:  # every job taken: what is left is the worker's last
                self.ended = self._next() is None
        elif len(self.handed) == self.count and not self.ended:
            self.ended = self._next() is None  # the last frame, next: the seconds spent
        if not self.ended:
            os.kill(self.pid, signal.SIGKILL)  # texts nobody asked for: not needed
        self.pipe.close()
        os.waitpid(self.pid, 0)
        self.pid = None


def meanwhile(job: Callable[[], object]) -> Child | None:
    """Run `job` in a forked worker while this process goes on, for what it leaves on disk
    (the templates compiled into the cache for a first build), or None if workers are not
    wanted here. Its failures are its own: whatever it did not do is done when needed."""
    if not may_fork(threads=True):
        return None
    parent = os.getpid()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        pid = os.fork()
    if pid == 0:
        try:
            _on_its_own()
            die_with_parent(parent)
            job()
        finally:
            os._exit(0)
    return Child(pid)


class Child:
    def __init__(self, pid: int) -> None:
        self.pid: int | None = pid

    def wait(self) -> None:
        if self.pid is not None:
            os.waitpid(self.pid, 0)
            self.pid = None


def _on_its_own(keep: int | None = None) -> None:
    """In a worker forked beside other threads: no file of the parent's but `keep` (the
    pipe) stays open, and anything written to the standard streams or logged goes nowhere
    (a stream's lock may have been held by another thread at the fork)."""
    if keep is None:
        os.closerange(3, os.sysconf("SC_OPEN_MAX"))
    else:
        os.closerange(3, keep)
        os.closerange(keep + 1, os.sysconf("SC_OPEN_MAX"))
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    os.close(null)
    sys.stdin = sys.stdout = sys.stderr = open(1, "w", closefd=False)  # noqa: SIM115
    logging.disable(logging.CRITICAL)


def _render(jobs: list[tuple[str, Callable[[], str]]], fd: int,
            notes: Callable[[], str] | None, shared: Any = None) -> NoReturn:
    """In the worker: each text (and its notes) in order onto the pipe, then the seconds
    spent; at the first failure (a job's error, the caller gone), stop. `shared`: the counter
    of the next job nobody has started (see `Rendered`)."""
    try:
        with os.fdopen(fd, "wb") as out:
            def send(key: str, text: str) -> None:
                name, body = key.encode(), text.encode()
                extra = notes().encode() if notes is not None else b""
                out.write(_FRAME.pack(len(name), len(body), len(extra)))
                out.write(name)
                out.write(body)
                out.write(extra)
                out.flush()

            spent = 0.0
            for key, job in _taken(jobs, shared):
                start = time.perf_counter()
                text = job()
                spent += time.perf_counter() - start
                send(key, text)
            send("", f"{spent:.3f}")
    except BaseException:  # the caller renders the rest itself, and reports any error
        pass
    finally:
        os._exit(0)  # not Python's exit: nothing of the parent's is flushed or cleaned twice


def _taken(jobs: list[tuple[str, Callable[[], str]]],
           shared: Any) -> Iterator[tuple[str, Callable[[], str]]]:
    """The jobs in order, or (`shared`) the first one, then those the worker takes from the
    counter (which starts at the second: the worker has one job at once)."""
    if shared is None or not jobs:
        yield from jobs
        return
    yield jobs[0]
    while True:
        with shared.get_lock():
            index = shared.value
            if index >= len(jobs):
                return
            shared.value = index + 1
        yield jobs[index]


def _readable(pipe: Any) -> bool:
    """Is something on the pipe (from the worker) to be read now?"""
    return bool(select.select([pipe], [], [], 0)[0])
