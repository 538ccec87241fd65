"""Reading a project's YAML files into validated models, with errors at YAML lines.

Each file is parsed (reading.py) and validated (validation.py) against the model for its kind,
which follows from where it lives:

    theories/project.yaml        -> ProjectFile
    theories/<theory>/theory.yaml -> TheoryFile
    theories/<theory>/v<N>.yaml   -> VersionFile
    evidence/**/*.yaml            -> EvidenceFile

Pydantic reports errors by path (`cmocs.2.lineage.from.0`); `locate` turns a path back into
the line and column of the YAML text, re-reading the file only when there is an error to show.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import files
from . import models as m
from .cache import ParseCache
from .problems import Problems
from .reading import locate, parse_yaml
from .validation import kind_of, validate

VERSION_FILE = re.compile(r"^v([1-9][0-9]*)\.ya?ml$")


@dataclass
class Corpus:
    """Everything read from a project, before cross-references are checked."""

    root: Path
    project: m.ProjectFile = field(default_factory=m.ProjectFile)
    project_file: Path | None = None
    # Ids of records that failed validation: references to them are not reported again.
    invalid_ids: set[str] = field(default_factory=set)
    invalid_versions: set[tuple[str, int]] = field(default_factory=set)
    theories: dict[str, m.Theory] = field(default_factory=dict)
    sources: dict[str, m.Source] = field(default_factory=dict)
    evidence: dict[str, m.Evidence] = field(default_factory=dict)


# --- The project -----------------------------------------------------------------------------


def yaml_files(folder: Path) -> list[Path]:
    """Every *.yaml and *.yml under `folder`, files or not: the readers say what else is
    wrong with one (a folder where a file belongs, a pipe, a link leading out)."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.rglob("*") if p.suffix in (".yaml", ".yml"))


def project_files(root: Path) -> list[Path]:
    """Every YAML file of a project, in the order `load_corpus` reads them (about)."""
    return yaml_files(root / "theories") + yaml_files(root / "evidence")


def load_corpus(root: Path, problems: Problems, cache: ParseCache | None = None) -> Corpus:
    """Read every theory and evidence file; problems go to `problems`, nothing is raised.

    With a `cache`, unchanged files are not parsed again (the caller saves it)."""
    problems.locate = locate
    corpus = Corpus(root=root)
    theories_dir, evidence_dir = root / "theories", root / "evidence"
    if not theories_dir.exists():
        problems.add(root, "there is no 'theories' folder here",
                     "run the command in your project folder, or create theories/")
    for folder in (theories_dir, evidence_dir):
        if folder.exists() and not folder.is_dir():
            problems.add(folder, "this is a file, but a folder belongs here",
                         f"rename the file and make a folder '{folder.name}' for your records")
            problems.unreadable.add(str(folder))
        elif (target := files.outside(folder, root)) is not None:
            problems.add(folder, f"this is a link to '{target}', outside the project",
                         "move the folder into the project instead of linking to it")
            problems.unreadable.add(str(folder))
    # (nothing is read from a folder reported above)
    readable = theories_dir.is_dir() and str(theories_dir) not in problems.unreadable
    theory_files = yaml_files(theories_dir) if readable else []
    entries = list(theories_dir.glob("*")) if readable else []
    for path in theory_files:
        rel = path.relative_to(theories_dir).parts
        if rel in (("project.yaml",), ("project.yml",)):
            data = parse_yaml(path, problems, cache)
            if data is not None and (data := _mapping(data, path, problems)) is not None:
                project = validate(m.ProjectFile, data, path, problems)
                if project is not None:
                    for i, ctx in enumerate(project.overarching_contexts):
                        ctx._where = (str(path), ("overarching_contexts", i))
                    for i, st in enumerate(project.substantive_theories):
                        st._where = (str(path), ("substantive_theories", i))
                    corpus.project = project
                    corpus.project_file = path
        elif len(rel) == 2 and rel[1] in ("theory.yaml", "theory.yml"):
            _load_theory(path, rel[0], corpus, problems, cache)
        elif len(rel) == 2 and VERSION_FILE.match(rel[1]):
            pass  # read with their theory, below
        else:
            problems.add(path, "unexpected file in theories/",
                         "theories/ holds project.yaml and one folder per theory with "
                         "theory.yaml and v1.yaml, v2.yaml, ...")
    for entry in entries:
        if not entry.is_dir() and entry.suffix not in (".yaml", ".yml") \
                and re.match(m.ID_PATTERN, entry.name):
            problems.add(entry, "this is a file, but a theory's folder belongs here",
                         f"rename the file and make a folder '{entry.name}' with theory.yaml "
                         "and v1.yaml in it")
            problems.unreadable.add(str(entry))
    for theory_dir in sorted(p for p in entries if p.is_dir()):
        if theory_dir.name not in corpus.theories and not any(
            p.name.startswith("theory.") for p in theory_dir.iterdir()
        ):
            problems.add(theory_dir, f"the theory folder '{theory_dir.name}' has no "
                         "theory.yaml", "add theory.yaml with at least 'title: ...'")
    for theory in corpus.theories.values():
        _load_versions(root / "theories" / theory.id, theory, corpus, problems, cache)
    for theory_id in corpus.invalid_ids & {p.name for p in entries}:
        # a theory.yaml that failed: its CMOCs are not "missing" wherever they are used
        for path in _version_files(theories_dir / theory_id).values():
            data = parse_yaml(path, problems, cache)
            if isinstance(data, dict):
                corpus.invalid_ids.update(_ids_in(data.get("cmocs")))
    for path in yaml_files(evidence_dir) if str(evidence_dir) not in problems.unreadable \
            else []:
        _load_evidence(path, corpus, problems, cache)
    return corpus


