"""`release` and `correct`: freezing a version (its snapshot, lock entry, deposit files for
Zenodo) and recording a dated correction of a released one."""

from __future__ import annotations

import argparse
import datetime as dt
import re
import sys
from pathlib import Path

from .. import citable, files, snapshots
from .. import models as m
from ..project import Project, load_project
from ..releases import content_hash, version_key
from .common import _cannot_write, _fail, _no_folder, _no_theory, _one_at_a_time


def cmd_release(args: argparse.Namespace) -> int:
    if (code := _no_folder(args.dir)) is not None:
        return code
    root = Path(args.dir)
    try:
        with _one_at_a_time(root), files.Changes() as changes:
            return _release(root, args.theory, changes, args.no_url)
    except (OSError, files.FileProblem) as exc:  # every file is as it was (see Changes)
        code = _cannot_write(exc, root)
        print("Nothing was released.", file=sys.stderr)
        return code


def _release(root: Path, theory_id: str, changes: files.Changes, no_url: bool = False) -> int:
    project, problems = load_project(root)
    theory = project.graph.theories.get(theory_id)
    if theory is None and not problems:
        return _no_theory(project, theory_id)
    # Released-but-not-yet-locked versions are what this command is for: they do not block.
    problems.items = [p for p in problems.items if not p.code.startswith("unlocked:")]
    if problems or theory is None:
        return _fail(problems, "; nothing was released")
    drafts = [v for v in theory.versions if v.status == "draft"]
    pending = [v for v in theory.versions if v.status == "released"
               and project.lock.hash_of(theory.id, v.number) is None]
    unsnapshotted = [v for v in theory.versions if v.status == "released"
                     and project.lock.hash_of(theory.id, v.number) is not None
                     and not project.lock.versions[version_key(theory.id, v.number)]
                     .get("snapshot")]
    # Released before release dates (or --no-url) were kept: recorded now, in the lock only.
    undated, unaddressed = _unrecorded(project, theory, no_url)
    if not drafts and not pending and not unsnapshotted and not undated and not unaddressed:
        print(f"nothing to release: every version of '{theory.id}' is already released "
              f"(add v{len(theory.versions) + 1}.yaml with 'status: draft' for a new one)")
        return 0
    address = snapshots.site_address(root, project.graph.corpus.project)
    if refused := citable.refusals(project, theory.id, address, no_url):
        for why in refused:
            print(f"error: {why}", file=sys.stderr)
        print("Nothing was released.", file=sys.stderr)
        return 1
    today = dt.date.today().isoformat()
    for version in drafts:
        path = Path(version._where[0])
        changes.write(path, mark_released(files.read_bytes(path).decode("utf-8"),
                                          dt.date.today().isoformat()))
    project, problems = load_project(root)
    problems.items = [p for p in problems.items if not p.code.startswith("unlocked:")]
    if problems:
        changes.undo()
        return _fail(problems, "; nothing was released")
    theory = project.graph.theories[theory_id]
    released = []
    for version in theory.versions:
        if project.lock.hash_of(theory.id, version.number) is None:
            project.lock.record(version, theory, project.graph.corpus.project,
                                project.bibliography, today)
            released.append(version)
    for version in released + undated + unaddressed:
        entry = project.lock.versions[version_key(theory.id, version.number)]
        entry.setdefault("date", version.date or today)
        if no_url and address is None:  # its cite box says it has no web address
            entry["no_url"] = True
    # A version released before snapshots existed gets one now, of what its pages show today.
    older = [v for v in theory.versions if v not in released and v.status == "released"
             and not project.lock.versions[version_key(theory.id, v.number)].get("snapshot")]
    for version in released + older:
        _write_snapshot(project, theory, version, changes)
    notes = _write_deposit_files(project, theory, released[-1], changes) if released else []
    project.lock.save()
    for version in released:
        print(f"released {theory.id} version {version.number} "
              f"({version.date or today}): it is now frozen and can be cited "
              f"(content hash {content_hash(version)})")
    for version in older:
        print(f"took a snapshot of {theory.id} version {version.number} (released before "
              "snapshots existed): what its pages show is now frozen too")
    for version in undated:
        print(f"recorded {today} as the release date of {theory.id} version {version.number} "
              "(released before release dates were kept): it is cited with that date")
    for note in notes:
        print(note)
    return 0


