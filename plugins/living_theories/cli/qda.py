"""QDA programs in and out (REFI-QDA): `import-qdpx` and `export-codebook`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .. import files
from ..project import load_project
from .common import _cannot_write, _fail, _one_at_a_time, _valid_theory
from .tables import _import_source


def cmd_import_qdpx(args: argparse.Namespace) -> int:
    from ..qda import QdaError, QdaMap, plan_import, read_map, read_qdpx

    loaded = _import_source(args)
    if isinstance(loaded, int):
        return loaded
    (project, source), root = loaded, Path(args.dir)
    try:
        qda = read_qdpx(source)
    except QdaError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    qmap, map_problems = QdaMap(), []  # no map: every code is listed, nothing imported
    if args.map and not Path(args.map).is_file():
        map_problems = [f"{args.map}: no such file - write one, or let export-codebook "
                        "write it with the codebook"]
    elif args.map:
        qmap, map_problems = read_map(Path(args.map), project.graph)
    if map_problems:
        for problem in map_problems:
            print(f"error: {problem}", file=sys.stderr)
        print(f"\n{len(map_problems)} problem{'s' if len(map_problems) != 1 else ''} found "
              "in the map; nothing was written.", file=sys.stderr)
        return 1
    locked = {(t.id, v.number) for t in project.graph.theories.values() for v in t.versions
              if project.lock.hash_of(t.id, v.number) or v.status == "released"}
    # Records a released version's pages show (its snapshot) keep their released wording too.
    shown = {eid: f"{theory} version {number}" for (theory, number), snap
             in sorted(project.snapshots.items()) for eid in snap.evidence_ids}
    plan = plan_import(qda, qmap, project.graph, root, locked, shown)
    rel = plan.file.relative_to(root) if plan.file.is_relative_to(root) else plan.file
    for label, ids in (("add", plan.added), ("update", plan.updated), ("remove", plan.removed)):
        if args.dry_run:
            for rid in ids:
                print(f"would {label} {rid}")
    for why in plan.kept:
        print(f"left as it is: {why}", file=sys.stderr)
    for path, n in sorted(plan.unmapped.items()):
        print(f"not imported: code '{path}' ({n} segment{'s' if n != 1 else ''}) is not in "
              "the map", file=sys.stderr)
    counts = (f"{len(plan.added)} new, {len(plan.updated)} updated, {len(plan.unchanged)} "
              f"unchanged, {len(plan.removed)} removed")
    if args.dry_run:
        print(f"dry run: {rel} would have {counts}; nothing was written")
        return 0
    if not (plan.added or plan.updated or plan.removed or plan.kept):
        print(f"nothing to import: no coded segment's code is in the map ({counts})")
        return 0
    try:  # all or nothing: any error, a file system's too, undoes the write
        with _one_at_a_time(root), files.Changes() as changes:
            changes.write(plan.file, plan.text())
            _, problems = load_project(root)
            problems.items = [p for p in problems.items if not p.code.startswith("unlocked:")]
            if problems:  # never leave the project invalid
                changes.undo()
                return _fail(problems, "; nothing was written")
    except (OSError, files.FileProblem) as exc:
        return _cannot_write(exc, plan.file.parent)
    print(f"wrote {rel}: {counts}")
    return 0


def cmd_export_codebook(args: argparse.Namespace) -> int:
    from .. import __version__ as ours
    from ..qda import codebook

    loaded = _valid_theory(args)
    if isinstance(loaded, int):
        return loaded
    project, theory = loaded
    number = args.version or len(theory.versions)
    version = project.graph.version(theory.id, number)
    if version is None:
        print(f"error: '{theory.id}' has no version {number} - its versions are 1 to "
              f"{len(theory.versions)}", file=sys.stderr)
        return 1
    out = Path(args.out)
    if out.suffix.lower() != ".qdc":
        print("error: the file name must end in .qdc (a REFI-QDA codebook)", file=sys.stderr)
        return 1
    xml, qmap = codebook(version, theory, f"Living Theories {ours}")
    map_path = out.with_name(out.stem + "-map.yaml")
    try:
        with files.Changes() as changes:  # both files, or neither
            changes.write(out, xml)
            changes.write(map_path, qmap)
    except (OSError, files.FileProblem) as exc:
        return _cannot_write(exc, out.parent)
    print(f"wrote {out} ({len(version.cmocs)} CMOCs of {theory.id} version {number}) and "
          f"{map_path}, the map for import-qdpx")
    return 0