def _mapping(data: Any, path: Path, problems: Problems) -> dict | None:
    if data is None:
        return {}
    if not isinstance(data, dict):
        problems.add(path, f"the file should hold 'field: value' lines, but holds {kind_of(data)}",
                     "see docs/format.md for what this file contains", line=1)
        return None
    return data


def _load_theory(path: Path, theory_id: str, corpus: Corpus, problems: Problems,
                 cache: ParseCache | None = None) -> None:
    if not re.match(m.ID_PATTERN, theory_id):
        message, hint = m.id_problem(theory_id)
        problems.add(path.parent, f"the folder name is not a valid theory id: {message}",
                     "rename the folder: " + hint)
        return
    before = len(problems.items)
    data = parse_yaml(path, problems, cache)
    if data is None and len(problems.items) > before:
        return  # unreadable: reported
    # An empty theory.yaml is a theory without a title (an error), not no theory at all: its
    # versions must not silently vanish from the site.
    if (data := _mapping(data, path, problems)) is None:
        return
    theory = validate(m.TheoryFile, data, path, problems)
    if theory is None:
        corpus.invalid_ids.add(theory_id)
    else:
        theory._id = theory_id
        theory._where = (str(path), ())
        corpus.theories[theory_id] = theory


def _ids_in(data: Any) -> set[str]:
    """Every `id: ...` value in raw YAML data (of a record that failed validation)."""
    if isinstance(data, dict):
        found = {data["id"]} if isinstance(data.get("id"), str) else set()
        return found.union(*(_ids_in(v) for v in data.values()))
    if isinstance(data, list):
        return set().union(*(_ids_in(v) for v in data))
    return set()


def _version_files(folder: Path) -> dict[int, Path]:
    if not folder.is_dir():
        return {}
    return {int(match.group(1)): path for path in folder.iterdir()
            if (match := VERSION_FILE.match(path.name))}


def _load_versions(folder: Path, theory: m.Theory, corpus: Corpus,
                   problems: Problems, cache: ParseCache | None = None) -> None:
    found = _version_files(folder)
    for number in sorted(found):
        path = found[number]
        data = parse_yaml(path, problems, cache)
        if data is None or (data := _mapping(data, path, problems)) is None:
            continue
        version = validate(m.VersionFile, data, path, problems)
        if version is None:
            corpus.invalid_ids.update(_ids_in(data.get("cmocs")))
            corpus.invalid_versions.add((theory.id, number))
        else:
            version._number = number
            version._theory = theory.id
            version._where = (str(path), ())
            theory._versions.append(version)


# Valid records of each evidence file, by the parsed data they came from: `mkdocs serve`
# validates again only the files that changed (evidence is most of a big project).
_VALIDATED: dict[str, tuple[Any, list[tuple[str, Any]]]] = {}


def _load_evidence(path: Path, corpus: Corpus, problems: Problems,
                   cache: ParseCache | None = None) -> None:
    data = parse_yaml(path, problems, cache)
    if data is None or (data := _mapping(data, path, problems)) is None:
        return
    known = _VALIDATED.get(str(path))
    targets = {"sources": corpus.sources, "evidence": corpus.evidence}
    # (unless an id is now used in another file too: then check this one properly)
    if known is not None and known[0] is data and \
            not any(record.id in targets[key] for key, record in known[1]):
        for key, record in known[1]:
            targets[key][record.id] = record
        return
    before = len(problems.items)
    records: list[tuple[str, Any]] = []
    # Validate record by record, so one bad record does not hide the others' references.
    for key, model, target in (("sources", m.Source, corpus.sources),
                               ("evidence", m.Evidence, corpus.evidence)):
        items = data.get(key) or []
        if not isinstance(items, list):
            problems.add(path, f"'{key}' should be a list of records",
                         "write each record as a '- id: ...' block", path=(key,))
            continue
        for i, item in enumerate(items):
            record = validate(model, item, path, problems, base=(key, i))
            if record is None:
                corpus.invalid_ids.update(_ids_in(item))
                continue
            record._where = (str(path), (key, i))
            if record.id in target:
                first = target[record.id]._where
                problems.add(path, f"{key} id '{record.id}' is used twice",
                             f"ids must be unique; the first is in "
                             f"{problems.display(first[0]) if first else '?'}",
                             path=(key, i, "id"))
                continue
            target[record.id] = record
            records.append((key, record))
    rest = {k: v for k, v in data.items() if k not in ("sources", "evidence")}
    if rest:
        validate(m.EvidenceFile, rest, path, problems)  # reports the unknown top-level keys
    if len(problems.items) == before:
        _VALIDATED[str(path)] = (data, records)
