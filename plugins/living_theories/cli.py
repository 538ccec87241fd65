"""The `living-theories` command.

Every sub-command prints what went wrong as `file:line: what is wrong - how to fix it`, all
problems at once, and exits with 1; it never shows a Python traceback for bad input.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import errno
import os
import re
import shlex
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import NoReturn

from . import __version__, citable, files, snapshots
from . import models as m
from .problems import Problems
from .project import CACHE, Project, load_project
from .releases import content_hash, version_key

EPILOG = "Run 'living-theories COMMAND --help' for more about one command."


def _fail(problems: Problems, action: str = "") -> int:
    errors = problems.errors
    print(problems.report(), file=sys.stderr)
    n = len(errors)
    print(f"\n{n} problem{'s' if n != 1 else ''} found{action}.", file=sys.stderr)
    if problems.unreadable:
        print("Some files could not be read at all: fix those first. The checks of links "
              "between records run once every file can be read.", file=sys.stderr)
    return 1


def _no_folder(folder: str) -> int | None:
    path = Path(folder)
    if path.is_dir():
        return None
    what = "is a file, not a folder" if path.exists() else "does not exist"
    print(f"error: '{folder}' {what} - give the folder that holds theories/ and evidence/",
          file=sys.stderr)
    return 1


def _cannot_write(exc: OSError | files.FileProblem, folder: Path) -> int:
    """A folder that cannot be created or written: say why in one line (not a bug)."""
    if isinstance(exc, files.FileProblem):
        print(f"error: cannot write to '{folder}': {exc.message} - {exc.hint}", file=sys.stderr)
        return 1
    place = Path(exc.filename) if exc.filename else folder
    blocker = next((p for p in [place, *place.parents] if p.exists() and not p.is_dir()), None)
    if blocker is not None:
        why = f"'{blocker}' is a file, not a folder"
    elif exc.errno in (errno.EACCES, errno.EPERM):
        why = "you do not have permission to write there"
    elif exc.errno == errno.ENOENT:
        why = "a folder cannot be created there"
    elif exc.errno == errno.EROFS:
        why = "that place is read-only"
    elif exc.errno == errno.ENOSPC:
        why = "the disk is full"
    else:
        why = (exc.strerror or str(exc)).lower()
    print(f"error: cannot write to '{folder}': {why} - choose a folder you can write to, "
          "e.g. one inside your home folder", file=sys.stderr)
    return 1


def cmd_validate(args: argparse.Namespace) -> int:
    if (code := _no_folder(args.dir)) is not None:
        return code
    project, problems = load_project(args.dir)
    if problems:
        return _fail(problems)
    root = Path(args.dir)  # citations without an address or a date (citable.py)
    citable.check(project, snapshots.site_address(root, project.graph.corpus.project),
                  root / "mkdocs.yml", problems)
    for problem in problems.resolved():  # only warnings are left here, with their lines
        print(problem.format(), file=sys.stderr)
    print(f"ok: {project.summary()}")
    return 0


def cmd_schema(args: argparse.Namespace) -> int:
    from .schema import write_schemas

    try:
        written = write_schemas(Path(args.out))
    except OSError as exc:
        return _cannot_write(exc, Path(args.out))
    for path in written:
        print(f"wrote {path}")
    return 0


def _valid_theory(args: argparse.Namespace) -> tuple[Project, m.Theory] | int:
    """The project in `args.dir`, valid, and its theory `args.theory`; else the exit code,
    the problems printed."""
    if (code := _no_folder(args.dir)) is not None:
        return code
    project, problems = load_project(args.dir)
    if problems:
        return _fail(problems)
    theory = project.graph.theories.get(args.theory)
    if theory is None:
        return _no_theory(project, args.theory)
    return project, theory


def _no_theory(project: Project, theory_id: str) -> int:
    known = ", ".join(sorted(project.graph.theories)) or "none"
    print(f"error: there is no theory '{theory_id}' - known theories: {known}", file=sys.stderr)
    return 1


@contextlib.contextmanager
def _one_at_a_time(root: Path) -> Iterator[None]:
    """Commands that read, change and write the project's files (release, imports) run one at
    a time: two releases at once would each write a lock file without the other's entry.
    What an earlier one killed mid-write left behind is swept away first."""
    with files.exclusive(root / CACHE / "writing.lock"):
        files.sweep([root, root / "evidence", *(root / "theories").glob("*"),
                     *(root / "releases").glob("*")])
        yield


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
    from .zenodo import ZENODO_JSON, deposit_files, tag

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


def cmd_diff(args: argparse.Namespace) -> int:
    from .history import diff_versions, format_terminal

    loaded = _valid_theory(args)
    if isinstance(loaded, int):
        return loaded
    project, theory = loaded
    numbers = [v.number for v in theory.versions]
    for n in (args.a, args.b):
        if n not in numbers:
            print(f"error: '{theory.id}' has no version {n} - its versions are "
                  f"{', '.join(map(str, numbers))}", file=sys.stderr)
            return 1
    old, new = sorted((args.a, args.b))
    diff = diff_versions(project.graph, theory, theory.versions[old - 1],
                         theory.versions[new - 1])
    colour = args.colour == "always" or (args.colour == "auto" and sys.stdout.isatty()
                                         and not os.environ.get("NO_COLOR"))
    sys.stdout.write(format_terminal(diff, colour))
    return 0


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
    from .consultations import feedback_yaml, import_feedback

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
    from .spreadsheets import plan_import, read_rows

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
    from .spreadsheets import table_rows, template_rows, write_table

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


def cmd_import_qdpx(args: argparse.Namespace) -> int:
    from .qda import QdaError, QdaMap, plan_import, read_map, read_qdpx

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
    from . import __version__ as ours
    from .qda import codebook

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


def cmd_new(args: argparse.Namespace) -> int:
    from .scaffold import ScaffoldError, new_project, parse_author

    dest = Path(args.dir)
    try:
        authors = [parse_author(a) for a in args.author or []]
        files = new_project(dest, args.name, authors, args.url)  # nothing left if it fails
    except ScaffoldError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        return _cannot_write(exc, dest)
    print(f"created a theory site in {dest} ({len(files)} files). Next:\n"
          f"  cd {shlex.quote(str(dest))}\n"
          "  living-theories serve --drafts  # see it, with the example's draft versions, "
          "at http://127.0.0.1:8000\n"
          "  living-theories validate        # after every edit")
    missing = [what for what, given in (("who to credit (authors: in theories/project.yaml)",
                                         authors), ("the site's address (site_url: in "
                                                    "mkdocs.yml)", args.url)) if not given]
    if missing:
        print("Before your first release, add " + " and ".join(missing) + ".")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    """`mkdocs serve`, rebuilding only what an edit changed (`--dirty`: the plugin makes such
    builds give exactly the pages a full build gives, see serving.py)."""
    import click
    from mkdocs.__main__ import cli as mkdocs

    config = Path(args.config_file) if args.config_file else \
        next((p for p in (Path("mkdocs.yml"), Path("mkdocs.yaml")) if p.is_file()), None)
    if config is None or not config.is_file():
        where = f"'{config}' does not exist" if config is not None else \
            "there is no mkdocs.yml here"
        print(f"error: {where} - run this in your site's folder (the one with mkdocs.yml), "
              "or give the settings file with -f", file=sys.stderr)
        return 1
    if args.drafts:  # a review build (plugin.py), for this preview only
        os.environ["LIVING_THEORIES_REVIEW"] = "1"
    options = ["serve", "--dirty", "-f", str(config)]
    if args.dev_addr:
        options += ["-a", args.dev_addr]
    if args.open:
        options.append("--open")
    try:  # (MkDocs' messages; a build that fails before serving is said so, exit 1)
        mkdocs.main(args=options + args.mkdocs_options, prog_name="living-theories",
                    standalone_mode=False)
    except click.ClickException as exc:
        exc.show()
        return 1
    except click.exceptions.Abort:  # Ctrl-C at a prompt
        return 130
    return 0


def cmd_export_markdown(args: argparse.Namespace) -> int:
    from .export import export_markdown

    if (code := _no_folder(args.dir)) is not None:
        return code
    root = Path(args.dir)
    project, problems = load_project(root)
    if problems:
        return _fail(problems)
    out = Path(args.out)
    if out.exists() and any(out.iterdir()) and not (out / "mkdocs.yml").exists():
        print(f"error: {out} is not empty - give a new folder", file=sys.stderr)
        return 1
    try:  # written beside `out`, then put in its place: never a half-written export
        with files.replacing_folder(out) as tmp:
            n = export_markdown(project, tmp, root / "mkdocs.yml", review=args.review)
    except OSError as exc:
        return _cannot_write(exc, out)
    for problem in problems.resolved():  # warnings (e.g. links shown as text)
        print(problem.format(), file=sys.stderr)
    print(f"wrote {n} pages to {out}; build them with: mkdocs build -f {out / 'mkdocs.yml'}")
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


class _Parser(argparse.ArgumentParser):
    """argparse's messages, but exit 1 for a usage error: every mistake a user can make
    exits 1; 2 is kept for bugs. Sub-command parsers are of this class too."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(1, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="living-theories",
        description="Publish realist programme theories - their CMOCs, evidence and version "
        "history - as a website. Start with 'living-theories new FOLDER'; check your files "
        "with 'living-theories validate'.",
        epilog=EPILOG,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def add(name: str, func: Callable[[argparse.Namespace], int], help: str,
            description: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help, description=description)
        p.set_defaults(func=func)
        return p

    p = add("new", cmd_new, "create a new theory site in a new folder",
            "Create a ready-to-use theory site: its settings (mkdocs.yml), an example theory "
            "with two draft versions and evidence, references.bib, a CMOC spreadsheet template, "
            "editor settings, GitHub workflows (publishing, releases for Zenodo DOIs), the "
            "Living Theories wheel it installs and a README. Preview it straight away with "
            "'living-theories serve --drafts'.")
    p.add_argument("dir", metavar="FOLDER",
                   help="the folder to create (it must not exist yet, or be empty)")
    p.add_argument("--name", help="the site's name (default: from the folder name)")
    p.add_argument("--author", action="append", metavar='"FAMILY, GIVEN[, ORCID]"',
                   help="who to credit when a version is cited, e.g. --author \"Smith, Jo, "
                   "0000-0002-1825-0097\" (an organisation: its name); repeat for each author")
    p.add_argument("--url", help="the address the site will be published at, e.g. "
                   "https://your-name.github.io/your-repository/ (used in citations)")

    p = add("validate", cmd_validate, "check all your files and say what to fix",
            "Check all your files for typos, missing information, links between CMOCs, "
            "evidence, sources and references that do not lead anywhere, and edits to released "
            "versions. Prints every problem with its file, its line and what to do, or a "
            "one-line summary when all is well.")
    p.add_argument("dir", nargs="?", default=".", help="the project folder (default: here)")

    p = add("schema", cmd_schema, "set up your editor to suggest and check fields",
            "Write one JSON Schema per kind of YAML file (project, theory, version, evidence), "
            "so that an editor such as VS Code completes and checks fields as you type. See "
            "docs/guide/editor.md.")
    p.add_argument("out", nargs="?", default="schema", help="folder to write to "
                   "(default: schema)")

    p = add("release", cmd_release, "release a theory's draft version, so it can be cited",
            "Release a theory's draft version(s): mark them released, date them if they have no "
            "date, and lock them (in living-theories.lock) so that they can never change and can "
            "be cited. Refused, with the problems listed, if the files do not pass 'validate', "
            "or if the version would be cited without authors or a web address.")
    p.add_argument("theory", help="the theory's id (its folder name under theories/)")
    p.add_argument("--dir", default=".", help="the project folder (default: here)")
    p.add_argument("--no-url", action="store_true",
                   help="release although the site has no web address (site_url in mkdocs.yml): "
                   "for a site that will not be on the web; its cite box says so")

    p = add("correct", cmd_correct, "record a dated correction of a released version",
            "Correct a released version, e.g. a transcription error in a quote: edit its file "
            "(or its evidence), then run this with the reason. The correction is dated and "
            "shown on the version's page and in its citation; nothing else may change a "
            "released version.")
    p.add_argument("theory", help="the theory's id (its folder name under theories/)")
    p.add_argument("number", type=int, help="the released version's number, e.g. 2")
    p.add_argument("--reason", required=True, help="why, in a sentence readers will see")
    p.add_argument("--dir", default=".", help="the project folder (default: here)")

    p = add("import-feedback", cmd_import_feedback,
            "turn a filled-in feedback template into feedback records",
            "Read a consultation round's feedback template (CSV, as downloaded from the round's "
            "page and filled in) and write its answers as feedback records to "
            "evidence/feedback-ROUND.yaml. Every bad row is reported by row and column, and "
            "nothing is written unless the whole file is valid.")
    p.add_argument("file", help="the filled-in template, e.g. round-1-feedback.csv")
    p.add_argument("--round", required=True,
                   help="the round's id, as in the template's 'round' column (e.g. round-1)")
    p.add_argument("--dir", default=".", help="the project folder (default: here)")
    p.add_argument("--out", help="where to write (default: evidence/feedback-ROUND.yaml)")

    p = add("import-cmocs", cmd_import_cmocs,
            "turn a CMOC spreadsheet (Excel or CSV) into theory files",
            "Read a spreadsheet with one row per CMOC - columns theory, version, cmoc_id, "
            "context, mechanism_resource, mechanism_reasoning, outcome, and optionally label, "
            "title, mechanism ('absent' marks the mechanism M-), outcome_direction ('negative' "
            "marks the outcome O-) and evidence_ids - and write the theory versions it "
            "describes. Put several contexts or outcomes in one cell on separate lines; start "
            "a line with the sign the study prints, e.g. '(M-) ...' or '(O+) ...'. Every bad "
            "cell is reported by sheet, row and column, and nothing is written unless the "
            "whole sheet is valid. "
            "Released versions are never changed.")
    p.add_argument("file", help="the spreadsheet: .xlsx or .csv")
    p.add_argument("--dir", default=".", help="the project folder (default: here)")

    p = add("import-qdpx", cmd_import_qdpx,
            "turn coded segments of a QDA project (.qdpx) into evidence records",
            "Read a REFI-QDA project exported from NVivo, ATLAS.ti, MAXQDA or another QDA "
            "program, and write every coded text segment whose code the map names as an "
            "evidence record (the exact text as its quote, its source, lines and codes) to "
            "evidence/qda-PROJECT.yaml. Importing a newer export updates the same records; "
            "records cited by released versions are left as they are. Nothing is written "
            "unless the whole import is valid.")
    p.add_argument("file", help="the project file, e.g. interviews.qdpx")
    p.add_argument("--map", help="YAML map of codes to CMOCs (export-codebook writes one)")
    p.add_argument("--dry-run", action="store_true", help="say what would change, write "
                   "nothing")
    p.add_argument("--dir", default=".", help="the project folder (default: here)")

    p = add("export-codebook", cmd_export_codebook,
            "write a theory version's CMOCs as a REFI-QDA codebook (.qdc)",
            "Write a version's CMOCs as a REFI-QDA codebook - one code per CMOC, with a code "
            "per context, mechanism and outcome under it - for NVivo, ATLAS.ti or MAXQDA, "
            "and beside it FILE-map.yaml, the map import-qdpx needs to bring the coding back.")
    p.add_argument("theory", help="the theory's id (its folder name under theories/)")
    p.add_argument("out", metavar="FILE", help="the codebook to write, e.g. being.qdc")
    p.add_argument("--version", type=int, help="the version (default: the latest)")
    p.add_argument("--dir", default=".", help="the project folder (default: here)")

    p = add("export-cmocs", cmd_export_cmocs, "write every CMOC to a spreadsheet",
            "Write every CMOC of every version to a spreadsheet in the same layout that "
            "import-cmocs reads, or an empty template to fill in.")
    p.add_argument("out", help="the file to write: .xlsx or .csv")
    p.add_argument("--template", action="store_true",
                   help="write the template with example rows instead of your CMOCs")
    p.add_argument("--dir", default=".", help="the project folder (default: here)")

    p = add("serve", cmd_serve, "preview the site, rebuilt as you save your files",
            "Build the site and show it at http://127.0.0.1:8000, and rebuild it whenever you "
            "save a file: your browser reloads the page by itself. After an edit to evidence "
            "or to a page only the pages it changes are built again (seconds, even on a big "
            "project); other edits rebuild everything. The pages are always the same as a full "
            "'mkdocs build' gives. Stop it with Ctrl+C. Any other option of 'mkdocs serve' "
            "(see 'mkdocs serve --help') is passed on to it, e.g. --strict or -w FOLDER.")
    p.add_argument("-a", "--dev-addr", metavar="IP:PORT",
                   help="the address to serve the site at (default: 127.0.0.1:8000)")
    p.add_argument("-o", "--open", action="store_true",
                   help="open the site in your web browser once it is built")
    p.add_argument("-f", "--config-file", metavar="FILE",
                   help="the site's settings (default: mkdocs.yml in this folder)")
    p.add_argument("--drafts", action="store_true",
                   help="show draft versions too, marked as drafts (a review build); without "
                   "it the preview is the site as it will be published")

    p = add("export-markdown", cmd_export_markdown, "write the site as plain Markdown pages",
            "Write every page the site would have as plain Markdown (citations already "
            "formatted), with the downloads, the site's assets and an mkdocs.yml that needs no "
            "plugin: a plain MkDocs build of that folder gives the same site. Use it to take "
            "the site to another tool, or as the baseline of the benchmarks.")
    p.add_argument("out", metavar="FOLDER", help="the folder to write (new, or a previous "
                   "export)")
    p.add_argument("--dir", default=".", help="the project folder (default: here)")
    p.add_argument("--review", action="store_true", help="include draft versions")

    p = add("diff", cmd_diff, "show what changed between two versions of a theory",
            "Show what changed between two versions of a theory, CMOC by CMOC: how each CMOC "
            "came from the earlier version, the reasons recorded, and the words added "
            "{+like this+} and removed [-like this-] (in colour in a terminal).")
    p.add_argument("theory", help="the theory's id (its folder name under theories/)")
    p.add_argument("a", type=int, metavar="OLD", help="a version number, e.g. 1")
    p.add_argument("b", type=int, metavar="NEW", help="another version number, e.g. 2")
    p.add_argument("--dir", default=".", help="the project folder (default: here)")
    p.add_argument("--colour", "--color", choices=["auto", "always", "never"], default="auto",
                   help="colour the output (default: auto, when writing to a terminal)")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args, rest = parser.parse_known_args(argv)
    if rest and getattr(args, "func", None) is not cmd_serve:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    args.mkdocs_options = rest  # (serve passes them on to mkdocs serve)
    if not getattr(args, "func", None):
        parser.print_help()
        return 1  # like any other usage error
    try:
        return args.func(args)
    except KeyboardInterrupt:
        return 130
    except OSError as exc:  # the file system, not a bug: a command not guarded above
        print(f"error: {exc.filename or 'a file'}: {(exc.strerror or str(exc)).lower()} - "
              "check the file, its folder and the free disk space", file=sys.stderr)
        return 1
    except Exception as exc:  # a bug, not bad input: say so briefly
        if os.environ.get("LIVING_THEORIES_DEBUG"):
            raise
        print(f"internal error: {type(exc).__name__}: {exc}\nThis is a bug in Living "
              "Theories; set LIVING_THEORIES_DEBUG=1 to see details and please report it.",
              file=sys.stderr)
        return 2


def run() -> NoReturn:
    """The `living-theories` command itself: `main`, then leave at once. Everything is written
    by then; freeing a big project's objects one by one would only delay the prompt (0.1 s at
    20,000 records), so the process ends without it, as mypy's does."""
    code = main()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError):  # e.g. a closed pipe: `... validate | head -1`
            stream.flush()
    os._exit(code)


if __name__ == "__main__":  # pragma: no cover
    run()

