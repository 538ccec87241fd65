"""Parsing files ahead, on the other cores, for the first run over a big project.

Reading YAML and BibTeX is most of the time of a first `validate` or build of a big project
(later runs find the files in the parse cache, see cache.py), and each file can be parsed on
its own. While a `parsing(...)` block runs, worker processes parse the files that are not known
yet; the readers (`loading.parse_yaml`, `citations.bibtex.load_bibliography`) ask for each
file's `result` before parsing it themselves. A worker hands back only the data of a clean
file, marshalled (as the parse cache keeps it); a file with any problem is parsed again by the
reader, which reports it as usual. So the results are the same with or without workers.

Workers are forked, so they start at once with everything imported; that is done only on
Linux, with more than one core, when no other thread runs (a forked process gets the memory
but not the threads, whose locks might be held; `mkdocs serve` runs threads, and parses only
what changed anyway), and when there is enough to parse to be worth it.
"""

from __future__ import annotations

import marshal
import os
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .cache import ParseCache, Stamp, stamp

if TYPE_CHECKING:
    from concurrent.futures import Future

MIN_BYTES = 2_000_000  # below this, starting the workers costs more than they save
MAX_WORKERS = 8

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
    if (sys.platform != "linux" or workers < 2 or not only_thread()
            or sum(_size(path) for _, path, _ in todo) < MIN_BYTES):
        yield
        return
    import multiprocessing  # (only here: a build that needs no workers does not load them)
    from concurrent.futures import ProcessPoolExecutor

    executor = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"))
    try:
        for kind, path, parser in todo:
            _AHEAD[kind, str(path)] = executor.submit(_parse, parser, path)
        yield
    finally:
        _AHEAD.clear()
        executor.shutdown(cancel_futures=True)


def only_thread() -> bool:
    return threading.active_count() == 1


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
