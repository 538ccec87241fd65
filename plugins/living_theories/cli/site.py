"""The site as a whole: `validate`, `schema`, `diff`, `new`, `serve`, `export-markdown`."""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from pathlib import Path

from .. import citable, files, snapshots
from ..project import load_project
from .common import _cannot_write, _fail, _no_folder, _valid_theory


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
    from ..schema import write_schemas

    try:
        written = write_schemas(Path(args.out))
    except OSError as exc:
        return _cannot_write(exc, Path(args.out))
    for path in written:
        print(f"wrote {path}")
    return 0


def cmd_diff(args: argparse.Namespace) -> int:
    from ..history import diff_versions, format_terminal

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


def cmd_new(args: argparse.Namespace) -> int:
    from ..scaffold import ScaffoldError, new_project, parse_author

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
    from ..export import export_markdown

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
