"""Spreadsheets in and out: `import-feedback`, `import-cmocs`, `export-cmocs`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .. import files
from ..project import Project, load_project
from .common import _cannot_write, _fail, _no_folder, _one_at_a_time


def _import_source(args: argparse.Namespace) -> tuple[Project, Path] | int:
    """The valid project and the file to import, or the exit code after saying what is
    wrong (imports start only from a project that passes validate)."""
    if (code := _no_folder(args.dir)) is not None:
        return code
    project, problems = load_project(Path(args.dir))
    if problems:
        return _fail(problems, "; fix these before importing")
    source = Path(args.file)
    if not source.is_file():
        print(f"error: {args.file}: no such file", file=sys.stderr)
        return 1
    return project, source


def _fail_rows(problems: list, source: Path) -> int:
    """Problems found in a spreadsheet's rows and cells; nothing is written."""
    for problem in problems:
        print(problem.format(source.name), file=sys.stderr)
    n = len(problems)
    print(f"\n{n} problem{'s' if n != 1 else ''} found; nothing was written.", file=sys.stderr)
    return 1


def cmd_import_feedback(args: argparse.Namespace) -> int:
    from ..consultations import feedback_yaml, import_feedback

    loaded = _import_source(args)
    if isinstance(loaded, int):
        return loaded
    (project, source), root = loaded, Path(args.dir)
    records, row_problems = import_feedback(source, project.graph, args.round)
    if row_problems:
        return _fail_rows(row_problems, source)
    if not records:
        print(f"{args.file}: no row has an answer or a comment; nothing was written.")
        return 0
    out = Path(args.out) if args.out else root / "evidence" / f"feedback-{args.round}.yaml"
    if out.exists():
        print(f"error: {out} already exists - import into another file with --out, or remove "
              "it first", file=sys.stderr)
        return 1
    try:
        with _one_at_a_time(root), files.Changes() as changes:
            changes.write(out, feedback_yaml(records, args.round, source.name))
            _, problems = load_project(root)
            if problems:  # never leave the project invalid
                changes.undo()
                return _fail(problems, "; nothing was written")
    except (OSError, files.FileProblem) as exc:
        return _cannot_write(exc, out.parent)
    print(f"wrote {len(records)} feedback record{'s' if len(records) != 1 else ''} to {out}")
    return 0


def cmd_import_cmocs(args: argparse.Namespace) -> int:
    from ..spreadsheets import plan_import, read_rows

    loaded = _import_source(args)
    if isinstance(loaded, int):
        return loaded
    (project, source), root = loaded, Path(args.dir)
    rows, cell_problems = read_rows(source)
    if not cell_problems:
        locked = {(t.id, v.number) for t in project.graph.theories.values() for v in t.versions
                  if project.lock.hash_of(t.id, v.number) or v.status == "released"}
        plan, cell_problems = plan_import(rows, project.graph, root, locked)
    if cell_problems:
        return _fail_rows(cell_problems, source)
    try:  # all or nothing: any error, a file system's too, undoes every file written
        with _one_at_a_time(root), files.Changes() as changes:
            for path, text in plan.files.items():
                changes.write(path, text)
            _, problems = load_project(root)
            problems.items = [p for p in problems.items if not p.code.startswith("unlocked:")]
            if problems:  # e.g. a CMOC id another theory already uses: undo everything
                changes.undo()
                return _fail(problems, "; nothing was written")
    except (OSError, files.FileProblem) as exc:
        code = _cannot_write(exc, root / "theories")
        print("Nothing was written.", file=sys.stderr)
        return code
    for path in plan.files:
        print(f"wrote {path.relative_to(root) if path.is_relative_to(root) else path}")
    for warning in plan.warnings:
        print("warning: " + warning.format(str(source)), file=sys.stderr)
    print(f"imported {plan.cmocs} CMOC{'s' if plan.cmocs != 1 else ''}; the versions are "
          "drafts until you run 'living-theories release THEORY'")
    return 0


def cmd_export_cmocs(args: argparse.Namespace) -> int:
    from ..spreadsheets import table_rows, template_rows, write_table

    out = Path(args.out)
    if out.suffix.lower() not in (".csv", ".xlsx"):
        print("error: the file name must end in .xlsx or .csv", file=sys.stderr)
        return 1
    if args.template:
        try:
            with files.replacing(out) as tmp:
                write_table(tmp, template_rows())
        except OSError as exc:
            return _cannot_write(exc, out.parent)
        print(f"wrote the CMOC table template to {out}")
        return 0
    if (code := _no_folder(args.dir)) is not None:
        return code
    project, problems = load_project(args.dir)
    if problems:
        return _fail(problems)
    rows = table_rows(project.graph)
    try:  # a full disk leaves no half-written spreadsheet
        with files.replacing(out) as tmp:
            write_table(tmp, rows)
    except OSError as exc:
        return _cannot_write(exc, out.parent)
    print(f"wrote {len(rows)} CMOC{'s' if len(rows) != 1 else ''} to {out}")
    return 0
