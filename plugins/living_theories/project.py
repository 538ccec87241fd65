"""A whole project: load every file, check everything, and hand back one object.

This is the entry point for the CLI and the MkDocs plugin alike. It never raises on bad input:
the `Problems` it returns say what is wrong, where, and how to fix it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .citations.bibtex import Bibliography, load_bibliography
from .graph import TheoryGraph, build, check
from .loading import load_corpus
from .problems import Problems
from .releases import Lock, check_frozen, load_lock

BIBLIOGRAPHY = "references.bib"


@dataclass
class Project:
    root: Path
    graph: TheoryGraph
    lock: Lock

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


def load_project(root: Path | str, bibliography: Path | None = None) -> tuple[Project, Problems]:
    root = Path(root)
    problems = Problems(root)
    corpus = load_corpus(root, problems)
    bib = load_bibliography(bibliography or root / BIBLIOGRAPHY, problems)
    graph = build(corpus, bib)
    lock = load_lock(root, problems)
    if not problems.unreadable:  # otherwise every missing record would be reported too
        check(graph, problems)
        check_frozen(corpus.theories, lock, problems)
    return Project(root, graph, lock), problems
