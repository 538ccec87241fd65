"""Work done ahead on the other cores: parsing files for a first run over a big project,
compiling the page templates for a first build, and rendering the pages of a build.

Reading YAML and BibTeX is most of the time of a first `validate` or build of a big project
(later runs find the files in the parse cache, see cache.py), and each file can be parsed on
its own. While a `parsing(...)` block runs, worker processes parse the files that are not known
yet; the readers (`reading.parse_yaml`, `citations.bibtex.load_bibliography`) ask for each
file's `result` before parsing it themselves. A worker hands back only the data of a clean
file, marshalled (as the parse cache keeps it); a file with any problem is parsed again by the
reader, which reports it as usual. So the results are the same with or without workers.

A build's pages are rendered by two processes (`rendering`): MkDocs, here, renders each page
when it reads it, from the first, while one forked worker renders them from the last, until
the two meet: each page is made once, and neither waits for the other. The worker also formats
the citations of each page it renders and sends them with the page (its notes), so that the
citations extension here finds them formatted, and converts the page to HTML for MkDocs where
no earlier build kept it (plugin/converting.py). If the worker fails or stops, the caller
renders what is left itself.

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

# A page on the pipe: the lengths of its key, text, notes (UTF-8) and attachment (bytes), then
# the four.
_FRAME = struct.Struct("<IIII")
_FREE, _HERE, _WORKER = 0, 1, 2  # who makes a job: nobody yet, this process, the worker

Attach = Callable[[str, str], bytes | None]


def rendering(jobs: list[tuple[str, Callable[[], str]]],
              notes: tuple[Callable[[], str], Callable[[str], None]] | None = None,
              attach: Attach | None = None) -> Rendered | None:
    """Texts of `jobs` (key, function), made from the last by a forked worker while this
    process makes them from the first, or None if that is not worth it here (see the module's
    docstring). `notes`: what the worker learned while making a text (in the worker: the first
    function gives it, e.g. the citations it formatted), handed to the second function here.
    `attach`: more work on a text that the worker does (key, text: bytes, e.g. the page
    converted to HTML), given here by `attachment(key)`."""
    if len(jobs) < MIN_PAGES or not may_fork(threads=True):
        return None
    try:
        taken = multiprocessing.get_context("fork").Array("b", len(jobs))
    except OSError:  # (no shared memory here)
        return None
    return Rendered(jobs, taken, notes, attach)


class Rendered:
    """Jobs shared by two processes: this one makes each text when the caller asks for it
    (`result` gives None: the caller makes it itself), unless the worker took it; the worker
    takes them from the last, the other way, until the two meet. So neither waits for the
    other but for the one job the worker may be making when this process reaches it, and
    each job is made once. A job the worker failed (or did not finish: it stopped) is made by
    the caller too, which reports its error as usual.

    A thread reads the worker's texts as they come (the worker never waits for this process
    to read them); they are kept until asked for."""

    def __init__(self, jobs: list[tuple[str, Callable[[], str]]], taken: Any,
                 notes: tuple[Callable[[], str], Callable[[str], None]] | None = None,
                 attach: Attach | None = None):
        self.index = {key: n for n, (key, _) in enumerate(jobs)}
        self.taken = taken  # who makes each job (_FREE, _HERE or _WORKER), shared, locked
        read, write = os.pipe()
        parent = os.getpid()
        with warnings.catch_warnings():  # (Python 3.12 warns of forking beside threads)
            warnings.simplefilter("ignore", DeprecationWarning)
            pid = os.fork()
        if pid == 0:  # the worker
            _on_its_own(write)
            die_with_parent(parent)
            _render(jobs, write, self.taken, notes[0] if notes else None, attach)
        os.close(write)
        self.pid: int | None = pid
        self.learn = notes[1] if notes else None
        self.handed: set[str] = set()  # texts the worker made, handed on
        self.made_here = 0  # texts the caller made, as nobody had started them
        self.seconds = 0.0  # the worker's time spent rendering, for timings
        self._asked: set[str] = set()
        self._arrived = threading.Condition()
        self._texts: dict[str, tuple[str, bytes]] = {}  # the worker's, until asked for
        self._notes: list[str] = []  # the worker's, until learned here
        self._ended = False
        self._reader = threading.Thread(target=self._read_all, args=(os.fdopen(read, "rb"),),
                                        name="living-theories-rendered", daemon=True)
        self._attached: dict[str, bytes] = {}  # the worker's, once its text was handed on
        self._reader.start()

    def result(self, key: str) -> str | None:
        """The worker's text for `key`, or None: then the caller makes it (it was the next
        nobody had started, the worker failed, or it is asked for again)."""
        n = self.index.get(key)
        if n is None or key in self._asked or self.pid is None:
            return None
        self._asked.add(key)
        with self.taken.get_lock():
            if self.taken[n] == _FREE:
                self.taken[n] = _HERE
        if self.taken[n] == _HERE:
            self.made_here += 1
            self._learn()
            return None
        with self._arrived:
            while key not in self._texts and not self._ended:
                self._arrived.wait()
            text, attached = self._texts.pop(key, (None, b""))
        self._learn()
        if text is None:
            return None
        self.handed.add(key)
        if attached:
            self._attached[key] = attached
        return text

    def attachment(self, key: str) -> bytes | None:
        """What the worker attached to the text of `key`, once that text was handed on."""
        return self._attached.pop(key, None)

    def _learn(self) -> None:
        """(Here, not in the reading thread: the notes may change what this process uses.)"""
        with self._arrived:
            notes, self._notes = self._notes, []
        if self.learn is not None:
            for note in notes:
                self.learn(note)

    def _read_all(self, pipe: Any) -> None:
        """(The reading thread) Each text as it comes, until the worker stops."""
        with pipe:
            while (frame := _frame(pipe)) is not None:
                key, text, notes, attached = frame
                with self._arrived:
                    if notes:
                        self._notes.append(notes)
                    if key:
                        self._texts[key] = (text, attached)
                    else:  # the last frame: how long the worker spent rendering
                        self.seconds = float(text)
                    self._arrived.notify_all()
        with self._arrived:
            self._ended = True
            self._arrived.notify_all()

    def close(self) -> None:
        """Stop the worker (if it still runs) and let it go."""
        if self.pid is None:
            return
        with self.taken.get_lock():  # nothing more for the worker to start
            for n in range(len(self.taken)):
                if self.taken[n] == _FREE:
                    self.taken[n] = _HERE
            waited_for = all(key in self._asked for key, n in self.index.items()
                             if self.taken[n] == _WORKER)
        if not waited_for:  # (texts nobody asked for: not needed)
            os.kill(self.pid, signal.SIGKILL)
        self._reader.join()  # (the worker ends at once: its last frame says its time)
        os.waitpid(self.pid, 0)
        self.pid = None
        self._texts.clear()
        self._attached.clear()


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


def _render(jobs: list[tuple[str, Callable[[], str]]], fd: int, taken: Any,
            notes: Callable[[], str] | None, attach: Attach | None) -> NoReturn:
    """In the worker: from the last job, each one nobody has taken, its text (its notes and
    attachment) onto the pipe; then the seconds spent. At the first failure (a job's error,
    the caller gone), stop."""
    try:
        with os.fdopen(fd, "wb") as out:
            def send(key: str, text: str, attached: bytes = b"") -> None:
                name, body = key.encode(), text.encode()
                extra = notes().encode() if notes is not None else b""
                out.write(_FRAME.pack(len(name), len(body), len(extra), len(attached)))
                out.write(name)
                out.write(body)
                out.write(extra)
                out.write(attached)
                out.flush()

            spent = 0.0
            for n in range(len(jobs) - 1, -1, -1):
                with taken.get_lock():
                    if taken[n] != _FREE:
                        continue
                    taken[n] = _WORKER
                key, job = jobs[n]
                start = time.perf_counter()
                text = job()
                attached = b""
                if attach is not None:
                    with contextlib.suppress(Exception):  # (optional: the caller does it)
                        attached = attach(key, text) or b""
                spent += time.perf_counter() - start
                send(key, text, attached)
            send("", f"{spent:.3f}")
    except BaseException:  # the caller renders the rest itself, and reports any error
        pass
    finally:
        os._exit(0)  # not Python's exit: nothing of the parent's is flushed or cleaned twice


def _frame(pipe: Any) -> tuple[str, str, str, bytes] | None:
    """The next text on the pipe (key, text, notes, attachment), or None if the worker
    stopped."""
    head = pipe.read(_FRAME.size)
    if len(head) < _FRAME.size:
        return None
    sizes = _FRAME.unpack(head)
    body = pipe.read(sum(sizes))
    if len(body) < sum(sizes):
        return None
    ends = [sum(sizes[:n]) for n in range(1, 4)]
    return (body[:ends[0]].decode(), body[ends[0]:ends[1]].decode(),
            body[ends[1]:ends[2]].decode(), body[ends[2]:])