def _write_deposit_files(project: Project, theory: m.Theory, version: m.Version,
                         changes: files.Changes) -> list[str]:
    """.zenodo.json and CITATION.cff for the version just released (see zenodo.py); returns
    what to tell the user."""
    from ..zenodo import ZENODO_JSON, deposit_files, tag

    corpus = project.graph.corpus.project
    written, notes = deposit_files(project.root, corpus, theory, version,
                                   snapshots.site_address(project.root, corpus))
    for path, text in written.items():
        changes.write(path, text)
    return [f"wrote {ZENODO_JSON}" + (" and CITATION.cff" if len(written) > 1 else "")
            + f" for {tag(theory, version)}: commit and push, and a GitHub release of it is "
            "made for Zenodo to give it a DOI (see 'DOIs from Zenodo' in the guide)",
            *(f"note: {n}" for n in notes)]


def _unrecorded(project: Project, theory: m.Theory,
                no_url: bool) -> tuple[list[m.Version], list[m.Version]]:
    """Released versions whose lock entry lacks the date they are cited with, and (with
    --no-url, on a site with no address) those not yet marked as having no address."""
    undated, unaddressed = [], []
    address = snapshots.site_address(project.root, project.graph.corpus.project)
    for version in theory.versions:
        entry = project.lock.versions.get(version_key(theory.id, version.number))
        if entry is None or version.status != "released":
            continue
        if not version.date and not entry.get("date"):
            undated.append(version)
        elif no_url and address is None and not entry.get("no_url"):
            unaddressed.append(version)
    return undated, unaddressed


def _write_snapshot(project: Project, theory: m.Theory, version: m.Version,
                    changes: files.Changes,
                    corrections: list[dict[str, str]] | None = None) -> None:
    """Write a released version's snapshot and keep its hash in the lock (saved by the caller)."""
    entry = project.lock.versions[version_key(theory.id, version.number)]
    address = snapshots.site_address(project.root, project.graph.corpus.project)
    data = snapshots.take(project.graph, theory, version, address, entry["hash"], corrections)
    text = snapshots.dumps(data)
    changes.write(snapshots.path_of(project.root, theory.id, version.number), text)
    entry["snapshot"] = snapshots.digest(text)
    if corrections:
        entry["corrections"] = corrections


def cmd_correct(args: argparse.Namespace) -> int:
    """A dated correction of a released version: the only way to change one."""
    if (code := _no_folder(args.dir)) is not None:
        return code
    reason = " ".join(args.reason.split())
    if not reason:
        print("error: say why the released version is corrected: --reason \"...\"",
              file=sys.stderr)
        return 1
    root = Path(args.dir)
    try:
        with _one_at_a_time(root), files.Changes() as changes:
            return _correct(root, args, reason, changes)
    except (OSError, files.FileProblem) as exc:  # every file is as it was (see Changes)
        code = _cannot_write(exc, root)
        print("Nothing was corrected.", file=sys.stderr)
        return code


def _correct(root: Path, args: argparse.Namespace, reason: str,
             changes: files.Changes) -> int:
    project, problems = load_project(root)
    theory = project.graph.theories.get(args.theory)
    version = project.graph.version(args.theory, args.number) if theory else None
    key = version_key(args.theory, args.number)
    if version is None or key not in project.lock.versions:
        print(f"error: version {args.number} of '{args.theory}' is not a released version "
              "(only released versions are corrected; edit a draft directly)", file=sys.stderr)
        return 1
    # What a correction is for: the version's own file, and evidence or sources shown by
    # released versions (each is corrected on its own; validate lists those still to do).
    problems.items = [p for p in problems.items
                      if p.code != f"changed:{key}" and not p.code.startswith("frozen:")]
    if problems:
        return _fail(problems, "; nothing was corrected")
    entry = project.lock.versions[key]
    entry["hash"] = content_hash(version)
    old = project.snapshots.get((theory.id, version.number))
    corrections = (old.corrections if old else []) + [snapshots.correction(reason)]
    _write_snapshot(project, theory, version, changes, corrections)
    project.lock.save()
    print(f"corrected {theory.id} version {version.number} on {corrections[-1]['date']}: "
          f"{reason} (content hash {entry['hash']}); its page and citation say so")
    return 0


def mark_released(text: str, today: str) -> str:
    """Set `status: released` (and a date if there is none) in a version file's text,
    keeping the author's comments and layout."""
    status = re.compile(r"^status:[ \t]*[^\s#]*", re.M)
    if status.search(text):
        text = status.sub("status: released", text, count=1)
    else:
        text = "status: released\n" + text
    if not re.search(r"^date:", text, re.M):
        text = re.sub(r"^status: released", f"status: released\ndate: {today}", text, count=1,
                      flags=re.M)
    return text
