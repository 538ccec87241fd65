"""A whole project: load every file, check everything, and hand back one object.

This is the entry point for the CLI and the MkDocs plugin alike. It never raises on bad input:
the `Problems` it returns say what is wrong, where, and how to fix it.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from . import ahead, loading, reading
from .cache import ParseCache
from .citations import bibtex
from .citations.bibtex import Bibliography
from .graph import TheoryGraph, build
from .integrity import check
from .problems import Problems
from .releases import Lock, check_frozen, load_lock
from .snapshots import Snapshot
from .snapshots import check as check_snapshots
from .snapshots import load as load_snapshots

BIBLIOGRAPHY = "references.bib"
CACHE = Path(".cache") / "living-theories"  # kept out of git by the project's .gitignore


@dataclass
class Project:
    root: Path
    graph: TheoryGraph
    lock: Lock
    # Released versions' snapshots by (theory id, version number); see snapshots.py.
    snapshots: dict[tuple[str, int], Snapshot] = field(default_factory=dict)

    @property
    def bibliography(self) -> Bibliography:
        return self.graph.bibliography

    def summary(self) -> str:
        corpus = self.graph.corpus
        versions = [v for t in corpus.theories.values() for v in t.versions]
        counts = [
            (len(corpus.theories), "theory", "theories"),
            (len(versions), "version", "versions"),
            (len(self.graph.cmocs), "CMOC", "CMOCs"),
            (len(corpus.evidence), "evidence record", "evidence records"),
            (len(corpus.sources), "source", "sources"),
            (len(self.bibliography.entries), "reference", "references"),
        ]
        return ", ".join(f"{n} {one if n == 1 else many}" for n, one, many in counts)


@contextmanager
def _no_cyclic_gc() -> Iterator[None]:
    """Loading makes millions of objects and no garbage cycles: Python's cyclic collector would
    walk them all again and again as they are made (measured: 40% of a cold `validate` of a big
    project). Objects are still freed as usual; only the cycle search waits until the end."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        # The project usually lives as long as the process: keep the collector from walking
        # it at its next run (0.1 s at 20,000 records). `gc.unfreeze()` undoes this; the
        # MkDocs plugin calls it before each rebuild.
        gc.freeze()
        if enabled:
            gc.enable()


def load_project(root: Path | str, bibliography: Path | None = None) -> tuple[Project, Problems]:
    with _no_cyclic_gc():
        return _load_project(Path(root), bibliography)


def _load_project(root: Path, bibliography: Path | None) -> tuple[Project, Problems]:
    problems = Problems(root)
    # Files parsed by an earlier run, if unchanged (none outside a project: nothing is written).
    cache = ParseCache(root / CACHE if (root / "theories").is_dir() else None, root)
    bib_path = bibliography or root / BIBLIOGRAPHY
    # A big project read for the first time: other cores parse the files while this one
    # checks those parsed already.
    jobs = [("bib", bib_path, bibtex.parse_quietly)]
    jobs += [("yaml", path, reading.parse_quietly) for path in loading.project_files(root)]
    with ahead.parsing(jobs, cache):
        corpus = loading.load_corpus(root, problems, cache)
        bib = bibtex.load_bibliography(bib_path, problems, cache)
    cache.save()
    graph = build(corpus, bib)
    lock = load_lock(root, problems)
    snapshots = load_snapshots(root, lock.versions, problems)
    if not problems.unreadable:  # otherwise every missing record would be reported too
        check(graph, problems)
        check_frozen(corpus.theories, lock, problems, bib)
        check_snapshots(graph, snapshots, problems)
    return Project(root, graph, lock, snapshots), problems
